"""factory-boy factories for projects, buildings and units. They live in the package (not under tests/)
so the benchmarks' seed scripts can use them too.

A factory project is on sale like a real one: it gets a presale permit valid from a year ago with no
end, and every factory building of it joins that permit (units of an unpermitted building cannot be
subscribed). A test about permits passes `presale_permit=False` to the project factory.
"""

from datetime import timedelta
from decimal import Decimal
from typing import cast

import factory
from django.utils import timezone

from anchang.accounts.testing import CompanyFactory
from anchang.inventory.models import (
    Building,
    Certificate,
    CertificateKind,
    Orientation,
    Project,
    ProjectSettings,
    Unit,
)

FACTORY_PERMIT_PREFIX = "测试预售证"


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"测试花园{n}期")
    code = factory.Sequence(lambda n: f"test-{n}")
    city = "杭州"

    @factory.post_generation
    def with_settings(obj: Project, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            ProjectSettings.objects.get_or_create(project=obj)

    @factory.post_generation
    def presale_permit(obj: Project, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted is not False:
            Certificate.objects.create(
                project=obj,
                kind=CertificateKind.PRESALE,
                number=f"{FACTORY_PERMIT_PREFIX}{obj.pk}",
                valid_from=timezone.localdate() - timedelta(days=365),
            )


def factory_permit(project: Project) -> Certificate | None:
    """The presale permit `ProjectFactory` gave the project, if it did."""
    return Certificate.objects.filter(project=project, number=f"{FACTORY_PERMIT_PREFIX}{project.pk}").first()


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"{n}栋")
    floors = 3
    units_per_floor = 2

    @factory.post_generation
    def permitted(obj: Building, create: bool, extracted: object, **kwargs: object) -> None:
        # `permitted=False`: a building the project's permit does not cover (not for sale yet).
        if create and extracted is not False:
            permit = factory_permit(obj.project)
            if permit is not None:
                permit.buildings.add(obj)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    building = factory.SubFactory(BuildingFactory)
    project = factory.SelfAttribute("building.project")
    floor = 1
    position = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda u: f"{u.floor}{u.position:02d}")
    bedrooms = 3
    halls = 2
    bathrooms = 2
    gross_area = Decimal("98.50")
    usable_area = Decimal("80.10")
    orientation = Orientation.NORTH_SOUTH
    list_price_total = Decimal("2850000.00")


def project_with_units(
    *, buildings: int, floors: int, units_per_floor: int, name: str | None = None
) -> Project:
    """A project with a full grid of units; prices and layouts vary with floor and position."""
    project = cast(Project, ProjectFactory(**({"name": name} if name else {})))
    for b in range(1, buildings + 1):
        building = cast(
            Building,
            BuildingFactory(
                project=project, name=f"{b}栋", floors=floors, units_per_floor=units_per_floor, sort_order=b
            ),
        )
        Unit.objects.bulk_create(
            Unit(
                project=project,
                building=building,
                floor=floor,
                position=pos,
                number=f"{floor}{pos:02d}",
                bedrooms=2 + pos % 3,
                halls=2,
                bathrooms=1 + pos % 2,
                gross_area=Decimal(80 + 20 * (pos % 3)),
                usable_area=Decimal(66 + 16 * (pos % 3)),
                orientation=Orientation.NORTH_SOUTH if pos % 2 else Orientation.SOUTH,
                list_price_total=Decimal(2_000_000 + 300_000 * (pos % 3) + 10_000 * floor),
            )
            for floor in range(1, floors + 1)
            for pos in range(1, units_per_floor + 1)
        )
    return project
