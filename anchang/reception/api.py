from datetime import date
from typing import Annotated, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.api import DbId, LocalDateTime, NoNul, error_responses
from anchang.core.errors import Forbidden, InvalidInput, NotFound
from anchang.core.idempotency import run_idempotent
from anchang.core.privacy import public_name
from anchang.inventory.models import Project
from anchang.reception import rotation
from anchang.reception.models import RotationEntry, Visit
from anchang.reception.needs.services import visit_intent_level_out, visit_needs_out
from anchang.reception.preview import check_in_preview
from anchang.reception.selectors import queue_for
from anchang.reception.services import check_in, visit_take_over
from anchang.reception.stations import visit_station_rows
from anchang.reception.teams.queues import is_team_mode, queue_groups

router = Router(tags=["reception"])


def _require(user: User, *roles: str) -> None:
    if not (user.role in roles or user.sees_all_projects):
        raise Forbidden()


class CheckInIn(Schema):
    phone: str = ""
    name: str = ""
    gender: Literal["male", "female", ""] = ""
    party_size: int = 1
    source: str = ""
    appointment_code: str | None = None
    channel_code: str | None = None
    designated_consultant_id: int | None = None
    household_of_id: int | None = None
    consent: bool


class AttributionOut(Schema):
    rule: str
    consultant_id: int | None
    consultant_name: str | None
    consumes_turn: bool
    explanation: str


class CheckInOut(Schema):
    visit_id: int
    customer_id: int
    visit_kind: str
    channel_report_id: int | None
    attribution: AttributionOut


