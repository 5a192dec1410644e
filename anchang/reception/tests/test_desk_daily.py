"""What the front desk meets every day: registration completeness, booking-code check-in, the live
preview, the reassign list, and how visitors are named (王先生 / 王女士 / 王**)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.customers.models import Customer
from anchang.customers.needs import needs_update
from anchang.inventory.admin import ProjectSettingsForm
from anchang.reception import appointments as svc
from anchang.reception.models import Appointment, AppointmentStatus, BookingChannel, Visit
from anchang.reception.rotation import rotation_set_state
from anchang.reception.services import check_in, visit_end

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def _book_today(project, **overrides) -> Appointment:
    values = {
        "project": project,
        "name": "王小明",
        "phone": PHONE,
        "start_at": timezone.now() + timedelta(minutes=10),
        "consent": True,
        "channel": BookingChannel.DESK,
    }
    values.update(overrides)
    return svc.appointment_create(**values)


# --- registration completeness ------------------------------------------------------------------


def test_the_flag_names_the_missing_fields_in_words_not_codes(
    client_for, project, frontdesk, on_duty
) -> None:
    client = client_for(frontdesk)
    response = client.post(
        reverse("reception:checkin", args=[project.pk]),
        {"phone_or_code": PHONE, "name": "王小明", "gender": "male", "source": "friend", "consent": "on"},
    )
    html = response.content.decode()
    assert Visit.objects.get().missing_fields == ["area_range", "layout"]
    assert "意向面积、意向户型" in html and "area_range" not in html


def test_area_and_layout_asked_at_the_desk_complete_the_registration(
    client_for, project, frontdesk, on_duty
) -> None:
    response = client_for(frontdesk).post(
        reverse("reception:checkin", args=[project.pk]),
        {
            "phone_or_code": PHONE,
            "name": "王小明",
            "gender": "male",
            "source": "friend",
            "area_band": "90-120",
            "bedrooms": "3",
            "consent": "on",
        },
    )
    assert response.status_code == 200 and "登记不完整" not in response.content.decode()
    visit = Visit.objects.get()
    assert visit.missing_fields == [] and visit.is_complete_registration
    needs = Customer.objects.get().needs
    assert (needs.area_min, needs.area_max, needs.bedrooms) == (90, 120, 3)


def test_needs_filled_during_the_visit_clear_the_flag(client_for, project, frontdesk, on_duty) -> None:
    result = check_in(
        project=project,
        phone=PHONE,
        name="王小明",
        gender="male",
        source="friend",
        by=frontdesk,
        consent=True,
    )
    assert result.visit.missing_fields == ["area_range", "layout"]
    consultant = on_duty[0]
    needs_update(customer=result.customer, by=consultant, area_min=100, bedrooms=3)
    # The visit page re-works the flag out when its needs form reports a save (htmx event).
    badge = client_for(consultant).post(reverse("reception:visit_registration", args=[result.visit.pk]))
    assert badge.status_code == 200 and "登记不完整" not in badge.content.decode()
    assert Visit.objects.get(pk=result.visit.pk).missing_fields == []


def test_needs_patched_over_the_api_clear_the_flag_at_once(
    client, project, frontdesk, on_duty, api_token_for
) -> None:
    result = check_in(
        project=project,
        phone=PHONE,
        name="王小明",
        gender="male",
        source="friend",
        by=frontdesk,
        consent=True,
    )
    assert result.visit.missing_fields == ["area_range", "layout"]
    response = client.patch(
        f"/api/v1/visits/{result.visit.pk}",
        {"needs": {"area_min": 90, "area_max": 120}},
        content_type="application/json",
        headers=api_token_for(on_duty[0]),
    )
    assert response.status_code == 200
    assert Visit.objects.get(pk=result.visit.pk).missing_fields == ["layout"]
    client.patch(
        f"/api/v1/visits/{result.visit.pk}",
        {"needs": {"bedrooms": 3}},
        content_type="application/json",
        headers=api_token_for(on_duty[0]),
    )
    assert Visit.objects.get(pk=result.visit.pk).missing_fields == []


def test_the_flag_is_worked_out_again_when_the_visit_ends(project, frontdesk, on_duty) -> None:
    result = check_in(project=project, phone=PHONE, name="王小明", by=frontdesk, consent=True)
    assert set(result.visit.missing_fields) == {"gender", "source", "area_range", "layout"}
    Customer.objects.filter(pk=result.customer.pk).update(gender="male", source="friend")
    needs_update(customer=result.customer, by=on_duty[0], area_max=90)
    ended = visit_end(visit_id=result.visit.pk, by=on_duty[0], outcome="return")
    assert ended.missing_fields == ["layout"] == Visit.objects.get(pk=result.visit.pk).missing_fields


def test_a_returning_customer_is_judged_by_what_is_on_record_not_what_was_typed_today(
    project, frontdesk, on_duty
) -> None:
    first = check_in(
        project=project,
        phone=PHONE,
        name="王小明",
        gender="male",
        source="friend",
        by=frontdesk,
        consent=True,
    )
    needs_update(customer=first.customer, by=on_duty[0], area_min=100, bedrooms=2)
    visit_end(visit_id=first.visit.pk, by=on_duty[0], outcome="return")
    again = check_in(project=project, phone=PHONE, by=frontdesk, consent=True)
    assert again.visit.missing_fields == []


def test_the_required_field_setting_accepts_only_known_fields(project) -> None:
    from django.forms.models import model_to_dict

    data = model_to_dict(project.settings)
    data["mandatory_registration_fields"] = '["name", "budget"]'
    form = ProjectSettingsForm(data=data, instance=project.settings)
    assert not form.is_valid()
    assert "budget" in form.errors["mandatory_registration_fields"][0]
    data["mandatory_registration_fields"] = '["name", "layout"]'
    assert ProjectSettingsForm(data=data, instance=project.settings).is_valid()


# --- booking-code check-in ----------------------------------------------------------------------


def test_typing_a_code_previews_who_is_booked(client_for, project, frontdesk, on_duty) -> None:
    appointment = _book_today(project, gender="male", party_size=3, consultant=on_duty[2])
    html = (
        client_for(frontdesk)
        .get(
            reverse("reception:checkin_preview", args=[project.pk]),
            {"phone_or_code": appointment.code.lower()},
        )
        .content.decode()
    )
    assert "王先生" in html and "王小明" not in html
    assert "3 人" in html and "预约顾问 顾问3" in html and "预约时已同意隐私告知" in html
    # The booked consultant is the named one for judging too.
    assert "建议接待：顾问3" in html


def test_a_half_typed_or_unknown_code_says_so_only_once_whole(
    client_for, project, frontdesk, on_duty
) -> None:
    url = reverse("reception:checkin_preview", args=[project.pk])
    client = client_for(frontdesk)
    assert "没有找到" not in client.get(url, {"phone_or_code": "AB"}).content.decode()
    assert "没有找到今天有效的预约码 ABCDEF" in client.get(url, {"phone_or_code": "ABCDEF"}).content.decode()


def test_a_scanned_code_checks_in_without_a_consent_tick_and_carries_the_booking_over(
    client_for, project, frontdesk, on_duty
) -> None:
    appointment = _book_today(project, gender="female", party_size=4, consultant=on_duty[1])
    client = client_for(frontdesk)
    response = client.post(
        reverse("reception:checkin", args=[project.pk]), {"phone_or_code": appointment.code}
    )
    assert response.status_code == 200, response.content.decode()[:500]
    visit = Visit.objects.get()
    assert visit.appointment == appointment and visit.party_size == 4 and visit.consultant == on_duty[1]
    assert Customer.objects.get().gender == "female"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    detail = client.get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    assert 'id="received-by"' in detail and "顾问2" in detail


def test_a_walk_in_still_needs_the_consent_tick(client_for, project, frontdesk, on_duty) -> None:
    response = client_for(frontdesk).post(
        reverse("reception:checkin", args=[project.pk]), {"phone_or_code": PHONE}
    )
    assert response.status_code == 400 and "请先取得访客对隐私告知的同意" in response.content.decode()
    assert not Visit.objects.exists() and not Customer.objects.exists()


# --- the live preview and the reassign list -----------------------------------------------------


def test_the_preview_names_who_is_next_in_the_queue(client_for, project, frontdesk, on_duty) -> None:
    rotation_set_state(project=project, consultant=on_duty[0], state="away", by=on_duty[0])
    html = (
        client_for(frontdesk)
        .get(reverse("reception:checkin_preview", args=[project.pk]), {"phone_or_code": PHONE})
        .content.decode()
    )
    assert "轮排下一位 顾问2" in html


def test_the_preview_follows_the_chosen_designated_consultant(
    client_for, project, frontdesk, on_duty
) -> None:
    html = (
        client_for(frontdesk)
        .get(
            reverse("reception:checkin_preview", args=[project.pk]),
            {"phone_or_code": PHONE, "designated_consultant": on_duty[2].pk},
        )
        .content.decode()
    )
    assert "建议接待：顾问3" in html


def test_typing_the_next_visitor_clears_the_previous_result(client_for, project, frontdesk, on_duty) -> None:
    client = client_for(frontdesk)
    page = client.get(reverse("reception:checkin", args=[project.pk])).content.decode()
    assert 'hx-trigger="change"' in page  # the 指定顾问 choice refreshes the preview
    html = client.get(reverse("reception:checkin_preview", args=[project.pk]), {"phone_or_code": "139"})
    assert 'id="checkin-result" hx-swap-oob="delete"' in html.content.decode()


def test_the_reassign_list_starts_empty_and_refuses_no_choice(
    client_for, project, frontdesk, on_duty
) -> None:
    client = client_for(frontdesk)
    response = client.post(
        reverse("reception:checkin", args=[project.pk]), {"phone_or_code": PHONE, "consent": "on"}
    )
    html = response.content.decode()
    select = html[html.index('id="ov-consultant"') :]
    assert select.index('<option value="">') < select.index("</select>")
    assert "selected" not in select[: select.index("</select>")]
    visit = Visit.objects.get()
    answer = client.post(
        reverse("reception:visit_override", args=[visit.pk]),
        {"consultant": "", "reason": "客户要求"},
        follow=True,
    )
    assert "请选择顾问并填写改派原因" in answer.content.decode()
    assert Visit.objects.get().consultant == on_duty[0]


# --- 王先生 / 王女士 ------------------------------------------------------------------------------


def test_boards_and_notices_greet_by_gender_when_the_booking_has_it(client_for, project, frontdesk) -> None:
    _book_today(project, name="王大伟", gender="male")
    _book_today(project, name="李芳", phone="13912345678", gender="female")
    _book_today(project, name="赵六", phone="13712345678")
    html = client_for(frontdesk).get(reverse("reception:hall", args=[project.pk])).content.decode()
    assert "王先生" in html and "李女士" in html and "赵**" in html
    assert "王大伟" not in html


def test_gender_is_refused_when_it_is_not_male_or_female(project) -> None:
    from anchang.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        _book_today(project, gender="x")
    assert "gender" in error.value.fields and not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("area_band", "1-99999"), ("bedrooms", "12"), ("party_size", "0")]
)
def test_bad_desk_input_is_a_400_on_its_field_and_stores_nothing(
    client_for, project, frontdesk, on_duty, field, value
) -> None:
    response = client_for(frontdesk).post(
        reverse("reception:checkin", args=[project.pk]),
        {"phone_or_code": PHONE, "consent": "on", field: value},
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Visit.objects.exists() and not Customer.objects.exists()
