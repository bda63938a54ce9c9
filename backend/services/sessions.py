"""Server-side sessions: 256-bit tokens (stored as SHA-256), idle and absolute expiry, revocation.

The browser holds the token in an HttpOnly cookie. Because a Reflex event cannot set
an HttpOnly cookie, sign-in hands the browser a one-time login ticket (60 s, in
Redis) that an HTTP route of ours exchanges for the cookie.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from uuid import UUID

from sqlmodel import select

from backend.cache import get_redis
from backend.config import get_settings
from backend.db import session_scope
from backend.domain.roles import Role
from backend.domain.statuses import SessionAudience
from backend.models import AuthSession, Member, StaffRole, UserAccount
from backend.models.base import utcnow
from backend.services.access import Principal

TOKEN_BYTES = 32
TICKET_TTL_SECONDS = 60
COOKIE_NAMES = {
    SessionAudience.PORTAL: "wb_portal_session",
    SessionAudience.STAFF: "wb_staff_session",
}
_TOUCH_EVERY = timedelta(seconds=60)  # write last_seen_at at most once a minute per session


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    user_id: UUID,
    audience: SessionAudience,
    *,
    ip: str = "",
    user_agent: str = "",
    replaces_token: str | None = None,
) -> str:
    """Create a session and return its token; the session the browser held before is revoked."""
    settings = get_settings()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    with session_scope() as db:
        if replaces_token:
            _revoke(db, replaces_token)
        db.add(
            AuthSession(
                token_hash=token_hash(token),
                user_id=user_id,
                audience=audience.value,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=settings.session_absolute_hours),
                ip=ip[:64],
                user_agent=user_agent[:300],
            )
        )
    return token


def _revoke(db, token: str) -> None:
    row = db.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).first()
    if row and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.add(row)


def revoke_session(token: str) -> None:
    if token:
        with session_scope() as db:
            _revoke(db, token)


def resolve_session(token: str | None, audience: SessionAudience) -> Principal | None:
    """The principal behind a live token for this audience, or None (expired, revoked, unknown)."""
    if not token or len(token) > 128:
        return None
    settings = get_settings()
    now = utcnow()
    with session_scope() as db:
        row = db.exec(
            select(AuthSession, UserAccount)
            .join(UserAccount, UserAccount.id == AuthSession.user_id)
            .where(AuthSession.token_hash == token_hash(token))
        ).first()
        if row is None:
            return None
        auth, user = row
        idle_limit = timedelta(minutes=settings.session_idle_minutes)
        if (
            auth.audience != audience.value
            or auth.revoked_at is not None
            or auth.expires_at <= now
            or auth.last_seen_at + idle_limit <= now
            or not user.is_active
        ):
            return None
        if now - auth.last_seen_at >= _TOUCH_EVERY:
            auth.last_seen_at = now
            db.add(auth)
        roles: dict[UUID, set[Role]] = {}
        for grant in db.exec(select(StaffRole).where(StaffRole.user_id == user.id)):
            roles.setdefault(grant.tenant_id, set()).add(Role(grant.role))
        member = db.exec(select(Member).where(Member.user_id == user.id)).first()
        principal = Principal(
            user_id=user.id,
            session_id=auth.id,
            audience=audience.value,
            email=user.email,
            display_name=user.display_name,
            preferred_locale=user.preferred_locale,
            is_platform_admin=user.is_platform_admin,
            member_id=member.id if member else None,
            roles={tenant: frozenset(r) for tenant, r in roles.items()},
        )
    if audience is SessionAudience.STAFF and not principal.is_staff:
        return None
    return principal


def issue_login_ticket(token: str, audience: SessionAudience) -> str:
    ticket = secrets.token_urlsafe(24)
    payload = json.dumps({"token": token, "audience": audience.value})
    get_redis().set(f"wb:login-ticket:{token_hash(ticket)}", payload, ex=TICKET_TTL_SECONDS)
    return ticket


def redeem_login_ticket(ticket: str) -> tuple[str, SessionAudience] | None:
    """Exchange a ticket once for (token, audience); None if unknown, used or expired."""
    if not ticket or len(ticket) > 64:
        return None
    raw = get_redis().getdel(f"wb:login-ticket:{token_hash(ticket)}")
    if raw is None:
        return None
    data = json.loads(raw)
    return data["token"], SessionAudience(data["audience"])
