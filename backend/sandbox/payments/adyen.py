"""Adyen's side: Pay by Link (create, read, the link's hosted page), refunds, HMAC-signed notifications.

Accounts (`SANDBOX_PSP_ACCOUNTS` under "adyen"), keyed by merchant account: {"api_key",
"hmac_key" (hex), "webhook_url", "merchant_name", optionally "webhook_username" and
"webhook_password" for the basic auth Adyen can add to notifications}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import string
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.sandbox.carriers.gate import BadInput, read_body
from backend.sandbox.payments.hosted_page import Action, money_text, render
from backend.sandbox.payments.state import PaymentSandbox

SLUG = "adyen"
COLOUR = "#0abf53"
API = "/v71"
LINK_LIFETIME = timedelta(hours=24)  # Adyen's default expiresAt
REFUND_DELAY_SECONDS = (
    0.2  # modifications are asynchronous at Adyen: the answer first, then the notification
)
log = logging.getLogger("waybill.sandbox.payments")


# --- signing (importable by tests and benches) -----------------------------------------


def item_signature(item: dict[str, Any], hmac_key: str) -> str:
    """base64(HMAC-SHA256(hex-decoded key, "pspReference:originalReference:...:success"))."""
    amount = item.get("amount", {})
    signed = ":".join(
        str(part)
        for part in (
            item.get("pspReference", ""),
            item.get("originalReference", ""),
            item.get("merchantAccountCode", ""),
            item.get("merchantReference", ""),
            amount.get("value", ""),
            amount.get("currency", ""),
            item.get("eventCode", ""),
            item.get("success", ""),
        )
    )
    digest = hmac.new(bytes.fromhex(hmac_key), signed.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def make_item(
    merchant_account: str,
    event_code: str,
    psp_reference: str,
    *,
    success: bool = True,
    amount_minor: int = 0,
    currency: str = "HKD",
    merchant_reference: str = "",
    original_reference: str = "",
    reason: str = "",
    additional: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One unsigned NotificationRequestItem, as Adyen fills it."""
    item: dict[str, Any] = {
        "additionalData": dict(additional or {}),
        "amount": {"currency": currency, "value": amount_minor},
        "eventCode": event_code,
        "eventDate": datetime.now(UTC).isoformat(timespec="seconds"),
        "merchantAccountCode": merchant_account,
        "merchantReference": merchant_reference,
        "paymentMethod": "visa",
        "pspReference": psp_reference,
        "reason": reason,
        "success": "true" if success else "false",
    }
    if original_reference:
        item["originalReference"] = original_reference
    return item


