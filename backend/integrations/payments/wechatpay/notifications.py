"""WeChat Pay notifications: the platform signature checked first, then the resource decrypted and read.

Believed only when `Wechatpay-Signature` is the platform key's SHA256withRSA over
"<Wechatpay-Timestamp>\\n<Wechatpay-Nonce>\\n<raw body>\\n", the key being the platform
certificate named by `Wechatpay-Serial`, and the timestamp within 300 s of arrival. Only
then is `resource` opened with this account's APIv3 key (AES-256-GCM: a resource sealed
for another merchant does not open) and its mchid compared with ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from backend.integrations.payments.base import (
    MAX_WEBHOOK_BYTES,
    PaymentEvent,
    ProviderAccount,
    ProviderRejected,
    WebhookRejected,
)
from backend.integrations.payments.wechatpay import codes, crypto, signing, wire

TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[0-9A-Za-z]{1,64}")
_SERIAL = re.compile(r"[0-9A-Fa-f]{1,64}")
_SIGNATURE = re.compile(r"[A-Za-z0-9+/=]{1,1024}")
MAX_FIELD = 200

KeyLookup = Callable[[str], rsa.RSAPublicKey | None]


def _header(headers: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    """One header whatever its case; absent, sent twice with different values, or garbled: refused."""
    values = {v.strip() for k, v in headers.items() if k.lower() == name}
    if len(values) != 1:
        raise WebhookRejected(f"missing or conflicting {name} header")
    value = values.pop()
    if not pattern.fullmatch(value):
        raise WebhookRejected(f"garbled {name} header")
    return value


def check_signature(
    headers: Mapping[str, str], body: bytes, now: datetime, key_for: KeyLookup
) -> None:
    """Raise WebhookRejected unless the body is fresh and signed by a platform key we trust."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected("body too large")
    timestamp = _header(headers, "wechatpay-timestamp", _TIMESTAMP)
    nonce = _header(headers, "wechatpay-nonce", _NONCE)
    signature = _header(headers, "wechatpay-signature", _SIGNATURE)
    serial = _header(headers, "wechatpay-serial", _SERIAL).upper()
    kind = next((v for k, v in headers.items() if k.lower() == "wechatpay-signature-type"), "")
    if kind and kind.strip() != signing.SCHEMA:
        raise WebhookRejected("unsupported signature type")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected("stale or future timestamp")
    key = key_for(serial)
    if key is None:
        raise WebhookRejected("unknown platform certificate serial")
    if not signing.verify(key, signing.answer_message(timestamp, nonce, body), signature):
        raise WebhookRejected("bad signature")


def _field(document: dict[str, Any], name: str, required: bool = True) -> str:
    value = document.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_FIELD or "\x00" in value:
        raise WebhookRejected(f"bad {name}")
    if required and not value.strip():
        raise WebhookRejected(f"empty {name}")
    return value


def _time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return wire.parse_time(value).astimezone(UTC)
    except ValueError:
        raise WebhookRejected("a time is not RFC 3339 with an offset") from None


def open_resource(document: dict[str, Any], apiv3_key: str) -> dict[str, Any]:
    """The decrypted resource of a verified notification, as a JSON object."""
    if document.get("resource_type") != "encrypt-resource":
        raise WebhookRejected("resource is not an encrypt-resource")
    resource = document.get("resource")
    if not isinstance(resource, dict) or resource.get("algorithm") != crypto.ALGORITHM:
        raise WebhookRejected(f"resource is not sealed with {crypto.ALGORITHM}")
    parts = [resource.get(name, "") for name in ("nonce", "associated_data", "ciphertext")]
    if not all(isinstance(part, str) for part in parts):
        raise WebhookRejected("resource fields are not text")
    try:
        plain = json.loads(crypto.decrypt(apiv3_key, *parts))
    except crypto.DecryptionFailed as exc:
        raise WebhookRejected("resource does not decrypt with this account's APIv3 key") from exc
    except ValueError as exc:
        raise WebhookRejected("decrypted resource is not JSON") from exc
    if not isinstance(plain, dict):
        raise WebhookRejected("decrypted resource is not a JSON object")
    return plain


def _amount(plain: dict[str, Any], name: str) -> int | None:
    amount = plain.get("amount")
    value = amount.get(name) if isinstance(amount, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WebhookRejected(f"bad amount.{name}")
    return value


def read_events(body: bytes, account: ProviderAccount) -> list[PaymentEvent]:
    """The event of an already verified notification body."""
    if b"\\u0000" in body:
        raise WebhookRejected("body holds a NUL character")  # PostgreSQL cannot store it
    try:
        document = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError included
        raise WebhookRejected("body is not JSON") from exc
    if not isinstance(document, dict):
        raise WebhookRejected("body is not a JSON object")
    event_id, event_type = _field(document, "id"), _field(document, "event_type")
    try:
        apiv3_key, mchid = account.secret("apiv3_key"), account.setting("mchid")
    except ProviderRejected as exc:
        raise WebhookRejected(str(exc)) from exc
    plain = open_resource(document, apiv3_key)
    kind = codes.EVENT_TYPES.get(event_type)
    named = _field(plain, "mchid", required=kind is not None)
    if named and named != mchid:
        raise WebhookRejected("the resource names another merchant")
    out_trade_no = _field(plain, "out_trade_no", required=False)
    event = PaymentEvent(
        event_id=event_id,
        event_type=event_type,
        provider_reference=out_trade_no,
        merchant_reference=wire.payment_id(out_trade_no) if out_trade_no else "",
        occurred_at=_time(_field(document, "create_time", required=False)),
    )
    happened = _time(_field(plain, "success_time", required=False)) or event.occurred_at
    if kind == "transaction":
        state = _field(plain, "trade_state")
        amount = plain.get("amount")
        currency = amount.get("currency", "") if isinstance(amount, dict) else ""
        event = replace(
            event,
            payment_status=codes.payment_status(state),
            amount_minor=_amount(plain, "total"),
            currency=currency if isinstance(currency, str) and len(currency) == 3 else "",
            occurred_at=happened,
            failure_reason="" if state == "SUCCESS" else _field(plain, "trade_state_desc", False),
        )
    elif kind == "refund":
        state = _field(plain, "refund_status")
        event = replace(
            event,
            merchant_reference=_field(plain, "out_refund_no"),  # our refund id
            refund_reference=_field(plain, "refund_id"),
            refund_status=codes.refund_status(state),
            amount_minor=_amount(plain, "refund"),
            occurred_at=happened,
            failure_reason="" if state == "SUCCESS" else f"refund {state.lower()}",
        )
    return [event]


def verify(
    headers: Mapping[str, str],
    body: bytes,
    account: ProviderAccount,
    now: datetime,
    key_for: KeyLookup,
) -> list[PaymentEvent]:
    check_signature(headers, body, now, key_for)
    return read_events(body, account)
