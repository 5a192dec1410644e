"""Printed documents (issue 5 item 5): the 认购书 and the 来访登记表 as PDF with Chinese text.

Each PDF is read back with pypdf: the text must hold what a buyer signs (unit, prices in figures and
capitals, deposit, deadline, signature lines), the fonts must be embedded CJK fonts, and the usual
rules hold (404 for what the viewer may not see, masked phones, one access-log row per download).
"""

import io
import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import cast
from urllib.parse import unquote

import pytest
from django.urls import reverse
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.core.models import AccessAction, AccessLog
from anchang.core.money import rmb_upper
from anchang.customers.needs import needs_update
from anchang.deals.models import Subscription, SubscriptionStatus
from anchang.deals.services import (
    subscription_cancel,
    subscription_contract,
    subscription_create,
    subscription_reject,
)
from anchang.inventory.models import Unit
from anchang.reception.services import check_in
from anchang.reception.testing import record_risk_disclosure

PHONE = "13812345678"
MASKED = "138****5678"

# --- 人民币大写 (anchang.core.money) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("3120000.00", "叁佰壹拾贰万元整"),  # the example
        ("0", "零元整"),
        ("0.00", "零元整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),  # a leading 1 is written out
        ("15", "壹拾伍元整"),
        ("200", "贰佰元整"),
        ("1010", "壹仟零壹拾元整"),  # one 零 for the zero inside, none for the one at the end
        ("1001", "壹仟零壹元整"),  # one 零 for two zeros
        ("10500", "壹万零伍佰元整"),  # a section below 1000 after 万 starts with 零
        ("10005", "壹万零伍元整"),
        ("100000", "壹拾万元整"),
        ("100000.50", "壹拾万元伍角整"),  # yuan ending in zeros: no 零 before 角 (both are allowed)
        ("10000010", "壹仟万零壹拾元整"),
        ("100000000", "壹亿元整"),
        ("100005000", "壹亿零伍仟元整"),  # an empty 万 section: no 万, one 零
        ("1000000001", "壹拾亿零壹元整"),
        ("2850000", "贰佰捌拾伍万元整"),
        ("3070000", "叁佰零柒万元整"),
        ("50000", "伍万元整"),
        ("1409.50", "壹仟肆佰零玖元伍角整"),  # the central bank's example, 整 after 角
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),  # 角 zero, 分 not: 零 after 元
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("0.5", "伍角整"),  # below one yuan: no 元
        ("0.05", "伍分"),
        ("0.55", "伍角伍分"),
        ("0.005", "壹分"),  # rounded half up to the fen, like `yuan`
        ("0.004", "零元整"),
        ("3,120,000.00", "叁佰壹拾贰万元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_capital_amounts_follow_the_banking_rules(amount: str, capitals: str) -> None:
    assert rmb_upper(Decimal(amount.replace(",", ""))) == capitals
    assert rmb_upper(amount) == capitals


def test_capital_amounts_accept_ints_and_floats() -> None:
    assert rmb_upper(3120000) == "叁佰壹拾贰万元整"
    assert rmb_upper(0.1) == "壹角整"
    assert rmb_upper(12.34) == "壹拾贰元叁角肆分"


@pytest.mark.parametrize("bad", ["-1", "-0.01", "NaN", "Infinity", "abc", "", "1000000000000", True])
def test_capital_amounts_refuse_what_is_not_a_payable_amount(bad: object) -> None:
    with pytest.raises(ValueError):
        rmb_upper(bad)


# --- fixtures ---------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    """All text of the PDF without whitespace: pypdf breaks lines where the layout does."""
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def embedded_fonts(content: bytes) -> set[str]:
    """The base font names of every font embedded in the PDF (a subset prefix like ABCDEF+ removed)."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        fonts = cast(DictionaryObject, resources["/Font"].get_object())
        for ref in fonts.values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(descendant["/BaseFont"]).split("+", 1)[-1])
    return names


@pytest.fixture
def visit(project, frontdesk, on_duty):
    """王小明 checked in by the desk and received by 顾问1, who becomes his owner."""
    return check_in(
        project=project,
        phone=PHONE,
        name="王小明",
        gender="male",
        party_size=2,
        source="friend",
        by=frontdesk,
        consent=True,
    ).visit


@pytest.fixture
def unit(project):
    unit = Unit.objects.select_related("building").get(project=project, building__name="1栋", number="101")
    # A list price that makes the example: ¥3,150,000 listed, ¥3,120,000 agreed (0.95 % off).
    Unit.objects.filter(pk=unit.pk).update(list_price_total=Decimal("3150000.00"))
    return unit


def subscribe(visit, unit, by, price: str = "3120000.00", deposit: str = "50000.00") -> Subscription:
    record_risk_disclosure(customer=visit.customer)
    return subscription_create(
        unit_id=unit.pk,
        customer=visit.customer,
        price=Decimal(price),
        deposit=Decimal(deposit),
        by=by,
        subscribed_on=date(2026, 11, 26),
    )


@pytest.fixture
def subscription(visit, unit, on_duty):
    return subscribe(visit, unit, on_duty[0])


def letter_url(subscription: Subscription) -> str:
    return reverse("documents:subscription_letter", args=[subscription.pk])


def visit_url(visit) -> str:
    return reverse("documents:visit_registration_form", args=[visit.pk])


# --- 认购书 -----------------------------------------------------------------------------------------


def test_the_letter_is_a_pdf_with_the_unit_prices_deposit_deadline_and_signature_lines(
    client_for, subscription, on_duty, project
) -> None:
    response = client_for(on_duty[0]).get(letter_url(subscription))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Cache-Control"] == "private, no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename*=UTF-8''")
    assert unquote(disposition.split("''", 1)[1]) == f"认购书-1栋101-RG{subscription.pk:06d}.pdf"

    text = pdf_text(response.content)
    project.company.refresh_from_db()
    for expected in [
        "认购书",
        project.name,
        project.company.name,  # the developer
        f"RG{subscription.pk:06d}",
        "王小明",
        PHONE,  # the owner consultant sees the full number, as on screen
        "顾问1",
        # the unit: building, number, floor, layout, areas, orientation
        "1栋",
        "101",
        "1层",
        "3室2厅2卫",
        "100.00㎡",
        "82.00㎡",
        "南北通透",
        # list price, agreed price in figures and capitals, discount, deposit in figures and capitals
        "¥3,150,000.00",
        "¥3,120,000.00",
        "人民币叁佰壹拾贰万元整",
        "较表价优惠¥30,000.00（0.95%）",
        "¥50,000.00",
        "人民币伍万元整",
        "¥3,070,000.00",
        "人民币叁佰零柒万元整",
        # date, deadline and what happens when it passes
        "2026-11-26",
        "2026-12-03",  # 7 days (the project's sign_within_days)
        "认购书自动失效",
        "定金不退",
        # signature and date lines
        "买受人（签字）",
        "出卖人（盖章）",
        "置业顾问（签字）",
        "日期：",
        "第1页，共1页",
        "打印：顾问1",
    ]:
        assert squeeze(expected) in text, expected
    assert "作废" not in text and "待审批" not in text


def test_the_letter_embeds_cjk_fonts(client_for, subscription, on_duty) -> None:
    content = client_for(on_duty[0]).get(letter_url(subscription)).content
    fonts = embedded_fonts(content)
    assert fonts, "no embedded font"
    assert all("CJK" in name for name in fonts), fonts
    assert {"Noto-Sans-CJK-SC", "Noto-Serif-CJK-SC"} <= {name.removesuffix("-Bold") for name in fonts}


@pytest.mark.parametrize("role_fixture", ["manager", "frontdesk"])
def test_the_desk_and_managers_get_the_letter_with_a_masked_phone(
    client_for, subscription, role_fixture, request
) -> None:
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(letter_url(subscription))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert MASKED in text and PHONE not in text
    assert "王小明" in text and "人民币叁佰壹拾贰万元整" in text


def test_each_download_writes_one_access_log_row_as_an_export(
    client_for, subscription, on_duty, manager
) -> None:
    client_for(on_duty[0]).get(letter_url(subscription))
    client_for(manager).get(letter_url(subscription))
    rows = list(AccessLog.objects.order_by("pk"))
    assert [(row.user, row.action) for row in rows] == [
        (on_duty[0], AccessAction.EXPORT),
        (manager, AccessAction.EXPORT),
    ]
    first = rows[0]
    assert first.object_type == "deals.subscription" and first.object_id == subscription.pk
    assert first.project_id == subscription.project_id
    assert first.reason == "打印认购书" and first.ip == "127.0.0.1"
    assert first.data == {
        "document": "subscription_letter",
        "customer_id": subscription.customer_id,
        "phone": "full",
    }
    assert rows[1].data["phone"] == "masked"


def test_another_consultant_gets_404_and_nothing_is_logged(client_for, subscription, on_duty) -> None:
    assert client_for(on_duty[1]).get(letter_url(subscription)).status_code == 404
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role_fixture", ["agent", "attendant", "service"])
def test_roles_without_customer_access_get_404(client_for, subscription, role_fixture, request) -> None:
    user = request.getfixturevalue(role_fixture)
    assert client_for(user).get(letter_url(subscription)).status_code == 404
    assert not AccessLog.objects.exists()


def test_another_projects_manager_gets_404(client_for, subscription, other_project) -> None:
    stranger = user_in(other_project, role=Role.MANAGER, username="manager_elsewhere")
    assert client_for(stranger).get(letter_url(subscription)).status_code == 404
    assert not AccessLog.objects.exists()


def test_an_admin_may_print_any_letter(client_for, subscription, admin_user) -> None:
    assert client_for(admin_user).get(letter_url(subscription)).status_code == 200


def test_unknown_ids_anonymous_users_and_posts_are_refused(client, client_for, subscription, on_duty) -> None:
    assert client.get(letter_url(subscription)).status_code == 302  # to the login page
    owner = client_for(on_duty[0])
    assert owner.get(reverse("documents:subscription_letter", args=[999999])).status_code == 404
    assert owner.post(letter_url(subscription)).status_code == 405
    assert not AccessLog.objects.exists()


def test_the_seller_keeps_the_letter_after_the_customer_moves_to_another_consultant(
    client_for, subscription, on_duty
) -> None:
    from anchang.customers.models import Customer

    Customer.objects.filter(pk=subscription.customer_id).update(owner=on_duty[2])
    response = client_for(on_duty[0]).get(letter_url(subscription))
    assert response.status_code == 200
    text = pdf_text(response.content)
    # No longer the owner: the name is the public form, the phone masked.
    assert MASKED in text and PHONE not in text and "王小明" not in text and "王先生" in text


def test_a_cancelled_letter_is_marked_void(client_for, subscription, on_duty, manager) -> None:
    subscription_cancel(subscription_id=subscription.pk, by=manager, reason="客户资金安排变化")
    text = pdf_text(client_for(manager).get(letter_url(subscription)).content)
    assert "已退订—作废" in text  # the banner
    assert "已退订作废" in text  # the watermark
    assert "客户资金安排变化" in text
    assert "人民币叁佰壹拾贰万元整" in text  # still the record of what was agreed


def test_a_rejected_letter_is_marked_void(client_for, visit, unit, on_duty, manager) -> None:
    pending = subscribe(visit, unit, on_duty[0], price="3000000.00")
    subscription_reject(subscription_id=pending.pk, by=manager, note="优惠过大")
    text = pdf_text(client_for(manager).get(letter_url(pending)).content)
    assert "审批未通过—作废" in text


def test_a_letter_waiting_for_approval_says_so(client_for, visit, unit, on_duty) -> None:
    pending = subscribe(visit, unit, on_duty[0], price="3000000.00")
    assert pending.status == SubscriptionStatus.PENDING_APPROVAL
    text = pdf_text(client_for(on_duty[0]).get(letter_url(pending)).content)
    assert "待审批" in text and "经案场经理审批通过后" in text
    assert "人民币叁佰万元整" in text and "较表价优惠¥150,000.00（4.76%）" in text
    assert "作废" not in text


def test_a_contracted_letter_names_the_contract(client_for, subscription, on_duty) -> None:
    subscription_contract(subscription_id=subscription.pk, by=on_duty[0], contract_number="HT-2026-0001")
    text = pdf_text(client_for(on_duty[0]).get(letter_url(subscription)).content)
    assert "已签约" in text and "HT-2026-0001" in text and "作废" not in text


def test_a_price_at_list_says_there_is_no_discount(client_for, visit, unit, on_duty) -> None:
    sold = subscribe(visit, unit, on_duty[0], price="3150000.00", deposit="100000.50")
    text = pdf_text(client_for(on_duty[0]).get(letter_url(sold)).content)
    assert "无优惠，按表价成交" in text
    assert "人民币叁佰壹拾伍万元整" in text and "人民币壹拾万元伍角整" in text


def test_text_typed_by_users_is_printed_as_text_not_markup(
    client_for, project, frontdesk, on_duty, unit, tmp_path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容")
    name = f'<img src="file://{secret}">王'[:50]
    visit = check_in(project=project, phone="13912345678", name=name, by=frontdesk, consent=True).visit
    sold = subscribe(visit, unit, on_duty[0])
    text = pdf_text(client_for(on_duty[0]).get(letter_url(sold)).content)
    assert squeeze(name) in text and "机密内容" not in text


# --- 来访登记表 --------------------------------------------------------------------------------------


def test_the_registration_form_of_a_visit_is_prefilled(client_for, visit, frontdesk, project) -> None:
    response = client_for(frontdesk).get(visit_url(visit))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    name = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert re.fullmatch(rf"来访登记表-\d{{8}}-LF{visit.pk:06d}\.pdf", name)
    text = pdf_text(response.content)
    from django.utils import timezone

    checked_in = timezone.localtime(visit.checked_in_at)
    for expected in [
        "来访客户登记表",
        project.name,
        f"LF{visit.pk:06d}",
        f"到访日期{checked_in:%Y-%m-%d}",
        f"到访时间{checked_in:%H:%M}",
        "客户姓名王小明",
        f"手机号码{MASKED}",  # the desk sees masked numbers
        "√男",
        "来访人数2人",
        "√首访",
        "接待顾问顾问1",
        "√朋友介绍",
        "尚未记录购房需求",
        "个人信息告知",
        "本人已阅读并理解上述个人信息告知",
        "登记时已取得本人同意",
        "来访人签字",
        "登记人：",
        "接待顾问签字",
    ]:
        assert squeeze(expected) in text, expected
    assert PHONE not in text
    assert embedded_fonts(response.content) and all("CJK" in f for f in embedded_fonts(response.content))


def test_the_registration_form_shows_the_recorded_needs(client_for, visit, on_duty) -> None:
    needs_update(
        customer=visit.customer,
        by=on_duty[0],
        purpose="upgrade",
        budget_min="3000000",
        budget_max="3500000",
        bedrooms=3,
        area_min="89.5",
        orientation="NS",
        buildings=["1栋", "2栋"],
        concerns="担心学区名额，希望离地铁近一些",
    )
    text = pdf_text(client_for(on_duty[0]).get(visit_url(visit)).content)
    for expected in [
        "置业目的改善",
        "总价预算300万–350万",
        "居室3室",
        "面积89.5㎡以上",
        "朝向南北通透",
        "意向楼栋1栋、2栋",
        "抗性/顾虑担心学区名额，希望离地铁近一些",  # free text in full
        f"手机号码{PHONE}",  # the owner sees the full number
    ]:
        assert squeeze(expected) in text, expected


def test_each_registration_form_download_is_logged(client_for, visit, frontdesk) -> None:
    client_for(frontdesk).get(visit_url(visit))
    row = AccessLog.objects.get()
    assert (row.user, row.action, row.object_type, row.object_id) == (
        frontdesk,
        AccessAction.EXPORT,
        "reception.visit",
        visit.pk,
    )
    assert row.project_id == visit.project_id and row.reason == "打印来访登记表"
    assert row.data == {
        "document": "visit_registration_form",
        "customer_id": visit.customer_id,
        "phone": "masked",
    }


def test_the_registration_form_follows_who_may_see_the_visit(
    client_for, visit, on_duty, agent, other_project
) -> None:
    assert client_for(on_duty[1]).get(visit_url(visit)).status_code == 404
    assert client_for(agent).get(visit_url(visit)).status_code == 404
    stranger = user_in(other_project, role=Role.FRONTDESK, username="desk_elsewhere")
    assert client_for(stranger).get(visit_url(visit)).status_code == 404
    assert (
        client_for(on_duty[0]).get(reverse("documents:visit_registration_form", args=[0])).status_code == 404
    )
    assert not AccessLog.objects.exists()


def test_the_consultant_who_received_the_visit_keeps_the_form_without_the_phone(
    client_for, visit, on_duty
) -> None:
    from anchang.customers.models import Customer

    Customer.objects.filter(pk=visit.customer_id).update(owner=on_duty[2])
    response = client_for(on_duty[0]).get(visit_url(visit))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert MASKED in text and "王先生" in text and "王小明" not in text


def test_the_blank_registration_form_has_lines_to_fill_in(client_for, frontdesk, project) -> None:
    response = client_for(frontdesk).get(reverse("documents:blank_registration_form", args=[project.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    name = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert name == f"来访登记表-{project.name}.pdf"
    text = pdf_text(response.content)
    for expected in [
        "来访客户登记表",
        project.name,
        "欢迎莅临",
        "到访日期年月日",
        "客户姓名",
        "手机号码",
        "男女",
        "首访复访",
        "路过朋友介绍网络户外广告来电老业主推荐",
        "置业目的自住改善投资养老教育",
        "总价预算至万元",
        "意向等级",
        "个人信息告知",
        "来访人签字",
        "第1页，共1页",
    ]:
        assert squeeze(expected) in text, expected
    assert "√" not in text
    assert not AccessLog.objects.exists()  # no personal data in a blank form


@pytest.mark.parametrize("role_fixture", ["manager", "consultant", "frontdesk"])
def test_site_staff_may_print_the_blank_form(client_for, project, role_fixture, request) -> None:
    user = request.getfixturevalue(role_fixture)
    url = reverse("documents:blank_registration_form", args=[project.pk])
    assert client_for(user).get(url).status_code == 200


@pytest.mark.parametrize("role_fixture", ["agent", "attendant", "service"])
def test_other_roles_and_projects_get_404_for_the_blank_form(
    client_for, project, other_project, role_fixture, request
) -> None:
    user = request.getfixturevalue(role_fixture)
    assert (
        client_for(user).get(reverse("documents:blank_registration_form", args=[project.pk])).status_code
        == 404
    )
    desk = user_in(project, role=Role.FRONTDESK, username="desk_here")
    url = reverse("documents:blank_registration_form", args=[other_project.pk])
    assert client_for(desk).get(url).status_code == 404


# --- links on the pages -----------------------------------------------------------------------------


def test_pages_link_to_the_printed_forms(client_for, visit, frontdesk, manager, project) -> None:
    form = visit_url(visit)
    blank = reverse("documents:blank_registration_form", args=[project.pk])
    assert form in client_for(frontdesk).get(reverse("reception:visit", args=[visit.pk])).content.decode()
    assert (
        blank in client_for(frontdesk).get(reverse("reception:checkin", args=[project.pk])).content.decode()
    )
    page = client_for(manager).get(reverse("customers:detail", args=[visit.customer_id])).content.decode()
    assert form in page


# --- what it looks like -----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_documents_render_to_images(
    client_for, subscription, visit, on_duty, project, manager, tmp_path: Path
) -> None:
    """Each document fits on one A4 page. Set ANCHANG_PDF_PREVIEW_DIR to keep the PDFs and PNGs."""
    out = Path(os.environ.get("ANCHANG_PDF_PREVIEW_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    client = client_for(on_duty[0])
    documents = {
        "letter": letter_url(subscription),
        "visit": visit_url(visit),
        "blank": reverse("documents:blank_registration_form", args=[project.pk]),
        "cancelled": letter_url(subscription),
    }
    for name, url in documents.items():
        if name == "cancelled":
            subscription_cancel(subscription_id=subscription.pk, by=manager, reason="客户资金安排变化")
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(client.get(url).content)
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(out / name)], check=True)
        pages = sorted(out.glob(f"{name}-*.png"))
        assert len(pages) == 1, name  # each document fits on one A4 page
        assert pages[0].read_bytes().startswith(b"\x89PNG") and pages[0].stat().st_size > 20_000
