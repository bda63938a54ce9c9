"""Alipay's gateway parameters and answers, built and read without any I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from backend.domain.money import MINOR_UNIT_EXPONENT
from backend.integrations.payments.alipay import codes, signing
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
)

SLUG = "alipay"
SHANGHAI = ZoneInfo("Asia/Shanghai")  # Alipay's times are Beijing time, without an offset
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_PAY = "alipay.trade.page.pay"
PRODUCT_CODE = "FAST_INSTANT_TRADE_PAY"
_AMOUNT = re.compile(r"[0-9]{1,11}(\.[0-9]{1,2})?")
_SUBJECT_FORBIDDEN = re.compile(r"[/=&]")  # Alipay refuses these in a subject


def gateway(account: ProviderAccount) -> str:
    return account.api_base.rstrip("/") + "/gateway.do"


def beijing_time(now: datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # our naive times are UTC
    return now.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def parse_beijing_time(text: str) -> datetime:
    """Beijing time as Alipay writes it ("2026-11-22 11:10:30"; gmt_refund adds ".123"), in UTC."""
    layout = TIME_FORMAT + ".%f" if "." in text else TIME_FORMAT
    return datetime.strptime(text, layout).replace(tzinfo=SHANGHAI).astimezone(UTC)


def amount_text(amount_minor: int, currency: str) -> str:
    """1234 minor units of HKD -> "12.34"; exact, never through a float."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise ProviderRejected(f"{SLUG} amounts must be a positive whole number of minor units")
    exponent = MINOR_UNIT_EXPONENT.get(currency.upper(), 2)
    return str(Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def amount_minor(text: str, currency: str) -> int:
    """ "12.34" -> 1234; ValueError for anything that is not an exact amount in that currency."""
    exponent = MINOR_UNIT_EXPONENT.get(currency.upper(), 2)
    if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
        raise ValueError(f"not an amount: {text!r}")
    try:
        scaled = Decimal(text).scaleb(exponent)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text} has more decimals than {currency} has")
    return int(scaled)


def signed_params(
    account: ProviderAccount, method: str, biz: dict[str, Any], now: datetime, **extra: str
) -> dict[str, str]:
    """The gateway parameters of one call, signed with the app's private key."""
    try:
        key = signing.private_key(account.secret("app_private_key"))
    except ValueError as exc:
        raise ProviderRejected(f"the {SLUG} app_private_key is not an RSA private key") from exc
    params = {
        "app_id": account.setting("app_id"),
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": signing.SIGN_TYPE,
        "timestamp": beijing_time(now),
        "version": "1.0",
        **extra,
        "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
    }
    params["sign"] = signing.sign(key, signing.content(params))
    return params


def page_pay_biz(request: CheckoutRequest) -> dict[str, Any]:
    currency = request.currency.upper()
    subject = _SUBJECT_FORBIDDEN.sub(" ", request.description or request.order_reference)
    biz: dict[str, Any] = {
        "out_trade_no": request.payment_id,
        "total_amount": amount_text(request.amount_minor, currency),
        "subject": subject[:256],
        "product_code": PRODUCT_CODE,
    }
    if currency != "CNY":
        biz["trans_currency"] = currency  # priced in the merchant's currency (cross-border)
    return biz


def answer_node(body: bytes, method: str, account: ProviderAccount) -> dict[str, Any]:
    """The verified `<method>_response` node of a gateway answer; an error result raises."""
    node_name = method.replace(".", "_") + "_response"
    try:
        raw, node, signature = signing.response_node(body.decode("utf-8"), node_name)
    except ValueError as exc:  # UnicodeDecodeError included
        raise ProviderRejected(f"{SLUG} answer is unreadable ({exc})") from exc
    code = node.get("code")
    if signature:
        try:
            key = signing.public_key(account.secret("alipay_public_key"))
        except ValueError as exc:
            raise ProviderRejected(
                f"the {SLUG} alipay_public_key is not an RSA public key"
            ) from exc
        if not signing.verify(key, raw, signature):
            raise ProviderRejected(f"{SLUG} answer's sign does not match Alipay's public key")
    elif code == codes.SUCCESS_CODE:
        raise ProviderRejected(f"{SLUG} answered an unsigned success")  # never believed
    if code != codes.SUCCESS_CODE:
        sub_code = str(node.get("sub_code", ""))
        detail = " ".join(str(node.get(k, "")) for k in ("code", "msg", "sub_code", "sub_msg"))
        detail = "".join(ch for ch in detail if ch.isprintable())[:200]
        if code in codes.UNAVAILABLE_CODES or sub_code in codes.UNAVAILABLE_SUB_CODES:
            raise ProviderUnavailable(f"{SLUG} answered {detail}")
        raise ProviderRejected(f"{SLUG} refused the request: {detail}")
    return node


def _text(node: Mapping[str, Any], name: str, required: bool = True) -> str:
    value = node.get(name, "")
    if not isinstance(value, str) or len(value) > 256 or (required and not value):
        raise ProviderRejected(f"{SLUG} answer has no usable {name}")
    return value


def read_trade(node: Mapping[str, Any], out_trade_no: str) -> ProviderPayment:
    if _text(node, "out_trade_no") != out_trade_no:
        raise ProviderRejected(f"{SLUG} answered about another trade")
    state = _text(node, "trade_status")
    status = codes.payment_status(state, _text(node, "send_pay_date", required=False))
    if status is None:
        raise ProviderRejected(f"{SLUG} trade_status {state!r} is not in our table")
    currency = _text(node, "trans_currency", required=False) or "CNY"
    try:
        total = amount_minor(_text(node, "total_amount"), currency)
    except ValueError as exc:
        raise ProviderRejected(f"{SLUG} answered an unreadable total_amount") from exc
    return ProviderPayment(out_trade_no, status, total, currency)
