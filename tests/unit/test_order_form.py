"""The shipping order form: every field's error code, normalization, and all mistakes at once."""

from __future__ import annotations

import pytest

from backend.domain import order_form
from backend.domain.order_form import (
    CITY_MAX,
    CONTENTS_MAX,
    LINE_MAX,
    MAX_PARCELS,
    NAME_MAX,
    Address,
    normalize_phone,
    read_address,
    read_order_form,
    read_parcel,
)

HK_SENDER = {
    "sender_name": "Chan Tai Man",
    "sender_phone": "9123 4567",
    "sender_line1": "Flat 12A, 88 Queen's Road East",
    "sender_district": "Wan Chai",
    "sender_city": "Hong Kong",
    "sender_country": "HK",
}
HK_RECIPIENT = {
    "recipient_name": "Wong Siu Ling",
    "recipient_phone": "+852 2345 6789",
    "recipient_line1": "3/F, 1 Nathan Road",
    "recipient_district": "Tsim Sha Tsui",
    "recipient_city": "Kowloon",
    "recipient_country": "HK",
}
CN_RECIPIENT = {
    "recipient_name": "Li Wei",
    "recipient_phone": "138 0013 8000",
    "recipient_line1": "1 Shennan Avenue",
    "recipient_district": "Futian",
    "recipient_city": "Shenzhen",
    "recipient_postcode": "518000",
    "recipient_country": "CN",
}
MO_RECIPIENT = {
    "recipient_name": "Leong Ka Io",
    "recipient_phone": "6612 3456",
    "recipient_line1": "Avenida de Almeida Ribeiro 10",
    "recipient_city": "Macau",
    "recipient_country": "MO",
}


