"""Payment and refund states only move forward, whatever order the provider's events arrive in."""

from __future__ import annotations

import itertools

import pytest

from backend.domain.payment_lifecycle import (
    FINAL_PAYMENT_STATUSES,
    FINAL_REFUND_STATUSES,
    PAYMENT_RANK,
    REFUND_RANK,
    PaymentView,
    Step,
    order_status,
    payment_step,
    refund_step,
    refundable_minor,
)
from backend.domain.statuses import OrderStatus as O
from backend.domain.statuses import PaymentStatus as P
from backend.domain.statuses import RefundStatus as R


def replay_payment(events, start=P.CREATED):
    """Apply events the way the webhook handler does; return the end state and every step."""
    state, steps = start, []
    for event in events:
        step = payment_step(state, event)
        steps.append(step)
        if step is Step.MOVE:
            state = event
    return state, steps


def replay_refund(events, start=R.REQUESTED):
    state, steps = start, []
    for event in events:
        step = refund_step(state, event)
        steps.append(step)
        if step is Step.MOVE:
            state = event
    return state, steps


def paid(amount, refunded=0, status=P.SUCCEEDED):
    return PaymentView(status=status, amount_minor=amount, refunded_minor=refunded)


# -- ranks -----------------------------------------------------------------------------------


def test_every_payment_and_refund_status_has_a_rank():
    assert set(PAYMENT_RANK) == set(P)
    assert set(REFUND_RANK) == set(R)


def test_the_final_states_share_the_top_rank():
    top = max(PAYMENT_RANK.values())
    assert {s for s, rank in PAYMENT_RANK.items() if rank == top} == FINAL_PAYMENT_STATUSES
    top = max(REFUND_RANK.values())
    assert {s for s, rank in REFUND_RANK.items() if rank == top} == FINAL_REFUND_STATUSES


# -- payment steps ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(P))
def test_a_repeated_payment_event_changes_nothing(status):
    assert payment_step(status, status) is Step.STAY


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (P.CREATED, P.PENDING),
        (P.PENDING, P.FAILED),
        (P.PENDING, P.AUTHORIZED),
        (P.AUTHORIZED, P.SUCCEEDED),
        (P.CREATED, P.SUCCEEDED),
        (P.AUTHORIZED, P.CANCELLED),
        (P.PENDING, P.CANCELLED),
    ],
)
def test_a_payment_moves_forward(current, target):
    assert payment_step(current, target) is Step.MOVE


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (P.PENDING, P.CREATED),
        (P.AUTHORIZED, P.PENDING),
        (P.AUTHORIZED, P.FAILED),
        (P.SUCCEEDED, P.AUTHORIZED),
        (P.SUCCEEDED, P.FAILED),
        (P.SUCCEEDED, P.PENDING),
        (P.CANCELLED, P.AUTHORIZED),
        (P.CANCELLED, P.FAILED),
    ],
)
def test_a_late_older_payment_event_is_ignored(current, target):
    assert payment_step(current, target) is Step.STAY


def test_a_declined_card_is_not_the_end_of_a_payment():
    assert payment_step(P.FAILED, P.AUTHORIZED) is Step.MOVE
    assert payment_step(P.FAILED, P.SUCCEEDED) is Step.MOVE


def test_a_pending_event_arriving_after_a_decline_keeps_the_decline():
    assert payment_step(P.FAILED, P.PENDING) is Step.STAY


@pytest.mark.parametrize(
    ("current", "target"), [(P.SUCCEEDED, P.CANCELLED), (P.CANCELLED, P.SUCCEEDED)]
)
def test_cancelled_versus_succeeded_is_a_conflict(current, target):
    assert payment_step(current, target) is Step.CONFLICT


def test_nothing_but_two_different_final_states_is_a_payment_conflict():
    for current, target in itertools.product(P, P):
        conflict = payment_step(current, target) is Step.CONFLICT
        expected = (
            current in FINAL_PAYMENT_STATUSES
            and target in FINAL_PAYMENT_STATUSES
            and current != target
        )
        assert conflict == expected, (current, target)


