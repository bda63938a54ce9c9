"""The public tracking JSON API over HTTP (Starlette TestClient): codes, shapes, privacy and abuse."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from starlette.testclient import TestClient

from backend.api.app import build_api
from backend.api.tracking_api import STATUS_LABELS
from backend.config import get_settings
from backend.domain import tracking_number
from backend.domain.statuses import ShipmentStatus as S
from backend.services import tracking
from portal.i18n import CATALOG
from tests.support import factories

pytestmark = pytest.mark.local_services

PARTNER_NUMBER = "PR2026112201"
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
FOUND_KEYS = {
    "number",
    "outcome",
    "status",
    "status_label",
    "reason",
    "next_step",
    "carrier",
    "service_level",
    "origin_city",
    "destination_city",
    "destination_country",
    "eta",
    "last_update",
    "events",
}
EVENT_KEYS = {"occurred_at", "local_time", "status", "reason", "city", "country"}
RECIPIENT = {
    "name": "Chan Tai Man",
    "phone": "+852 9876-5432",
    "address": "Flat B, 5/F, 23 Nathan Road",
    "city": "Mong Kok",
    "postcode": "",
    "country": "HK",
}
# Anything here in a body without a second factor is a leak.
PERSONAL = [
    "Chan Tai Man",
    "9876",
    "5432",
    "Nathan Road",
    "Flat B",
    "Li Xiaoming",
    "13800138000",
    "Tianhe Road",
    "510 000",
    "Sender Person",
    "Container Port Road",
    "23456789",
]


@pytest.fixture
def limits(monkeypatch):
    """Set settings through the environment, as an operator would; restored afterwards."""

    def apply(**values: int) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), str(value))
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def world(clean_db, redis_client):
    tracking.forget_partner_patterns()
    tenant = factories.make_tenant(name="Harbour Express")
    own = factories.make_carrier_account(tenant=tenant, name="Harbour Post")
    partner = factories.make_carrier_account(
        tenant=tenant, name="Pearl River Logistics", tracking_number_pattern=r"^PR\d{10}$"
    )
    common = {"sender_name": "Sender Person", "sender_phone": "+85223456789"}
    failed = factories.make_shipment(
        tenant=tenant,
        carrier_account_id=own.id,
        status=S.DELIVERY_FAILED.value,
        status_reason="recipient_absent",
        recipient_name=RECIPIENT["name"],
        recipient_phone=RECIPIENT["phone"],
        recipient_address=RECIPIENT["address"],
        recipient_city=RECIPIENT["city"],
        eta=date(2026, 3, 3),
        last_event_at=START + timedelta(hours=12),
        **common,
    )
    factories.make_tracking_events(
        failed,
        [
            {"status": "pending", "city": "Kwai Chung"},
            {"status": "in_transit", "city": "Tsuen Wan"},
            {"status": "delivery_failed", "reason": "recipient_absent", "city": "Mong Kok"},
        ],
        start=START,
    )
    delivered = factories.make_shipment(
        tenant=tenant,
        carrier_account_id=own.id,
        status=S.DELIVERED.value,
        recipient_name="Li Xiaoming",
        recipient_phone="+8613800138000",
        recipient_address="88 Tianhe Road",
        recipient_city="Guangzhou",
        recipient_postcode="510 000",
        recipient_country="CN",
        **common,
    )
    factories.make_tracking_events(
        delivered,
        [
            {"status": "picked_up"},
            {"status": "delivered", "city": "Guangzhou", "country": "CN"},
        ],
        start=START,
    )
    partner_parcel = factories.make_shipment(
        tenant=tenant,
        tracking_number=PARTNER_NUMBER,
        carrier_account_id=partner.id,
        status=S.CUSTOMS.value,
        status_reason="customs_documents",
        recipient_name="Li Xiaoming",
        recipient_phone="+8613800138000",
        recipient_address="88 Tianhe Road",
        recipient_city="Guangzhou",
        recipient_country="CN",
        **common,
    )
    yield SimpleNamespace(
        failed=failed.tracking_number,
        delivered=delivered.tracking_number,
        partner=partner_parcel.tracking_number,
    )
    tracking.forget_partner_patterns()


def client(ip: str = "203.0.113.10") -> TestClient:
    return TestClient(build_api(), client=(ip, 50000))


def _unknown(i: int) -> str:
    return tracking_number.make("ZZ", 80_000_000 + i)


def _bad_check_digit(number: str) -> str:
    return f"{number[:10]}{(int(number[10]) + 1) % 10}{number[11:]}"


def _assert_no_personal_data(text: str) -> None:
    leaked = [secret for secret in PERSONAL if secret in text]
    assert not leaked, f"personal data in a response without a second factor: {leaked}"


# ---- one number ----


def test_a_found_shipment(world):
    response = client().get(f"/api/v1/tracking/{world.failed}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    body = response.json()
    assert set(body) == FOUND_KEYS  # no recipient key at all
    assert body["number"] == world.failed
    assert body["outcome"] == "found"
    assert (body["status"], body["status_label"]) == ("delivery_failed", "Delivery attempt failed")
    assert (body["reason"], body["next_step"]) == ("recipient_absent", "reschedule")
    assert (body["carrier"], body["service_level"]) == ("Harbour Post", "standard")
    assert (body["origin_city"], body["destination_city"], body["destination_country"]) == (
        "Kwai Chung",
        "Mong Kok",
        "HK",
    )
    assert body["eta"] == "2026-03-03"
    assert body["last_update"] == "2026-03-01T13:00:00Z"
    assert [e["status"] for e in body["events"]] == ["delivery_failed", "in_transit", "pending"]
    newest = body["events"][0]
    assert set(newest) == EVENT_KEYS
    assert newest["occurred_at"] == "2026-03-01T13:00:00Z"
    assert newest["local_time"] == "2026-03-01T21:00:00+08:00"
    assert (newest["reason"], newest["city"], newest["country"]) == (
        "recipient_absent",
        "Mong Kok",
        "HK",
    )
    assert body["events"][-1]["reason"] is None
    _assert_no_personal_data(response.text)


def test_a_delivered_parcel_has_no_eta_nor_next_step(world):
    body = client().get(f"/api/v1/tracking/{world.delivered}").json()
    assert (body["status_label"], body["eta"], body["next_step"]) == ("Delivered", None, None)
    assert body["events"][0]["local_time"].endswith("+08:00")


def test_lower_case_and_spaced_numbers_are_found(world):
    spaced = f"{world.failed[:2].lower()} {world.failed[2:]}"
    response = client().get(f"/api/v1/tracking/{quote(spaced)}")
    assert (response.status_code, response.json()["number"]) == (200, world.failed)


def test_a_partner_number_is_found(world):
    body = client().get("/api/v1/tracking/pr2026112201").json()
    assert (body["number"], body["carrier"], body["next_step"]) == (
        PARTNER_NUMBER,
        "Pearl River Logistics",
        "provide_customs_documents",
    )


def test_a_well_formed_number_nobody_knows_is_404(world):
    number = _unknown(1)
    response = client().get(f"/api/v1/tracking/{number}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown",
        "message": "No shipment has this tracking number.",
        "number": number,
    }


@pytest.mark.parametrize("number", ["bad-check-digit", "WB12345678HK", "hello", "PR123", "a/b"])
def test_a_malformed_number_is_400(world, number):
    if number == "bad-check-digit":
        number = _bad_check_digit(world.failed)
    response = client().get(f"/api/v1/tracking/{number}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed"
    assert set(body) == {"error", "message", "number"}


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/api/v1/tracking/" + "A" * 41, {"number": "too_long"}),
        ("/api/v1/tracking/", {"number": "required"}),
        ("/api/v1/tracking/%20", {"number": "required"}),
        ("/api/v1/tracking/{n}?verify=" + "1" * 21, {"verify": "too_long"}),
        ("/api/v1/tracking/{n}?verify=", {"verify": "empty"}),
    ],
)
def test_inputs_over_their_size_limits_are_a_clear_400(world, url, fields):
    response = client().get(url.replace("{n}", world.failed))
    assert response.status_code == 400
    body = response.json()
    assert (body["error"], body["fields"]) == ("invalid_request", fields)
    assert body["message"]


# ---- the second factor ----


def test_the_right_phone_digits_reveal_the_recipient_and_nothing_is_cached(world):
    response = client().get(f"/api/v1/tracking/{world.failed}?verify=5432")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["recipient"] == RECIPIENT
    assert set(body) == FOUND_KEYS | {"recipient"}


def test_the_postcode_reveals_the_recipient(world):
    response = client().get(f"/api/v1/tracking/{world.delivered}", params={"verify": "510000"})
    assert response.json()["recipient"]["name"] == "Li Xiaoming"


@pytest.mark.parametrize("factor", ["1234", "9876", "0000", "abcd", "+85298765432"])
def test_a_wrong_factor_is_403_without_personal_data(world, factor):
    response = client().get(f"/api/v1/tracking/{world.failed}", params={"verify": factor})
    assert response.status_code == 403
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "verification_failed"
    assert "recipient" not in body
    _assert_no_personal_data(response.text.replace(factor, ""))


def test_verify_on_unknown_or_malformed_numbers_keeps_their_own_codes(world):
    c = client()
    assert c.get(f"/api/v1/tracking/{_unknown(2)}?verify=5432").status_code == 404
    assert c.get(f"/api/v1/tracking/{_bad_check_digit(world.failed)}?verify=5432").status_code == (
        400
    )


def test_after_five_wrong_factors_the_right_one_gets_429(world):
    c = client()
    url = f"/api/v1/tracking/{world.failed}"
    assert [c.get(url, params={"verify": "0000"}).status_code for _ in range(5)] == [403] * 5
    sixth = c.get(url, params={"verify": "0000"})
    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["retry-after"]) <= 3600
    right = c.get(url, params={"verify": "5432"})
    assert right.status_code == 429
    assert "recipient" not in right.json()
    _assert_no_personal_data(right.text)


# ---- many numbers ----


def test_a_batch_gives_each_number_its_own_outcome(world):
    unknown, bad = _unknown(3), _bad_check_digit(world.delivered)
    numbers = [world.failed, unknown, bad, world.delivered, PARTNER_NUMBER.lower()]
    response = client().get("/api/v1/tracking", params={"numbers": ",".join(numbers)})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["number"], r["outcome"]) for r in results] == [
        (world.failed, "found"),
        (unknown, "unknown"),
        (bad, "malformed"),
        (world.delivered, "found"),
        (PARTNER_NUMBER, "found"),
    ]
    assert set(results[0]) == FOUND_KEYS
    assert set(results[1]) == set(results[2]) == {"number", "outcome"}
    _assert_no_personal_data(response.text)


def test_a_batch_accepts_spaces_new_lines_repeated_parameters_and_duplicates(world):
    response = client().get(
        f"/api/v1/tracking?numbers={world.failed}%20{world.delivered}%0A{world.failed.lower()}"
        f"&numbers={PARTNER_NUMBER}"
    )
    numbers = [r["number"] for r in response.json()["results"]]
    assert numbers == [world.failed, world.delivered, PARTNER_NUMBER]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"numbers": ",".join(_unknown(i) for i in range(21))}, {"numbers": "too_many_numbers"}),
        ({"numbers": ""}, {"numbers": "required"}),
        ({"numbers": " , ,"}, {"numbers": "required"}),
        ({}, {"numbers": "required"}),
        ({"numbers": "A" * 41}, {"numbers": "number_too_long"}),
        ({"numbers": "A," * 500}, {"numbers": "too_long"}),
        ({"numbers": "WB123456785HK", "verify": "5432"}, {"verify": "not_supported_on_batch"}),
    ],
)
def test_batch_limits_are_a_clear_400(world, query, fields):
    response = client().get("/api/v1/tracking", params=query)
    assert response.status_code == 400
    assert response.json()["fields"] == fields


def test_twenty_numbers_are_allowed(world):
    numbers = [world.failed, *(_unknown(i) for i in range(19))]
    response = client().get("/api/v1/tracking", params={"numbers": ",".join(numbers)})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 20


def test_a_limited_batch_is_429_with_no_partial_data(world, limits):
    limits(tracking_misses_per_10_minutes=3)
    c = client()
    numbers = ",".join([world.failed, _unknown(1), _unknown(2), _unknown(3), _unknown(4)])
    response = c.get("/api/v1/tracking", params={"numbers": numbers})
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= 600
    body = response.json()
    assert set(body) == {"error", "message", "retry_after"}
    assert body["error"] == "rate_limited"
    assert body["retry_after"] == int(response.headers["retry-after"])
    assert world.failed not in response.text


# ---- rate limits per client ----


def test_lookups_per_minute_are_limited_per_client(world, limits):
    limits(tracking_lookups_per_minute=3)
    c = client("203.0.113.20")
    codes = [c.get(f"/api/v1/tracking/{world.failed}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client("203.0.113.21").get(f"/api/v1/tracking/{world.failed}").status_code == 200


def test_behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for(world, limits):
    limits(tracking_lookups_per_minute=2, trusted_proxy_hops=1)
    proxy = client("10.0.0.2")  # every request arrives from the load balancer

    def ask(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return proxy.get(f"/api/v1/tracking/{world.failed}", headers=headers).status_code

    assert [ask("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert ask("198.51.100.2") == 200
    # What the client writes to the left of the proxy's entry changes nothing.
    assert ask("1.2.3.4, 198.51.100.1") == 429


def test_without_trusted_proxies_x_forwarded_for_cannot_dodge_the_limit(world, limits):
    limits(tracking_lookups_per_minute=2)
    c = client("203.0.113.30")
    codes = [
        c.get(
            f"/api/v1/tracking/{world.failed}", headers={"X-Forwarded-For": f"192.0.2.{i}"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]


# ---- security ----


def test_enumerating_200_made_up_numbers_is_cut_off_early_without_data(world):
    c = client("203.0.113.66")
    codes, limited_bodies = [], []
    for i in range(200):
        response = c.get(f"/api/v1/tracking/{_unknown(i)}")
        codes.append(response.status_code)
        if response.status_code == 429:
            limited_bodies.append(response.text)
            assert int(response.headers["retry-after"]) > 0
        else:
            assert response.status_code == 404
            assert set(response.json()) == {"error", "message", "number"}
    first_429 = codes.index(429)
    assert first_429 <= get_settings().tracking_misses_per_10_minutes  # the 21st, by default
    assert set(codes[first_429:]) == {429}  # and it stays shut
    # Once cut off, even a real number gives nothing away.
    real = c.get(f"/api/v1/tracking/{world.failed}")
    assert real.status_code == 429
    limited_bodies.append(real.text)
    batch = c.get("/api/v1/tracking", params={"numbers": f"{world.failed},{world.delivered}"})
    assert batch.status_code == 429
    limited_bodies.append(batch.text)
    for text in limited_bodies:
        body = json.loads(text)
        assert set(body) == {"error", "message", "retry_after"}
        for data in (world.failed, world.delivered, "delivery_failed", "Mong Kok", "Harbour"):
            assert data not in text
    # Another client is unaffected.
    assert client("203.0.113.67").get(f"/api/v1/tracking/{world.failed}").status_code == 200


def test_the_api_never_returns_personal_data_without_the_second_factor(world):
    c = client()
    numbers = [world.failed, world.delivered, world.partner]
    texts = [c.get(f"/api/v1/tracking/{n}").text for n in numbers]
    texts.append(c.get("/api/v1/tracking", params={"numbers": ",".join(numbers)}).text)
    texts.append(c.get(f"/api/v1/tracking/{world.failed}", params={"verify": "1111"}).text)
    texts.append(c.get("/api/v1/openapi.json").text)
    for text in texts:
        _assert_no_personal_data(text.replace("1111", ""))


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "' OR 1=1 --",
        "'; DROP TABLE shipment; --",
        '" OR ""="',
        "1 UNION SELECT recipient_name",
        "%00",
        "\\u003c",
    ],
)
def test_html_and_sql_in_a_number_are_a_400_that_echoes_only_escaped_text(world, payload):
    response = client().get("/api/v1/tracking/" + quote(payload, safe="%"))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    assert body["error"] == "malformed"
    assert "<" not in response.text and ">" not in response.text  # only as \u003c, \u003e
    expected = tracking_number.normalize(payload.replace("%00", "\x00"))
    assert body["number"] == expected


def test_html_in_a_batch_is_a_malformed_result_and_a_real_shipment_stays_intact(world):
    c = client()
    before = c.get(f"/api/v1/tracking/{world.failed}").json()
    numbers = "' OR 1=1 --,'; DROP TABLE shipment; --,<script>alert(1)</script>," + world.failed
    response = c.get("/api/v1/tracking", params={"numbers": numbers})
    assert response.status_code == 200
    results = response.json()["results"]
    assert {r["outcome"] for r in results[:-1]} == {"malformed"}
    assert results[-1] == before
    assert "<" not in response.text
    assert c.get(f"/api/v1/tracking/{world.failed}").json() == before
    assert c.get(f"/api/v1/tracking/{world.failed}?verify=5432").json()["recipient"] == RECIPIENT


# ---- OpenAPI ----


def test_the_openapi_document_describes_both_endpoints(world):
    response = client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.1")
    one = doc["paths"]["/api/v1/tracking/{number}"]["get"]
    many = doc["paths"]["/api/v1/tracking"]["get"]
    assert set(one["responses"]) == {"200", "400", "403", "404", "429"}
    assert set(many["responses"]) == {"200", "400", "429"}
    assert {p["name"] for p in one["parameters"]} == {"number", "verify"}
    assert {p["name"] for p in many["parameters"]} == {"numbers"}
    for operation in (one, many):
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    schemas = doc["components"]["schemas"]
    assert {"TrackingResponse", "BatchResponse", "FoundResult", "ErrorBody", "Recipient"} <= set(
        schemas
    )
    assert "recipient" not in schemas["FoundResult"]["properties"]


def test_responses_match_the_schemas_in_the_openapi_document(world):
    c = client()
    doc = c.get("/api/v1/openapi.json").json()

    def check(body: dict, schema: str) -> None:
        validator = Draft202012Validator({**doc, "$ref": f"#/components/schemas/{schema}"})
        errors = [error.message for error in validator.iter_errors(body)]
        assert not errors, errors

    check(c.get(f"/api/v1/tracking/{world.failed}").json(), "TrackingResponse")
    check(c.get(f"/api/v1/tracking/{world.failed}?verify=5432").json(), "TrackingResponse")
    numbers = f"{world.failed},{_unknown(5)},NOPE,{world.partner}"
    check(c.get("/api/v1/tracking", params={"numbers": numbers}).json(), "BatchResponse")
    check(c.get(f"/api/v1/tracking/{_unknown(6)}").json(), "ErrorBody")
    check(c.get("/api/v1/tracking/x?verify=").json(), "ErrorBody")


def test_status_labels_are_the_portals_english_words():
    assert {s.value: label for s, label in STATUS_LABELS.items()} == {
        s.value: CATALOG[f"status.{s.value}"]["en"] for s in S
    }