def build_webhook(record: dict, items: list[dict[str, Any]]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a notification for `items`, each signed with the record's HMAC key."""
    wrapped = []
    for item in items:
        signed = {**item, "additionalData": dict(item.get("additionalData", {}))}
        signed["additionalData"]["hmacSignature"] = item_signature(signed, record["hmac_key"])
        wrapped.append({"NotificationRequestItem": signed})
    body = json.dumps({"live": "false", "notificationItems": wrapped}).encode()
    headers = {"Content-Type": "application/json"}
    if record.get("webhook_password"):
        pair = f"{record.get('webhook_username', '')}:{record['webhook_password']}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return headers, body


# --- the provider ---------------------------------------------------------------------


class Refused(Exception):
    """An Adyen error answer: {"status", "errorCode", "message", "errorType"}."""

    def __init__(self, status: int, code: str, message: str, kind: str = "validation"):
        super().__init__(message)
        self.status, self.code, self.message, self.kind = status, code, message, kind

    def response(self) -> Response:
        body = {
            "status": self.status,
            "errorCode": self.code,
            "message": self.message,
            "errorType": self.kind,
            "pspReference": psp_reference(),
        }
        return JSONResponse(body, status_code=self.status)


def psp_reference() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _text(body: dict, name: str, *, required: bool = True, limit: int = 256) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise Refused(422, "100", f"Required field '{name}' is not provided.")
    if len(value) > limit:
        raise Refused(422, "702", f"Field '{name}' is too long.")
    return value


def _amount(body: dict) -> tuple[int, str]:
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise Refused(422, "100", "Required field 'amount' is not provided.")
    value, currency = amount.get("value"), amount.get("currency")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**11:
        raise Refused(422, "137", "Invalid amount specified")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise Refused(422, "138", "Invalid currency specified")
    return value, currency.upper()


def create_app(psp: PaymentSandbox) -> Starlette:
    store = psp.store(SLUG)
    links: dict[str, dict] = store.setdefault("links", {})
    payments: dict[str, dict] = store.setdefault("payments", {})
    replays: dict[tuple[str, str], tuple[int, bytes]] = store.setdefault("idempotency", {})

    def api(
        handler: Callable[[Request, str, dict, dict], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """X-API-Key, the body (JSON, 1 MiB at most), Idempotency-Key replays, Adyen's errors."""

        async def endpoint(request: Request) -> Response:
            found = psp.accounts.find(SLUG, "api_key", request.headers.get("x-api-key", ""))
            if found is None:
                return Refused(
                    401, "000", "HTTP Status Response - Unauthorized", "security"
                ).response()
            merchant, record = found
            try:
                raw = await read_body(request)
            except BadInput:
                return Refused(413, "702", "Request entity too large").response()
            try:
                body = json.loads(raw) if raw else {}
            except (ValueError, RecursionError):
                return Refused(400, "702", "Unexpected input: the body is not JSON").response()
            if not isinstance(body, dict):
                return Refused(400, "702", "Unexpected input: the body is not an object").response()
            key = request.headers.get("idempotency-key", "")
            if key and (merchant, key) in replays:
                status, content = replays[(merchant, key)]
                return Response(content, status, media_type="application/json")
            try:
                response = await handler(request, merchant, record, body)
            except Refused as refused:
                return refused.response()
            if key and 200 <= response.status_code < 300:
                replays[(merchant, key)] = (response.status_code, bytes(response.body))
            return response

        return endpoint

    def link_view(link: dict) -> dict:
        if link["status"] == "active" and link["expires"] <= _now():
            link["status"] = "expired"
        return {k: v for k, v in link.items() if k != "expires"}

    def notify(merchant: str, record: dict, items: list[dict], delay: float = 0.0) -> None:
        first = items[0]
        event_id = f"{first['pspReference']}:{first['eventCode']}:{first['success']}"
        try:
            headers, body = build_webhook(record, items)
            # Adyen re-sends the very same bytes on every attempt.
            psp.notifier.send(
                SLUG, event_id, record.get("webhook_url", ""), lambda: (headers, body), delay
            )
        except (KeyError, ValueError):
            log.warning("adyen %s cannot be sent notifications; %s dropped", merchant, event_id)

    @api
    async def create_link(request: Request, merchant: str, record: dict, body: dict) -> Response:
        if _text(body, "merchantAccount") != merchant:
            raise Refused(403, "901", "Invalid Merchant Account", "security")
        value, currency = _amount(body)
        link_id = "PL" + secrets.token_hex(8).upper()
        expires = _now() + LINK_LIFETIME
        link = {
            "id": link_id,
            "url": str(request.url_for("link_page", link_id=link_id)),
            "status": "active",
            "reference": _text(body, "reference", limit=80),
            "amount": {"value": value, "currency": currency},
            "merchantAccount": merchant,
            "returnUrl": _text(body, "returnUrl", required=False, limit=2048),
            "description": _text(body, "description", required=False, limit=280),
            "merchantOrderReference": _text(body, "merchantOrderReference", required=False),
            "shopperLocale": _text(body, "shopperLocale", required=False, limit=16),
            "reusable": False,
            "expiresAt": expires.isoformat(timespec="seconds"),
            "expires": expires,
        }
        links[link_id] = link
        return JSONResponse(link_view(link), status_code=201)

    @api
    async def get_link(request: Request, merchant: str, record: dict, body: dict) -> Response:
        link = links.get(request.path_params["link_id"])
        if link is None or link["merchantAccount"] != merchant:
            raise Refused(404, "000", "Payment link not found")
        return JSONResponse(link_view(link))

    @api
    async def refund(request: Request, merchant: str, record: dict, body: dict) -> Response:
        if _text(body, "merchantAccount") != merchant:
            raise Refused(403, "901", "Invalid Merchant Account", "security")
        value, currency = _amount(body)
        reference = _text(body, "reference", required=False, limit=80)
        payment = payments.get(request.path_params["psp"])
        if payment is None or payment["merchantAccount"] != merchant:
            raise Refused(422, "167", "Original pspReference required for this operation")
        if currency != payment["currency"]:
            raise Refused(422, "138", "Invalid currency specified")
        refund_psp = psp_reference()
        # Adyen answers "received" at once and decides later; the notification says how it went.
        ok = payment["status"] == "authorised" and payment["refunded"] + value <= payment["value"]
        payment["refunded"] += value if ok else 0
        reason = "" if ok else "Insufficient balance on payment"
        item = make_item(
            merchant, "REFUND", refund_psp, success=ok, amount_minor=value, currency=currency,
            merchant_reference=reference, original_reference=payment["pspReference"], reason=reason,
        )  # fmt: skip
        notify(merchant, record, [item], REFUND_DELAY_SECONDS)
        answer = {
            "merchantAccount": merchant,
            "paymentPspReference": payment["pspReference"],
            "pspReference": refund_psp,
            "reference": reference,
            "status": "received",
            "amount": {"value": value, "currency": currency},
        }
        return JSONResponse(answer, status_code=201)

    async def link_page(request: Request) -> Response:
        link = links.get(request.path_params["link_id"])
        if link is None:
            return render(
                provider="Adyen", colour=COLOUR, merchant="", description="", amount="",
                actions=[], notice="This payment link does not exist.", status_code=404,
            )  # fmt: skip
        view = link_view(link)
        if request.method == "GET" or view["status"] != "active":
            notice = "" if view["status"] == "active" else f"This payment link is {view['status']}."
            return _page(link, notice)
        try:
            form = parse_qs((await read_body(request)).decode("utf-8", "replace"))
        except BadInput:
            return _page(link, "That form was too large.", 413)
        action = (form.get("action") or [""])[0]
        if action not in ("pay", "decline", "cancel"):
            return _page(link, "Choose Pay, Decline or Cancel.", 400)
        if action != "cancel":
            # Pay by Link has no cancel URL: a shopper who gives up just leaves, and Adyen sends nothing.
            _settle(link, paid=action == "pay")
        if link["returnUrl"]:
            return RedirectResponse(link["returnUrl"], status_code=303)
        return _page(link, "Thank you. You can close this page.")

    def _settle(link: dict, *, paid: bool) -> None:
        merchant = link["merchantAccount"]
        record = psp.accounts.get(SLUG, merchant) or {}
        reference = psp_reference()
        payments[reference] = {
            "pspReference": reference,
            "merchantAccount": merchant,
            "linkId": link["id"],
            "value": link["amount"]["value"],
            "currency": link["amount"]["currency"],
            "status": "authorised" if paid else "refused",
            "refunded": 0,
        }
        if paid:
            link["status"] = "completed"  # a refused attempt leaves the link active for another try
        item = make_item(
            merchant, "AUTHORISATION", reference, success=paid,
            amount_minor=link["amount"]["value"], currency=link["amount"]["currency"],
            merchant_reference=link["reference"], reason="" if paid else "Refused",
            additional={"paymentLinkId": link["id"]},
        )  # fmt: skip
        notify(merchant, record, [item])

    def _page(link: dict, notice: str = "", status: int = 200) -> HTMLResponse:
        active = link["status"] == "active"
        return render(
            provider="Adyen",
            colour=COLOUR,
            merchant=(psp.accounts.get(SLUG, link["merchantAccount"]) or {}).get(
                "merchant_name", link["merchantAccount"]
            ),
            description=link["description"],
            amount=money_text(link["amount"]["value"], link["amount"]["currency"]),
            actions=[
                Action("pay", "Pay", primary=True),
                Action("decline", "Decline"),
                Action("cancel", "Cancel"),
            ]
            if active
            else [],
            notice=notice,
            status_code=status,
        )

    return Starlette(
        routes=[
            Route(f"{API}/paymentLinks", create_link, methods=["POST"]),
            Route(f"{API}/paymentLinks/{{link_id}}", get_link, methods=["GET"]),
            Route(f"{API}/payments/{{psp}}/refunds", refund, methods=["POST"]),
            Route("/link/{link_id}", link_page, methods=["GET", "POST"], name="link_page"),
        ]
    )