def form_values(recipient=HK_RECIPIENT, **changes) -> dict[str, str]:
    values = {**HK_SENDER, **recipient, "service_level": "standard"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def parcel(**changes) -> dict[str, str]:
    values = {"weight_kg": "1.5", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def customs_parcel(**changes) -> dict[str, str]:
    return parcel(**{"contents": "Books", "declared_value": "250.00", **changes})


def address(prefix="recipient", base="HK", **changes) -> tuple[Address | None, dict[str, str]]:
    """A valid address of the `base` country, with some fields changed."""
    bases = {"HK": HK_RECIPIENT, "CN": CN_RECIPIENT, "MO": MO_RECIPIENT}
    values = {k.removeprefix("recipient_"): v for k, v in bases[base].items()}
    values.update(changes)
    errors: dict[str, str] = {}
    read = read_address(prefix, {f"{prefix}_{k}": v for k, v in values.items()}, errors)
    return read, errors


def one_parcel(
    cross_border=False, **changes
) -> tuple[order_form.ParcelInput | None, dict[str, str]]:
    errors: dict[str, str] = {}
    make = customs_parcel if cross_border else parcel
    return read_parcel(0, make(**changes), cross_border, errors), errors


# -- phones ----------------------------------------------------------------------------------


def test_a_hong_kong_number_without_852_gets_it():
    assert normalize_phone("9123 4567", "HK") == "+85291234567"


@pytest.mark.parametrize(
    "raw",
    [
        "+852 9123 4567",
        "+85291234567",
        "00852 9123 4567",
        "852 9123 4567",
        "(852) 9123-4567",
        "+852-9123-4567",
        "9123.4567",
        "  9123 4567  ",
    ],
)
def test_a_hong_kong_number_with_any_prefix_or_separator_is_the_same_number(raw):
    assert normalize_phone(raw, "HK") == "+85291234567"


def test_full_width_digits_and_plus_are_read_as_ascii():
    assert normalize_phone("＋８５２ ９１２３ ４５６７", "HK") == "+85291234567"
    assert normalize_phone("１３８００１３８０００", "CN") == "+8613800138000"


@pytest.mark.parametrize("first", ["2", "3", "5", "6", "7", "9"])
def test_hong_kong_landlines_and_mobiles_are_accepted(first):
    assert normalize_phone(f"{first}1234567", "HK") == f"+852{first}1234567"


@pytest.mark.parametrize(
    "raw",
    [
        "1234 5678",
        "4123 4567",
        "8123 4567",
        "0123 4567",
        "9123 456",
        "9123 45678",
        "852",
        "+852",
        "",
    ],
)
def test_a_number_outside_the_hong_kong_plan_is_refused(raw):
    assert normalize_phone(raw, "HK") is None


@pytest.mark.parametrize("raw", ["6612 3456", "+853 6612 3456", "00853 66123456", "853-6612-3456"])
def test_a_macau_mobile_gets_853(raw):
    assert normalize_phone(raw, "MO") == "+85366123456"


def test_a_macau_number_must_be_a_mobile():
    assert normalize_phone("2812 3456", "MO") is None
    assert normalize_phone("6612 345", "MO") is None


@pytest.mark.parametrize(
    "raw",
    ["138 0013 8000", "+86 138 0013 8000", "0086 13800138000", "86 13800138000", "138-0013-8000"],
)
def test_a_mainland_mobile_gets_86(raw):
    assert normalize_phone(raw, "CN") == "+8613800138000"


@pytest.mark.parametrize(
    "raw", ["128 0013 8000", "138 0013 800", "138 0013 80000", "010 1234 5678"]
)
def test_a_number_outside_the_mainland_mobile_plan_is_refused(raw):
    assert normalize_phone(raw, "CN") is None


def test_a_number_is_checked_against_the_plan_of_the_address_country():
    assert normalize_phone("+852 9123 4567", "MO") is None
    assert normalize_phone("+853 6612 3456", "HK") is None
    assert normalize_phone("+852 9123 4567", "CN") is None


def test_a_country_without_a_plan_has_no_valid_number():
    assert normalize_phone("+1 415 555 0100", "US") is None


@pytest.mark.parametrize(
    ("country", "phone", "code"),
    [
        ("HK", "1234", "phone_invalid_hk"),
        ("MO", "9123 4567", "phone_invalid_mo"),
        ("CN", "9123 4567", "phone_invalid_cn"),
    ],
)
def test_a_wrong_phone_is_reported_for_the_address_country(country, phone, code):
    read, errors = address(base=country, phone=phone)
    assert read is None
    assert errors == {"recipient_phone": code}


def test_a_blank_phone_is_required():
    assert address(phone="   ")[1] == {"recipient_phone": "required"}


def test_a_phone_in_an_unserved_country_is_simply_invalid():
    assert address(country="US")[1] == {
        "recipient_country": "country_not_served",
        "recipient_phone": "phone_invalid",
    }


def test_the_address_stores_the_phone_in_e164():
    read, errors = address(base="CN")
    assert errors == {}
    assert read.phone == "+8613800138000"


# -- addresses -------------------------------------------------------------------------------


def test_a_complete_hong_kong_address_is_read():
    read, errors = address()
    assert errors == {}
    assert read == Address(
        name="Wong Siu Ling",
        phone="+85223456789",
        line1="3/F, 1 Nathan Road",
        line2="",
        district="Tsim Sha Tsui",
        city="Kowloon",
        postcode="",
        country="HK",
    )
    assert read.one_line() == "3/F, 1 Nathan Road, Tsim Sha Tsui"


def test_a_blank_country_means_hong_kong():
    read, errors = address(country="")
    assert errors == {}
    assert read.country == "HK"


@pytest.mark.parametrize("raw", ["cn", " CN ", "Ｃｎ"])
def test_the_country_code_is_read_in_any_case_and_width(raw):
    read, errors = address(base="CN", country=raw)
    assert errors == {}
    assert read.country == "CN"


@pytest.mark.parametrize("raw", ["US", "TW", "Hong Kong", "CHN"])
def test_a_country_we_do_not_serve_is_refused(raw):
    read, errors = address(country=raw)
    assert read is None
    assert errors["recipient_country"] == "country_not_served"


def test_spaces_tabs_and_newlines_collapse_to_one_space():
    read, errors = address(name="  Wong \t Siu\n\nLing  ", line1="3/F,   1 Nathan Road\r\n")
    assert errors == {}
    assert read.name == "Wong Siu Ling"
    assert read.line1 == "3/F, 1 Nathan Road"


def test_full_width_letters_are_stored_as_ascii():
    read, errors = address(name="ＷＯＮＧ Ｓｉｕ Ｌｉｎｇ", line1="３／Ｆ, 1 Nathan Road")
    assert errors == {}
    assert read.name == "WONG Siu Ling"
    assert read.line1 == "3/F, 1 Nathan Road"


def test_chinese_names_and_addresses_are_kept():
    read, errors = address(name="陳大文", line1="皇后大道東88號12樓A室", city="香港")
    assert errors == {}
    assert read.name == "陳大文"


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("name", NAME_MAX),
        ("line1", LINE_MAX),
        ("line2", LINE_MAX),
        ("district", CITY_MAX),
        ("city", CITY_MAX),
    ],
)
def test_each_text_field_takes_its_limit_and_not_one_character_more(field, limit):
    assert address(**{field: "a" * limit})[1] == {}
    read, errors = address(**{field: "a" * (limit + 1)})
    assert read is None
    assert errors == {f"recipient_{field}": "too_long"}


