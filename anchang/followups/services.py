"""Follow-ups (跟进), callbacks (回访) and their reminders (product.md §7). Writes only."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from anchang.core.notifications import notify
from anchang.customers.models import Customer, EventKind, IntentLevel
from anchang.customers.selectors import may_record_followup
from anchang.customers.services import customer_record_event, protection_after_contact
from anchang.followups.models import Callback, FollowUp, Method
from anchang.reception.models import Visit, VisitState

CONTENT_MAX_LENGTH = 2000
COMMENTS_MAX_LENGTH = 2000
REASON_FIRST_VISIT = gettext_lazy("首访后回访")
# How far ahead a follow-up counts as "due soon" for the reminder (product.md §7: the list shows it
# before it turns overdue; one hour leaves time to make the call).
DUE_SOON_WINDOW = timedelta(hours=1)

# Results a consultant picks after a contact. Anything but "not reached" is an effective contact
# (有效跟进): only a conversation with the customer keeps the customer protected.
RESULT_REACHED = "reached"
RESULT_NOT_REACHED = "not_reached"
RESULT_APPOINTMENT = "appointment"
RESULT_DECLINED = "declined"
RESULT_CHOICES: list[tuple[str, object]] = [
    (RESULT_REACHED, gettext_lazy("已沟通")),
    (RESULT_APPOINTMENT, gettext_lazy("已约到访")),
    (RESULT_DECLINED, gettext_lazy("客户明确拒绝")),
    (RESULT_NOT_REACHED, gettext_lazy("未联系上（未接/拒接/未回复）")),
]
RESULT_CODES = frozenset(code for code, _label in RESULT_CHOICES)
# Written by the system, never picked: the customer signed and their open follow-ups were closed.
RESULT_CLOSED_OWNER = "closed_owner"
# An SMS is one-way: it reminds the customer of us but is not a conversation.
EFFECTIVE_METHODS = frozenset({Method.PHONE, Method.WECHAT, Method.VISIT})


def result_label(code: str) -> str:
    if code == RESULT_CLOSED_OWNER:
        return str(_("签约成为业主，跟进关闭"))
    return next((str(label) for value, label in RESULT_CHOICES if value == code), code)


def is_effective_contact(*, method: str, result: str) -> bool:
    return method in EFFECTIVE_METHODS and result != RESULT_NOT_REACHED


def followup_schedule(
    *,
    customer: Customer,
    consultant: User,
    due_at: datetime,
    reason: str = "",
    visit: Visit | None = None,
) -> FollowUp:
    """A follow-up task that shows in the consultant's list until recorded (no checks: callers own them)."""
    return FollowUp.objects.create(
        customer=customer, consultant=consultant, visit=visit, due_at=due_at, reason=reason[:100]
    )


def _validate_record(
    *, method: str, content: str, result: str, intent_level: str, next_due_at: datetime | None, now: datetime
) -> str:
    errors: dict[str, str] = {}
    if method not in Method.values:
        errors["method"] = _("请选择跟进方式：电话、微信、短信或到访。")
    text = (content or "").strip()
    if not text:
        errors["content"] = _("请填写跟进内容：聊了什么、客户怎么说。")
    elif len(text) > CONTENT_MAX_LENGTH:
        errors["content"] = _("跟进内容最多 %(n)d 个字。") % {"n": CONTENT_MAX_LENGTH}
    if result and result not in RESULT_CODES:
        errors["result"] = _("不是允许的跟进结果。")
    if intent_level and intent_level not in IntentLevel.values:
        errors["intent_level"] = _("意向等级只能是 A、B、C 或 D。")
    if next_due_at is not None:
        if timezone.is_naive(next_due_at):
            errors["next_due_at"] = _("下次跟进时间需带时区。")
        elif next_due_at <= now:
            errors["next_due_at"] = _("下次跟进时间不能早于现在")
    if errors:
        raise InvalidInput(fields=errors)
    return text


