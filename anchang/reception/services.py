"""Check-in (来访登记) and the life of a visit at the front desk."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import ProjectMembership, Role, User
from anchang.core.compiled import prepared_cursor
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PhoneInvalid
from anchang.core.notifications import notify
from anchang.core.phones import normalize_mainland_mobile
from anchang.core.privacy import public_name
from anchang.customers.models import (
    Attribution,
    AttributionRule,
    Customer,
    CustomerEvent,
    EventKind,
    Gender,
    Source,
    Stage,
)
from anchang.customers.needs import needs_intent_update
from anchang.customers.services import customer_apply_ownership, customer_apply_visit, customer_take_ownership
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception import rotation
from anchang.reception.appointments import (
    appointment_find_for_checkin,
    appointment_for_code,
    appointment_mark_checked_in,
    appointments_booked_today,
)
from anchang.reception.judging import Decision, JudgingInputs, Person, judge
from anchang.reception.models import Appointment, QueueState, Visit, VisitKind, VisitState
from anchang.reception.notices import assignment_notify
from anchang.reception.registration import registration_missing, visit_registration_refresh
from anchang.reception.tasks import check_in_follow_up
from anchang.reception.teams.queues import TeamChoice, is_team_mode, team_choice_waiting, team_claim


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
        return appointment_for_code(project=project, code=code)
    return appointment_find_for_checkin(project=project, code_or_phone=phone) if phone else None


@dataclass(frozen=True)
class _FirstLook:
    phone: str  # normalized: the check-in does not parse it a second time
    queue: list[rotation.QueueRow]
    booked: bool  # the phone has a booking for today: read it
    known: bool  # the phone is a customer somewhere in the developer's company: read (and lock) them


def _first_look(*, project: Project, phone: str) -> "_FirstLook | None":
    """Today's queue with two existence checks riding on it (one statement instead of three reads).

    None when it cannot tell: an invalid phone (the normal path reports it) or an empty queue (no row
    to carry the checks); the caller then reads the booking and the customer as before.
    """
    try:
        normalized = normalize_mainland_mobile(phone)
    except PhoneInvalid:
        return None
    sql, params = _first_look_statement(project)
    with prepared_cursor(connection) as cursor:  # planned once per connection on PostgreSQL
        cursor.execute(sql, [normalized if param == _VISITOR_PHONE else param for param in params])
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if not rows:
        return None
    queue = [rotation.queue_row(row) for row in rows]
    return _FirstLook(
        phone=normalized, queue=queue, booked=bool(rows[0]["booked"]), known=bool(rows[0]["known"])
    )


# The first look's SQL, compiled by the ORM once per project and day in each process: compiling two
# EXISTS took more CPU than running the query. Only the visitor's phone differs between check-ins; it
# stands in the compiled parameters as this placeholder.
_VISITOR_PHONE = "visitor-phone-placeholder"
_first_look_statements: dict[tuple[int, int, date], tuple[str, tuple[Any, ...]]] = {}


def _first_look_statement(project: Project) -> tuple[str, tuple[Any, ...]]:
    now = timezone.now()
    key = (project.pk, project.company_id, timezone.localdate(now))
    if key not in _first_look_statements:
        if len(_first_look_statements) > 256:  # old days and projects of a long-running worker
            _first_look_statements.clear()
        query = rotation.queue_snapshot_query(
            project=project,
            day=key[2],
            booked=Exists(appointments_booked_today(project=project, now=now).filter(phone=_VISITOR_PHONE)),
            known=Exists(
                Customer.objects.filter(phone=_VISITOR_PHONE, project__company_id=project.company_id)
            ),
        )
        _first_look_statements[key] = query.query.get_compiler(connection=connection).as_sql()
    return _first_look_statements[key]


@dataclass
class CustomerFound:
    """The project's customer for a phone (None for a new visitor) and the facts judging reads with it."""

    customer: Customer | None
    is_company_owner: bool
    owner_on_project: bool


