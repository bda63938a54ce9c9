"""PayPal's side: OAuth, Orders v2 with capture, refunds, the approval page and signed webhooks.

Speaks docs/payments/paypal.md. State lives in `psp.store("paypal")`; accounts are keyed by
the REST app's client id. Webhooks go to the account's `webhook_url`, signed the way PayPal
signs them, and a retry resends the same transmission (same id, time and signature), as
PayPal's retries do.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import secrets
import string
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.sandbox.payments import hosted_page
from backend.sandbox.payments.hosted_page import Action
from backend.sandbox.payments.state import PaymentSandbox

SLUG = "paypal"
COLOUR = "#003087"
MAX_BODY = 1024 * 1024
TOKEN_SECONDS = 32400
# The currencies PayPal takes payments in.
CURRENCIES = {
    "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS",
    "JPY", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "SEK", "SGD", "THB", "TWD", "USD",
}  # fmt: skip
NO_DECIMALS = {"HUF", "JPY", "TWD"}
_ALNUM = string.ascii_uppercase + string.digits
_VALUE = re.compile(r"(\d{1,15})(?:\.(\d{1,2}))?")
log = logging.getLogger("waybill.sandbox.payments")


# 422 issues the sandbox raises, with PayPal's descriptions.
ISSUES = {
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded.",
    "CURRENCY_MISMATCH": "The currency code differs from the order's.",
    "CURRENCY_NOT_SUPPORTED": "Currency code is not supported.",
    "DUPLICATE_INVOICE_ID": "Requested invoice number has been previously submitted.",
    "INSTRUMENT_DECLINED": "The instrument presented was either declined by the processor or "
    "bank, or it can't be used for this payment.",
    "ORDER_ALREADY_CAPTURED": "Order already captured.",
    "ORDER_NOT_APPROVED": "Payer has not yet approved the Order for payment.",
    "REFUND_AMOUNT_EXCEEDED": "The refund amount must be less than or equal to the capture "
    "amount that has not yet been refunded.",
}
MESSAGES = {
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
    "UNPROCESSABLE_ENTITY": "The requested action could not be performed, semantically "
    "incorrect, or failed business validation.",
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "AUTHENTICATION_FAILURE": "Authentication failed due to invalid authentication credentials "
    "or a missing Authorization header.",
}


class PayPalError(Exception):
    """An error answer in PayPal's shape (name, message, debug_id, details, links)."""

    def __init__(self, status: int, name: str, issue: str = "", description: str = "", **extra):
        super().__init__(issue or name)
        self.status, self.name, self.issue, self.description = status, name, issue, description
        self.field, self.links = extra.get("field", ""), extra.get("links")

    def response(self) -> Response:
        body: dict[str, Any] = {
            "name": self.name,
            "message": MESSAGES.get(self.name, self.name),
            "debug_id": secrets.token_hex(7),
        }
        if self.issue:
            detail = {"issue": self.issue, "description": self.description}
            if self.field:
                detail.update(field=self.field, location="body")
            body["details"] = [detail]
        anchor = self.issue or self.name
        info = f"https://developer.paypal.com/docs/api/orders/v2/#error-{anchor}"
        body["links"] = self.links or [{"href": info, "rel": "information_link", "method": "GET"}]
        return JSONResponse(body, status_code=self.status)


def invalid(issue: str, field: str, description: str) -> PayPalError:
    return PayPalError(400, "INVALID_REQUEST", issue, description, field=field)


def unprocessable(issue: str, **extra: Any) -> PayPalError:
    return PayPalError(422, "UNPROCESSABLE_ENTITY", issue, ISSUES[issue], **extra)


def not_found() -> PayPalError:
    return PayPalError(
        404,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
        "Specified resource ID does not exist. Please check the resource ID and try again.",
    )


def unauthenticated() -> PayPalError:
    info = "https://developer.paypal.com/api/rest/authentication/"
    return PayPalError(
        401, "AUTHENTICATION_FAILURE", links=[{"href": info, "rel": "information_link"}]
    )


