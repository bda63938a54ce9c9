"""Schema migrations as a service: the run command, workers and tests migrate the same way."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from backend.config import PROJECT_ROOT


def _alembic_config() -> Config:
    return Config(str(PROJECT_ROOT / "alembic.ini"))


def upgrade_to_head() -> None:
    command.upgrade(_alembic_config(), "head")


def downgrade_to_base() -> None:
    command.downgrade(_alembic_config(), "base")


def current_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext

    from backend.db import get_engine

    with get_engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
