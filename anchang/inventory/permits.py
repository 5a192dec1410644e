"""The project's certificates (五证) and what a presale permit allows: selectors and services.

Rule (the law behind the risk-disclosure wall): a unit may be sold only while a presale permit
(预售许可证) covers its building. A permit covers its buildings from `valid_from` to `valid_until`
(inclusive, local dates; no end date means it does not expire). The other four certificates are shown
to customers but do not gate sales.
"""

from dataclasses import dataclass
from datetime import date
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.core.errors import Conflict, Forbidden, InvalidInput
from anchang.inventory.models import Building, Certificate, CertificateKind, Project, Unit

NUMBER_MAX_LENGTH = cast(int, Certificate._meta.get_field("number").max_length)
AUTHORITY_MAX_LENGTH = cast(int, Certificate._meta.get_field("authority").max_length)


# --- selectors -------------------------------------------------------------------------------------


def _valid_on(day: date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))


def presale_permits_valid_on(day: date) -> QuerySet[Certificate]:
    return Certificate.objects.filter(_valid_on(day), kind=CertificateKind.PRESALE)


def building_permitted_expression(day: date | None = None, *, building_ref: str = "pk") -> Exists:
    """`Exists(...)` for annotating or filtering buildings (or units, with `building_ref="building_id"`)
    by "a presale permit covers it on `day`", so that a list needs no extra query."""
    day = day or timezone.localdate()
    return Exists(presale_permits_valid_on(day).filter(buildings=OuterRef(building_ref)))


def building_is_permitted(*, building_id: int, day: date | None = None) -> bool:
    return presale_permits_valid_on(day or timezone.localdate()).filter(buildings=building_id).exists()


def unit_not_permitted_reason(*, unit: Unit, day: date | None = None) -> str | None:
    """Why the unit may not be sold on `day` (its building has no valid presale permit), or None."""
    day = day or timezone.localdate()
    if building_is_permitted(building_id=unit.building_id, day=day):
        return None
    return _("房源 %(unit)s 所在的%(building)s还没有有效的预售许可证，暂不能认购。") % {
        "unit": unit.label,
        "building": unit.building.name,
    }


def certificate_list_for(*, project: Project) -> list[Certificate]:
    """The project's certificates, presale permits first, with their buildings. Two queries."""
    order = [kind.value for kind in CertificateKind]
    certificates = list(
        Certificate.objects.filter(project=project).prefetch_related("buildings").order_by("valid_from", "pk")
    )
    certificates.sort(key=lambda c: order.index(c.kind))
    return certificates


@dataclass(frozen=True)
class CertificateRow:
    """A certificate as the wall and the pages show it: scope in words and whether it is valid today."""

    certificate: Certificate
    scope: str
    valid_today: bool


def certificate_rows(*, project: Project, day: date | None = None) -> list[CertificateRow]:
    day = day or timezone.localdate()
    rows = []
    for certificate in certificate_list_for(project=project):
        if certificate.kind == CertificateKind.PRESALE:
            names = [
                b.name for b in sorted(certificate.buildings.all(), key=lambda b: (b.sort_order, b.name))
            ]
            scope = "、".join(names) if names else _("未指定楼栋")
        else:
            scope = _("全项目")
        rows.append(
            CertificateRow(certificate=certificate, scope=scope, valid_today=certificate.is_valid_on(day))
        )
    return rows


# --- services --------------------------------------------------------------------------------------


def may_manage_certificates(user: User) -> bool:
    return user.is_authenticated and user.is_site_manager


@transaction.atomic
def certificate_create(
    *,
    project: Project,
    kind: str,
    number: str,
    valid_from: date,
    by: User,
    authority: str = "",
    valid_until: date | None = None,
    building_ids: list[int] | None = None,
) -> Certificate:
    """Register one of the project's certificates; only the site manager (or an admin) may.

    A presale permit must name at least one building of the project; the other kinds cover the whole
    project and take no buildings. Bad input is refused field by field and nothing is written.
    """
    if not may_manage_certificates(by):
        raise Forbidden(_("只有案场经理可以登记五证。"))
    errors: dict[str, str] = {}
    if kind not in CertificateKind.values:
        errors["kind"] = _("请选择证照类型。")
    number = (number or "").strip()
    if not number:
        errors["number"] = _("请填写证号。")
    elif len(number) > NUMBER_MAX_LENGTH or "\x00" in number:
        errors["number"] = _("证号最多 %(n)s 个字。") % {"n": NUMBER_MAX_LENGTH}
    authority = (authority or "").strip()
    if len(authority) > AUTHORITY_MAX_LENGTH or "\x00" in authority:
        errors["authority"] = _("发证机关最多 %(n)s 个字。") % {"n": AUTHORITY_MAX_LENGTH}
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = _("有效期至不能早于生效日期。")
    ids = sorted(set(building_ids or []))
    buildings = list(Building.objects.filter(project=project, pk__in=ids)) if ids else []
    if kind == CertificateKind.PRESALE:
        if not ids:
            errors["building_ids"] = _("预售许可证须注明覆盖的楼栋。")
        elif len(buildings) != len(ids):
            errors["building_ids"] = _("所选楼栋不属于本项目。")
    elif ids and kind in CertificateKind.values:
        errors["building_ids"] = _("只有预售许可证按楼栋登记，其他证照覆盖全项目。")
    if errors:
        raise InvalidInput(fields=errors)
    try:
        # The unique index decides between two managers registering the same number at once.
        with transaction.atomic():
            certificate = Certificate.objects.create(
                project=project,
                kind=kind,
                number=number,
                authority=authority,
                valid_from=valid_from,
                valid_until=valid_until,
                created_by=by,
            )
    except IntegrityError as error:
        raise Conflict(
            _("本项目已登记过证号为“%(n)s”的同类证照。") % {"n": number}, code="certificate_exists"
        ) from error
    if buildings:
        certificate.buildings.set(buildings)
    return certificate
