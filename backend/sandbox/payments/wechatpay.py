"""WeChat Pay API v3's side: signed H5 orders, the H5 page, query, refunds, certificates, notifications.

Requests must carry a valid `WECHATPAY2-SHA256-RSA2048` Authorization (checked with the
merchant's public key from its record); answers and notifications are signed with the
record's platform key, and notification resources (and the certificate list) are sealed
with the record's APIv3 key, exactly as WeChat does. The signing here is written apart
from the adapter's, so that a slip in one shows against the other.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.sandbox.carriers.push import loopback_url
from backend.sandbox.payments import hosted_page
from backend.sandbox.payments.hosted_page import Action
from backend.sandbox.payments.state import PaymentSandbox

SLUG = "wechatpay"
COLOUR = "#07c160"
MAX_BODY_BYTES = 1_048_576
CLOCK_SKEW_SECONDS = 300  # requests signed further from now are refused, as WeChat does
REFUND_SECONDS = 0.5  # a refund stays PROCESSING this long, then REFUND.SUCCESS is sent
SHANGHAI = ZoneInfo("Asia/Shanghai")
_AUTH = re.compile(r'(\w+)="([^"]*)"')
_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
_OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")


class Refused(Exception):
    """An API call WeChat answers with {"code", "message"} and a 4xx."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


# --- signing, as WeChat does it ---------------------------------------------------------


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _nonce(n: int = 32) -> str:
    return secrets.token_hex(n)[:n].upper()


def _now_text() -> str:
    return datetime.now(SHANGHAI).isoformat(timespec="seconds")


@lru_cache(maxsize=64)
def _private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), None)


def platform_sign(record: dict, message: bytes) -> str:
    key = _private_key(record["platform_private_key"])
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()  # type: ignore[union-attr,call-arg]


