"""Tenant secrets (PSP and carrier keys), encrypted at rest with envelope encryption.

A master key that lives outside the database (MASTER_KEY) wraps one data key per
tenant (tenant_key); each secret is sealed with its tenant's data key, with the
tenant, scope and name as associated data so a ciphertext cannot be moved to
another row. AES-256-GCM throughout. Values are never logged or returned to pages.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, select

from backend.config import get_settings
from backend.db import session_scope
from backend.models import TenantKey, TenantSecret
from backend.models.base import utcnow

_NONCE = 12


@lru_cache(maxsize=1)
def _master_key() -> bytes:
    settings = get_settings()
    if settings.master_key:
        key = base64.urlsafe_b64decode(settings.master_key + "=" * (-len(settings.master_key) % 4))
    else:
        path = settings.data_dir / "master.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)))
        key = base64.urlsafe_b64decode(path.read_bytes().strip())
    if len(key) != 32:
        raise ValueError("MASTER_KEY must be 32 bytes, base64 encoded")
    return key


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)


def _data_key(db: Session, tenant_id: UUID) -> tuple[int, bytes]:
    row = db.exec(
        select(TenantKey).where(TenantKey.tenant_id == tenant_id).order_by(TenantKey.version.desc())  # type: ignore[attr-defined]
    ).first()
    aad = f"tenant-key:{tenant_id}".encode()
    if row is None:
        key = AESGCM.generate_key(bit_length=256)
        row = TenantKey(tenant_id=tenant_id, version=1, wrapped_key=_seal(_master_key(), key, aad))
        db.add(row)
        db.flush()
        return row.version, key
    try:
        return row.version, _open(_master_key(), row.wrapped_key, aad)
    except InvalidTag:
        raise RuntimeError(
            "the master key does not open this tenant's data key: MASTER_KEY (or "
            "DATA_DIR/master.key) is not the key this database's secrets were sealed with"
        ) from None


def _aad(tenant_id: UUID, scope: str, name: str) -> bytes:
    return f"{tenant_id}:{scope}:{name}".encode()


def put_secret(
    tenant_id: UUID, scope: str, name: str, value: str, db: Session | None = None
) -> None:
    """Store or replace a secret, e.g. put_secret(t, "carriers:harbour-post", "api_key", "...")."""
    if db is None:
        with session_scope() as own:
            put_secret(tenant_id, scope, name, value, own)
        return
    version, key = _data_key(db, tenant_id)
    sealed = _seal(key, value.encode(), _aad(tenant_id, scope, name))
    row = db.exec(
        select(TenantSecret).where(
            TenantSecret.tenant_id == tenant_id,
            TenantSecret.scope == scope,
            TenantSecret.name == name,
        )
    ).first()
    if row is None:
        row = TenantSecret(
            tenant_id=tenant_id, scope=scope, name=name, ciphertext=sealed, key_version=version
        )
    else:
        row.ciphertext, row.key_version, row.updated_at = sealed, version, utcnow()
    db.add(row)


def get_secret(tenant_id: UUID, scope: str, name: str) -> str | None:
    with session_scope() as db:
        row = db.exec(
            select(TenantSecret).where(
                TenantSecret.tenant_id == tenant_id,
                TenantSecret.scope == scope,
                TenantSecret.name == name,
            )
        ).first()
        if row is None:
            return None
        _, key = _data_key(db, tenant_id)
        return _open(key, row.ciphertext, _aad(tenant_id, scope, name)).decode()


def secret_names(tenant_id: UUID, scope: str) -> list[str]:
    """Which secrets a scope has (for admin pages): names only, never values."""
    with session_scope() as db:
        return list(
            db.exec(
                select(TenantSecret.name).where(
                    TenantSecret.tenant_id == tenant_id, TenantSecret.scope == scope
                )
            )
        )


def open_scope(db: Session, tenant_id: UUID, scope: str) -> dict[str, str]:
    """Every secret of a scope, opened with one read and one unwrap of the tenant's data key."""
    rows = db.exec(
        select(TenantSecret).where(TenantSecret.tenant_id == tenant_id, TenantSecret.scope == scope)
    ).all()
    if not rows:
        return {}
    _, key = _data_key(db, tenant_id)
    return {
        row.name: _open(key, row.ciphertext, _aad(tenant_id, scope, row.name)).decode()
        for row in rows
    }
