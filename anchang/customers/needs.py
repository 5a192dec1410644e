"""The customer's needs profile and intent level (product.md §6): who may change them, validation,
the writes, and the reads that the visit page and the API show.

Needs are kept on the customer (one `Needs` row, history by simple_history) and mostly recorded during a
visit. Visits belong to reception, which builds on this archive: what a visit adds (who is receiving the
customer, which visit a change was made in) is handed in by reception's `reception.needs`, never looked
up from here. Every write that changes something leaves one timeline event summarising the change
("预算 300–350万 · 3室 · 南北通透"); a write that changes nothing leaves no trace.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.errors import InvalidInput, NotFound
from anchang.customers.models import Customer, EventKind, IntentLevel, Needs, Purpose
from anchang.customers.services import customer_record_event
from anchang.inventory.models import Building, Orientation

MONEY_FIELDS = ("budget_min", "budget_max", "down_payment")
AREA_FIELDS = ("area_min", "area_max")
FLOOR_FIELDS = ("floor_min", "floor_max")
# The column sizes of `Needs`: longer text would be cut by PostgreSQL's varchar check, i.e. a 500.
TEXT_LIMITS = {"decision_makers": 100, "concerns": 300, "residence": 100, "workplace_area": 100}
NEEDS_FIELDS = (
    "purpose",
    "budget_min",
    "budget_max",
    "down_payment",
    "bedrooms",
    "area_min",
    "area_max",
    "floor_min",
    "floor_max",
    "orientation",
    "buildings",
    *TEXT_LIMITS,
)

# `max_digits=14, decimal_places=2` for money and `8, 2` for areas in the model.
MAX_MONEY = Decimal("999999999999.99")
MAX_AREA = Decimal("999999.99")
# The same bounds as `Unit.floor`: a wish outside them can match no unit.
FLOOR_LOWEST, FLOOR_HIGHEST = -5, 120
BEDROOMS_FEWEST, BEDROOMS_MOST = 1, 9
MAX_BUILDINGS = 30
# Summaries quote free text; a long 抗性 note would crowd everything else out of the 300-char event.
SUMMARY_TEXT_CHARS = 20

DESK_ROLES = (Role.FRONTDESK, Role.MANAGER)

FIELD_LABELS = {
    "purpose": gettext_lazy("置业目的"),
    "budget_min": gettext_lazy("预算下限"),
    "budget_max": gettext_lazy("预算上限"),
    "down_payment": gettext_lazy("首付"),
    "bedrooms": gettext_lazy("居室"),
    "area_min": gettext_lazy("面积下限"),
    "area_max": gettext_lazy("面积上限"),
    "floor_min": gettext_lazy("最低楼层"),
    "floor_max": gettext_lazy("最高楼层"),
    "orientation": gettext_lazy("朝向"),
    "buildings": gettext_lazy("意向楼栋"),
    "decision_makers": gettext_lazy("决策人"),
    "concerns": gettext_lazy("抗性"),
    "residence": gettext_lazy("现居住区域"),
    "workplace_area": gettext_lazy("工作区域"),
    "intent_level": gettext_lazy("意向等级"),
}

_TEN_THOUSAND = Decimal(10000)
_CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# Formatting shared with recommendations: prose money in 万 without trailing zeros ("312.5万").


def plain_number(value: Decimal) -> str:
    """`Decimal("300.00")` → `300`, `Decimal("98.50")` → `98.5` (never `3E+2`)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def wan_plain(value: Decimal) -> str:
    """3125000 → `312.5万`; 3000000 → `300万`: money inside sentences (reasons, timeline)."""
    return f"{plain_number((value / _TEN_THOUSAND).quantize(_CENT, ROUND_HALF_UP))}万"


# ---------------------------------------------------------------------------------------------
# Who may see and change a customer's needs.


def needs_may_edit(*, user: User, customer: Customer, attending: Collection[int | None] = ()) -> bool:
    """The customer's owner, the project's desk and managers, or a consultant in `attending` (the ids of
    whoever receives the customer in a visit right now: its consultant and the one covering for the
    owner). Everyone else must not even learn that the customer exists."""
    if not user.is_authenticated or not user.is_active:
        return False
    if project_visible_to(user=user, project_id=customer.project_id) is None:
        return False
    if user.sees_all_projects or user.role in DESK_ROLES:
        return True
    if user.role != Role.CONSULTANT:
        return False
    if customer.owner_id == user.pk:
        return True
    return user.pk in attending


def needs_of(customer: Customer) -> Needs | None:
    """The customer's needs row, using (and filling) the instance cache of `customer.needs`."""
    try:
        return customer.needs
    except Needs.DoesNotExist:
        return None