@transaction.atomic
def followup_record(
    *,
    customer: Customer,
    by: User,
    method: str,
    content: str,
    result: str = "",
    intent_level: str = "",
    next_due_at: datetime | None = None,
) -> FollowUp:
    """Record a contact with the customer; returns the follow-up now done.

    The consultant's oldest open follow-up of this customer is closed by it (the task is done); with
    none open, a done one is written. Effective contacts extend protection (product.md §7), the new
    intent level goes on the customer, and `next_due_at` schedules the next task.
    """
    now = timezone.now()
    # The customer row is the lock: two records at once (double tap, two devices) must not close the
    # same open task twice or both extend protection from a stale value.
    locked = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("project", "project__settings")
        .filter(pk=customer.pk)
        .first()
    )
    if locked is None or project_visible_to(user=by, project_id=locked.project_id) is None:
        raise NotFound()
    if not may_record_followup(user=by, customer=locked):
        if by.role == Role.CONSULTANT:
            raise NotFound()
        raise Forbidden(_("只有归属顾问或案场经理可以记录跟进。"))
    text = _validate_record(
        method=method,
        content=content,
        result=result,
        intent_level=intent_level,
        next_due_at=next_due_at,
        now=now,
    )
    consultant_id = locked.owner_id or by.pk

    open_task = (
        FollowUp.objects.select_for_update()
        .filter(customer=locked, consultant_id=consultant_id, done_at__isnull=True)
        .order_by("due_at", "pk")
        .first()
    )
    fields = {"method": method, "content": text, "result": result, "intent_level": intent_level}
    if open_task is not None:
        for name, value in fields.items():
            setattr(open_task, name, value)
        open_task.done_at = now
        open_task.save(update_fields=[*fields, "done_at"])
        done = open_task
    else:
        done = FollowUp.objects.create(
            customer=locked, consultant_id=consultant_id, due_at=now, done_at=now, **fields
        )

    effective = is_effective_contact(method=method, result=result)
    changed: list[str] = []
    if intent_level and locked.intent_level != intent_level:
        locked.intent_level = intent_level
        changed.append("intent_level")
    if effective:
        locked.last_contact_at = now
        changed.append("last_contact_at")
        if locked.owner_id:
            extended = protection_after_contact(customer=locked, settings=locked.project.settings, at=now)
            if extended is not None:
                locked.protected_until = extended
                changed.append("protected_until")
    if changed:
        locked._change_reason = _("跟进记录")  # type: ignore[attr-defined]
        locked.save(update_fields=[*changed, "updated_at"])

    following = None
    if next_due_at is not None:
        following = followup_schedule(
            customer=locked,
            consultant=User.objects.get(pk=consultant_id),
            due_at=next_due_at,
            reason=_("上次跟进约定"),
        )
    summary = _("%(method)s跟进：%(content)s") % {"method": Method(method).label, "content": text[:200]}
    if intent_level:
        summary += _("（意向 %(level)s）") % {"level": intent_level}
    customer_record_event(
        customer=locked,
        kind=EventKind.FOLLOW_UP,
        by=by,
        at=now,
        text=summary,
        data={
            "follow_up_id": done.pk,
            "method": method,
            "result": result,
            "effective": effective,
            "next_follow_up_id": following.pk if following else None,
        },
    )
    # The caller's instance follows the row it handed in (views render it right after).
    for name in ("intent_level", "last_contact_at", "protected_until"):
        setattr(customer, name, getattr(locked, name))
    return done


@transaction.atomic
def followups_close_for_owner(*, customer: Customer, reason: str, at: datetime) -> int:
    """The customer signed (deals): their open sales follow-ups are done, with `reason` as the record,
    so that no consultant keeps calling an owner to sell them a home. Returns how many were closed."""
    return FollowUp.objects.filter(customer=customer, done_at__isnull=True).update(
        done_at=at, result=RESULT_CLOSED_OWNER, content=reason[:CONTENT_MAX_LENGTH]
    )


# --- callbacks ------------------------------------------------------------------------------------


def may_call_back(user: User) -> bool:
    """Callbacks are done by customer service or a manager, never by the consultant under review."""
    return user.role in (Role.SERVICE, Role.MANAGER) or user.sees_all_projects


@transaction.atomic
def callback_record(
    *, visit: Visit, by: User, satisfaction: int | None, comments: str = "", reached: bool = True
) -> Callback:
    """回访: how the customer found the reception (product.md §7), once per visit.

    `reached=False` (未接通) needs no score: the call is counted and the visit stays awaiting its
    callback, to be tried again; the answered call then completes the same row.
    """
    locked = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("customer", "consultant")
        .filter(pk=visit.pk)
        .first()
    )
    if locked is None or project_visible_to(user=by, project_id=locked.project_id) is None:
        raise NotFound()
    if locked.consultant_id is not None and by.pk == locked.consultant_id:
        raise Forbidden(_("接待顾问不能回访自己的接待，请由客服或经理回访。"), code="own_reception")
    if not may_call_back(by):
        raise Forbidden(_("只有客服或案场经理可以回访。"))
    errors: dict[str, str] = {}
    if not reached:
        satisfaction = None
    elif isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("满意度请选择 1–5 分。")
    text = (comments or "").strip()
    if len(text) > COMMENTS_MAX_LENGTH:
        errors["comments"] = _("客户意见最多 %(n)d 个字。") % {"n": COMMENTS_MAX_LENGTH}
    if errors:
        raise InvalidInput(fields=errors)
    if locked.state != VisitState.ENDED:
        raise Conflict(_("只能回访已结束的有效接待。"), code="visit_not_ended")
    now = timezone.now()
    # The visit lock serialises the attempts: the row read here is the one to complete.
    callback = Callback.objects.filter(visit=locked).first()
    if callback is not None and callback.reached:
        raise Conflict(_("该接待已经回访过了。"), code="callback_exists")
    if callback is not None:
        callback.satisfaction, callback.comments, callback.by, callback.at = satisfaction, text, by, now
        callback.attempts = F("attempts") + 1
        callback.save(update_fields=["satisfaction", "comments", "by", "at", "attempts"])
        callback.refresh_from_db(fields=["attempts"])
    else:
        try:
            with transaction.atomic():
                callback = Callback.objects.create(
                    visit=locked,
                    customer=locked.customer,
                    consultant=locked.consultant,
                    by=by,
                    satisfaction=satisfaction,
                    comments=text,
                    at=now,
                )
        except IntegrityError:
            # The visit lock makes this unreachable on PostgreSQL; the unique constraint is the backstop.
            raise Conflict(_("该接待已经回访过了。"), code="callback_exists") from None
    if satisfaction is None:
        summary = _("回访未接通（第 %(n)d 次）") % {"n": callback.attempts}
    else:
        summary = _("回访：满意度 %(score)d/5") % {"score": satisfaction}
    if text:
        summary += _("，客户意见：%(comments)s") % {"comments": text[:150]}
    customer_record_event(
        customer=locked.customer,
        kind=EventKind.CALLBACK,
        by=by,
        at=now,
        text=summary,
        data={
            "callback_id": callback.pk,
            "visit_id": locked.pk,
            "satisfaction": satisfaction,
            "attempts": callback.attempts,
        },
    )
    return callback


