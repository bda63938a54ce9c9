"""Checkout.com's side: the Hosted Payments Page (card or Octopus), payments, refunds, signed webhooks.

Accounts (`SANDBOX_PSP_ACCOUNTS` under "checkout"), keyed by processing channel id:
{"secret_key", "public_key", "webhook_url", "webhook_signature_key", "merchant_name"}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import string
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.sandbox.carriers.gate import BadInput, read_body
from backend.sandbox.payments.hosted_page import Action, money_text, render
from backend.sandbox.payments.state import PaymentSandbox

SLUG = "checkout"
COLOUR = "#186aff"
METHODS = {"card": "Card", "octopus": "Octopus"}
REFUNDABLE = ("Captured", "Partially Refunded", "Paid")
SECOND_WEBHOOK_DELAY = 0.1  # payment_captured after payment_approved, as Checkout.com sends them
log = logging.getLogger("waybill.sandbox.payments")
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


# --- signing (importable by tests and benches) -----------------------------------------


def new_id(prefix: str) -> str:
    """Checkout.com's ids: a prefix and 26 lowercase base32 characters (pay_, act_, evt_)."""
    return prefix + "".join(secrets.choice(_BASE32) for _ in range(26))


def signature(key: str, body: bytes) -> str:
    """Cko-Signature: the hex HMAC-SHA256 of the raw body under the webhook signature key."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def build_webhook(
    record: dict,
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str = "",
    created_on: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one webhook, signed with the record's webhook signature key."""
    created = (created_on or datetime.now(UTC)).astimezone(UTC)
    event_id = event_id or new_id("evt_")
    event = {
        "id": event_id,
        "type": event_type,
        "version": "1.0.33",
        "created_on": created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "data": data,
        "_links": {"self": {"href": f"/workflows/events/{event_id}"}},
    }
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "Cko-Signature": signature(record["webhook_signature_key"], body),
    }
    return headers, body


# --- the provider ---------------------------------------------------------------------


class Refused(Exception):
    """A Checkout.com error answer: {"request_id", "error_type", "error_codes"} (401/404: no body)."""

    def __init__(self, status: int, error_type: str = "", *codes: str):
        super().__init__(error_type)
        self.status, self.error_type, self.codes = status, error_type, list(codes)

    def response(self) -> Response:
        if not self.error_type:
            return Response(status_code=self.status)
        body = {"request_id": new_id("req_"), "error_type": self.error_type}
        if self.codes:
            body["error_codes"] = self.codes
        return JSONResponse(body, status_code=self.status)


def _invalid(*codes: str) -> Refused:
    return Refused(422, "request_invalid", *codes)


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _url(body: dict, name: str) -> str:
    value = body.get(name)
    if (
        not isinstance(value, str)
        or not value.startswith(("http://", "https://"))
        or len(value) > 1024
    ):
        raise _invalid(f"{name}_invalid")
    return value


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def _hosted_request(body: dict, channel: str, allowed: list[str]) -> dict:
    amount, currency = body.get("amount"), body.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < 10**11:
        raise _invalid("amount_invalid")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise _invalid("currency_invalid")
    reference = body.get("reference", "")
    if not isinstance(reference, str) or len(reference) > 80:
        raise _invalid("reference_invalid")
    billing = body.get("billing")
    address = billing.get("address") if isinstance(billing, dict) else None
    country = address.get("country") if isinstance(address, dict) else None
    if not isinstance(country, str) or len(country) != 2:
        raise _invalid("billing_address_country_invalid")
    if body.get("processing_channel_id", channel) != channel:
        raise _invalid("processing_channel_id_invalid")
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 100:
        raise _invalid("description_invalid")
    return {
        "amount": amount,
        "currency": currency.upper(),
        "reference": reference,
        "description": description,
        "billing": {"address": {"country": country}},
        "success_url": _url(body, "success_url"),
        "failure_url": _url(body, "failure_url"),
        "cancel_url": _url(body, "cancel_url"),
        "methods": allowed,
    }


