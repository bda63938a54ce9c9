"""Tenant secrets are sealed per tenant, bound to their row, and never stored in the clear."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag
from sqlmodel import select

from backend.config import get_settings
from backend.db import session_scope
from backend.models import TenantKey, TenantSecret
from backend.services import secrets
from tests.support import factories

pytestmark = pytest.mark.local_services


def test_a_secret_round_trips_and_is_not_stored_in_the_clear(clean_db):
    tenant = factories.make_tenant()
    secrets.put_secret(tenant.id, "carrier_account:x", "api_key", "hp-live-8c1f0a")

    assert secrets.get_secret(tenant.id, "carrier_account:x", "api_key") == "hp-live-8c1f0a"
    with session_scope() as db:
        row = db.exec(select(TenantSecret)).one()
        wrapped = db.exec(select(TenantKey)).one()
    assert b"hp-live-8c1f0a" not in row.ciphertext
    assert len(wrapped.wrapped_key) == 12 + 32 + 16  # nonce, the data key, the GCM tag


def test_each_tenant_has_its_own_data_key(clean_db):
    a, b = factories.make_tenant(), factories.make_tenant()
    secrets.put_secret(a.id, "s", "k", "same value")
    secrets.put_secret(b.id, "s", "k", "same value")
    with session_scope() as db:
        keys = db.exec(select(TenantKey.wrapped_key)).all()
        sealed = db.exec(select(TenantSecret.ciphertext)).all()
    assert len(set(keys)) == 2
    assert len(set(sealed)) == 2


def test_a_ciphertext_moved_to_another_row_does_not_open(clean_db):
    tenant = factories.make_tenant()
    secrets.put_secret(tenant.id, "s", "api_key", "value-a")
    secrets.put_secret(tenant.id, "s", "webhook_secret", "value-b")
    with session_scope() as db:
        rows = {r.name: r for r in db.exec(select(TenantSecret))}
        rows["webhook_secret"].ciphertext = rows["api_key"].ciphertext
        db.add(rows["webhook_secret"])
    with pytest.raises(InvalidTag):
        secrets.get_secret(tenant.id, "s", "webhook_secret")


def test_replacing_a_secret_keeps_one_row_and_names_never_show_values(clean_db):
    tenant = factories.make_tenant()
    secrets.put_secret(tenant.id, "s", "api_key", "old")
    secrets.put_secret(tenant.id, "s", "api_key", "new")
    assert secrets.get_secret(tenant.id, "s", "api_key") == "new"
    assert secrets.secret_names(tenant.id, "s") == ["api_key"]
    assert secrets.get_secret(tenant.id, "s", "missing") is None


def test_a_different_master_key_is_named_as_the_cause(clean_db, monkeypatch):
    tenant = factories.make_tenant()
    secrets.put_secret(tenant.id, "payments:adyen", "api_key", "k")
    other = base64.urlsafe_b64encode(b"\x01" * 32).decode()
    monkeypatch.setenv("MASTER_KEY", other)
    get_settings.cache_clear()
    secrets._master_key.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="master key does not open"):
            secrets.get_secret(tenant.id, "payments:adyen", "api_key")
    finally:
        monkeypatch.delenv("MASTER_KEY")
        get_settings.cache_clear()
        secrets._master_key.cache_clear()
