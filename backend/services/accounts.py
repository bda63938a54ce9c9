"""Sign-up for members and sign-in for members and staff."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from backend.cache import get_redis
from backend.config import get_settings
from backend.db import session_scope
from backend.domain import validation
from backend.domain.statuses import SessionAudience
from backend.models import Member, MemberTenant, StaffRole, Tenant, UserAccount
from backend.models.base import utcnow
from backend.services import audit, passwords, sessions
from backend.services.errors import AuthFailed, ValidationFailed
from backend.services.login_throttle import LoginThrottle


@dataclass(frozen=True)
class SignUp:
    email: str
    password: str
    display_name: str
    phone: str = ""
    tenant_slug: str = ""
    locale: str = "en"


@dataclass(frozen=True)
class SignedIn:
    token: str
    display_name: str


def _throttle() -> LoginThrottle:
    return LoginThrottle(get_redis(), get_settings())


def validate_sign_up(form: SignUp) -> dict[str, str]:
    errors = {
        "email": validation.email_error(form.email),
        "password": validation.password_error(form.password, form.email),
        "display_name": validation.display_name_error(form.display_name),
        "phone": validation.phone_error(form.phone),
    }
    return {field: code for field, code in errors.items() if code}


def sign_up_member(form: SignUp, *, ip: str = "", user_agent: str = "") -> SignedIn:
    """Create a member account (joined to the tenant they signed up at) and sign it in."""
    errors = validate_sign_up(form)
    if errors:
        raise ValidationFailed(errors)
    email = validation.normalize_email(form.email)
    try:
        with session_scope() as db:
            if db.exec(
                select(UserAccount.id).where(func.lower(UserAccount.email) == email)
            ).first():
                raise ValidationFailed({"email": "email_taken"})
            user = UserAccount(
                email=email,
                display_name=form.display_name.strip(),
                password_hash=passwords.hash_password(form.password),
                preferred_locale=form.locale if form.locale in ("en", "zh-HK") else "en",
                last_login_at=utcnow(),
            )
            db.add(user)
            db.flush()
            member = Member(user_id=user.id, phone=validation.normalize_phone(form.phone))
            db.add(member)
            db.flush()
            tenant = db.exec(select(Tenant).where(Tenant.slug == form.tenant_slug)).first()
            if tenant:
                db.add(MemberTenant(member_id=member.id, tenant_id=tenant.id))
            audit.record(
                db,
                action="member.sign_up",
                actor_user_id=user.id,
                tenant_id=tenant.id if tenant else None,
                target_type="user",
                target_id=str(user.id),
                ip=ip,
            )
            user_id, name = user.id, user.display_name
    except IntegrityError as exc:  # two sign-ups with one email at the same moment
        raise ValidationFailed({"email": "email_taken"}) from exc
    token = sessions.open_session(user_id, SessionAudience.PORTAL, ip=ip, user_agent=user_agent)
    return SignedIn(token=token, display_name=name)


def sign_in(
    email: str,
    password: str,
    audience: SessionAudience,
    *,
    ip: str = "",
    user_agent: str = "",
    previous_token: str | None = None,
) -> SignedIn:
    """Check credentials (throttled) and open a fresh session; raise AuthFailed with a reason code."""
    email = validation.normalize_email(email)[: validation.EMAIL_MAX]
    if not email or not password or len(password) > validation.PASSWORD_MAX:
        raise AuthFailed("invalid_credentials")
    throttle = _throttle()
    wait = throttle.retry_after(email, ip)
    if wait:
        raise AuthFailed("throttled", retry_after=wait)

    # The refusal is decided inside the unit of work but raised after it: raising inside
    # would roll back the audit row of the failed attempt along with everything else.
    refusal: AuthFailed | None = None
    with session_scope() as db:
        user = db.exec(select(UserAccount).where(func.lower(UserAccount.email) == email)).first()
        if user is None:
            passwords.burn_equal_time(password)
            ok = False
        else:
            ok = passwords.verify_password(user.password_hash, password)
        if not ok:
            pause = throttle.record_failure(email, ip)
            refusal = (
                AuthFailed("throttled", retry_after=pause)
                if pause
                else AuthFailed("invalid_credentials")
            )
            if user is not None:
                _audit_sign_in(db, user.id, "auth.sign_in_failed", ip, audience)
        elif not user.is_active:
            refusal = AuthFailed("inactive")
        elif audience is SessionAudience.STAFF and not (
            user.is_platform_admin
            or db.exec(select(StaffRole.id).where(StaffRole.user_id == user.id)).first()
        ):
            refusal = AuthFailed("not_staff")
        else:
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            user.last_login_at = utcnow()
            db.add(user)
            _audit_sign_in(db, user.id, "auth.sign_in", ip, audience)
            user_id, name = user.id, user.display_name
    if refusal is not None:
        raise refusal
    throttle.record_success(email, ip)
    token = sessions.open_session(
        user_id, audience, ip=ip, user_agent=user_agent, replaces_token=previous_token
    )
    return SignedIn(token=token, display_name=name)


def _audit_sign_in(db, user_id, action: str, ip: str, audience: SessionAudience) -> None:
    audit.record(
        db,
        action=action,
        actor_user_id=user_id,
        target_type="user",
        target_id=str(user_id),
        ip=ip,
        details={"audience": audience.value},
    )


def sign_out(token: str | None) -> None:
    if token:
        sessions.revoke_session(token)
