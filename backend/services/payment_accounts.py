"""A tenant's payment provider accounts: which are offered at checkout, and each one's credentials.

Settings live in `payment_provider_account`; secrets are sealed in `tenant_secret`
under the scope `payments:<provider>` and opened only for the call that needs them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import event
from sqlmodel import Session, select

from backend.db import session_scope
from backend.integrations.payments import registry
from backend.integrations.payments.base import ProviderAccount
from backend.models import PaymentProviderAccount
from backend.models.base import utcnow
from backend.services import secrets
from backend.services.errors import NotFound


@dataclass(frozen=True)
class ProviderChoice:
    provider: str
    display_name: str
    methods: tuple[str, ...]


def secret_scope(provider: str) -> str:
    return f"payments:{provider}"


def enabled_providers(tenant_id: UUID) -> list[ProviderChoice]:
    """The providers a customer of this tenant may pay with, in the tenant's order."""
    with session_scope() as db:
        rows = db.exec(
            select(PaymentProviderAccount.provider)
            .where(PaymentProviderAccount.tenant_id == tenant_id, PaymentProviderAccount.enabled)
            .order_by(PaymentProviderAccount.position, PaymentProviderAccount.provider)
        ).all()
    choices = []
    for provider in rows:
        adapter = registry.get_adapter(provider)
        choices.append(ProviderChoice(provider, adapter.display_name, adapter.capabilities.methods))
    return choices


# Every webhook needs its tenant's account opened (a read and a key unwrap): kept this long per
# process for that path. A delivery the kept account refuses is checked again with the account
# read afresh, so a rotated webhook secret works at once in every process.
ACCOUNT_CACHE_SECONDS = 30.0
_opened: dict[tuple[UUID, str], tuple[float, bool, ProviderAccount]] = {}
_opened_lock = threading.Lock()


def _account_row(db: Session, tenant_id: UUID, provider: str) -> PaymentProviderAccount | None:
    return db.exec(
        select(PaymentProviderAccount).where(
            PaymentProviderAccount.tenant_id == tenant_id,
            PaymentProviderAccount.provider == provider,
        )
    ).first()


def provider_account(
    tenant_id: UUID, provider: str, *, enabled_only: bool = False, recent_ok: bool = False
) -> ProviderAccount:
    """The account with its secrets opened; NotFound when the tenant has none (or it is off).

    recent_ok: an account this process opened within ACCOUNT_CACHE_SECONDS will do (the
    webhook hot path). Checkout, refunds and reconcilers always read it afresh.
    """
    key = (tenant_id, provider)
    with _opened_lock:
        cached = _opened.get(key)
    if not recent_ok or cached is None or time.monotonic() - cached[0] > ACCOUNT_CACHE_SECONDS:
        with session_scope() as db:
            row = _account_row(db, tenant_id, provider)
            if row is None:
                raise NotFound(f"no {provider} account for this tenant")
            opened = secrets.open_scope(db, tenant_id, secret_scope(provider))
            account = ProviderAccount(provider, row.api_base, dict(row.settings), opened)
            cached = (time.monotonic(), row.enabled, account)
        with _opened_lock:
            _opened[key] = cached
    _, enabled, account = cached
    if enabled_only and not enabled:
        raise NotFound(f"no {provider} account for this tenant")
    return account


def forget_opened_accounts() -> None:
    """Drop the opened accounts of this process (after a change here, and between tests)."""
    with _opened_lock:
        _opened.clear()


def save_provider_account(
    db: Session,
    tenant_id: UUID,
    provider: str,
    *,
    api_base: str,
    settings: dict[str, str],
    secret_values: dict[str, str],
    enabled: bool = True,
    position: int = 0,
) -> None:
    """Create or replace a tenant's account with a provider (admin pages and the demo)."""
    registry.get_adapter(provider)  # a provider we cannot speak to is refused here
    row = _account_row(db, tenant_id, provider)
    if row is None:
        row = PaymentProviderAccount(tenant_id=tenant_id, provider=provider, api_base=api_base)
    row.api_base, row.settings, row.enabled, row.position = (
        api_base,
        dict(settings),
        enabled,
        position,
    )
    row.updated_at = utcnow()
    db.add(row)
    for name, value in secret_values.items():
        secrets.put_secret(tenant_id, secret_scope(provider), name, value, db)
    # Forgotten once the change is committed, not before: a delivery handled in between would
    # otherwise open the old account again and keep it for ACCOUNT_CACHE_SECONDS.
    event.listen(db, "after_commit", lambda _session: forget_opened_accounts(), once=True)
