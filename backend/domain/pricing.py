"""Quotes from a tenant's rate card: zones, weight breaks, volumetric weight and surcharges.

A rate card is stored as JSON (one per tenant) and read here into frozen types, so a
card that does not add up is refused when it is saved, not when a customer asks for
a price. Amounts are integer minor units; percentages are basis points (850 = 8.5 %),
rounded half up to the minor unit once per line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any


class RateCardError(ValueError):
    """The rate card itself is wrong (an admin's mistake), with a message saying where."""


class NotServed(ValueError):
    """No price for this route, service or size: the customer sees why, as a field error code."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class WeightBreak:
    up_to_grams: int
    price_minor: int


@dataclass(frozen=True)
class PriceRule:
    service_level: str
    zone: str
    breaks: tuple[WeightBreak, ...]  # ascending by weight
    extra_per_kg_minor: int  # each started kilogram above the last break
    max_weight_grams: int  # per parcel (chargeable weight)
    transit_days: int


@dataclass(frozen=True)
class ZoneRule:
    origin_country: str
    destination_country: str
    destination_region: str  # a city / district, or "*" for the rest of the country
    zone: str


@dataclass(frozen=True)
class Surcharges:
    fuel_bp: int = 0  # of the freight
    remote_area_minor: int = 0  # once per order, for the regions listed as remote
    remote_regions: frozenset[str] = frozenset()
    oversize_longest_mm: int = 0  # a parcel whose longest side exceeds this pays oversize
    oversize_minor: int = 0
    volumetric_divisor_cm3_per_kg: int = 5000
    insurance_bp: int = 0  # of the declared value, when the customer insures
    insurance_min_minor: int = 0


@dataclass(frozen=True)
class RateCard:
    currency: str
    zones: tuple[ZoneRule, ...]
    rules: tuple[PriceRule, ...]
    surcharges: Surcharges = field(default_factory=Surcharges)


@dataclass(frozen=True)
class ParcelSize:
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class QuoteLine:
    code: str  # freight, fuel, remote_area, oversize, insurance (translated by the UI)
    amount_minor: int
    detail: str = ""  # e.g. "2 parcels, 3.5 kg chargeable"


@dataclass(frozen=True)
class Quote:
    service_level: str
    zone: str
    currency: str
    lines: tuple[QuoteLine, ...]
    chargeable_grams: int
    transit_days: int

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_level": self.service_level,
            "zone": self.zone,
            "currency": self.currency,
            "lines": [
                {"code": x.code, "amount_minor": x.amount_minor, "detail": x.detail}
                for x in self.lines
            ],
            "chargeable_grams": self.chargeable_grams,
            "transit_days": self.transit_days,
            "total_minor": self.total_minor,
        }


def basis_points(amount_minor: int, bp: int) -> int:
    """amount × bp / 10 000, rounded half up (amounts and rates are never negative here)."""
    return (amount_minor * bp + 5_000) // 10_000


def chargeable_grams(parcel: ParcelSize, divisor_cm3_per_kg: int) -> int:
    """The larger of the actual and the volumetric weight (L × W × H in cm³ / divisor, in kg).

    In whole numbers: cm³ × 1000 / divisor is mm³ / divisor grams, rounded up, with no float.
    """
    volume_mm3 = parcel.length_mm * parcel.width_mm * parcel.height_mm
    volumetric = -(-volume_mm3 // divisor_cm3_per_kg)
    return max(parcel.weight_grams, volumetric)


def zone_for(card: RateCard, origin: str, destination: str, region: str) -> str:
    """The zone of a route: an exact region rule first, then the country's "*" rule."""
    wildcard = None
    wanted = region.strip().casefold()
    for rule in card.zones:
        if rule.origin_country != origin or rule.destination_country != destination:
            continue
        if rule.destination_region.casefold() == wanted:
            return rule.zone
        if rule.destination_region == "*":
            wildcard = rule.zone
    if wildcard is None:
        raise NotServed("destination_not_served")
    return wildcard


def freight_minor(rule: PriceRule, grams: int) -> int:
    for step in rule.breaks:
        if grams <= step.up_to_grams:
            return step.price_minor
    last = rule.breaks[-1]
    extra_kg = math.ceil((grams - last.up_to_grams) / 1000)
    return last.price_minor + extra_kg * rule.extra_per_kg_minor


def quote(
    card: RateCard,
    *,
    service_level: str,
    origin: str,
    destination: str,
    region: str,
    parcels: list[ParcelSize],
    declared_value_minor: int = 0,
    insured: bool = False,
) -> Quote:
    """The price of one order; raises NotServed with a code the customer can act on."""
    if not parcels:
        raise NotServed("parcels_required")
    zone = zone_for(card, origin, destination, region)
    rule = next(
        (r for r in card.rules if r.zone == zone and r.service_level == service_level), None
    )
    if rule is None:
        raise NotServed("service_not_offered")
    extra = card.surcharges
    weights = [chargeable_grams(p, extra.volumetric_divisor_cm3_per_kg) for p in parcels]
    if any(w > rule.max_weight_grams for w in weights):
        raise NotServed("parcel_too_heavy")
    freight = sum(freight_minor(rule, w) for w in weights)
    total_grams = sum(weights)
    lines = [QuoteLine("freight", freight, f"{len(parcels)}|{total_grams}")]
    if extra.fuel_bp:
        lines.append(QuoteLine("fuel", basis_points(freight, extra.fuel_bp), f"{extra.fuel_bp}"))
    if extra.remote_area_minor and region.strip().casefold() in {
        r.casefold() for r in extra.remote_regions
    }:
        lines.append(QuoteLine("remote_area", extra.remote_area_minor, region.strip()))
    if extra.oversize_longest_mm:
        oversized = sum(
            1
            for p in parcels
            if max(p.length_mm, p.width_mm, p.height_mm) > extra.oversize_longest_mm
        )
        if oversized:
            lines.append(QuoteLine("oversize", oversized * extra.oversize_minor, str(oversized)))
    if insured and declared_value_minor > 0 and extra.insurance_bp:
        premium = max(
            basis_points(declared_value_minor, extra.insurance_bp), extra.insurance_min_minor
        )
        lines.append(QuoteLine("insurance", premium, str(declared_value_minor)))
    return Quote(service_level, zone, card.currency, tuple(lines), total_grams, rule.transit_days)


def service_levels(card: RateCard, origin: str, destination: str, region: str) -> list[str]:
    """The services offered on a route, cheapest-first order as the card lists them."""
    try:
        zone = zone_for(card, origin, destination, region)
    except NotServed:
        return []
    return [r.service_level for r in card.rules if r.zone == zone]


def _whole(value: Any, where: str) -> int:
    """A whole number as JSON gives it (an int, or a float like 1000.0); never a bool or text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RateCardError(f"{where} must be a number, not {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise RateCardError(f"{where} must be a whole number, not {value!r}")
    return int(value)


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list | tuple):
        raise RateCardError(f"{where} must be a list")
    return list(value)


_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)
_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)


def _country(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
        raise RateCardError(f"{where} must be a two-letter country code such as HK")
    return value


def _rule(r: dict) -> PriceRule:
    where = f"{r.get('service_level')}/{r.get('zone')}"
    breaks = []
    for b in _list(r["breaks"], f"{where} breaks"):
        pair = _list(b, f"{where} weight break")
        if len(pair) != 2:
            raise RateCardError(f"{where}: a weight break is [grams, price]")
        breaks.append(
            WeightBreak(_whole(pair[0], f"{where} grams"), _whole(pair[1], f"{where} price"))
        )
    return PriceRule(
        service_level=str(r["service_level"]),
        zone=str(r["zone"]),
        breaks=tuple(breaks),
        extra_per_kg_minor=_whole(r["extra_per_kg_minor"], f"{where} extra per kg"),
        max_weight_grams=_whole(r["max_weight_grams"], f"{where} max weight"),
        transit_days=_whole(r["transit_days"], f"{where} transit days"),
    )


def _surcharges(s: Any) -> Surcharges:
    if not isinstance(s, dict):
        raise RateCardError("surcharges must be an object")
    return Surcharges(
        fuel_bp=_whole(s.get("fuel_bp", 0), "fuel_bp"),
        remote_area_minor=_whole(s.get("remote_area_minor", 0), "remote_area_minor"),
        remote_regions=frozenset(
            str(x) for x in _list(s.get("remote_regions", []), "remote_regions")
        ),
        oversize_longest_mm=_whole(s.get("oversize_longest_mm", 0), "oversize_longest_mm"),
        oversize_minor=_whole(s.get("oversize_minor", 0), "oversize_minor"),
        volumetric_divisor_cm3_per_kg=_whole(
            s.get("volumetric_divisor_cm3_per_kg", 5000), "volumetric_divisor_cm3_per_kg"
        ),
        insurance_bp=_whole(s.get("insurance_bp", 0), "insurance_bp"),
        insurance_min_minor=_whole(s.get("insurance_min_minor", 0), "insurance_min_minor"),
    )


def parse_rate_card(data: dict[str, Any]) -> RateCard:
    """Read a stored card, refusing one that could produce a wrong or missing price."""
    try:
        zones = tuple(
            ZoneRule(
                _country(z["origin"], "zone origin"),
                _country(z["destination"], "zone destination"),
                str(z.get("region", "*")),
                str(z["zone"]),
            )
            for z in _list(data["zones"], "zones")
        )
        rules = tuple(_rule(r) for r in _list(data["rules"], "rules"))
        card = RateCard(
            str(data["currency"]), zones, rules, _surcharges(data.get("surcharges", {}))
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise RateCardError(f"rate card is incomplete or mistyped: {exc!r}") from None
    except RateCardError as exc:
        raise RateCardError(f"rate card is incomplete or mistyped: {exc}") from None
    _check(card)
    return card


def _check(card: RateCard) -> None:
    if not _CURRENCY.fullmatch(card.currency):
        raise RateCardError("currency must be an ISO 4217 code such as HKD")
    if not card.rules:
        raise RateCardError("a rate card needs at least one price rule")
    routes = [
        (z.origin_country, z.destination_country, z.destination_region.casefold())
        for z in card.zones
    ]
    if len(routes) != len(set(routes)):
        raise RateCardError(
            "two zone rules cover the same route: the zone would depend on their order"
        )
    zone_names = {z.zone for z in card.zones}
    for rule in card.rules:
        where = f"{rule.service_level}/{rule.zone}"
        if rule.zone not in zone_names:
            raise RateCardError(f"{where}: no zone rule leads to zone {rule.zone!r}")
        if not rule.breaks:
            raise RateCardError(f"{where}: needs at least one weight break")
        weights = [b.up_to_grams for b in rule.breaks]
        prices = [b.price_minor for b in rule.breaks]
        if weights != sorted(set(weights)) or weights[0] <= 0:
            raise RateCardError(f"{where}: weight breaks must rise strictly from above 0 g")
        if prices != sorted(prices) or prices[0] < 0:
            raise RateCardError(f"{where}: prices must not fall as weight rises")
        if rule.extra_per_kg_minor < 0 or rule.max_weight_grams <= 0 or rule.transit_days < 0:
            raise RateCardError(
                f"{where}: extra per kg, max weight and transit days must be positive"
            )
    pairs = [(r.service_level, r.zone) for r in card.rules]
    if len(pairs) != len(set(pairs)):
        raise RateCardError("two rules price the same service in the same zone")
    s = card.surcharges
    numbers = (
        s.fuel_bp,
        s.remote_area_minor,
        s.oversize_longest_mm,
        s.oversize_minor,
        s.insurance_bp,
        s.insurance_min_minor,
    )
    if min(numbers) < 0 or s.volumetric_divisor_cm3_per_kg <= 0:
        raise RateCardError("surcharges must not be negative")
