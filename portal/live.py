"""The app's internal route for live updates: a worker says "order:<id>" or "shipment:<number>"
changed, and the open tabs showing it refresh.

Only callers holding the internal token (our own workers) are heard. Each watching
tab's state is refreshed from the database inside `app.modify_state`, which sends
the tab its delta over its websocket (through Redis when the tab is connected to
another app worker).
"""

from __future__ import annotations

import hmac
import logging

import reflex as rx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.config import get_settings
from backend.services import live_updates
from portal.pages.order.state import OrderState
from portal.pages.track.state import TrackState

log = logging.getLogger("waybill.live")

# topic kind -> the state a watching tab holds, and how it reads the subject afresh
_REFRESHERS = {
    "order": (OrderState, lambda state, _order_id: state._reload()),
    "shipment": (TrackState, lambda state, number: state._refresh(number)),
}


def live_route(app_getter) -> Route:
    """The route; `app_getter` returns the rx.App (created after the routes are assembled)."""

    async def live(request: Request) -> JSONResponse:
        expected = get_settings().internal_token
        given = request.headers.get("x-internal-token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            topic = str((await request.json())["topic"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected {topic}"}, status_code=400)
        kind, _, subject = topic.partition(":")
        refresh = _REFRESHERS.get(kind)
        if refresh is None or not subject:
            return JSONResponse({"error": "unknown topic"}, status_code=400)
        state_class, reload = refresh
        refreshed = 0
        for token in live_updates.watchers(topic):
            try:
                async with app_getter().modify_state(
                    rx.BaseStateToken(ident=token, cls=state_class)
                ) as root:
                    reload(await root.get_state(state_class), subject)
                refreshed += 1
            except Exception:  # a closed tab must not stop the others; its token expires
                live_updates.unwatch(topic, token)
                log.info("dropped a stale watcher of %s", kind)
        return JSONResponse({"refreshed": refreshed})

    return Route(live_updates.INTERNAL_PATH, live, methods=["POST"])