def create_app(psp: PaymentSandbox) -> Starlette:
    store = psp.store(SLUG)
    sessions: dict[str, dict] = store.setdefault("sessions", {})
    payments: dict[str, dict] = store.setdefault("payments", {})
    replays: dict[tuple[str, str], tuple[int, bytes]] = store.setdefault("idempotency", {})

    def api(
        handler: Callable[[Request, str, dict], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """Authorization (Bearer sk_... or a bare sk_...), 1 MiB JSON bodies, Cko-Idempotency-Key."""

        async def endpoint(request: Request) -> Response:
            key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            found = psp.accounts.find(SLUG, "secret_key", key)
            if found is None:
                return Refused(401).response()
            channel, _ = found
            try:
                raw = await read_body(request)
                body = json.loads(raw) if raw else {}
            except BadInput:
                return Refused(413, "request_too_large").response()
            except (ValueError, RecursionError):
                return Refused(400, "request_malformed").response()
            if not isinstance(body, dict):
                return Refused(400, "request_malformed").response()
            idempotency = request.headers.get("cko-idempotency-key", "")
            if idempotency and (channel, idempotency) in replays:
                status, content = replays[(channel, idempotency)]
                return Response(content, status, media_type="application/json")
            try:
                response = await handler(request, channel, body)
            except Refused as refused:
                return refused.response()
            if idempotency and 200 <= response.status_code < 300:
                replays[(channel, idempotency)] = (response.status_code, bytes(response.body))
            return response

        return endpoint

    def public(payment: dict) -> dict:
        return {k: v for k, v in payment.items() if k not in ("channel", "actions")}

    def owned(channel: str, payment_id: str) -> dict:
        payment = payments.get(payment_id)
        if payment is None or payment["channel"] != channel:
            raise Refused(404)
        return payment

    def notify(channel: str, event_type: str, data: dict, delay: float = 0.0) -> None:
        record = psp.accounts.get(SLUG, channel) or {}
        event_id = new_id("evt_")
        try:
            headers, body = build_webhook(record, event_type, data, event_id=event_id)
            # The same signed bytes on every attempt: Checkout.com re-sends the event as it was.
            psp.notifier.send(
                SLUG, event_id, record.get("webhook_url", ""), lambda: (headers, body), delay
            )
        except (KeyError, ValueError):
            log.warning("checkout %s cannot be sent webhooks; %s dropped", channel, event_type)

    def event_data(payment: dict, action: dict) -> dict:
        return {
            "id": payment["id"],
            "action_id": action["id"],
            "amount": action["amount"],
            "currency": payment["currency"],
            "reference": action.get("reference") or payment["reference"],
            "processed_on": action["processed_on"],
            "response_code": action["response_code"],
            "response_summary": action["response_summary"],
            "payment_type": "Regular",
            "source": payment["source"],
        }

    @api
    async def create_session(request: Request, channel: str, body: dict) -> Response:
        wanted = body.get("allow_payment_methods", ["card"])
        if not isinstance(wanted, list) or not wanted or any(m not in METHODS for m in wanted):
            raise _invalid("allow_payment_methods_invalid")
        session_id = "hpp_" + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(12)
        )
        session = {
            "id": session_id,
            "status": "Payment Pending",
            "channel": channel,
            **_hosted_request(body, channel, wanted),
        }
        sessions[session_id] = session
        return JSONResponse(session_view(request, session), status_code=201)

    def session_view(request: Request, session: dict) -> dict:
        view = {k: v for k, v in session.items() if k not in ("channel", "methods")}
        links = {
            "self": {"href": str(request.url_for("session", session_id=session["id"]))},
            "redirect": {"href": str(request.url_for("page", session_id=session["id"]))},
        }
        if session.get("payment_id"):
            links["payment"] = {
                "href": str(request.url_for("payment", payment_id=session["payment_id"]))
            }
        return {**view, "_links": links}

    @api
    async def get_session(request: Request, channel: str, body: dict) -> Response:
        session = sessions.get(request.path_params["session_id"])
        if session is None or session["channel"] != channel:
            raise Refused(404)
        return JSONResponse(session_view(request, session))

    @api
    async def get_payment(request: Request, channel: str, body: dict) -> Response:
        return JSONResponse(public(owned(channel, request.path_params["payment_id"])))

    @api
    async def list_payments(request: Request, channel: str, body: dict) -> Response:
        reference = request.query_params.get("reference", "")
        found = [
            public(p)
            for p in payments.values()
            if p["channel"] == channel and p["reference"] == reference
        ]
        found.reverse()  # newest first
        return JSONResponse(
            {"limit": 100, "skip": 0, "total_count": len(found), "data": found[:100]}
        )

    @api
    async def get_actions(request: Request, channel: str, body: dict) -> Response:
        return JSONResponse(
            list(reversed(owned(channel, request.path_params["payment_id"])["actions"]))
        )

    @api
    async def refund(request: Request, channel: str, body: dict) -> Response:
        payment = owned(channel, request.path_params["payment_id"])
        if payment["status"] not in REFUNDABLE:
            raise Refused(403, "action_not_allowed")
        balances = payment["balances"]
        amount = body.get("amount", balances["available_to_refund"])
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise _invalid("amount_invalid")
        if amount > balances["available_to_refund"]:
            raise _invalid("refund_amount_exceeds_balance")
        reference = body.get("reference", "")
        if not isinstance(reference, str) or len(reference) > 80:
            raise _invalid("reference_invalid")
        balances["total_refunded"] += amount
        balances["available_to_refund"] -= amount
        payment["status"] = (
            "Refunded" if balances["available_to_refund"] == 0 else "Partially Refunded"
        )
        action = _action("Refund", amount, reference)
        payment["actions"].append(action)
        notify(channel, "payment_refunded", event_data(payment, action), SECOND_WEBHOOK_DELAY)
        href = str(request.url_for("payment", payment_id=payment["id"]))
        return JSONResponse(
            {
                "action_id": action["id"],
                "reference": reference,
                "_links": {"payment": {"href": href}},
            },
            status_code=202,
        )

    async def page(request: Request) -> Response:
        session = sessions.get(request.path_params["session_id"])
        if session is None:
            return render(
                provider="Checkout.com", colour=COLOUR, merchant="", description="", amount="",
                actions=[], notice="This payment page does not exist.", status_code=404,
            )  # fmt: skip
        if request.method == "GET" or session["status"] != "Payment Pending":
            done = session["status"] != "Payment Pending"
            return _page(session, "This payment has been received." if done else "")
        try:
            form = parse_qs((await read_body(request)).decode("utf-8", "replace"))
        except BadInput:
            return _page(session, "That form was too large.", 413)
        action = (form.get("action") or [""])[0]
        method = (form.get("method") or [session["methods"][0]])[0]
        if action not in ("pay", "decline", "cancel") or method not in session["methods"]:
            return _page(session, "Choose a way to pay, then Pay, Decline or Cancel.", 400)
        if action == "cancel":
            return RedirectResponse(session["cancel_url"], status_code=303)
        payment = _pay(session, method, approved=action == "pay")
        target = session["success_url"] if action == "pay" else session["failure_url"]
        return RedirectResponse(
            _with_query(target, **{"cko-payment-id": payment["id"]}), status_code=303
        )

    def _pay(session: dict, method: str, *, approved: bool) -> dict:
        amount = session["amount"]
        payment = {
            "id": new_id("pay_"),
            "requested_on": _now_text(),
            "source": {"type": method},
            "amount": amount,
            "currency": session["currency"],
            "payment_type": "Regular",
            "reference": session["reference"],
            "description": session["description"],
            "approved": approved,
            "status": "Captured" if approved else "Declined",
            "balances": {
                "total_authorized": amount if approved else 0,
                "total_captured": amount if approved else 0,
                "total_refunded": 0,
                "available_to_refund": amount if approved else 0,
            },
            "channel": session["channel"],
            "actions": [],
        }
        payments[payment["id"]] = payment
        authorization = _action("Authorization", amount, "", approved=approved)
        payment["actions"].append(authorization)
        if not approved:
            # The page stays open: the customer may try again, as on the real hosted page.
            notify(session["channel"], "payment_declined", event_data(payment, authorization))
            return payment
        session["status"], session["payment_id"] = "Payment Received", payment["id"]
        capture = _action("Capture", amount, "")
        payment["actions"].append(capture)
        notify(session["channel"], "payment_approved", event_data(payment, authorization))
        notify(
            session["channel"],
            "payment_captured",
            event_data(payment, capture),
            SECOND_WEBHOOK_DELAY,
        )
        return payment

    def _page(session: dict, notice: str = "", status: int = 200) -> HTMLResponse:
        open_ = session["status"] == "Payment Pending"
        actions = [
            Action("pay", "Pay", primary=True),
            Action("decline", "Decline"),
            Action("cancel", "Cancel"),
        ]
        record = psp.accounts.get(SLUG, session["channel"]) or {}
        return render(
            provider="Checkout.com",
            colour=COLOUR,
            merchant=record.get("merchant_name", session["channel"]),
            description=session["description"],
            amount=money_text(session["amount"], session["currency"]),
            actions=actions if open_ else [],
            methods=[(m, METHODS[m]) for m in session["methods"]] if open_ else None,
            notice=notice,
            status_code=status,
        )

    return Starlette(
        routes=[
            Route("/hosted-payments", create_session, methods=["POST"]),
            Route("/hosted-payments/{session_id}", get_session, methods=["GET"], name="session"),
            Route("/payments", list_payments, methods=["GET"]),
            Route("/payments/{payment_id}", get_payment, methods=["GET"], name="payment"),
            Route("/payments/{payment_id}/actions", get_actions, methods=["GET"]),
            Route("/payments/{payment_id}/refunds", refund, methods=["POST"]),
            Route("/page/{session_id}", page, methods=["GET", "POST"], name="page"),
        ]
    )


def _action(kind: str, amount: int, reference: str, *, approved: bool = True) -> dict:
    return {
        "id": new_id("act_"),
        "type": kind,
        "processed_on": _now_text(),
        "amount": amount,
        "approved": approved,
        "response_code": "10000" if approved else "20005",
        "response_summary": "Approved" if approved else "Declined - Do not honour",
        "reference": reference,
    }
