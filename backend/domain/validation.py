"""Field rules for what people type (sign-up, profiles); each failure is a code the UI translates."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

EMAIL_MAX = 254
PASSWORD_MIN = 10
PASSWORD_MAX = 128
NAME_MAX = 80
PHONE_PATTERN = re.compile(r"^\+?[0-9]{8,15}$")


def _has_control_chars(value: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value)


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def email_error(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return "email_required"
    if len(value) > EMAIL_MAX:
        return "email_too_long"
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "email_invalid"
    return None


def password_error(password: str, email: str = "") -> str | None:
    if len(password) < PASSWORD_MIN:
        return "password_too_short"
    if len(password) > PASSWORD_MAX:
        return "password_too_long"
    if len(set(password)) < 4:
        return "password_too_simple"
    if email and password.strip().lower() == normalize_email(email):
        return "password_is_email"
    return None


def display_name_error(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return "name_required"
    if len(value) > NAME_MAX:
        return "name_too_long"
    if _has_control_chars(value) or "<" in value or ">" in value:
        return "name_invalid"
    return None


def normalize_phone(raw: str) -> str:
    """Strip spaces, dashes and brackets; Hong Kong numbers without a country code get +852."""
    digits = re.sub(r"[\s\-()]", "", raw)
    if re.fullmatch(r"[2-9][0-9]{7}", digits):
        return "+852" + digits
    return digits


def phone_error(raw: str, *, required: bool = False) -> str | None:
    if not raw.strip():
        return "phone_required" if required else None
    if len(raw) > 30 or not PHONE_PATTERN.match(normalize_phone(raw)):
        return "phone_invalid"
    return None
