import pytest
from hypothesis import given
from hypothesis import strategies as st

from anchang.core.errors import PhoneInvalid
from anchang.core.formatting import layout, per_square_metre, square_metres, wan, yuan
from anchang.core.phones import normalize_mainland_mobile
from anchang.core.privacy import mask_id_number, mask_phone, public_name
from anchang.core.testing.mobiles import mobile_for


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "+8613812345678"),
        (" 138 1234 5678 ", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("+86 13812345678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("19912345678", "+8619912345678"),
    ],
)
def test_mainland_mobiles_normalise_to_e164(raw: str, expected: str) -> None:
    assert normalize_mainland_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        None,
        "12345",
        "12812345678",
        "1381234567",
        "138123456789",
        "02155551234",
        "abcdefghijk",
        "+12025550123",
        "1381234567a",
        "1" * 40,
        "13812345678; DROP TABLE",
    ],
)
def test_anything_but_a_mainland_mobile_is_refused_naming_the_field(raw: str | None) -> None:
    with pytest.raises(PhoneInvalid) as caught:
        normalize_mainland_mobile(raw, field="mobile")
    assert caught.value.code == "phone_invalid"
    assert "mobile" in caught.value.fields


@given(st.integers(min_value=0, max_value=10**9))
def test_generated_demo_mobiles_are_always_valid(seed: int) -> None:
    national = mobile_for(seed)
    assert normalize_mainland_mobile(national) == f"+86{national}"


def test_phone_masking_keeps_three_and_four_digits() -> None:
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("") == ""


def test_id_numbers_show_at_most_first_six_and_last_four() -> None:
    masked = mask_id_number("330106199001011234")
    assert masked == "330106********1234"
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    ("name", "gender", "shown"),
    [
        ("王小明", "male", "王先生"),
        ("李娜", "female", "李女士"),
        ("欧阳修文", "male", "欧阳先生"),
        ("张三", None, "张**"),
        ("", "male", "访客"),
    ],
)
def test_public_screens_show_surname_and_honorific_only(name: str, gender: str | None, shown: str) -> None:
    assert public_name(name, gender) == shown


def test_chinese_money_area_and_layout_conventions() -> None:
    assert wan(3125000) == "312.50万"
    assert wan("12345678.9") == "1,234.57万"
    assert yuan(3125000) == "¥3,125,000.00"
    assert per_square_metre("28650.4") == "28,650 元/㎡"
    assert square_metres(89.5) == "89.50㎡"
    assert layout(3, 2, 2) == "3室2厅2卫"
    assert wan(None) == ""