@pytest.mark.parametrize("field", ["name", "line1", "city"])
def test_name_first_line_and_city_are_required(field):
    assert address(**{field: "  "})[1] == {f"recipient_{field}": "required"}


@pytest.mark.parametrize("field", ["line2", "district"])
def test_second_line_and_district_are_optional(field):
    read, errors = address(**{field: ""})
    assert errors == {}
    assert getattr(read, field) == ""


@pytest.mark.parametrize(
    "bad",
    [
        "<script>",
        "Wong>",
        "Wong\x00Ling",
        "Wong\x07Ling",
        "Wong\u200bLing",
        "Wong\u202eLing",
        "＜b＞",
    ],
    ids=[
        "angle_brackets",
        "closing_bracket",
        "nul",
        "bell",
        "zero_width_space",
        "rtl_override",
        "full_width_brackets",
    ],
)
@pytest.mark.parametrize("field", ["name", "line1", "line2", "district", "city"])
def test_control_characters_and_angle_brackets_are_refused(field, bad):
    read, errors = address(**{field: bad})
    assert read is None
    assert errors == {f"recipient_{field}": "invalid_characters"}


def test_a_too_long_field_is_reported_as_too_long_before_its_characters():
    assert address(name="<" * (NAME_MAX + 1))[1] == {"recipient_name": "too_long"}


@pytest.mark.parametrize("country", ["HK", "MO"])
@pytest.mark.parametrize("postcode", ["999077", "000000", "n/a", "<x>"])
def test_hong_kong_and_macau_addresses_never_keep_a_postcode(country, postcode):
    read, errors = address(base=country, postcode=postcode)
    assert errors == {}
    assert read.postcode == ""


@pytest.mark.parametrize(
    ("raw", "stored"), [("518000", "518000"), ("518 000", "518000"), ("５１８０００", "518000")]
)
def test_a_mainland_postcode_is_six_digits(raw, stored):
    read, errors = address(base="CN", postcode=raw)
    assert errors == {}
    assert read.postcode == stored


def test_a_mainland_address_needs_a_postcode():
    assert address(base="CN", postcode="  ")[1] == {"recipient_postcode": "postcode_required"}


@pytest.mark.parametrize("raw", ["51800", "5180000", "51800A", "518-000", "SW1A 1AA"])
def test_a_mainland_postcode_that_is_not_six_digits_is_invalid(raw):
    read, errors = address(base="CN", postcode=raw)
    assert read is None
    assert errors == {"recipient_postcode": "postcode_invalid"}


def test_every_mistake_in_an_address_is_reported_at_once():
    read, errors = address(
        base="CN", name="", phone="12345", line1="x" * (LINE_MAX + 1), city="<b>", postcode="12"
    )
    assert read is None
    assert errors == {
        "recipient_name": "required",
        "recipient_phone": "phone_invalid_cn",
        "recipient_line1": "too_long",
        "recipient_city": "invalid_characters",
        "recipient_postcode": "postcode_invalid",
    }


def test_sender_errors_are_keyed_by_the_sender_prefix():
    read, errors = address(prefix="sender", name="")
    assert errors == {"sender_name": "required"}


