"""Money as integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

# Minor-unit exponents for the currencies we bill in; the rest default to 2.
MINOR_UNIT_EXPONENT = {
    "JPY": 0,
    "KRW": 0,
    "TWD": 0,
    "HKD": 2,
    "USD": 2,
    "CNY": 2,
    "EUR": 2,
    "GBP": 2,
}


_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)


@total_ordering
@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("amounts are whole minor units (int)")

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __lt__(self, other: Money) -> bool:
        # Comparing HKD with USD has no answer without a rate: refuse, like + and - do.
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def format(self) -> str:
        """Human form, e.g. 'HKD 12.50'."""
        exponent = MINOR_UNIT_EXPONENT.get(self.currency, 2)
        if exponent == 0:
            return f"{self.currency} {self.amount_minor:,}"
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**exponent)
        return f"{self.currency} {sign}{whole:,}.{frac:0{exponent}d}"


def parse_amount(text: str, currency: str) -> int | None:
    """ "12.50" in HKD -> 1250 minor units; None when it is not a positive amount of that currency."""
    exponent = MINOR_UNIT_EXPONENT.get(currency, 2)
    cleaned = text.strip().replace(",", "")
    pattern = (
        r"[0-9]+" if exponent == 0 else r"[0-9]+(\.[0-9]{1,EXP})?".replace("EXP", str(exponent))
    )
    if not re.fullmatch(pattern, cleaned, re.ASCII):
        return None
    whole, _, frac = cleaned.partition(".")
    minor = int(whole) * 10**exponent + (int(frac.ljust(exponent, "0")) if frac else 0)
    return minor if minor > 0 else None
