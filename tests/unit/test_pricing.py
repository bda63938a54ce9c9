"""Rate cards: zones, weight breaks, volumetric weight, surcharges, and refusing a card that does not add up.

Prices are checked against the two demo cards (Harbour Express: HK local; Dragon Gate:
HK to the mainland and Macau) so that a change to either the card or the arithmetic shows.
"""

from __future__ import annotations

import copy

import pytest

from backend.domain.pricing import (
    NotServed,
    ParcelSize,
    Quote,
    RateCard,
    RateCardError,
    Surcharges,
    basis_points,
    chargeable_grams,
    parse_rate_card,
    quote,
    service_levels,
    zone_for,
)
from backend.services.demo_commerce import DRAGON_RATES, HARBOUR_RATES

HARBOUR = parse_rate_card(HARBOUR_RATES)
DRAGON = parse_rate_card(DRAGON_RATES)


def small(grams: int) -> ParcelSize:
    """A parcel too small for its volume to matter (1 cm³): its actual weight is charged."""
    return ParcelSize(grams, 10, 10, 10)


def box_cm(grams: int, length: float, width: float, height: float) -> ParcelSize:
    return ParcelSize(grams, round(length * 10), round(width * 10), round(height * 10))


def harbour(parcels, *, service="economy", region="Wan Chai", **kw) -> Quote:
    return quote(
        HARBOUR,
        service_level=service,
        origin="HK",
        destination="HK",
        region=region,
        parcels=parcels,
        **kw,
    )


def dragon(parcels, *, service="standard", destination="CN", region="Shenzhen", **kw) -> Quote:
    return quote(
        DRAGON,
        service_level=service,
        origin="HK",
        destination=destination,
        region=region,
        parcels=parcels,
        **kw,
    )


def lines(q: Quote) -> dict[str, int]:
    return {line.code: line.amount_minor for line in q.lines}


def card_data(**surcharges) -> dict:
    """A one-zone, one-rule card with only the surcharges given."""
    return {
        "currency": "HKD",
        "zones": [{"origin": "HK", "destination": "HK", "region": "*", "zone": "local"}],
        "rules": [
            {
                "service_level": "standard",
                "zone": "local",
                "breaks": [[1000, 2499], [3000, 4000]],
                "extra_per_kg_minor": 1000,
                "max_weight_grams": 30000,
                "transit_days": 1,
            }
        ],
        "surcharges": surcharges,
    }


def local_quote(card: RateCard, parcels, **kw) -> Quote:
    return quote(
        card,
        service_level="standard",
        origin="HK",
        destination="HK",
        region="Central",
        parcels=parcels,
        **kw,
    )


# -- the demo cards --------------------------------------------------------------------------


def test_both_demo_cards_parse():
    assert HARBOUR.currency == DRAGON.currency == "HKD"
    assert [r.service_level for r in HARBOUR.rules] == ["economy", "standard", "express"]
    assert {r.zone for r in DRAGON.rules} == {"greater_bay", "mainland", "macau"}
    assert HARBOUR.surcharges.remote_regions == frozenset(
        {"Lantau Island", "Cheung Chau", "Lamma Island", "Peng Chau", "Tai O"}
    )
    assert DRAGON.surcharges.volumetric_divisor_cm3_per_kg == 6000
    assert DRAGON.surcharges.remote_area_minor == 0


def test_parsing_leaves_the_stored_card_untouched():
    before = copy.deepcopy(DRAGON_RATES)
    parse_rate_card(DRAGON_RATES)
    assert before == DRAGON_RATES


# -- weight breaks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grams", "freight"),
    [
        (1, 2500),
        (1000, 2500),  # at the first break
        (1001, 3200),  # just above it
        (3000, 3200),
        (3001, 3900),
        (5000, 3900),  # at the last break
        (5001, 4400),  # one started kilogram above it
        (6000, 4400),
        (6001, 4900),  # a second started kilogram
        (30000, 3900 + 25 * 500),  # the heaviest parcel economy takes
    ],
)
def test_harbour_economy_weight_breaks(grams, freight):
    assert lines(harbour([small(grams)]))["freight"] == freight