def _customers_with_owner_facts(project: Project) -> QuerySet[Customer]:
    """Customers with their owner loaded and `owner_on_project`: does the owner still work here."""
    return Customer.objects.select_related("owner", "needs").annotate(
        owner_on_project=Exists(
            ProjectMembership.objects.filter(user_id=OuterRef("owner_id"), project_id=project.pk)
        )
    )


def customer_for_check_in(*, project: Project, phone: str, lock: bool) -> CustomerFound:
    """One query: this project's customer (locked while checking in), whether the phone belongs to an
    owner anywhere in the developer's company, and whether the customer's owner still works here."""
    rows = _customers_with_owner_facts(project).filter(phone=phone, project__company_id=project.company_id)
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = list(rows)
    customer = next((row for row in found if row.project_id == project.pk), None)
    return CustomerFound(
        customer=customer,
        is_company_owner=any(row.is_owner for row in found),
        owner_on_project=bool(customer and customer.owner_on_project),  # type: ignore[attr-defined]  # the annotation
    )


def _household(
    *, project: Project, household_of_id: int | None, customer: Customer, visitor: CustomerFound
) -> CustomerFound | None:
    """The family member the visitor links to, judged in the visitor's place (the phone's facts stay)."""
    if household_of_id is None:
        return None
    household = _customers_with_owner_facts(project).filter(project=project, pk=household_of_id).first()
    if household is None or (customer.pk is not None and household.pk == customer.pk):
        raise InvalidInput(fields={"household_of_id": _("没有找到要关联的客户。")})
    return CustomerFound(
        customer=household,
        is_company_owner=visitor.is_company_owner,
        owner_on_project=household.owner_on_project,  # type: ignore[attr-defined]  # the annotation
    )


def _linked_events(customer: Customer, household: Customer, *, by: User, at: datetime) -> list[CustomerEvent]:
    return [
        CustomerEvent(
            customer=one,
            kind=EventKind.LINKED,
            by=by,
            at=at,
            text=(_("关联家庭成员：%(name)s") % {"name": _public(other)})[:300],
            data={"customer_id": other.pk},
        )
        for one, other in ((customer, household), (household, customer))
    ]


