from decimal import Decimal
from typing import Annotated

from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from anchang.accounts.api_access import request_user, visible_project
from anchang.accounts.models import Role
from anchang.accounts.selectors import project_list_visible_to, staff_of_project
from anchang.core.api import (
    BlankIsNone,
    DecimalString,
    NoNul,
    PageLimit,
    PageOffset,
    error_responses,
    paginate,
)
from anchang.core.errors import Forbidden, InvalidInput
from anchang.inventory.models import Building, Project, Unit, UnitStatus
from anchang.inventory.selectors import unit_search

router = Router(tags=["projects"])

BUILDING_NAME_MAX_LENGTH = Building._meta.get_field("name").max_length
# A filter on total price has the shape of the stored column: numeric(14, 2), in yuan.
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
BuildingName = Annotated[str, Field(max_length=BUILDING_NAME_MAX_LENGTH), NoNul]
Bedrooms = Annotated[int, Field(ge=1, le=9)]


class ProjectOut(Schema):
    id: int
    name: str
    city: str


class StaffOut(Schema):
    id: int
    username: str
    name: str
    role: str
    team: str | None
    company: str | None


class StaffFilters(Schema):
    role: Annotated[Role | None, BlankIsNone] = None


class UnitOut(Schema):
    id: int
    building: str
    number: str
    floor: int
    bedrooms: int
    area: DecimalString
    orientation: str
    total_price: DecimalString
    status: str


class UnitPage(Schema):
    items: list[UnitOut]
    count: int


class UnitFilters(Schema):
    status: Annotated[UnitStatus | None, BlankIsNone] = None
    building: Annotated[BuildingName | None, BlankIsNone] = None
    bedrooms: Annotated[Bedrooms | None, BlankIsNone] = None
    min_total: Annotated[Money | None, BlankIsNone] = None
    max_total: Annotated[Money | None, BlankIsNone] = None
    limit: PageLimit = 100
    offset: PageOffset = 0


def unit_page(units: QuerySet[Unit], *, limit: int, offset: int) -> dict[str, object]:
    """One page of units in the shape of UnitPage (this list and the units of an opening day).

    Plain rows, validated once by ninja against UnitPage: buyers on opening day poll these lists, and
    building 200 model objects and then 200 schema objects cost ten times what the rows do (S3)."""
    rows = units.values(
        "id",
        "number",
        "floor",
        "bedrooms",
        "orientation",
        "status",
        building_name=F("building__name"),
        area=F("gross_area"),
        total_price=F("list_price_total"),
    )
    page, count = paginate(rows, limit=limit, offset=offset)
    for row in page:
        row["building"] = row.pop("building_name")
    return {"items": page, "count": count}


@router.get("/projects", response={200: list[ProjectOut], **error_responses(401)}, summary="我可见的项目")
def project_list(request: HttpRequest) -> list[Project]:
    return list(project_list_visible_to(user=request_user(request)))


@router.get(
    "/projects/{pid}/staff",
    response={200: list[StaffOut], **error_responses(400, 401, 403, 404)},
    summary="项目人员",
)
def project_staff(request: HttpRequest, pid: int, filters: Query[StaffFilters]) -> list[StaffOut]:
    user = request_user(request)
    project = visible_project(user, pid)
    if not user.has_perm("accounts.view_staff"):
        raise Forbidden()
    return [
        StaffOut(
            id=member.pk,
            username=member.username,
            name=member.display_name,
            role=member.role,
            team=member.team.name if member.team else None,
            company=str(member.company) if member.company else None,
        )
        for member in staff_of_project(project=project, role=filters.role)
    ]


@router.get(
    "/projects/{pid}/units",
    response={200: UnitPage, **error_responses(400, 401, 403, 404)},
    summary="房源列表（可筛选、分页）",
)
def unit_list(request: HttpRequest, pid: int, filters: Query[UnitFilters]) -> dict[str, object]:
    user = request_user(request)
    project = visible_project(user, pid)
    if not user.has_perm("inventory.view_board"):
        raise Forbidden()
    if (
        filters.min_total is not None
        and filters.max_total is not None
        and filters.min_total > filters.max_total
    ):
        raise InvalidInput(fields={"min_total": _("最低总价不能高于最高总价。")})
    units = unit_search(
        project=project,
        status=filters.status,
        building=filters.building,
        bedrooms=filters.bedrooms,
        min_total=filters.min_total,
        max_total=filters.max_total,
    )
    return unit_page(units, limit=filters.limit, offset=filters.offset)
