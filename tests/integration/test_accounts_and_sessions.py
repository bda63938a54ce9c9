"""Sign-up, sign-in and server-side sessions against real PostgreSQL and Redis, and the cookie routes."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from backend.api import auth_routes
from backend.config import get_settings
from backend.db import get_engine, session_scope
from backend.domain.roles import Role
from backend.domain.statuses import SessionAudience
from backend.models import AuditLog, AuthSession, Member, MemberTenant, UserAccount
from backend.models.base import utcnow
from backend.services import accounts, sessions
from backend.services.accounts import SignUp
from backend.services.errors import AuthFailed, ValidationFailed
from tests.support import factories

pytestmark = pytest.mark.local_services

PORTAL = SessionAudience.PORTAL
STAFF = SessionAudience.STAFF
PASSWORD = factories.DEFAULT_PASSWORD


@pytest.fixture(autouse=True)
def _fresh_state(clean_db, redis_client):
    """Empty tables and an empty Redis database (throttle counters, tickets) for every test."""
    yield


def _form(**overrides) -> SignUp:
    fields = {
        "email": "mei.chan@example.com",
        "password": "harbour-lights-2026",
        "display_name": "Mei Chan",
        "phone": "9123 4567",
    }
    fields.update(overrides)
    return SignUp(**fields)


def _session_row(token: str) -> AuthSession:
    with session_scope() as db:
        return db.exec(
            select(AuthSession).where(AuthSession.token_hash == sessions.token_hash(token))
        ).one()


def _shift_session(token: str, **columns) -> None:
    with session_scope() as db:
        row = db.exec(
            select(AuthSession).where(AuthSession.token_hash == sessions.token_hash(token))
        ).one()
        for name, value in columns.items():
            setattr(row, name, value)
        db.add(row)


# -- sign-up ----------------------------------------------------------------------------------


def test_sign_up_creates_a_member_joined_to_the_tenant_and_signs_it_in():
    tenant = factories.make_tenant(slug="harbour")

    signed_in = accounts.sign_up_member(
        _form(email="  Mei.Chan@Example.COM ", display_name="  Mei Chan  ", tenant_slug="harbour"),
        ip="203.0.113.9",
        user_agent="pytest",
    )

    assert signed_in.display_name == "Mei Chan"
    with session_scope() as db:
        user = db.exec(select(UserAccount)).one()
        member = db.exec(select(Member)).one()
        joined = db.exec(select(MemberTenant)).all()
        audit = db.exec(select(AuditLog)).all()
    assert user.email == "mei.chan@example.com"
    assert user.display_name == "Mei Chan"
    assert user.password_hash.startswith("$argon2id$")
    assert "harbour-lights-2026" not in user.password_hash
    assert member.user_id == user.id
    assert member.phone == "+85291234567"
    assert [(j.member_id, j.tenant_id) for j in joined] == [(member.id, tenant.id)]
    assert [(a.action, a.tenant_id, a.actor_user_id, a.ip) for a in audit] == [
        ("member.sign_up", tenant.id, user.id, "203.0.113.9")
    ]
    principal = sessions.resolve_session(signed_in.token, PORTAL)
    assert principal is not None
    assert (principal.user_id, principal.member_id) == (user.id, member.id)
    assert not principal.is_staff


def test_sign_up_at_an_unknown_tenant_still_creates_the_member_without_a_membership():
    signed_in = accounts.sign_up_member(_form(tenant_slug="no-such-tenant"))
    with session_scope() as db:
        assert db.exec(select(Member)).one()
        assert db.exec(select(MemberTenant)).all() == []
    assert sessions.resolve_session(signed_in.token, PORTAL) is not None


def test_the_new_member_can_sign_in_with_the_password_chosen_at_sign_up():
    accounts.sign_up_member(_form())
    signed_in = accounts.sign_in("MEI.CHAN@example.com", "harbour-lights-2026", PORTAL)
    assert sessions.resolve_session(signed_in.token, PORTAL) is not None


@pytest.mark.parametrize(
    "second_email", ["mei.chan@example.com", "MEI.CHAN@EXAMPLE.COM", " Mei.Chan@example.com "]
)
def test_duplicate_email_is_refused_whatever_its_case(second_email):
    accounts.sign_up_member(_form(email="Mei.Chan@Example.com"))

    with pytest.raises(ValidationFailed) as refused:
        accounts.sign_up_member(_form(email=second_email, display_name="Someone Else"))

    assert refused.value.fields == {"email": "email_taken"}
    with session_scope() as db:
        assert len(db.exec(select(UserAccount)).all()) == 1
        assert len(db.exec(select(Member)).all()) == 1


def test_an_email_already_used_by_a_staff_account_is_taken_too():
    factories.make_user(email="Ada@Example.com")
    with pytest.raises(ValidationFailed) as refused:
        accounts.sign_up_member(_form(email="ada@example.com"))
    assert refused.value.fields == {"email": "email_taken"}


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"display_name": "x" * 81}, "display_name", "name_too_long"),
        ({"display_name": "   "}, "display_name", "name_required"),
        ({"display_name": "<b>Mei</b>"}, "display_name", "name_invalid"),
        ({"email": "mei.chan@"}, "email", "email_invalid"),
        ({"email": "mei.chan.example.com"}, "email", "email_invalid"),
        ({"email": ""}, "email", "email_required"),
        ({"password": "short-1"}, "password", "password_too_short"),
        ({"password": "x" * 129 + "abc"}, "password", "password_too_long"),
        ({"password": "aaaaaaaaaaaa"}, "password", "password_too_simple"),
        ({"password": "MEI.CHAN@example.com"}, "password", "password_is_email"),
        ({"phone": "12345"}, "phone", "phone_invalid"),
        ({"phone": "91234567 ext 2"}, "phone", "phone_invalid"),
    ],
)
def test_each_invalid_field_is_refused_with_its_own_code_and_nothing_is_written(
    overrides, field, code
):
    with pytest.raises(ValidationFailed) as refused:
        accounts.sign_up_member(_form(**overrides))

    assert refused.value.fields == {field: code}
    with session_scope() as db:
        assert db.exec(select(UserAccount)).all() == []
        assert db.exec(select(AuthSession)).all() == []


def test_every_invalid_field_is_reported_at_once():
    form = _form(email="nope", password="short", display_name="", phone="abc")
    assert accounts.validate_sign_up(form) == {
        "email": "email_invalid",
        "password": "password_too_short",
        "display_name": "name_required",
        "phone": "phone_invalid",
    }


# -- sign-in ----------------------------------------------------------------------------------


def test_sign_in_with_the_right_password_opens_a_session_and_records_it():
    user = factories.make_user(email="owner@example.com", display_name="Owner")
    factories.make_member(user=user)

    signed_in = accounts.sign_in("owner@example.com", PASSWORD, PORTAL, ip="198.51.100.7")

    assert signed_in.display_name == "Owner"
    row = _session_row(signed_in.token)
    assert (row.user_id, row.audience, row.ip, row.revoked_at) == (
        user.id,
        "portal",
        "198.51.100.7",
        None,
    )
    with session_scope() as db:
        refreshed = db.get(UserAccount, user.id)
        actions = [a.action for a in db.exec(select(AuditLog))]
    assert refreshed.last_login_at is not None
    assert actions == ["auth.sign_in"]


def test_sign_in_with_a_wrong_password_is_refused_as_invalid_credentials():
    factories.make_user(email="owner@example.com")
    with pytest.raises(AuthFailed) as refused:
        accounts.sign_in("owner@example.com", "not-the-password", PORTAL)
    assert (refused.value.code, refused.value.retry_after) == ("invalid_credentials", 0)
    with session_scope() as db:
        assert db.exec(select(AuthSession)).all() == []


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password():
    factories.make_user(email="owner@example.com")
    with pytest.raises(AuthFailed) as wrong_password:
        accounts.sign_in("owner@example.com", "not-the-password", PORTAL)
    with pytest.raises(AuthFailed) as unknown_email:
        accounts.sign_in("nobody@example.com", "not-the-password", PORTAL)
    assert unknown_email.value.code == wrong_password.value.code == "invalid_credentials"
    assert str(unknown_email.value) == str(wrong_password.value)


@pytest.mark.parametrize(
    ("email", "password"),
    [("", PASSWORD), ("owner@example.com", ""), ("owner@example.com", "x" * 129)],
)
def test_blank_or_over_long_credentials_are_refused_without_a_lookup(email, password):
    factories.make_user(email="owner@example.com")
    with pytest.raises(AuthFailed) as refused:
        accounts.sign_in(email, password, PORTAL)
    assert refused.value.code == "invalid_credentials"


def test_a_member_is_refused_at_the_staff_portal():
    factories.make_member(email="member@example.com")
    with pytest.raises(AuthFailed) as refused:
        accounts.sign_in("member@example.com", PASSWORD, STAFF)
    assert refused.value.code == "not_staff"
    with session_scope() as db:
        assert db.exec(select(AuthSession)).all() == []


def test_a_staff_user_signs_in_to_the_staff_portal_with_their_roles():
    tenant = factories.make_tenant()
    agent = factories.make_staff(tenant, Role.AGENT, email="agent@example.com")

    signed_in = accounts.sign_in("agent@example.com", PASSWORD, STAFF)

    principal = sessions.resolve_session(signed_in.token, STAFF)
    assert principal is not None
    assert principal.user_id == agent.id
    assert principal.roles == {tenant.id: frozenset({Role.AGENT})}
    assert principal.audience == "staff"


def test_a_deactivated_account_cannot_sign_in_even_with_the_right_password():
    factories.make_user(email="gone@example.com", is_active=False)
    with pytest.raises(AuthFailed) as refused:
        accounts.sign_in("gone@example.com", PASSWORD, PORTAL)
    assert refused.value.code == "inactive"


def test_a_deactivated_accounts_open_session_stops_resolving():
    user = factories.make_user(email="leaver@example.com")
    token = accounts.sign_in("leaver@example.com", PASSWORD, PORTAL).token
    with session_scope() as db:
        row = db.get(UserAccount, user.id)
        row.is_active = False
        db.add(row)
    assert sessions.resolve_session(token, PORTAL) is None


def test_a_failed_sign_in_to_a_known_account_is_kept_in_the_audit_log():
    user = factories.make_user(email="owner@example.com")
    with pytest.raises(AuthFailed):
        accounts.sign_in("owner@example.com", "not-the-password", STAFF, ip="203.0.113.66")
    with session_scope() as db:
        failed = db.exec(select(AuditLog).where(AuditLog.action == "auth.sign_in_failed")).all()
    assert [(a.actor_user_id, a.ip) for a in failed] == [(user.id, "203.0.113.66")]


# -- session tokens ---------------------------------------------------------------------------


def test_a_session_token_carries_at_least_128_random_bits_and_only_its_sha256_is_stored():
    factories.make_user(email="owner@example.com")
    tokens = [accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token for _ in range(3)]

    for token in tokens:
        # token_urlsafe(32): 32 random bytes = 256 bits, 43 URL-safe base64 characters.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
        assert len(token) * 6 >= 128
    assert len(set(tokens)) == 3

    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT * FROM auth_session")).mappings().all()
    assert len(rows) == 3
    stored_hashes = {row["token_hash"] for row in rows}
    assert stored_hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    dumped = repr([dict(row) for row in rows])
    assert not any(token in dumped for token in tokens)


def test_sign_in_rotates_the_session_the_browser_held_before():
    factories.make_user(email="owner@example.com")
    first = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token
    assert sessions.resolve_session(first, PORTAL) is not None

    second = accounts.sign_in("owner@example.com", PASSWORD, PORTAL, previous_token=first).token

    assert second != first
    assert sessions.resolve_session(first, PORTAL) is None
    assert _session_row(first).revoked_at is not None
    assert sessions.resolve_session(second, PORTAL) is not None


def test_a_session_idle_for_longer_than_the_idle_limit_no_longer_resolves():
    factories.make_user(email="owner@example.com")
    token = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token
    idle = timedelta(minutes=get_settings().session_idle_minutes)

    _shift_session(token, last_seen_at=utcnow() - idle - timedelta(seconds=5))

    assert sessions.resolve_session(token, PORTAL) is None


def test_using_a_session_keeps_it_alive_by_moving_last_seen_forward():
    factories.make_user(email="owner@example.com")
    token = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    almost_idle = utcnow() - idle + timedelta(minutes=2)
    _shift_session(token, last_seen_at=almost_idle)

    assert sessions.resolve_session(token, PORTAL) is not None

    assert _session_row(token).last_seen_at > almost_idle + timedelta(minutes=1)


def test_a_session_past_its_absolute_expiry_no_longer_resolves_even_if_busy():
    factories.make_user(email="owner@example.com")
    token = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token
    row = _session_row(token)
    absolute = row.expires_at - row.created_at
    assert absolute == timedelta(hours=get_settings().session_absolute_hours)

    _shift_session(token, last_seen_at=utcnow(), expires_at=utcnow() - timedelta(seconds=1))

    assert sessions.resolve_session(token, PORTAL) is None


def test_a_portal_token_does_not_open_the_staff_portal_and_vice_versa():
    tenant = factories.make_tenant()
    user = factories.make_staff(tenant, Role.TENANT_ADMIN, email="both@example.com")
    factories.make_member(user=user)

    portal_token = accounts.sign_in("both@example.com", PASSWORD, PORTAL).token
    staff_token = accounts.sign_in("both@example.com", PASSWORD, STAFF).token

    assert sessions.resolve_session(portal_token, STAFF) is None
    assert sessions.resolve_session(staff_token, PORTAL) is None
    assert sessions.resolve_session(portal_token, PORTAL) is not None
    assert sessions.resolve_session(staff_token, STAFF) is not None


def test_a_staff_session_stops_resolving_once_the_user_holds_no_role():
    tenant = factories.make_tenant()
    user = factories.make_staff(tenant, Role.AGENT, email="agent@example.com")
    token = accounts.sign_in("agent@example.com", PASSWORD, STAFF).token
    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM staff_role WHERE user_id = :u"), {"u": user.id})
    assert sessions.resolve_session(token, STAFF) is None


def test_a_revoked_session_no_longer_resolves():
    factories.make_user(email="owner@example.com")
    token = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token

    accounts.sign_out(token)

    assert sessions.resolve_session(token, PORTAL) is None
    assert _session_row(token).revoked_at is not None


def test_signing_out_of_one_session_leaves_the_others_open():
    factories.make_user(email="owner@example.com")
    phone = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token
    laptop = accounts.sign_in("owner@example.com", PASSWORD, PORTAL).token
    sessions.revoke_session(phone)
    assert sessions.resolve_session(phone, PORTAL) is None
    assert sessions.resolve_session(laptop, PORTAL) is not None


@pytest.mark.parametrize("token", [None, "", "not-a-token", "x" * 129])
def test_unknown_empty_or_over_long_tokens_do_not_resolve(token):
    assert sessions.resolve_session(token, PORTAL) is None


def test_signing_out_without_a_token_does_nothing():
    accounts.sign_out(None)
    accounts.sign_out("")
    with session_scope() as db:
        assert db.exec(select(AuthSession)).all() == []


# -- login tickets ----------------------------------------------------------------------------


def test_a_login_ticket_is_redeemed_once_for_its_token_and_audience():
    ticket = sessions.issue_login_ticket("the-session-token", STAFF)

    assert sessions.redeem_login_ticket(ticket) == ("the-session-token", STAFF)
    assert sessions.redeem_login_ticket(ticket) is None


def test_a_login_ticket_lives_no_longer_than_its_ttl_and_is_keyed_by_its_hash(redis_client):
    ticket = sessions.issue_login_ticket("the-session-token", PORTAL)

    keys = [key.decode() for key in redis_client.keys("wb:login-ticket:*")]
    assert keys == [f"wb:login-ticket:{sessions.token_hash(ticket)}"]
    assert ticket not in keys[0]
    assert 0 < redis_client.ttl(keys[0]) <= sessions.TICKET_TTL_SECONDS


def test_an_expired_login_ticket_is_refused(redis_client):
    ticket = sessions.issue_login_ticket("the-session-token", PORTAL)
    key = f"wb:login-ticket:{sessions.token_hash(ticket)}"
    redis_client.pexpire(key, 1)  # fast-forward to the end of its 60 seconds
    time.sleep(0.02)

    assert sessions.redeem_login_ticket(ticket) is None


@pytest.mark.parametrize("ticket", ["", "never-issued", "x" * 65])
def test_unknown_or_over_long_tickets_are_refused(ticket):
    assert sessions.redeem_login_ticket(ticket) is None


# -- cookie routes ----------------------------------------------------------------------------


@pytest.fixture
def client():
    with TestClient(Starlette(routes=auth_routes.routes), follow_redirects=False) as test_client:
        yield test_client


def _set_cookie(response) -> str:
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    return cookies[0]


def test_completing_sign_in_sets_an_http_only_lax_cookie_and_redirects(client):
    ticket = sessions.issue_login_ticket("the-session-token", PORTAL)

    response = client.get("/api/auth/complete", params={"ticket": ticket, "next": "/shipments"})

    assert response.status_code == 303
    assert response.headers["location"] == "/shipments"
    assert response.headers["cache-control"] == "no-store"
    cookie = _set_cookie(response)
    assert cookie.startswith("wb_portal_session=the-session-token;")
    parts = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in parts
    assert "samesite=lax" in parts
    assert "path=/" in parts
    assert f"max-age={get_settings().session_absolute_hours * 3600}" in parts


def test_completing_a_staff_sign_in_sets_the_staff_cookie_and_goes_to_the_staff_home(client):
    ticket = sessions.issue_login_ticket("staff-token", STAFF)

    response = client.get("/api/auth/complete", params={"ticket": ticket})

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    assert _set_cookie(response).startswith("wb_staff_session=staff-token;")


def test_a_ticket_cannot_complete_sign_in_twice(client):
    ticket = sessions.issue_login_ticket("the-session-token", PORTAL)
    assert client.get("/api/auth/complete", params={"ticket": ticket}).status_code == 303

    again = client.get("/api/auth/complete", params={"ticket": ticket})

    assert again.status_code == 400
    assert "set-cookie" not in again.headers
    assert "expired" in again.text


def test_completing_sign_in_without_a_ticket_sets_no_cookie(client):
    response = client.get("/api/auth/complete")
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "next_url", ["//evil.example", "https://evil.example", "/\\evil.example", "evil"]
)
def test_completing_sign_in_never_redirects_off_site(client, next_url):
    ticket = sessions.issue_login_ticket("the-session-token", PORTAL)
    response = client.get("/api/auth/complete", params={"ticket": ticket, "next": next_url})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_next_path_with_a_tab_is_percent_quoted_so_it_stays_on_site(client):
    ticket = sessions.issue_login_ticket("the-session-token", PORTAL)
    response = client.get(
        "/api/auth/complete", params={"ticket": ticket, "next": "/\t/evil.example"}
    )
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\t" not in location


def test_signing_out_clears_the_cookie_and_redirects_home(client):
    response = client.get("/api/auth/signed-out", params={"audience": "staff"})

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    assert response.headers["cache-control"] == "no-store"
    cookie = _set_cookie(response).lower()
    assert cookie.startswith('wb_staff_session="";') or cookie.startswith("wb_staff_session=;")
    assert "max-age=0" in cookie
    assert "httponly" in cookie


def test_signing_out_defaults_to_the_portal_and_keeps_a_safe_next(client):
    response = client.get("/api/auth/signed-out", params={"next": "/track"})
    assert response.headers["location"] == "/track"
    assert _set_cookie(response).lower().startswith(("wb_portal_session=", 'wb_portal_session=""'))


def test_signing_out_of_an_unknown_audience_is_a_bad_request(client):
    response = client.get("/api/auth/signed-out", params={"audience": "admin"})
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
