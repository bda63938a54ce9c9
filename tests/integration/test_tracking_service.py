"""Public tracking service on real PostgreSQL and Redis: lookups, outcomes, limits and the second factor."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from backend.config import get_settings
from backend.domain import tracking_number
from backend.domain.statuses import ShipmentStatus as S
from backend.services import tracking
from backend.services.errors import NotFound, RateLimited, ValidationFailed
from tests.support import factories

pytestmark = pytest.mark.local_services

CLIENT = "203.0.113.10"
OTHER_CLIENT = "198.51.100.20"
PARTNER_NUMBER = "PR2026112201"
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def limits(monkeypatch):
    """Set tracking limits through the environment, as an operator would; restored afterwards."""

    def apply(**values: int) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), str(value))
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def world(clean_db, redis_client):
    """A failed delivery in Hong Kong, a delivered parcel to Guangzhou, a partner's parcel."""
    tracking.forget_partner_patterns()
    tenant = factories.make_tenant(name="Harbour Express")
    own = factories.make_carrier_account(tenant=tenant, name="Harbour Post")
    partner = factories.make_carrier_account(
        tenant=tenant, name="Pearl River Logistics", tracking_number_pattern=r"^PR\d{10}$"
    )
    failed = factories.make_shipment(
        tenant=tenant,
        carrier_account_id=own.id,
        status=S.DELIVERY_FAILED.value,
        status_reason="recipient_absent",
        recipient_name="Chan Tai Man",
        recipient_phone="+852 9876-5432",
        recipient_address="Flat B, 5/F, 23 Nathan Road",
        recipient_city="Mong Kok",
        sender_city="Kwai Chung",
        eta=date(2026, 3, 3),
        last_event_at=START + timedelta(hours=12),
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
        eta=date(2026, 3, 2),
    )
    factories.make_tracking_events(
        delivered,
        [
            {"status": "picked_up", "city": "Kwai Chung"},
            {"status": "customs", "city": "Shenzhen", "country": "CN"},
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
    )
    no_carrier = factories.make_shipment(tenant=tenant, status=S.PENDING.value)
    yield SimpleNamespace(
        failed=failed, delivered=delivered, partner=partner_parcel, no_carrier=no_carrier
    )
    tracking.forget_partner_patterns()


def _unknown(i: int) -> str:
    return tracking_number.make("ZZ", 90_000_000 + i)


def _malformed(number: str) -> str:
    return f"{number[:10]}{(int(number[10]) + 1) % 10}{number[11:]}"


# ---- lookup ----


def test_lookup_of_a_failed_delivery(world):
    (result,) = tracking.lookup([world.failed.tracking_number.lower()], client=CLIENT)
    assert result.outcome == tracking.FOUND
    assert result.number == world.failed.tracking_number
    assert (result.status, result.reason, result.next_step) == (
        "delivery_failed",
        "recipient_absent",
        "reschedule",
    )
    assert result.carrier == "Harbour Post"
    assert (result.origin_city, result.destination_city, result.destination_country) == (
        "Kwai Chung",
        "Mong Kok",
        "HK",
    )
    assert result.eta == date(2026, 3, 3)
    assert result.last_update == START + timedelta(hours=12)


def test_the_timeline_is_newest_first_with_local_times(world):
    (result,) = tracking.lookup([world.delivered.tracking_number], client=CLIENT)
    assert [e.status for e in result.events] == ["delivered", "customs", "picked_up"]
    assert [e.city for e in result.events] == ["Guangzhou", "Shenzhen", "Kwai Chung"]
    newest = result.events[0]
    assert newest.occurred_at == START + timedelta(hours=12)
    assert newest.local_time == newest.occurred_at
    assert newest.local_time.utcoffset() == timedelta(hours=8)
    assert newest.local_time.hour == (START.hour + 12 + 8) % 24


def test_one_number_and_a_batch_give_the_same_results(world):
    # One number and several are looked up by two statements (`=` and `= ANY`): they must agree.
    numbers = [world.failed.tracking_number, world.delivered.tracking_number, PARTNER_NUMBER]
    together = tracking.lookup(numbers, client=CLIENT)
    one_by_one = [tracking.lookup([number], client=CLIENT)[0] for number in numbers]
    assert together == one_by_one
    assert [len(r.events) for r in together] == [3, 3, 0]


def test_a_delivered_parcel_has_no_eta_and_no_next_step(world):
    (result,) = tracking.lookup([world.delivered.tracking_number], client=CLIENT)
    assert (result.status, result.eta, result.next_step) == ("delivered", None, "")


def test_places_are_city_level_and_the_recipient_is_never_in_a_lookup(world):
    results = tracking.lookup(
        [world.failed.tracking_number, world.delivered.tracking_number], client=CLIENT
    )
    text = repr([dataclasses.asdict(r) for r in results])
    for secret in (
        "Chan Tai Man",
        "9876",
        "Nathan Road",
        "Li Xiaoming",
        "13800138000",
        "Tianhe Road",
        "510 000",
        world.failed.sender_name,
        world.failed.sender_address,
    ):
        assert secret not in text
    assert all(r.recipient is None for r in results)


def test_a_shipment_without_a_carrier_shows_the_tenant(world):
    (result,) = tracking.lookup([world.no_carrier.tracking_number], client=CLIENT)
    assert (result.carrier, result.events, result.last_update) == ("Harbour Express", [], None)


def test_a_partner_layout_is_accepted_where_a_carrier_claims_it(world):
    (result,) = tracking.lookup(["pr 2026112201"], client=CLIENT)
    assert (result.outcome, result.number, result.carrier) == (
        "found",
        PARTNER_NUMBER,
        "Pearl River Logistics",
    )
    assert result.next_step == "provide_customs_documents"
    (unclaimed,) = tracking.lookup(["SL12345ABCDE"], client=CLIENT)
    assert unclaimed.outcome == tracking.MALFORMED


def test_unknown_and_malformed_are_told_apart_in_the_order_asked(world):
    unknown = _unknown(1)
    bad = _malformed(world.failed.tracking_number)
    results = tracking.lookup(
        [unknown, world.failed.tracking_number, bad, "PR999", "<b>x</b>"], client=CLIENT
    )
    assert [(r.number, r.outcome) for r in results] == [
        (unknown, "unknown"),
        (world.failed.tracking_number, "found"),
        (bad, "malformed"),
        ("PR999", "malformed"),
        ("<B>X</B>", "malformed"),
    ]
    assert all(not r.events and not r.status for r in results if r.outcome != "found")


def test_sql_in_a_number_is_only_ever_a_malformed_number(world):
    results = tracking.lookup(["' OR 1=1 --", "WB1'; DROP TABLE shipment; --"], client=CLIENT)
    assert [r.outcome for r in results] == ["malformed", "malformed"]
    (still_there,) = tracking.lookup([world.failed.tracking_number], client=CLIENT)
    assert still_there.outcome == "found"


def test_no_numbers_or_too_many_is_a_validation_error(world):
    with pytest.raises(ValidationFailed) as none:
        tracking.lookup([], client=CLIENT)
    assert none.value.fields == {"numbers": "numbers_required"}
    with pytest.raises(ValidationFailed) as many:
        tracking.lookup([_unknown(i) for i in range(21)], client=CLIENT)
    assert many.value.fields == {"numbers": "too_many_numbers"}


# ---- limits on lookups ----


def test_lookups_per_minute_count_every_number(world, limits):
    limits(tracking_lookups_per_minute=5)
    number = world.failed.tracking_number
    tracking.lookup([number, world.delivered.tracking_number], client=CLIENT)
    tracking.lookup([number, number, number], client=CLIENT)  # five so far
    with pytest.raises(RateLimited) as limited:
        tracking.lookup([number], client=CLIENT)
    assert 0 < limited.value.retry_after <= 60
    assert tracking.lookup([number], client=OTHER_CLIENT)[0].outcome == "found"


def test_too_many_unknown_numbers_cut_the_client_off_with_nothing_returned(world, limits):
    limits(tracking_misses_per_10_minutes=3)
    tracking.lookup([_unknown(1), _unknown(2)], client=CLIENT)
    # This batch takes the client over the limit: not even the found shipment comes back.
    with pytest.raises(RateLimited):
        tracking.lookup([world.failed.tracking_number, _unknown(3), _unknown(4)], client=CLIENT)
    with pytest.raises(RateLimited) as limited:
        tracking.lookup([world.failed.tracking_number], client=CLIENT)
    assert 0 < limited.value.retry_after <= 600
    assert tracking.lookup([world.failed.tracking_number], client=OTHER_CLIENT)[0].outcome == (
        "found"
    )


def test_malformed_numbers_are_not_counted_as_misses(world, limits):
    limits(tracking_misses_per_10_minutes=1)
    for i in range(5):
        tracking.lookup([f"garbage-{i}", _malformed(_unknown(i))], client=CLIENT)
    assert tracking.lookup([world.failed.tracking_number], client=CLIENT)[0].outcome == "found"


# ---- the second factor ----


def test_the_last_four_phone_digits_reveal_the_recipient(world):
    recipient = tracking.reveal_recipient(world.failed.tracking_number, "5432", client=CLIENT)
    assert recipient == tracking.Recipient(
        name="Chan Tai Man",
        phone="+852 9876-5432",
        address="Flat B, 5/F, 23 Nathan Road",
        city="Mong Kok",
        postcode="",
        country="HK",
    )


def test_the_postcode_reveals_the_recipient_whatever_its_spacing(world):
    number = world.delivered.tracking_number.lower()
    assert tracking.reveal_recipient(number, "510000", client=CLIENT).name == "Li Xiaoming"
    assert tracking.reveal_recipient(number, " 510 000 ", client=CLIENT).name == "Li Xiaoming"
    assert tracking.reveal_recipient(number, "8000", client=CLIENT).name == "Li Xiaoming"


def test_a_partner_number_reveals_its_recipient_too(world):
    recipient = tracking.reveal_recipient(PARTNER_NUMBER, "5432", client=CLIENT)
    assert recipient.name == world.partner.recipient_name


@pytest.mark.parametrize("factor", ["1234", "9876", "+852 9876-5432", "98765432", "", "   "])
def test_a_wrong_factor_reveals_nothing(world, factor):
    with pytest.raises(ValidationFailed) as failure:
        tracking.reveal_recipient(world.failed.tracking_number, factor, client=CLIENT)
    assert failure.value.fields == {"factor": "factor_mismatch"}


def test_an_empty_postcode_never_matches(world):
    assert world.failed.recipient_postcode == ""
    for factor in ("", " ", "\t", "0000"):
        with pytest.raises(ValidationFailed):
            tracking.reveal_recipient(world.failed.tracking_number, factor, client=CLIENT)


def test_after_five_wrong_factors_even_the_right_one_is_refused(world):
    number = world.failed.tracking_number
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            tracking.reveal_recipient(number, "0000", client=CLIENT)
    with pytest.raises(RateLimited) as sixth:
        tracking.reveal_recipient(number, "0000", client=CLIENT)
    assert 0 < sixth.value.retry_after <= 3600
    with pytest.raises(RateLimited):
        tracking.reveal_recipient(number, "5432", client=CLIENT)


def test_failed_attempts_lock_the_number_for_every_client(world):
    number = world.failed.tracking_number
    for i in range(5):
        with pytest.raises(ValidationFailed):
            tracking.reveal_recipient(number, f"{i:04d}", client=f"203.0.113.{100 + i}")
    with pytest.raises(RateLimited):
        tracking.reveal_recipient(number, "5432", client=OTHER_CLIENT)
    # Other shipments are not affected.
    assert tracking.reveal_recipient(world.delivered.tracking_number, "510000", client=OTHER_CLIENT)


def test_failed_attempts_lock_the_client_for_every_number(world):
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            tracking.reveal_recipient(world.failed.tracking_number, "0000", client=CLIENT)
    with pytest.raises(RateLimited):
        tracking.reveal_recipient(world.delivered.tracking_number, "510000", client=CLIENT)


def test_unknown_numbers_count_as_failed_attempts(world):
    for i in range(5):
        with pytest.raises(NotFound):
            tracking.reveal_recipient(_unknown(i), "5432", client=CLIENT)
    # Otherwise "not found" vs "wrong factor" would tell an enumerator which numbers exist.
    with pytest.raises(RateLimited):
        tracking.reveal_recipient(_unknown(9), "5432", client=CLIENT)
    with pytest.raises(NotFound):
        tracking.reveal_recipient("<script>", "5432", client=OTHER_CLIENT)


def test_the_verify_limit_is_configurable(world, limits):
    limits(tracking_verify_attempts_per_hour=2)
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            tracking.reveal_recipient(world.failed.tracking_number, "0000", client=CLIENT)
    with pytest.raises(RateLimited):
        tracking.reveal_recipient(world.failed.tracking_number, "5432", client=CLIENT)


def test_a_carriers_own_wording_never_reaches_a_stranger(world):
    factories.make_tracking_events(
        world.delivered,
        [{"status": S.DELIVERED.value, "description": "Signed for by CHAN TAI MAN at the door"}],
        start=START + timedelta(days=5),
    )

    results = tracking.lookup([world.delivered.tracking_number], client=CLIENT)

    text = repr([dataclasses.asdict(r) for r in results])
    assert "CHAN TAI MAN" not in text
    assert results[0].events[0].status == S.DELIVERED.value