# -- parcels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "grams"),
    [
        ("1.5", 1500),
        ("0.001", 1),
        ("１.５", 1500),
        (" 2 ", 2000),
        ("70", 70_000),
        ("70.000", 70_000),
    ],
)
def test_the_weight_in_kilograms_is_stored_in_grams(raw, grams):
    read, errors = one_parcel(weight_kg=raw)
    assert errors == {}
    assert read.weight_grams == grams


@pytest.mark.parametrize(
    "raw", ["", "   ", "0", "-1", "abc", "1.5 kg", "NaN", "Infinity", "0.0004"]
)
def test_a_missing_zero_negative_or_unreadable_weight_is_invalid(raw):
    read, errors = one_parcel(weight_kg=raw)
    assert read is None
    assert errors == {"parcel_0_weight_kg": "weight_invalid"}


@pytest.mark.parametrize("raw", ["70.001", "71", "1000"])
def test_a_parcel_over_70_kg_is_too_heavy(raw):
    assert one_parcel(weight_kg=raw)[1] == {"parcel_0_weight_kg": "weight_too_heavy"}


def test_a_missing_weight_key_is_invalid():
    errors: dict[str, str] = {}
    data = parcel()
    del data["weight_kg"]
    assert read_parcel(0, data, False, errors) is None
    assert errors == {"parcel_0_weight_kg": "weight_invalid"}


def test_sides_in_centimetres_are_stored_in_millimetres():
    read, errors = one_parcel(length_cm="30.5", width_cm="0.1", height_cm="200")
    assert errors == {}
    assert (read.length_mm, read.width_mm, read.height_mm) == (305, 1, 2000)


@pytest.mark.parametrize("raw", ["", "0", "-5", "abc", "200.1", "250", "0.04"])
@pytest.mark.parametrize("side", ["length_cm", "width_cm", "height_cm"])
def test_a_side_that_is_missing_not_positive_or_over_2_metres_is_invalid(side, raw):
    read, errors = one_parcel(**{side: raw})
    assert read is None
    assert errors == {f"parcel_0_{side}": "size_invalid"}


def test_every_bad_side_is_reported():
    assert one_parcel(length_cm="0", width_cm="x", height_cm="201")[1] == {
        "parcel_0_length_cm": "size_invalid",
        "parcel_0_width_cm": "size_invalid",
        "parcel_0_height_cm": "size_invalid",
    }


def test_a_domestic_parcel_needs_neither_contents_nor_a_declared_value():
    read, errors = one_parcel()
    assert errors == {}
    assert read.contents == ""
    assert read.declared_value_minor == 0


def test_a_domestic_parcel_may_still_declare_a_value():
    read, errors = one_parcel(contents="Gift", declared_value="120")
    assert errors == {}
    assert (read.contents, read.declared_value_minor) == ("Gift", 12_000)


def test_a_cross_border_parcel_needs_its_contents():
    assert one_parcel(cross_border=True, contents="  ")[1] == {
        "parcel_0_contents": "contents_required"
    }


def test_a_cross_border_parcel_needs_a_declared_value():
    assert one_parcel(cross_border=True, declared_value="")[1] == {
        "parcel_0_declared_value": "declared_value_required"
    }


def test_contents_take_120_characters_and_not_one_more():
    assert one_parcel(cross_border=True, contents="b" * CONTENTS_MAX)[1] == {}
    assert one_parcel(cross_border=True, contents="b" * (CONTENTS_MAX + 1))[1] == {
        "parcel_0_contents": "too_long"
    }


def test_contents_with_angle_brackets_are_refused():
    assert one_parcel(cross_border=True, contents="<img src=x>")[1] == {
        "parcel_0_contents": "invalid_characters"
    }


@pytest.mark.parametrize(
    ("raw", "minor"),
    [
        ("250", 25_000),
        ("250.5", 25_050),
        ("250.50", 25_050),
        ("1,000.50", 100_050),
        ("0.01", 1),
        ("１２.３４", 1234),
        ("100000", 10_000_000),
        ("100,000.00", 10_000_000),
    ],
)
def test_the_declared_value_is_stored_in_minor_units(raw, minor):
    read, errors = one_parcel(cross_border=True, declared_value=raw)
    assert errors == {}
    assert read.declared_value_minor == minor


