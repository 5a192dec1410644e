"""项目设置 over the API (api.md): the manager reads and changes the project's rules."""

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import error_responses
from anchang.core.errors import Forbidden
from anchang.inventory.models import ProjectSettings
from anchang.reception.project_settings.services import project_settings_update

router = Router(tags=["projects"])


class ProjectSettingsOut(Schema):
    protection_days_after_visit: int = Field(description="到访后保护天数")
    protection_days_after_call: int = Field(description="来电后保护天数")
    protection_ceiling_days: int = Field(description="无到访最长保护天数")
    pool_after_days_without_subscription: int = Field(description="首访后多少天未认购进入公客池")
    pool_claims_per_day: int = Field(description="每人每日公客认领上限")
    require_appointment: bool = Field(description="仅限预约到访")
    designated_consumes_turn: bool = Field(description="指定/归属/渠道接待占用轮次")
    one_customer_at_a_time: bool = Field(description="顾问已有客户在场时不再分配新客")
    mandatory_registration_fields: list[str] = Field(
        description="来访登记必填项：name gender phone source area_range layout"
    )
    reminder_minutes_before: int = Field(description="预约提醒提前（分钟）")
    first_followup_due_hours: int = Field(description="首访后跟进时限（小时）")
    followup_overdue_grace_hours: int = Field(description="跟进逾期宽限（小时）")
    discount_approval_threshold: Decimal = Field(description="需经理审批的折扣阈值（%）")
    sign_within_days: int = Field(description="认购后签约期限（天）")
    thank_you_template: str = Field(description="到访感谢短信模板，可用占位 {name} {project} {consultant}")
    rule_set_version: int = Field(description="判客规则版本：改保护天数或接待规则时加一")


class ProjectSettingsPatch(Schema):
    """Only the fields sent are changed; all are checked before anything is saved."""

    # A field this endpoint does not edit (the queue's mode, the webhook) is refused by name rather
    # than ignored, so a client never believes it changed a rule that stayed as it was.
    model_config = ConfigDict(extra="forbid")

    protection_days_after_visit: int | None = None
    protection_days_after_call: int | None = None
    protection_ceiling_days: int | None = None
    pool_after_days_without_subscription: int | None = None
    pool_claims_per_day: int | None = None
    require_appointment: bool | None = None
    designated_consumes_turn: bool | None = None
    one_customer_at_a_time: bool | None = None
    mandatory_registration_fields: list[str] | None = None
    reminder_minutes_before: int | None = None
    first_followup_due_hours: int | None = None
    followup_overdue_grace_hours: int | None = None
    discount_approval_threshold: Decimal | None = None
    sign_within_days: int | None = None
    thank_you_template: str | None = None


def _out(settings: ProjectSettings) -> ProjectSettingsOut:
    return ProjectSettingsOut.model_validate(settings, from_attributes=True)


@router.get(
    "/projects/{pid}/settings",
    response={200: ProjectSettingsOut, **error_responses(401, 403, 404)},
    summary="项目设置（保护天数、认领上限、审批阈值、登记必填项、短信模板）",
)
def project_settings_get(request: HttpRequest, pid: int) -> ProjectSettingsOut:
    user = request_user(request)
    project = visible_project(user, pid)
    if not user.is_site_manager:
        raise Forbidden()
    return _out(ProjectSettings.objects.get_or_create(project=project)[0])


@router.patch(
    "/projects/{pid}/settings",
    response={200: ProjectSettingsOut, **error_responses(400, 401, 403, 404)},
    summary="修改项目设置（只改所传字段；有一项不合规则全部不保存）",
)
def project_settings_patch(
    request: HttpRequest, pid: int, payload: ProjectSettingsPatch
) -> ProjectSettingsOut:
    user = request_user(request)
    project = visible_project(user, pid)
    changes = payload.dict(exclude_unset=True)
    return _out(project_settings_update(project=project, by=user, changes=changes))
