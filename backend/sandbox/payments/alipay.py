"""Alipay's side: the gateway (page.pay cashier, trade query, refund, refund query) and async notifies.

Every gateway request must carry an RSA2 `sign` that the app's public key (in its record)
accepts; answers, return parameters and notifies are signed with the record's Alipay
private key, as Alipay does. The signing here is written apart from the adapter's, so that
a slip in one shows against the other.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from backend.sandbox.carriers.push import loopback_url
from backend.sandbox.payments import hosted_page
from backend.sandbox.payments.hosted_page import Action
from backend.sandbox.payments.state import PaymentSandbox

SLUG = "alipay"
COLOUR = "#1677ff"
MAX_BODY_BYTES = 1_048_576
CLOSE_SECONDS = (
    1.0  # an abandoned or declined trade closes this long after (timeout_express, compressed)
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_PAY = "alipay.trade.page.pay"
_OUT_NO = re.compile(r"[0-9A-Za-z_\-]{1,64}")
_AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")


class Refused(Exception):
    """A gateway call Alipay answers with a result code (HTTP 200, as Alipay does)."""

    def __init__(self, code: str, sub_code: str, sub_msg: str):
        super().__init__(sub_code)
        self.code, self.sub_code, self.sub_msg = code, sub_code, sub_msg


_MSG = {
    "40002": "Invalid Arguments",
    "40004": "Business Failed",
    "40001": "Missing Required Arguments",
}


# --- signing, as Alipay does it ------------------------------------------------------------


def beijing(at: datetime | None = None) -> str:
    return (at or datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime(TIME_FORMAT)


def _unsigned_text(params: dict[str, str], exclude: tuple[str, ...]) -> bytes:
    pairs = sorted((k, v) for k, v in params.items() if k not in exclude and v)
    return "&".join(f"{k}={v}" for k, v in pairs).encode()


@lru_cache(maxsize=64)
def _private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), None)


def alipay_sign(record: dict, message: bytes) -> str:
    key = _private_key(record["alipay_private_key"])
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()  # type: ignore[union-attr,call-arg]


def sign_params(record: dict, params: dict[str, str]) -> dict[str, str]:
    """`params` with Alipay's sign added (over all but sign and sign_type): notifies, returns."""
    signed = {**params, "sign_type": "RSA2"}
    signed["sign"] = alipay_sign(record, _unsigned_text(signed, ("sign", "sign_type")))
    return signed


def build_notify(
    record: dict, fields: dict[str, str], notify_time: datetime | None = None
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of an async notify with these fields, stamped and signed (tests use it)."""
    stamped = {
        "notify_time": beijing(notify_time),
        "notify_type": "trade_status_sync",
        "charset": "utf-8",
        "version": "1.0",
        "app_id": record["app_id"],
        "auth_app_id": record["app_id"],
        **fields,
    }
    body = urlencode(sign_params(record, stamped)).encode()
    return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body


def _answer(record: dict | None, method: str, node: dict) -> Response:
    """Alipay's answer: {"<method>_response": node, "sign": RSA2 over the node's exact text}."""
    name = method.replace(".", "_") + "_response" if method else "error_response"
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    body = f'{{"{name}":{text}'
    if record is not None:
        body += f',"sign":"{alipay_sign(record, text.encode())}"'
    return Response(body + "}", 200, media_type="application/json;charset=utf-8")


def _app_signature_ok(record: dict, params: dict[str, str]) -> bool:
    try:
        key = serialization.load_pem_public_key(record["app_public_key"].encode())
        signature = base64.b64decode(params.get("sign", ""), validate=True)
        key.verify(
            signature, _unsigned_text(params, ("sign",)), padding.PKCS1v15(), hashes.SHA256()
        )  # type: ignore[union-attr,call-arg]
    except (InvalidSignature, ValueError):
        return False
    return True


# --- requests ------------------------------------------------------------------------------


async def _params(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """(gateway parameters from the query and a form body, other form fields such as action)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused("40002", "isv.invalid-parameter", "body too large")
        chunks.append(chunk)
    try:
        pairs = parse_qsl(request.url.query, keep_blank_values=True, errors="strict")
        if request.method == "POST":
            pairs += parse_qsl(
                b"".join(chunks).decode("utf-8"), keep_blank_values=True, errors="strict"
            )
    except ValueError:
        raise Refused("40002", "isv.invalid-charset", "参数无法以utf-8解码") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params and params[name] != value:
            raise Refused("40002", "isv.invalid-parameter", f"参数{name}重复")
        params[name] = value
    extra = {k: params.pop(k) for k in ("action",) if k in params}
    return params, extra


