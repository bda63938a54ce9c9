"""Public tracking JSON API: one number or a batch, a second factor for the recipient, OpenAPI 3.1.

GET /api/v1/tracking/{number}[?verify=…]  200 | 400 | 403 | 404 | 429
GET /api/v1/tracking?numbers=A,B,C        200 | 400 | 429
GET /api/v1/openapi.json                  the OpenAPI document, built from the models below

Without a second factor no response carries personal data: status, timeline and
city-level places only. The same pydantic models serialize the responses and
produce the schemas in the OpenAPI document, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema, models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.api.clients import client_identity
from backend.domain import tracking as rules
from backend.domain.statuses import ShipmentStatus
from backend.services import tracking
from backend.services.errors import NotFound, RateLimited, ValidationFailed

MAX_VERIFY_LENGTH = 20
# Room for 20 numbers of 40 characters with a separator and a space each.
MAX_NUMBERS_PARAM_LENGTH = rules.MAX_NUMBERS_PER_LOOKUP * (rules.MAX_NUMBER_LENGTH + 2)

# The same English words as the portal's catalogue (tests keep the two in step).
STATUS_LABELS = {
    ShipmentStatus.PENDING: "Information received",
    ShipmentStatus.PICKED_UP: "Picked up",
    ShipmentStatus.IN_TRANSIT: "In transit",
    ShipmentStatus.CUSTOMS: "In customs",
    ShipmentStatus.OUT_FOR_DELIVERY: "Out for delivery",
    ShipmentStatus.READY_FOR_PICKUP: "Ready for pickup",
    ShipmentStatus.DELIVERY_FAILED: "Delivery attempt failed",
    ShipmentStatus.EXCEPTION: "Exception",
    ShipmentStatus.RETURNING: "Returning to sender",
    ShipmentStatus.RETURNED: "Returned to sender",
    ShipmentStatus.DELIVERED: "Delivered",
    ShipmentStatus.CANCELLED: "Cancelled",
    ShipmentStatus.UNKNOWN: "Status unclear",
}

_REASON_EXAMPLES = [reason.value for reason in rules.Reason]


# ---- response models: they serialize the bodies and are the OpenAPI schemas ----


def _optional(description: str) -> Any:
    """A field left out of the body when it does not apply (not sent as null)."""

    def drop_default(schema: dict[str, Any]) -> None:
        schema.pop("default", None)  # "default": null would contradict the field's type

    return Field(default=None, description=description, json_schema_extra=drop_default)


class TrackingEvent(BaseModel):
    """One step of the timeline; the place is a city, never an address."""

    occurred_at: datetime = Field(description="When it happened, in UTC.")
    local_time: datetime = Field(description="The same moment on the clock of the place.")
    status: ShipmentStatus
    reason: str | None = Field(
        description="Why, when a carrier said so.", examples=_REASON_EXAMPLES
    )
    city: str
    country: str = Field(description="ISO 3166-1 alpha-2 country code, or empty.")


class Recipient(BaseModel):
    """The recipient's details: only after a correct second factor."""

    name: str
    phone: str
    address: str
    city: str
    postcode: str
    country: str


class FoundResult(BaseModel):
    """A shipment we know, as a stranger with its number may see it."""

    number: str
    outcome: Literal["found"]
    status: ShipmentStatus
    status_label: str = Field(description="The status in English words.")
    reason: str | None = Field(
        description="Why the parcel stopped or went wrong, if it did.", examples=_REASON_EXAMPLES
    )
    next_step: rules.NextStep | None = Field(description="What the customer can do now, if any.")
    carrier: str
    service_level: str
    origin_city: str
    destination_city: str
    destination_country: str
    eta: date | None = Field(description="Estimated delivery date; null when unknown or final.")
    last_update: datetime | None = Field(description="Time of the latest event, in UTC.")
    events: list[TrackingEvent] = Field(description="The timeline, newest first.")


class UnknownResult(BaseModel):
    """A well-formed number that no shipment has."""

    number: str
    outcome: Literal["unknown"]


class MalformedResult(BaseModel):
    """Not a tracking number: a wrong check digit, or a layout no carrier claims."""

    number: str
    outcome: Literal["malformed"]


class TrackingResponse(FoundResult):
    """GET /api/v1/tracking/{number}: a found shipment, with the recipient after a second factor."""

    # Absent (not null) unless `verify` was correct; SkipJsonSchema keeps null out of the schema.
    recipient: Recipient | SkipJsonSchema[None] = _optional(
        "Only present when the `verify` factor was correct."
    )


BatchResult = Annotated[
    FoundResult | UnknownResult | MalformedResult, Field(discriminator="outcome")
]


class BatchResponse(BaseModel):
    """GET /api/v1/tracking?numbers=…: one result per distinct number, in the order asked."""

    results: list[BatchResult]


