"""Demo steps: the projects' certificates (五证) and the buyers' risk disclosures.

`load_permits` registers the five certificates of each demo project; its presale permits cover every
building (the high-rise in two batches, as projects are released), so every unit of the board can be
sold. Keyed on the project having certificates: a rerun adds nothing, and whatever someone registered
or edited stays.

`load_disclosures` runs before the opening-day and deals steps: the customers those steps will sell to
(`disclosed_customers`, which both use) must have confirmed the risk disclosure on a visit, as the deals
services require. The earlier-visit ticks of the knowledge step leave about a quarter of the shown
disclosures unconfirmed; for the buyers-to-be among them this step records the confirmation on that
visit, as a consultant does with 补记客户确认. Keyed on the confirmation itself, so a rerun changes nothing.
"""

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from anchang.customers.models import Customer
from anchang.demo.context import HIGH_RISE, TOWNHOUSE, DemoContext
from anchang.inventory.models import Building, Certificate, CertificateKind, Project
from anchang.reception.models import VisitStation

AUTHORITY_HOUSING = "杭州市住房保障和房产管理局"
AUTHORITY_PLANNING = "杭州市规划和自然资源局"
AUTHORITY_CONSTRUCTION = "杭州市城乡建设委员会"
# How many buyers-to-be per project the later steps may need: 40 reservations plus the deals, with room.
BUYERS_NEEDED = 60


def _certificates(
    code: str, buildings: list[Building], today: date
) -> list[tuple[Certificate, list[Building]]]:
    year = today.year - 1
    short = "滨江" if code == HIGH_RISE else "云栖"
    first_batch = buildings[: (len(buildings) + 1) // 2]
    second_batch = buildings[len(first_batch) :]
    plot = [
        (
            CertificateKind.LAND_USE,
            f"杭国用({year - 1})第{short}0{len(code)}18号",
            AUTHORITY_PLANNING,
            365 * 2,
        ),
        (CertificateKind.LAND_PLANNING, f"地字第330108{year - 1}0027号", AUTHORITY_PLANNING, 365 * 2 - 30),
        (CertificateKind.WORKS_PLANNING, f"建字第330108{year}0113号", AUTHORITY_PLANNING, 365 + 60),
        (CertificateKind.CONSTRUCTION, f"330108{year}0415{len(code):02d}01", AUTHORITY_CONSTRUCTION, 365),
    ]
    rows: list[tuple[Certificate, list[Building]]] = [
        (
            Certificate(
                kind=kind, number=number, authority=authority, valid_from=today - timedelta(days=ago)
            ),
            [],
        )
        for kind, number, authority, ago in plot
    ]
    batches = [first_batch, second_batch] if code == HIGH_RISE and second_batch else [buildings]
    for index, batch in enumerate(batches, start=1):
        rows.append(
            (
                Certificate(
                    kind=CertificateKind.PRESALE,
                    number=f"杭售许字({year + 1})第{short}{index:03d}号",
                    authority=AUTHORITY_HOUSING,
                    # Released batch by batch: the first a few months ago, the next weeks later.
                    valid_from=today - timedelta(days=120 - 45 * (index - 1)),
                ),
                batch,
            )
        )
    return rows


def load_permits(ctx: DemoContext) -> None:
    today = timezone.localdate(ctx.now)
    created = 0
    for code in (HIGH_RISE, TOWNHOUSE):
        project = ctx.projects.get(code)
        if project is None:
            continue
        if Certificate.objects.filter(project=project).exists():
            continue
        buildings = list(Building.objects.filter(project=project).order_by("sort_order", "name"))
        for certificate, covered in _certificates(code, buildings, today):
            certificate.project = project
            certificate.created_by = ctx.users.get("manager")
            certificate.save()
            certificate.buildings.set(covered)
            created += 1
    ctx.record_created(Certificate, created)


def _confirmed_disclosure() -> Exists:
    return Exists(
        VisitStation.objects.filter(
            visit__customer=OuterRef("pk"), station__is_risk_disclosure=True, customer_confirmed=True
        )
    )


def disclosed_customers(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers who confirmed the risk disclosure on a visit: the only ones the demo sells to."""
    return customers.filter(_confirmed_disclosure())


def _buyers_to_be(project: Project) -> QuerySet[Customer]:
    return Customer.objects.filter(project=project, is_owner=False, subscriptions__isnull=True).order_by(
        "phone"
    )


def load_disclosures(ctx: DemoContext) -> None:
    for code in (HIGH_RISE, TOWNHOUSE):
        project = ctx.projects.get(code)
        if project is None:
            continue
        missing = BUYERS_NEEDED - disclosed_customers(_buyers_to_be(project)).count()
        if missing <= 0:
            continue
        # The shown-but-unconfirmed disclosures of customers not yet counted, first visit first.
        ticks = (
            VisitStation.objects.filter(
                visit__project=project,
                visit__customer__in=_buyers_to_be(project).exclude(_confirmed_disclosure()),
                station__is_risk_disclosure=True,
            )
            .exclude(customer_confirmed=True)
            .order_by("visit__customer__phone", "done_at")
            .values_list("pk", "visit__customer_id")
        )
        chosen: dict[int, int] = {}
        for tick_id, customer_id in ticks:
            if len(chosen) >= missing:
                break
            chosen.setdefault(customer_id, tick_id)
        VisitStation.objects.filter(pk__in=chosen.values()).update(customer_confirmed=True)