@pytest.mark.parametrize(
    ("grams", "freight"),
    [
        (1000, 9000),
        (1001, 12000),
        (3000, 12000),
        (3001, 14500),
        (4000, 14500),
        (4001, 17000),
        (20000, 12000 + 17 * 2500),
    ],
)
def test_dragon_greater_bay_express_weight_breaks(grams, freight):
    assert lines(dragon([small(grams)], service="express"))["freight"] == freight


def _every_break_edge():
    for name, raw, card in (("harbour", HARBOUR_RATES, HARBOUR), ("dragon", DRAGON_RATES, DRAGON)):
        for rule in raw["rules"]:
            breaks = rule["breaks"]
            for i, (up_to, price) in enumerate(breaks):
                above = (
                    breaks[i + 1][1] if i + 1 < len(breaks) else price + rule["extra_per_kg_minor"]
                )
                rid = f"{name}-{rule['service_level']}-{rule['zone']}-{up_to}g"
                yield pytest.param(
                    card, rule["service_level"], rule["zone"], up_to, price, above, id=rid
                )


@pytest.mark.parametrize(
    ("card", "service", "zone", "up_to", "at", "above"), list(_every_break_edge())
)
def test_every_demo_break_charges_its_price_at_the_break_and_the_next_one_a_gram_above(
    card, service, zone, up_to, at, above
):
    region = {
        "local": "Wan Chai",
        "greater_bay": "Shenzhen",
        "mainland": "Beijing",
        "macau": "Taipa",
    }[zone]
    destination = {"local": "HK", "macau": "MO"}.get(zone, "CN")

    def freight(grams):
        q = quote(
            card,
            service_level=service,
            origin="HK",
            destination=destination,
            region=region,
            parcels=[small(grams)],
        )
        assert q.zone == zone
        return lines(q)["freight"]

    assert freight(up_to) == at
    assert freight(up_to + 1) == above


def test_each_parcel_is_priced_on_its_own_weight_not_the_total():
    q = harbour([small(1000), small(1000)])
    assert lines(q)["freight"] == 2 * 2500  # not the 2 kg price (3200)
    assert q.chargeable_grams == 2000
    assert q.lines[0].detail == "2|2000"


def test_the_heaviest_parcel_a_service_takes_is_priced_and_a_gram_more_is_too_heavy():
    assert harbour([small(20000)], service="express").transit_days == 0
    with pytest.raises(NotServed) as refused:
        harbour([small(20001)], service="express")
    assert refused.value.code == "parcel_too_heavy"


def test_one_parcel_too_heavy_refuses_the_whole_order():
    with pytest.raises(NotServed) as refused:
        harbour([small(1000), small(30001), small(500)])
    assert refused.value.code == "parcel_too_heavy"


def test_an_order_without_parcels_is_not_priced():
    with pytest.raises(NotServed) as refused:
        harbour([])
    assert refused.value.code == "parcels_required"


# -- volumetric weight -----------------------------------------------------------------------


def test_volumetric_weight_wins_for_a_light_bulky_parcel():
    bulky = box_cm(500, 40, 30, 20)  # 24 000 cm³ / 5000 = 4.8 kg
    assert chargeable_grams(bulky, 5000) == 4800
    q = harbour([bulky])
    assert q.chargeable_grams == 4800
    assert lines(q)["freight"] == 3900


def test_actual_weight_wins_for_a_small_heavy_parcel():
    heavy = box_cm(2000, 10, 10, 10)  # 1000 cm³ / 5000 = 0.2 kg
    assert chargeable_grams(heavy, 5000) == 2000
    assert harbour([heavy]).chargeable_grams == 2000


def test_a_started_gram_of_volumetric_weight_is_charged():
    assert chargeable_grams(ParcelSize(0, 10, 10, 10), 5000) == 1  # 1 cm³ = 0.2 g


def test_dragon_divides_volume_by_6000_so_a_tenth_of_a_millimetre_tips_the_break():
    exactly_one_kg = box_cm(100, 30, 20, 10)  # 6000 cm³ / 6000 = 1.000 kg
    assert dragon([exactly_one_kg]).chargeable_grams == 1000
    assert lines(dragon([exactly_one_kg]))["freight"] == 6000
    a_bit_taller = ParcelSize(100, 300, 200, 101)  # 6060 cm³ = 1.010 kg
    assert dragon([a_bit_taller]).chargeable_grams == 1010
    assert lines(dragon([a_bit_taller]))["freight"] == 8500


