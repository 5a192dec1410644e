from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from anchang.accounts.models import Role, User
from anchang.accounts.selectors import project_list_visible_to, project_visible_to, staff_of_project
from anchang.core.api import paginate
from anchang.core.errors import Forbidden, InvalidInput, NotFound
from anchang.inventory.models import Project, Unit, UnitStatus
from anchang.inventory.selectors import unit_list_for_api

router = Router(tags=["projects"])


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


class UnitOut(Schema):
    id: int
    building: str
    number: str
    floor: int
    bedrooms: int
    area: Decimal
    orientation: str
    total_price: Decimal
    status: str


class UnitPage(Schema):
    items: list[UnitOut]
    count: int


class UnitFilters(Schema):
    status: UnitStatus | None = None
    building: str | None = None
    bedrooms: int | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    limit: int = 100
    offset: int = 0


def _project_or_404(request: HttpRequest, pid: int) -> Project:
    project = project_visible_to(user=request.user, project_id=pid)  # type: ignore[arg-type]
    if project is None:
        raise NotFound(_("项目不存在，或您无权查看。"))
    return project


@router.get("/projects", response=list[ProjectOut], summary="我可见的项目")
def project_list(request: HttpRequest) -> list[Project]:
    return list(project_list_visible_to(user=request.user))  # type: ignore[arg-type]


@router.get("/projects/{pid}/staff", response=list[StaffOut], summary="项目人员")
def project_staff(request: HttpRequest, pid: int, role: Role | None = None) -> list[StaffOut]:
    project = _project_or_404(request, pid)
    user: User = request.user  # type: ignore[assignment]
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
        for member in staff_of_project(project=project, role=role)
    ]


@router.get("/projects/{pid}/units", response=UnitPage, summary="房源列表（可筛选、分页）")
def unit_list(request: HttpRequest, pid: int, filters: Query[UnitFilters]) -> UnitPage:
    project = _project_or_404(request, pid)
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("inventory.view_board"):
        raise Forbidden()
    if filters.min_total is not None and filters.max_total is not None and filters.min_total > filters.max_total:
        raise InvalidInput(fields={"min_total": _("最低总价不能高于最高总价。")})
    units = unit_list_for_api(project=project)
    if filters.status:
        units = units.filter(status=filters.status)
    if filters.building:
        units = units.filter(building__name=filters.building)
    if filters.bedrooms is not None:
        units = units.filter(bedrooms=filters.bedrooms)
    if filters.min_total is not None:
        units = units.filter(list_price_total__gte=filters.min_total)
    if filters.max_total is not None:
        units = units.filter(list_price_total__lte=filters.max_total)
    page, count = paginate(units, limit=filters.limit, offset=filters.offset)
    return UnitPage(items=[_unit_out(unit) for unit in page], count=count)


def _unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        id=unit.pk,
        building=unit.building.name,
        number=unit.number,
        floor=unit.floor,
        bedrooms=unit.bedrooms,
        area=unit.gross_area,
        orientation=unit.orientation,
        total_price=unit.list_price_total,
        status=unit.status,
    )
