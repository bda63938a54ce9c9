"""Time-ordered identifiers (UUIDv7) so primary keys index in creation order."""

from uuid import UUID

from uuid6 import uuid7


def new_id() -> UUID:
    """A fresh UUIDv7: unique, and sortable by creation time."""
    return uuid7()
