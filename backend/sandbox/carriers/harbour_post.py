"""Harbour Post's side: JSON batch tracking (up to 40 numbers), quotes and bookings, 10 req/s per key."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.domain import tracking_number
from backend.sandbox.carriers.formats import harbour_post_event_id, utc_iso
from backend.sandbox.carriers.gate import (
    BadInput,
    carrier_endpoint,
    json_object,
    positive_int,
    read_json,
)
from backend.sandbox.carriers.numbers import harbour_post_knows, normalized
from backend.sandbox.carriers.state import Sandbox

CARRIER = "harbour-post"
MAX_NUMBERS = 40
CURRENCY = "HKD"
MAX_WEIGHT_GRAMS = 30_000
MAX_SIDE_MM = 1200
# service level -> (base, per started kg, transit days): the demo's own price lanes, HK to HK
SERVICES = {"standard": (2000, 3500, 1), "express": (3500, 5000, 0)}
SERVED_REGIONS = {"HK"}
HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def render_error(status: int, code: str, headers: dict[str, str] | None, detail: str) -> Response:
    body = {"error": code, **({"detail": detail} if detail else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(sandbox: Sandbox) -> Starlette:
    endpoint = carrier_endpoint(sandbox, CARRIER, "X-Api-Key", render_error)
    rng = random.Random(sandbox.settings.seed)
    bookings: dict[tuple[str, str], dict] = {}  # (api key, Idempotency-Key) -> the answer
    issued: set[str] = set()

    @endpoint
    async def track(request: Request, api_key: str, account: dict) -> Response:
        body = json_object(await read_json(request))
        numbers = body.get("numbers")
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise BadInput("bad_request", detail="numbers must be a list of strings")
        if len(numbers) > MAX_NUMBERS:
            raise BadInput("too_many_numbers")
        if not numbers:
            raise BadInput("bad_request", detail="numbers must hold 1 to 40 numbers")
        now = sandbox.journeys.clock()
        results = []
        for number in numbers:
            if not harbour_post_knows(number):
                results.append({"number": number, "found": False, "events": []})
                continue
            key = normalized(number)
            journey = sandbox.journeys.start(CARRIER, key, now)
            events = [
                {
                    "id": harbour_post_event_id(key, event.index),
                    "code": event.step.code,
                    "time": utc_iso(event.at),
                    "location": {"city": event.step.city, "country": event.step.country},
                    "description": event.step.description,
                }
                for event in journey.events(now)
            ]
            results.append({"number": number, "found": True, "events": events})
        return JSONResponse({"results": results})

    @endpoint
    async def quotes(request: Request, api_key: str, account: dict) -> Response:
        body = json_object(await read_json(request))
        weight, sides = _parcel(body)
        origin, destination = _region(body.get("origin")), _region(body.get("destination"))
        served = origin in SERVED_REGIONS and destination in SERVED_REGIONS
        if not served or weight > MAX_WEIGHT_GRAMS or max(sides) > MAX_SIDE_MM:
            return JSONResponse({"quotes": []})
        # priced per started kilogram of the greater of actual and volumetric (L*W*H/5000 cm3) weight
        kilos = math.ceil(max(weight, math.prod(sides) / 5000) / 1000)
        return JSONResponse(
            {
                "quotes": [
                    {
                        "service_level": level,
                        "amount_minor": base + per_kg * kilos,
                        "currency": CURRENCY,
                        "transit_days": days,
                    }
                    for level, (base, per_kg, days) in SERVICES.items()
                ]
            }
        )

    @endpoint
    async def book(request: Request, api_key: str, account: dict) -> Response:
        idempotency_key = request.headers.get("Idempotency-Key", "")[:200]
        if idempotency_key and (api_key, idempotency_key) in bookings:
            return JSONResponse(bookings[(api_key, idempotency_key)], status_code=201)
        body = json_object(await read_json(request))
        weight, sides = _parcel(json_object(body.get("parcel"), "parcel"))
        for party in ("sender", "recipient"):
            if not json_object(body.get(party), party):
                raise BadInput("bad_request", detail=f"{party} must not be empty")
        level = body.get("service_level")
        if level not in SERVICES:
            raise BadInput("unknown_service_level", detail=f"one of {', '.join(SERVICES)}")
        if weight > MAX_WEIGHT_GRAMS or max(sides) > MAX_SIDE_MM:
            raise BadInput("parcel_not_accepted", detail="at most 30 kg and 1200 mm a side")
        number = tracking_number.make("HP", rng.randrange(10_000_000, 99_000_000))
        while number in issued:
            number = tracking_number.make("HP", rng.randrange(10_000_000, 99_000_000))
        issued.add(number)
        sandbox.journeys.start(CARRIER, number)
        local_today = datetime.now(HONG_KONG).date()
        answer = {
            "reference": f"HPB-{number[2:10]}",
            "tracking_number": number,
            "estimated_delivery": (local_today + timedelta(days=SERVICES[level][2])).isoformat(),
        }
        if idempotency_key:
            bookings[(api_key, idempotency_key)] = answer
        return JSONResponse(answer, status_code=201)

    return Starlette(
        routes=[
            Route("/v1/track", track, methods=["POST"]),
            Route("/v1/quotes", quotes, methods=["POST"]),
            Route("/v1/bookings", book, methods=["POST"]),
        ]
    )


def _parcel(body: dict) -> tuple[int, tuple[int, int, int]]:
    weight = positive_int(body, "weight_grams")
    sides = tuple(positive_int(body, name) for name in ("length_mm", "width_mm", "height_mm"))
    return weight, sides  # type: ignore[return-value]


def _region(value: object) -> str:
    """A region code, given as "HK" or as an address object with a "country"."""
    if isinstance(value, dict):
        value = value.get("country")
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 64:
        raise BadInput("bad_request", detail="origin and destination are region codes like HK")
    return value.strip().upper()
