"""Pearl River's side: XML tracking of up to 10 refs, local Asia/Shanghai times, 2 req/s per key."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.sandbox.carriers.formats import shanghai_local
from backend.sandbox.carriers.gate import BadInput, carrier_endpoint
from backend.sandbox.carriers.numbers import MAX_NUMBER_LENGTH, normalized, pearl_river_knows
from backend.sandbox.carriers.state import Sandbox

CARRIER = "pearl-river"
MAX_REFS = 10
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# our error codes -> Pearl River's
ERROR_CODES = {
    "bad_key": "AUTH",
    "rate_limited": "RATE_LIMIT",
    "unavailable": "UNAVAILABLE",
    "too_many_refs": "TOO_MANY_REFS",
    "bad_request": "BAD_REQUEST",
}


def xml_response(
    document: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        (XML_DECLARATION + document).encode(),
        status_code=status,
        headers=headers,
        media_type="application/xml",
    )


def render_error(status: int, code: str, headers: dict[str, str] | None, detail: str) -> Response:
    document = f"<Error code={_attr(ERROR_CODES.get(code, code.upper()))}/>\n"
    return xml_response(document, status, headers)


def create_app(sandbox: Sandbox) -> Starlette:
    endpoint = carrier_endpoint(sandbox, CARRIER, "X-Partner-Key", render_error)

    @endpoint
    async def track(request: Request, api_key: str, account: dict) -> Response:
        refs = request.query_params.getlist("ref")
        if len(refs) > MAX_REFS:
            raise BadInput("too_many_refs")
        if not refs or any(not _usable(ref) for ref in refs):
            raise BadInput("bad_request")
        now = sandbox.journeys.clock()
        lines = ["<TrackResponse>"]
        for ref in refs:
            if not pearl_river_knows(ref):
                lines.append(f'  <Shipment ref={_attr(ref)} status="NOT_FOUND"/>')
                continue
            journey = sandbox.journeys.start(CARRIER, normalized(ref), now)
            lines.append(f'  <Shipment ref={_attr(ref)} status="OK">')
            for event in journey.events(now):
                step = event.step
                lines.append(
                    f'    <Event seq="{event.index + 1}" code={_attr(step.code)}'
                    f" datetime={_attr(shanghai_local(event.at))} city={_attr(step.city)}"
                    f" country={_attr(step.country)}>{escape(step.description)}</Event>"
                )
            lines.append("  </Shipment>")
        lines.append("</TrackResponse>")
        return xml_response("\n".join(lines) + "\n")

    return Starlette(routes=[Route("/track", track, methods=["GET"])])


def _usable(ref: str) -> bool:
    return bool(ref.strip()) and len(ref) <= MAX_NUMBER_LENGTH and ref.isprintable()


def _attr(value: str) -> str:
    """A double-quoted XML attribute value, escaped."""
    return '"' + escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}) + '"'
