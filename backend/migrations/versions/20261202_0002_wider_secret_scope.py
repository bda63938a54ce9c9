"""tenant_secret.scope holds "carrier_account:<uuid>" (52 characters): widen it to 80

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:40:00
"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "tenant_secret",
        "scope",
        type_=sqlmodel.sql.sqltypes.AutoString(length=80),
        existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
        existing_nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "tenant_secret",
        "scope",
        type_=sqlmodel.sql.sqltypes.AutoString(length=40),
        existing_type=sqlmodel.sql.sqltypes.AutoString(length=80),
        existing_nullable=False,
    )
