"""The running portal reports its parts healthy, as an operator's probe would see it."""

from __future__ import annotations

import httpx


def test_healthz_is_200_with_every_part_up(api: httpx.Client):
    response = api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {body[part]["status"] for part in ("database", "redis", "worker")} == {"up"}
