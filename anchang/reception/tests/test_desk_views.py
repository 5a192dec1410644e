"""The front desk's pages: check-in screen, preview, family search, visit page, hall board, queue page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anchang.accounts.models import Role
from anchang.accounts.testing import user_in
from anchang.customers.models import AttributionRule, Customer
from anchang.reception.models import QueueState, RotationEntry, Visit, VisitState
from anchang.reception.services import check_in

pytestmark = pytest.mark.django_db


def test_check_in_screen_registers_and_shows_who_receives_and_why(
    client_for, project, frontdesk, on_duty
) -> None:
    client = client_for(frontdesk)
    url = reverse("reception:checkin", args=[project.pk])
    assert "autofocus" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "phone_or_code": "138 1234 5678",
            "name": "王小明",
            "gender": "male",
            "party_size": 2,
            "source": "friend",
            "consent": "on",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "请 顾问1 接待" in html and "首次到访" in html
    visit = Visit.objects.get()
    assert visit.consultant == on_duty[0] and visit.party_size == 2


def test_check_in_screen_shows_errors_inline_and_stores_nothing(
    client_for, project, frontdesk, on_duty
) -> None:
    url = reverse("reception:checkin", args=[project.pk])
    response = client_for(frontdesk).post(url, {"phone_or_code": "12345", "party_size": 1, "consent": "on"})
    assert response.status_code == 400
    assert "请输入正确的中国大陆手机号码" in response.content.decode()
    no_consent = client_for(frontdesk).post(url, {"phone_or_code": "13812345678", "party_size": 1})
    assert no_consent.status_code == 400
    assert not Visit.objects.exists() and not Customer.objects.exists()


def test_script_in_a_name_is_shown_escaped(client_for, project, frontdesk, on_duty) -> None:
    client = client_for(frontdesk)
    client.post(
        reverse("reception:checkin", args=[project.pk]),
        {
            "phone_or_code": "13812345678",
            "name": "<script>alert(1)</script>",
            "party_size": 1,
            "consent": "on",
        },
    )
    visit = Visit.objects.get()
    html = client.get(reverse("reception:visit", args=[visit.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_live_preview_judges_without_writing(client_for, project, frontdesk, on_duty) -> None:
    url = reverse("reception:checkin_preview", args=[project.pk])
    html = client_for(frontdesk).get(url, {"phone_or_code": "13812345678"}).content.decode()
    assert "首访" in html and "轮排" in html
    assert not Customer.objects.exists()


def test_booking_code_checks_in_with_the_bookings_data(client_for, project, frontdesk, on_duty) -> None:
    from django.utils import timezone

    from anchang.reception.appointments import appointment_create

    start = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    if start <= timezone.now():
        pytest.skip("too late in the day to book for today")
    appointment = appointment_create(
        project=project,
        name="赵先生",
        phone="13612345678",
        start_at=start,
        consent=True,
        channel="desk",
        by=frontdesk,
        consultant=on_duty[2],
    )
    response = client_for(frontdesk).post(
        reverse("reception:checkin", args=[project.pk]),
        {"phone_or_code": appointment.code.lower(), "party_size": 1, "consent": "on"},
    )
    assert response.status_code == 200
    visit = Visit.objects.get()
    assert visit.customer.phone == "+8613612345678" and visit.customer.name == "赵先生"
    assert visit.consultant == on_duty[2] and visit.rule == AttributionRule.DESIGNATED
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def test_family_search_finds_by_last_four_digits_and_masks(client_for, project, frontdesk) -> None:
    Customer.objects.create(project=project, phone="+8613812345678", name="王大明", gender="male")
    html = (
        client_for(frontdesk)
        .get(reverse("reception:checkin_family", args=[project.pk]), {"q": "5678"})
        .content.decode()
    )
    assert "王先生" in html and "138****5678" in html and "王大明" not in html


def test_visit_page_explains_the_decision(client_for, project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    html = client_for(frontdesk).get(reverse("reception:visit", args=[result.visit.pk])).content.decode()
    assert "为什么是这位顾问" in html and result.attribution.explanation in html


def test_the_receiver_reads_and_taps_the_number_the_desk_sees_it_masked(
    client_for, project, frontdesk, on_duty
) -> None:
    result = check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    url = reverse("reception:visit", args=[result.visit.pk])

    mine = client_for(on_duty[0]).get(url).content.decode()
    desk = client_for(frontdesk).get(url).content.decode()

    assert 'href="tel:13812345678"' in mine and "138 1234 5678" in mine and "+86" not in mine
    assert "138****5678" in desk and "13812345678" not in desk


def test_another_consultants_visit_is_404(client_for, project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    assert client_for(on_duty[1]).get(reverse("reception:visit", args=[result.visit.pk])).status_code == 404
    assert client_for(on_duty[0]).get(reverse("reception:visit", args=[result.visit.pk])).status_code == 200


def test_consultant_ends_a_reception_from_the_visit_page(client_for, project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    client_for(on_duty[0]).post(reverse("checkout:visit", args=[result.visit.pk]), {"outcome": "return"})
    assert Visit.objects.get(pk=result.visit.pk).state == VisitState.ENDED
    assert RotationEntry.objects.get(consultant=on_duty[0]).state == QueueState.WAITING


def test_hall_board_shows_public_names_only_and_refreshes_itself(
    client_for, project, frontdesk, on_duty
) -> None:
    check_in(project=project, phone="13812345678", name="王小明", gender="male", by=frontdesk, consent=True)
    html = client_for(frontdesk).get(reverse("reception:hall", args=[project.pk])).content.decode()
    assert "王先生" in html and "王小明" not in html and "13812345678" not in html and "138****" not in html
    assert 'hx-trigger="every 4s"' in html


def test_hall_board_query_count_is_fixed(client_for, project, frontdesk, on_duty) -> None:
    client = client_for(frontdesk)
    url = reverse("reception:hall", args=[project.pk])
    check_in(project=project, phone="13812345678", by=frontdesk, consent=True)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url, HTTP_HX_REQUEST="true")
    for i in range(6):
        check_in(project=project, phone=f"1391234{i:04d}", by=frontdesk, consent=True)
    with CaptureQueriesContext(connection) as many:
        client.get(url, HTTP_HX_REQUEST="true")
    assert len(many) == len(few)


def test_rotation_page_sign_in_and_manager_actions(client_for, project, manager, consultants) -> None:
    url = reverse("reception:rotation", args=[project.pk])
    client_for(consultants[0]).post(url, {"consultant": consultants[0].pk, "action": "sign_in"})
    client = client_for(manager)
    client.post(url, {"consultant": consultants[1].pk, "action": "sign_in"})
    client.post(url, {"consultant": consultants[0].pk, "action": "lost_turn", "reason": "拒接"})
    order = list(RotationEntry.objects.order_by("position").values_list("consultant_id", flat=True))
    assert order == [consultants[1].pk, consultants[0].pk]
    response = client.post(
        url, {"consultant": consultants[0].pk, "action": "lost_turn", "reason": ""}, follow=True
    )
    assert "请填写轮空原因" in response.content.decode()


def test_consultant_cannot_change_someone_elses_state(client_for, project, on_duty) -> None:
    url = reverse("reception:rotation", args=[project.pk])
    client_for(on_duty[0]).post(url, {"consultant": on_duty[1].pk, "action": "off"})
    assert RotationEntry.objects.get(consultant=on_duty[1]).state == QueueState.WAITING


@pytest.mark.parametrize("role", [Role.AGENT, Role.SERVICE, Role.ATTENDANT])
def test_roles_outside_the_desk_cannot_check_in(client_for, project, role) -> None:
    user = user_in(project, role=role)
    assert client_for(user).get(reverse("reception:checkin", args=[project.pk])).status_code == 404


def test_appointments_on_the_hall_board_show_the_surname_only(
    client_for, project, frontdesk, on_duty
) -> None:
    from django.utils import timezone

    from anchang.reception.appointments import appointment_create

    start = timezone.localtime().replace(hour=23, minute=30, second=0, microsecond=0)
    if start <= timezone.now():
        pytest.skip("too late in the day to book for today")
    appointment_create(
        project=project,
        name="欧阳娜娜",
        phone="13612345678",
        start_at=start,
        consent=True,
        channel="desk",
        by=frontdesk,
    )
    html = client_for(frontdesk).get(reverse("reception:hall", args=[project.pk])).content.decode()
    assert "欧阳**" in html and "欧阳娜娜" not in html
