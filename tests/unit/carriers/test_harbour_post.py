"""Harbour Post's adapter against recorded answers: mapping, batches, errors, quotes and bookings."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from backend.domain.statuses import ShipmentStatus as S
from backend.integrations.carriers import base
from backend.integrations.carriers.base import (
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    Credentials,
    ParcelSpec,
    PushRejected,
)
from backend.integrations.carriers.harbour_post import codes
from backend.integrations.carriers.harbour_post.adapter import HarbourPostAdapter

FIXTURES = Path(__file__).parents[2] / "fixtures" / "carriers" / "harbour-post"
CREDS = Credentials(base_url="http://carrier.test/harbour-post/", api_key="hp-key-1")
PARCEL = ParcelSpec(weight_grams=1200, length_mm=300, width_mm=200, height_mm=100)
ADAPTER = HarbourPostAdapter()

# The table of docs/carriers.md, written out again so that a slip in codes.py shows.
DOCUMENTED = {
    "IR": (S.PENDING, ""),
    "PU": (S.PICKED_UP, ""),
    "AH": (S.IN_TRANSIT, ""),
    "DP": (S.IN_TRANSIT, ""),
    "OD": (S.OUT_FOR_DELIVERY, ""),
    "DL": (S.DELIVERED, ""),
    "NA": (S.DELIVERY_FAILED, "recipient_absent"),
    "BA": (S.DELIVERY_FAILED, "bad_address"),
    "LK": (S.READY_FOR_PICKUP, "held_at_depot"),
    "DM": (S.EXCEPTION, "damaged"),
    "LS": (S.EXCEPTION, "lost"),
    "WX": (S.IN_TRANSIT, "weather"),
    "RT": (S.RETURNING, ""),
    "RS": (S.RETURNED, ""),
    "CA": (S.CANCELLED, ""),
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
        return httpx.Response(status, content=body, headers=headers)

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


@pytest.mark.parametrize("raw", ["ZZ", "pu", " PU", "", "DELIVERED"])
def test_a_code_missing_from_the_table_is_unknown_never_guessed(raw: str) -> None:
    assert codes.map_code(raw) == (S.UNKNOWN, "")


# --- tracking -------------------------------------------------------------------------


def test_a_batch_of_found_and_unknown_numbers_gives_one_result_each() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_unknown.json"))

    found, unknown = ADAPTER.track(["WB100000025HK", "WB999999995HK"], CREDS, client)

    assert (found.tracking_number, found.error) == ("WB100000025HK", "")
    assert [e.raw_code for e in found.events] == ["IR", "PU", "ZZ"]
    picked_up = found.events[1]
    assert picked_up.event_id == "hp-1b2c3d4e5f60718293a4b5c6"
    assert picked_up.occurred_at == datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    assert picked_up.occurred_at.utcoffset().total_seconds() == 0
    assert (picked_up.status, picked_up.reason) == (S.PICKED_UP, "")
    assert (picked_up.city, picked_up.country, picked_up.description) == (
        "Kwai Chung",
        "HK",
        "Picked up",
    )
    assert picked_up.raw["id"] == "hp-1b2c3d4e5f60718293a4b5c6"
    assert (unknown.tracking_number, unknown.events, unknown.error) == (
        "WB999999995HK",
        [],
        "not_found",
    )


def test_an_unmapped_code_in_an_answer_is_unknown_with_its_raw_code_kept() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_unknown.json"))

    found, _ = ADAPTER.track(["WB100000025HK", "WB999999995HK"], CREDS, client)

    mystery = found.events[2]
    assert (mystery.status, mystery.reason, mystery.raw_code) == (S.UNKNOWN, "", "ZZ")
    assert mystery.raw["code"] == "ZZ"


def test_the_track_request_is_a_post_with_the_key_and_the_numbers() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(body=b'{"results": []}', seen=seen)

    ADAPTER.track(["WB100000025HK", "WB999999995HK"], CREDS, client)

    (request,) = seen
    assert (request.method, str(request.url)) == (
        "POST",
        "http://carrier.test/harbour-post/v1/track",
    )
    assert request.headers["X-Api-Key"] == "hp-key-1"
    assert json.loads(request.content) == {"numbers": ["WB100000025HK", "WB999999995HK"]}


def test_every_call_carries_its_own_timeout_whatever_the_client_says() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(body=b'{"results": []}', seen=seen)
    client.timeout = httpx.Timeout(
        None
    )  # a client without limits must not make a call without them

    ADAPTER.track(["WB100000025HK"], CREDS, client)

    timeout = seen[0].extensions["timeout"]
    assert timeout["connect"] == 5.0 and timeout["read"] == 10.0


def test_more_numbers_than_the_batch_size_are_refused_before_any_call() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(body=b'{"results": []}', seen=seen)
    numbers = [f"WB{i:08d}HK" for i in range(41)]

    with pytest.raises(ValueError, match="at most 40"):
        ADAPTER.track(numbers, CREDS, client)
    assert seen == []


def test_a_full_batch_of_forty_is_one_call() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(body=b'{"results": []}', seen=seen)
    numbers = [f"WB{i:08d}HK" for i in range(40)]

    results = ADAPTER.track(numbers, CREDS, client)

    assert len(seen) == 1 and len(json.loads(seen[0].content)["numbers"]) == 40
    assert [r.error for r in results] == ["missing"] * 40


def test_an_empty_batch_makes_no_call() -> None:
    seen: list[httpx.Request] = []
    assert ADAPTER.track([], CREDS, client_answering(seen=seen)) == []
    assert seen == []


def test_one_unreadable_event_drops_only_itself() -> None:
    client = client_answering(body=fixture("event_with_unreadable_time.json"))

    first, second = ADAPTER.track(["WB100000025HK", "WB100000039HK"], CREDS, client)

    assert [e.raw_code for e in first.events] == ["PU"]  # bad time, and a time without offset
    assert first.error == "unreadable_event"
    assert second.error == ""
    assert second.events[0].occurred_at == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def test_a_number_left_out_of_the_answer_is_reported_missing() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_unknown.json"))

    results = ADAPTER.track(["WB100000025HK", "WB100000039HK"], CREDS, client)

    assert [(r.tracking_number, r.error) for r in results] == [
        ("WB100000025HK", ""),
        ("WB100000039HK", "missing"),
    ]


def test_numbers_we_did_not_ask_for_are_never_applied() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_unknown.json"))

    results = ADAPTER.track(["WB999999995HK"], CREDS, client)

    assert [(r.tracking_number, r.error) for r in results] == [("WB999999995HK", "not_found")]


def test_events_carry_the_number_as_we_spelled_it() -> None:
    client = client_answering(body=fixture("batch_mixed_found_and_unknown.json"))

    (result,) = ADAPTER.track(["wb100000025hk"], CREDS, client)

    assert result.tracking_number == "wb100000025hk"
    assert {e.tracking_number for e in result.events} == {"wb100000025hk"}


# --- errors ---------------------------------------------------------------------------


def test_429_with_retry_after_is_rate_limited_for_that_long() -> None:
    client = client_answering(429, fixture("rate_limited.json"), {"Retry-After": "7"})

    with pytest.raises(CarrierRateLimited) as caught:
        ADAPTER.track(["WB100000025HK"], CREDS, client)
    assert caught.value.retry_after == 7.0


def test_503_is_unavailable() -> None:
    with pytest.raises(CarrierUnavailable):
        ADAPTER.track(["WB100000025HK"], CREDS, client_answering(503, b"busy"))


def test_a_timeout_is_unavailable_and_says_it_timed_out() -> None:
    client = client_raising(lambda request: httpx.ReadTimeout("slow", request=request))

    with pytest.raises(CarrierUnavailable, match="timed out"):
        ADAPTER.track(["WB100000025HK"], CREDS, client)


def test_a_refused_connection_is_unavailable() -> None:
    client = client_raising(lambda request: httpx.ConnectError("refused", request=request))

    with pytest.raises(CarrierUnavailable, match="unreachable"):
        ADAPTER.track(["WB100000025HK"], CREDS, client)


def test_401_is_rejected() -> None:
    client = client_answering(401, fixture("unauthorized_bad_key.json"))

    with pytest.raises(CarrierRejected, match="401"):
        ADAPTER.track(["WB100000025HK"], CREDS, client)


def test_400_too_many_numbers_is_rejected() -> None:
    client = client_answering(400, b'{"error": "too_many_numbers"}')

    with pytest.raises(CarrierRejected):
        ADAPTER.track(["WB100000025HK"], CREDS, client)


@pytest.mark.parametrize(
    "body",
    [
        (FIXTURES / "garbage_html_error.txt").read_bytes(),
        b"",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"results": "none"}',
    ],
)
def test_an_unreadable_body_is_rejected(body: bytes) -> None:
    with pytest.raises(CarrierRejected):
        ADAPTER.track(["WB100000025HK"], CREDS, client_answering(200, body))


def test_a_redirect_is_not_followed_so_the_key_stays_home() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(302, b"", {"Location": "http://elsewhere.test/steal"}, seen)
    client.follow_redirects = True

    with pytest.raises(CarrierRejected, match="302"):
        ADAPTER.track(["WB100000025HK"], CREDS, client)
    assert len(seen) == 1


def test_an_oversized_answer_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MAX_ANSWER_BYTES", 1024)
    body = json.dumps({"results": [], "padding": "x" * 2048}).encode()

    with pytest.raises(CarrierRejected, match="too large"):
        ADAPTER.track(["WB100000025HK"], CREDS, client_answering(200, body))


def test_an_answer_dripping_past_the_deadline_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base, "CALL_DEADLINE_SECONDS", -1.0)  # every chunk arrives too late

    with pytest.raises(CarrierUnavailable, match="timed out"):
        ADAPTER.track(["WB100000025HK"], CREDS, client_answering(200, b'{"results": []}'))


def test_a_base_url_that_is_not_http_is_refused_without_a_call() -> None:
    seen: list[httpx.Request] = []
    creds = Credentials(base_url="file:///etc/passwd", api_key="k")

    with pytest.raises(CarrierRejected, match="http"):
        ADAPTER.track(["WB100000025HK"], creds, client_answering(seen=seen))
    assert seen == []


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), ("-3", 0.0), ("inf", 1.0), ("nan", 1.0), ("soon", 1.0), ("", 1.0)],
)
def test_retry_after_is_read_safely(header: str, seconds: float) -> None:
    assert base.retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date_is_the_time_until_then() -> None:
    assert base.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # past: at once
    later = base.retry_after_seconds("Fri, 01 Jan 2100 00:00:00 GMT")
    assert later == base.MAX_RETRY_AFTER_SECONDS  # capped: never block an account for years


# --- quotes and bookings ---------------------------------------------------------------


def test_a_quote_request_and_its_answer_have_the_documented_shapes() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(200, fixture("quotes.json"), seen=seen)

    quotes = ADAPTER.quote(PARCEL, "HK", "HK", CREDS, client)

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/harbour-post/v1/quotes")
    assert request.headers["X-Api-Key"] == "hp-key-1"
    assert json.loads(request.content) == {
        "weight_grams": 1200,
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 100,
        "origin": "HK",
        "destination": "HK",
    }
    assert [(q.service_level, q.amount_minor, q.currency, q.transit_days) for q in quotes] == [
        ("standard", 4500, "HKD", 2),
        ("express", 8800, "HKD", 1),
    ]


@pytest.mark.parametrize(
    "quote",
    [
        {
            "service_level": "standard",
            "amount_minor": "45.00",
            "currency": "HKD",
            "transit_days": 2,
        },
        {"service_level": "standard", "amount_minor": True, "currency": "HKD", "transit_days": 2},
        {"service_level": "standard", "amount_minor": -1, "currency": "HKD", "transit_days": 2},
        {"service_level": "", "amount_minor": 4500, "currency": "HKD", "transit_days": 2},
        {"service_level": "standard", "amount_minor": 4500, "currency": "hk$", "transit_days": 2},
    ],
)
def test_a_quote_we_cannot_trust_is_rejected(quote: dict) -> None:
    body = json.dumps({"quotes": [quote]}).encode()

    with pytest.raises(CarrierRejected):
        ADAPTER.quote(PARCEL, "HK", "HK", CREDS, client_answering(200, body))


def test_a_booking_request_and_its_answer_have_the_documented_shapes() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(201, fixture("booking_created.json"), seen=seen)
    sender = {"name": "Chan Tai Man", "city": "Kwai Chung", "country": "HK"}
    recipient = {"name": "Wong Siu Ming", "city": "Mong Kok", "country": "HK"}

    booking = ADAPTER.book(PARCEL, sender, recipient, "standard", CREDS, client)

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/harbour-post/v1/bookings")
    assert request.headers["X-Api-Key"] == "hp-key-1"
    assert json.loads(request.content) == {
        "parcel": {"weight_grams": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100},
        "sender": sender,
        "recipient": recipient,
        "service_level": "standard",
    }
    assert booking.carrier_reference == "HPB-20261122-0001"
    assert booking.tracking_number == "WB100000025HK"
    assert booking.estimated_delivery == date(2026, 11, 24)


def test_a_booking_with_an_unreadable_estimate_is_still_a_booking() -> None:
    body = (
        b'{"reference": "HPB-1", "tracking_number": "WB100000025HK", "estimated_delivery": "soon"}'
    )

    booking = ADAPTER.book(PARCEL, {}, {}, "standard", CREDS, client_answering(201, body))

    assert (booking.carrier_reference, booking.estimated_delivery) == ("HPB-1", None)


def test_a_booking_answer_without_a_reference_is_rejected() -> None:
    body = b'{"tracking_number": "WB100000025HK"}'

    with pytest.raises(CarrierRejected, match="reference"):
        ADAPTER.book(PARCEL, {}, {}, "standard", CREDS, client_answering(201, body))


# --- what it does not do --------------------------------------------------------------


def test_it_neither_pushes_nor_resends_nor_takes_subscriptions() -> None:
    client = client_answering()
    with pytest.raises(PushRejected):
        ADAPTER.parse_push({}, b"{}", CREDS, datetime.now(UTC))
    with pytest.raises(CarrierRejected, match="not supported by harbour-post"):
        ADAPTER.request_resend(datetime.now(UTC), CREDS, client)
    with pytest.raises(CarrierRejected, match="not supported by harbour-post"):
        ADAPTER.subscribe("WB100000025HK", "http://x.test/cb", CREDS, client)
