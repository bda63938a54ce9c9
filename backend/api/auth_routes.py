"""Set and clear the HttpOnly session cookies (Reflex events cannot set HttpOnly cookies themselves)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Route

from backend.config import get_settings
from backend.domain.statuses import SessionAudience
from backend.services import sessions

_HOME = {SessionAudience.PORTAL: "/", SessionAudience.STAFF: "/staff"}


def safe_next(raw: str | None, fallback: str) -> str:
    """Only same-site paths: '/x' yes; '//evil', '/\\evil', 'https://evil' no."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")) or len(raw) > 300:
        return fallback
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil") and treat
    # a backslash like a slash: none of them belongs in a path of ours.
    if "\\" in raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        return fallback
    return raw


async def complete_sign_in(request: Request):
    redeemed = sessions.redeem_login_ticket(request.query_params.get("ticket", ""))
    if redeemed is None:
        return PlainTextResponse("This sign-in link has expired. Please sign in again.", 400)
    token, audience = redeemed
    settings = get_settings()
    response = RedirectResponse(safe_next(request.query_params.get("next"), _HOME[audience]), 303)
    response.set_cookie(
        sessions.COOKIE_NAMES[audience],
        token,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def clear_session_cookie(request: Request):
    try:
        audience = SessionAudience(request.query_params.get("audience", "portal"))
    except ValueError:
        return PlainTextResponse("unknown audience", 400)
    response = RedirectResponse(safe_next(request.query_params.get("next"), _HOME[audience]), 303)
    response.delete_cookie(sessions.COOKIE_NAMES[audience], path="/", httponly=True, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    Route("/api/auth/complete", complete_sign_in, methods=["GET"]),
    Route("/api/auth/signed-out", clear_session_cookie, methods=["GET"]),
]