def _checked(psp: PaymentSandbox, params: dict[str, str]) -> tuple[dict, dict]:
    """(the app's record, biz_content) once the request's common parameters and sign hold."""
    record = psp.accounts.get(SLUG, params.get("app_id", ""))
    if record is None:
        raise Refused("40002", "isv.invalid-app-id", "无效的AppID参数")
    if params.get("sign_type") != "RSA2":
        raise Refused("40002", "isv.invalid-signature-type", "无效的签名类型")
    if not params.get("sign"):
        raise Refused("40001", "isv.missing-signature", "缺少签名参数")
    if not _app_signature_ok(record, params):
        raise Refused("40002", "isv.invalid-signature", "验签出错")
    try:
        datetime.strptime(params.get("timestamp", ""), TIME_FORMAT)
    except ValueError:
        raise Refused("40002", "isv.invalid-timestamp", "非法的时间戳参数") from None
    if params.get("charset", "utf-8").lower() != "utf-8" or params.get("version") != "1.0":
        raise Refused("40002", "isv.invalid-parameter", "charset must be utf-8 and version 1.0")
    try:
        biz = json.loads(params.get("biz_content", ""))
    except ValueError:
        raise Refused("40002", "isv.invalid-parameter", "biz_content is not JSON") from None
    if not isinstance(biz, dict):
        raise Refused("40002", "isv.invalid-parameter", "biz_content is not a JSON object")
    return record, biz


def _text(biz: dict, name: str, limit: int = 256, required: bool = True) -> str:
    value = biz.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise Refused("40004", "ACQ.INVALID_PARAMETER", f"参数无效: {name}")
    return value


def _cents(text: str) -> int:
    """A yuan amount as cents (the sandbox keeps two decimals, as Alipay's amounts have)."""
    if not _AMOUNT.fullmatch(text):
        raise Refused("40004", "ACQ.INVALID_PARAMETER", f"参数无效: amount {text!r}")
    try:
        cents = int(Decimal(text) * 100)
    except InvalidOperation:
        raise Refused("40004", "ACQ.INVALID_PARAMETER", "参数无效: amount") from None
    if cents <= 0:
        raise Refused("40004", "ACQ.INVALID_PARAMETER", "参数无效: amount must be positive")
    return cents


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --- trades as Alipay reports them ---------------------------------------------------------


def _status(trade: dict) -> str:
    closes_at = trade.get("closes_at")
    if trade["status"] == "WAIT_BUYER_PAY" and closes_at and datetime.now(SHANGHAI) >= closes_at:
        trade.update(status="TRADE_CLOSED", gmt_close=beijing(closes_at))
    return trade["status"]


def _refunded(trade: dict) -> int:
    return sum(r["cents"] for r in trade["refunds"].values())


def trade_fields(record: dict, trade: dict) -> dict[str, str]:
    """The trade's fields as a notify carries them (before notify_time, ids and sign)."""
    status = _status(trade)
    fields = {
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
        "trade_status": status,
        "total_amount": _yuan(trade["cents"]),
        "subject": trade["subject"],
        "gmt_create": trade["gmt_create"],
        "seller_id": record["seller_id"],
        "trans_currency": trade["currency"] if trade["currency"] != "CNY" else "",
    }
    if trade["gmt_payment"]:
        paid = _yuan(trade["cents"])
        fields.update(
            gmt_payment=trade["gmt_payment"],
            buyer_id=trade["buyer_id"],
            buyer_logon_id=trade["buyer_logon_id"],
            receipt_amount=paid,
            invoice_amount=paid,
            buyer_pay_amount=paid,
            point_amount="0.00",
            fund_bill_list=json.dumps([{"amount": paid, "fundChannel": "ALIPAYACCOUNT"}]),
        )
    if status == "TRADE_CLOSED":
        fields["gmt_close"] = trade["gmt_close"]
    return {k: v for k, v in fields.items() if v}


def _notify(psp: PaymentSandbox, record: dict, trade: dict, delay: float = 0.0) -> None:
    """Queue the notify of the trade's state at the first attempt; each attempt gets a fresh
    notify_time and sign, the same notify_id (the merchant's dedupe key)."""
    url = trade["notify_url"] or record.get("webhook_url", "")
    if not loopback_url(url):
        return  # the sandbox calls only this machine (checked when the URL was given, too)
    notify_id = secrets.token_hex(16) + "".join(secrets.choice("0123456789") for _ in range(4))
    frozen: dict[str, dict[str, str]] = {}

    def build() -> tuple[dict[str, str], bytes]:
        if "fields" not in frozen:
            frozen["fields"] = {**trade_fields(record, trade), "notify_id": notify_id}
        return build_notify(record, frozen["fields"])

    # Alipay sends again until the answer's body is exactly "success", whatever the status.
    psp.notifier.send(
        SLUG, notify_id, url, build, delay, accepted=lambda status, body: body.strip() == b"success"
    )