# --- reminders ------------------------------------------------------------------------------------


# Nothing sent yet, or only the "due soon" reminder (sent before the due time).
_NOT_REMINDED_AS_OVERDUE = Q(reminded_at__isnull=True) | Q(reminded_at__lt=F("due_at"))


@dataclass(frozen=True)
class _Claimed:
    follow_up: FollowUp
    overdue: bool


def _claim(follow_up: FollowUp, *, now: datetime, overdue: bool) -> bool:
    """Take the right to send one reminder, with one conditional UPDATE.

    `reminded_at` says what was sent: NULL nothing, before `due_at` the "due soon" reminder, at or
    after `due_at` the overdue one. The condition is re-checked by the database against the row as
    committed, so of two runs (or two workers) only one matches and sends; the other updates 0 rows.
    """
    rows = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True)
    if overdue:
        rows = rows.filter(due_at__lte=now).filter(_NOT_REMINDED_AS_OVERDUE)
    else:
        rows = rows.filter(due_at__gt=now, reminded_at__isnull=True)
    return rows.update(reminded_at=now) == 1


def _candidates(now: datetime) -> list[_Claimed]:
    base = FollowUp.objects.filter(done_at__isnull=True).select_related("customer", "consultant")
    due_soon = base.filter(due_at__gt=now, due_at__lte=now + DUE_SOON_WINDOW, reminded_at__isnull=True)
    overdue = base.filter(due_at__lte=now).filter(_NOT_REMINDED_AS_OVERDUE)
    return [
        *(_Claimed(f, overdue=False) for f in due_soon.order_by("due_at", "pk")),
        *(_Claimed(f, overdue=True) for f in overdue.order_by("due_at", "pk")),
    ]


def _send_reminders(consultant: User, items: Iterable[_Claimed]) -> None:
    from anchang.core.privacy import public_name

    by_kind: dict[bool, list[FollowUp]] = defaultdict(list)
    for item in items:
        by_kind[item.overdue].append(item.follow_up)
    for overdue, follow_ups in sorted(by_kind.items()):
        project_id = follow_ups[0].customer.project_id
        names = "、".join(public_name(f.customer.name, f.customer.gender) for f in follow_ups[:5])
        if len(follow_ups) > 5:
            names += _(" 等")
        if overdue:
            title = _("%(n)d 条跟进已逾期") % {"n": len(follow_ups)}
            body = _("请尽快联系：%(names)s。逾期过久的客户会进入公客池。") % {"names": names}
        else:
            first = timezone.localtime(follow_ups[0].due_at)
            title = _("%(n)d 条跟进一小时内到期") % {"n": len(follow_ups)}
            body = _("%(time)s 起：%(names)s") % {"time": f"{first:%H:%M}", "names": names}
        notify(
            recipients=[consultant],
            kind="followup_overdue" if overdue else "followup_due",
            title=title[:120],
            body=body,
            url=reverse("followups:mine", args=[project_id]),
            project_id=project_id,
        )


@transaction.atomic
def followup_send_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """Remind consultants of follow-ups due within the hour and of ones that just turned overdue.

    Each follow-up is reminded once per kind, whatever how often or how many workers run this (R5):
    every reminder is claimed row by row with a conditional UPDATE on `reminded_at` (see `_claim`),
    and only what a run claimed goes into its messages, one message per consultant and kind. Claims
    and messages commit together: a run that fails leaves its follow-ups for the next one.
    """
    now = now or timezone.now()
    claimed: dict[int, list[_Claimed]] = defaultdict(list)
    consultants: dict[int, User] = {}
    for item in _candidates(now):
        if _claim(item.follow_up, now=now, overdue=item.overdue):
            claimed[item.follow_up.consultant_id].append(item)
            consultants[item.follow_up.consultant_id] = item.follow_up.consultant
    for consultant_id, items in claimed.items():
        _send_reminders(consultants[consultant_id], items)
    flat = [item for items in claimed.values() for item in items]
    return {
        "due_soon": sum(1 for item in flat if not item.overdue),
        "overdue": sum(1 for item in flat if item.overdue),
    }
