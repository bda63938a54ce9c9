"""Tenants as the UI sees them: branding by slug, and the tenants a staff principal may act in."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from uuid import UUID

from sqlmodel import select

from backend.db import session_scope
from backend.domain.roles import Permission
from backend.models import Tenant
from backend.services.access import Principal, require
from backend.services.errors import NotFound


@dataclass(frozen=True)
class Branding:
    slug: str
    name: str
    name_zh: str
    tagline: str
    tagline_zh: str
    primary_color: str
    accent_color: str
    logo_path: str
    default_locale: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _branding(tenant: Tenant) -> Branding:
    return Branding(
        slug=tenant.slug,
        name=tenant.name,
        name_zh=tenant.name_zh or tenant.name,
        tagline=tenant.tagline,
        tagline_zh=tenant.tagline_zh or tenant.tagline,
        primary_color=tenant.primary_color,
        accent_color=tenant.accent_color,
        logo_path=tenant.logo_path,
        default_locale=tenant.default_locale,
    )


def list_branding() -> list[Branding]:
    with session_scope() as db:
        tenants = db.exec(
            select(Tenant).where(Tenant.is_active).order_by(Tenant.created_at, Tenant.slug)
        ).all()
        return [_branding(t) for t in tenants]


def branding_for(slug: str | None) -> Branding | None:
    """The named tenant's branding, else the first active tenant's; None when there is no tenant."""
    all_tenants = list_branding()
    for brand in all_tenants:
        if brand.slug == slug:
            return brand
    return all_tenants[0] if all_tenants else None


def tenant_id(slug: str) -> UUID:
    with session_scope() as db:
        found = db.exec(select(Tenant.id).where(Tenant.slug == slug, Tenant.is_active)).first()
    if found is None:
        raise NotFound(f"no tenant {slug!r}")
    return found


_ids: dict[str, tuple[float, UUID]] = {}
TENANT_ID_CACHE_SECONDS = 30.0


def cached_tenant_id(slug: str) -> UUID:
    """tenant_id() remembered for a while per process, for hot paths (every webhook names one).

    A tenant switched off stops being found here within TENANT_ID_CACHE_SECONDS.
    """
    hit = _ids.get(slug)
    if hit is not None and time.monotonic() - hit[0] < TENANT_ID_CACHE_SECONDS:
        return hit[1]
    found = tenant_id(slug)
    if len(_ids) > 1000:  # slugs come from URLs: never let strangers grow this without bound
        _ids.clear()
    _ids[slug] = (time.monotonic(), found)
    return found


def staff_tenants(principal: Principal) -> list[Branding]:
    """Tenants where the principal holds a role (all of them for platform admins)."""
    with session_scope() as db:
        query = select(Tenant).where(Tenant.is_active).order_by(Tenant.created_at, Tenant.slug)
        if not principal.is_platform_admin:
            query = query.where(Tenant.id.in_(list(principal.roles)))  # type: ignore[attr-defined]
        return [_branding(t) for t in db.exec(query)]


def scoped_tenant(principal: Principal | None, slug: str, permission: Permission) -> UUID:
    """Resolve a tenant slug for a staff action, checking the principal's role there."""
    found = tenant_id(slug)
    require(principal, found, permission)
    return found
