"""State of the public tracking page: lookups, shared links and revealing the recipient."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from backend.domain import tracking as tracking_rules
from backend.services import live_updates, tracking
from backend.services.errors import NotFound, RateLimited, ValidationFailed
from portal.i18n import translate
from portal.state.portal import PortalState

MAX_QUERY_TEXT = 2000  # 20 numbers of 40 characters with separators fit easily


@dataclasses.dataclass
class EventView:
    when: str = ""
    zone: str = ""
    status: str = ""
    reason: str = ""
    place: str = ""


@dataclasses.dataclass
class ResultView:
    number: str = ""
    outcome: str = ""
    status: str = ""
    reason: str = ""
    next_step: str = ""
    carrier: str = ""
    origin: str = ""
    destination: str = ""
    eta: str = ""
    last_update: str = ""
    events: list[EventView] = dataclasses.field(default_factory=list)
    revealed: bool = False
    recipient_name: str = ""
    recipient_phone: str = ""
    recipient_address: str = ""
    verify_error: str = ""


def _place(city: str, country: str) -> str:
    return ", ".join(part for part in (city, country) if part)


def to_view(result: tracking.TrackingResult) -> ResultView:
    return ResultView(
        number=result.number,
        outcome=result.outcome,
        status=result.status,
        reason=result.reason,
        next_step=result.next_step,
        carrier=result.carrier,
        origin=result.origin_city,
        destination=_place(result.destination_city, result.destination_country),
        eta=result.eta.isoformat() if result.eta else "",
        last_update=(
            tracking_rules.local_time(result.last_update, "HK").strftime("%Y-%m-%d %H:%M")
            if result.last_update
            else ""
        ),
        events=[
            EventView(
                when=e.local_time.strftime("%Y-%m-%d %H:%M"),
                zone=e.local_time.tzname() or "",
                status=e.status,
                reason=e.reason,
                place=_place(e.city, e.country),
            )
            for e in result.events
        ],
    )


class TrackState(PortalState):
    query: str = ""
    # Kept on the server; the browser gets shown_results only. A tab keeps its state from page
    # to page, so without the path check a shared link opened in the same tab first showed
    # the last search's results (a revealed recipient included) until its own lookup answered.
    _results: list[ResultView] = []
    _results_path: str = ""  # the page the results were looked up on
    form_error: str = ""

    @rx.var(cache=False)
    def shown_results(self) -> list[ResultView]:
        return self._results if self._results_path == self.router.url.path else []

    @rx.event
    def set_query(self, value: str):
        self.query = value[:MAX_QUERY_TEXT]

    async def _lookup(self, numbers: list[str]) -> None:
        self.form_error = ""
        self._results_path = self.router.url.path
        try:
            found = await asyncio.to_thread(tracking.lookup, numbers, client=self._client_ip())
        except ValidationFailed as failure:
            self._results = []
            self.form_error = translate(failure.fields.get("numbers", ""), self.locale)
            return
        except RateLimited as limited:
            self._results = []
            self.form_error = translate("rate_limited", self.locale, seconds=limited.retry_after)
            return
        self._results = [to_view(result) for result in found]
        shown = [r.number for r in found if r.outcome == tracking.FOUND]
        await asyncio.to_thread(self._watch, shown)

    def _watch(self, numbers: list[str]) -> None:
        """Ask for a push when a shown parcel moves (the sync and carrier webhooks publish)."""
        for number in numbers:
            live_updates.watch(f"shipment:{number}", self.router.session.client_token)

    def _refresh(self, number: str) -> None:
        """Called on a push from a worker: a parcel this tab shows has new events."""
        index = self._index_of(number)
        if index is None:
            return
        latest = tracking.latest([number]).get(number)
        if latest is None:
            return
        before = self._results[index]
        view = dataclasses.replace(
            to_view(latest),
            revealed=before.revealed,
            recipient_name=before.recipient_name,
            recipient_phone=before.recipient_phone,
            recipient_address=before.recipient_address,
            verify_error=before.verify_error,
        )
        self._put(index, view)

    def _index_of(self, number: str) -> int | None:
        return next((i for i, r in enumerate(self._results) if r.number == number), None)

    def _put(self, index: int, view: ResultView) -> None:
        """Replace one card; a new list, so that Reflex sees the change."""
        self._results = [view if i == index else r for i, r in enumerate(self._results)]

    @rx.event
    async def submit(self, form: dict):
        self.query = str(form.get("numbers", ""))[:MAX_QUERY_TEXT]
        await self._lookup(tracking_rules.split_numbers(self.query))

    @rx.event
    async def load_asked(self):
        """on_load of /track: numbers in the address (`?numbers=A,B`, as the home page's box
        sends them) are looked up at once; without any, the tab's last search stays."""
        asked = str(self.router.url.query_parameters.get("numbers", ""))[:MAX_QUERY_TEXT]
        if asked.strip():
            self.query = asked
            await self._lookup(tracking_rules.split_numbers(asked))

    @rx.event
    async def load_number(self):
        """on_load of /track/[number]: the shared link shows that parcel at once."""
        number = str(self.router.page.params.get("number", ""))[: tracking_rules.MAX_NUMBER_LENGTH]
        self.query = number
        if number:
            await self._lookup([number])
        else:
            self._results, self.form_error = [], ""

    @rx.event
    async def reveal(self, form: dict):
        number = str(form.get("number", ""))[: tracking_rules.MAX_NUMBER_LENGTH]
        factor = str(form.get("factor", ""))[:20]
        index = self._index_of(number)
        if index is None:
            return
        view = dataclasses.replace(self._results[index], verify_error="")
        try:
            recipient = await asyncio.to_thread(
                tracking.reveal_recipient, number, factor, client=self._client_ip()
            )
        except (ValidationFailed, NotFound):
            view.verify_error = translate("factor_mismatch", self.locale)
        except RateLimited as limited:
            view.verify_error = translate(
                "verify_rate_limited", self.locale, seconds=limited.retry_after
            )
        else:
            view.revealed = True
            view.recipient_name = recipient.name
            view.recipient_phone = recipient.phone
            view.recipient_address = ", ".join(
                part
                for part in (
                    recipient.address,
                    recipient.city,
                    recipient.postcode,
                    recipient.country,
                )
                if part
            )
        self._put(index, view)
