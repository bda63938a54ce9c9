"""Column helpers shared by every table: time-ordered ids, aware timestamps, JSONB, text enums."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from backend.domain.ids import new_id


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> Any:
    return Field(default_factory=new_id, primary_key=True)


def timestamp_field(*, index: bool = False, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), index=index, nullable=True)
    return Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), index=index, nullable=False
    )


def jsonb_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=JSONB, nullable=False)


def fk(
    target: str, *, nullable: bool = False, ondelete: str = "RESTRICT", index: bool = True
) -> Any:
    kwargs: dict[str, Any] = {"foreign_key": target, "index": index, "ondelete": ondelete}
    if nullable:
        return Field(default=None, nullable=True, **kwargs)
    return Field(nullable=False, **kwargs)


def enum_check(column: str, enum: type[Enum], name: str) -> CheckConstraint:
    """Keep a text column to the values of a domain enum."""
    allowed = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


__all__ = ["UUID", "enum_check", "fk", "id_field", "jsonb_field", "timestamp_field", "utcnow"]