@pytest.mark.parametrize(
    "raw", ["12.345", "0.001", "0", "0.00", "-5", "abc", "HK$100", "NaN", "Infinity"]
)
def test_a_declared_value_that_is_not_a_positive_amount_in_cents_is_invalid(raw):
    assert one_parcel(cross_border=True, declared_value=raw)[1] == {
        "parcel_0_declared_value": "amount_invalid"
    }


@pytest.mark.parametrize("raw", ["100000.01", "100001", "1e6"])
def test_a_declared_value_over_100000_is_too_high(raw):
    assert one_parcel(cross_border=True, declared_value=raw)[1] == {
        "parcel_0_declared_value": "declared_value_too_high"
    }


@pytest.mark.parametrize("raw", ["100000000000000000000000000", "1e26", "1e999999"])
def test_an_absurdly_large_declared_value_is_a_field_error_not_a_crash(raw):
    errors = one_parcel(cross_border=True, declared_value=raw)[1]
    assert errors["parcel_0_declared_value"] in {"declared_value_too_high", "amount_invalid"}


@pytest.mark.parametrize("field", ["weight_kg", "length_cm"])
def test_an_absurd_exponent_in_a_weight_or_side_is_a_field_error_not_a_crash(field):
    errors = one_parcel(**{field: "1e999999"})[1]
    assert errors[f"parcel_0_{field}"] in {"weight_too_heavy", "weight_invalid", "size_invalid"}


def test_every_mistake_in_a_parcel_is_reported_at_once():
    read, errors = one_parcel(
        cross_border=True,
        weight_kg="0",
        length_cm="",
        width_cm="20",
        height_cm="300",
        contents="",
        declared_value="9.999",
    )
    assert read is None
    assert errors == {
        "parcel_0_weight_kg": "weight_invalid",
        "parcel_0_length_cm": "size_invalid",
        "parcel_0_height_cm": "size_invalid",
        "parcel_0_contents": "contents_required",
        "parcel_0_declared_value": "amount_invalid",
    }


# -- the whole form --------------------------------------------------------------------------


def test_a_complete_domestic_order_has_no_errors():
    form = read_order_form(form_values(), [parcel(), parcel(weight_kg="3")], guest=False)
    assert form.errors == {}
    assert form.sender.phone == "+85291234567"
    assert form.recipient.phone == "+85223456789"
    assert [p.weight_grams for p in form.parcels] == [1500, 3000]
    assert form.service_level == "standard"
    assert not form.cross_border
    assert form.guest_email == ""


def test_a_complete_cross_border_order_has_no_errors():
    form = read_order_form(
        form_values(CN_RECIPIENT),
        [customs_parcel(), customs_parcel(declared_value="1,000")],
        guest=False,
    )
    assert form.errors == {}
    assert form.cross_border
    assert form.recipient.postcode == "518000"
    assert form.declared_value_minor == 25_000 + 100_000


@pytest.mark.parametrize("recipient", [CN_RECIPIENT, MO_RECIPIENT], ids=["mainland", "macau"])
def test_a_parcel_leaving_hong_kong_needs_contents_and_a_declared_value(recipient):
    form = read_order_form(form_values(recipient), [parcel()], guest=False)
    assert form.errors == {
        "parcel_0_contents": "contents_required",
        "parcel_0_declared_value": "declared_value_required",
    }
    assert form.parcels == []


def test_a_parcel_within_hong_kong_needs_neither():
    assert read_order_form(form_values(), [parcel()], guest=False).errors == {}


def test_countries_left_blank_are_both_hong_kong_so_the_order_is_domestic():
    values = form_values(sender_country="", recipient_country=" hk ")
    form = read_order_form(values, [parcel()], guest=False)
    assert form.errors == {}
    assert not form.cross_border


def test_an_order_needs_a_parcel():
    assert read_order_form(form_values(), [], guest=False).errors == {"parcels": "parcels_required"}


def test_five_parcels_are_allowed():
    form = read_order_form(form_values(), [parcel()] * MAX_PARCELS, guest=False)
    assert form.errors == {}
    assert len(form.parcels) == MAX_PARCELS


