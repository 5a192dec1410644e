"""Printed documents as PDF with Chinese text (product.md §8, ui.md "Printed documents").

A document is a Django template under `deals/pdf/` rendered to HTML and laid out by WeasyPrint on A4,
with the CJK fonts of Debian's `fonts-noto-cjk` named by family ("Noto Sans CJK SC", "Noto Serif CJK
SC") and embedded as subsets, so the file opens with readable Chinese on any machine.

Who may print what follows who may see it on screen: `customers.selectors.customer_visible_to`, plus
the consultant who received the visit or made the sale. A document carries personal data, so each
download is an export: one access-log row, written after the PDF exists and before it is handed out
(quality P2/P8). Phones are full only for the customer's owner, as on screen (`phone_visible_to`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_visible_to
from anchang.core.audit import AccessAction, access_log_write
from anchang.core.formatting import layout, square_metres
from anchang.core.money import rmb_upper
from anchang.core.phones import national_digits
from anchang.core.privacy import mask_phone, public_name
from anchang.customers.models import Customer, Gender, IntentLevel, Needs, Purpose, Source
from anchang.customers.needs import plain_number, wan_plain
from anchang.customers.pool import phone_visible_to
from anchang.customers.selectors import customer_visible_to
from anchang.deals.models import Subscription, SubscriptionStatus
from anchang.inventory.models import Orientation, Project
from anchang.reception.models import Visit, VisitKind

PDF_CONTENT_TYPE = "application/pdf"
# Roles that register visitors or receive them may print a blank registration form for the desk.
BLANK_FORM_ROLES = (Role.FRONTDESK, Role.MANAGER, Role.CONSULTANT)
_FILENAME_UNSAFE = str.maketrans({c: "" for c in "/\\\"'<>:|?*\r\n\t"})


@dataclass(frozen=True)
class Document:
    pdf: bytes
    filename: str

    @property
    def content_disposition(self) -> str:
        """`inline` so the browser shows it; RFC 5987 for the Chinese name (认购书-….pdf)."""
        return f"inline; filename*=UTF-8''{quote(self.filename, safe='')}"


class _NoFetching(URLFetcher):
    """Documents are self-contained: no stylesheet, image or font is ever fetched by URL, so that
    text a user typed (a name, a note) can never make the server open a file or a network address."""

    def fetch(self, url: str, headers: object = None) -> Any:
        raise ValueError(f"external resources are disabled in documents: {url[:80]}")


def render_pdf(template_name: str, context: dict[str, object]) -> bytes:
    html = render_to_string(template_name, context)
    return bytes(HTML(string=html, url_fetcher=_NoFetching()).write_pdf())


def _safe_filename(text: str) -> str:
    return "".join(text.translate(_FILENAME_UNSAFE).split())[:80]


def _common(viewer: User, project: Project, number: str) -> dict[str, object]:
    return {
        "project": project,
        "company": project.company,
        "project_address": project.full_address,
        "number": number,
        "printed_by": viewer.display_name,
        "printed_at": timezone.localtime(timezone.now()),
    }


@dataclass(frozen=True)
class Person:
    """A customer as the viewer may see them on paper."""

    name: str
    phone: str
    full_phone: bool


def _person(customer: Customer, viewer: User, *, sees_customer: bool) -> Person:
    """The full name for whoever may open the customer (else 王先生), the full mobile only for the
    owner consultant, as on screen (ui.md: phones masked unless the viewer may see them)."""
    full_phone = phone_visible_to(user=viewer, customer=customer)
    return Person(
        name=(customer.name or "") if sees_customer else public_name(customer.name, customer.gender),
        phone=national_digits(customer.phone) if full_phone else mask_phone(customer.phone),
        full_phone=full_phone,
    )


# --- who may print ---------------------------------------------------------------------------------


def _printed_person(
    *, viewer: User, obj: Subscription | Visit, handled_by: tuple[int | None, ...]
) -> Person | None:
    """The customer of `obj` as `viewer` sees them on paper, or None when they may not print it (a
    404): whoever may see the customer, and the consultant who handled it (`handled_by`) while they
    still work on the project, who sees the public name only."""
    if not viewer.is_active:
        return None
    if customer_visible_to(user=viewer, customer_id=obj.customer_id) is not None:
        return _person(obj.customer, viewer, sees_customer=True)
    handled = viewer.role == Role.CONSULTANT and viewer.pk in handled_by
    if handled and project_visible_to(user=viewer, project_id=obj.project_id) is not None:
        return _person(obj.customer, viewer, sees_customer=False)
    return None


def _exported_pdf(
    template_name: str,
    context: dict[str, object],
    *,
    viewer: User,
    obj: Subscription | Visit,
    document: str,
    title: str,
    person: Person,
    ip: str | None,
) -> bytes:
    """A document with personal data, and its one access-log row. The row is written once the PDF
    exists (a failed rendering hands nothing out), and a failed write fails the request: no document
    leaves without its row."""
    pdf = render_pdf(template_name, context)
    access_log_write(
        user=viewer,
        action=AccessAction.EXPORT,
        obj=obj,
        reason=_("打印%(document)s") % {"document": title},
        ip=ip,
        data={
            "document": document,
            "customer_id": obj.customer_id,
            "phone": "full" if person.full_phone else "masked",
        },
    )
    return pdf


# --- 认购书 -----------------------------------------------------------------------------------------


def letter_number(subscription: Subscription) -> str:
    return f"RG{subscription.pk:06d}"


def _percent(share: Decimal) -> str:
    return f"{share * 100:.2f}%"


def subscription_letter_context(
    *, subscription: Subscription, viewer: User, buyer: Person
) -> dict[str, object]:
    unit = subscription.unit
    price, deposit, list_price = subscription.price, subscription.deposit, subscription.list_price
    discount_amount = list_price - price if list_price > price else Decimal(0)
    status = subscription.status
    return {
        **_common(viewer, subscription.project, letter_number(subscription)),
        "subscription": subscription,
        "unit": unit,
        "unit_layout": layout(unit.bedrooms, unit.halls, unit.bathrooms),
        "unit_gross_area": square_metres(unit.gross_area),
        "unit_usable_area": square_metres(unit.usable_area),
        "buyer": buyer,
        "consultant_name": subscription.consultant.display_name if subscription.consultant else "",
        "list_price_per_m2": list_price / unit.gross_area,
        "price_per_m2": price / unit.gross_area,
        "price_upper": rmb_upper(price),
        "deposit_upper": rmb_upper(deposit),
        "balance": price - deposit,
        "balance_upper": rmb_upper(price - deposit),
        "discount_amount": discount_amount,
        "discount_percent": _percent(subscription.discount) if discount_amount else "",
        "is_cancelled": status == SubscriptionStatus.CANCELLED,
        "is_rejected": status == SubscriptionStatus.REJECTED,
        "is_pending": status == SubscriptionStatus.PENDING_APPROVAL,
        "is_contracted": status == SubscriptionStatus.CONTRACTED,
    }


def subscription_letter_pdf(*, viewer: User, subscription_id: int, ip: str | None = None) -> Document | None:
    """The 认购书 of one subscription, logged as an export of the buyer's data; None (a 404) for
    whoever may not print it: the people who may see the customer, and the consultant who made the
    sale while they still work on the project."""
    subscription = (
        Subscription.objects.select_related("project__company", "unit__building", "customer", "consultant")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        return None
    buyer = _printed_person(viewer=viewer, obj=subscription, handled_by=(subscription.consultant_id,))
    if buyer is None:
        return None
    pdf = _exported_pdf(
        "deals/pdf/subscription_letter.html",
        subscription_letter_context(subscription=subscription, viewer=viewer, buyer=buyer),
        viewer=viewer,
        obj=subscription,
        document="subscription_letter",
        title=_("认购书"),
        person=buyer,
        ip=ip,
    )
    unit = subscription.unit
    name = _("认购书-%(unit)s-%(number)s.pdf") % {
        "unit": _safe_filename(f"{unit.building.name}{unit.number}"),
        "number": letter_number(subscription),
    }
    return Document(pdf=pdf, filename=name)


# --- 来访登记表 --------------------------------------------------------------------------------------


def registration_number(visit: Visit) -> str:
    return f"LF{visit.pk:06d}"


@dataclass(frozen=True)
class Choice:
    label: str
    checked: bool


def _choices(options: Iterable[tuple[str, object]], selected: str) -> list[Choice]:
    """Every option of a paper form with the recorded one ticked (□ 男 ☑ 女)."""
    return [Choice(label=str(label), checked=value == selected) for value, label in options]


# A paper form asks "first or return visit"; an owner visit is printed as what it is instead.
_PAPER_VISIT_KINDS = (
    (VisitKind.FIRST.value, VisitKind.FIRST.label),
    (VisitKind.RETURN.value, VisitKind.RETURN.label),
)


def _range(low: object, high: object, show: Callable[[Any], str]) -> str:
    if low is not None and high is not None:
        return _("%(low)s – %(high)s") % {"low": show(low), "high": show(high)}
    if low is not None:
        return _("%(value)s以上") % {"value": show(low)}
    return _("%(value)s以内") % {"value": show(high)}


def _needs_rows(needs: Needs | None) -> list[tuple[str, str]]:
    """The recorded needs as (label, value) rows, in the order of the needs form; free text in full."""
    if needs is None:
        return []
    n = needs
    candidates: list[tuple[str, bool, Callable[[], str]]] = [
        (_("置业目的"), bool(n.purpose), lambda: str(Purpose(n.purpose).label)),
        (
            _("总价预算"),
            n.budget_min is not None or n.budget_max is not None,
            lambda: _range(n.budget_min, n.budget_max, wan_plain),
        ),
        (_("首付"), n.down_payment is not None, lambda: wan_plain(n.down_payment or Decimal(0))),
        (_("居室"), n.bedrooms is not None, lambda: _("%(n)d室") % {"n": n.bedrooms}),
        (
            _("面积"),
            n.area_min is not None or n.area_max is not None,
            lambda: _range(n.area_min, n.area_max, lambda v: f"{plain_number(v)}㎡"),
        ),
        (
            _("楼层"),
            n.floor_min is not None or n.floor_max is not None,
            lambda: _range(n.floor_min, n.floor_max, lambda v: _("%(n)d层") % {"n": v}),
        ),
        (_("朝向"), bool(n.orientation), lambda: str(Orientation(n.orientation).label)),
        (_("意向楼栋"), bool(n.buildings), lambda: "、".join(str(b) for b in n.buildings)),
        (_("决策人"), bool(n.decision_makers), lambda: n.decision_makers),
        (_("抗性/顾虑"), bool(n.concerns), lambda: n.concerns),
        (_("现居住区域"), bool(n.residence), lambda: n.residence),
        (_("工作区域"), bool(n.workplace_area), lambda: n.workplace_area),
    ]
    return [(label, show()) for label, present, show in candidates if present]


def _registration_options() -> dict[str, object]:
    return {
        "purpose_options": Purpose.choices,
        "orientation_options": Orientation.choices,
        "intent_options": IntentLevel.choices,
    }


def visit_registration_context(*, visit: Visit, viewer: User, visitor: Person) -> dict[str, object]:
    customer = visit.customer
    try:
        needs: Needs | None = customer.needs
    except Needs.DoesNotExist:
        needs = None
    return {
        **_common(viewer, visit.project, registration_number(visit)),
        "visit": visit,
        "blank": False,
        "checked_in_at": timezone.localtime(visit.checked_in_at),
        "visitor": visitor,
        "gender_choices": _choices(Gender.choices, customer.gender),
        "kind_choices": _choices(_PAPER_VISIT_KINDS, visit.kind),
        "is_owner_visit": visit.kind == VisitKind.OWNER,
        "source_choices": _choices(Source.choices, customer.source),
        "consultant_name": visit.consultant.display_name if visit.consultant else "",
        "covering_for_name": visit.covering_for.display_name if visit.covering_for else "",
        "needs_rows": _needs_rows(needs),
        "intent": customer.get_intent_level_display() if customer.intent_level else "",
        "consent_at": timezone.localtime(customer.consent_at) if customer.consent_at else None,
        "registered_by_name": visit.registered_by.display_name if visit.registered_by else "",
        **_registration_options(),
    }


def visit_registration_pdf(*, viewer: User, visit_id: int, ip: str | None = None) -> Document | None:
    """The 来访登记表 of one visit, prefilled, logged as an export of the visitor's data; None (a 404)
    for whoever may not print it: who may see the customer, and the consultant who received the visit
    (or was covered for), as on the visit page."""
    visit = (
        Visit.objects.select_related(
            "project__company", "customer", "customer__needs", "consultant", "covering_for", "registered_by"
        )
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        return None
    visitor = _printed_person(
        viewer=viewer, obj=visit, handled_by=(visit.consultant_id, visit.covering_for_id)
    )
    if visitor is None:
        return None
    pdf = _exported_pdf(
        "deals/pdf/visit_registration.html",
        visit_registration_context(visit=visit, viewer=viewer, visitor=visitor),
        viewer=viewer,
        obj=visit,
        document="visit_registration_form",
        title=_("来访登记表"),
        person=visitor,
        ip=ip,
    )
    name = _("来访登记表-%(day)s-%(number)s.pdf") % {
        "day": f"{timezone.localtime(visit.checked_in_at):%Y%m%d}",
        "number": registration_number(visit),
    }
    return Document(pdf=pdf, filename=name)


def blank_registration_pdf(*, viewer: User, project_id: int) -> Document | None:
    """A blank 来访登记表 of a project for visitors to fill in by hand; no personal data, no log. None
    (a 404) unless the viewer registers or receives visitors on the project."""
    if not viewer.is_active or not (viewer.sees_all_projects or viewer.role in BLANK_FORM_ROLES):
        return None
    project = project_visible_to(user=viewer, project_id=project_id)
    if project is None:
        return None
    context = {
        **_common(viewer, project, ""),
        "blank": True,
        "gender_choices": _choices(Gender.choices, ""),
        "kind_choices": _choices(_PAPER_VISIT_KINDS, ""),
        "source_choices": _choices(Source.choices, ""),
        **_registration_options(),
    }
    pdf = render_pdf("deals/pdf/visit_registration.html", context)
    name = _("来访登记表-%(project)s.pdf") % {"project": _safe_filename(project.name)}
    return Document(pdf=pdf, filename=name)