# --- signing: what tests and benches import ------------------------------------------


def paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def utc_text(moment: datetime, *, millis: bool = False) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def cert_url(record: dict, api_base: str) -> str:
    return f"{api_base.rstrip('/')}/v1/notifications/certs/{record['cert_id']}"


def sign_webhook(
    record: dict,
    body: bytes,
    *,
    api_base: str,
    at: datetime | None = None,
    transmission_id: str = "",
) -> dict[str, str]:
    """The headers PayPal sends with `body` to this account's webhook: RSA over id|time|webhook id|crc32."""
    transmission_id = transmission_id or str(uuid.uuid1(node=secrets.randbits(48) | 1 << 40))
    transmission_time = utc_text(at or datetime.now(UTC))
    message = f"{transmission_id}|{transmission_time}|{record['webhook_id']}|{zlib.crc32(body)}"
    key = serialization.load_pem_private_key(record["signing_key_pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {
        "Content-Type": "application/json",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": cert_url(record, api_base),
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


def event_body(event_type: str, resource_type: str, resource: dict, *, api_base: str) -> bytes:
    """A webhook event as PayPal serializes it (compact JSON), with a fresh WH- event id."""
    event_id = f"WH-{paypal_id()}-{paypal_id()}"
    event = {
        "id": event_id,
        "event_version": "1.0",
        "create_time": utc_text(datetime.now(UTC), millis=True),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type.replace('.', ' ').title()} (sandbox)",
        "resource": resource,
        "links": [
            {
                "href": f"{api_base}/v1/notifications/webhooks-events/{event_id}",
                "rel": "self",
                "method": "GET",
            }
        ],
    }
    return json.dumps(event, separators=(",", ":")).encode()


# --- views ----------------------------------------------------------------------------


def _money(units: int, currency: str) -> dict[str, str]:
    value = str(units) if currency in NO_DECIMALS else f"{units // 100}.{units % 100:02d}"
    return {"currency_code": currency, "value": value}


def _units(amount: Any, currency: str, field: str) -> int:
    """PayPal's decimal string -> whole units of its smallest decimal (cents, or yen)."""
    if not isinstance(amount, dict):
        raise invalid("MISSING_REQUIRED_PARAMETER", field, "An amount is required.")
    if amount.get("currency_code") != currency:
        raise unprocessable("CURRENCY_MISMATCH")
    match = _VALUE.fullmatch(str(amount.get("value", "")))
    if match is None or (currency in NO_DECIMALS and match.group(2)):
        raise invalid("DECIMAL_PRECISION", f"{field}/value", "The value has too many decimals.")
    if currency in NO_DECIMALS:
        units = int(match.group(1))
    else:
        units = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if units <= 0:
        raise unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE")
    return units


def _capture_view(order: dict, capture: dict, *, related: bool = False) -> dict:
    base = order["api_base"]
    view = {
        "id": capture["id"],
        "status": capture["status"],
        "amount": _money(capture["units"], order["currency"]),
        "final_capture": True,
        "seller_protection": {"status": "ELIGIBLE"},
        "custom_id": order["unit"].get("custom_id", ""),
        "invoice_id": order["unit"].get("invoice_id", ""),
        "create_time": capture["created"],
        "update_time": capture["updated"],
        "links": [
            {
                "href": f"{base}/v2/payments/captures/{capture['id']}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{base}/v2/payments/captures/{capture['id']}/refund",
                "rel": "refund",
                "method": "POST",
            },
            {"href": f"{base}/v2/checkout/orders/{order['id']}", "rel": "up", "method": "GET"},
        ],
    }
    if related:  # webhooks carry it; the order's own view does not need it
        view["supplementary_data"] = {"related_ids": {"order_id": order["id"]}}
    return view


def _refund_view(order: dict, refund: dict) -> dict:
    base, capture_id = order["api_base"], order["captures"][-1]["id"]
    upto = next(i for i, r in enumerate(order["refunds"]) if r["id"] == refund["id"])
    refunded = sum(r["units"] for r in order["refunds"][: upto + 1])
    return {
        "id": refund["id"],
        "amount": _money(refund["units"], order["currency"]),
        **{k: refund[k] for k in ("invoice_id", "custom_id") if refund.get(k)},
        "status": refund["status"],
        "seller_payable_breakdown": {
            "gross_amount": _money(refund["units"], order["currency"]),
            "total_refunded_amount": _money(refunded, order["currency"]),
        },
        "create_time": refund["created"],
        "update_time": refund["created"],
        "links": [
            {"href": f"{base}/v2/payments/refunds/{refund['id']}", "rel": "self", "method": "GET"},
            {"href": f"{base}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
        ],
    }


def _order_view(order: dict) -> dict:
    base, status = order["api_base"], order["status"]
    unit = {**order["unit"], "amount": _money(order["units"], order["currency"])}
    unit["payee"] = {"merchant_id": order["merchant_id"]}
    if order["captures"]:
        unit["payments"] = {"captures": [_capture_view(order, c) for c in order["captures"]]}
        if order["refunds"]:
            unit["payments"]["refunds"] = [_refund_view(order, r) for r in order["refunds"]]
    links = [{"href": f"{base}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"}]
    if status in ("CREATED", "PAYER_ACTION_REQUIRED"):
        rel = "payer-action" if status == "PAYER_ACTION_REQUIRED" else "approve"
        links.append(
            {"href": f"{base}/checkoutnow?token={order['id']}", "rel": rel, "method": "GET"}
        )
    elif status == "APPROVED":
        capture = f"{base}/v2/checkout/orders/{order['id']}/capture"
        links.append({"href": capture, "rel": "capture", "method": "POST"})
    view = {
        "id": order["id"],
        "intent": "CAPTURE",
        "status": status,
        "purchase_units": [unit],
        "create_time": order["created"],
        "links": links,
    }
    if order.get("payer"):
        view["payer"] = order["payer"]
        view["payment_source"] = {"paypal": {"email_address": order["payer"]["email_address"]}}
    return view


def _minimal(view: dict, prefer: str) -> dict:
    if "return=representation" in prefer:
        return view
    return {k: view[k] for k in ("id", "status", "links") if k in view}


# --- the app --------------------------------------------------------------------------


def _api_base(request: Request) -> str:
    """This provider's root as the caller reached it, e.g. http://127.0.0.1:8790/paypal."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayPalError(413, "INVALID_REQUEST", "REQUEST_TOO_LARGE", "Bodies up to 1 MiB.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> dict:
    raw = await _body(request)
    try:
        document = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise invalid(
            "MALFORMED_REQUEST_JSON", "", "The request JSON is not well formed."
        ) from None
    if not isinstance(document, dict):
        raise invalid("MALFORMED_REQUEST_JSON", "", "The request body must be a JSON object.")
    return document


def _order_request(body: dict) -> dict:
    """The parts of a create-order body the sandbox keeps; PayPal's 400/422 for the rest."""
    if body.get("intent") != "CAPTURE":
        raise invalid("INVALID_PARAMETER_VALUE", "/intent", "The sandbox supports CAPTURE.")
    units = body.get("purchase_units")
    if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
        raise invalid("INVALID_ARRAY_LENGTH", "/purchase_units", "Exactly one purchase unit.")
    names = ("reference_id", "custom_id", "invoice_id", "description")
    unit = {k: v for k, v in units[0].items() if k in names}
    if not all(isinstance(v, str) and len(v) <= 256 for v in unit.values()):
        raise invalid("INVALID_STRING_LENGTH", "/purchase_units/0", "Up to 256 characters.")
    amount = units[0].get("amount")
    currency = amount.get("currency_code") if isinstance(amount, dict) else None
    if currency not in CURRENCIES:
        raise unprocessable("CURRENCY_NOT_SUPPORTED")
    source = body.get("payment_source")
    paypal = source.get("paypal") if isinstance(source, dict) else None
    paypal = paypal if isinstance(paypal, dict) else None
    # payment_source.paypal.experience_context now; application_context before it.
    context = (paypal or {}).get("experience_context") or body.get("application_context")
    urls = (
        {k: context.get(k) for k in ("return_url", "cancel_url")}
        if isinstance(context, dict)
        else {}
    )
    if len(urls) != 2 or not all(
        isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls.values()
    ):
        raise invalid(
            "MISSING_REQUIRED_PARAMETER",
            "/payment_source/paypal/experience_context",
            "return_url and cancel_url are required.",
        )
    return {
        "status": "PAYER_ACTION_REQUIRED" if paypal is not None else "CREATED",
        "unit": unit,
        "currency": currency,
        "units": _units(amount, currency, "/purchase_units/0/amount"),
        "urls": urls,
    }


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def create_app(psp: PaymentSandbox) -> Starlette:
    store = psp.store(SLUG)

    def state(name: str) -> dict:
        return store.setdefault(name, {})

    def now() -> str:
        return utc_text(datetime.now(UTC))

    def account_of(request: Request) -> tuple[str, dict]:
        """The account a bearer token was issued to; PayPal's 401 otherwise."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = state("tokens").get(token) if scheme == "Bearer" else None
        record = psp.accounts.get(SLUG, grant["client_id"]) if grant else None
        if record is None or grant["expires"] < datetime.now(UTC).timestamp():
            raise unauthenticated()
        return grant["client_id"], record

    def own_order(order_id: str, client_id: str) -> dict:
        order = state("orders").get(order_id)
        if order is None or order["client_id"] != client_id:
            raise not_found()  # another merchant's order does not exist for this one
        return order

    def replayed(client_id: str, scope: str, request: Request) -> tuple[str, str | None]:
        """The PayPal-Request-Id and what it made before, if anything (kept per app and call)."""
        key = request.headers.get("paypal-request-id", "")
        if len(key) > 108:
            raise invalid("INVALID_PARAMETER_SYNTAX", "PayPal-Request-Id", "Up to 108 characters.")
        return key, state("requests").get(f"{client_id}|{scope}|{key}") if key else None

    def remember(client_id: str, scope: str, key: str, resource_id: str) -> None:
        if key:
            state("requests")[f"{client_id}|{scope}|{key}"] = resource_id

    def notify(record: dict, order: dict, event_type: str, kind: str, resource: dict) -> None:
        url = record.get("webhook_url", "")
        if not url:
            return
        body = event_body(event_type, kind, resource, api_base=order["api_base"])
        sent: dict[str, str] = {}

        def build() -> tuple[dict[str, str], bytes]:
            # PayPal signs a transmission once; its retries carry the same headers and bytes.
            if not sent:
                sent.update(sign_webhook(record, body, api_base=order["api_base"]))
            return dict(sent), body

        try:
            psp.notifier.send(SLUG, json.loads(body)["id"], url, build)
        except ValueError as refused:
            log.warning("paypal webhook not sent to %s: %s", url, refused)

    def answering(function):
        async def endpoint(request: Request) -> Response:
            try:
                return await function(request)
            except PayPalError as error:
                return error.response()

        return endpoint

    @answering
    async def token(request: Request) -> Response:
        denied = {"error": "invalid_client", "error_description": "Client Authentication failed"}
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            pair = base64.b64decode(encoded, validate=True).decode() if scheme == "Basic" else ""
        except (binascii.Error, ValueError):
            pair = ""
        client_id, _, secret = pair.partition(":")
        record = psp.accounts.get(SLUG, client_id) if client_id else None
        if record is None or not hmac.compare_digest(
            secret.encode(), record["client_secret"].encode()
        ):
            return JSONResponse(denied, 401)
        form = dict(parse_qsl((await _body(request)).decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}, 400
            )
        access = "A21AA" + secrets.token_urlsafe(48)
        expires = datetime.now(UTC).timestamp() + TOKEN_SECONDS
        state("tokens")[access] = {"client_id": client_id, "expires": expires}
        scope = "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund"
        return JSONResponse(
            {
                "scope": scope,
                "access_token": access,
                "token_type": "Bearer",
                "app_id": "APP-" + paypal_id(),
                "expires_in": TOKEN_SECONDS,
                "nonce": now() + secrets.token_urlsafe(16),
            }
        )

    @answering
    async def create_order(request: Request) -> Response:
        client_id, record = account_of(request)
        prefer = request.headers.get("prefer", "")
        key, earlier = replayed(client_id, "orders", request)
        if earlier:  # the same PayPal-Request-Id: the order it made, as it is now
            return JSONResponse(_minimal(_order_view(state("orders")[earlier]), prefer), 200)
        order = {
            **_order_request(await _json(request)),
            "id": paypal_id(),
            "client_id": client_id,
            "merchant_id": record.get("merchant_id", ""),
            "api_base": _api_base(request),  # its links and certificate URLs start here
            "declined": False,
            "captures": [],
            "refunds": [],
            "created": now(),
        }
        state("orders")[order["id"]] = order
        remember(client_id, "orders", key, order["id"])
        return JSONResponse(_minimal(_order_view(order), prefer), 201)

    @answering
    async def get_order(request: Request) -> Response:
        client_id, _ = account_of(request)
        return JSONResponse(_order_view(own_order(request.path_params["id"], client_id)))

    @answering
    async def capture_order(request: Request) -> Response:
        client_id, record = account_of(request)
        order = own_order(request.path_params["id"], client_id)
        prefer = request.headers.get("prefer", "")
        key, earlier = replayed(client_id, f"capture:{order['id']}", request)
        if earlier:
            return JSONResponse(_minimal(_order_view(order), prefer), 200)
        await _json(request)
        if order["status"] == "COMPLETED":
            raise unprocessable("ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            raise unprocessable("ORDER_NOT_APPROVED")
        if order["declined"]:  # PayPal sends the buyer back to choose another way to pay
            again = f"{order['api_base']}/checkoutnow?token={order['id']}"
            raise unprocessable(
                "INSTRUMENT_DECLINED", links=[{"href": again, "rel": "redirect", "method": "GET"}]
            )
        at = now()
        capture = {
            "id": paypal_id(),
            "status": "COMPLETED",
            "units": order["units"],
            "created": at,
            "updated": at,
        }
        order["captures"].append(capture)
        order["status"] = "COMPLETED"
        state("captures")[capture["id"]] = order["id"]
        remember(client_id, f"capture:{order['id']}", key, capture["id"])
        view = _capture_view(order, capture, related=True)
        notify(record, order, "PAYMENT.CAPTURE.COMPLETED", "capture", view)
        return JSONResponse(_minimal(_order_view(order), prefer), 201)

    @answering
    async def refund_capture(request: Request) -> Response:
        client_id, record = account_of(request)
        capture_id = request.path_params["id"]
        order = own_order(state("captures").get(capture_id, ""), client_id)
        prefer = request.headers.get("prefer", "")
        key, earlier = replayed(client_id, f"refund:{capture_id}", request)
        if earlier:  # the refund that key made, never a second one
            refund = next(r for r in order["refunds"] if r["id"] == earlier)
            return JSONResponse(_minimal(_refund_view(order, refund), prefer), 200)
        body = await _json(request)
        capture = order["captures"][-1]
        left = capture["units"] - sum(r["units"] for r in order["refunds"])
        if left <= 0:
            raise unprocessable("CAPTURE_FULLY_REFUNDED")
        units = _units(body["amount"], order["currency"], "/amount") if "amount" in body else left
        if units > left:
            raise unprocessable("REFUND_AMOUNT_EXCEEDED")
        ids = {
            k: body[k]
            for k in ("invoice_id", "custom_id")
            if isinstance(body.get(k), str) and body[k]
        }
        invoices = store.setdefault("invoices", set())
        if ids.get("invoice_id") and (client_id, ids["invoice_id"]) in invoices:
            raise unprocessable("DUPLICATE_INVOICE_ID")
        refund = {"id": paypal_id(), "status": "COMPLETED", "units": units, "created": now(), **ids}
        order["refunds"].append(refund)
        capture["status"] = "REFUNDED" if units == left else "PARTIALLY_REFUNDED"
        capture["updated"] = refund["created"]
        if ids.get("invoice_id"):
            invoices.add((client_id, ids["invoice_id"]))
        remember(client_id, f"refund:{capture_id}", key, refund["id"])
        notify(record, order, "PAYMENT.CAPTURE.REFUNDED", "refund", _refund_view(order, refund))
        return JSONResponse(_minimal(_refund_view(order, refund), prefer), 201)

    async def certificate(request: Request) -> Response:
        found = psp.accounts.find(SLUG, "cert_id", request.path_params["cert_id"])
        if found is None:
            return not_found().response()
        return Response(found[1]["cert_pem"], media_type="application/x-pem-file")

    @answering
    async def approve(request: Request) -> Response:
        order = state("orders").get(request.query_params.get("token", ""))
        if order is None:
            return hosted_page.render(
                provider="PayPal", colour=COLOUR, merchant="PayPal", description="",
                amount="", actions=[], notice="Unknown order token.", status_code=404,
            )  # fmt: skip
        record = psp.accounts.get(SLUG, order["client_id"]) or {}
        amount = _money(order["units"], order["currency"])
        open_order = order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED")
        actions = [
            Action("pay", "Pay with PayPal", primary=True),
            Action("decline", "Decline"),
            Action("cancel", "Cancel"),
        ]

        def page(notice: str = "", status_code: int = 200) -> Response:
            return hosted_page.render(
                provider="PayPal",
                colour=COLOUR,
                merchant=record.get("merchant_name", "Merchant"),
                description=order["unit"].get("description", ""),
                amount=f"{amount['currency_code']} {amount['value']}",
                actions=actions if open_order else [],
                notice=notice,
                status_code=status_code,
            )

        if not open_order:
            return page(
                f"This order is {order['status'].lower()}.", 200 if request.method == "GET" else 409
            )
        if request.method == "GET":
            return page()
        action = dict(parse_qsl((await _body(request)).decode("utf-8", "replace"))).get("action")
        if action == "cancel":  # PayPal sends the buyer back with the order's token
            return RedirectResponse(
                _with_query(order["urls"]["cancel_url"], token=order["id"]), 303
            )
        if action not in ("pay", "decline"):
            return page("Choose an action.", 400)
        # "decline" approves too: PayPal learns that the instrument fails only at capture.
        payer_id = paypal_id(13)
        order.update(status="APPROVED", declined=action == "decline")
        order["payer"] = {
            "payer_id": payer_id,
            "email_address": f"buyer-{payer_id.lower()}@personal.example.com",
            "name": {"given_name": "Sandbox", "surname": "Buyer"},
        }
        notify(record, order, "CHECKOUT.ORDER.APPROVED", "checkout-order", _order_view(order))
        back = _with_query(order["urls"]["return_url"], token=order["id"], PayerID=payer_id)
        return RedirectResponse(back, 303)

    return Starlette(
        routes=[
            Route("/v1/oauth2/token", token, methods=["POST"]),
            Route("/v2/checkout/orders", create_order, methods=["POST"]),
            Route("/v2/checkout/orders/{id}", get_order, methods=["GET"]),
            Route("/v2/checkout/orders/{id}/capture", capture_order, methods=["POST"]),
            Route("/v2/payments/captures/{id}/refund", refund_capture, methods=["POST"]),
            Route("/v1/notifications/certs/{cert_id}", certificate, methods=["GET"]),
            Route("/checkoutnow", approve, methods=["GET", "POST"]),
        ]
    )