def test_no_payment_step_ever_lowers_the_rank():
    for current, target in itertools.product(P, P):
        if payment_step(current, target) is Step.MOVE:
            assert PAYMENT_RANK[target] > PAYMENT_RANK[current], (current, target)


# -- payment replays in every order -----------------------------------------------------------

REALISTIC_PAYMENT_STREAMS = {
    "paid_after_a_decline": ([P.PENDING, P.FAILED, P.AUTHORIZED, P.SUCCEEDED], P.SUCCEEDED),
    "captured_without_authorization": ([P.PENDING, P.SUCCEEDED], P.SUCCEEDED),
    "authorized_not_yet_captured": ([P.PENDING, P.FAILED, P.AUTHORIZED], P.AUTHORIZED),
    "declined_only": ([P.PENDING, P.FAILED], P.FAILED),
    "voided_after_authorization": ([P.PENDING, P.AUTHORIZED, P.CANCELLED], P.CANCELLED),
    "abandoned_after_a_decline": ([P.PENDING, P.FAILED, P.CANCELLED], P.CANCELLED),
}


@pytest.mark.parametrize(
    ("events", "final"),
    list(REALISTIC_PAYMENT_STREAMS.values()),
    ids=list(REALISTIC_PAYMENT_STREAMS),
)
def test_events_in_every_order_end_in_the_same_payment_state(events, final):
    for order in itertools.permutations(events):
        state, steps = replay_payment(order)
        assert state == final, order
        assert Step.CONFLICT not in steps, order


def test_events_delivered_twice_and_shuffled_still_end_in_success():
    events = [P.PENDING, P.FAILED, P.AUTHORIZED, P.SUCCEEDED, P.SUCCEEDED, P.PENDING]
    for order in itertools.permutations(events):
        state, steps = replay_payment(order)
        assert state == P.SUCCEEDED, order
        assert Step.CONFLICT not in steps, order


def test_succeeded_and_cancelled_in_one_stream_conflict_in_every_order():
    events = [P.PENDING, P.FAILED, P.AUTHORIZED, P.SUCCEEDED, P.CANCELLED]
    for order in itertools.permutations(events):
        state, steps = replay_payment(order)
        assert steps.count(Step.CONFLICT) == 1, order
        first_final = next(e for e in order if e in FINAL_PAYMENT_STATUSES)
        assert state == first_final, order  # nothing overwrites it; the caller asks the provider


# -- refunds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(R))
def test_a_repeated_refund_event_changes_nothing(status):
    assert refund_step(status, status) is Step.STAY


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (R.REQUESTED, R.PENDING),
        (R.PENDING, R.SUCCEEDED),
        (R.PENDING, R.FAILED),
        (R.REQUESTED, R.SUCCEEDED),
    ],
)
def test_a_refund_moves_forward(current, target):
    assert refund_step(current, target) is Step.MOVE


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (R.PENDING, R.REQUESTED),
        (R.SUCCEEDED, R.PENDING),
        (R.FAILED, R.PENDING),
        (R.SUCCEEDED, R.REQUESTED),
    ],
)
def test_a_late_older_refund_event_is_ignored(current, target):
    assert refund_step(current, target) is Step.STAY


@pytest.mark.parametrize(("current", "target"), [(R.SUCCEEDED, R.FAILED), (R.FAILED, R.SUCCEEDED)])
def test_a_refund_that_both_succeeded_and_failed_is_a_conflict(current, target):
    assert refund_step(current, target) is Step.CONFLICT


@pytest.mark.parametrize(
    ("events", "final"),
    [
        ([R.REQUESTED, R.PENDING, R.SUCCEEDED], R.SUCCEEDED),
        ([R.REQUESTED, R.PENDING, R.FAILED], R.FAILED),
        ([R.REQUESTED, R.PENDING, R.PENDING, R.SUCCEEDED, R.SUCCEEDED], R.SUCCEEDED),
    ],
    ids=["settled", "refused", "settled_with_repeats"],
)
def test_refund_events_in_every_order_end_in_the_same_state(events, final):
    for order in itertools.permutations(events):
        state, steps = replay_refund(order)
        assert state == final, order
        assert Step.CONFLICT not in steps, order


