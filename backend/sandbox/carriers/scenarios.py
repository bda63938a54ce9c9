"""Each carrier's raw codes, places and journey scenarios; a number's plan is picked by its hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# A few journeys carry a code that is missing from our adapters' tables on purpose.
UNKNOWN_CODES = {"harbour-post": "ZZ", "pearl-river": "777", "swiftlink": "MYSTERY"}

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "harbour-post": {
        "IR": "Shipment information received",
        "PU": "Picked up",
        "AH": "Arrived at hub",
        "DP": "Departed hub",
        "OD": "Out for delivery",
        "DL": "Delivered",
        "NA": "Delivery attempted: recipient absent",
        "BA": "Delivery failed: bad address",
        "LK": "In locker, ready for pickup",
        "DM": "Damaged in handling",
        "LS": "Lost",
        "WX": "Weather delay",
        "RT": "Returning to sender",
        "RS": "Returned to sender",
        "CA": "Cancelled",
        "ZZ": "Operational update",
    },
    "pearl-river": {
        "100": "Accepted",
        "200": "In transit",
        "300": "Customs declared",
        "310": "Customs hold: documents needed",
        "320": "Duty payable",
        "390": "Customs cleared",
        "400": "Out for delivery",
        "410": "Delivery failed, recipient absent",
        "420": "Held at service point",
        "500": "Delivered",
        "600": "Returning",
        "610": "Returned",
        "900": "Cancelled",
        "777": "Status update",
    },
    "swiftlink": {
        "CREATED": "Created",
        "COLLECTED": "Collected",
        "IN_TRANSIT": "In transit",
        "OUT_FOR_DELIVERY": "Out for delivery",
        "DELIVERED": "Delivered",
        "ATTEMPT_FAILED": "Delivery attempt failed",
        "AT_LOCKER": "At locker",
        "EXCEPTION_DAMAGED": "Damaged",
        "RETURNING": "Returning",
        "RETURNED": "Returned",
        "CANCELLED": "Cancelled",
        "MYSTERY": "Status update",
    },
}

# role -> candidate (city, country); a journey picks one per role by its hash
PLACES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "harbour-post": {
        "origin": [("Kwai Chung", "HK"), ("Tsuen Wan", "HK"), ("Kowloon Bay", "HK")],
        "hub": [("Tsing Yi", "HK"), ("Kwun Tong", "HK")],
        "dest": [("Mong Kok", "HK"), ("Central", "HK"), ("Sha Tin", "HK"), ("Tuen Mun", "HK")],
    },
    "pearl-river": {
        "origin": [("Kwai Chung", "HK"), ("Tsuen Wan", "HK")],
        "border": [("Lok Ma Chau", "HK")],
        "customs": [("Shenzhen", "CN")],
        "hub": [("Dongguan", "CN"), ("Shenzhen", "CN")],
        "dest": [("Guangzhou", "CN"), ("Foshan", "CN"), ("Zhuhai", "CN")],
    },
    "swiftlink": {
        "origin": [("Kowloon Bay", "HK"), ("Kwai Chung", "HK")],
        "hub": [("Tsing Yi", "HK")],
        "dest": [("Mong Kok", "HK"), ("Central", "HK"), ("Wan Chai", "HK"), ("Sha Tin", "HK")],
    },
}

# scenario -> [(code, place role)], in the order a parcel lives them
SCENARIOS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "harbour-post": {
        "delivered": [
            ("IR", "origin"), ("PU", "origin"), ("AH", "hub"), ("DP", "hub"),
            ("OD", "dest"), ("DL", "dest"),
        ],
        "failed_then_delivered": [
            ("IR", "origin"), ("PU", "origin"), ("AH", "hub"), ("DP", "hub"), ("OD", "dest"),
            ("NA", "dest"), ("OD", "dest"), ("DL", "dest"),
        ],
        "locker_pickup": [
            ("IR", "origin"), ("PU", "origin"), ("AH", "hub"), ("DP", "hub"),
            ("LK", "dest"), ("DL", "dest"),
        ],
        "damaged": [
            ("IR", "origin"), ("PU", "origin"), ("AH", "hub"), ("DM", "hub"), ("DP", "hub"),
            ("OD", "dest"), ("DL", "dest"),
        ],
        "returned": [
            ("IR", "origin"), ("PU", "origin"), ("AH", "hub"), ("DP", "hub"), ("OD", "dest"),
            ("BA", "dest"), ("RT", "hub"), ("RS", "origin"),
        ],
    },
    "pearl-river": {
        "delivered": [
            ("100", "origin"), ("200", "border"), ("200", "hub"), ("400", "dest"), ("500", "dest"),
        ],
        "failed_then_delivered": [
            ("100", "origin"), ("200", "border"), ("200", "hub"), ("400", "dest"),
            ("410", "dest"), ("400", "dest"), ("500", "dest"),
        ],
        "locker_pickup": [
            ("100", "origin"), ("200", "border"), ("200", "hub"), ("420", "dest"), ("500", "dest"),
        ],
        "customs_hold": [
            ("100", "origin"), ("200", "border"), ("300", "customs"), ("310", "customs"),
            ("390", "customs"), ("200", "hub"), ("400", "dest"), ("500", "dest"),
        ],
        "returned": [
            ("100", "origin"), ("200", "border"), ("200", "hub"), ("400", "dest"),
            ("410", "dest"), ("600", "hub"), ("610", "origin"),
        ],
    },
    "swiftlink": {
        "delivered": [
            ("CREATED", "origin"), ("COLLECTED", "origin"), ("IN_TRANSIT", "hub"),
            ("OUT_FOR_DELIVERY", "dest"), ("DELIVERED", "dest"),
        ],
        "failed_then_delivered": [
            ("CREATED", "origin"), ("COLLECTED", "origin"), ("IN_TRANSIT", "hub"),
            ("OUT_FOR_DELIVERY", "dest"), ("ATTEMPT_FAILED", "dest"),
            ("OUT_FOR_DELIVERY", "dest"), ("DELIVERED", "dest"),
        ],
        "locker_pickup": [
            ("CREATED", "origin"), ("COLLECTED", "origin"), ("IN_TRANSIT", "hub"),
            ("AT_LOCKER", "dest"), ("DELIVERED", "dest"),
        ],
        "damaged": [
            ("CREATED", "origin"), ("COLLECTED", "origin"), ("IN_TRANSIT", "hub"),
            ("EXCEPTION_DAMAGED", "hub"), ("IN_TRANSIT", "hub"), ("OUT_FOR_DELIVERY", "dest"),
            ("DELIVERED", "dest"),
        ],
        "returned": [
            ("CREATED", "origin"), ("COLLECTED", "origin"), ("IN_TRANSIT", "hub"),
            ("OUT_FOR_DELIVERY", "dest"), ("ATTEMPT_FAILED", "dest"), ("RETURNING", "hub"),
            ("RETURNED", "origin"),
        ],
    },
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    code: str
    description: str
    city: str
    country: str


@dataclass(frozen=True)
class Plan:
    carrier: str
    number: str
    scenario: str
    steps: tuple[Step, ...]

    @property
    def codes(self) -> list[str]:
        return [step.code for step in self.steps]


def plan_for(carrier: str, number: str) -> Plan:
    """The journey a number will live at a carrier: the same plan every time, in every process."""
    digest = hashlib.sha256(f"waybill-sandbox:{number}".encode()).digest()
    names = sorted(SCENARIOS[carrier])
    scenario = names[digest[0] % len(names)]
    route = list(SCENARIOS[carrier][scenario])
    if carrier == "pearl-river" and scenario == "customs_hold" and digest[1] % 2:
        route.insert(route.index(("390", "customs")), ("320", "customs"))  # duty to pay, too
    if carrier == "harbour-post" and digest[2] % 5 == 0:
        route.insert(3, ("WX", "hub"))
    if digest[3] % 4 == 0:  # about one journey in four meets a code our tables lack
        route.insert(2, (UNKNOWN_CODES[carrier], "hub"))
    places = {
        role: options[digest[8 + i] % len(options)]
        for i, (role, options) in enumerate(sorted(PLACES[carrier].items()))
    }
    steps = tuple(Step(code, DESCRIPTIONS[carrier][code], *places[role]) for code, role in route)
    return Plan(carrier, number, scenario, steps)
