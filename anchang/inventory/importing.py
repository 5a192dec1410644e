"""Excel import of units (房源导入), product.md §8.

A file is imported all or nothing: every row is checked first and every problem is reported with
its Excel row and column, so the user can fix the whole file in one pass. Only a file without a
single problem is written, in one transaction.
"""

from __future__ import annotations

import datetime
import io
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from simple_history.utils import bulk_create_with_history

from anchang.accounts.models import User
from anchang.core.errors import InvalidInput
from anchang.inventory.models import Building, Orientation, Project, Unit, UnitStatus

MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
DATA_SHEET_TITLE = "房源"
HELP_SHEET_TITLE = "说明"
VALUE_PREVIEW_CHARS = 50

# Limits that are not in the database but that no real unit exceeds; they catch typing slips
# such as an area typed in square centimetres or a price with three extra zeros.
MAX_AREA = Decimal(2000)
MAX_PRICE = Decimal(100_000_000_000)
MIN_FLOOR, MAX_FLOOR = -5, 120

# Everything openpyxl raises on a file that is not a readable .xlsx: not a zip, a zip without the
# workbook parts, truncated or corrupt XML (the XML parsers' errors subclass SyntaxError), bad
# compression, values it cannot convert.
_UNREADABLE_FILE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    OSError,
    EOFError,
    SyntaxError,
    NotImplementedError,
    zlib.error,
)


@dataclass(frozen=True)
class Column:
    key: str  # the Unit field the column fills
    # The header is the file's contract with the user and is matched literally, so it stays
    # Chinese in every interface language; only the hint is translated.
    header: str
    required: bool
    help: str | Promise
    width: int = 12


COLUMNS: list[Column] = [
    Column("building", "楼栋", True, gettext_lazy("填写本项目已有的楼栋名称，如 1栋（见“说明”页）")),
    Column("number", "房号", True, gettext_lazy("文本，如 1801；同一楼栋内不能重复")),
    Column("floor", "楼层", True, gettext_lazy("整数，如 18；地下层填负数，如 -1；不能高于该楼栋总层数")),
    Column(
        "position",
        "位置",
        True,
        gettext_lazy("整数，如 1；表示该层从左往右第几户，不能超过该楼栋每层户数"),
    ),
    Column("layout_name", "户型名", False, gettext_lazy("选填，如 A1，最多 30 个字")),
    Column("bedrooms", "室", True, gettext_lazy("整数 1–9，如 3"), width=8),
    Column("halls", "厅", True, gettext_lazy("整数 0–9，如 2"), width=8),
    Column("bathrooms", "卫", True, gettext_lazy("整数 0–9，如 2"), width=8),
    Column("gross_area", "建筑面积", True, gettext_lazy("平方米，大于 0，最多两位小数，如 98.50")),
    Column(
        "usable_area",
        "套内面积",
        True,
        gettext_lazy("平方米，大于 0，不能大于建筑面积，最多两位小数，如 80.10"),
    ),
    Column("orientation", "朝向", True, gettext_lazy("填代码或中文，如 NS 或 南北通透（见“说明”页）")),
    Column(
        "list_price_total",
        "总价",
        True,
        gettext_lazy("元，大于 0，如 3125000 或 3,125,000"),
        width=16,
    ),
]
_COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
_COLUMN_BY_HEADER = {column.header: column for column in COLUMNS}


@dataclass(frozen=True)
class RowError:
    row: int  # the row number Excel shows; 1 is the header, 0 means the file as a whole
    column: str  # the Chinese header, or "" when the error is about the whole file
    value: str  # what the cell held, shortened to VALUE_PREVIEW_CHARS
    message: str


class UnitImportRejected(InvalidInput):
    code = "import_rejected"
    default_message = gettext_lazy("导入失败，未导入任何房源。请按下表修改后重新上传。")

    def __init__(self, errors: Sequence[RowError]):
        self.errors: list[RowError] = list(errors)
        super().__init__(_summary(self.errors))


