"""What a customer types into the shipping order form, checked field by field and normalized.

Every failure is a code next to the field it belongs to (the UI translates it), so a
customer sees all their mistakes at once. Phones follow the numbering plan of the
country of the address; cross-border parcels need contents and a declared value for
customs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from backend.domain.validation import email_error, normalize_email

COUNTRIES = ("HK", "MO", "CN")
MAX_PARCELS = 5
NAME_MAX, LINE_MAX, CITY_MAX, CONTENTS_MAX = 80, 120, 60, 120
MAX_WEIGHT_GRAMS = 70_000
MAX_SIDE_MM = 2_000
MAX_DECLARED_MINOR = 10_000_000  # 100,000.00 per parcel

# Numbering plans: national number pattern and the calling code (E.164).
_PHONE_PLANS = {
    "HK": ("852", re.compile(r"[235679][0-9]{7}")),
    "MO": ("853", re.compile(r"6[0-9]{7}")),
    "CN": ("86", re.compile(r"1[3-9][0-9]{9}")),
}
_POSTCODES = {"CN": re.compile(r"[0-9]{6}")}  # HK and Macau have none
SERVICE_LEVELS = ("standard", "express", "economy")


@dataclass(frozen=True)
class Address:
    name: str
    phone: str  # E.164
    line1: str
    line2: str
    district: str
    city: str
    postcode: str
    country: str

    def one_line(self) -> str:
        return ", ".join(p for p in (self.line1, self.line2, self.district) if p)


@dataclass(frozen=True)
class ParcelInput:
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    contents: str
    declared_value_minor: int


@dataclass
class OrderForm:
    sender: Address | None = None
    recipient: Address | None = None
    parcels: list[ParcelInput] = field(default_factory=list)
    service_level: str = ""
    guest_email: str = ""
    insured: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def cross_border(self) -> bool:
        return bool(
            self.sender and self.recipient and self.sender.country != self.recipient.country
        )

    @property
    def declared_value_minor(self) -> int:
        return sum(p.declared_value_minor for p in self.parcels)


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    return re.sub(r"\s+", " ", text)


def _text_error(value: str, *, required: bool, limit: int) -> str | None:
    if not value:
        return "required" if required else None
    if len(value) > limit:
        return "too_long"
    if (
        any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value)
        or "<" in value
        or ">" in value
    ):
        return "invalid_characters"
    return None


def normalize_phone(raw: str, country: str) -> str | None:
    """E.164 for a number valid in `country` (with or without its calling code), else None."""
    digits = re.sub(r"[\s\-().]", "", unicodedata.normalize("NFKC", raw or ""))
    plan = _PHONE_PLANS.get(country)
    if plan is None:
        return None
    code, national = plan
    for prefix in ("+" + code, "00" + code, code):
        if digits.startswith(prefix) and national.fullmatch(digits[len(prefix) :]):
            return "+" + code + digits[len(prefix) :]
    return "+" + code + digits if national.fullmatch(digits) else None


def read_address(prefix: str, values: dict[str, str], errors: dict[str, str]) -> Address | None:
    """One address block (`sender_*` or `recipient_*`); errors are keyed by the field name."""
    get = {
        k: _clean(values.get(f"{prefix}_{k}", ""))
        for k in ("name", "phone", "line1", "line2", "district", "city", "postcode", "country")
    }
    country = get["country"].upper() or "HK"
    before = len(errors)
    if country not in COUNTRIES:
        errors[f"{prefix}_country"] = "country_not_served"
    for name, limit, required in (
        ("name", NAME_MAX, True),
        ("line1", LINE_MAX, True),
        ("line2", LINE_MAX, False),
        ("district", CITY_MAX, False),
        ("city", CITY_MAX, True),
    ):
        problem = _text_error(get[name], required=required, limit=limit)
        if problem:
            errors[f"{prefix}_{name}"] = problem
    phone = normalize_phone(get["phone"], country)
    if not get["phone"]:
        errors[f"{prefix}_phone"] = "required"
    elif phone is None:
        errors[f"{prefix}_phone"] = (
            f"phone_invalid_{country.lower()}" if country in COUNTRIES else "phone_invalid"
        )
    postcode = get["postcode"].replace(" ", "")
    pattern = _POSTCODES.get(country)
    if pattern and not pattern.fullmatch(postcode):
        errors[f"{prefix}_postcode"] = "postcode_required" if not postcode else "postcode_invalid"
    if not pattern:
        postcode = ""  # Hong Kong and Macau addresses have no postcode; never store a stray one
    if len(errors) > before:
        return None
    return Address(
        get["name"],
        phone or "",
        get["line1"],
        get["line2"],
        get["district"],
        get["city"],
        postcode,
        country,
    )


_PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", re.ASCII)
_GROUPED_NUMBER = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", re.ASCII)
_HUGE = Decimal(10) ** 12  # past any weight, size or value we take: refused before arithmetic


def _decimal(raw: str, *, grouping: bool = False) -> Decimal | None:
    """A non-negative decimal such as 1.5 or 2e3 (ASCII digits after NFKC), else None.

    Thousands separators only where asked for and only in their places: "1,5" is never
    read as 15 (a European decimal comma), it is refused.
    """
    text = _clean(raw)
    if grouping and _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold
        return None
    return min(value, _HUGE)  # "1e999999" is simply too big, not a crash


def _scaled(value: Decimal | None, factor: int) -> int:
    """value × factor rounded to a whole number (0 when there is no value)."""
    if value is None:
        return 0
    return int((value * factor).to_integral_value())


def read_parcel(
    index: int, values: dict[str, str], cross_border: bool, errors: dict[str, str]
) -> ParcelInput | None:
    key = f"parcel_{index}_"
    before = len(errors)
    weight = _decimal(values.get("weight_kg", ""))
    grams = _scaled(weight, 1000)
    if weight is None or grams <= 0:
        errors[key + "weight_kg"] = "weight_invalid"
    elif grams > MAX_WEIGHT_GRAMS:
        errors[key + "weight_kg"] = "weight_too_heavy"
    sides = []
    for side in ("length_cm", "width_cm", "height_cm"):
        mm = _scaled(_decimal(values.get(side, "")), 10)
        if mm <= 0 or mm > MAX_SIDE_MM:
            errors[key + side] = "size_invalid"
        sides.append(mm)
    contents = _clean(values.get("contents", ""))
    problem = _text_error(contents, required=cross_border, limit=CONTENTS_MAX)
    if problem:
        errors[key + "contents"] = "contents_required" if problem == "required" else problem
    declared_minor = 0
    declared_raw = _clean(values.get("declared_value", ""))
    if declared_raw or cross_border:
        declared = _decimal(declared_raw, grouping=True)
        if declared is not None and declared * 100 > MAX_DECLARED_MINOR:
            errors[key + "declared_value"] = "declared_value_too_high"
        elif (
            declared is None
            or declared != declared.quantize(Decimal("0.01"))
            or (declared <= 0 and cross_border)
        ):
            # "0" on a domestic parcel means nothing declared; customs need a real value.
            errors[key + "declared_value"] = (
                "declared_value_required" if not declared_raw else "amount_invalid"
            )
        else:
            declared_minor = int(declared * 100)
    if len(errors) > before:
        return None
    return ParcelInput(grams, sides[0], sides[1], sides[2], contents, declared_minor)


def read_order_form(
    values: dict[str, str], parcels: list[dict[str, str]], *, guest: bool
) -> OrderForm:
    """Check the whole form; `form.errors` is empty when the order may be quoted."""
    form = OrderForm()
    errors = form.errors
    form.sender = read_address("sender", values, errors)
    form.recipient = read_address("recipient", values, errors)
    sender_country = _clean(values.get("sender_country", "")).upper() or "HK"
    recipient_country = _clean(values.get("recipient_country", "")).upper() or "HK"
    cross_border = sender_country != recipient_country
    if not parcels:
        errors["parcels"] = "parcels_required"
    elif len(parcels) > MAX_PARCELS:
        errors["parcels"] = "too_many_parcels"
    else:
        for i, parcel in enumerate(parcels):
            read = read_parcel(i, parcel, cross_border, errors)
            if read:
                form.parcels.append(read)
    service = _clean(values.get("service_level", "")).lower()
    if service not in SERVICE_LEVELS:
        errors["service_level"] = "service_required"
    form.service_level = service
    form.insured = _clean(values.get("insured", "")).lower() in ("1", "true", "yes", "on")
    if guest:
        email = values.get("guest_email", "")
        problem = email_error(email)
        if problem:
            errors["guest_email"] = problem
        else:
            form.guest_email = normalize_email(email)
    return form