def test_six_parcels_are_too_many_and_none_of_them_is_read():
    form = read_order_form(form_values(), [parcel(weight_kg="0")] * (MAX_PARCELS + 1), guest=False)
    assert form.errors == {"parcels": "too_many_parcels"}
    assert form.parcels == []


def test_parcel_errors_name_the_parcel_by_its_position_from_zero():
    form = read_order_form(form_values(), [parcel(), parcel(weight_kg="99"), parcel()], guest=False)
    assert form.errors == {"parcel_1_weight_kg": "weight_too_heavy"}
    assert len(form.parcels) == 2


@pytest.mark.parametrize(
    ("raw", "level"), [("standard", "standard"), ("Express", "express"), (" ECONOMY ", "economy")]
)
def test_the_service_level_is_read_in_any_case(raw, level):
    form = read_order_form(form_values(service_level=raw), [parcel()], guest=False)
    assert form.errors == {}
    assert form.service_level == level


@pytest.mark.parametrize("raw", ["", "overnight", None])
def test_an_unknown_or_missing_service_level_is_required(raw):
    form = read_order_form(form_values(service_level=raw), [parcel()], guest=False)
    assert form.errors == {"service_level": "service_required"}


@pytest.mark.parametrize(
    ("raw", "insured"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_insurance_is_a_checkbox(raw, insured):
    assert read_order_form(form_values(insured=raw), [parcel()], guest=False).insured is insured


def test_a_guest_must_give_an_email():
    form = read_order_form(form_values(), [parcel()], guest=True)
    assert form.errors == {"guest_email": "email_required"}


@pytest.mark.parametrize("raw", ["mei", "mei@", "mei@example", "mei chan@example.com"])
def test_a_guest_email_that_is_malformed_is_invalid(raw):
    form = read_order_form(form_values(guest_email=raw), [parcel()], guest=True)
    assert form.errors == {"guest_email": "email_invalid"}


def test_a_guest_email_is_stored_trimmed_and_lower_case():
    form = read_order_form(
        form_values(guest_email="  Mei.Chan@Example.COM "), [parcel()], guest=True
    )
    assert form.errors == {}
    assert form.guest_email == "mei.chan@example.com"


def test_a_signed_in_customer_needs_no_guest_email_and_keeps_none():
    form = read_order_form(form_values(guest_email="not an email"), [parcel()], guest=False)
    assert form.errors == {}
    assert form.guest_email == ""


def test_every_mistake_on_the_form_is_reported_at_once():
    values = form_values(
        CN_RECIPIENT,
        sender_name="",
        sender_phone="1234",
        sender_line1="<b>Queen's Road</b>",
        recipient_postcode="",
        recipient_phone="+852 9123 4567",
        recipient_city="c" * (CITY_MAX + 1),
        service_level="teleport",
    )
    parcels = [customs_parcel(), parcel(weight_kg="80", height_cm="0", declared_value="1.234")]
    form = read_order_form(values, parcels, guest=True)
    assert form.errors == {
        "sender_name": "required",
        "sender_line1": "invalid_characters",
        "sender_phone": "phone_invalid_hk",
        "recipient_city": "too_long",
        "recipient_phone": "phone_invalid_cn",
        "recipient_postcode": "postcode_required",
        "parcel_1_weight_kg": "weight_too_heavy",
        "parcel_1_height_cm": "size_invalid",
        "parcel_1_contents": "contents_required",
        "parcel_1_declared_value": "amount_invalid",
        "service_level": "service_required",
        "guest_email": "email_required",
    }
    assert form.sender is None
    assert form.recipient is None
    assert len(form.parcels) == 1


def test_an_empty_form_lists_every_required_field():
    assert read_order_form({}, [], guest=True).errors == {
        "sender_name": "required",
        "sender_line1": "required",
        "sender_city": "required",
        "sender_phone": "required",
        "recipient_name": "required",
        "recipient_line1": "required",
        "recipient_city": "required",
        "recipient_phone": "required",
        "parcels": "parcels_required",
        "service_level": "service_required",
        "guest_email": "email_required",
    }