# ---------------------------------------------------------------------------------------------
# Validation: each cleaner returns the stored value or raises ValueError with the Chinese message.


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(_("请输入数字。"))
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(_("请输入数字。")) from None
    if not number.is_finite():
        raise ValueError(_("请输入数字。"))
    return number


def _clean_money(value: object) -> Decimal | None:
    if _is_blank(value):
        return None
    amount = _number(value)
    if amount < 0:
        raise ValueError(_("金额不能为负数。"))
    if amount > MAX_MONEY:
        raise ValueError(_("金额过大，请检查是否多输了位数。"))
    return amount.quantize(_CENT, ROUND_HALF_UP)


def _clean_area(value: object) -> Decimal | None:
    if _is_blank(value):
        return None
    area = _number(value)
    if area < 0:
        raise ValueError(_("面积不能为负数。"))
    if area > MAX_AREA:
        raise ValueError(_("面积过大，请以平方米填写。"))
    return area.quantize(_CENT, ROUND_HALF_UP)


def _whole(value: object, message: str) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise ValueError(message)
    return int(number)


def _clean_floor(value: object) -> int | None:
    if _is_blank(value):
        return None
    message = _("楼层应为 %(low)d 到 %(high)d 之间的整数。") % {"low": FLOOR_LOWEST, "high": FLOOR_HIGHEST}
    floor = _whole(value, message)
    if not FLOOR_LOWEST <= floor <= FLOOR_HIGHEST:
        raise ValueError(message)
    return floor


def _clean_bedrooms(value: object) -> int | None:
    if _is_blank(value):
        return None
    message = _("居室应为 %(low)d–%(high)d 之间的整数。") % {"low": BEDROOMS_FEWEST, "high": BEDROOMS_MOST}
    bedrooms = _whole(value, message)
    if not BEDROOMS_FEWEST <= bedrooms <= BEDROOMS_MOST:
        raise ValueError(message)
    return bedrooms


def _clean_choice(value: object, values: list[str], message: str) -> str:
    if _is_blank(value):
        return ""
    if not isinstance(value, str) or value.strip() not in values:
        raise ValueError(message)
    return value.strip()


def _clean_text(value: object, field: str) -> str:
    if _is_blank(value):
        return ""
    if not isinstance(value, str):
        raise ValueError(_("请输入文字。"))
    text = value.strip()
    # PostgreSQL text cannot hold NUL: without this check such input is a 500, not a 400.
    if "\x00" in text:
        raise ValueError(_("内容含有无法保存的字符。"))
    if len(text) > TEXT_LIMITS[field]:
        raise ValueError(
            _("%(label)s最多 %(n)d 个字。") % {"label": FIELD_LABELS[field], "n": TEXT_LIMITS[field]}
        )
    return text


def _clean_building_names(value: object) -> list[str]:
    if _is_blank(value):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(name, str) for name in value):
        raise ValueError(_('意向楼栋应为楼栋名称的列表，如 ["1栋", "2栋"]。'))
    names = list(dict.fromkeys(name.strip() for name in value if name.strip()))
    if len(names) > MAX_BUILDINGS:
        raise ValueError(_("意向楼栋最多选 %(n)d 个。") % {"n": MAX_BUILDINGS})
    return names


def _clean_intent(value: object) -> str:
    if not isinstance(value, str) or value.strip().upper() not in IntentLevel.values:
        raise ValueError(_("意向等级只能是 A、B、C、D 之一。"))
    return value.strip().upper()


_RANGES = (
    (
        "budget_min",
        "budget_max",
        gettext_lazy("预算下限不能高于上限。"),
        gettext_lazy("预算上限不能低于下限。"),
    ),
    ("area_min", "area_max", gettext_lazy("面积下限不能大于上限。"), gettext_lazy("面积上限不能小于下限。")),
    (
        "floor_min",
        "floor_max",
        gettext_lazy("最低楼层不能高于最高楼层。"),
        gettext_lazy("最高楼层不能低于最低楼层。"),
    ),
)


def _current_values(needs: Needs | None) -> dict[str, Any]:
    if needs is None:
        return {field: [] if field == "buildings" else None for field in NEEDS_FIELDS} | {
            field: "" for field in ("purpose", "orientation", *TEXT_LIMITS)
        }
    return {field: getattr(needs, field) for field in NEEDS_FIELDS}