def _trade(psp: PaymentSandbox, record: dict, biz: dict) -> dict:
    trades = psp.store(SLUG).setdefault("trades", {})
    out_trade_no = biz.get("out_trade_no", "")
    trade = trades.get((record["app_id"], out_trade_no)) if isinstance(out_trade_no, str) else None
    if trade is None:
        trade_no = biz.get("trade_no", "")
        trade = next((t for t in trades.values() if trade_no and t["trade_no"] == trade_no), None)
    if trade is None or trade["app_id"] != record["app_id"]:
        raise Refused("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
    return trade


def _query(psp: PaymentSandbox, record: dict, biz: dict) -> dict:
    trade = _trade(psp, record, biz)
    fields = trade_fields(record, trade)
    node = {
        "code": "10000",
        "msg": "Success",
        **{
            k: v
            for k, v in fields.items()
            if k not in ("subject", "gmt_create", "gmt_payment", "fund_bill_list")
        },
    }
    if trade["gmt_payment"]:
        node["send_pay_date"] = trade["gmt_payment"]
        node["buyer_user_id"] = node.pop("buyer_id")
    return node


def _refund(psp: PaymentSandbox, record: dict, biz: dict) -> dict:
    trade = _trade(psp, record, biz)
    cents = _cents(_text(biz, "refund_amount", 16))
    request_no = _text(biz, "out_request_no", 64, required=False) or trade["out_trade_no"]
    if not _OUT_NO.fullmatch(request_no):
        raise Refused("40004", "ACQ.INVALID_PARAMETER", "参数无效: out_request_no")
    head = {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
    }
    head["buyer_logon_id"] = trade["buyer_logon_id"]
    existing = trade["refunds"].get(request_no)
    if existing is not None:  # out_request_no is the idempotency key: no money moves twice
        if existing["cents"] != cents:
            raise Refused(
                "40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改: out_request_no reused"
            )
        return {**head, "fund_change": "N", "refund_fee": _yuan(_refunded(trade))}
    if not trade["gmt_payment"] or _status(trade) != "TRADE_SUCCESS":
        raise Refused("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    if cents > trade["cents"] - _refunded(trade):
        raise Refused("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
    now = beijing()
    trade["refunds"][request_no] = {"cents": cents, "gmt": now}
    if _refunded(trade) == trade["cents"]:
        trade.update(status="TRADE_CLOSED", gmt_close=now)  # a full refund closes the trade
    # Alipay sends no notify for alipay.trade.refund: its answer is the result.
    return {
        **head,
        "fund_change": "Y",
        "refund_fee": _yuan(_refunded(trade)),
        "send_back_fee": _yuan(cents),
        "gmt_refund_pay": now,
        "buyer_user_id": trade["buyer_id"],
    }


def _refund_query(psp: PaymentSandbox, record: dict, biz: dict) -> dict:
    trade = _trade(psp, record, biz)
    request_no = _text(biz, "out_request_no", 64)
    node = {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade["trade_no"],
        "out_trade_no": trade["out_trade_no"],
    }
    found = trade["refunds"].get(request_no)
    if found is not None:  # not found: Success with no refund fields, as Alipay answers
        node.update(
            out_request_no=request_no,
            total_amount=_yuan(trade["cents"]),
            refund_amount=_yuan(found["cents"]),
            refund_status="REFUND_SUCCESS",
            gmt_refund_pay=found["gmt"],
        )
    return node


API = {
    "alipay.trade.query": _query,
    "alipay.trade.refund": _refund,
    "alipay.trade.fastpay.refund.query": _refund_query,
}


# --- the cashier page ----------------------------------------------------------------------


def _error_page(refused: Refused) -> Response:
    return hosted_page.render(
        provider="Alipay",
        colour=COLOUR,
        merchant="",
        description="",
        amount="",
        actions=[],
        notice=f"错误代码 {refused.sub_code}  错误原因: {refused.sub_msg}",
        status_code=400,
    )


def _page_trade(psp: PaymentSandbox, record: dict, params: dict[str, str], biz: dict) -> dict:
    """The trade this page.pay request stands for, opened at its first visit (out_trade_no)."""
    out_trade_no = _text(biz, "out_trade_no", 64)
    if not _OUT_NO.fullmatch(out_trade_no):
        raise Refused("40004", "ACQ.INVALID_PARAMETER", "参数无效: out_trade_no")
    if biz.get("product_code") != "FAST_INSTANT_TRADE_PAY":
        raise Refused(
            "40004", "ACQ.INVALID_PARAMETER", "product_code must be FAST_INSTANT_TRADE_PAY"
        )
    terms = {
        "cents": _cents(_text(biz, "total_amount", 16)),
        "subject": _text(biz, "subject"),
        "currency": _text(biz, "trans_currency", 3, required=False).upper() or "CNY",
    }
    notify_url, return_url = params.get("notify_url", ""), params.get("return_url", "")
    if notify_url and not loopback_url(notify_url):
        raise Refused(
            "40002", "isv.invalid-notify-url", "the sandbox notifies only 127.0.0.1 or localhost"
        )
    if return_url and urlsplit(return_url).scheme not in ("http", "https"):
        raise Refused("40002", "isv.invalid-return-url", "return_url must be an http(s) URL")
    trades = psp.store(SLUG).setdefault("trades", {})
    trade = trades.get((record["app_id"], out_trade_no))
    if trade is None:
        now = datetime.now(SHANGHAI)
        trade = trades[(record["app_id"], out_trade_no)] = {
            **terms,
            "app_id": record["app_id"],
            "out_trade_no": out_trade_no,
            "trade_no": f"{now:%Y%m%d}22001"
            + "".join(secrets.choice("0123456789") for _ in range(15)),
            "notify_url": notify_url,
            "status": "WAIT_BUYER_PAY",
            "gmt_create": beijing(now),
            "gmt_payment": "",
            "gmt_close": "",
            "buyer_id": "2088" + "".join(secrets.choice("0123456789") for _ in range(12)),
            "buyer_logon_id": "buy***@example.com",
            "closes_at": None,
            "refunds": {},
        }
    elif any(trade[name] != value for name, value in terms.items()):
        raise Refused("40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
    status = _status(trade)
    if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        raise Refused("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
    if status == "TRADE_CLOSED" or trade["closes_at"]:
        raise Refused("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
    return trade


def _back(return_url: str, params: dict[str, str] | None = None) -> Response:
    if not return_url:
        return hosted_page.render(
            provider="Alipay", colour=COLOUR, merchant="", description="", amount="",
            actions=[], notice="Done. The merchant gave no return_url.",
        )  # fmt: skip
    if params:
        return_url += ("&" if "?" in return_url else "?") + urlencode(params)
    return RedirectResponse(return_url, status_code=303)


def _page(psp: PaymentSandbox, request: Request, params: dict[str, str], action: str) -> Response:
    record, biz = _checked(psp, params)
    trade = _page_trade(psp, record, params, biz)
    return_url = params.get("return_url", "")
    if request.method == "GET":
        amount = f"{trade['currency']} {_yuan(trade['cents'])}"
        return hosted_page.render(
            provider="Alipay",
            colour=COLOUR,
            merchant=record.get("merchant_name", record["app_id"]),
            description=trade["subject"],
            amount=amount,
            actions=[
                Action("pay", "Log in and pay", primary=True),
                Action("decline", "Decline"),
                Action("cancel", "Cancel"),
            ],
        )
    if action == "pay":
        trade.update(status="TRADE_SUCCESS", gmt_payment=beijing())
        _notify(psp, record, trade)
        back = {
            "charset": "utf-8",
            "out_trade_no": trade["out_trade_no"],
            "method": "alipay.trade.page.pay.return",
            "total_amount": _yuan(trade["cents"]),
            "trade_no": trade["trade_no"],
            "auth_app_id": record["app_id"],
            "version": "1.0",
            "app_id": record["app_id"],
            "seller_id": record["seller_id"],
            "timestamp": beijing(),
        }
        return _back(return_url, sign_params(record, back))
    if action not in ("decline", "cancel"):
        raise Refused("40002", "isv.invalid-parameter", "unknown action")
    # Declined or abandoned: the trade waits for payment until it closes unpaid (TRADE_CLOSED).
    trade["closes_at"] = datetime.now(SHANGHAI) + timedelta(seconds=CLOSE_SECONDS)
    _notify(psp, record, trade, delay=CLOSE_SECONDS + 0.05)
    return _back(return_url)  # the buyer goes back to the merchant; no signed result


def create_app(psp: PaymentSandbox) -> Starlette:
    async def gateway(request: Request) -> Response:
        record, method = None, ""
        try:
            params, extra = await _params(request)
            method = params.get("method", "")
            if method == PAGE_PAY:
                return _page(psp, request, params, extra.get("action", ""))
            if method not in API:
                method = ""
                raise Refused("40002", "isv.invalid-method", "不存在的方法名")
            record, biz = _checked(psp, params)
            return _answer(record, method, API[method](psp, record, biz))
        except Refused as refused:
            if method == PAGE_PAY:
                return _error_page(refused)
            node = {"code": refused.code, "msg": _MSG.get(refused.code, "")}
            node.update(sub_code=refused.sub_code, sub_msg=refused.sub_msg)
            return _answer(record, method, node)

    return Starlette(routes=[Route("/gateway.do", gateway, methods=["GET", "POST"])])
