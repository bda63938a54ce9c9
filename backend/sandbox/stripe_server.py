"""localstripe for one tenant: `python -m backend.sandbox.stripe_server --port P --tenant SLUG`.

localstripe keeps one store and one list of webhook endpoints per process and takes any
`sk_...` key, so each demo tenant gets a process of its own (DemoTenant.stripe_url). In
front of localstripe this adds what the real Stripe does and our flow relies on: only the
tenant's secret key (or, where Stripe.js may, its publishable key) is accepted, with
Stripe's 401 body; `Idempotency-Key` replays the first answer (and refuses other
parameters under the same key); the webhook endpoint comes from the accounts file's
"stripe" section (re-read when the file changes); bad input answers 400, never 500.
Extra routes: `GET /_sandbox/health`, `GET /_sandbox/deliveries` (every webhook sent,
with each attempt). See docs/payments/stripe.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import socket
import sys
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qs

from aiohttp import web

from backend.sandbox import stripe_js, stripe_patches

log = logging.getLogger("waybill.sandbox.stripe")
DEFAULT_HOST = "127.0.0.1"
ENDPOINT_ID = "waybill"  # the one webhook endpoint this tenant's "dashboard" has
MAX_IDEMPOTENT = 10_000
# Paths where Stripe.js authenticates with the publishable key in the body.
_PUBLISHABLE = re.compile(
    r"^/v1/(tokens|sources|payment_intents/\w+/(confirm|_authenticate)"
    r"|setup_intents/\w+/(confirm|cancel))$"
)
_INTENT_ACTION = re.compile(r"^/v1/payment_intents/(\w+)/(confirm|cancel|_authenticate)$")
_RECORD_FIELDS = ("secret_key", "publishable_key", "webhook_secret", "webhook_url")


class TenantAccount:
    """The tenant's record in the accounts file, re-read (and the endpoint re-registered) on change."""

    def __init__(self, path: Path, tenant: str):
        self.path, self.tenant = path, tenant
        self._mtime = -1.0
        self.record: dict[str, str] = {}

    def current(self) -> dict[str, str]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return self.record
        if mtime != self._mtime:
            try:
                self._load()
            except ValueError as bad:
                if not self.record:
                    raise
                log.warning("keeping the previous stripe account: %s", bad)
            self._mtime = mtime
        return self.record

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
            record = data["stripe"][self.tenant]
        except (OSError, ValueError, KeyError, TypeError):
            raise ValueError(f"{self.path} has no stripe account for {self.tenant!r}") from None
        for name in _RECORD_FIELDS:
            if not isinstance(record.get(name), str) or not record[name]:
                raise ValueError(f"the stripe account for {self.tenant!r} has no {name}")
        if not record["secret_key"].startswith("sk_") or not record["webhook_url"].startswith(
            ("http://", "https://")
        ):
            raise ValueError("secret_key must start with sk_ and webhook_url with http(s)://")
        self.record = record
        stripe_patches.webhooks.register_webhook(
            ENDPOINT_ID, record["webhook_url"], record["webhook_secret"], None
        )


def _stripe_error(status: int, message: str, **extra) -> web.Response:
    body = {"error": {"type": "invalid_request_error", "message": message, **extra}}
    return web.json_response(body, status=status)