def _summary(errors: Sequence[RowError]) -> str:
    if len(errors) == 1 and errors[0].row == 0:
        return _("导入失败：%(reason)s") % {"reason": errors[0].message}
    first_row = min(error.row for error in errors) if errors else 0
    if len(errors) == 1:
        return _("导入失败：第 %(row)s 行有 1 处错误，未导入任何房源。请按下表修改后重新上传。") % {
            "row": first_row
        }
    return _("导入失败：第 %(row)s 行等共 %(n)s 处错误，未导入任何房源。请按下表修改后重新上传。") % {
        "row": first_row,
        "n": len(errors),
    }


def _file_error(message: str) -> UnitImportRejected:
    return UnitImportRejected([RowError(row=0, column="", value="", message=message)])


# --- cell values -------------------------------------------------------------------------------


class _CellError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _preview(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if len(text) > VALUE_PREVIEW_CHARS:
        return text[: VALUE_PREVIEW_CHARS - 1] + "…"
    return text


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _reject_dates(value: object) -> None:
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        raise _CellError(_("Excel 把这个单元格当成了日期或时间。请把该列设置为“文本”格式后重新填写。"))


def _text(value: object, *, max_length: int) -> str:
    _reject_dates(value)
    if isinstance(value, bool):
        raise _CellError(_("请填写文字，不要填 TRUE/FALSE。"))
    # Excel stores a typed 1801 as the number 1801.0; the user meant the text "1801".
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    if len(text) > max_length:
        raise _CellError(_("内容太长：最多 %(n)s 个字，请缩短。") % {"n": max_length})
    return text


def _number(value: object, *, example: str) -> Decimal:
    """The cell as an exact decimal, whether Excel stored it as a number or as text."""
    _reject_dates(value)
    if isinstance(value, bool):
        raise _CellError(_("请填写数字，不要填 TRUE/FALSE。"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Formulas leave binary noise (89.1 * 1.1 = 98.01000000000001); six places keep every
        # digit a person typed and drop the noise.
        number = Decimal(repr(round(value, 6)))
    else:
        # Thousands separators as typed in Chinese or Western style: "3,125,000", "3，125，000".
        text = "".join(str(value).split()).replace(",", "").replace("，", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _not_a_number(example) from None
    if not number.is_finite():
        raise _not_a_number(example)
    return number


def _not_a_number(example: str) -> _CellError:
    return _CellError(_("应填写数字，如 %(example)s；请删除其中的文字或符号。") % {"example": example})


def _integer(value: object, *, minimum: int, maximum: int, example: int) -> int:
    number = _number(value, example=str(example))
    if number != number.to_integral_value():
        raise _CellError(_("应填写整数，如 %(example)s。") % {"example": example})
    integer = int(number)
    if not minimum <= integer <= maximum:
        raise _CellError(_("应在 %(min)s 到 %(max)s 之间，请修改。") % {"min": minimum, "max": maximum})
    return integer


def _amount(value: object, *, maximum: Decimal, unit: str, example: str) -> Decimal:
    number = _number(value, example=example)
    if number <= 0:
        raise _CellError(_("应大于 0，请修改。"))
    if number > maximum:
        raise _CellError(
            _("数值过大：不能超过 %(max)s %(unit)s，请检查是否多写了 0。")
            % {"max": f"{maximum:,}", "unit": unit}
        )
    if number != number.quantize(Decimal("0.01")):
        raise _CellError(_("最多保留两位小数，请修改。"))
    return number.quantize(Decimal("0.01"))


def _orientation_lookup() -> dict[str, str]:
    """Codes and labels (Chinese and the current language), upper-cased, to the stored code."""
    lookup: dict[str, str] = {}
    for code, label in Orientation.choices:
        lookup[code.upper()] = code
        lookup[str(label).upper()] = code
        with translation.override("zh-hans"):
            chinese = str(label)
        lookup[chinese] = code
        # "南" for "朝南": people often leave out the 朝.
        if chinese.startswith("朝"):
            lookup[chinese[1:]] = code
    return lookup


def _orientation_names() -> str:
    with translation.override("zh-hans"):
        return "、".join(f"{code}（{label}）" for code, label in Orientation.choices)


# --- reading the file --------------------------------------------------------------------------


@dataclass
class _RawRow:
    number: int  # as Excel shows it
    cells: dict[str, Any]  # column key → value as openpyxl read it


def _normalize_header(value: object) -> str:
    text = "".join(_preview(value).split())
    # "总价（元）" and "建筑面积(㎡)" are the same columns with their unit spelled out.
    for opening in ("（", "("):
        if opening in text and text.endswith(("）", ")")):
            text = text[: text.index(opening)]
    return text


def _header_errors(header: Sequence[object]) -> tuple[list[RowError], dict[str, int]]:
    positions: dict[str, list[int]] = defaultdict(list)
    unknown: list[tuple[int, str]] = []
    for index, value in enumerate(header):
        name = _normalize_header(value)
        if not name:
            continue
        if name in _COLUMN_BY_HEADER:
            positions[name].append(index)
        else:
            unknown.append((index, _preview(value)))
    if not positions:
        return [
            RowError(
                row=1,
                column="",
                value=" ".join(_preview(v) for v in header if not _is_blank(v))[:VALUE_PREVIEW_CHARS],
                message=_(
                    "第 1 行不是模板的表头。请下载导入模板，保留第 1 行表头不动，从第 2 行开始填写房源。"
                ),
            )
        ], {}

    errors: list[RowError] = []
    for column in COLUMNS:
        found = positions.get(column.header, [])
        if not found:
            errors.append(
                RowError(
                    row=1,
                    column=column.header,
                    value="",
                    message=_("缺少“%(header)s”列。请在第 1 行补上这一列的表头（可从导入模板复制）。")
                    % {"header": column.header},
                )
            )
        elif len(found) > 1:
            letters = "、".join(get_column_letter(index + 1) for index in found)
            errors.append(
                RowError(
                    row=1,
                    column=column.header,
                    value=column.header,
                    message=_("“%(header)s”列出现了多次（第 %(letters)s 列），请只保留一列。")
                    % {"header": column.header, "letters": letters},
                )
            )
    # An extra column (a note, say) is harmless; but when a column is missing, an unknown header
    # is most likely that column with a typo, so point at it.
    if any(error.value == "" for error in errors):
        for index, text in unknown:
            errors.append(
                RowError(
                    row=1,
                    column=text,
                    value=text,
                    message=_("无法识别第 %(letter)s 列的表头“%(text)s”。请改成模板中的列名，或删除这一列。")
                    % {"letter": get_column_letter(index + 1), "text": text},
                )
            )
    return errors, {name: found[0] for name, found in positions.items()}


def _upload_size(upload: IO[bytes]) -> int:
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        return size
    upload.seek(0, io.SEEK_END)
    size = upload.tell()
    upload.seek(0)
    return size


def _unreadable(name: str) -> UnitImportRejected:
    if name.lower().endswith(".xls"):
        return _file_error(
            _("这是旧版 Excel（.xls）文件，无法读取。请在 Excel 中“另存为” .xlsx 格式后再上传。")
        )
    if name.lower().endswith((".csv", ".txt")):
        return _file_error(_("这是文本（CSV）文件，无法读取。请在 Excel 中打开后“另存为” .xlsx 格式再上传。"))
    return _file_error(
        _(
            "无法读取这个文件：它不是有效的 Excel（.xlsx）文件，或者已经损坏。"
            "请下载导入模板，填写后另存为 .xlsx 再上传。"
        )
    )


def _read_sheet(upload: IO[bytes], *, max_rows: int) -> list[tuple[int, tuple[Any, ...]]]:
    """The non-blank rows of the data sheet with their Excel row numbers, header included.

    Only openpyxl runs inside the error handling, so that a bug of ours is not reported to the
    user as a corrupt file.
    """
    name = str(getattr(upload, "name", "") or "")
    size = _upload_size(upload)
    if size == 0:
        raise _file_error(_("上传的文件是空的。请下载导入模板，填写房源后再上传。"))
    if size > MAX_FILE_BYTES:
        raise _file_error(
            _(
                "文件太大（%(size)s MB），单个文件不能超过 5 MB。"
                "请删除图片和多余的工作表，或分成几个文件上传。"
            )
            % {"size": f"{size / 1024 / 1024:.1f}"}
        )
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except _UNREADABLE_FILE_ERRORS:
        raise _unreadable(name) from None
    try:
        if DATA_SHEET_TITLE in workbook.sheetnames:
            sheet = workbook[DATA_SHEET_TITLE]
        elif workbook.worksheets:
            sheet = workbook.worksheets[0]
        else:
            raise _file_error(_("文件里没有工作表。请下载导入模板，填写后再上传。"))
        # The stored dimensions may be stale (files written by other programs); read the real rows.
        sheet.reset_dimensions()
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if all(_is_blank(value) for value in values):
                continue
            # Stop reading at the first row too many: the limit also bounds the work a huge
            # file can cause.
            if len(rows) > max_rows:
                raise _file_error(
                    _("数据超过 %(max)s 行，单个文件最多导入 %(max)s 行。请拆分成几个文件分批导入。")
                    % {"max": max_rows}
                )
            rows.append((number, tuple(values)))
    except _UNREADABLE_FILE_ERRORS:
        raise _unreadable(name) from None
    finally:
        workbook.close()
    return rows


def _raw_rows(sheet_rows: list[tuple[int, tuple[Any, ...]]]) -> list[_RawRow]:
    if not sheet_rows:
        raise _file_error(_("文件里没有任何内容。请下载导入模板，从第 2 行开始填写房源后再上传。"))
    header_number, header = sheet_rows[0]
    if header_number != 1:
        header = ()
    errors, index_by_header = _header_errors(header)
    if errors:
        raise UnitImportRejected(errors)
    data_rows = sheet_rows[1:]
    if not data_rows:
        raise _file_error(_("文件里只有表头，没有房源数据。请从第 2 行开始填写房源后再上传。"))
    raw_rows = []
    for number, values in data_rows:
        cells = {}
        for column in COLUMNS:
            index = index_by_header[column.header]
            cells[column.key] = values[index] if index < len(values) else None
        raw_rows.append(_RawRow(number=number, cells=cells))
    return raw_rows


# --- checking ----------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(name.split())


class _RowChecker:
    """Turns raw rows into unsaved units, collecting every problem instead of stopping at the first."""

    def __init__(self, project: Project):
        self.project = project
        self.buildings = {
            _name_key(building.name): building
            for building in Building.objects.filter(project=project).order_by("sort_order", "name")
        }
        self.orientations = _orientation_lookup()
        self.errors: list[RowError] = []
        number_length = Unit._meta.get_field("number").max_length or 20
        layout_length = Unit._meta.get_field("layout_name").max_length or 30
        self.parsers: dict[str, Callable[[Any], Any]] = {
            "building": self._building,
            "number": lambda v: _text(v, max_length=number_length),
            "floor": self._floor,
            "position": lambda v: _integer(v, minimum=1, maximum=40, example=1),
            "layout_name": lambda v: _text(v, max_length=layout_length),
            "bedrooms": lambda v: _integer(v, minimum=1, maximum=9, example=3),
            "halls": lambda v: _integer(v, minimum=0, maximum=9, example=2),
            "bathrooms": lambda v: _integer(v, minimum=0, maximum=9, example=2),
            "gross_area": lambda v: _amount(v, maximum=MAX_AREA, unit="㎡", example="98.50"),
            "usable_area": lambda v: _amount(v, maximum=MAX_AREA, unit="㎡", example="80.10"),
            "orientation": self._orientation,
            "list_price_total": lambda v: _amount(v, maximum=MAX_PRICE, unit=_("元"), example="3125000"),
        }

    def add(self, row: int, key: str, value: object, message: str) -> None:
        self.errors.append(
            RowError(row=row, column=_COLUMN_BY_KEY[key].header, value=_preview(value), message=message)
        )

    def _building(self, value: object) -> Building:
        name = _text(value, max_length=100)
        building = self.buildings.get(_name_key(name))
        if building is None:
            if not self.buildings:
                raise _CellError(_("本项目还没有任何楼栋。请先请管理员添加楼栋，再导入房源。"))
            names = "、".join(b.name for b in self.buildings.values())
            raise _CellError(
                _("本项目没有名为“%(name)s”的楼栋。可填写：%(names)s。") % {"name": name, "names": names}
            )
        return building

    def _floor(self, value: object) -> int:
        floor = _integer(value, minimum=MIN_FLOOR, maximum=MAX_FLOOR, example=18)
        if floor == 0:
            raise _CellError(_("没有第 0 层。地上从 1 层开始，地下层请填负数，如 -1。"))
        return floor

    def _orientation(self, value: object) -> str:
        text = _text(value, max_length=20).upper()
        code = self.orientations.get(text)
        if code is None:
            raise _CellError(
                _("无法识别的朝向。请填写以下之一：%(names)s。") % {"names": _orientation_names()}
            )
        return code

    def parse(self, raw: _RawRow) -> dict[str, Any]:
        """The columns of the row that are valid on their own; every other one is reported."""
        parsed: dict[str, Any] = {}
        for column in COLUMNS:
            value = raw.cells[column.key]
            if _is_blank(value):
                if column.required:
                    self.add(
                        raw.number,
                        column.key,
                        value,
                        _("此项必填，请填写%(header)s。") % {"header": column.header},
                    )
                else:
                    parsed[column.key] = ""
                continue
            try:
                parsed[column.key] = self.parsers[column.key](value)
            except _CellError as error:
                self.add(raw.number, column.key, value, error.message)
        self._check_across_columns(raw, parsed)
        return parsed

    def _check_across_columns(self, raw: _RawRow, parsed: dict[str, Any]) -> None:
        building: Building | None = parsed.get("building")
        if building is not None and "floor" in parsed and parsed["floor"] > building.floors:
            self.add(
                raw.number,
                "floor",
                raw.cells["floor"],
                _("%(building)s 只有 %(floors)s 层，楼层不能高于 %(floors)s。请检查楼层或楼栋。")
                % {"building": building.name, "floors": building.floors},
            )
            del parsed["floor"]
        if building is not None and "position" in parsed and parsed["position"] > building.units_per_floor:
            self.add(
                raw.number,
                "position",
                raw.cells["position"],
                _("%(building)s 每层只有 %(n)s 户，位置应在 1 到 %(n)s 之间。请检查位置或楼栋。")
                % {"building": building.name, "n": building.units_per_floor},
            )
            del parsed["position"]
        gross, usable = parsed.get("gross_area"), parsed.get("usable_area")
        if gross is not None and usable is not None and usable > gross:
            self.add(
                raw.number,
                "usable_area",
                raw.cells["usable_area"],
                _("套内面积（%(usable)s）不能大于建筑面积（%(gross)s），请检查是否填反了。")
                % {"usable": usable, "gross": gross},
            )
            del parsed["usable_area"]

    def check_duplicates_in_file(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Every row of a repeated 房号 or position is reported, each naming all the others."""
        by_number: dict[tuple[Building, str], list[int]] = defaultdict(list)
        by_slot: dict[tuple[Building, int, int], list[int]] = defaultdict(list)
        for row, parsed in rows:
            building = parsed.get("building")
            if building is None:
                continue
            if "number" in parsed:
                by_number[(building, parsed["number"])].append(row)
            if "floor" in parsed and "position" in parsed:
                by_slot[(building, parsed["floor"], parsed["position"])].append(row)
        for (building, number), numbers in by_number.items():
            for row in numbers if len(numbers) > 1 else []:
                self.add(
                    row,
                    "number",
                    number,
                    _(
                        "%(building)s 房号 %(number)s 在文件中重复出现（第 %(rows)s 行）。"
                        "请删除重复的行或改正房号。"
                    )
                    % {"building": building.name, "number": number, "rows": _row_list(numbers)},
                )
        for (building, floor, position), numbers in by_slot.items():
            for row in numbers if len(numbers) > 1 else []:
                self.add(
                    row,
                    "position",
                    position,
                    _(
                        "%(building)s %(floor)s 层第 %(position)s 户在文件中重复出现（第 %(rows)s 行）。"
                        "同一位置只能有一套房源，请改正楼层或位置。"
                    )
                    % {
                        "building": building.name,
                        "floor": floor,
                        "position": position,
                        "rows": _row_list(numbers),
                    },
                )

    def check_existing(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        buildings = {parsed["building"] for _row, parsed in rows if "building" in parsed}
        if not buildings:
            return
        number_taken: set[tuple[int, str]] = set()
        slot_taken: dict[tuple[int, int, int], str] = {}
        existing = Unit.objects.filter(building__in=buildings).values_list(
            "building_id", "number", "floor", "position"
        )
        for building_id, taken_number, floor, position in existing:
            number_taken.add((building_id, taken_number))
            slot_taken[(building_id, floor, position)] = taken_number
        for row, parsed in rows:
            building = parsed.get("building")
            if building is None:
                continue
            number = parsed.get("number")
            if number is not None and (building.pk, number) in number_taken:
                self.add(
                    row,
                    "number",
                    number,
                    _(
                        "系统中已有 %(building)s %(number)s，不能重复导入。"
                        "请删除这一行；如需修改这套房源，请在销控表中操作。"
                    )
                    % {"building": building.name, "number": number},
                )
            if "floor" not in parsed or "position" not in parsed:
                continue
            taken_by = slot_taken.get((building.pk, parsed["floor"], parsed["position"]))
            if taken_by is not None and taken_by != number:
                self.add(
                    row,
                    "position",
                    parsed["position"],
                    _(
                        "%(building)s %(floor)s 层第 %(position)s 户已是系统中的房源 %(number)s。"
                        "请改正楼层或位置。"
                    )
                    % {
                        "building": building.name,
                        "floor": parsed["floor"],
                        "position": parsed["position"],
                        "number": taken_by,
                    },
                )


def _row_list(rows: Sequence[int]) -> str:
    return "、".join(str(row) for row in rows)


_COLUMN_ORDER = {column.header: index for index, column in enumerate(COLUMNS)}


def _sorted(errors: Iterable[RowError]) -> list[RowError]:
    # Row by row, and within a row in the order of the columns, as the user reads the sheet.
    return sorted(errors, key=lambda error: (error.row, _COLUMN_ORDER.get(error.column, len(COLUMNS))))


# --- the service -------------------------------------------------------------------------------


def units_import(*, project: Project, upload: IO[bytes], by: User) -> int:
    """Create every unit of the uploaded sheet, or none: raises UnitImportRejected with all problems."""
    max_rows = int(getattr(settings, "UNIT_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))
    raw_rows = _raw_rows(_read_sheet(upload, max_rows=max_rows))

    checker = _RowChecker(project)
    rows = [(raw.number, checker.parse(raw)) for raw in raw_rows]
    checker.check_duplicates_in_file(rows)
    try:
        with transaction.atomic():
            # Checked inside the transaction, so a unit added since the page was opened is still
            # reported on its row; the unique constraints catch one added in the last instant.
            checker.check_existing(rows)
            if checker.errors:
                raise UnitImportRejected(_sorted(checker.errors))
            units = [Unit(project=project, status=UnitStatus.AVAILABLE, **parsed) for _row, parsed in rows]
            created = bulk_create_with_history(
                units, Unit, default_user=by, default_change_reason="Excel 导入"
            )
    except IntegrityError:
        raise _file_error(
            _(
                "导入时系统中刚好新增了相同房号或相同位置的房源，本次未导入任何房源。"
                "请刷新销控表核对后重新上传。"
            )
        ) from None
    return len(created)


# --- the template ------------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_EXAMPLE_FONT = Font(italic=True, color="808080")


def _example_rows(buildings: Sequence[Building]) -> list[list[object]]:
    """Two rows that would import cleanly into an empty building of this project."""
    if not buildings:
        return []
    first = buildings[0]
    floor = min(18, first.floors)
    rows: list[list[object]] = [
        [first.name, f"{floor}01", floor, 1, "A1", 3, 2, 2, 98.5, 80.1, "南北通透", 3125000]
    ]
    if len(buildings) > 1:
        second, floor_b, position_b = buildings[1], min(18, buildings[1].floors), 1
    elif first.units_per_floor > 1:
        second, floor_b, position_b = first, floor, 2
    elif first.floors > 1:
        second, floor_b, position_b = first, floor - 1, 1
    else:
        return rows
    rows.append(
        [
            second.name,
            f"{floor_b}{position_b:02d}",
            floor_b,
            position_b,
            "B2",
            2,
            1,
            1,
            89,
            72.3,
            "S",
            2680000,
        ]
    )
    return rows


def _fill_data_sheet(sheet: Worksheet, buildings: Sequence[Building]) -> None:
    sheet.title = DATA_SHEET_TITLE
    sheet.append([column.header for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.fill = _HEADER_FILL
        cell.font = _REQUIRED_FONT if column.required else Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
    # 房号 as text, or Excel turns "0101" into 101 and "1-1801" into a date.
    number_letter = get_column_letter(COLUMNS.index(_COLUMN_BY_KEY["number"]) + 1)
    sheet.column_dimensions[number_letter].number_format = "@"
    for values in _example_rows(buildings):
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.font = _EXAMPLE_FONT
        sheet.cell(row=sheet.max_row, column=COLUMNS.index(_COLUMN_BY_KEY["number"]) + 1).number_format = "@"
        price_column = COLUMNS.index(_COLUMN_BY_KEY["list_price_total"]) + 1
        sheet.cell(row=sheet.max_row, column=price_column).number_format = "#,##0"
    sheet.freeze_panes = "A2"

    # Drop-downs help but do not forbid: codes such as "NS" are accepted too.
    orientation_letter = get_column_letter(COLUMNS.index(_COLUMN_BY_KEY["orientation"]) + 1)
    with translation.override("zh-hans"):
        labels = ",".join(str(label) for _code, label in Orientation.choices)
    orientation_list = DataValidation(
        type="list", formula1=f'"{labels}"', allow_blank=True, showErrorMessage=False
    )
    orientation_list.add(f"{orientation_letter}2:{orientation_letter}10000")
    sheet.add_data_validation(orientation_list)
    names = ",".join(building.name for building in buildings)
    # Excel refuses an inline list longer than 255 characters or one containing a comma in a name.
    if buildings and len(names) <= 250 and not any("," in b.name or '"' in b.name for b in buildings):
        building_list = DataValidation(
            type="list", formula1=f'"{names}"', allow_blank=True, showErrorMessage=False
        )
        building_list.add("A2:A10000")
        sheet.add_data_validation(building_list)


def _fill_help_sheet(sheet: Worksheet, project: Project, buildings: Sequence[Building]) -> None:
    bold = Font(bold=True)
    max_rows = int(getattr(settings, "UNIT_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))
    lines: list[tuple[list[object], bool]] = [
        ([_("%(project)s · 房源导入说明") % {"project": project.name}], True),
        ([_("1. 在“房源”页填写，第 1 行是表头，请不要修改；从第 2 行开始每行一套房源。")], False),
        ([_("2. 第 2、3 行是灰色的示例，请直接覆盖或删除，否则会被一起导入。")], False),
        (
            [
                _(
                    "3. 整个文件全部正确才会导入；只要有一处错误，就不会导入任何房源，"
                    "页面会逐行列出要修改的地方。"
                )
            ],
            False,
        ),
        ([_("4. 单个文件最多 %(n)s 行、不超过 5 MB；导入的房源状态均为“可售”。") % {"n": max_rows}], False),
        ([], False),
        ([_("列名"), _("必填"), _("填写说明")], True),
    ]
    lines += [
        ([column.header, _("是") if column.required else _("否"), str(column.help)], False)
        for column in COLUMNS
    ]
    lines += [([], False), ([_("本项目楼栋"), _("总层数"), _("每层户数")], True)]
    if buildings:
        lines += [([b.name, b.floors, b.units_per_floor], False) for b in buildings]
    else:
        lines += [([_("本项目还没有楼栋，请先请管理员添加楼栋，再导入房源。")], False)]
    lines += [([], False), ([_("朝向代码"), _("朝向（中文）")], True)]
    with translation.override("zh-hans"):
        lines += [([code, str(label)], False) for code, label in Orientation.choices]
    for values, is_heading in lines:
        sheet.append(values)
        if is_heading:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 12
    sheet.column_dimensions["C"].width = 60


def unit_import_template(*, project: Project) -> bytes:
    """The .xlsx users fill in: headers, two examples with this project's buildings, and a help sheet."""
    buildings = list(Building.objects.filter(project=project).order_by("sort_order", "name"))
    workbook = Workbook()
    data_sheet = workbook.active
    assert isinstance(data_sheet, Worksheet)
    _fill_data_sheet(data_sheet, buildings)
    _fill_help_sheet(workbook.create_sheet(HELP_SHEET_TITLE), project, buildings)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
