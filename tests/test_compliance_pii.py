"""PII recognizers (resident ID with its GB 11643 check digit, bank cards with Luhn, mobile numbers,
e-mail) and mask_pii: look-alikes are left alone, real numbers are masked but recognisable."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.compliance import find_pii, mask_pii
from copilot.compliance.recognizers.bank_card import luhn_valid
from copilot.compliance.recognizers.resident_id import id_check_char, is_valid_resident_id

VALID_ID = "11010519491231002X"  # the GB 11643 example number
VALID_CARD = "6217001234567893"


def test_check_digit_follows_gb_11643() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("11010119900307451") == "4"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VALID_ID, True),
        (VALID_ID.lower(), True),
        ("110105194912310021", False),  # wrong check digit
        ("110105194902300021", False),  # 30 February
        ("110105219912310021", False),  # born in the future
        ("010105194912310021", False),  # no area code starts with 0
    ],
)
def test_resident_id_validation(number: str, valid: bool) -> None:
    assert is_valid_resident_id(number) is valid


def test_luhn() -> None:
    assert luhn_valid(VALID_CARD) and not luhn_valid("6217001234567890")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"身份证{VALID_ID}请核对", "身份证110105********002X请核对"),
        ("身份证 110105 19491231 002X", "身份证 110105 ******** 002X"),
        (f"卡号{VALID_CARD}", "卡号6217********7893"),
        ("卡号 6217 0012 3456 7893 已绑定", "卡号 6217 **** **** 7893 已绑定"),
        ("电话13812345678", "电话138****5678"),
        ("手机 +86 138-1234-5678", "手机 +86 138-****-5678"),
        ("邮箱Zhang.San@example.com", "邮箱Z***@example.com"),
        ("全角１３８１２３４５６７８", "全角１３８****５６７８"),
    ],
)
def test_mask_keeps_the_shape(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "身份证号110105194912310021请核对",  # bad check digit
        "卡号6217001234567890",  # fails Luhn
        "订单号12345678901",  # 11 digits but not a mobile prefix
        "客服热线95588，营业时间9:00-17:00",
        "金额12,345.67元，年化2.8%",
        "联系电话138123456789",  # 12 digits: not a mobile number
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert find_pii(text) == [] and mask_pii(text) == text


def test_a_resident_id_that_also_passes_luhn_is_masked_once_as_an_id() -> None:
    # Find an ID whose 18 digits also pass Luhn, so both recognizers would claim it.
    for seq in range(100, 999):
        first17 = f"11010519900307{seq}"
        number = first17 + id_check_char(first17)
        if number.isdigit() and luhn_valid(number):
            break
    spans = find_pii(f"证件{number}")
    assert [s.kind for s in spans] == ["resident_id"]
    assert mask_pii(number) == number[:6] + "*" * 8 + number[-4:]


def test_a_mobile_number_inside_an_email_is_masked_as_an_email() -> None:
    assert mask_pii("13812345678@qq.com") == "1***@qq.com"


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)))
    seq = draw(st.integers(0, 999))
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


@settings(max_examples=150, deadline=None)
@given(number=resident_ids(), before=st.sampled_from(["身份证", "证件号：", "ID ", ""]))
def test_every_valid_resident_id_is_masked(number: str, before: str) -> None:
    masked = mask_pii(f"{before}{number}。")
    assert number not in masked
    assert masked == f"{before}{number[:6]}{'*' * 8}{number[-4:]}。"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789 -", min_size=1, max_size=40))
def test_masking_never_changes_the_length_or_non_digits(text: str) -> None:
    masked = mask_pii(text)
    assert len(masked) == len(text)
    assert all(a == b or (a.isdigit() and b == "*") for a, b in zip(text, masked, strict=True))