def test_a_light_parcel_too_bulky_for_the_service_is_too_heavy():
    with pytest.raises(NotServed) as refused:
        harbour([box_cm(1000, 100, 50, 50)], service="express")  # 50 kg volumetric
    assert refused.value.code == "parcel_too_heavy"


def test_volumetric_weight_is_exact_for_any_divisor():
    assert chargeable_grams(ParcelSize(0, 77, 33, 101), 3333) == 77


# -- fuel, remote area, oversize, insurance --------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "bp", "expected"),
    [
        (2500, 850, 213),  # 212.5 rounds up
        (2499, 850, 212),  # 212.415 rounds down
        (1, 5000, 1),  # 0.5 rounds up
        (1, 4999, 0),
        (5000, 1, 1),
        (4999, 1, 0),
        (0, 850, 0),
        (10_000, 10_000, 10_000),
    ],
)
def test_basis_points_round_half_up_to_the_minor_unit(amount, bp, expected):
    assert basis_points(amount, bp) == expected


def test_fuel_is_a_percentage_of_the_freight_rounded_half_up():
    q = harbour([small(1000)])  # freight 2500 × 8.5 % = 212.5
    assert lines(q)["fuel"] == 213
    assert [line.code for line in q.lines] == ["freight", "fuel"]
    assert q.total_minor == 2713


def test_fuel_rounds_down_below_half_a_minor_unit():
    card = parse_rate_card(card_data(fuel_bp=850))
    assert lines(local_quote(card, [small(1000)]))["fuel"] == 212  # 2499 × 8.5 % = 212.415


def test_fuel_is_charged_on_the_freight_only():
    q = harbour(
        [box_cm(500, 101, 10, 10), small(1000)],
        region="Tai O",
        declared_value_minor=500_000,
        insured=True,
    )
    got = lines(q)
    assert set(got) == {"freight", "fuel", "remote_area", "oversize", "insurance"}
    assert got["fuel"] == basis_points(got["freight"], 850)


def test_a_card_without_surcharges_quotes_freight_alone():
    q = local_quote(
        parse_rate_card(card_data()), [small(1000)], declared_value_minor=10_000, insured=True
    )
    assert [line.code for line in q.lines] == ["freight"]


@pytest.mark.parametrize("region", ["Tai O", "tai o", "  TAI O  ", "Lamma Island"])
def test_a_remote_region_pays_the_remote_area_surcharge_once_per_order(region):
    q = harbour([small(1000), small(2000), small(4000)], region=region)
    assert lines(q)["remote_area"] == 3000
    assert [line.code for line in q.lines].count("remote_area") == 1


def test_a_region_near_a_remote_one_pays_no_remote_surcharge():
    assert "remote_area" not in lines(harbour([small(1000)], region="Tai Po"))


def test_a_card_without_remote_regions_never_charges_one():
    assert "remote_area" not in lines(dragon([small(1000)], region="Tai O"))


def test_a_parcel_exactly_at_the_oversize_limit_is_not_oversize():
    assert "oversize" not in lines(harbour([ParcelSize(500, 1000, 100, 100)]))


@pytest.mark.parametrize(
    "parcel",
    [
        ParcelSize(500, 1001, 100, 100),
        ParcelSize(500, 100, 1001, 100),
        ParcelSize(500, 100, 100, 1001),
    ],
    ids=["length", "width", "height"],
)
def test_a_parcel_whose_longest_side_exceeds_the_limit_is_oversize(parcel):
    q = harbour([parcel])
    assert lines(q)["oversize"] == 5000
    assert q.lines[-1].detail == "1"


def test_each_oversize_parcel_pays_the_surcharge():
    long_one = ParcelSize(500, 1200, 100, 100)
    q = dragon([long_one, small(500), long_one])
    assert lines(q)["oversize"] == 2 * 8000
    assert next(line for line in q.lines if line.code == "oversize").detail == "2"