def test_a_refund_stream_with_both_outcomes_conflicts_in_every_order():
    for order in itertools.permutations([R.REQUESTED, R.PENDING, R.SUCCEEDED, R.FAILED]):
        state, steps = replay_refund(order)
        assert steps.count(Step.CONFLICT) == 1, order
        assert state == next(e for e in order if e in FINAL_REFUND_STATUSES), order


# -- order status ----------------------------------------------------------------------------


@pytest.mark.parametrize("current", [O.AWAITING_PAYMENT, O.PAID])
def test_an_order_without_a_successful_payment_awaits_payment(current):
    payments = [paid(5000, status=P.FAILED), paid(5000, status=P.PENDING)]
    assert order_status(payments, current) == O.AWAITING_PAYMENT
    assert order_status([], current) == O.AWAITING_PAYMENT


@pytest.mark.parametrize("current", [O.DRAFT, O.CANCELLED])
def test_draft_and_cancelled_orders_stay_so_until_money_arrives(current):
    assert order_status([], current) == current
    assert order_status([paid(5000, status=P.AUTHORIZED)], current) == current
    assert order_status([paid(5000, status=P.CANCELLED)], current) == current


@pytest.mark.parametrize("current", [O.DRAFT, O.CANCELLED, O.AWAITING_PAYMENT])
def test_an_order_shows_as_paid_once_a_payment_succeeded_even_if_cancelled(current):
    assert order_status([paid(5000)], current) == O.PAID


def test_an_order_with_no_refund_is_paid():
    assert order_status([paid(5000, refunded=0)], O.PAID) == O.PAID


def test_an_order_with_part_of_its_money_returned_is_partially_refunded():
    assert order_status([paid(5000, refunded=1)], O.PAID) == O.PARTIALLY_REFUNDED
    assert order_status([paid(5000, refunded=4999)], O.PAID) == O.PARTIALLY_REFUNDED


def test_an_order_with_all_its_money_returned_is_refunded():
    assert order_status([paid(5000, refunded=5000)], O.PARTIALLY_REFUNDED) == O.REFUNDED


def test_a_cancelled_order_whose_stray_payment_was_refunded_shows_refunded():
    assert order_status([paid(5000, refunded=5000)], O.CANCELLED) == O.REFUNDED


def test_refunds_are_summed_over_every_successful_payment_of_the_order():
    payments = [paid(3000, refunded=3000), paid(2000, refunded=0)]
    assert order_status(payments, O.PAID) == O.PARTIALLY_REFUNDED
    payments = [paid(3000, refunded=3000), paid(2000, refunded=2000)]
    assert order_status(payments, O.PAID) == O.REFUNDED


def test_payments_that_did_not_succeed_count_for_neither_amount_nor_refunds():
    payments = [paid(5000), paid(9000, refunded=9000, status=P.FAILED)]
    assert order_status(payments, O.PAID) == O.PAID
    payments = [paid(5000, refunded=5000), paid(9000, status=P.CANCELLED)]
    assert order_status(payments, O.PAID) == O.REFUNDED


# -- refundable amount -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "refunded", "in_flight", "expected"),
    [
        (5000, 0, 0, 5000),
        (5000, 1000, 0, 4000),
        (5000, 1000, 1500, 2500),
        (5000, 5000, 0, 0),
        (5000, 0, 5000, 0),
        (5000, 4000, 2000, 0),
        (5000, 6000, 0, 0),
    ],
)
def test_refundable_amount_counts_settled_and_in_flight_refunds(
    amount, refunded, in_flight, expected
):
    assert refundable_minor(amount, refunded, in_flight) == expected


def test_refundable_amount_is_never_negative_nor_more_than_was_paid():
    grid = range(0, 6001, 250)
    for amount, refunded, in_flight in itertools.product(grid, grid, grid):
        left = refundable_minor(amount, refunded, in_flight)
        assert 0 <= left <= amount
        assert left + refunded + in_flight >= amount  # never less than what is really left