def _clean_needs(
    given: Mapping[str, object], *, current: dict[str, Any], project_id: int, errors: dict[str, str]
) -> dict[str, Any]:
    """The given fields as they would be stored; problems go to `errors`, keyed by field name."""
    cleaned: dict[str, Any] = {}
    for field, value in given.items():
        try:
            if field in MONEY_FIELDS:
                cleaned[field] = _clean_money(value)
            elif field in AREA_FIELDS:
                cleaned[field] = _clean_area(value)
            elif field in FLOOR_FIELDS:
                cleaned[field] = _clean_floor(value)
            elif field == "bedrooms":
                cleaned[field] = _clean_bedrooms(value)
            elif field == "orientation":
                cleaned[field] = _clean_choice(
                    value,
                    Orientation.values,
                    _("请选择有效的朝向：%(codes)s。")
                    % {"codes": "、".join(f"{o.value}（{o.label}）" for o in Orientation)},
                )
            elif field == "purpose":
                cleaned[field] = _clean_choice(
                    value,
                    Purpose.values,
                    _("请选择有效的置业目的：%(labels)s。")
                    % {"labels": "、".join(str(p.label) for p in Purpose)},
                )
            elif field == "buildings":
                cleaned[field] = _clean_building_names(value)
            elif field in TEXT_LIMITS:
                cleaned[field] = _clean_text(value, field)
            else:
                errors[field] = _("不是可以填写的需求项。")
        except ValueError as problem:
            errors[field] = str(problem)

    names = cleaned.get("buildings") or []
    if names:
        known = set(
            Building.objects.filter(project_id=project_id, name__in=names).values_list("name", flat=True)
        )
        unknown = [name for name in names if name not in known]
        if unknown:
            errors["buildings"] = _("本项目没有这些楼栋：%(names)s。请从项目的楼栋中选择。") % {
                "names": "、".join(unknown)
            }

    merged = current | cleaned
    for low, high, low_message, high_message in _RANGES:
        if low in errors or high in errors:
            continue
        if merged[low] is not None and merged[high] is not None and merged[low] > merged[high]:
            # Name the field the caller just sent: changing only the lower bound above the stored
            # upper bound is a mistake in the lower bound.
            if high in cleaned:
                errors[high] = str(high_message)
            else:
                errors[low] = str(low_message)
    return cleaned


# ---------------------------------------------------------------------------------------------
# The summary of a change, for the timeline.


def _range_text(values: dict[str, Any], low_field: str, high_field: str, show: Any, *, below: str) -> str:
    """`300–350万`, `300万以上`, `350万以内` (`below` words the upper bound alone), or `不限`."""
    low, high = values[low_field], values[high_field]
    if low is not None and high is not None:
        return _("%(low)s–%(high)s") % {"low": show(low, unit=False), "high": show(high, unit=True)}
    if low is not None:
        return _("%(value)s以上") % {"value": show(low, unit=True)}
    if high is not None:
        return below % {"value": show(high, unit=True)}
    return _("不限")


def _show_wan(value: Decimal, *, unit: bool) -> str:
    text = wan_plain(value)
    return text if unit else text.removesuffix("万")


def _show_area(value: Decimal, *, unit: bool) -> str:
    return f"{plain_number(value)}㎡" if unit else plain_number(value)


def _show_floor(value: int, *, unit: bool) -> str:
    return _("%(n)d层") % {"n": value} if unit else str(value)


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_TEXT_CHARS else f"{text[:SUMMARY_TEXT_CHARS]}…"


def needs_summary(*, values: dict[str, Any], changed: set[str]) -> list[str]:
    """Short Chinese phrases for the changed parts of a needs profile, in a fixed reading order."""
    parts: list[str] = []
    unlimited = _("不限")
    if "purpose" in changed:
        label = Purpose(values["purpose"]).label if values["purpose"] else _("未填")
        parts.append(_("置业目的 %(value)s") % {"value": label})
    if changed & {"budget_min", "budget_max"}:
        text = _range_text(values, "budget_min", "budget_max", _show_wan, below=_("%(value)s以内"))
        parts.append(_("预算 %(range)s") % {"range": text})
    if "down_payment" in changed:
        value = wan_plain(values["down_payment"]) if values["down_payment"] is not None else _("未填")
        parts.append(_("首付 %(value)s") % {"value": value})
    if "bedrooms" in changed:
        if values["bedrooms"] is not None:
            parts.append(_("%(n)d室") % {"n": values["bedrooms"]})
        else:
            parts.append(_("居室 %(value)s") % {"value": unlimited})
    if changed & {"area_min", "area_max"}:
        text = _range_text(values, "area_min", "area_max", _show_area, below=_("%(value)s以内"))
        parts.append(_("面积 %(range)s") % {"range": text})
    if changed & {"floor_min", "floor_max"}:
        text = _range_text(values, "floor_min", "floor_max", _show_floor, below=_("%(value)s以下"))
        parts.append(_("楼层 %(range)s") % {"range": text})
    if "orientation" in changed:
        if values["orientation"]:
            parts.append(str(Orientation(values["orientation"]).label))
        else:
            parts.append(_("朝向 %(value)s") % {"value": unlimited})
    if "buildings" in changed:
        value = "、".join(values["buildings"]) or unlimited
        parts.append(_("意向楼栋 %(value)s") % {"value": value})
    for field in TEXT_LIMITS:
        if field in changed:
            value = _short(values[field]) if values[field] else _("已清空")
            parts.append(_("%(label)s %(value)s") % {"label": FIELD_LABELS[field], "value": value})
    return parts