@pytest.mark.parametrize(
    ("declared", "premium"),
    [
        (50_000, 1000),  # 1 % of 500.00 is 5.00: the minimum applies
        (100_000, 1000),  # 10.00 exactly
        (250_049, 2500),  # 25.0049 rounds down
        (250_050, 2501),  # 25.005 rounds up
    ],
)
def test_insurance_is_a_percentage_of_the_declared_value_with_a_minimum(declared, premium):
    q = harbour([small(1000)], declared_value_minor=declared, insured=True)
    assert lines(q)["insurance"] == premium
    assert q.lines[-1].detail == str(declared)


def test_dragon_insurance_uses_its_own_rate_and_minimum():
    assert (
        lines(dragon([small(1000)], declared_value_minor=1_000_000, insured=True))["insurance"]
        == 15_000
    )
    assert (
        lines(dragon([small(1000)], declared_value_minor=10_000, insured=True))["insurance"] == 2000
    )


def test_an_uninsured_order_or_one_declaring_nothing_pays_no_insurance():
    assert "insurance" not in lines(harbour([small(1000)], declared_value_minor=500_000))
    assert "insurance" not in lines(harbour([small(1000)], declared_value_minor=0, insured=True))


def test_the_quote_as_a_dict_carries_every_line_and_the_total():
    q = harbour([small(1000)], region="Cheung Chau")
    data = q.as_dict()
    assert data == {
        "service_level": "economy",
        "zone": "local",
        "currency": "HKD",
        "lines": [
            {"code": "freight", "amount_minor": 2500, "detail": "1|1000"},
            {"code": "fuel", "amount_minor": 213, "detail": "850"},
            {"code": "remote_area", "amount_minor": 3000, "detail": "Cheung Chau"},
        ],
        "chargeable_grams": 1000,
        "transit_days": 3,
        "total_minor": 2500 + 213 + 3000,
    }


# -- zones and services ----------------------------------------------------------------------


@pytest.mark.parametrize("region", ["Shenzhen", "SHENZHEN", "  shenzhen ", "Zhuhai", "huizhou"])
def test_a_greater_bay_city_is_in_the_greater_bay_zone_whatever_its_case(region):
    assert zone_for(DRAGON, "HK", "CN", region) == "greater_bay"


@pytest.mark.parametrize("region", ["Beijing", "Shanghai", "Shenzhen Bay", ""])
def test_the_rest_of_the_mainland_falls_to_the_country_wildcard(region):
    assert zone_for(DRAGON, "HK", "CN", region) == "mainland"


def test_an_exact_region_beats_the_wildcard_listed_before_it():
    data = card_data()
    data["zones"] = [
        {"origin": "HK", "destination": "CN", "region": "*", "zone": "mainland"},
        {"origin": "HK", "destination": "CN", "region": "Shenzhen", "zone": "local"},
    ]
    card = parse_rate_card(data)
    assert zone_for(card, "HK", "CN", "shenzhen") == "local"
    assert zone_for(card, "HK", "CN", "Wuhan") == "mainland"


def test_a_zone_rule_without_a_region_covers_the_whole_country():
    data = card_data()
    del data["zones"][0]["region"]
    card = parse_rate_card(data)
    assert card.zones[0].destination_region == "*"
    assert zone_for(card, "HK", "HK", "Sai Kung") == "local"


@pytest.mark.parametrize(
    ("card", "origin", "destination"),
    [
        (HARBOUR, "HK", "CN"),
        (HARBOUR, "MO", "HK"),
        (DRAGON, "HK", "HK"),
        (DRAGON, "MO", "CN"),
        (DRAGON, "HK", "TW"),
    ],
)
def test_an_unknown_route_is_not_served(card, origin, destination):
    with pytest.raises(NotServed) as refused:
        zone_for(card, origin, destination, "Anywhere")
    assert refused.value.code == "destination_not_served"
    with pytest.raises(NotServed) as refused:
        quote(
            card,
            service_level="standard",
            origin=origin,
            destination=destination,
            region="Anywhere",
            parcels=[small(1000)],
        )
    assert refused.value.code == "destination_not_served"


def test_a_card_with_only_exact_regions_does_not_serve_other_cities():
    data = card_data()
    data["zones"] = [{"origin": "HK", "destination": "CN", "region": "Shenzhen", "zone": "local"}]
    with pytest.raises(NotServed, match="destination_not_served"):
        zone_for(parse_rate_card(data), "HK", "CN", "Guangzhou")


