"""Pearl River's adapter against recorded XML: mapping, local time, safe parsing and errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from backend.domain.statuses import ShipmentStatus as S
from backend.integrations.carriers.base import (
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    Credentials,
    ParcelSpec,
    PushRejected,
)
from backend.integrations.carriers.pearl_river import codes
from backend.integrations.carriers.pearl_river.adapter import (
    PearlRiverAdapter,
    parse_xml,
    shanghai_to_utc,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "carriers" / "pearl-river"
CREDS = Credentials(base_url="http://carrier.test/pearl-river", api_key="pr-key-1")
ADAPTER = PearlRiverAdapter()

# The table of docs/carriers.md, written out again so that a slip in codes.py shows.
DOCUMENTED = {
    "100": (S.PICKED_UP, ""),
    "200": (S.IN_TRANSIT, ""),
    "300": (S.CUSTOMS, ""),
    "310": (S.CUSTOMS, "customs_documents"),
    "320": (S.CUSTOMS, "customs_duty"),
    "390": (S.IN_TRANSIT, ""),
    "400": (S.OUT_FOR_DELIVERY, ""),
    "410": (S.DELIVERY_FAILED, "recipient_absent"),
    "420": (S.READY_FOR_PICKUP, "held_at_depot"),
    "500": (S.DELIVERED, ""),
    "600": (S.RETURNING, ""),
    "610": (S.RETURNED, ""),
    "900": (S.CANCELLED, ""),
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def client_answering(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    seen: list[httpx.Request] | None = None,
) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(
            status, content=body, headers={"Content-Type": "application/xml", **(headers or {})}
        )

    return httpx.Client(transport=httpx.MockTransport(handler))


def client_raising(error: Callable[[httpx.Request], Exception]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error(request)

    return httpx.Client(transport=httpx.MockTransport(handler))


# --- the mapping table ----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), DOCUMENTED.items())
def test_every_documented_code_maps_as_documented(raw: str, expected: tuple[S, str]) -> None:
    assert codes.map_code(raw) == expected


def test_the_table_holds_the_documented_codes_and_no_others() -> None:
    assert codes.CODES == DOCUMENTED


@pytest.mark.parametrize("raw", ["777", "0100", "1OO", "", "customs"])
def test_a_code_missing_from_the_table_is_unknown_never_guessed(raw: str) -> None:
    assert codes.map_code(raw) == (S.UNKNOWN, "")


# --- tracking -------------------------------------------------------------------------


def test_a_batch_of_found_and_unknown_refs_gives_one_result_each() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_not_found.xml"))

    found, unknown = ADAPTER.track(["PR2026112201", "PR0000000000"], CREDS, client)

    assert (found.tracking_number, found.error) == ("PR2026112201", "")
    accepted = found.events[0]
    assert accepted.event_id == "PR2026112201:1"
    assert (accepted.status, accepted.raw_code, accepted.description) == (
        S.PICKED_UP,
        "100",
        "Accepted",
    )
    assert (accepted.city, accepted.country) == ("Lok Ma Chau", "HK")
    assert accepted.raw == {
        "ref": "PR2026112201",
        "seq": "1",
        "code": "100",
        "datetime": "2026-11-22 14:05:00",
        "city": "Lok Ma Chau",
        "country": "HK",
        "text": "Accepted",
    }
    assert (unknown.tracking_number, unknown.events, unknown.error) == (
        "PR0000000000",
        [],
        "not_found",
    )


def test_an_unmapped_code_in_an_answer_is_unknown_with_its_raw_code_kept() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_not_found.xml"))

    found, _ = ADAPTER.track(["PR2026112201", "PR0000000000"], CREDS, client)

    mystery = found.events[2]
    assert (mystery.status, mystery.reason, mystery.raw_code) == (S.UNKNOWN, "", "777")
    assert mystery.event_id == "PR2026112201:3"


def test_the_track_request_is_a_get_with_one_ref_per_number_and_the_partner_key() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(body=b"<TrackResponse/>", seen=seen)

    ADAPTER.track(["PR2026112201", "DG200000006HK"], CREDS, client)

    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/pearl-river/track"
    assert request.url.params.get_list("ref") == ["PR2026112201", "DG200000006HK"]
    assert request.headers["X-Partner-Key"] == "pr-key-1"
    assert request.extensions["timeout"]["read"] == 10.0


def test_more_refs_than_the_batch_size_are_refused_before_any_call() -> None:
    seen: list[httpx.Request] = []
    numbers = [f"PR20261122{i:02d}" for i in range(11)]

    with pytest.raises(ValueError, match="at most 10"):
        ADAPTER.track(numbers, CREDS, client_answering(seen=seen))
    assert seen == []


def test_a_customs_hold_maps_to_customs_with_its_reasons() -> None:
    client = client_answering(body=fixture("customs_hold.xml"))

    (result,) = ADAPTER.track(["DG200000006HK"], CREDS, client)

    assert [(e.status, e.reason) for e in result.events] == [
        (S.PICKED_UP, ""),
        (S.IN_TRANSIT, ""),
        (S.CUSTOMS, ""),
        (S.CUSTOMS, "customs_documents"),
        (S.CUSTOMS, "customs_duty"),
    ]


def test_shanghai_local_time_becomes_aware_utc() -> None:
    moment = shanghai_to_utc("2026-11-22 14:05:00")

    assert moment == datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    assert moment.utcoffset().total_seconds() == 0


def test_local_times_after_midnight_fall_on_the_previous_utc_day() -> None:
    client = client_answering(body=fixture("customs_hold.xml"))

    (result,) = ADAPTER.track(["DG200000006HK"], CREDS, client)

    assert result.events[0].occurred_at == datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    assert result.events[4].occurred_at == datetime(2026, 11, 22, 18, 15, tzinfo=UTC)


def test_one_unreadable_event_drops_only_itself() -> None:
    client = client_answering(body=fixture("event_with_unreadable_datetime.xml"))

    (result,) = ADAPTER.track(["PR2026112201"], CREDS, client)

    # an ISO time with an offset is not the documented format, and an event without seq
    # has no identity: both dropped, the first kept
    assert [e.event_id for e in result.events] == ["PR2026112201:1"]
    assert result.error == "unreadable_event"


def test_a_ref_left_out_of_the_answer_is_reported_missing() -> None:
    client = client_answering(body=fixture("customs_hold.xml"))

    results = ADAPTER.track(["DG200000006HK", "PR2026112202"], CREDS, client)

    assert [r.error for r in results] == ["", "missing"]


# --- safe parsing ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["xxe_attack.xml", "billion_laughs.xml", "external_dtd.xml"])
def test_a_document_with_a_dtd_or_entities_is_refused(name: str) -> None:
    with pytest.raises(CarrierRejected, match="refused"):
        parse_xml(fixture(name))
    with pytest.raises(CarrierRejected):
        ADAPTER.track(["PR2026112201"], CREDS, client_answering(body=fixture(name)))


def test_chinese_place_names_in_utf8_come_through() -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><TrackResponse>'
        '<Shipment ref="PR2026112201" status="OK"><Event seq="1" code="300" '
        'datetime="2026-11-22 18:10:00" city="深圳" country="CN">海关申报</Event>'
        "</Shipment></TrackResponse>"
    ).encode()

    (result,) = ADAPTER.track(["PR2026112201"], CREDS, client_answering(body=body))

    assert (result.events[0].city, result.events[0].description) == ("深圳", "海关申报")


# --- errors ---------------------------------------------------------------------------


def test_429_with_retry_after_is_rate_limited_for_that_long() -> None:
    client = client_answering(429, b"<Error code='RATE'/>", {"Retry-After": "2"})

    with pytest.raises(CarrierRateLimited) as caught:
        ADAPTER.track(["PR2026112201"], CREDS, client)
    assert caught.value.retry_after == 2.0


def test_503_is_unavailable() -> None:
    with pytest.raises(CarrierUnavailable):
        ADAPTER.track(["PR2026112201"], CREDS, client_answering(503, b""))


def test_a_timeout_is_unavailable() -> None:
    client = client_raising(lambda request: httpx.ConnectTimeout("slow", request=request))

    with pytest.raises(CarrierUnavailable, match="timed out"):
        ADAPTER.track(["PR2026112201"], CREDS, client)


def test_401_with_an_xml_error_is_rejected() -> None:
    with pytest.raises(CarrierRejected, match="401"):
        ADAPTER.track(["PR2026112201"], CREDS, client_answering(401, fixture("unauthorized.xml")))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<TrackResponse><Shipment ref='PR2026112201'",
        b'{"results": []}',
        fixture("unauthorized.xml"),  # the right status with the wrong document
    ],
)
def test_an_unreadable_body_is_rejected(body: bytes) -> None:
    with pytest.raises(CarrierRejected):
        ADAPTER.track(["PR2026112201"], CREDS, client_answering(200, body))


# --- what it does not do --------------------------------------------------------------


def test_it_neither_pushes_nor_quotes_nor_books() -> None:
    client = client_answering()
    parcel = ParcelSpec(1000, 100, 100, 100)
    with pytest.raises(PushRejected):
        ADAPTER.parse_push({}, b"", CREDS, datetime.now(UTC))
    with pytest.raises(CarrierRejected, match="not supported by pearl-river"):
        ADAPTER.request_resend(datetime.now(UTC), CREDS, client)
    with pytest.raises(CarrierRejected, match="not supported by pearl-river"):
        ADAPTER.subscribe("PR2026112201", "http://x.test/cb", CREDS, client)
    with pytest.raises(CarrierRejected, match="not supported by pearl-river"):
        ADAPTER.quote(parcel, "HK", "CN", CREDS, client)
    with pytest.raises(CarrierRejected, match="not supported by pearl-river"):
        ADAPTER.book(parcel, {}, {}, "standard", CREDS, client)