def signed_headers(
    record: dict, body: bytes, timestamp: int | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The Wechatpay-* headers WeChat puts on an answer or a notification with this body."""
    stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), nonce or _nonce()
    message = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
    return {
        "Content-Type": "application/json",
        "Request-ID": secrets.token_hex(16),
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": platform_sign(record, message),
        "Wechatpay-Serial": record["platform_serial_no"],
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def seal(apiv3_key: str, plaintext: bytes, associated_data: str) -> dict[str, str]:
    """An AEAD_AES_256_GCM resource: base64(ciphertext + tag), a 12-character nonce."""
    nonce = secrets.token_urlsafe(9)[:12]
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "nonce": nonce,
        "associated_data": associated_data,
    }


def build_webhook(
    record: dict,
    event_type: str,
    resource: dict,
    *,
    event_id: str = "",
    timestamp: int | None = None,
) -> tuple[str, dict[str, str], bytes]:
    """(event id, headers, body) of a notification as WeChat sends it (tests and benches use it)."""
    kind = "refund" if event_type.startswith("REFUND.") else "transaction"
    event_id = event_id or f"EV-{_digits(19)}"
    document = {
        "id": event_id,
        "create_time": _now_text(),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "退款成功" if kind == "refund" else "支付成功",
        "resource": {
            "original_type": kind,
            **seal(record["apiv3_key"], json.dumps(resource, ensure_ascii=False).encode(), kind),
        },
    }
    body = json.dumps(document, ensure_ascii=False).encode()
    return event_id, signed_headers(record, body, timestamp), body


def _answer(record: dict, document: dict, status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False).encode()
    return Response(body, status, headers=signed_headers(record, body))


# --- the merchant's side of a request -----------------------------------------------------


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, "PARAM_ERROR", "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _authenticate(psp: PaymentSandbox, request: Request, body: bytes) -> dict:
    """The merchant's record, once its Authorization signature checks out; 401 SIGN_ERROR else."""
    scheme, _, params = request.headers.get("authorization", "").partition(" ")
    fields = dict(_AUTH.findall(params))
    record = psp.accounts.get(SLUG, fields.get("mchid", ""))
    if scheme != "WECHATPAY2-SHA256-RSA2048" or record is None:
        raise Refused(401, "SIGN_ERROR", "签名错误: unknown mchid or scheme")
    stamp, nonce = fields.get("timestamp", ""), fields.get("nonce_str", "")
    if fields.get("serial_no", "").upper() != record["merchant_serial_no"].upper():
        raise Refused(401, "SIGN_ERROR", "签名错误: serial_no is not the merchant's certificate")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > CLOCK_SKEW_SECONDS:
        raise Refused(401, "SIGN_ERROR", "签名错误: timestamp expired")
    target = request.scope.get("raw_path") or request.url.path.encode()
    if request.url.query:
        target += b"?" + request.url.query.encode()
    message = b"\n".join([request.method.encode(), target, stamp.encode(), nonce.encode(), body])
    try:
        key = serialization.load_pem_public_key(record["merchant_public_key"].encode())
        signature = base64.b64decode(fields.get("signature", ""), validate=True)
        key.verify(signature, message + b"\n", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
    except (InvalidSignature, ValueError):
        raise Refused(401, "SIGN_ERROR", "签名错误") from None
    return record


def _json(body: bytes) -> dict:
    try:
        document = json.loads(body)
    except ValueError:
        raise Refused(400, "PARAM_ERROR", "body is not JSON") from None
    if not isinstance(document, dict):
        raise Refused(400, "PARAM_ERROR", "body is not a JSON object")
    return document


def _amount(document: dict, name: str) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**10:
        raise Refused(400, "PARAM_ERROR", f"amount.{name} must be a positive integer (fen)")
    return value


def _text(document: dict, name: str, limit: int, required: bool = True) -> str:
    value = document.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise Refused(400, "PARAM_ERROR", f"{name} is missing or too long")
    return value


# --- orders and refunds as WeChat reports them -------------------------------------------


def _refund_status(refund: dict) -> str:
    return "SUCCESS" if time.time() >= refund["success_at"] else "PROCESSING"


def transaction_view(store: dict, order: dict) -> dict:
    paid = order["trade_state"] == "SUCCESS"
    refunded = any(
        _refund_status(r) == "SUCCESS"
        for r in store.get("refunds", {}).values()
        if r["order"] == (order["mchid"], order["out_trade_no"])
    )
    view = {
        "appid": order["appid"],
        "mchid": order["mchid"],
        "out_trade_no": order["out_trade_no"],
        "trade_type": "MWEB",
        "trade_state": "REFUND" if paid and refunded else order["trade_state"],
        "trade_state_desc": order["trade_state_desc"],
        "attach": "",
        "amount": {"total": order["total"], "currency": order["currency"]},
    }
    if paid:
        view.update(
            transaction_id=order["transaction_id"],
            bank_type="OTHERS",
            success_time=order["success_time"],
            payer={"openid": order["openid"]},
        )
        view["amount"].update(payer_total=order["total"], payer_currency=order["currency"])
    return view


def refund_view(store: dict, refund: dict) -> dict:
    order = store["orders"][refund["order"]]
    status = _refund_status(refund)
    view = {
        "refund_id": refund["refund_id"],
        "out_refund_no": refund["out_refund_no"],
        "transaction_id": order["transaction_id"],
        "out_trade_no": order["out_trade_no"],
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": refund["create_time"],
        "status": status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": order["total"],
            "refund": refund["refund"],
            "payer_total": order["total"],
            "payer_refund": refund["refund"],
            "settlement_total": order["total"],
            "settlement_refund": refund["refund"],
            "discount_refund": 0,
            "currency": order["currency"],
        },
    }
    if status == "SUCCESS":
        view["success_time"] = refund["success_time"]
    return view


def _notify(
    psp: PaymentSandbox, record: dict, url: str, event_type: str, resource, delay=0.0
) -> None:
    """Queue one notification: sealed at its first attempt (when the state it reports holds),
    the same bytes re-signed with a fresh timestamp on every later attempt, as WeChat does."""
    if not loopback_url(url):
        return  # the sandbox calls only this machine (checked when the URL was given, too)
    event_id = f"EV-{_digits(19)}"
    built: dict[str, bytes] = {}

    def build() -> tuple[dict[str, str], bytes]:
        if "body" not in built:
            _, headers, built["body"] = build_webhook(
                record, event_type, resource(), event_id=event_id
            )
            return headers, built["body"]
        return signed_headers(record, built["body"]), built["body"]

    psp.notifier.send(SLUG, event_id, url, build, delay)


# --- the app -----------------------------------------------------------------------------


def create_app(psp: PaymentSandbox) -> Starlette:
    def api(handler):
        async def endpoint(request: Request) -> Response:
            record = None
            try:
                body = await _body(request)
                record = _authenticate(psp, request, body)
                return await handler(request, record, body)
            except Refused as refused:
                error = {"code": refused.code, "message": refused.message}
                if record is None:
                    return JSONResponse(error, refused.status)
                return _answer(record, error, refused.status)

        return endpoint

    async def h5(request: Request, record: dict, body: bytes) -> Response:
        document = _json(body)
        store = psp.store(SLUG)
        if document.get("mchid") != record["mchid"] or document.get("appid") != record["appid"]:
            raise Refused(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        out_trade_no = _text(document, "out_trade_no", 32)
        if not _OUT_TRADE_NO.fullmatch(out_trade_no):
            raise Refused(400, "PARAM_ERROR", "out_trade_no must be 6-32 of [0-9A-Za-z_-|*]")
        notify_url = _text(document, "notify_url", 256)
        if not loopback_url(notify_url):
            raise Refused(
                400, "PARAM_ERROR", "notify_url: the sandbox notifies only 127.0.0.1 or localhost"
            )
        amount = document.get("amount")
        scene = document.get("scene_info")
        if not isinstance(amount, dict) or not isinstance(scene, dict):
            raise Refused(400, "PARAM_ERROR", "amount and scene_info are required")
        currency = _text(amount, "currency", 3, required=False) or "CNY"
        h5_info = scene.get("h5_info")
        if not isinstance(h5_info, dict) or not _text(h5_info, "type", 32):
            raise Refused(400, "PARAM_ERROR", "scene_info.h5_info.type is required")
        terms = {
            "description": _text(document, "description", 127),
            "notify_url": notify_url,
            "total": _amount(amount, "total"),
            "currency": currency.upper(),
        }
        _text(scene, "payer_client_ip", 45)
        key = (record["mchid"], out_trade_no)
        orders = store.setdefault("orders", {})
        order = orders.get(key)
        if order is not None:
            if any(order[name] != value for name, value in terms.items()):
                raise Refused(400, "INVALID_REQUEST", "out_trade_no duplicate: 商户订单号重复")
            if order["trade_state"] == "SUCCESS":
                raise Refused(400, "ORDERPAID", "该订单已支付")
            return _answer(record, {"h5_url": order["h5_url"]})
        prepay_id = f"wx{datetime.now(SHANGHAI):%d%H%M%S}{secrets.token_hex(13)}"
        base = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
        order = {
            **terms,
            "mchid": record["mchid"],
            "appid": record["appid"],
            "out_trade_no": out_trade_no,
            "trade_state": "NOTPAY",
            "trade_state_desc": "订单未支付",
            "transaction_id": "",
            "success_time": "",
            "openid": "o" + secrets.token_urlsafe(20)[:27],
            "h5_url": f"{base}/h5pay/checkmweb?prepay_id={prepay_id}&package={_digits(10)}",
        }
        orders[key] = order
        store.setdefault("prepay", {})[prepay_id] = key
        return _answer(record, {"h5_url": order["h5_url"]})

    async def query(request: Request, record: dict, body: bytes) -> Response:
        if request.query_params.get("mchid") != record["mchid"]:
            raise Refused(400, "PARAM_ERROR", "mchid is required and must be the caller's")
        store = psp.store(SLUG)
        order = store.get("orders", {}).get((record["mchid"], request.path_params["out_trade_no"]))
        if order is None:
            raise Refused(404, "ORDER_NOT_EXIST", "订单不存在")
        return _answer(record, transaction_view(store, order))

    async def refund(request: Request, record: dict, body: bytes) -> Response:
        document = _json(body)
        store = psp.store(SLUG)
        out_refund_no = _text(document, "out_refund_no", 64)
        if not _OUT_REFUND_NO.fullmatch(out_refund_no):
            raise Refused(400, "PARAM_ERROR", "out_refund_no must be 1-64 of [0-9A-Za-z_-|*@]")
        order_key = (record["mchid"], _text(document, "out_trade_no", 32))
        order = store.get("orders", {}).get(order_key)
        amount = document.get("amount")
        if not isinstance(amount, dict):
            raise Refused(400, "PARAM_ERROR", "amount is required")
        refund_minor, total = _amount(amount, "refund"), _amount(amount, "total")
        notify_url = _text(document, "notify_url", 256, required=False)
        if notify_url and not loopback_url(notify_url):
            raise Refused(
                400, "PARAM_ERROR", "notify_url: the sandbox notifies only 127.0.0.1 or localhost"
            )
        if order is None:
            raise Refused(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        refunds = store.setdefault("refunds", {})
        existing = refunds.get((record["mchid"], out_refund_no))
        if existing is not None:  # out_refund_no is the idempotency key: the same refund, once
            if existing["order"] != order_key or existing["refund"] != refund_minor:
                raise Refused(
                    400, "INVALID_REQUEST", "out_refund_no duplicate with other parameters"
                )
            return _answer(record, refund_view(store, existing))
        if order["trade_state"] != "SUCCESS":
            raise Refused(400, "INVALID_REQUEST", "订单未支付, cannot refund")
        if total != order["total"] or (amount.get("currency") or "CNY") != order["currency"]:
            raise Refused(400, "PARAM_ERROR", "amount.total or currency differs from the order")
        refunded = sum(r["refund"] for r in refunds.values() if r["order"] == order_key)
        if refund_minor > order["total"] - refunded:
            raise Refused(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        entry = {
            "order": order_key,
            "out_refund_no": out_refund_no,
            "refund_id": "50" + _digits(28),
            "refund": refund_minor,
            "create_time": _now_text(),
            "success_at": time.time() + REFUND_SECONDS,
            "success_time": datetime.fromtimestamp(
                time.time() + REFUND_SECONDS, SHANGHAI
            ).isoformat(timespec="seconds"),
        }
        refunds[(record["mchid"], out_refund_no)] = entry

        def resource() -> dict:
            # Sent once the refund is done: a timer that fires a hair early must not say PROCESSING.
            entry["success_at"] = min(entry["success_at"], time.time())
            view = refund_view(store, entry)
            return {
                "mchid": record["mchid"],
                "out_trade_no": view["out_trade_no"],
                "transaction_id": view["transaction_id"],
                "out_refund_no": out_refund_no,
                "refund_id": view["refund_id"],
                "refund_status": view["status"],
                "success_time": view.get("success_time", ""),
                "user_received_account": view["user_received_account"],
                "amount": {
                    k: view["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")
                },
            }

        # No notify_url in the request: the refund URL configured for the merchant (its record).
        url = notify_url or record.get("webhook_url", "")
        _notify(psp, record, url, "REFUND.SUCCESS", resource, delay=REFUND_SECONDS)
        return _answer(record, refund_view(store, entry))

    async def refund_query(request: Request, record: dict, body: bytes) -> Response:
        store = psp.store(SLUG)
        found = store.get("refunds", {}).get(
            (record["mchid"], request.path_params["out_refund_no"])
        )
        if found is None:
            raise Refused(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return _answer(record, refund_view(store, found))

    async def certificates(request: Request, record: dict, body: bytes) -> Response:
        cert = x509.load_pem_x509_certificate(record["platform_certificate"].encode())
        item = {
            "serial_no": record["platform_serial_no"],
            "effective_time": cert.not_valid_before_utc.astimezone(SHANGHAI).isoformat(),
            "expire_time": cert.not_valid_after_utc.astimezone(SHANGHAI).isoformat(),
            "encrypt_certificate": seal(
                record["apiv3_key"], record["platform_certificate"].encode(), "certificate"
            ),
        }
        return _answer(record, {"data": [item]})

    async def page(request: Request) -> Response:
        return await _page(psp, request)

    return Starlette(
        routes=[
            Route("/v3/pay/transactions/h5", api(h5), methods=["POST"]),
            Route("/v3/pay/transactions/out-trade-no/{out_trade_no}", api(query), methods=["GET"]),
            Route("/v3/refund/domestic/refunds", api(refund), methods=["POST"]),
            Route(
                "/v3/refund/domestic/refunds/{out_refund_no}", api(refund_query), methods=["GET"]
            ),
            Route("/v3/certificates", api(certificates), methods=["GET"]),
            Route("/h5pay/checkmweb", page, methods=["GET", "POST"]),
        ]
    )


# --- the H5 page -------------------------------------------------------------------------


def _page_error(message: str, status: int) -> Response:
    return hosted_page.render(
        provider="WeChat Pay",
        colour=COLOUR,
        merchant="",
        description="",
        amount="",
        actions=[],
        notice=message,
        status_code=status,
    )


async def _page(psp: PaymentSandbox, request: Request) -> Response:
    store = psp.store(SLUG)
    key = store.get("prepay", {}).get(request.query_params.get("prepay_id", ""))
    order = store.get("orders", {}).get(key) if key else None
    record = psp.accounts.get(SLUG, key[0]) if key else None
    if order is None or record is None:
        return _page_error("商家参数格式有误 (unknown or expired prepay_id)", 404)
    back = request.query_params.get("redirect_url", "")
    if back and urlsplit(back).scheme not in ("http", "https"):
        return _page_error("redirect_url must be an http(s) URL", 400)
    if request.method == "POST":
        try:
            body = await _body(request)
        except Refused:
            return _page_error("request too large", 413)
        action = dict(parse_qsl(body.decode("utf-8", "replace"))).get("action", "")
        if order["trade_state"] == "SUCCESS":
            return _page_error("This order has already been paid.", 409)
        if action == "pay":
            order.update(
                trade_state="SUCCESS",
                trade_state_desc="支付成功",
                transaction_id="42" + _digits(26),
                success_time=_now_text(),
            )
            _notify(
                psp,
                record,
                order["notify_url"],
                "TRANSACTION.SUCCESS",
                lambda: transaction_view(store, order),
            )
        elif action == "decline":
            # WeChat sends no notification for a failed payment: the merchant learns it by query.
            order.update(trade_state="PAYERROR", trade_state_desc="支付失败: declined by the bank")
        elif action != "cancel":  # cancel: the order stays NOTPAY, as when the payer backs out
            return _page_error("unknown action", 400)
        if back:  # WeChat returns the browser to redirect_url whatever the outcome
            return RedirectResponse(back, status_code=303)
        return _page_error("Done. The merchant gave no redirect_url.", 200)
    paid = order["trade_state"] == "SUCCESS"
    return hosted_page.render(
        provider="WeChat Pay",
        colour=COLOUR,
        merchant=record.get("merchant_name", record["mchid"]),
        description=order["description"],
        amount=hosted_page.money_text(order["total"], order["currency"]),
        actions=[]
        if paid
        else [
            Action("pay", "Pay in WeChat", primary=True),
            Action("decline", "Decline"),
            Action("cancel", "Cancel"),
        ],
        notice="This order has already been paid." if paid else "",
    )
