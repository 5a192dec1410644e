"""Excel export of an opening session's results (product.md §13, quality P8).

Managers only; every export writes one access-log row in the transaction that builds the file, carries
the exporter's name and time in the sheet, and stops at `MAX_EXPORT_ROWS` rows (the sheet says so
when it is cut). Buyers appear masked: surname and a masked mobile, never the full name or number.
"""

from io import BytesIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from anchang.accounts.models import User
from anchang.core.audit import AccessAction, access_log_write
from anchang.core.errors import Forbidden
from anchang.core.formatting import layout
from anchang.core.privacy import mask_phone, public_name
from anchang.deals.models import OpeningSession
from anchang.deals.opening import may_manage_openings
from anchang.deals.opening_selectors import opening_results

MAX_EXPORT_ROWS = 5000
HEADER_ROW = 4


def _columns() -> list[tuple[str, int]]:
    return [
        (_("选房顺序"), 10),
        (_("认筹号"), 10),
        (_("客户"), 12),
        (_("手机号"), 15),
        (_("房源"), 14),
        (_("户型"), 12),
        (_("建筑面积（㎡）"), 14),
        (_("成交总价（元）"), 16),
        (_("定金（元）"), 14),
        (_("状态"), 10),
        (_("选房时间"), 18),
    ]


@transaction.atomic
def opening_results_export(*, session: OpeningSession, by: User, ip: str | None = None) -> bytes:
    if not may_manage_openings(by):
        raise Forbidden(_("只有案场经理可以导出选房结果。"))
    rows, truncated = opening_results(session=session, limit=MAX_EXPORT_ROWS)
    now = timezone.now()
    access_log_write(
        user=by,
        action=AccessAction.EXPORT,
        obj=session,
        reason=_("导出开盘选房结果"),
        ip=ip,
        project_id=session.project_id,
        data={"rows": len(rows), "truncated": truncated},
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = _("选房结果")
    sheet["A1"] = _("%(project)s · %(session)s 选房结果") % {
        "project": session.project.name,
        "session": session.name,
    }
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = _("导出人：%(name)s　导出时间：%(at)s　共 %(n)s 条") % {
        "name": by.display_name,
        "at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "n": len(rows),
    }
    if truncated:
        sheet["A3"] = _("结果超过 %(max)s 条，仅导出前 %(max)s 条；请联系管理员获取完整数据。") % {
            "max": MAX_EXPORT_ROWS
        }
        sheet["A3"].font = Font(bold=True, color="C00000")
    for index, (title, width) in enumerate(_columns(), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[cell.column_letter].width = width
    for offset, row in enumerate(rows, start=1):
        s = row.subscription
        unit = s.unit
        values = [
            row.position,
            s.reservation.number if s.reservation else None,
            public_name(s.customer.name, s.customer.gender),
            mask_phone(s.customer.phone),
            unit.label,
            layout(unit.bedrooms, unit.halls, unit.bathrooms),
            unit.gross_area,
            s.price,
            s.deposit,
            s.get_status_display(),
            timezone.localtime(s.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=HEADER_ROW + offset, column=column, value=value)
            if column in (8, 9):
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
