"""Check-out (送客/离场): the end of a visit with its outcome, and what follows it (product.md §6–7).

The queue side of ending a reception (freeing the consultant, the make-up turn for an invalid one)
belongs to `services.visit_end`; this module adds what the consultant records at the door and the
follow-up and thank-you message that a valid visit starts.
"""

import logging
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import TextChoices
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.core.models import Notification
from anchang.core.notifications import notify
from anchang.core.privacy import mask_phone, public_name
from anchang.customers.models import EventKind
from anchang.customers.services import customer_record_event
from anchang.followups.models import FollowUp
from anchang.followups.services import REASON_FIRST_VISIT, followup_schedule
from anchang.inventory.models import ProjectSettings
from anchang.reception.customer_messages import visit_thank_you_queue
from anchang.reception.models import ClubStatus, Visit, VisitKind, VisitState
from anchang.reception.services import visit_end
from anchang.reception.stations import is_desk

logger = logging.getLogger("anchang.checkout")

THANK_YOU_KIND = "thank_you"
NEXT_STEP_MAX_LENGTH = 200
SUMMARY_MAX_LENGTH = 2000
INVALID_REASON_MAX_LENGTH = 100


class Outcome(TextChoices):
    SUBSCRIBED = "subscribed", gettext_lazy("已认购")
    RETURN = "return", gettext_lazy("有意向，会再来")
    NO_INTEREST = "no_interest", gettext_lazy("暂无意向")
    INVALID = "invalid", gettext_lazy("无效接待（非购房客户）")


class Material(TextChoices):
    """What a consultant hands out at the door; the fixed list keeps the report countable."""

    BROCHURE = "brochure", gettext_lazy("楼书")
    FLOOR_PLAN = "floor_plan", gettext_lazy("户型图")
    PRICE_LIST = "price_list", gettext_lazy("价格单")
    PURCHASE_PLAN = "purchase_plan", gettext_lazy("置业计划")
    LOCATION_MAP = "location_map", gettext_lazy("区位图")


ENDED_STATES = (VisitState.ENDED, VisitState.INVALID)


@dataclass(frozen=True)
class CheckOut:
    visit: Visit
    duration_minutes: int
    follow_up: FollowUp | None