@router.post(
    "/projects/{pid}/checkins",
    response={201: CheckInOut, **error_responses(400, 401, 403, 404, 409)},
    summary="来访登记与判客",
)
def checkin_create(
    request: HttpRequest,
    pid: int,
    payload: CheckInIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Status[dict[str, object]]:
    user = request_user(request)
    project = visible_project(user, pid)
    _require(user, Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT)

    def work() -> tuple[int, dict[str, object]]:
        result = check_in(project=project, by=user, **payload.dict())
        consultant = result.visit.consultant
        return 201, {
            "visit_id": result.visit.pk,
            "customer_id": result.customer.pk,
            "visit_kind": result.visit.kind,
            "channel_report_id": result.visit.channel_report_id,
            "attribution": {
                "rule": result.attribution.rule,
                "consultant_id": consultant.pk if consultant else None,
                "consultant_name": consultant.display_name if consultant else None,
                "consumes_turn": result.attribution.consumes_turn,
                "explanation": result.attribution.explanation,
            },
        }

    status, answer = run_idempotent(
        user=user, scope=f"checkin:{project.pk}", key=idempotency_key, body=payload.dict(), work=work
    )
    return Status(status, answer)


class PreviewQuery(Schema):
    phone: Annotated[str, Field(max_length=40), NoNul] = ""
    appointment_code: Annotated[str, Field(max_length=40), NoNul] = ""
    designated_consultant_id: DbId | None = None


class BookingPreviewOut(Schema):
    id: int
    code: str
    name: str = Field(description="王先生 / 王女士 / 王**")
    start_at: LocalDateTime
    party_size: int
    consultant_id: int | None
    consultant_name: str | None


class TeamTurnOut(Schema):
    team_id: int | None
    team: str
    why: str


class CheckInPreviewOut(Schema):
    visit_kind: str
    rule: str
    explanation: str
    consultant_id: int | None = Field(description="规则点名的接待顾问（归属、指定或代接的同事）；轮排时为空")
    consultant_name: str | None
    covering_for_id: int | None = Field(description="代接待时：被代接的归属顾问")
    consumes_turn: bool
    next_in_queue_id: int | None = Field(description="轮排时：现在登记会分给谁；为空表示访客将进入等候")
    next_in_queue_name: str | None
    team_turn: TeamTurnOut | None = Field(description="分团队排队时：轮到哪个团队、为什么")
    appointment: BookingPreviewOut | None
    notes: list[str]


@router.get(
    "/projects/{pid}/checkins/preview",
    response={200: CheckInPreviewOut, **error_responses(400, 401, 403, 404)},
    summary="来访预判（不登记：谁来接待、为什么）",
)
def checkin_preview(request: HttpRequest, pid: int, query: Query[PreviewQuery]) -> CheckInPreviewOut:
    user = request_user(request)
    project = visible_project(user, pid)
    _require(user, Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT)
    if not (query.phone.strip() or query.appointment_code.strip()):
        raise InvalidInput(fields={"phone": _("请输入手机号或预约码。")})
    preview = check_in_preview(
        project=project,
        phone=query.phone.strip(),
        appointment_code=query.appointment_code.strip(),
        designated_consultant_id=query.designated_consultant_id,
    )
    decision, booking, turn = preview.decision, preview.appointment, preview.team_turn
    return CheckInPreviewOut(
        visit_kind=decision.visit_kind,
        rule=decision.rule,
        explanation=decision.explanation,
        consultant_id=decision.consultant.id if decision.consultant else None,
        consultant_name=decision.consultant.name if decision.consultant else None,
        covering_for_id=decision.covering_for.id if decision.covering_for else None,
        consumes_turn=decision.consumes_turn,
        next_in_queue_id=preview.next_up.pk if preview.next_up else None,
        next_in_queue_name=preview.next_up.display_name if preview.next_up else None,
        team_turn=TeamTurnOut(
            team_id=int(turn.team) if turn.team.isdigit() else None, team=turn.team_name, why=turn.why
        )
        if turn is not None and turn.team is not None
        else None,
        appointment=BookingPreviewOut(
            id=booking.pk,
            code=booking.code,
            name=public_name(booking.name, booking.gender),
            start_at=booking.start_at,
            party_size=booking.party_size,
            consultant_id=booking.consultant_id,
            consultant_name=booking.consultant.display_name if booking.consultant else None,
        )
        if booking is not None
        else None,
        notes=list(decision.notes),
    )


class QueueEntryOut(Schema):
    consultant_id: int
    name: str
    state: str
    position: int = Field(description="队列中的顺位，从 1 开始；分团队排队时为本团队队列中的顺位")
    team_id: int | None = Field(description="所属团队（顾问的公司：开发商自营或代理公司）的 id")
    team: str | None = Field(description="团队名称，如 锦澜置业、恒信代理")


class TeamQueueOut(Schema):
    team_id: int | None
    team: str
    waiting: int
    queue: list[QueueEntryOut]


class QueueOut(Schema):
    date: date
    mode: Literal["single", "teams"] = Field(description="single 统一排队；teams 分团队排队")
    queue: list[QueueEntryOut]
    teams: list[TeamQueueOut] = Field(description="分团队排队时按团队分组的队列；统一排队时为空")


def _entry_row(entry: RotationEntry, position: int) -> QueueEntryOut:
    company = entry.consultant.company
    return QueueEntryOut(
        consultant_id=entry.consultant_id,
        name=entry.consultant.display_name,
        state=entry.state,
        position=position,
        team_id=company.pk if company else None,
        team=str(company) if company else None,
    )


def _queue_out(project: Project) -> QueueOut:
    settings = project.settings
    groups = queue_groups(entries=queue_for(project=project), settings=settings)
    teams = [
        TeamQueueOut(
            team_id=int(group.key) if group.key else None,
            team=group.name,
            waiting=group.waiting,
            queue=[_entry_row(entry, position) for position, entry in group.entries],
        )
        for group in groups
        if group.key is not None
    ]
    return QueueOut(
        date=rotation.today(),
        mode="teams" if is_team_mode(settings) else "single",
        queue=[_entry_row(entry, position) for group in groups for position, entry in group.entries],
        teams=teams,
    )


def _entry_out(project: Project, entry: RotationEntry) -> QueueEntryOut:
    return next(item for item in _queue_out(project).queue if item.consultant_id == entry.consultant_id)


@router.get(
    "/projects/{pid}/rotation", response={200: QueueOut, **error_responses(401, 403, 404)}, summary="今日轮排"
)
def rotation_get(request: HttpRequest, pid: int) -> QueueOut:
    user = request_user(request)
    project = visible_project(user, pid)
    _require(user, Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT, Role.ATTENDANT)
    return _queue_out(project)


class SignInIn(Schema):
    consultant_id: int | None = None


def _consultant_of(project: Project, consultant_id: int) -> User:
    consultant = User.objects.filter(pk=consultant_id, memberships__project=project).first()
    if consultant is None:
        raise NotFound(_("该顾问不在本项目。"))
    return consultant


@router.post(
    "/projects/{pid}/rotation/sign-in",
    response={200: QueueEntryOut, **error_responses(400, 401, 403, 404)},
    summary="上岗",
)
def rotation_sign_in(request: HttpRequest, pid: int, payload: SignInIn) -> QueueEntryOut:
    user = request_user(request)
    project = visible_project(user, pid)
    consultant = _consultant_of(project, payload.consultant_id) if payload.consultant_id else user
    entry = rotation.rotation_sign_in(project=project, consultant=consultant, by=user)
    return _entry_out(project, entry)


class StateIn(Schema):
    state: Literal["waiting", "away", "off"]
    reason: str = ""


@router.post(
    "/projects/{pid}/rotation/{consultant_id}/state",
    response={200: QueueEntryOut, **error_responses(400, 401, 403, 404, 409)},
    summary="更改在岗状态",
)
def rotation_state(request: HttpRequest, pid: int, consultant_id: int, payload: StateIn) -> QueueEntryOut:
    user = request_user(request)
    project = visible_project(user, pid)
    consultant = _consultant_of(project, consultant_id)
    entry = rotation.rotation_set_state(
        project=project, consultant=consultant, state=payload.state, by=user, reason=payload.reason
    )
    return _entry_out(project, entry)


class StationOut(Schema):
    code: str
    name: str
    required: bool
    done_at: LocalDateTime | None


class VisitOut(Schema):
    id: int
    customer_id: int
    consultant_id: int | None
    visit_kind: str
    state: str
    rule: str
    checked_in_at: LocalDateTime
    checked_out_at: LocalDateTime | None
    outcome: str
    missing_fields: list[str]
    unbooked: bool
    stations: list[StationOut]
    needs: dict[str, object] | None
    intent_level: str | None


def _visit_for(request: HttpRequest, visit_id: int) -> Visit:
    user = request_user(request)
    visit = get_object_or_404(Visit.objects.select_related("customer__needs"), pk=visit_id)
    if project_visible_to(user=user, project_id=visit.project_id) is None:
        raise NotFound()
    if not (
        user.role in (Role.FRONTDESK, Role.MANAGER)
        or user.sees_all_projects
        or user.pk in (visit.consultant_id, visit.covering_for_id)
    ):
        raise NotFound()
    return visit


def _visit_out(visit: Visit) -> VisitOut:
    return VisitOut(
        id=visit.pk,
        customer_id=visit.customer_id,
        consultant_id=visit.consultant_id,
        visit_kind=visit.kind,
        state=visit.state,
        rule=visit.rule,
        checked_in_at=visit.checked_in_at,
        checked_out_at=visit.checked_out_at,
        outcome=visit.outcome,
        missing_fields=visit.missing_fields,
        unbooked=visit.unbooked,
        stations=[StationOut(**row) for row in visit_station_rows(visit=visit)],
        needs=visit_needs_out(visit=visit),
        intent_level=visit_intent_level_out(visit=visit),
    )


@router.get("/visits/{visit_id}", response={200: VisitOut, **error_responses(401, 404)}, summary="来访详情")
def visit_get(request: HttpRequest, visit_id: int) -> VisitOut:
    return _visit_out(_visit_for(request, visit_id))


@router.post(
    "/visits/{visit_id}/take-over",
    response={200: VisitOut, **error_responses(401, 403, 404, 409)},
    summary="接手（被代接待的顾问到场）",
)
def visit_take_over_post(request: HttpRequest, visit_id: int) -> VisitOut:
    """Only the consultant a colleague covers for may take over; a second tap answers 409."""
    visit_take_over(visit_id=visit_id, by=request_user(request))
    return _visit_out(_visit_for(request, visit_id))
