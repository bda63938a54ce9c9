"""Money: whole minor units with an ISO 4217 code; currencies never mix; formatting per exponent."""

from __future__ import annotations

import dataclasses

import pytest

from backend.domain.money import Money


def test_amounts_of_one_currency_add_and_subtract():
    assert Money(1250, "HKD") + Money(75, "HKD") == Money(1325, "HKD")
    assert Money(1250, "HKD") - Money(1300, "HKD") == Money(-50, "HKD")


@pytest.mark.parametrize("operation", [lambda a, b: a + b, lambda a, b: a - b])
def test_adding_or_subtracting_two_currencies_is_refused(operation):
    with pytest.raises(ValueError, match="cannot mix HKD and USD"):
        operation(Money(100, "HKD"), Money(100, "USD"))


@pytest.mark.parametrize("amount", [1.5, 10.0, "100", None, True, False])
def test_amounts_must_be_whole_minor_units(amount):
    with pytest.raises(TypeError):
        Money(amount, "HKD")


@pytest.mark.parametrize("code", ["hkd", "HK", "HKDD", "H1D", "", "   ", "Hkd"])
def test_currency_must_be_three_capital_letters(code):
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, code)


def test_money_is_immutable_and_hashable():
    price = Money(500, "HKD")
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.amount_minor = 1  # type: ignore[misc]
    assert len({Money(500, "HKD"), Money(500, "HKD"), Money(500, "USD")}) == 2


def test_amounts_of_one_currency_compare_by_size():
    assert Money(100, "HKD") < Money(200, "HKD")
    assert max(Money(5, "HKD"), Money(-5, "HKD"), Money(0, "HKD")) == Money(5, "HKD")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1250, "HKD"), "HKD 12.50"),
        (Money(5, "HKD"), "HKD 0.05"),
        (Money(0, "USD"), "USD 0.00"),
        (Money(123456789, "USD"), "USD 1,234,567.89"),
        (Money(-1250, "HKD"), "HKD -12.50"),
        (Money(-5, "EUR"), "EUR -0.05"),
        (Money(1500, "JPY"), "JPY 1,500"),
        (Money(-1500, "KRW"), "KRW -1,500"),
        (Money(7, "TWD"), "TWD 7"),
        (Money(1999, "SGD"), "SGD 19.99"),  # not in the table: two decimals
    ],
)
def test_format_uses_each_currencys_minor_unit(money, text):
    assert money.format() == text


def test_ordering_two_currencies_is_refused_like_arithmetic():
    with pytest.raises((TypeError, ValueError)):
        _ = Money(100, "HKD") < Money(200, "USD")


def test_currency_codes_with_non_ascii_capitals_are_refused():
    with pytest.raises(ValueError):
        Money(100, "ÄÖÜ")
