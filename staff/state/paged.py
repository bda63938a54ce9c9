"""A staff list paged on the server by keyset: the cursor stays in private vars, pages ask _fetch()."""

from __future__ import annotations

import reflex as rx

from staff.state.staff import StaffState


class PagedStaffState(StaffState):
    """Base of list pages; each subclass defines `_fetch()`, which reads the page at `self._cursor`."""

    allowed: bool = True
    has_next: bool = False
    _next_cursor: str | None = None
    _cursor: str | None = None

    def _page_read(self, next_cursor: str | None) -> None:
        self._next_cursor, self.has_next = next_cursor, next_cursor is not None

    @rx.event
    def next_page(self):
        if self._next_cursor:
            self._cursor = self._next_cursor
            self._fetch()  # type: ignore[attr-defined]

    @rx.event
    def first_page(self):
        self._cursor = None
        self._fetch()  # type: ignore[attr-defined]