def judging_inputs(
    *,
    settings: ProjectSettings,
    phone: str,
    found: CustomerFound,
    designated: User | None,
    queue: list[rotation.QueueRow],
    now: datetime,
) -> JudgingInputs:
    """The facts the rules need, as they are at this moment."""
    customer = found.customer
    owner = customer.owner if customer else None
    return JudgingInputs(
        phone=phone,
        now=now,
        rule_set_version=settings.rule_set_version,
        customer_id=customer.pk if customer else None,
        has_visited=bool(customer and customer.first_visit_at),
        is_company_owner=found.is_company_owner,
        owner=_person(owner),
        owner_active=bool(owner and owner.is_active and found.owner_on_project),
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
    designated = _project_consultant(project, designated_consultant_id, "designated_consultant_id")
    return judge(
        judging_inputs(
            settings=project.settings,
            phone=normalized,
            found=customer_for_check_in(project=project, phone=normalized, lock=False),
            designated=designated,
            queue=rotation.queue_snapshot(project=project),
            now=timezone.now(),
        )
    )


class _NewPhoneRaced(Exception):
    """Another desk registered the same new phone in the same moment and committed first."""


def check_in(**kwargs: Any) -> CheckIn:
    """Register a visitor and decide, by the rules of product.md §2, who receives them.

    Two desks registering the same new phone at once: the unique constraint lets one insert win; the
    other's whole check-in is rolled back and judged again, now as a visit of the customer the winner
    created (`_NewPhoneRaced`), so neither desk sees an error.
    """
    try:
        return _check_in_once(**kwargs)
    except _NewPhoneRaced:
        return _check_in_once(**kwargs)


@transaction.atomic
def _check_in_once(
    *,
    project: Project,
    phone: str = "",
    by: User,
    consent: bool,
    name: str = "",
    gender: str = "",
    party_size: int | None = None,
    source: str = "",
    appointment_code: str | None = None,
    channel_code: str | None = None,
    designated_consultant_id: int | None = None,
    household_of_id: int | None = None,
    needs: Mapping[str, object] | None = None,
) -> CheckIn:
    """`party_size` None: the booking's, else 1. `needs`: 意向面积/户型 asked at the desk, if any."""
    if by.role not in (Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT) and not by.sees_all_projects:
        raise Forbidden(_("只有前台、顾问或经理可以登记来访。"))
    if gender and gender not in Gender.values:
        raise InvalidInput(fields={"gender": _("性别只能是 male 或 female。")})
    if source and source not in Source.values:
        raise InvalidInput(fields={"source": _("不是允许的认知途径。")})
    if len(name.strip()) > 50:
        raise InvalidInput(fields={"name": _("姓名最多 50 个字。")})
    if party_size is not None and not 1 <= party_size <= 50:
        raise InvalidInput(fields={"party_size": _("来访人数应在 1–50 之间。")})
    # The usual walk-in costs one read here: the queue, whether the phone booked for today and whether
    # the company knows it (`_first_look`); the booking and the customer are read only if they exist.
    look = _first_look(project=project, phone=phone) if phone and not appointment_code else None
    appointment = _appointment_for(project, appointment_code, phone) if look is None or look.booked else None
    # The visitor agreed to the privacy notice when booking: a scanned code needs no second tick.
    if not consent and (appointment is None or appointment.consent_at is None):
        raise InvalidInput(fields={"consent": _("请先取得访客对隐私告知的同意。")})
    party_size = party_size or (appointment.party_size if appointment else 1)
    if channel_code:
        # Channel reports arrive with the channels feature; until then no code can be valid.
        raise NotFound(
            _("没有找到渠道报备码 %(code)s。") % {"code": channel_code[:20]}, code="channel_report_not_found"
        )
    normalized = (
        look.phone
        if look is not None
        else normalize_mainland_mobile(phone or (appointment.phone if appointment else ""))
    )
    name = (name or (appointment.name if appointment else "")).strip()[:50]
    gender = gender or (appointment.gender if appointment else "")
    source = source or (appointment.source if appointment else "")
    designated = _project_consultant(project, designated_consultant_id, "designated_consultant_id")
    if designated is None and appointment is not None and appointment.consultant_id:
        designated = _project_consultant(project, appointment.consultant_id, "designated_consultant_id")

    settings = project.settings
    now = timezone.now()
    found = (
        customer_for_check_in(project=project, phone=normalized, lock=True)
        if look is None or look.known
        else CustomerFound(customer=None, is_company_owner=False, owner_on_project=False)
    )
    # The customer row is written once, at the end, with everything this visit changes (one
    # statement and one history row instead of one per step — check-in is the busiest write).
    created = found.customer is None
    customer = found.customer or Customer(project=project, phone=normalized, stage=Stage.LEAD)
    changed: set[str] = set()
    for field, value in (("name", name), ("gender", gender), ("source", source), ("consent_at", now)):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            changed.add(field)
    events: list[CustomerEvent] = []
    household = _household(project=project, household_of_id=household_of_id, customer=customer, visitor=found)
    if household is not None and customer.household_of_id is None:
        customer.household_of = household.customer
        changed.add("household_of")
    # A family member's first visit under a new phone is judged as the household's return visit.
    judged = household if household is not None and customer.first_visit_at is None else found
    queue = look.queue if look is not None else rotation.queue_snapshot(project=project)
    facts = judging_inputs(
        settings=settings, phone=normalized, found=judged, designated=designated, queue=queue, now=now
    )
    decision = judge(facts)
    judged_owner = judged.customer.owner if judged.customer else None
    if judged is household and judged_owner is not None and customer.owner_id is None:
        fields, owner_event = customer_apply_ownership(
            customer=customer,
            consultant=judged_owner,
            settings=settings,
            at=now,
            by=by,
            why=_("家庭成员归属同一顾问"),
        )
        changed.update(fields)
        events.extend([owner_event] if owner_event else [])

    # The people a fixed rule can name are already loaded: the judged owner and the designated one.
    known = {user.pk: user for user in (judged_owner, designated) if user is not None}
    consultant: User | None = None
    team_choice: TeamChoice | None = None
    if decision.from_rotation and is_team_mode(settings):
        claim, team_choice = team_claim(
            project=project,
            settings=settings,
            consumes_turn=decision.consumes_turn,
            skip_owners_with_customer_on_site=settings.one_customer_at_a_time,
        )
        consultant = claim.consultant if claim else None
    elif decision.from_rotation:
        # The snapshot just read shows nobody waiting: no claim can succeed, so its locking reads are
        # skipped. A consultant freed after the snapshot takes the visitor through visit_assign_waiting.
        claim = (
            rotation.rotation_claim_next(
                project=project,
                consumes_turn=decision.consumes_turn,
                skip_owners_with_customer_on_site=settings.one_customer_at_a_time,
            )
            if any(row["state"] == QueueState.WAITING for row in queue)
            else None
        )
        consultant = claim.consultant if claim else None
    elif decision.consultant is not None:
        consultant = known[decision.consultant.id]
        rotation.rotation_mark_receiving(
            project=project, consultant=consultant, consumes_turn=decision.consumes_turn
        )
    covering_for = known[decision.covering_for.id] if decision.covering_for else None

    rule = decision.rule if consultant is not None else AttributionRule.WAITING_FOR_CONSULTANT
    explanation = (
        decision.explanation
        if consultant is not None
        else _("暂无空闲顾问，访客已进入等候，顾问空出后按到访先后自动分配。")
    )
    if team_choice is not None:
        explanation = team_choice.explain(explanation, received=consultant is not None)

    # A colleague standing in for a named consultant moves no ownership: the customer is the named one's.
    new_owner = covering_for or consultant
    if new_owner is not None and decision.takes_ownership:
        fields, owner_event = customer_apply_ownership(
            customer=customer,
            consultant=new_owner,
            settings=settings,
            at=now,
            by=by,
            why=str(AttributionRule(decision.rule).label),
        )
        changed.update(fields)
        events.extend([owner_event] if owner_event else [])
    changed.update(
        customer_apply_visit(
            customer=customer,
            settings=settings,
            at=now,
            extends_protection=decision.rule in (AttributionRule.OWNER, AttributionRule.COVERING_FOR_OWNER),
        )
    )
    _save_customer(customer, created=created, changed=changed)
    if household is not None and household.customer is not None and "household_of" in changed:
        events.extend(_linked_events(customer, household.customer, by=by, at=now))
    # A returning customer's needs came with the customer row; a new one has none unless asked now.
    known_needs = None if created else getattr(customer, "needs", None)
    if needs:
        known_needs = needs_intent_update(customer=customer, by=by, needs=needs).needs

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
        missing_fields=registration_missing(settings=settings, customer=customer, needs=known_needs),
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
            # A new visitor's row is written after the decision; the record names it all the same.
            "customer_id": facts.customer_id or customer.pk,
            "customer_found": facts.customer_id is not None,
            "appointment_id": appointment.pk if appointment else None,
            "notes": list(decision.notes),
            # Which team's queue, why, and the day's counts when it was chosen (one queue per team).
            **({"team": team_choice.as_record()} if team_choice else {}),
        },
        decided_at=now,
        decided_by=by,
    )
    events.insert(
        0,
        CustomerEvent(
            customer=customer,
            kind=EventKind.VISIT,
            by=by,
            at=now,
            # The explanation is a whole sentence with its own 。 (no second one: the timeline showed 。。).
            text=(_("%(kind)s，%(who)s") % {"kind": visit.get_kind_display(), "who": explanation})[:300],
            data={"visit_id": visit.pk, "rule": rule},
        ),
    )
    # The visitor waits for none of this: the notices and the timeline rows are written by the worker
    # from one task row inserted in this transaction, so they commit with the visit or not at all.
    check_in_follow_up.enqueue(
        visit_id=visit.pk,
        consultant_id=consultant.pk if consultant else None,
        covering_for_id=covering_for.pk if covering_for else None,
        by_id=by.pk,
        events=[_event_record(event) for event in events],
    )
    if appointment is not None:
        appointment_mark_checked_in(appointment=appointment, visit_id=visit.pk)
    return CheckIn(
        visit=visit, customer=customer, attribution=attribution, decision=decision, customer_created=created
    )


