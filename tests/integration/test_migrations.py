"""Migrations take an empty database to head and back, and head matches the models."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import backend.models  # noqa: F401
from backend import db
from backend.config import get_settings
from backend.services import schema
from tests.support import servers

pytestmark = pytest.mark.local_services


def test_migrations_upgrade_empty_database_to_head_and_back_down(test_urls):
    name = f"waybill_migrate_{os.getpid()}"
    url = servers.recreate_database(test_urls["admin_url"], name)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    db.reset_engine()
    try:
        schema.upgrade_to_head()
        engine = create_engine(db.sqlalchemy_url(url))
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        schema.downgrade_to_base()
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        schema.upgrade_to_head()
        assert schema.current_revision() is not None
        engine.dispose()
    finally:
        os.environ["DATABASE_URL"] = test_urls["database_url"]
        get_settings.cache_clear()
        db.reset_engine()
        servers.drop_database(test_urls["admin_url"], name)