class ErrorBody(BaseModel):
    """Every error response; `error` is the machine-readable code."""

    error: Literal["invalid_request", "malformed", "unknown", "verification_failed", "rate_limited"]
    message: str
    number: str | SkipJsonSchema[None] = _optional("The number, as checked.")
    fields: dict[str, str] | SkipJsonSchema[None] = _optional(
        "For invalid_request: parameter -> problem code."
    )
    retry_after: int | SkipJsonSchema[None] = _optional(
        "For rate_limited: seconds to wait (as in Retry-After)."
    )


# ---- responses ----


def _json(model: BaseModel, status_code: int = 200, *, personal: bool = False) -> Response:
    # Parts that do not apply are left out: an error's unused extras, an unverified recipient.
    exclude = {"recipient"} if getattr(model, "recipient", True) is None else None
    body = model.model_dump_json(exclude=exclude, exclude_none=isinstance(model, ErrorBody))
    # Escaping <, > and & keeps echoed input inert even if something renders the body as
    # HTML; in JSON they only occur inside strings, so the document means the same.
    escaped = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(
        escaped.encode(),
        status_code=status_code,
        media_type="application/json",
        headers={
            # Personal data must stay in no cache; the rest may be kept but must be re-asked.
            "Cache-Control": "no-store" if personal else "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _error(
    status_code: int, error: str, message: str, *, personal: bool = False, **extra: Any
) -> Response:
    body = ErrorBody(error=error, message=message, **extra)  # type: ignore[arg-type]
    return _json(body, status_code, personal=personal)


def _invalid(fields: dict[str, str]) -> Response:
    message = "; ".join(f"{name}: {problem.replace('_', ' ')}" for name, problem in fields.items())
    return _error(400, "invalid_request", message, fields=fields)


def _rate_limited(limited: RateLimited) -> Response:
    wait = max(int(limited.retry_after), 1)
    response = _error(
        429, "rate_limited", f"Too many lookups; try again in {wait} s.", retry_after=wait
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment else None


def _found(result: tracking.TrackingResult) -> dict[str, Any]:
    status = ShipmentStatus(result.status)
    return {
        "number": result.number,
        "outcome": tracking.FOUND,
        "status": status,
        "status_label": STATUS_LABELS[status],
        "reason": result.reason or None,
        "next_step": result.next_step or None,
        "carrier": result.carrier,
        "service_level": result.service_level,
        "origin_city": result.origin_city,
        "destination_city": result.destination_city,
        "destination_country": result.destination_country,
        "eta": result.eta,
        "last_update": _utc(result.last_update),
        "events": [
            TrackingEvent(
                occurred_at=_utc(e.occurred_at),  # type: ignore[arg-type]
                local_time=e.local_time,
                status=ShipmentStatus(e.status),
                reason=e.reason or None,
                city=e.city,
                country=e.country,
            )
            for e in result.events
        ],
    }


def _batch_result(result: tracking.TrackingResult) -> FoundResult | UnknownResult | MalformedResult:
    if result.outcome == tracking.FOUND:
        return FoundResult(**_found(result))
    if result.outcome == tracking.UNKNOWN:
        return UnknownResult(number=result.number, outcome="unknown")
    return MalformedResult(number=result.number, outcome="malformed")


# ---- routes ----


def _track_one(
    number: str, verify: str | None, client: str
) -> tuple[tracking.TrackingResult, tracking.Recipient | None]:
    """Both blocking service calls in one trip to the thread pool."""
    result = tracking.lookup([number], client=client)[0]
    if result.outcome != tracking.FOUND or verify is None:
        return result, None
    return result, tracking.reveal_recipient(result.number, verify, client=client)


async def track_one(request: Request) -> Response:
    number = request.path_params["number"]
    verify = request.query_params.get("verify")
    problems = {}
    if not number.strip():
        problems["number"] = "required"
    elif len(number) > rules.MAX_NUMBER_LENGTH:
        problems["number"] = "too_long"
    if verify is not None:
        if len(verify) > MAX_VERIFY_LENGTH:
            problems["verify"] = "too_long"
        elif not verify.strip():
            problems["verify"] = "empty"
    if problems:
        return _invalid(problems)

    try:
        result, recipient = await run_in_threadpool(
            _track_one, number, verify, client_identity(request)
        )
    except RateLimited as limited:
        return _rate_limited(limited)
    except ValidationFailed:
        return _error(
            403,
            "verification_failed",
            "That matches neither the last four digits of the recipient's phone "
            "nor their postcode.",
            personal=True,
        )
    except NotFound:  # deleted between the two calls
        return _error(404, "unknown", "No shipment has this tracking number.", number=number)

    if result.outcome == tracking.MALFORMED:
        return _error(
            400, "malformed", "This is not a valid tracking number.", number=result.number
        )
    if result.outcome == tracking.UNKNOWN:
        return _error(404, "unknown", "No shipment has this tracking number.", number=result.number)
    body = TrackingResponse(
        **_found(result),
        recipient=Recipient(**vars(recipient)) if recipient else None,
    )
    return _json(body, personal=verify is not None)


async def track_many(request: Request) -> Response:
    raw = ",".join(request.query_params.getlist("numbers"))
    problems = {}
    if "verify" in request.query_params:
        problems["verify"] = "not_supported_on_batch"
    numbers = rules.split_numbers(raw) if len(raw) <= MAX_NUMBERS_PARAM_LENGTH else []
    if len(raw) > MAX_NUMBERS_PARAM_LENGTH:
        problems["numbers"] = "too_long"
    elif not numbers:
        problems["numbers"] = "required"
    elif len(numbers) > rules.MAX_NUMBERS_PER_LOOKUP:
        problems["numbers"] = "too_many_numbers"
    elif any(len(n) > rules.MAX_NUMBER_LENGTH for n in numbers):
        problems["numbers"] = "number_too_long"
    if problems:
        return _invalid(problems)

    try:
        results = await run_in_threadpool(tracking.lookup, numbers, client=client_identity(request))
    except RateLimited as limited:
        return _rate_limited(limited)
    except ValidationFailed as failure:
        return _invalid(failure.fields)
    return _json(BatchResponse(results=[_batch_result(r) for r in results]))


async def openapi_json(request: Request) -> Response:
    return Response(
        _openapi_bytes(),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


# ---- OpenAPI ----


def _error_response(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    if retry_after:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before asking again.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document; schemas come from the response models' own JSON schema."""
    _, top = models_json_schema(
        [(model, "serialization") for model in (TrackingResponse, BatchResponse, ErrorBody)],
        ref_template="#/components/schemas/{model}",
        title="Waybill tracking",
    )
    limited = _error_response(
        "Too many lookups (or unknown numbers) from this client; no data is returned.",
        retry_after=True,
    )
    invalid = _error_response("A parameter is missing or too long (`invalid_request`).")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Waybill public tracking API",
            "version": "1.0.0",
            "description": (
                "Track parcels by number. Without a second factor responses carry status, "
                "timeline and city-level places only; the recipient's name, phone and address "
                "need the last four digits of their phone or their postcode. Lookups are rate "
                "limited per client; many unknown numbers from one client are cut off with 429."
            ),
        },
        "paths": {
            "/api/v1/tracking/{number}": {
                "get": {
                    "operationId": "trackOne",
                    "summary": "Track one parcel",
                    "parameters": [
                        {
                            "name": "number",
                            "in": "path",
                            "required": True,
                            "description": "A tracking number (S10 like WB123456785HK, or a "
                            "partner carrier's layout).",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": rules.MAX_NUMBER_LENGTH,
                            },
                        },
                        {
                            "name": "verify",
                            "in": "query",
                            "required": False,
                            "description": "Second factor: the last four digits of the "
                            "recipient's phone, or the recipient's postcode. Failed attempts "
                            "are limited per number and per client.",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_VERIFY_LENGTH,
                            },
                        },
                    ],
                    "responses": {
                        "200": _ok(
                            "TrackingResponse",
                            "The shipment; `recipient` only with a correct `verify`.",
                        ),
                        "400": _error_response(
                            "`malformed`: not a tracking number (bad check digit, unknown "
                            "layout); or `invalid_request`: a parameter is too long or empty."
                        ),
                        "403": _error_response(
                            "`verification_failed`: the second factor is wrong; no personal data."
                        ),
                        "404": _error_response("`unknown`: a well-formed number nobody knows."),
                        "429": limited,
                    },
                }
            },
            "/api/v1/tracking": {
                "get": {
                    "operationId": "trackMany",
                    "summary": "Track up to 20 parcels at once",
                    "parameters": [
                        {
                            "name": "numbers",
                            "in": "query",
                            "required": True,
                            "description": f"Up to {rules.MAX_NUMBERS_PER_LOOKUP} numbers, "
                            "separated by commas (spaces also separate; duplicates count once). "
                            "Each gets its own outcome: found, unknown or malformed.",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_NUMBERS_PARAM_LENGTH,
                            },
                        }
                    ],
                    "responses": {
                        "200": _ok("BatchResponse", "One result per distinct number."),
                        "400": invalid,
                        "429": limited,
                    },
                }
            },
        },
        "components": {"schemas": top["$defs"]},
    }


@lru_cache(maxsize=1)
def _openapi_bytes() -> bytes:
    return json.dumps(openapi_document(), separators=(",", ":")).encode()


routes = [
    Route("/api/v1/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/v1/tracking", track_many, methods=["GET"]),
    # `path` so that a number with a slash in it (or HTML such as </script>) still reaches
    # the handler and gets a clear 400, rather than the router's bare 404.
    Route("/api/v1/tracking/{number:path}", track_one, methods=["GET"]),
]