# What every visit of a known customer changes: the visit itself is the record of it (Visit, Attribution).
_VISIT_TIME_FIELDS = frozenset({"last_visit_at", "protected_until"})


def _save_customer(customer: Customer, *, created: bool, changed: set[str]) -> None:
    if not created:
        if changed <= _VISIT_TIME_FIELDS:
            # A returning visitor whose owner, stage and details stay: one UPDATE of the visit times,
            # no 拼音 recomputed for an unchanged name and no history row (history keeps the details).
            customer.updated_at = timezone.now()
            Customer.objects.filter(pk=customer.pk).update(
                **{field: getattr(customer, field) for field in changed}, updated_at=customer.updated_at
            )
        else:
            derived = ["name_pinyin", "name_initials"] if "name" in changed else []
            customer.save(update_fields=[*sorted(changed), *derived, "updated_at"])
        return
    try:
        customer.save(force_insert=True)
    except IntegrityError as error:
        # The only unique key a new customer can collide on is (project, phone): another desk won.
        # No savepoint of its own: the exception leaves `_check_in_once`'s atomic block, which rolls
        # the whole attempt back (claim included) before `check_in` judges again.
        raise _NewPhoneRaced from error


def _event_record(event: CustomerEvent) -> dict[str, Any]:
    """A timeline row, unsaved, as task arguments (JSON); the related objects hold the saved ids."""
    return {
        "customer_id": event.customer.pk,
        "kind": event.kind,
        "by_id": event.by.pk if event.by else None,
        "at": event.at.isoformat(),
        "text": event.text,
        "data": event.data,
    }