def _secret_key(request: web.Request) -> str | None:
    """The key in Authorization (Bearer, or Basic with the key as user); None when absent."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer":
        return value.strip()
    if scheme == "Basic":
        try:
            return base64.b64decode(value, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return None if not scheme else ""


def _masked(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"


class Front:
    """The middleware in front of localstripe (see the module docstring)."""

    def __init__(self, account: TenantAccount):
        self.account = account
        self.replays: OrderedDict[str, tuple[str, str, int, bytes]] = OrderedDict()
        self.js = stripe_js.stripe_js()

    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        path = request.path
        if path == "/_sandbox/health":
            return web.json_response({"status": "ok", "tenant": self.account.tenant})
        if path == "/_sandbox/deliveries":
            return web.json_response({"deliveries": list(stripe_patches.DELIVERIES)})
        if path == "/js.stripe.com/v3/":
            return web.Response(text=self.js, content_type="application/javascript")
        if path.startswith("/_config/"):
            return await handler(request)
        body = await request.read()
        by_secret_key, refused = self._authenticate(request, body)
        if refused is not None:
            return refused
        key = request.headers.get("Idempotency-Key", "")
        if request.method != "POST" or not key:
            return await self._dispatch(request, handler, by_secret_key)
        fingerprint = hashlib.sha256(request.method.encode() + path.encode() + body).hexdigest()
        if key in self.replays:
            first_path, first_print, status, saved = self.replays[key]
            if first_path != path:
                return _stripe_error(
                    400,
                    "Keys for idempotent requests can only be used for the same endpoint "
                    "they were first used for.",
                    type="idempotency_error",
                )
            if first_print != fingerprint:
                return _stripe_error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    type="idempotency_error",
                )
            replay = web.Response(body=saved, status=status, content_type="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response = await self._dispatch(request, handler, by_secret_key)
        if response.status < 500 and isinstance(response, web.Response) and response.body:
            self.replays[key] = (path, fingerprint, response.status, bytes(response.body))
            while len(self.replays) > MAX_IDEMPOTENT:
                self.replays.popitem(last=False)
        return response

    def _authenticate(self, request: web.Request, body: bytes):
        """(True when the tenant's secret key signed in, Stripe's 401 answer or None)."""
        record = self.account.current()
        given = _secret_key(request)
        if given is not None:
            if hmac.compare_digest(given.encode(), record["secret_key"].encode()):
                return True, None
            return False, _stripe_error(401, f"Invalid API Key provided: {_masked(given)}")
        if request.method == "POST" and _PUBLISHABLE.match(request.path):
            key = self._publishable(body)
            if key and hmac.compare_digest(key.encode(), record["publishable_key"].encode()):
                return False, None
            if key:
                return False, _stripe_error(401, f"Invalid API Key provided: {_masked(key)}")
        return False, _stripe_error(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
        )

    @staticmethod
    def _publishable(body: bytes) -> str:
        """The `key` that Stripe.js puts in a JSON or form body."""
        try:
            data = json.loads(body)
        except ValueError:
            data = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        key = data.get("key") if isinstance(data, dict) else None
        return key if isinstance(key, str) else ""

    async def _dispatch(self, request, handler, by_secret_key: bool) -> web.StreamResponse:
        try:
            action = _INTENT_ACTION.match(request.path)
            if request.method == "POST" and action:
                return await self._intent_action(request, action, by_secret_key)
            return await handler(request)
        except web.HTTPNotFound:
            return _stripe_error(
                404, f"Unrecognized request URL ({request.method}: {request.path})."
            )
        except web.HTTPException:
            raise
        except stripe_patches.UserError as refused:
            return refused.to_response()
        except Exception:  # localstripe trips over input it does not expect: Stripe says 400
            log.exception("localstripe failed on %s %s", request.method, request.path)
            return _stripe_error(400, "The request could not be handled by localstripe.")

    async def _intent_action(self, request, action, by_secret_key: bool) -> web.Response:
        from localstripe.server import get_post_data, unflatten_data

        intent_id, verb = action.groups()
        data = await get_post_data(request, remove_auth=verb != "confirm") or {}
        data.update(unflatten_data(request.query) or {})
        data.pop("expand", None)
        if verb == "confirm":
            status, body = stripe_patches.confirm_intent(
                intent_id,
                data,
                publishable_key=self.account.record["publishable_key"],
                by_secret_key=by_secret_key,
            )
        elif verb == "cancel":
            status, body = stripe_patches.cancel_intent(intent_id, data)
        else:
            status, body = stripe_patches.authenticate_intent(intent_id, data)
        return web.json_response(body, status=status)


def build_app(account: TenantAccount) -> web.Application:
    from localstripe.server import app

    app.middlewares.insert(0, Front(account).middleware)
    return app


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, or OSError when someone else listens there (no SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as busy:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {busy.strerror}") from None
    sock.listen(128)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.sandbox.stripe_server",
        description="localstripe for one demo tenant, with that tenant's keys and webhook.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tenant", required=True, help="the tenant's key in accounts['stripe']")
    parser.add_argument(
        "--accounts",
        default=os.environ.get("SANDBOX_PSP_ACCOUNTS", ""),
        help="the accounts JSON file (default: $SANDBOX_PSP_ACCOUNTS)",
    )
    parser.add_argument(
        "--webhook-backoff", type=float, default=1.0, help="seconds before the first retry"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(name)s %(message)s")
    try:
        if not args.accounts:
            raise ValueError("no accounts file: pass --accounts or set SANDBOX_PSP_ACCOUNTS")
        account = TenantAccount(Path(args.accounts), args.tenant)
        account.current()
        sock = _listen(args.host, args.port)
    except (ValueError, OSError) as bad:
        print(f"stripe sandbox: {bad}", file=sys.stderr)
        return 2
    stripe_patches.apply(backoff_seconds=args.webhook_backoff)
    # run_app turns SIGINT and SIGTERM into a clean shutdown and returns.
    web.run_app(build_app(account), sock=sock, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