@pytest.mark.parametrize(
    ("service", "region"),
    [("express", "Beijing"), ("economy", "Shenzhen")],
)
def test_a_service_the_zone_does_not_offer_is_refused(service, region):
    with pytest.raises(NotServed) as refused:
        dragon([small(1000)], service=service, region=region)
    assert refused.value.code == "service_not_offered"


def test_macau_gets_standard_only():
    assert dragon([small(1000)], destination="MO", region="Taipa").zone == "macau"
    with pytest.raises(NotServed, match="service_not_offered"):
        dragon([small(1000)], service="express", destination="MO", region="Taipa")


def test_the_services_of_a_route_come_in_the_cards_order():
    assert service_levels(HARBOUR, "HK", "HK", "Mong Kok") == ["economy", "standard", "express"]
    assert service_levels(DRAGON, "HK", "CN", "Foshan") == ["standard", "express"]
    assert service_levels(DRAGON, "HK", "CN", "Chengdu") == ["standard"]
    assert service_levels(DRAGON, "HK", "MO", "Coloane") == ["standard"]


def test_an_unserved_route_offers_no_services():
    assert service_levels(HARBOUR, "HK", "CN", "Shenzhen") == []


def test_transit_days_come_from_the_rule():
    assert dragon([small(1000)]).transit_days == 3
    assert dragon([small(1000)], region="Kunming").transit_days == 5
    assert harbour([small(1000)], service="standard").transit_days == 1


# -- refusing bad cards ----------------------------------------------------------------------


def without(path: tuple) -> dict:
    data = copy.deepcopy(HARBOUR_RATES)
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return data


def changed(path: tuple, value) -> dict:
    data = copy.deepcopy(HARBOUR_RATES)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


MISSING = [
    ("currency",),
    ("zones",),
    ("rules",),
    ("zones", 0, "origin"),
    ("zones", 0, "destination"),
    ("zones", 0, "zone"),
    ("rules", 1, "service_level"),
    ("rules", 1, "zone"),
    ("rules", 1, "breaks"),
    ("rules", 1, "extra_per_kg_minor"),
    ("rules", 1, "max_weight_grams"),
    ("rules", 1, "transit_days"),
]


@pytest.mark.parametrize("path", MISSING, ids=["/".join(map(str, p)) for p in MISSING])
def test_a_card_missing_a_required_key_is_refused(path):
    with pytest.raises(RateCardError, match="incomplete or mistyped"):
        parse_rate_card(without(path))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("rules", 0, "extra_per_kg_minor"), "five hundred"),
        (("rules", 0, "breaks"), [[1000]]),
        (("rules", 0, "breaks"), [["1 kg", 2500]]),
        (("rules", 0, "breaks"), 1000),
        (("rules", 0, "max_weight_grams"), None),
        (("surcharges", "fuel_bp"), "8.5%"),
        (("zones",), None),
        (("zones",), ["HK"]),
        (("rules",), [None]),
    ],
    ids=[
        "extra_not_a_number",
        "break_without_price",
        "break_weight_not_a_number",
        "breaks_not_a_list",
        "max_weight_null",
        "fuel_not_a_number",
        "zones_null",
        "zone_not_an_object",
        "rule_null",
    ],
)
def test_a_mistyped_card_is_refused(path, value):
    with pytest.raises(RateCardError, match="incomplete or mistyped"):
        parse_rate_card(changed(path, value))


@pytest.mark.parametrize("data", [None, [], "HKD", {}])
def test_something_that_is_not_a_card_is_refused(data):
    with pytest.raises(RateCardError):
        parse_rate_card(data)


def test_prices_falling_as_weight_rises_are_refused():
    with pytest.raises(RateCardError, match="economy/local: prices must not fall"):
        parse_rate_card(changed(("rules", 0, "breaks"), [[1000, 2500], [3000, 2400]]))


def test_equal_prices_for_two_breaks_are_allowed():
    parse_rate_card(changed(("rules", 0, "breaks"), [[1000, 2500], [3000, 2500]]))


def test_a_negative_price_is_refused():
    with pytest.raises(RateCardError, match="prices must not fall"):
        parse_rate_card(changed(("rules", 0, "breaks"), [[1000, -1], [3000, 2500]]))