@transaction.atomic
def _public(customer: Customer) -> str:
    return public_name(customer.name, customer.gender)


def _claim_for_waiting(project: Project) -> tuple[Visit, rotation.Claim, TeamChoice | None] | None:
    """The oldest waiting visitor someone is free for now, with the claim (inside the caller's atomic)."""
    waiting = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("customer", "customer__owner", "project")
        .filter(project=project, state=VisitState.WAITING)
        .order_by("checked_in_at", "pk")
    )
    if not is_team_mode(project.settings):
        visit = waiting.first()
        if visit is None:
            return None
        claim = rotation.rotation_claim_next(project=project, consumes_turn=visit.consumes_turn)
        return (visit, claim, None) if claim else None
    # Team queues: each visitor keeps the team chosen at check-in. One waiting for a team with nobody
    # free must not hold up a later visitor whose team has someone free, so look past them.
    for visit in waiting:
        checked_in = visit.attributions.order_by("decided_at", "pk").first()
        recorded = checked_in.inputs.get("team") if checked_in else None
        choice = team_choice_waiting(recorded=recorded, settings=project.settings)
        if choice is None:
            claim = rotation.rotation_claim_next(project=project, consumes_turn=visit.consumes_turn)
        else:
            claim, choice = team_claim(
                project=project, settings=project.settings, consumes_turn=visit.consumes_turn, choice=choice
            )
        if claim is not None:
            return visit, claim, choice
    return None


