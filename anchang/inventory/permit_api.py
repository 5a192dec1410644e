"""The project's certificates (五证) in the JSON API: everyone on the project reads them (they are shown
to every customer on the risk-disclosure wall); only the site manager registers one."""

from datetime import date
from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from anchang.accounts.api_access import request_user, visible_project
from anchang.core.api import DbId, NoNul, error_responses
from anchang.core.errors import Forbidden
from anchang.inventory.models import CertificateKind
from anchang.inventory.permits import (
    AUTHORITY_MAX_LENGTH,
    NUMBER_MAX_LENGTH,
    CertificateRow,
    certificate_create,
    certificate_rows,
    may_manage_certificates,
)

router = Router(tags=["projects"])

# A presale permit names a handful of buildings; a project with more than this has no single permit.
BUILDINGS_MAX = 200


class BuildingRef(Schema):
    id: int
    name: str


class CertificateOut(Schema):
    id: int
    kind: str
    kind_label: str
    number: str
    authority: str
    buildings: list[BuildingRef] = Field(description="预售许可证覆盖的楼栋；其他证照为空（覆盖全项目）")
    scope: str = Field(description="范围的文字说明，如 1栋、2栋 或 全项目")
    valid_from: date
    valid_until: date | None = Field(description="空表示长期有效")
    valid_today: bool


class CertificateIn(Schema):
    kind: CertificateKind
    number: Annotated[str, Field(min_length=1, max_length=NUMBER_MAX_LENGTH), NoNul]
    authority: Annotated[str, Field(max_length=AUTHORITY_MAX_LENGTH), NoNul] = ""
    building_ids: Annotated[list[DbId], Field(max_length=BUILDINGS_MAX)] = Field(
        default_factory=list, description="预售许可证必填：覆盖的楼栋 id；其他证照不填"
    )
    valid_from: date
    valid_until: date | None = None


def _out(row: CertificateRow) -> CertificateOut:
    c = row.certificate
    return CertificateOut(
        id=c.pk,
        kind=c.kind,
        kind_label=c.get_kind_display(),
        number=c.number,
        authority=c.authority,
        buildings=[BuildingRef(id=b.pk, name=b.name) for b in c.buildings.all()],
        scope=row.scope,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        valid_today=row.valid_today,
    )


@router.get(
    "/projects/{pid}/permits",
    response={200: list[CertificateOut], **error_responses(401, 404)},
    summary="项目五证（预售许可证及其覆盖楼栋、有效期）",
)
def permit_list(request: HttpRequest, pid: DbId) -> list[CertificateOut]:
    project = visible_project(request_user(request), pid)
    return [_out(row) for row in certificate_rows(project=project)]


@router.post(
    "/projects/{pid}/permits",
    response={201: CertificateOut, **error_responses(400, 401, 403, 404, 409)},
    summary="登记五证（仅案场经理）",
    description="预售许可证须列出覆盖的楼栋；同一项目同类证照的证号重复时返回 409 certificate_exists。",
)
def permit_create(request: HttpRequest, pid: DbId, payload: CertificateIn) -> Status[CertificateOut]:
    user = request_user(request)
    project = visible_project(user, pid)
    if not may_manage_certificates(user):
        raise Forbidden(_("只有案场经理可以登记五证。"))
    certificate = certificate_create(
        project=project,
        kind=payload.kind,
        number=payload.number,
        authority=payload.authority,
        building_ids=list(payload.building_ids),
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        by=user,
    )
    row = next(r for r in certificate_rows(project=project) if r.certificate.pk == certificate.pk)
    return Status(201, _out(row))
