"""The fairness page and the queue's team settings over the API (api.md: 接待公平性, 轮排方式)."""

import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import error_responses
from anchang.core.errors import Forbidden
from anchang.reception.teams.fairness import Counts, fairness_for
from anchang.reception.teams.services import team_settings_update

router = Router(tags=["reception"])


class CountsOut(Schema):
    received_today: int
    received_month: int
    turns_today: int
    turns_month: int
    lost_today: int
    lost_month: int
    made_up_today: int
    made_up_month: int


class ConsultantFairnessOut(CountsOut):
    consultant_id: int
    name: str
    team_id: int | None
    team: str


class TeamFairnessOut(CountsOut):
    team_id: int | None
    name: str
    share: int | None = Field(description="按每日配比时该团队的目标（%），其他情况为 null")
    turns_today_percent: int


class TeamSettingsOut(Schema):
    rotation_mode: Literal["single", "teams"]
    team_rule: Literal["alternate", "share"]
    team_overflow: bool
    team_shares: dict[str, int] = Field(description="公司（团队）id → 每日配比（%）")


class FairnessOut(Schema):
    date: datetime.date
    month_start: datetime.date
    settings: TeamSettingsOut
    teams: list[TeamFairnessOut]
    consultants: list[ConsultantFairnessOut]
    total: CountsOut


def _counts(counts: Counts) -> dict[str, int]:
    return dict(vars(counts))


@router.get(
    "/projects/{pid}/rotation/fairness",
    response={200: FairnessOut, **error_responses(401, 403, 404)},
    summary="接待公平性（今日与本月，按顾问与团队）",
)
def fairness_get(request: HttpRequest, pid: int) -> FairnessOut:
    user = request_user(request)
    project = visible_project(user, pid)
    if not user.is_site_manager:
        raise Forbidden()
    settings = project.settings
    found = fairness_for(project=project, settings=settings)
    return FairnessOut(
        date=found.day,
        month_start=found.month_start,
        settings=_settings_out(settings),
        teams=[
            TeamFairnessOut(
                team_id=t.team_id,
                name=t.name,
                share=t.share,
                turns_today_percent=t.turns_today_percent,
                **_counts(t.counts),
            )
            for t in found.teams
        ],
        consultants=[
            ConsultantFairnessOut(
                consultant_id=c.consultant_id,
                name=c.name,
                team_id=c.team_id,
                team=c.team,
                **_counts(c.counts),
            )
            for c in found.consultants
        ],
        total=CountsOut(**_counts(found.total)),
    )


def _settings_out(settings: object) -> TeamSettingsOut:
    return TeamSettingsOut.model_validate(settings, from_attributes=True)


TeamId = Annotated[str, Field(pattern=r"^\d{1,12}$")]
Percent = Annotated[int, Field(ge=0, le=100)]


class TeamSettingsIn(Schema):
    rotation_mode: Literal["single", "teams"]
    team_rule: Literal["alternate", "share"] = "alternate"
    team_overflow: bool = True
    team_shares: dict[Annotated[str, Field(pattern=r"^\d{1,12}$")], Annotated[int, Field(ge=0, le=100)]] = (
        Field(default_factory=dict, description="公司（团队）id → 每日配比（%），合计 100")
    )


@router.put(
    "/projects/{pid}/rotation/settings",
    response={200: TeamSettingsOut, **error_responses(400, 401, 403, 404)},
    summary="设置轮排方式（统一排队或分团队排队）",
)
def team_settings_put(request: HttpRequest, pid: int, payload: TeamSettingsIn) -> TeamSettingsOut:
    user = request_user(request)
    project = visible_project(user, pid)
    settings = team_settings_update(project=project, by=user, **payload.dict())
    return _settings_out(settings)
