"""SwiftLink's adapter: signed pushes believed only over their raw bytes, subscriptions, resends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
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
from backend.integrations.carriers.swiftlink import codes
from backend.integrations.carriers.swiftlink.adapter import SwiftLinkAdapter, sign

FIXTURES = Path(__file__).parents[2] / "fixtures" / "carriers" / "swiftlink"
SECRET = "whsec_swiftlink_test_1"
CREDS = Credentials(
    base_url="http://carrier.test/swiftlink", api_key="sl-key-1", webhook_secret=SECRET
)
NOW = datetime(2026, 11, 22, 3, 10, 30, tzinfo=UTC)
ADAPTER = SwiftLinkAdapter()

# The table of docs/carriers.md, written out again so that a slip in codes.py shows.
DOCUMENTED = {
    "CREATED": (S.PENDING, ""),
    "COLLECTED": (S.PICKED_UP, ""),
    "IN_TRANSIT": (S.IN_TRANSIT, ""),
    "OUT_FOR_DELIVERY": (S.OUT_FOR_DELIVERY, ""),
    "DELIVERED": (S.DELIVERED, ""),
    "ATTEMPT_FAILED": (S.DELIVERY_FAILED, "recipient_absent"),
    "AT_LOCKER": (S.READY_FOR_PICKUP, "held_at_depot"),
    "EXCEPTION_DAMAGED": (S.EXCEPTION, "damaged"),
    "RETURNING": (S.RETURNING, ""),
    "RETURNED": (S.RETURNED, ""),
    "CANCELLED": (S.CANCELLED, ""),
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(
    body: bytes, *, at: datetime = NOW, secret: str = SECRET, lower: bool = False
) -> dict[str, str]:
    """The headers SwiftLink sends with `body` at `at`."""
    timestamp = str(int(at.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-SwiftLink-Timestamp": timestamp,
        "X-SwiftLink-Signature": sign(secret, timestamp, body),
    }
    return {k.lower(): v for k, v in headers.items()} if lower else headers


def client_answering(
    status: int = 201,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    seen: list[httpx.Request] | None = None,
) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers=headers)

    return httpx.Client(transport=httpx.MockTransport(handler))


# --- the mapping table ----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), DOCUMENTED.items())
def test_every_documented_code_maps_as_documented(raw: str, expected: tuple[S, str]) -> None:
    assert codes.map_code(raw) == expected


def test_the_table_holds_the_documented_codes_and_no_others() -> None:
    assert codes.CODES == DOCUMENTED


@pytest.mark.parametrize("raw", ["MYSTERY", "delivered", "DELIVERED ", ""])
def test_a_code_missing_from_the_table_is_unknown_never_guessed(raw: str) -> None:
    assert codes.map_code(raw) == (S.UNKNOWN, "")


# --- pushes that are believed ---------------------------------------------------------


def test_a_correctly_signed_push_is_read_into_one_event() -> None:
    body = fixture("push_out_for_delivery.json")

    (event,) = ADAPTER.parse_push(signed(body), body, CREDS, NOW)

    assert event.tracking_number == "SL7K2M9Q4P1A"
    assert event.event_id == "sl_01HZX3K7M2Q9P4A8B6C5D1E0FG"
    assert (event.status, event.reason, event.raw_code) == (
        S.OUT_FOR_DELIVERY,
        "",
        "OUT_FOR_DELIVERY",
    )
    assert event.occurred_at == datetime(2026, 11, 22, 3, 10, tzinfo=UTC)
    assert (event.city, event.country) == ("Mong Kok", "HK")
    assert event.raw == json.loads(body)


def test_header_names_are_matched_whatever_their_case() -> None:
    body = fixture("push_out_for_delivery.json")

    # the webhook inbox stores headers lower-cased; a replay must verify all the same
    assert len(ADAPTER.parse_push(signed(body, lower=True), body, CREDS, NOW)) == 1


def test_an_unmapped_code_is_unknown_with_its_raw_code_kept() -> None:
    body = fixture("push_unknown_code.json")

    (event,) = ADAPTER.parse_push(signed(body), body, CREDS, NOW)

    assert (event.status, event.reason, event.raw_code) == (S.UNKNOWN, "", "MYSTERY")


def test_a_timestamp_exactly_300_s_old_is_still_fresh() -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body, at=NOW - timedelta(seconds=300))

    assert len(ADAPTER.parse_push(headers, body, CREDS, NOW)) == 1


def test_a_naive_now_is_taken_as_utc() -> None:
    body = fixture("push_out_for_delivery.json")

    assert len(ADAPTER.parse_push(signed(body), body, CREDS, NOW.replace(tzinfo=None))) == 1


# --- pushes that are refused ----------------------------------------------------------


def test_a_push_signed_with_another_secret_is_refused() -> None:
    body = fixture("push_out_for_delivery.json")

    with pytest.raises(PushRejected, match="bad signature"):
        ADAPTER.parse_push(signed(body, secret="whsec_someone_else"), body, CREDS, NOW)


def test_one_changed_byte_of_the_body_is_refused() -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body)
    tampered = body.replace(b"OUT_FOR_DELIVERY", b"OUT_FOR_DELIVERZ")
    assert len(tampered) == len(body) and tampered != body

    with pytest.raises(PushRejected, match="bad signature"):
        ADAPTER.parse_push(headers, tampered, CREDS, NOW)


def test_the_same_data_serialized_again_is_refused() -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body)
    reserialized = json.dumps(json.loads(body), indent=2).encode()
    assert json.loads(reserialized) == json.loads(body)

    with pytest.raises(PushRejected, match="bad signature"):
        ADAPTER.parse_push(headers, reserialized, CREDS, NOW)


@pytest.mark.parametrize("missing", ["X-SwiftLink-Signature", "X-SwiftLink-Timestamp"])
def test_a_push_without_its_signature_headers_is_refused(missing: str) -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body)
    del headers[missing]

    with pytest.raises(PushRejected, match="missing"):
        ADAPTER.parse_push(headers, body, CREDS, NOW)


def test_a_timestamp_301_s_old_is_refused() -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body, at=NOW - timedelta(seconds=301))

    with pytest.raises(PushRejected, match="timestamp"):
        ADAPTER.parse_push(headers, body, CREDS, NOW)


def test_a_timestamp_301_s_in_the_future_is_refused() -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body, at=NOW + timedelta(seconds=301))

    with pytest.raises(PushRejected, match="timestamp"):
        ADAPTER.parse_push(headers, body, CREDS, NOW)


@pytest.mark.parametrize("timestamp", ["", "12a", "-1700000000", "1.7e9", "١٧٩٣٠٧٠٦٣٠", "9" * 40])
def test_a_garbled_timestamp_is_refused(timestamp: str) -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body) | {"X-SwiftLink-Timestamp": timestamp}

    with pytest.raises(PushRejected):
        ADAPTER.parse_push(headers, body, CREDS, NOW)


@pytest.mark.parametrize(
    "signature",
    ["", "v1=", "v2=" + "a" * 64, "a" * 64, "v1=" + "a" * 63, "v1=" + "g" * 64, "v1=" + "é" * 64],
)
def test_a_garbled_signature_is_refused(signature: str) -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body) | {"X-SwiftLink-Signature": signature}

    with pytest.raises(PushRejected):
        ADAPTER.parse_push(headers, body, CREDS, NOW)


def test_two_different_signature_headers_are_refused() -> None:
    body = fixture("push_out_for_delivery.json")
    headers = signed(body) | {"x-swiftlink-signature": "v1=" + "0" * 64}

    with pytest.raises(PushRejected, match="conflicting"):
        ADAPTER.parse_push(headers, body, CREDS, NOW)


def test_an_account_without_a_webhook_secret_believes_nothing() -> None:
    body = fixture("push_out_for_delivery.json")
    creds = Credentials(base_url=CREDS.base_url, api_key="k", webhook_secret="")

    with pytest.raises(PushRejected, match="secret"):
        ADAPTER.parse_push(signed(body, secret=""), body, creds, NOW)


def test_a_body_over_64_kib_is_refused_even_when_signed() -> None:
    document = json.loads(fixture("push_out_for_delivery.json"))
    body = json.dumps(document | {"padding": "x" * 65536}).encode()

    with pytest.raises(PushRejected, match="too large"):
        ADAPTER.parse_push(signed(body), body, CREDS, NOW)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        fixture("push_wrong_types.json"),
        fixture("push_time_without_offset.json"),
        b'{"event_id": "sl_1", "tracking_number": "SL1", "code": "DELIVERED"}',
        b'{"event_id": "", "tracking_number": "SL1", "code": "DELIVERED", "occurred_at": "2026-11-22T03:10:00Z"}',
        b'{"event_id": "sl_1", "tracking_number": "SL1", "code": "DELIVERED", "occurred_at": "2026-11-22T03:10:00Z", "city": 7}',
        b'{"event_id": "sl_1\\u0000", "tracking_number": "SL1", "code": "DELIVERED", "occurred_at": "2026-11-22T03:10:00Z"}',
    ],
)
def test_a_signed_body_that_is_not_a_readable_event_is_refused(body: bytes) -> None:
    with pytest.raises(PushRejected):
        ADAPTER.parse_push(signed(body), body, CREDS, NOW)


# --- subscriptions and resends --------------------------------------------------------


def test_subscribing_posts_the_number_and_callback_with_the_key() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(201, b'{"id": "sub_1"}', seen=seen)

    ADAPTER.subscribe(
        "SL7K2M9Q4P1A", "http://127.0.0.1:3000/webhooks/carriers/swiftlink/hk", CREDS, client
    )

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/swiftlink/v1/subscriptions")
    assert request.headers["X-Api-Key"] == "sl-key-1"
    assert json.loads(request.content) == {
        "tracking_number": "SL7K2M9Q4P1A",
        "callback_url": "http://127.0.0.1:3000/webhooks/carriers/swiftlink/hk",
    }
    assert request.extensions["timeout"]["connect"] == 5.0


def test_subscribing_twice_is_fine_whatever_2xx_the_carrier_answers() -> None:
    ADAPTER.subscribe("SL7K2M9Q4P1A", "http://127.0.0.1/cb", CREDS, client_answering(200, b"{}"))


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, CarrierRateLimited), (503, CarrierUnavailable), (401, CarrierRejected)],
)
def test_subscription_errors_follow_the_tree(status: int, error: type[Exception]) -> None:
    client = client_answering(status, b"{}", {"Retry-After": "3"})

    with pytest.raises(error):
        ADAPTER.subscribe("SL7K2M9Q4P1A", "http://127.0.0.1/cb", CREDS, client)


def test_a_resend_asks_since_a_utc_time_and_returns_how_many_are_queued() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(202, fixture("resend_queued.json"), seen=seen)

    queued = ADAPTER.request_resend(datetime(2026, 11, 22, 11, 0, tzinfo=UTC), CREDS, client)

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/swiftlink/v1/resend")
    assert request.headers["X-Api-Key"] == "sl-key-1"
    assert json.loads(request.content) == {"since": "2026-11-22T11:00:00Z"}
    assert queued == 3


@pytest.mark.parametrize("body", [b"", b"oops", b"[]", b'{"queued": "3"}', b'{"queued": -1}'])
def test_an_unreadable_resend_answer_is_rejected(body: bytes) -> None:
    with pytest.raises(CarrierRejected):
        ADAPTER.request_resend(NOW, CREDS, client_answering(202, body))


def test_a_resend_timeout_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(CarrierUnavailable, match="timed out"):
        ADAPTER.request_resend(NOW, CREDS, client)


# --- what it does not do --------------------------------------------------------------


def test_it_never_answers_polls_quotes_or_bookings() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(seen=seen)
    parcel = ParcelSpec(1000, 100, 100, 100)
    with pytest.raises(CarrierRejected, match="swiftlink does not answer polls"):
        ADAPTER.track(["SL7K2M9Q4P1A"], CREDS, client)
    with pytest.raises(CarrierRejected, match="not supported by swiftlink"):
        ADAPTER.quote(parcel, "HK", "HK", CREDS, client)
    with pytest.raises(CarrierRejected, match="not supported by swiftlink"):
        ADAPTER.book(parcel, {}, {}, "standard", CREDS, client)
    assert seen == []
