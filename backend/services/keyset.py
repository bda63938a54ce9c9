"""Keyset paging for staff lists (newest first): an opaque cursor of (created_at, id)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, or_

from backend.services.errors import ValidationFailed

PAGE_SIZE_MAX = 100


def encode(created_at: datetime, row_id: UUID) -> str:
    return f"{created_at.isoformat()}|{row_id}"


def decode(cursor: str) -> tuple[datetime, UUID]:
    try:
        stamp, raw_id = cursor.split("|", 1)
        return datetime.fromisoformat(stamp), UUID(raw_id)
    except ValueError as exc:
        raise ValidationFailed({"cursor": "cursor_invalid"}) from exc


def older_than(created_column, id_column, cursor: str):
    """The WHERE clause for rows after `cursor` in (created_at desc, id desc) order."""
    at, last_id = decode(cursor)
    return or_(created_column < at, and_(created_column == at, id_column < last_id))


def page_size(limit: int) -> int:
    return max(1, min(limit, PAGE_SIZE_MAX))
