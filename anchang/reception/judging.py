"""判客: who is this visitor, and who receives them (product.md §2).

A pure function over a snapshot of the facts, so every rule can be tested without a database and
the snapshot can be stored verbatim in the attribution record. The order of the rules is the
product's: owner visit (contract) → protected owner → valid channel report → named consultant →
rotation. The first rule that applies wins.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from anchang.customers.models import AttributionRule
from anchang.reception.models import QueueState, VisitKind

R = AttributionRule


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class JudgingInputs:
    phone: str
    now: datetime
    rule_set_version: int
    customer_id: int | None = None
    has_visited: bool = False
    is_company_owner: bool = False
    owner: Person | None = None
    owner_active: bool = False
    protected_until: datetime | None = None
    channel_report_id: int | None = None
    channel_consultant: Person | None = None
    designated: Person | None = None
    on_duty: tuple[int, ...] = ()
    # Today's queue as it stood when the decision was taken, kept in the attribution record.
    queue: tuple[dict[str, object], ...] = ()
    designated_consumes_turn: bool = False

    def as_record(self) -> dict[str, Any]:
        # Field by field, not dataclasses.asdict: that deep-copies every value one by one (the queue's
        # rows key by key) and cost more CPU than judging itself on each check-in. Every value here
        # is plain (ints, strings, Person, the queue's flat dicts), so this is the same record.
        record = {item.name: getattr(self, item.name) for item in fields(self)}
        for name in ("owner", "channel_consultant", "designated"):
            person = record[name]
            record[name] = {"id": person.id, "name": person.name} if person else None
        record["now"] = self.now.isoformat()
        record["protected_until"] = self.protected_until.isoformat() if self.protected_until else None
        record["on_duty"] = list(self.on_duty)
        record["queue"] = [dict(row) for row in self.queue]
        return record


@dataclass(frozen=True)
class Decision:
    visit_kind: str
    rule: str
    explanation: str
    consultant: Person | None = None
    from_rotation: bool = False
    consumes_turn: bool = True
    covering_for: Person | None = None
    # The receiver (or the one a colleague covers for) becomes the customer's owner (first visit, or a
    # customer from the public pool).
    takes_ownership: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def visit_kind_label(self) -> str:
        return str(VisitKind(self.visit_kind).label)


def _join(first: str, second: str) -> str:
    # Chinese sentences follow each other without a space; the English catalogue adds one.
    return _("%(first)s%(second)s") % {"first": first, "second": second} if second else first


def _busy_state(facts: JudgingInputs, person: Person) -> str | None:
    """暂离 or 接待中 in the queue snapshot: on duty, but not free to receive this visitor now."""
    for row in facts.queue:
        if row["consultant_id"] == person.id and row["state"] in (QueueState.AWAY, QueueState.RECEIVING):
            return str(row["state"])
    return None


def _why_not_free(facts: JudgingInputs, person: Person) -> str:
    state = _busy_state(facts, person)
    if state == QueueState.AWAY:
        return _("暂时离开")
    if state == QueueState.RECEIVING:
        return _("正在接待其他客户")
    return _("不在岗")


def judge(facts: JudgingInputs) -> Decision:
    kind = VisitKind.FIRST if not facts.has_visited else VisitKind.RETURN
    fixed_consumes = facts.designated_consumes_turn
    protected = (
        facts.owner is not None
        and facts.owner_active
        and facts.protected_until is not None
        and facts.protected_until > facts.now
    )
    notes = []
    if facts.designated and protected and facts.owner and facts.designated.id != facts.owner.id:
        notes.append(
            _("客户指定了 %(named)s，但其在 %(owner)s 的保护期内，仍由归属顾问接待。")
            % {"named": facts.designated.name, "owner": facts.owner.name}
        )

    if facts.is_company_owner:
        if facts.owner and facts.owner_active and facts.owner.id in facts.on_duty:
            return Decision(
                VisitKind.OWNER,
                R.OWNER_VISIT,
                _("业主到访：由原置业顾问 %(name)s 接待，不占用轮次。") % {"name": facts.owner.name},
                consultant=facts.owner,
                consumes_turn=False,
                notes=tuple(notes),
            )
        return Decision(
            VisitKind.OWNER,
            R.OWNER_VISIT,
            _("业主到访：原顾问不在岗或已离职，由轮排顾问接待，不占用轮次。"),
            from_rotation=True,
            consumes_turn=False,
            notes=tuple(notes),
        )

    if protected and facts.owner:
        until = facts.protected_until.strftime("%Y-%m-%d") if facts.protected_until else ""
        if facts.owner.id in facts.on_duty and _busy_state(facts, facts.owner) is None:
            return Decision(
                kind,
                R.OWNER,
                _("老客户，归属 %(name)s，保护期至 %(until)s，由归属顾问接待。")
                % {"name": facts.owner.name, "until": until},
                consultant=facts.owner,
                consumes_turn=fixed_consumes,
                notes=tuple(notes),
            )
        return Decision(
            kind,
            R.COVERING_FOR_OWNER,
            _(
                "老客户，归属 %(name)s（保护期至 %(until)s）但其%(why)s："
                "由轮排顾问代接待，归属不变，已通知 %(name)s，到场后可一键接手。"
            )
            % {"name": facts.owner.name, "until": until, "why": _why_not_free(facts, facts.owner)},
            from_rotation=True,
            consumes_turn=fixed_consumes,
            covering_for=facts.owner,
            notes=tuple(notes),
        )

    if facts.channel_report_id is not None:
        if facts.channel_consultant and facts.channel_consultant.id in facts.on_duty:
            return Decision(
                VisitKind.FIRST,
                R.CHANNEL,
                _("渠道报备客户，报备指定 %(name)s 接待。") % {"name": facts.channel_consultant.name},
                consultant=facts.channel_consultant,
                consumes_turn=fixed_consumes,
                takes_ownership=True,
            )
        return Decision(
            VisitKind.FIRST,
            R.CHANNEL,
            _("渠道报备客户（带看），由轮排下一位顾问接待。"),
            from_rotation=True,
            takes_ownership=True,
        )

    pool_note = (
        _("客户保护期已过（公客），接待人将成为新的归属顾问。") if facts.owner and facts.has_visited else ""
    )
    if facts.designated:
        busy = _busy_state(facts, facts.designated)
        if facts.designated.id in facts.on_duty and busy is not None:
            # The named consultant is here but busy: a colleague stands in until they take over, and
            # the customer is theirs from the start (the colleague's stand-in moves no ownership).
            text = _(
                "客户指定 %(name)s，但其%(why)s：由轮排顾问代接待，已通知 %(name)s，到场后可一键接手。"
            ) % {"name": facts.designated.name, "why": _why_not_free(facts, facts.designated)}
            return Decision(
                kind,
                R.COVERING_FOR_OWNER,
                _join(text, pool_note),
                from_rotation=True,
                consumes_turn=fixed_consumes,
                covering_for=facts.designated,
                takes_ownership=True,
                notes=tuple(notes),
            )
        if facts.designated.id in facts.on_duty:
            text = _("客户指定 %(name)s 接待。") % {"name": facts.designated.name}
            return Decision(
                kind,
                R.DESIGNATED,
                _join(text, pool_note),
                consultant=facts.designated,
                consumes_turn=fixed_consumes,
                takes_ownership=True,
            )
        notes.append(_("客户指定的 %(name)s 不在岗，改由轮排接待。") % {"name": facts.designated.name})

    if kind == VisitKind.FIRST:
        text = _("首次到访，由轮排下一位顾问接待，接待人成为归属顾问。")
    else:
        text = pool_note or _("复访客户，无有效归属，由轮排下一位顾问接待。")
    return Decision(kind, R.ROTATION, text, from_rotation=True, takes_ownership=True, notes=tuple(notes))