def _json(value: object) -> object:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


# ---------------------------------------------------------------------------------------------
# The writes.


@dataclass(frozen=True)
class NeedsChange:
    needs: Needs | None
    intent_level: str
    summary: str
    changed: frozenset[str]


@transaction.atomic
def needs_intent_update(
    *,
    customer: Customer,
    by: User,
    needs: Mapping[str, object] | None = None,
    intent_level: str | None = None,
    attending: Collection[int | None] = (),
    visit_id: int | None = None,
) -> NeedsChange:
    """Change any subset of the needs and/or the intent level, validated together, all or nothing.

    `needs` maps field names to new values (blank or None clears a field; absent fields stay).
    Errors name the needs fields plainly (`budget_min`) and the intent as `intent_level`.
    One timeline event summarises everything that changed; nothing changed → no event.
    `attending` and `visit_id` come from the visit the change is made in (see `needs_may_edit`); the
    timeline event records the visit.
    """
    if not needs_may_edit(user=by, customer=customer, attending=attending):
        raise NotFound()
    # Two people editing the same customer at once: the row lock makes the second wait, then
    # compare against what the first one saved (and never create a second `Needs` row).
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    row = Needs.objects.filter(customer=locked).first()
    current = _current_values(row)

    errors: dict[str, str] = {}
    cleaned = _clean_needs(needs or {}, current=current, project_id=locked.project_id, errors=errors)
    level = None
    if intent_level is not None:
        try:
            level = _clean_intent(intent_level)
        except ValueError as problem:
            errors["intent_level"] = str(problem)
    if errors:
        raise InvalidInput(fields=errors)

    changed = {field for field, value in cleaned.items() if current[field] != value}
    old_level = locked.intent_level
    intent_changed = level is not None and level != locked.intent_level
    parts = needs_summary(values=current | cleaned, changed=changed)
    if intent_changed:
        if old_level:
            parts.append(_("意向等级 %(old)s → %(new)s") % {"old": old_level, "new": level})
        else:
            parts.append(_("意向等级 %(new)s") % {"new": level})
    summary = " · ".join(parts)

    if changed:
        row = row or Needs(customer=locked)
        for field in changed:
            setattr(row, field, cleaned[field])
        row._change_reason = summary[:100]  # type: ignore[attr-defined]
        row.save()
    if intent_changed:
        locked.intent_level = level or ""
        locked._change_reason = summary[:100]  # type: ignore[attr-defined]
        locked.save(update_fields=["intent_level", "updated_at"])
    if changed or intent_changed:
        data: dict[str, object] = {
            "changes": {
                field: {"from": _json(current[field]), "to": _json(cleaned[field])} for field in changed
            },
            "visit_id": visit_id,
        }
        if intent_changed:
            data["intent_level"] = {"from": old_level, "to": level}
        customer_record_event(customer=locked, kind=EventKind.NEEDS, text=summary, by=by, data=data)

    # The caller's instance shows the new state (the visit page renders right after saving).
    customer.intent_level = locked.intent_level
    if row is not None and row.pk is not None:
        customer.needs = row
    return NeedsChange(
        needs=row if row is not None and row.pk is not None else None,
        intent_level=locked.intent_level,
        summary=summary,
        changed=frozenset(changed | ({"intent_level"} if intent_changed else set())),
    )


def needs_update(*, customer: Customer, by: User, **fields: object) -> Needs | None:
    """Change some needs fields outside a visit (see `needs_intent_update`); the needs row, if any."""
    return needs_intent_update(customer=customer, by=by, needs=fields).needs


def intent_set(*, customer: Customer, level: str, by: User) -> Customer:
    """Set the intent level A–D outside a visit (A: likely to subscribe within 7 days … D: no intent)."""
    needs_intent_update(customer=customer, by=by, intent_level=level)
    return customer


# ---------------------------------------------------------------------------------------------
# Reads for the API (`GET /visits/{id}`, `PATCH /visits/{id}` in reception).


def needs_out(needs: Needs | None) -> dict[str, object] | None:
    """Needs as JSON: money and areas as decimal strings in yuan/㎡, blanks as null."""
    if needs is None:
        return None
    out: dict[str, object] = {}
    for field in NEEDS_FIELDS:
        value = getattr(needs, field)
        if isinstance(value, Decimal):
            out[field] = f"{value:.2f}"
        elif field == "buildings":
            out[field] = list(value or [])
        else:
            out[field] = value if value != "" else None
    return out
