"""Check-in (来访登记) and the life of a visit at the front desk."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import Role, User
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.core.notifications import notify
from anchang.core.phones import normalize_mainland_mobile
from anchang.core.privacy import public_name
from anchang.customers.models import Attribution, AttributionRule, Customer, EventKind, Gender, Source
from anchang.customers.services import (
    customer_get_or_create,
    customer_record_event,
    customer_record_visit,
    customer_take_ownership,
)
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception import rotation
from anchang.reception.appointments import appointment_find_for_checkin, appointment_mark_checked_in
from anchang.reception.judging import Decision, JudgingInputs, Person, judge
from anchang.reception.models import Appointment, QueueState, Visit, VisitKind, VisitState

REGISTRATION_FIELDS = ("name", "gender", "phone", "source", "area_range", "layout")


@dataclass(frozen=True)
class CheckIn:
    visit: Visit
    customer: Customer
    attribution: Attribution
    decision: Decision
    customer_created: bool


def _person(user: User | None) -> Person | None:
    return Person(id=user.pk, name=user.display_name) if user is not None else None


def _project_consultant(project: Project, consultant_id: int | None, field: str) -> User | None:
    if consultant_id is None:
        return None
    consultant = User.objects.filter(
        pk=consultant_id, role=Role.CONSULTANT, is_active=True, memberships__project=project
    ).first()
    if consultant is None:
        raise InvalidInput(fields={field: _("该顾问不在本项目。")})
    return consultant


def _appointment_for(project: Project, code: str | None, phone: str) -> Appointment | None:
    """Today's booking by its code (a scanner types it) or, without a code, by the visitor's phone."""
    if code:
        appointment = appointment_find_for_checkin(project=project, code_or_phone=code[:8])
        if appointment is None:
            raise NotFound(
                _("没有找到今天有效的预约码 %(code)s，请核对，或改用手机号登记。") % {"code": code[:8]},
                code="appointment_not_found",
            )
        return appointment
    return appointment_find_for_checkin(project=project, code_or_phone=phone) if phone else None


def _link_household(
    *, customer: Customer, household_of_id: int | None, by: User, at: datetime
) -> Customer | None:
    if household_of_id is None:
        return None
    household = (
        Customer.objects.select_related("owner")
        .filter(project_id=customer.project_id, pk=household_of_id)
        .first()
    )
    if household is None or household.pk == customer.pk:
        raise InvalidInput(fields={"household_of_id": _("没有找到要关联的客户。")})
    if customer.household_of_id is None:
        customer.household_of = household
        customer.save(update_fields=["household_of", "updated_at"])
        for one, other in ((customer, household), (household, customer)):
            customer_record_event(
                customer=one,
                kind=EventKind.LINKED,
                by=by,
                at=at,
                text=_("关联家庭成员：%(name)s") % {"name": _public(other)},
                data={"customer_id": other.pk},
            )
    return household


def judging_inputs(
    *,
    project: Project,
    settings: ProjectSettings,
    phone: str,
    customer: Customer | None,
    designated: User | None,
    now: datetime,
) -> JudgingInputs:
    """Gather the facts the rules need, as they are at this moment."""
    is_company_owner = Customer.objects.filter(
        phone=phone, project__company_id=project.company_id, is_owner=True
    ).exists()
    owner = customer.owner if customer else None
    queue = rotation.queue_snapshot(project=project)
    return JudgingInputs(
        phone=phone,
        now=now,
        rule_set_version=settings.rule_set_version,
        customer_id=customer.pk if customer else None,
        has_visited=bool(customer and customer.first_visit_at),
        is_company_owner=is_company_owner,
        owner=_person(owner),
        owner_active=bool(owner and owner.is_active and owner.memberships.filter(project=project).exists()),
        protected_until=customer.protected_until if customer else None,
        designated=_person(designated),
        on_duty=tuple(entry["consultant_id"] for entry in queue if entry["state"] != QueueState.OFF),
        queue=tuple(dict(entry) for entry in queue),
        designated_consumes_turn=settings.designated_consumes_turn,
    )


def preview_check_in(
    *, project: Project, phone: str, designated_consultant_id: int | None = None
) -> Decision:
    """What check-in would decide now, without writing anything (the front desk's live preview)."""
    normalized = normalize_mainland_mobile(phone)
    settings = project.settings
    customer = Customer.objects.select_related("owner").filter(project=project, phone=normalized).first()
    designated = _project_consultant(project, designated_consultant_id, "designated_consultant_id")
    return judge(
        judging_inputs(
            project=project,
            settings=settings,
            phone=normalized,
            customer=customer,
            designated=designated,
            now=timezone.now(),
        )
    )


def _missing_fields(settings: ProjectSettings, provided: dict[str, str]) -> list[str]:
    required = [f for f in settings.mandatory_registration_fields if f in REGISTRATION_FIELDS]
    return [f for f in required if not provided.get(f)]


@transaction.atomic
def check_in(
    *,
    project: Project,
    phone: str = "",
    by: User,
    consent: bool,
    name: str = "",
    gender: str = "",
    party_size: int = 1,
    source: str = "",
    appointment_code: str | None = None,
    channel_code: str | None = None,
    designated_consultant_id: int | None = None,
    household_of_id: int | None = None,
) -> CheckIn:
    """Register a visitor and decide, by the rules of product.md §2, who receives them."""
    if by.role not in (Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT) and not by.sees_all_projects:
        raise Forbidden(_("只有前台、顾问或经理可以登记来访。"))
    if not consent:
        raise InvalidInput(fields={"consent": _("请先取得访客对隐私告知的同意。")})
    if gender and gender not in Gender.values:
        raise InvalidInput(fields={"gender": _("性别只能是 male 或 female。")})
    if source and source not in Source.values:
        raise InvalidInput(fields={"source": _("不是允许的认知途径。")})
    if len(name.strip()) > 50:
        raise InvalidInput(fields={"name": _("姓名最多 50 个字。")})
    if not 1 <= party_size <= 50:
        raise InvalidInput(fields={"party_size": _("来访人数应在 1–50 之间。")})
    appointment = _appointment_for(project, appointment_code, phone)
    if channel_code:
        # Channel reports arrive with the channels feature; until then no code can be valid.
        raise NotFound(
            _("没有找到渠道报备码 %(code)s。") % {"code": channel_code[:20]}, code="channel_report_not_found"
        )
    normalized = normalize_mainland_mobile(phone or (appointment.phone if appointment else ""))
    name = (name or (appointment.name if appointment else "")).strip()[:50]
    source = source or (appointment.source if appointment else "")
    designated = _project_consultant(project, designated_consultant_id, "designated_consultant_id")
    if designated is None and appointment is not None and appointment.consultant_id:
        designated = _project_consultant(project, appointment.consultant_id, "designated_consultant_id")

    settings = project.settings
    now = timezone.now()
    customer, created = customer_get_or_create(
        project=project, phone=normalized, name=name, gender=gender, source=source, consent_at=now
    )
    household = _link_household(customer=customer, household_of_id=household_of_id, by=by, at=now)
    # A family member's first visit under a new phone is judged as the household's return visit.
    judged = household if household is not None and customer.first_visit_at is None else customer
    facts = judging_inputs(
        project=project, settings=settings, phone=normalized, customer=judged, designated=designated, now=now
    )
    decision = judge(facts)
    if judged is not customer and judged.owner is not None and customer.owner_id is None:
        customer_take_ownership(
            customer=customer,
            consultant=judged.owner,
            settings=settings,
            at=now,
            by=by,
            why=_("家庭成员归属同一顾问"),
        )

    consultant: User | None = None
    if decision.from_rotation:
        busy_owners = (
            _consultants_with_customer_on_site(project) if settings.one_customer_at_a_time else set()
        )
        claim = rotation.rotation_claim_next(
            project=project,
            consumes_turn=decision.consumes_turn,
            exclude=busy_owners,
            alternate_teams=settings.rotation_mode == "alternate_teams",
        )
        consultant = claim.consultant if claim else None
    elif decision.consultant is not None:
        consultant = User.objects.get(pk=decision.consultant.id)
        rotation.rotation_mark_receiving(
            project=project, consultant=consultant, consumes_turn=decision.consumes_turn
        )

    rule = decision.rule if consultant is not None else AttributionRule.WAITING_FOR_CONSULTANT
    explanation = (
        decision.explanation
        if consultant is not None
        else _("暂无空闲顾问，访客已进入等候，顾问空出后按到访先后自动分配。")
    )
    covering_for = User.objects.get(pk=decision.covering_for.id) if decision.covering_for else None
    visit = Visit.objects.create(
        project=project,
        customer=customer,
        appointment=appointment,
        kind=decision.visit_kind,
        state=VisitState.RECEIVING if consultant else VisitState.WAITING,
        rule=decision.rule,
        consultant=consultant,
        covering_for=covering_for,
        consumes_turn=decision.consumes_turn,
        party_size=party_size,
        checked_in_at=now,
        assigned_at=now if consultant else None,
        missing_fields=_missing_fields(
            settings,
            {
                "name": name,
                "gender": gender or customer.gender,
                "phone": normalized,
                "source": source or customer.source,
            },
        ),
        registered_by=by,
        unbooked=settings.require_appointment and appointment is None,
    )
    attribution = Attribution.objects.create(
        project=project,
        customer=customer,
        visit=visit,
        rule=rule,
        rule_set_version=settings.rule_set_version,
        consultant=consultant,
        consumes_turn=decision.consumes_turn,
        explanation=explanation[:300],
        inputs={
            **facts.as_record(),
            "appointment_id": appointment.pk if appointment else None,
            "notes": list(decision.notes),
        },
        decided_at=now,
        decided_by=by,
    )
    customer_record_visit(
        customer=customer,
        settings=settings,
        at=now,
        extends_protection=decision.rule in (AttributionRule.OWNER, AttributionRule.COVERING_FOR_OWNER),
    )
    customer_record_event(
        customer=customer,
        kind=EventKind.VISIT,
        by=by,
        at=now,
        text=_("%(kind)s，%(who)s。") % {"kind": visit.get_kind_display(), "who": explanation},
        data={"visit_id": visit.pk, "rule": rule},
    )
    if consultant is not None:
        _after_assignment(visit=visit, consultant=consultant, decision=decision, settings=settings, by=by)
    if appointment is not None:
        appointment_mark_checked_in(appointment=appointment, visit_id=visit.pk)
    return CheckIn(
        visit=visit, customer=customer, attribution=attribution, decision=decision, customer_created=created
    )


def _after_assignment(
    *, visit: Visit, consultant: User, decision: Decision, settings: ProjectSettings, by: User | None
) -> None:
    customer = visit.customer
    if decision.takes_ownership and visit.covering_for_id is None:
        customer_take_ownership(
            customer=customer,
            consultant=consultant,
            settings=settings,
            at=visit.assigned_at or timezone.now(),
            by=by,
            why=str(AttributionRule(visit.rule).label),
        )
    project = visit.project
    url = reverse("reception:visit", args=[visit.pk])
    notify(
        recipients=[consultant],
        kind="visit_assigned",
        project_id=project.pk,
        url=url,
        webhook_url=settings.wecom_webhook_url,
        title=_("请接待：%(customer)s（%(kind)s）")
        % {"customer": _public(customer), "kind": visit.get_kind_display()},
        body=_("%(project)s 前台已为您分配访客，请尽快到前台迎接。") % {"project": project.name},
    )
    if visit.covering_for is not None:
        notify(
            recipients=[visit.covering_for],
            kind="visit_covered",
            project_id=project.pk,
            url=url,
            title=_("您的客户 %(customer)s 到访了") % {"customer": _public(customer)},
            body=_("您不在岗，%(name)s 正在代为接待；归属不变，到场后可接手。")
            % {"name": consultant.display_name},
        )
        customer_record_event(
            customer=customer,
            kind=EventKind.COVERED,
            by=by,
            text=_("%(name)s 代 %(owner)s 接待")
            % {"name": consultant.display_name, "owner": visit.covering_for.display_name},
        )


def _public(customer: Customer) -> str:
    return public_name(customer.name, customer.gender)


def _consultants_with_customer_on_site(project: Project) -> set[int]:
    """Owners whose own customer is here with someone else (product.md §3: they get no new one).

    A customer on site with their owner already keeps the owner busy (receiving); the case left is a
    colleague covering (代接待) while the owner was away. Reading only those rows keeps this cheap
    however many visitors are waiting.
    """
    day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return set(
        Visit.objects.filter(
            project=project,
            state__in=(VisitState.WAITING, VisitState.RECEIVING),
            checked_in_at__gte=day_start,
            covering_for__isnull=False,
        ).values_list("covering_for_id", flat=True)
    )


def visit_assign_waiting(*, project_id: int) -> int:
    """Give waiting visitors, oldest first, to consultants who are free now. Returns how many."""
    assigned = 0
    while True:
        with transaction.atomic():
            project = Project.objects.select_related("settings").get(pk=project_id)
            visit = (
                Visit.objects.select_for_update(of=("self",))
                .select_related("customer", "customer__owner", "project")
                .filter(project=project, state=VisitState.WAITING)
                .order_by("checked_in_at", "pk")
                .first()
            )
            if visit is None:
                return assigned
            claim = rotation.rotation_claim_next(
                project=project,
                consumes_turn=visit.consumes_turn,
                alternate_teams=project.settings.rotation_mode == "alternate_teams",
            )
            if claim is None:
                return assigned
            now = timezone.now()
            updated = Visit.objects.filter(pk=visit.pk, state=VisitState.WAITING).update(
                state=VisitState.RECEIVING, consultant=claim.consultant, assigned_at=now
            )
            if updated != 1:
                raise Conflict(_("该访客刚被分配，请刷新。"))
            visit.refresh_from_db()
            # The "waiting" decision stays as it was taken; the assignment is a decision of its own.
            waited = visit.attributions.order_by("-decided_at", "-pk").first()
            Attribution.objects.create(
                project=project,
                customer=visit.customer,
                visit=visit,
                rule=visit.rule,
                rule_set_version=project.settings.rule_set_version,
                consultant=claim.consultant,
                consumes_turn=visit.consumes_turn,
                explanation=_("等候 %(minutes)s 分钟后按到访先后分配给 %(name)s。")
                % {
                    "minutes": int((now - visit.checked_in_at).total_seconds() // 60),
                    "name": claim.consultant.display_name,
                },
                inputs={
                    "waiting_since": visit.checked_in_at.isoformat(),
                    "queue": list(rotation.queue_snapshot(project=project)),
                    "previous_attribution_id": waited.pk if waited else None,
                },
                decided_at=now,
                decided_by=None,
                replaces=waited,
            )
            decision = Decision(
                visit.kind,
                visit.rule,
                "",
                takes_ownership=visit.rule in (AttributionRule.ROTATION, AttributionRule.CHANNEL),
            )
            _after_assignment(
                visit=visit,
                consultant=claim.consultant,
                decision=decision,
                settings=project.settings,
                by=None,
            )
            assigned += 1


@transaction.atomic
def visit_end(*, visit_id: int, by: User, outcome: str, invalid_reason: str = "") -> Visit:
    """End a reception; an invalid one (not a buyer) gives the receiver a make-up turn (补位)."""
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("project", "consultant")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        raise NotFound()
    if visit.state in (VisitState.ENDED, VisitState.INVALID):
        raise Conflict(_("该接待已经结束。"), code="visit_already_ended")
    is_desk = by.role in (Role.MANAGER, Role.FRONTDESK) or by.sees_all_projects
    if not is_desk and by.pk != visit.consultant_id:
        raise NotFound()
    invalid = outcome == "invalid"
    if invalid and not invalid_reason.strip():
        raise InvalidInput(
            fields={"invalid_reason": _("请说明无效原因（问路、送货、同行踩盘、重复登记等）。")}
        )
    now = timezone.now()
    visit.state = VisitState.INVALID if invalid else VisitState.ENDED
    visit.outcome, visit.invalid_reason, visit.checked_out_at = outcome, invalid_reason[:100], now
    visit.save(update_fields=["state", "outcome", "invalid_reason", "checked_out_at", "updated_at"])
    if visit.consultant is not None:
        rotation.rotation_finish_reception(
            project=visit.project,
            consultant=visit.consultant,
            consumed_turn=visit.consumes_turn and not invalid,
            by=by,
            visit=visit,
        )
        if invalid and visit.consumes_turn:
            rotation.rotation_make_up_turn(
                project=visit.project, consultant=visit.consultant, by=by, visit=visit, reason=invalid_reason
            )
    return visit


@transaction.atomic
def attribution_override(*, visit_id: int, consultant_id: int, by: User, reason: str) -> Attribution:
    """A manager or the front desk gives the visit to someone else, with a written reason."""
    if not (by.role in (Role.MANAGER, Role.FRONTDESK) or by.sees_all_projects):
        raise Forbidden(_("只有经理或前台可以改派。"))
    if not reason.strip():
        raise InvalidInput(fields={"reason": _("改派必须填写原因。")})
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("project", "customer", "consultant")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        raise NotFound()
    if visit.state not in (VisitState.WAITING, VisitState.RECEIVING):
        raise Conflict(_("接待已结束，不能改派。"))
    new = _project_consultant(visit.project, consultant_id, "consultant_id")
    assert new is not None
    previous = visit.attributions.order_by("-decided_at", "-pk").first()
    now = timezone.now()
    if visit.consultant is not None and visit.consultant.pk != new.pk:
        rotation.rotation_finish_reception(
            project=visit.project, consultant=visit.consultant, consumed_turn=False, by=by, visit=visit
        )
    rotation.rotation_mark_receiving(project=visit.project, consultant=new, consumes_turn=False)
    visit.consultant, visit.state, visit.rule, visit.assigned_at = (
        new,
        VisitState.RECEIVING,
        AttributionRule.MANUAL_OVERRIDE,
        now,
    )
    visit.save(update_fields=["consultant", "state", "rule", "assigned_at", "updated_at"])
    record = Attribution.objects.create(
        project=visit.project,
        customer=visit.customer,
        visit=visit,
        rule=AttributionRule.MANUAL_OVERRIDE,
        rule_set_version=visit.project.settings.rule_set_version,
        consultant=new,
        consumes_turn=False,
        explanation=_("%(by)s 改派给 %(name)s：%(reason)s")
        % {"by": by.display_name, "name": new.display_name, "reason": reason[:150]},
        inputs={
            "previous_attribution_id": previous.pk if previous else None,
            "previous_consultant_id": previous.consultant_id if previous else None,
        },
        decided_at=now,
        decided_by=by,
        override_reason=reason[:200],
        replaces=previous,
    )
    if visit.kind == VisitKind.FIRST and visit.covering_for_id is None:
        customer_take_ownership(
            customer=visit.customer,
            consultant=new,
            settings=visit.project.settings,
            at=now,
            by=by,
            why=_("人工改派：%(reason)s") % {"reason": reason[:80]},
        )
    notify(
        recipients=[new],
        kind="visit_assigned",
        project_id=visit.project_id,
        url=reverse("reception:visit", args=[visit.pk]),
        title=_("请接待：%(customer)s（改派）") % {"customer": _public(visit.customer)},
        body=reason[:200],
    )
    return record
