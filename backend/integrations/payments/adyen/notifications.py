"""Adyen's standard notifications: every item's HMAC checked with the SDK's validator, then read.

Adyen signs fields, not bytes. Each NotificationRequestItem carries in
additionalData.hmacSignature the base64 HMAC-SHA256, keyed with the hex-decoded HMAC key, of
"pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success".
One item that fails rejects the whole delivery. The signed string has no timestamp and Adyen
re-sends the same notification for days, so a replay is stopped by the inbox's unique event
id, not by a clock. Fields outside the signed string (eventDate, reason, the rest of
additionalData) are read only as information.

This is the only module that imports the Adyen SDK: its HMAC validator is pure (no client,
no global state); its HTTP client is not used (see adapter.py).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from Adyen.util import is_valid_hmac_notification

from backend.integrations.payments.adyen.codes import REFUND_EVENT_CODES, event_statuses
from backend.integrations.payments.base import (
    CHECKED_ON_ARRIVAL,
    MAX_WEBHOOK_BYTES,
    PaymentEvent,
    ProviderAccount,
    WebhookRejected,
    header,
)

MAX_ITEMS = 100  # Adyen batches at most a few; more is not Adyen
MAX_FIELD = 200
SIGNED_TEXT_FIELDS = ("pspReference", "merchantAccountCode", "merchantReference", "eventCode")


def signing_string(item: Mapping[str, Any]) -> str:
    """The text Adyen signs for one item (tests and docs; verification uses the SDK)."""
    amount = item.get("amount") or {}
    parts = (
        item.get("pspReference", ""),
        item.get("originalReference", ""),
        item.get("merchantAccountCode", ""),
        item.get("merchantReference", ""),
        amount.get("value", ""),
        amount.get("currency", ""),
        item.get("eventCode", ""),
        item.get("success", ""),
    )
    return ":".join(str(part) for part in parts)


def usable_hmac_key(account: ProviderAccount) -> str:
    """The account's HMAC key as hex text, refused unless it is usable."""
    key = account.secrets.get("hmac_key", "")
    if not key:
        raise WebhookRejected("the adyen account has no HMAC key configured")
    try:
        if not bytes.fromhex(key):
            raise ValueError
    except ValueError:
        raise WebhookRejected("the adyen account's HMAC key is not hex") from None
    return key


def check_basic_auth(headers: Mapping[str, str], account: ProviderAccount) -> None:
    """Adyen can also send a configured user and password; when the account has them, require them."""
    password = account.secrets.get("webhook_password", "")
    if not password:
        return
    given = header(headers, "authorization")
    if given == CHECKED_ON_ARRIVAL:
        # A stored row: checked when it arrived (the webhook route refuses this marker from
        # outside), and the inbox never keeps the credentials themselves.
        return
    user = account.secrets.get("webhook_username", "")
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected("missing or wrong basic auth on the notification")


def read_items(body: bytes) -> list[dict[str, Any]]:
    """The NotificationRequestItems of a body, refused unless it has Adyen's shape."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected("body too large")
    if b"\\u0000" in body:
        raise WebhookRejected("body holds a NUL character")  # PostgreSQL cannot store it
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebhookRejected("body is not UTF-8 JSON") from None
    if not isinstance(document, dict) or document.get("live") not in ("true", "false"):
        raise WebhookRejected("not an Adyen notification")
    wrappers = document.get("notificationItems")
    if not isinstance(wrappers, list) or not 0 < len(wrappers) <= MAX_ITEMS:
        raise WebhookRejected("notificationItems must hold 1 to 100 items")
    items = []
    for wrapper in wrappers:
        item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, dict) else None
        if not isinstance(item, dict):
            raise WebhookRejected("an item is not a NotificationRequestItem")
        items.append(item)
    return items


def _text(value: Any, name: str, *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_FIELD:
        raise WebhookRejected(f"bad {name}")
    if required and not value:
        raise WebhookRejected(f"empty {name}")
    return value


def check_item(item: dict[str, Any], hmac_key: str, merchant_account: str) -> None:
    """Refuse an item that is malformed, for another merchant account, or not signed with our key."""
    for name in SIGNED_TEXT_FIELDS:
        _text(item.get(name), name, required=name != "merchantReference")
    _text(item.get("originalReference"), "originalReference", required=False)
    if item.get("success") not in ("true", "false"):
        raise WebhookRejected('success must be "true" or "false"')
    amount = item.get("amount")
    if not isinstance(amount, dict):
        raise WebhookRejected("bad amount")
    value = amount.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WebhookRejected("bad amount value")
    _text(amount.get("currency"), "currency", required=True)
    extra = item.get("additionalData")
    signature = extra.get("hmacSignature") if isinstance(extra, dict) else None
    if not isinstance(signature, str) or not signature:
        raise WebhookRejected("missing hmacSignature")
    if item["merchantAccountCode"] != merchant_account:
        raise WebhookRejected("notification for another merchant account")
    try:
        valid = is_valid_hmac_notification(item, hmac_key)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise WebhookRejected("unverifiable item") from None
    if valid is not True:
        raise WebhookRejected("bad HMAC signature")


def _occurred(value: Any) -> datetime | None:
    # eventDate is not signed: information only, so an odd one is dropped, not refused.
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo else None


def to_event(item: dict[str, Any]) -> PaymentEvent:
    """One verified item in our vocabulary."""
    code, success = item["eventCode"], item["success"] == "true"
    extra = item["additionalData"]
    action = extra.get("modification.action", "")
    payment_status, refund_status = event_statuses(
        code, success, action if isinstance(action, str) else ""
    )
    psp_reference = item["pspReference"]
    original = item.get("originalReference") or ""
    is_refund = code in REFUND_EVENT_CODES or refund_status is not None
    reason = item.get("reason")
    return PaymentEvent(
        event_id=f"{psp_reference}:{code}:{item['success']}",
        event_type=code,
        # A modification (refund, capture, cancel) has its own pspReference and names the
        # payment in originalReference.
        provider_reference=original or psp_reference,
        merchant_reference=item.get("merchantReference") or "",
        payment_status=payment_status,
        refund_status=refund_status,
        refund_reference=psp_reference if is_refund else "",
        amount_minor=item["amount"]["value"],
        currency=item["amount"]["currency"],
        occurred_at=_occurred(item.get("eventDate")),
        failure_reason=reason[:300] if isinstance(reason, str) and not success else "",
    )


def verify(headers: Mapping[str, str], body: bytes, account: ProviderAccount) -> list[PaymentEvent]:
    """Every item checked first, then all read: one bad item rejects the delivery."""
    hmac_key = usable_hmac_key(account)
    merchant_account = account.settings.get("merchant_account", "")
    if not merchant_account:
        raise WebhookRejected("the adyen account has no merchant account configured")
    check_basic_auth(headers, account)
    items = read_items(body)
    for item in items:
        check_item(item, hmac_key, merchant_account)
    return [to_event(item) for item in items]