@pytest.mark.parametrize(
    "breaks",
    [
        [[3000, 2500], [1000, 3200]],
        [[1000, 2500], [1000, 3200]],
        [[0, 2500], [1000, 3200]],
        [[-500, 2500], [1000, 3200]],
    ],
    ids=["unsorted", "repeated_weight", "zero_grams", "negative_grams"],
)
def test_breaks_that_do_not_rise_strictly_from_above_zero_are_refused(breaks):
    with pytest.raises(RateCardError, match="economy/local: weight breaks must rise strictly"):
        parse_rate_card(changed(("rules", 0, "breaks"), breaks))


def test_a_rule_without_breaks_is_refused():
    with pytest.raises(RateCardError, match="at least one weight break"):
        parse_rate_card(changed(("rules", 2, "breaks"), []))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("extra_per_kg_minor", -1),
        ("max_weight_grams", 0),
        ("max_weight_grams", -1),
        ("transit_days", -1),
    ],
)
def test_negative_extras_weights_or_transit_days_are_refused(key, value):
    with pytest.raises(RateCardError, match="must be positive"):
        parse_rate_card(changed(("rules", 0, key), value))


def test_a_rule_for_a_zone_no_route_leads_to_is_refused():
    with pytest.raises(RateCardError, match="no zone rule leads to zone 'islands'"):
        parse_rate_card(changed(("rules", 0, "zone"), "islands"))


def test_two_rules_for_the_same_service_and_zone_are_refused():
    data = copy.deepcopy(HARBOUR_RATES)
    data["rules"].append(copy.deepcopy(data["rules"][0]))
    with pytest.raises(RateCardError, match="same service in the same zone"):
        parse_rate_card(data)


@pytest.mark.parametrize(
    "key",
    [
        "fuel_bp",
        "remote_area_minor",
        "oversize_longest_mm",
        "oversize_minor",
        "insurance_bp",
        "insurance_min_minor",
    ],
)
def test_a_negative_surcharge_is_refused(key):
    with pytest.raises(RateCardError, match="surcharges must not be negative"):
        parse_rate_card(changed(("surcharges", key), -1))


@pytest.mark.parametrize("divisor", [0, -5000])
def test_a_volumetric_divisor_that_is_not_positive_is_refused(divisor):
    with pytest.raises(RateCardError, match="surcharges must not be negative"):
        parse_rate_card(changed(("surcharges", "volumetric_divisor_cm3_per_kg"), divisor))


def test_a_card_may_leave_out_its_surcharges():
    card = parse_rate_card(without(("surcharges",)))
    assert card.surcharges == Surcharges()
    assert card.surcharges.volumetric_divisor_cm3_per_kg == 5000


@pytest.mark.parametrize("currency", ["hkd", "HK", "HKDD", "", None, "Hkd"])
def test_a_currency_that_is_not_three_capital_letters_is_refused(currency):
    with pytest.raises(RateCardError, match="ISO 4217"):
        parse_rate_card(changed(("currency",), currency))


@pytest.mark.parametrize("currency", ["HK1", "HK$"])
def test_a_currency_with_a_digit_or_symbol_is_refused(currency):
    with pytest.raises(RateCardError):
        parse_rate_card(changed(("currency",), currency))


@pytest.mark.parametrize("surcharges", [None, []], ids=["null", "list"])
def test_surcharges_that_are_not_an_object_are_refused(surcharges):
    with pytest.raises(RateCardError):
        parse_rate_card(changed(("surcharges",), surcharges))


def test_remote_regions_given_as_one_string_are_refused():
    with pytest.raises(RateCardError):
        parse_rate_card(changed(("surcharges", "remote_regions"), "Tai O"))


def test_breaks_given_as_strings_are_refused():
    with pytest.raises(RateCardError):
        parse_rate_card(changed(("rules", 0, "breaks"), ["12", "34"]))


def test_two_zone_rules_for_the_same_route_and_region_are_refused():
    data = copy.deepcopy(DRAGON_RATES)
    data["zones"].append(
        {"origin": "HK", "destination": "CN", "region": "*", "zone": "greater_bay"}
    )
    with pytest.raises(RateCardError):
        parse_rate_card(data)
