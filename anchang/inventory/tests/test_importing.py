"""Excel import of units (房源导入): all or nothing, every problem reported by row and column."""

import datetime
import io
import zipfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from pytest_django.fixtures import Settings

from anchang.accounts.models import User
from anchang.inventory.importing import (
    COLUMNS,
    RowError,
    UnitImportRejected,
    unit_import_template,
    units_import,
)
from anchang.inventory.models import Building, Orientation, Project, Unit, UnitStatus
from anchang.inventory.testing import BuildingFactory, ProjectFactory, UnitFactory

HEADERS = [column.header for column in COLUMNS]
ClientFor = Callable[[User], Client]


def unit_row(
    *,
    building: object = "3栋",
    number: object = "1801",
    floor: object = 18,
    position: object = 1,
    layout: object = "A1",
    bedrooms: object = 3,
    halls: object = 2,
    bathrooms: object = 2,
    gross: object = 98.5,
    usable: object = 80.1,
    orientation: object = "NS",
    price: object = 3125000,
) -> list[object]:
    return [
        building,
        number,
        floor,
        position,
        layout,
        bedrooms,
        halls,
        bathrooms,
        gross,
        usable,
        orientation,
        price,
    ]


def xlsx(rows: Sequence[Sequence[object]], headers: Sequence[object] = HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "房源"
    if headers:
        sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(content: bytes, name: str = "房源.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def rejection(project: Project, user: User, content: bytes, name: str = "房源.xlsx") -> UnitImportRejected:
    before = Unit.objects.count()
    with pytest.raises(UnitImportRejected) as caught:
        units_import(project=project, upload=upload(content, name), by=user)
    assert Unit.objects.count() == before, "a rejected file must not import anything"
    assert caught.value.errors, "a rejection always says why"
    assert caught.value.code == "import_rejected"
    return caught.value


def error_at(rejected: UnitImportRejected, row: int, column: str) -> RowError:
    matches = [error for error in rejected.errors if error.row == row and error.column == column]
    assert matches, f"no error at row {row}, column {column}: {rejected.errors}"
    return matches[0]


@pytest.fixture
def building3(project: Project) -> Building:
    return cast(
        Building, BuildingFactory(project=project, name="3栋", floors=30, units_per_floor=4, sort_order=3)
    )


# --- good files ---------------------------------------------------------------------------------


def test_good_file_imports_every_unit_with_its_fields_and_history(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx(
        [
            unit_row(number="1801", floor=18, position=1),
            # Excel's own types: 房号 typed as a number, floor stored as 18.0, price typed with commas.
            unit_row(
                number=1802,
                floor=18.0,
                position=2,
                layout=None,
                bedrooms="2",
                halls=1,
                bathrooms=1,
                gross="89",
                usable=72.3,
                orientation="南北通透",
                price="2,680,000",
            ),
            unit_row(number=" 1701 ", floor=" 17 ", position=1, orientation=" s ", price="1，990，000.50"),
        ]
    )
    before = Unit.objects.count()

    created = units_import(project=project, upload=upload(content), by=manager)

    assert created == 3
    assert Unit.objects.count() == before + 3
    first = Unit.objects.get(building=building3, number="1801")
    assert (first.project, first.floor, first.position, first.layout_name) == (project, 18, 1, "A1")
    assert (first.bedrooms, first.halls, first.bathrooms) == (3, 2, 2)
    assert (first.gross_area, first.usable_area) == (Decimal("98.50"), Decimal("80.10"))
    assert first.orientation == Orientation.NORTH_SOUTH
    assert first.list_price_total == Decimal("3125000.00")
    assert first.status == UnitStatus.AVAILABLE
    second = Unit.objects.get(building=building3, number="1802")
    assert (second.floor, second.layout_name, second.bedrooms, second.gross_area) == (
        18,
        "",
        2,
        Decimal("89.00"),
    )
    assert second.orientation == Orientation.NORTH_SOUTH
    assert second.list_price_total == Decimal("2680000.00")
    third = Unit.objects.get(building=building3, number="1701")
    assert (third.floor, third.orientation, third.list_price_total) == (17, "S", Decimal("1990000.50"))

    history = Unit.history.filter(building=building3)
    assert history.count() == 3
    assert set(history.values_list("history_user", "history_change_reason", "history_type")) == {
        (manager.pk, "Excel 导入", "+")
    }


def test_blank_rows_are_skipped_and_their_row_numbers_still_count(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx(
        [
            unit_row(number="101", floor=1, position=1),
            [None] * len(HEADERS),
            ["  ", "", None],
            unit_row(number="102", floor=1, position=2, price="abc"),
        ]
    )

    rejected = rejection(project, manager, content)

    assert [(error.row, error.column) for error in rejected.errors] == [(5, "总价")]


def test_accepted_spellings_of_orientation_and_formula_noise(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx(
        [
            unit_row(number="101", floor=1, position=1, orientation="ns"),
            unit_row(number="102", floor=1, position=2, orientation="南"),
            unit_row(number="103", floor=1, position=3, orientation="朝西"),
            # 89.1 * 1.1 as a formula leaves 98.01000000000001: that is 98.01, not an error.
            unit_row(number="104", floor=1, position=4, gross=89.1 * 1.1, usable=80),
        ]
    )

    assert units_import(project=project, upload=upload(content), by=manager) == 4

    orientations = dict(Unit.objects.filter(building=building3).values_list("number", "orientation"))
    assert orientations == {"101": "NS", "102": "S", "103": "W", "104": "NS"}
    assert Unit.objects.get(building=building3, number="104").gross_area == Decimal("98.01")


def test_headers_may_be_reordered_carry_units_and_extra_columns_are_ignored(
    project: Project, manager: User, building3: Building
) -> None:
    headers = [*reversed(HEADERS), "备注"]
    headers[0] = "总价（元）"
    headers[3] = "建筑面积(㎡)"
    row = [*reversed(unit_row()), "朝南好房"]

    assert units_import(project=project, upload=upload(xlsx([row], headers=headers)), by=manager) == 1

    unit = Unit.objects.get(building=building3, number="1801")
    assert (unit.gross_area, unit.list_price_total) == (Decimal("98.50"), Decimal("3125000.00"))


def test_the_row_limit_is_inclusive(
    project: Project, manager: User, building3: Building, settings: Settings
) -> None:
    settings.UNIT_IMPORT_MAX_ROWS = 3
    rows = [unit_row(number=f"{n}01", floor=n, position=1) for n in range(1, 4)]

    assert units_import(project=project, upload=upload(xlsx(rows)), by=manager) == 3


# --- the template -------------------------------------------------------------------------------


def test_downloaded_template_opens_and_lists_columns_buildings_and_orientations(
    project: Project, manager: User, client_for: ClientFor
) -> None:
    response = client_for(manager).get(reverse("inventory:import_template", args=[project.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["房源", "说明"]
    data = list(workbook["房源"].iter_rows(values_only=True))
    assert list(data[0]) == HEADERS
    assert len(data) == 3, "header and two examples"
    assert [row[0] for row in data[1:]] == ["1栋", "2栋"], "examples use the project's real buildings"
    help_text = " ".join(
        str(value)
        for row in workbook["说明"].iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    for header in HEADERS:
        assert header in help_text
    assert "1栋" in help_text and "2栋" in help_text
    for code, label in Orientation.choices:
        assert code in help_text and str(label) in help_text


def test_template_examples_import_cleanly_into_empty_buildings(manager: User) -> None:
    fresh = cast(Project, ProjectFactory())
    BuildingFactory(project=fresh, name="A座", floors=32, units_per_floor=4, sort_order=1)

    content = unit_import_template(project=fresh)
    created = units_import(project=fresh, upload=upload(content), by=manager)

    assert created == 2
    assert set(Unit.objects.filter(project=fresh).values_list("number", "floor", "position")) == {
        ("1801", 18, 1),
        ("1802", 18, 2),
    }


def test_template_of_a_project_without_buildings_has_no_examples_and_says_why(db: None) -> None:
    bare = ProjectFactory()

    workbook = load_workbook(io.BytesIO(unit_import_template(project=bare)))

    assert [list(row) for row in workbook["房源"].iter_rows(values_only=True)] == [HEADERS]
    help_text = " ".join(
        str(value)
        for row in workbook["说明"].iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    assert "还没有楼栋" in help_text


def test_filled_template_uploaded_through_the_page_redirects_to_the_board(
    project: Project, manager: User, building3: Building, client_for: ClientFor
) -> None:
    client = client_for(manager)
    template = client.get(reverse("inventory:import_template", args=[project.pk])).content
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["房源"]
    filled = [
        unit_row(number=f"{floor}0{position}", floor=floor, position=position)
        for floor in (20, 21)
        for position in (1, 2, 3)
    ]
    for row_number, values in enumerate(filled, start=2):  # over the examples, then below them
        for column_number, value in enumerate(values, start=1):
            sheet.cell(row=row_number, column=column_number, value=value)
    output = io.BytesIO()
    workbook.save(output)
    before = Unit.objects.count()

    response = client.post(
        reverse("inventory:import", args=[project.pk]), {"file": upload(output.getvalue(), "填好的模板.xlsx")}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:board", args=[project.pk])
    assert Unit.objects.count() == before + 6
    assert Unit.objects.filter(building=building3, floor=21, position=3, number="2103").exists()


# --- the page -----------------------------------------------------------------------------------


def test_manager_sees_the_steps_the_download_link_and_the_columns(
    project: Project, manager: User, client_for: ClientFor
) -> None:
    response = client_for(manager).get(reverse("inventory:import", args=[project.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "房源导入" in page
    assert reverse("inventory:import_template", args=[project.pk]) in page
    assert 'enctype="multipart/form-data"' in page
    for column in COLUMNS:
        assert column.header in page and str(column.help) in page
    assert "import-errors" not in page


def test_consultant_may_not_open_the_import_page_or_the_template(
    project: Project, consultant: User, client_for: ClientFor
) -> None:
    client = client_for(consultant)

    assert client.get(reverse("inventory:import", args=[project.pk])).status_code == 404
    assert client.get(reverse("inventory:import_template", args=[project.pk])).status_code == 404
    response = client.post(
        reverse("inventory:import", args=[project.pk]), {"file": upload(xlsx([unit_row()]))}
    )
    assert response.status_code == 404


def test_a_non_excel_upload_gets_a_400_page_with_the_reason(
    project: Project, manager: User, client_for: ClientFor
) -> None:
    before = Unit.objects.count()

    response = client_for(manager).post(
        reverse("inventory:import", args=[project.pk]), {"file": upload(b"hello", "units.xlsx")}
    )

    assert response.status_code == 400
    assert "不是有效的 Excel" in response.content.decode()
    assert Unit.objects.count() == before


def test_a_rejected_file_shows_every_error_in_a_table(
    project: Project, manager: User, building3: Building, client_for: ClientFor
) -> None:
    content = xlsx(
        [
            unit_row(number="101", floor=1, position=1),
            unit_row(number="102", floor="十八", position=2),
            unit_row(number="103", floor=1, position=3, price="abc"),
        ]
    )

    response = client_for(manager).post(
        reverse("inventory:import", args=[project.pk]), {"file": upload(content)}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "import-errors" in page
    assert "导入失败：第 3 行等共 2 处错误，未导入任何房源" in page
    assert "十八" in page and "abc" in page
    assert not Unit.objects.filter(building=building3).exists()


# --- bad cells ----------------------------------------------------------------------------------

BAD_CELLS = [
    pytest.param({"building": None}, "楼栋", "必填", id="blank-building"),
    pytest.param({"number": "   "}, "房号", "必填", id="blank-number"),
    pytest.param({"gross": None}, "建筑面积", "必填", id="blank-area"),
    pytest.param({"building": "9栋"}, "楼栋", "可填写：1栋、2栋、3栋", id="unknown-building"),
    pytest.param({"number": "1" * 21}, "房号", "最多 20 个字", id="number-too-long"),
    pytest.param({"number": datetime.datetime(2024, 1, 18)}, "房号", "日期", id="number-became-a-date"),
    pytest.param({"floor": "十八"}, "楼层", "数字", id="text-floor"),
    pytest.param({"floor": 18.5}, "楼层", "整数", id="fractional-floor"),
    pytest.param({"floor": 0}, "楼层", "没有第 0 层", id="floor-zero"),
    pytest.param({"floor": -6}, "楼层", "-5 到 120", id="floor-too-deep"),
    pytest.param({"floor": 31}, "楼层", "只有 30 层", id="floor-above-building"),
    pytest.param({"position": 5}, "位置", "每层只有 4 户", id="position-beyond-floor"),
    pytest.param({"position": 0}, "位置", "1 到 40", id="position-zero"),
    pytest.param({"layout": "户" * 31}, "户型名", "最多 30 个字", id="layout-too-long"),
    pytest.param({"bedrooms": 0}, "室", "1 到 9", id="no-bedroom"),
    pytest.param({"halls": 10}, "厅", "0 到 9", id="too-many-halls"),
    pytest.param({"bathrooms": True}, "卫", "TRUE/FALSE", id="boolean-bathrooms"),
    pytest.param({"gross": -5}, "建筑面积", "大于 0", id="negative-area"),
    pytest.param({"gross": 98.123}, "建筑面积", "两位小数", id="area-three-decimals"),
    pytest.param({"gross": 2500}, "建筑面积", "不能超过 2,000", id="area-too-large"),
    pytest.param({"usable": 0}, "套内面积", "大于 0", id="zero-usable-area"),
    pytest.param({"usable": 120}, "套内面积", "不能大于建筑面积", id="usable-above-gross"),
    pytest.param({"orientation": "XX"}, "朝向", "NS（南北通透）", id="unknown-orientation"),
    pytest.param({"price": "abc"}, "总价", "数字", id="text-price"),
    pytest.param({"price": 0}, "总价", "大于 0", id="zero-price"),
    pytest.param({"price": "-3,000,000"}, "总价", "大于 0", id="negative-price"),
    pytest.param({"price": 1e12}, "总价", "多写了 0", id="price-too-large"),
    pytest.param({"price": "NaN"}, "总价", "数字", id="nan-price"),
]


@pytest.mark.parametrize(("changes", "column", "fragment"), BAD_CELLS)
def test_a_bad_cell_rejects_the_file_naming_row_column_and_fix(
    project: Project,
    manager: User,
    building3: Building,
    changes: dict[str, object],
    column: str,
    fragment: str,
) -> None:
    content = xlsx(
        [
            unit_row(number="1801", floor=18, position=1),
            unit_row(**{"number": "1802", "position": 2, **changes}),
        ]
    )

    rejected = rejection(project, manager, content)

    error = error_at(rejected, 3, column)
    assert fragment in error.message
    assert len(rejected.errors) == 1, rejected.errors
    assert "第 3 行" in rejected.message and "未导入任何房源" in rejected.message
    assert not Unit.objects.filter(building=building3).exists()


def test_the_cell_value_is_shown_and_shortened(project: Project, manager: User, building3: Building) -> None:
    rejected = rejection(project, manager, xlsx([unit_row(orientation="很" * 80)]))

    value = error_at(rejected, 2, "朝向").value
    assert len(value) == 50 and value.startswith("很很")


def test_every_error_of_every_row_is_collected_in_reading_order(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx(
        [
            unit_row(number="101", floor=1, position=1),
            unit_row(number="102", floor=1, position=2, bedrooms=0, price="abc"),
            unit_row(number="103", floor=1, position=3),
            unit_row(building="9栋", number="", floor=1.5, position=41, orientation="XX"),
        ]
    )

    rejected = rejection(project, manager, content)

    assert [(error.row, error.column) for error in rejected.errors] == [
        (3, "室"),
        (3, "总价"),
        (5, "楼栋"),
        (5, "房号"),
        (5, "楼层"),
        (5, "位置"),
        (5, "朝向"),
    ]
    assert rejected.message == "导入失败：第 3 行等共 7 处错误，未导入任何房源。请按下表修改后重新上传。"


def test_one_bad_row_among_many_good_rows_imports_nothing(
    project: Project, manager: User, building3: Building
) -> None:
    rows = [
        unit_row(number=f"{floor}0{position}", floor=floor, position=position)
        for floor in range(1, 26)
        for position in range(1, 5)
    ]
    rows[76][11] = "三百万"  # Excel row 78

    rejected = rejection(project, manager, xlsx(rows))

    assert [(error.row, error.column, error.value) for error in rejected.errors] == [(78, "总价", "三百万")]
    assert not Unit.objects.filter(building=building3).exists()


# --- duplicates ---------------------------------------------------------------------------------


def test_a_number_repeated_in_the_file_is_reported_on_both_rows(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx(
        [
            unit_row(number="1801", floor=18, position=1),
            unit_row(number="1802", floor=18, position=2),
            unit_row(number="1801", floor=18, position=3),
        ]
    )

    rejected = rejection(project, manager, content)

    assert [(error.row, error.column) for error in rejected.errors] == [(2, "房号"), (4, "房号")]
    assert all("第 2、4 行" in error.message for error in rejected.errors)


def test_the_same_number_in_two_buildings_is_fine(
    project: Project, manager: User, building3: Building
) -> None:
    BuildingFactory(project=project, name="4栋", floors=30, units_per_floor=4, sort_order=4)
    content = xlsx([unit_row(building="3栋"), unit_row(building="4栋")])

    assert units_import(project=project, upload=upload(content), by=manager) == 2


def test_a_position_repeated_in_the_file_is_reported_on_both_rows(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx(
        [
            unit_row(number="1801", floor=18, position=1),
            unit_row(number="1801A", floor=18, position=1),
        ]
    )

    rejected = rejection(project, manager, content)

    assert [(error.row, error.column) for error in rejected.errors] == [(2, "位置"), (3, "位置")]
    assert "第 2、3 行" in rejected.errors[0].message


def test_a_duplicate_is_found_even_when_the_row_has_other_errors(
    project: Project, manager: User, building3: Building
) -> None:
    content = xlsx([unit_row(number="1801", position=1), unit_row(number="1801", position=2, price="abc")])

    rejected = rejection(project, manager, content)

    assert [(error.row, error.column) for error in rejected.errors] == [(2, "房号"), (3, "房号"), (3, "总价")]


def test_a_unit_already_in_the_database_is_reported(project: Project, manager: User) -> None:
    # The project fixture has 1栋 with 101, 102, 201, 202, 301, 302.
    content = xlsx(
        [
            unit_row(building="1栋", number="101", floor=1, position=1, orientation="S"),
            unit_row(building="1栋", number="2-B", floor=2, position=2),
            unit_row(building="2栋", number="999", floor=3, position=2, gross=80, usable=66),
        ]
    )

    rejected = rejection(project, manager, content)

    assert [(error.row, error.column) for error in rejected.errors] == [(2, "房号"), (3, "位置"), (4, "位置")]
    assert "系统中已有 1栋 101" in rejected.errors[0].message
    assert "已是系统中的房源 202" in rejected.errors[1].message
    assert "已是系统中的房源 302" in rejected.errors[2].message


def test_a_unit_inserted_concurrently_becomes_a_rejection_not_a_500(
    project: Project, manager: User, building3: Building
) -> None:
    """Someone creates 3栋 1801 after the checks ran and before our insert: the database refuses."""
    content = xlsx([unit_row(number="1801", floor=18, position=1)])
    rival_inserted: list[bool] = []

    def insert_rival_first(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not rival_inserted and sql.startswith('INSERT INTO "inventory_unit"'):
            rival_inserted.append(True)
            UnitFactory(building=building3, number="1801", floor=18, position=1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(insert_rival_first):
        rejected = rejection(project, manager, content)

    assert rival_inserted
    assert rejected.errors[0].row == 0
    assert "刚好新增了相同房号" in rejected.message


# --- row limit, headers and the file itself ------------------------------------------------------


def test_too_many_rows_are_refused_with_the_limit(
    project: Project, manager: User, building3: Building, settings: Settings
) -> None:
    settings.UNIT_IMPORT_MAX_ROWS = 3
    rows = [unit_row(number=f"{n}01", floor=n, position=1) for n in range(1, 5)]

    rejected = rejection(project, manager, xlsx(rows))

    assert len(rejected.errors) == 1 and rejected.errors[0].row == 0
    assert "最多导入 3 行" in rejected.message


def test_a_missing_header_is_named(project: Project, manager: User, building3: Building) -> None:
    headers = [header for header in HEADERS if header != "楼层"]
    row = unit_row()
    del row[2]

    rejected = rejection(project, manager, xlsx([row], headers=headers))

    assert [(error.row, error.column) for error in rejected.errors] == [(1, "楼层")]
    assert "缺少“楼层”列" in rejected.errors[0].message


def test_a_misnamed_header_is_named_with_the_column_it_replaces(
    project: Project, manager: User, building3: Building
) -> None:
    headers = ["面积" if header == "建筑面积" else header for header in HEADERS]

    rejected = rejection(project, manager, xlsx([unit_row()], headers=headers))

    messages = [error.message for error in rejected.errors]
    assert any("缺少“建筑面积”列" in message for message in messages)
    assert any("第 I 列的表头“面积”" in message for message in messages)


def test_a_repeated_header_is_named(project: Project, manager: User, building3: Building) -> None:
    rejected = rejection(project, manager, xlsx([[*unit_row(), 3]], headers=[*HEADERS, "室"]))

    assert [(error.row, error.column) for error in rejected.errors] == [(1, "室")]
    assert "第 F、M 列" in rejected.errors[0].message


def test_a_sheet_without_the_header_row_is_explained(
    project: Project, manager: User, building3: Building
) -> None:
    rejected = rejection(project, manager, xlsx([unit_row()], headers=[]))

    assert [(error.row, error.column) for error in rejected.errors] == [(1, "")]
    assert "第 1 行不是模板的表头" in rejected.errors[0].message


def test_a_sheet_with_only_headers_is_refused(project: Project, manager: User) -> None:
    rejected = rejection(project, manager, xlsx([]))

    assert "只有表头" in rejected.message


def test_an_empty_workbook_is_refused(project: Project, manager: User) -> None:
    rejected = rejection(project, manager, xlsx([], headers=[]))

    assert "没有任何内容" in rejected.message


def _zip_without_workbook() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return output.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        pytest.param(b"", "房源.xlsx", "文件是空的", id="empty"),
        pytest.param(b"hello", "房源.xlsx", "不是有效的 Excel（.xlsx）", id="text"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "房源.xls", "另存为", id="old-xls"),
        pytest.param("楼栋,房号\n3栋,1801\n".encode(), "房源.csv", "CSV", id="csv"),
        pytest.param(_zip_without_workbook(), "房源.xlsx", "不是有效的 Excel（.xlsx）", id="zip-not-xlsx"),
        pytest.param(xlsx([unit_row()])[:2000], "房源.xlsx", "已经损坏", id="truncated"),
        pytest.param(b"0" * (5 * 1024 * 1024 + 1), "房源.xlsx", "不能超过 5 MB", id="too-big"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_clear_reason(
    project: Project, manager: User, content: bytes, name: str, fragment: str
) -> None:
    rejected = rejection(project, manager, content, name)

    assert [error.row for error in rejected.errors] == [0]
    assert fragment in rejected.message
    assert rejected.message.startswith("导入失败：")


def test_a_corrupt_sheet_inside_a_valid_zip_is_refused(
    project: Project, manager: User, building3: Building
) -> None:
    source = zipfile.ZipFile(io.BytesIO(xlsx([unit_row()])))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            archive.writestr(item, data)

    rejected = rejection(project, manager, output.getvalue())

    assert "已经损坏" in rejected.message