def visit_assign_waiting(*, project_id: int) -> int:
    """Give waiting visitors, oldest first, to consultants who are free now. Returns how many."""
    assigned = 0
    while True:
        with transaction.atomic():
            project = Project.objects.select_related("settings").get(pk=project_id)
            found = _claim_for_waiting(project)
            if found is None:
                return assigned
            visit, claim, team_choice = found
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
                    **({"team": team_choice.as_record()} if team_choice else {}),
                },
                decided_at=now,
                decided_by=None,
                replaces=waited,
            )
            # A visitor who waited for the rotation becomes the receiver's customer, as at the desk.
            takes_ownership = visit.rule in (AttributionRule.ROTATION, AttributionRule.CHANNEL)
            if takes_ownership and visit.covering_for_id is None:
                customer_take_ownership(
                    customer=visit.customer,
                    consultant=claim.consultant,
                    settings=project.settings,
                    at=now,
                    by=None,
                    why=str(AttributionRule(visit.rule).label),
                )
            CustomerEvent.objects.bulk_create(
                assignment_notify(
                    visit=visit, consultant=claim.consultant, settings=project.settings, by=None
                )
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
    # Needs filled during the visit (the page, the API) complete the registration: the flag is final now.
    visit.missing_fields = visit_registration_refresh(visit_id=visit.pk).missing_fields
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


@transaction.atomic
def visit_take_over(*, visit_id: int, by: User) -> Attribution:
    """接手: the consultant a colleague was covering for arrives and takes their visitor with one tap.

    Only that consultant may: the colleague and everyone else who may see the visit are refused, the
    rest never learn it exists. The hand-over is a decision of its own, stored with its inputs and
    replacing the covering one; the colleague goes back to the queue as the covering's turn rule says.
    """
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("project__settings", "customer", "consultant", "covering_for")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None or by.pk not in (visit.covering_for_id, visit.consultant_id):
        raise NotFound()
    if visit.covering_for_id is None:
        raise Conflict(_("您已在接待这位访客，无需接手。"), code="visit_already_taken_over")
    if by.pk != visit.covering_for_id:
        raise Forbidden(_("只有被代接待的顾问本人可以接手。"))
    if visit.state not in (VisitState.WAITING, VisitState.RECEIVING):
        raise Conflict(_("接待已结束，不能接手。"), code="visit_already_ended")
    project, colleague, now = visit.project, visit.consultant, timezone.now()
    previous = visit.attributions.order_by("-decided_at", "-pk").first()
    if colleague is not None:
        rotation.rotation_finish_reception(
            project=project, consultant=colleague, consumed_turn=visit.consumes_turn, by=by, visit=visit
        )
    # The visitor is the owner's own (or asked for them): no turn of theirs is spent on it.
    rotation.rotation_mark_receiving(project=project, consultant=by, consumes_turn=False)
    rule = AttributionRule.OWNER if visit.customer.owner_id == by.pk else AttributionRule.DESIGNATED
    explanation = (
        _("%(owner)s 到场接手（此前由 %(name)s 代接待）。")
        % {"owner": by.display_name, "name": colleague.display_name}
        if colleague is not None
        else _("%(owner)s 到场接手等候中的访客。") % {"owner": by.display_name}
    )
    visit.consultant, visit.covering_for, visit.state, visit.rule = by, None, VisitState.RECEIVING, rule
    visit.assigned_at = now
    visit.save(update_fields=["consultant", "covering_for", "state", "rule", "assigned_at", "updated_at"])
    record = Attribution.objects.create(
        project=project,
        customer=visit.customer,
        visit=visit,
        rule=rule,
        rule_set_version=project.settings.rule_set_version,
        consultant=by,
        consumes_turn=visit.consumes_turn,
        explanation=explanation[:300],
        inputs={
            "previous_attribution_id": previous.pk if previous else None,
            "covering_consultant_id": colleague.pk if colleague else None,
            "taken_over_by_id": by.pk,
            "customer_owner_id": visit.customer.owner_id,
            "queue": list(rotation.queue_snapshot(project=project)),
        },
        decided_at=now,
        decided_by=by,
        replaces=previous,
    )
    CustomerEvent.objects.create(
        customer=visit.customer,
        kind=EventKind.COVERED,
        by=by,
        at=now,
        text=explanation[:300],
        data={"visit_id": visit.pk, "attribution_id": record.pk},
    )
    if colleague is not None:
        notify(
            recipients=[colleague],
            kind="visit_taken_over",
            project_id=project.pk,
            url=reverse("reception:visit", args=[visit.pk]),
            title=_("%(owner)s 已接手 %(customer)s")
            % {"owner": by.display_name, "customer": _public(visit.customer)},
            body=_("感谢代接待，您已回到轮排。"),
        )
    return record
