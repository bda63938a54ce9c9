"""The bare baseline for the tracking API: Starlette, a psycopg connection pool, two queries.

    BARE_DATABASE_URL=postgresql://... .venv/bin/granian --interface asgi --port 3201 \\
        bench.bare_tracking_app:app

`GET /api/v1/tracking/{number}` runs the same two queries as
backend.services.tracking (the shipment joined with its tenant and carrier, then
its events newest first, all columns, as the ORM selects them) and answers the
same fields as the product's JSON, with no ORM, no session, no rate limit and no thread pool: what the
product's endpoint would cost if it were nothing but its queries.
"""

from __future__ import annotations

from psycopg.rows import dict_row
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.domain import tracking, tracking_number
from bench.bare_common import bare_app, bare_pool

SHIPMENT_QUERY = """
SELECT shipment.*, tenant.name AS tenant_name, carrier.name AS carrier_name
  FROM shipment
  JOIN tenant ON tenant.id = shipment.tenant_id
  LEFT OUTER JOIN carrier_account ON carrier_account.id = shipment.carrier_account_id
  LEFT OUTER JOIN carrier ON carrier.id = carrier_account.carrier_id
 WHERE shipment.tracking_number = %s
"""
EVENTS_QUERY = """
SELECT * FROM tracking_event
 WHERE shipment_id = %s
 ORDER BY occurred_at DESC, recorded_at DESC
"""
FINAL = {"delivered", "returned", "cancelled"}
STATUS_LABELS = {
    "pending": "Information received",
    "picked_up": "Picked up",
    "in_transit": "In transit",
    "customs": "In customs",
    "out_for_delivery": "Out for delivery",
    "ready_for_pickup": "Ready for pickup",
    "delivery_failed": "Delivery attempt failed",
    "exception": "Exception",
    "returning": "Returning to sender",
    "returned": "Returned to sender",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "unknown": "Status unclear",
}

pool = bare_pool(row_factory=dict_row)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _event(row: dict) -> dict:
    return {
        "occurred_at": row["occurred_at"].isoformat(),
        "local_time": tracking.local_time(row["occurred_at"], row["country"] or "HK").isoformat(),
        "status": row["status"],
        "reason": row["reason"] or None,
        "city": row["city"],
        "country": row["country"],
    }


def _result(shipment: dict, events: list[dict]) -> dict:
    step = tracking.next_step(shipment["status"], shipment["status_reason"])
    return {
        "number": shipment["tracking_number"],
        "outcome": "found",
        "status": shipment["status"],
        "status_label": STATUS_LABELS.get(shipment["status"], shipment["status"]),
        "reason": shipment["status_reason"] or None,
        "next_step": step.value if step else None,
        "carrier": shipment["carrier_name"] or shipment["tenant_name"],
        "service_level": shipment["service_level"],
        "origin_city": shipment["sender_city"],
        "destination_city": shipment["recipient_city"],
        "destination_country": shipment["recipient_country"],
        "eta": None if shipment["status"] in FINAL else _iso(shipment["eta"]),
        "last_update": _iso(shipment["last_event_at"]),
        "events": [_event(row) for row in events],
    }


async def track_one(request: Request) -> JSONResponse:
    number = tracking_number.normalize(request.path_params["number"])[: tracking.MAX_NUMBER_LENGTH]
    if tracking_number.check(number) is not tracking_number.NumberCheck.VALID:
        return JSONResponse({"number": number, "outcome": "malformed"}, status_code=400)
    async with pool.connection() as conn:
        shipment = await (await conn.execute(SHIPMENT_QUERY, (number,))).fetchone()
        if shipment is None:
            return JSONResponse({"number": number, "outcome": "unknown"}, status_code=404)
        events = await (await conn.execute(EVENTS_QUERY, (shipment["id"],))).fetchall()
    return JSONResponse(_result(shipment, events))


app = bare_app(
    [
        Route("/api/v1/tracking/{number}", track_one, methods=["GET"]),
    ],
    pool,
)