def duration_minutes(visit: Visit, *, now: datetime | None = None) -> int:
    """Whole minutes from arrival to departure (or to now, while the visit goes on)."""
    end = visit.checked_out_at or now or timezone.now()
    return max(0, int((end - visit.checked_in_at).total_seconds() // 60))


def format_duration(minutes: int) -> str:
    """72 → `1小时12分`, 45 → `45分`, 120 → `2小时` (ui.md: short Chinese units)."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return _("%(m)d分") % {"m": rest}
    if not rest:
        return _("%(h)d小时") % {"h": hours}
    return _("%(h)d小时%(m)d分") % {"h": hours, "m": rest}


def may_check_out(*, visit: Visit, user: User) -> bool:
    """The receiving consultant (also when covering for the owner), the front desk and managers."""
    if is_desk(user):
        return True
    return user.role == Role.CONSULTANT and visit.consultant_id == user.pk


def _validate(
    *, outcome: str, invalid_reason: str, materials: Iterable[str], club: str, next_step: str, summary: str
) -> list[str]:
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("请选择接待结果：已认购、会再来、暂无意向或无效接待。")
    if outcome == Outcome.INVALID and not invalid_reason.strip():
        errors["invalid_reason"] = _("请说明无效原因（问路、送货、同行踩盘、重复登记等）。")
    elif len(invalid_reason.strip()) > INVALID_REASON_MAX_LENGTH:
        errors["invalid_reason"] = _("无效原因最多 %(n)d 个字。") % {"n": INVALID_REASON_MAX_LENGTH}
    chosen: list[str] = []
    for material in materials:
        if not isinstance(material, str) or material not in Material.values:
            errors["materials"] = _("资料只能从清单中选择：楼书、户型图、价格单、置业计划、区位图。")
            break
        if material not in chosen:
            chosen.append(material)
    if club and club not in ClubStatus.values:
        errors["club"] = _("会员情况只能是：已介绍、已入会或不感兴趣。")
    if len(next_step.strip()) > NEXT_STEP_MAX_LENGTH:
        errors["next_step"] = _("下一步最多 %(n)d 个字。") % {"n": NEXT_STEP_MAX_LENGTH}
    if len(summary.strip()) > SUMMARY_MAX_LENGTH:
        errors["summary"] = _("接待小结最多 %(n)d 个字。") % {"n": SUMMARY_MAX_LENGTH}
    if errors:
        raise InvalidInput(fields=errors)
    return [m for m in Material.values if m in chosen]


def _visit_for(visit_id: int, by: User) -> Visit:
    visit = Visit.objects.filter(pk=visit_id).first()
    if visit is None or project_visible_to(user=by, project_id=visit.project_id) is None:
        raise NotFound()
    if by.role not in (Role.CONSULTANT, Role.FRONTDESK, Role.MANAGER) and not by.sees_all_projects:
        raise Forbidden(_("只有接待顾问、前台或经理可以办理离场。"))
    if not may_check_out(visit=visit, user=by):
        # Another consultant's reception: its existence is not theirs to know (api.md).
        raise NotFound()
    if visit.state in ENDED_STATES:
        # Checked again under the lock in visit_end; here so that a repeated check-out is a 409
        # whatever else its form says.
        raise Conflict(_("该接待已经结束。"), code="visit_already_ended")
    return visit


@transaction.atomic
def visit_check_out(
    *,
    visit_id: int,
    by: User,
    outcome: str,
    invalid_reason: str = "",
    materials: Iterable[str] = (),
    club: str = "",
    next_step: str = "",
    summary: str = "",
) -> CheckOut:
    """End the visit with what the consultant recorded at the door (product.md §6).

    A valid first visit starts the first follow-up, due `first_followup_due_hours` after leaving
    (§7); every valid visit sends the customer the project's thank-you message once committed.
    """
    _visit_for(visit_id, by)
    materials = _validate(
        outcome=outcome,
        invalid_reason=invalid_reason,
        materials=materials,
        club=club,
        next_step=next_step,
        summary=summary,
    )
    # visit_end locks the visit and re-checks its state: a second check-out (double tap, two
    # devices) gets its Conflict there, before anything below is written.
    reason = invalid_reason.strip() if outcome == Outcome.INVALID else ""
    visit = visit_end(visit_id=visit_id, by=by, outcome=outcome, invalid_reason=reason)
    visit.materials_given = materials
    visit.club = club
    visit.next_step = next_step.strip()
    visit.summary = summary.strip()
    visit.save(update_fields=["materials_given", "club", "next_step", "summary", "updated_at"])
    visit = Visit.objects.select_related("project", "project__settings", "customer", "consultant").get(
        pk=visit.pk
    )
    minutes = duration_minutes(visit)
    customer_record_event(
        customer=visit.customer,
        kind=EventKind.VISIT,
        by=by,
        at=visit.checked_out_at,
        text=_("离场：%(outcome)s，接待 %(duration)s")
        % {
            "outcome": Outcome(outcome).label,
            "duration": format_duration(minutes),
        },
        data={"visit_id": visit.pk, "outcome": outcome, "duration_minutes": minutes},
    )
    follow_up = None
    if outcome != Outcome.INVALID:
        follow_up = _first_follow_up(visit)
        if visit.consultant_id is not None:
            visit_pk = visit.pk
            # After commit: the thank-you must not exist for a check-out that rolled back, and a
            # failure to write it (a broken template) must not undo the check-out (robust).
            transaction.on_commit(lambda: checkout_send_thank_you(visit_id=visit_pk), robust=True)
    return CheckOut(visit=visit, duration_minutes=minutes, follow_up=follow_up)


def _first_follow_up(visit: Visit) -> FollowUp | None:
    if visit.kind != VisitKind.FIRST:
        return None
    customer = visit.customer
    consultant_id = customer.owner_id or visit.consultant_id
    if consultant_id is None or visit.checked_out_at is None:
        return None
    hours = visit.project.settings.first_followup_due_hours
    due_at = visit.checked_out_at + timedelta(hours=hours)
    # One open task per customer and consultant: a follow-up may already be open (scheduled after a
    # call or an earlier contact, or the demo's "到访后回访" for a visitor still in the hall), and a
    # second one made the consultant's list show the customer twice. The open one is brought forward
    # to the first-visit deadline and linked to the visit instead.
    open_task = (
        FollowUp.objects.select_for_update()
        .filter(customer=customer, consultant_id=consultant_id, done_at__isnull=True)
        .order_by("due_at", "pk")
        .first()
    )
    if open_task is not None:
        open_task.due_at = min(open_task.due_at, due_at)
        open_task.visit = open_task.visit or visit
        open_task.save(update_fields=["due_at", "visit"])
        return open_task
    return followup_schedule(
        customer=customer,
        consultant=User.objects.get(pk=consultant_id),
        due_at=due_at,
        reason=str(REASON_FIRST_VISIT),
        visit=visit,
    )


class _KeepUnknown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_thank_you(template: str, values: Mapping[str, str]) -> str:
    """The project's template with {name} {project} {consultant} filled in.

    Managers edit the template in a form: an unknown placeholder stays as written, and a template
    that is not a valid format string (a lone brace, `{0}`, `{name.attr}`) falls back to the default.
    """
    try:
        fields = [field for _text, field, _spec, _conv in string.Formatter().parse(template) if field]
        if any(not field.isidentifier() for field in fields):
            raise ValueError(template)
        return template.format_map(_KeepUnknown(values))
    except (ValueError, IndexError, KeyError):
        default = ProjectSettings._meta.get_field("thank_you_template").get_default()
        return str(default).format_map(_KeepUnknown(values))


def _thank_you_url(visit_id: int) -> str:
    return reverse("reception:visit", args=[visit_id])


@transaction.atomic
def checkout_send_thank_you(*, visit_id: int) -> bool:
    """Put the customer's thank-you message into the outbox; safe to run twice (one message per visit).

    The customer's SMS goes through the outbox to the configured provider when they consented
    (`customer_messages`); the consultant's copy of what was sent in their name carries the customer's
    polite public name and masked mobile only (PIPL, product.md §13).
    """
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("project", "project__settings", "customer", "consultant")
        .filter(pk=visit_id, state=VisitState.ENDED)
        .first()
    )
    if visit is None or visit.consultant is None:
        return False
    url = _thank_you_url(visit.pk)
    if Notification.objects.filter(kind=THANK_YOU_KIND, url=url).exists():
        return False
    customer = visit.customer
    greeting = public_name(customer.name, customer.gender)
    message = render_thank_you(
        visit.project.settings.thank_you_template,
        {"name": greeting, "project": visit.project.name, "consultant": visit.consultant.display_name},
    )
    notify(
        recipients=[visit.consultant],
        kind=THANK_YOU_KIND,
        title=_("到访感谢短信已发送：%(name)s") % {"name": greeting},
        body=_("致 %(phone)s：%(message)s") % {"phone": mask_phone(customer.phone), "message": message},
        url=url,
        project_id=visit.project_id,
    )
    visit_thank_you_queue(visit=visit, text=message)
    return True


# --- for pages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutSummary:
    outcome: str
    outcome_label: str
    duration: str
    duration_minutes: int
    materials: list[str]
    club: str
    next_step: str
    summary: str
    invalid_reason: str
    follow_up: FollowUp | None


def checkout_summary(visit: Visit) -> CheckoutSummary:
    minutes = duration_minutes(visit)
    outcome_label = Outcome(visit.outcome).label if visit.outcome in Outcome.values else visit.outcome
    follow_up = (
        FollowUp.objects.filter(visit=visit).order_by("pk").first() if visit.kind == VisitKind.FIRST else None
    )
    return CheckoutSummary(
        outcome=visit.outcome,
        outcome_label=str(outcome_label),
        duration=format_duration(minutes),
        duration_minutes=minutes,
        materials=[str(Material(m).label) for m in visit.materials_given if m in Material.values],
        club=visit.get_club_display() if visit.club else "",
        next_step=visit.next_step,
        summary=visit.summary,
        invalid_reason=visit.invalid_reason,
        follow_up=follow_up,
    )
