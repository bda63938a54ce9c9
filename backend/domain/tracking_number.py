"""Waybill's own tracking numbers in the UPU S10 layout: two letters, eight digits, a check digit, HK."""

from __future__ import annotations

import re
import secrets
import unicodedata
from enum import StrEnum

S10_PATTERN = re.compile(r"^([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})$", re.ASCII)
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
COUNTRY = "HK"


class NumberCheck(StrEnum):
    VALID = "valid"
    BAD_CHECK_DIGIT = "bad_check_digit"
    NOT_S10 = "not_s10"


def s10_check_digit(serial: str) -> int:
    """The S10 check digit of an eight-digit serial number (UPU S10 §5.2)."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial has exactly eight digits")
    total = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def normalize(raw: str) -> str:
    """Upper-case, fold full-width characters (CJK keyboards) to ASCII, strip pasted spaces."""
    return re.sub(r"[\s-]+", "", unicodedata.normalize("NFKC", raw)).upper()


def check(number: str) -> NumberCheck:
    """Tell a valid S10 number from one with a wrong check digit and from another layout."""
    match = S10_PATTERN.match(normalize(number))
    if not match:
        return NumberCheck.NOT_S10
    _, serial, digit, _ = match.groups()
    return (
        NumberCheck.VALID if s10_check_digit(serial) == int(digit) else NumberCheck.BAD_CHECK_DIGIT
    )


def make(prefix: str, serial: int, country: str = COUNTRY) -> str:
    """Build a number from a two-letter service prefix and a serial below 10^8."""
    if not re.fullmatch(r"[A-Z]{2}", prefix) or not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError("prefix and country are two capital letters")
    if not 0 <= serial < 10**8:
        raise ValueError("serial must have at most eight digits")
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{s10_check_digit(digits)}{country}"


def generate(prefix: str = "WB") -> str:
    """A new random number; uniqueness is enforced by the database, callers retry on conflict."""
    return make(prefix, secrets.randbelow(10**8))
