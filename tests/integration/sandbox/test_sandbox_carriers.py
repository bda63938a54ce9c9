"""The sandbox carriers against docs/carriers.md: a real `python -m backend.sandbox` on a free port."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from backend.domain import tracking_number

ROOT = Path(__file__).resolve().parents[3]
STEP_SECONDS = 0.2
START_SECONDS = 30
SL_SECRET = "whsec-test-swiftlink-1"
# Each test has its own keys (different first six characters), so limits never collide.
EXTRA_KEYS = {
    "hptrk1-test": {"carrier": "harbour-post"},
    "hpbad1-test": {"carrier": "harbour-post"},
    "hpbur1-test": {"carrier": "harbour-post"},
    "hpbur2-test": {"carrier": "harbour-post"},
    "hpflt1-test": {"carrier": "harbour-post"},
    "hpbook-test": {"carrier": "harbour-post"},
    "hpunk1-test": {"carrier": "harbour-post"},
    "prtrk1-test": {"carrier": "pearl-river"},
    "prbad1-test": {"carrier": "pearl-river"},
    "prbur1-test": {"carrier": "pearl-river"},
    "prflt1-test": {"carrier": "pearl-river"},
    "slpsh1-test": {"carrier": "swiftlink", "webhook_secret": SL_SECRET},
    "slbad1-test": {"carrier": "swiftlink", "webhook_secret": "whsec-other"},
}
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
SHANGHAI = ZoneInfo("Asia/Shanghai")
HP_FINAL = {"DL", "RS", "CA"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "SANDBOX_STEP_SECONDS": str(STEP_SECONDS),
        "SANDBOX_SEED": "7",
        "SANDBOX_PUSH_BACKOFF_SECONDS": "0.05",
        "SANDBOX_EXTRA_KEYS": json.dumps(EXTRA_KEYS),
    }
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.sandbox", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(f"the sandbox did not start:\n{log_path.read_text(errors='replace')}")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    return proc.returncode


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sandbox's base URL; the process is always stopped, and must exit 0 on SIGTERM."""
    log_path = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    proc, url = _start(log_path)
    try:
        yield url
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert code == 0, log_path.read_text(errors="replace")


@pytest.fixture
def client(sandbox: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox, timeout=10, trust_env=False) as http:
        yield http


def _wait_until(predicate: Callable[[], object], timeout: float = 10.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail("timed out waiting")


def _track(client: httpx.Client, key: str, numbers: list[str]) -> httpx.Response:
    return client.post(
        "/harbour-post/v1/track", json={"numbers": numbers}, headers={"X-Api-Key": key}
    )


def _plan(client: httpx.Client, carrier: str, number: str) -> list[str]:
    return client.get(f"/_sandbox/journeys/{carrier}/{number}").json()["codes"]


# harbour-post


def test_harbour_post_batch_answers_per_the_doc_and_parcels_advance(client: httpx.Client) -> None:
    number = tracking_number.make("WB", 31_000_001)
    first = _track(client, "hptrk1-test", [number, "WB999999995HK", "not-a-number"])

    assert first.status_code == 200
    results = first.json()["results"]
    assert [r["number"] for r in results] == [number, "WB999999995HK", "not-a-number"]
    assert results[1] == {"number": "WB999999995HK", "found": False, "events": []}
    assert results[2] == {"number": "not-a-number", "found": False, "events": []}
    found = results[0]
    assert found["found"] is True
    (event,) = found["events"]  # the journey starts when first tracked: one event so far
    assert set(event) == {"id", "code", "time", "location", "description"}
    assert event["id"].startswith("hp-") and event["code"] == "IR"
    assert UTC_TIME.match(event["time"])
    moment = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 5
    assert set(event["location"]) == {"city", "country"} and event["location"]["country"] == "HK"

    plan = _plan(client, "harbour-post", number)
    seen: list[dict] = found["events"]

    def advanced() -> bool:
        nonlocal seen
        time.sleep(0.15)  # well under 10 requests a second
        events = _track(client, "hptrk1-test", [number]).json()["results"][0]["events"]
        assert events[: len(seen)] == seen  # same events, same ids, same times on every re-poll
        seen = events
        return len(events) == len(plan)

    _wait_until(advanced, timeout=15)
    assert [e["code"] for e in seen] == plan and plan[-1] in HP_FINAL
    assert len({e["id"] for e in seen}) == len(seen)
    assert [e["time"] for e in seen] == sorted(e["time"] for e in seen)  # oldest first


def test_harbour_post_refuses_bad_input_without_a_500(client: httpx.Client) -> None:
    url, key = "/harbour-post/v1/track", {"X-Api-Key": "hpbad1-test"}
    wrong = client.post(url, json={"numbers": ["WB100000003HK"]}, headers={"X-Api-Key": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "bad_key"})
    assert client.post(url, json={"numbers": ["WB100000003HK"]}).status_code == 401
    assert client.post(url, json={"numbers": ["WB100000003HK"]}, headers={"X-Api-Key": "pr-demo-dragon-gate"}).status_code == 401  # fmt: skip

    too_many = client.post(url, json={"numbers": ["WB100000003HK"] * 41}, headers=key)
    assert (too_many.status_code, too_many.json()) == (400, {"error": "too_many_numbers"})
    refused = [
        client.post(url, content=b'{"numbers": [', headers=key),
        client.post(url, content=b"\xff\xfe", headers=key),
        client.post(url, content=b"[" * 100_000, headers=key),
        client.post(url, json=["WB100000003HK"], headers=key),
        client.post(url, json={"numbers": "WB100000003HK"}, headers=key),
        client.post(url, json={"numbers": []}, headers=key),
        client.post(url, json={"numbers": [1]}, headers=key),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    assert refused[0].json() == {"error": "bad_json"}
    big = client.post(url, content=b" " * 2_000_000, headers=key)
    assert big.status_code == 413
    assert client.get(url, headers=key).status_code == 405


def test_harbour_post_limits_each_key_separately_with_retry_after(client: httpx.Client) -> None:
    started = time.time()
    number = tracking_number.make("WB", 31_000_002)
    answers = [_track(client, "hpbur1-test", [number]) for _ in range(15)]
    statuses = [r.status_code for r in answers]

    assert statuses[:10] == [200] * 10  # a full bucket: one second's worth
    limited = [r for r in answers if r.status_code == 429]
    assert limited, statuses
    for answer in limited:
        assert answer.json() == {"error": "rate_limited"}
        assert answer.headers["Retry-After"].isdigit() and int(answer.headers["Retry-After"]) >= 1
    assert _track(client, "hpbur2-test", [number]).status_code == 200  # another key, its own bucket
    time.sleep(1.1)
    assert _track(client, "hpbur1-test", [number]).status_code == 200  # refilled

    # every request is in the log, the refused ones too, with the key shown by its first 6 chars
    stats = client.get("/_sandbox/stats/harbour-post", params={"since": started}).json()
    assert stats["limit_per_second"] == 10
    mine = [r for r in stats["requests"] if r["key"] == "hpbur1…"]
    assert [r["status"] for r in mine] == [*statuses, 200]
    assert all(started <= r["at"] <= time.time() for r in mine)
    assert len({r["key_id"] for r in mine}) == 1
    assert [r["status"] for r in stats["requests"] if r["key"] == "hpbur2…"] == [200]
    assert client.get("/_sandbox/stats/no-such-carrier").status_code == 404


def test_harbour_post_quotes_and_books_a_parcel_that_then_moves(client: httpx.Client) -> None:
    key = {"X-Api-Key": "hpbook-test"}
    parcel = {"weight_grams": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100}
    quoted = client.post("/harbour-post/v1/quotes", json={**parcel, "origin": "HK", "destination": "HK"}, headers=key)  # fmt: skip
    assert quoted.status_code == 200
    quotes = quoted.json()["quotes"]
    assert {q["service_level"] for q in quotes} == {"standard", "express"}
    for quote in quotes:
        assert set(quote) == {"service_level", "amount_minor", "currency", "transit_days"}
        assert isinstance(quote["amount_minor"], int) and quote["currency"] == "HKD"

    booking = {
        "parcel": parcel,
        "sender": {"name": "Mei Chan", "city": "Kwai Chung"},
        "recipient": {"name": "Wong Tai Man", "city": "Mong Kok"},
        "service_level": "standard",
    }
    booked = client.post("/harbour-post/v1/bookings", json=booking, headers=key)
    assert booked.status_code == 201
    answer = booked.json()
    assert set(answer) == {"reference", "tracking_number", "estimated_delivery"}
    number = answer["tracking_number"]
    assert number.startswith("HP")
    assert tracking_number.check(number) is tracking_number.NumberCheck.VALID
    datetime.strptime(answer["estimated_delivery"], "%Y-%m-%d")
    tracked = _track(client, "hpbook-test", [number]).json()["results"][0]
    assert tracked["found"] is True and tracked["events"][0]["code"] == "IR"

    bad_level = client.post("/harbour-post/v1/bookings", json={**booking, "service_level": "teleport"}, headers=key)  # fmt: skip
    assert bad_level.status_code == 400


def test_some_journeys_carry_codes_missing_from_our_tables(client: httpx.Client) -> None:
    samples = {
        "harbour-post": [tracking_number.make("WB", 33_000_000 + i) for i in range(40)],
        "pearl-river": [f"PR20261123{i:02d}" for i in range(1, 41)],
        "swiftlink": [f"SLUNKNOWN{i:03d}" for i in range(40)],
    }
    unknown = {"harbour-post": "ZZ", "pearl-river": "777", "swiftlink": "MYSTERY"}
    for carrier, numbers in samples.items():
        odd = [n for n in numbers if unknown[carrier] in _plan(client, carrier, n)]
        assert odd, carrier
    # and the code is really served when the parcel gets there
    number = next(n for n in samples["harbour-post"] if "ZZ" in _plan(client, "harbour-post", n))

    def codes() -> list[str]:
        time.sleep(0.15)
        return [e["code"] for e in _track(client, "hpunk1-test", [number]).json()["results"][0]["events"]]  # fmt: skip

    _wait_until(lambda: "ZZ" in codes(), timeout=10)


# pearl-river


def _pr(client: httpx.Client, key: str, refs: list[str]) -> httpx.Response:
    return client.get("/pearl-river/track", params=[("ref", r) for r in refs], headers={"X-Partner-Key": key})  # fmt: skip


def _xml(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == "application/xml"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "<!DOCTYPE" not in response.text and "<!ENTITY" not in response.text
    return ET.fromstring(response.content)  # noqa: S314 (checked above: no DTD, no entities)


def test_pearl_river_answers_xml_with_local_times(client: httpx.Client) -> None:
    s10 = tracking_number.make("DG", 31_000_003)
    refs = ["PR2026112310", s10, "PR0000000000", "hello"]
    before = datetime.now(UTC)
    root = _xml(_pr(client, "prtrk1-test", refs))

    assert root.tag == "TrackResponse"
    shipments = root.findall("Shipment")
    assert [(s.get("ref"), s.get("status")) for s in shipments] == [
        ("PR2026112310", "OK"),
        (s10, "OK"),
        ("PR0000000000", "NOT_FOUND"),
        ("hello", "NOT_FOUND"),
    ]
    assert list(shipments[2]) == [] and list(shipments[3]) == []
    (event,) = shipments[0].findall("Event")
    assert event.get("seq") == "1" and event.get("code") == "100" and event.text == "Accepted"
    assert event.get("city") and event.get("country") == "HK"
    stamp = event.get("datetime")
    assert LOCAL_TIME.match(stamp)  # no offset, no "T", no "Z"
    local = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    assert before - timedelta(seconds=2) <= local <= datetime.now(UTC) + timedelta(seconds=1)
    as_if_utc = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(as_if_utc - local - timedelta(hours=8)) < timedelta(seconds=1)

    time.sleep(1.0)  # two requests a second; and the parcel moves meanwhile
    later = _xml(_pr(client, "prtrk1-test", refs[:1])).find("Shipment")
    events = later.findall("Event")
    assert len(events) > 1
    assert [e.get("seq") for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert events[0].attrib == event.attrib  # (ref, seq) is the same event on a re-poll
    assert events[-1].get("code") in _plan(client, "pearl-river", "PR2026112310")


def test_pearl_river_refuses_with_xml_errors_and_limits_at_two_a_second(
    client: httpx.Client,
) -> None:
    wrong = _pr(client, "nope", ["PR2026112311"])
    assert wrong.status_code == 401 and _xml(wrong).attrib == {"code": "AUTH"}
    too_many = _pr(client, "prbad1-test", [f"PR20261123{i:02d}" for i in range(11)])
    assert too_many.status_code == 400 and _xml(too_many).get("code") == "TOO_MANY_REFS"
    none = _pr(client, "prbad1-test", [])
    assert none.status_code == 400 and _xml(none).tag == "Error"

    answers = [_pr(client, "prbur1-test", ["PR2026112311"]) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1


# faults


def _faults(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/_sandbox/faults", json=body)


def test_fault_injection_gives_503s_and_hangs_and_reset_clears_them(client: httpx.Client) -> None:
    number = tracking_number.make("WB", 31_000_004)
    try:
        assert _faults(client, carrier="harbour-post", error_rate=1.0).status_code == 200
        failing = _track(client, "hpflt1-test", [number])
        assert (failing.status_code, failing.json()) == (503, {"error": "unavailable"})
        assert _faults(client, carrier="pearl-river", error_rate=1.0).status_code == 200
        down = _pr(client, "prflt1-test", ["PR2026112312"])
        assert down.status_code == 503 and _xml(down).get("code") == "UNAVAILABLE"

        hang = {"error_rate": 0.0, "hang_rate": 1.0, "hang_seconds": 1.5}
        assert _faults(client, carrier="harbour-post", **hang).status_code == 200
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            slow = pool.submit(_track, client, "hpflt1-test", [number])
            time.sleep(0.2)
            # a hang blocks nobody else: the sandbox answers other calls meanwhile
            quick_started = time.monotonic()
            assert client.get("/_sandbox/health").status_code == 200
            assert time.monotonic() - quick_started < 0.5
            assert not slow.done()
            assert slow.result(timeout=10).status_code == 200
            assert time.monotonic() - started >= 1.4
        with pytest.raises(httpx.ReadTimeout):
            _track(client.__class__(base_url=str(client.base_url), timeout=0.3, trust_env=False), "hpflt1-test", [number])  # fmt: skip
    finally:
        assert _faults(client, carrier="harbour-post", reset=True).status_code == 200
        assert _faults(client, carrier="pearl-river", reset=True).status_code == 200

    time.sleep(1.6)  # the timed-out request above finishes its hang and gets logged
    started = time.monotonic()
    assert _track(client, "hpflt1-test", [number]).status_code == 200
    assert time.monotonic() - started < 1.0
    assert client.get("/_sandbox/faults").json()["faults"]["harbour-post"] == {
        "error_rate": 0.0,
        "hang_rate": 0.0,
        "hang_seconds": 0.0,
    }
    statuses = [r["status"] for r in client.get("/_sandbox/stats/harbour-post").json()["requests"] if r["key"] == "hpflt1…"]  # fmt: skip
    assert statuses[0] == 503 and statuses[-1] == 200 and 200 in statuses[1:-1]

    assert _faults(client, carrier="nowhere", error_rate=1).status_code == 400
    assert _faults(client, carrier="harbour-post", error_rate=2).status_code == 400
    assert client.post("/_sandbox/faults", content=b"{").status_code == 400


# swiftlink


class Receiver:
    """A tiny webhook endpoint on 127.0.0.1 that records raw pushes; it fails the first one."""

    def __init__(self, fail_first: int = 1):
        self.pushes: list[tuple[Message, bytes]] = []
        self.fail_first = fail_first
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    outer.pushes.append((self.headers, body))
                    fail = outer.fail_first > 0
                    outer.fail_first -= 1
                self.send_response(500 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/swiftlink"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in list(self.pushes)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def _verify(headers: Message, body: bytes) -> None:
    timestamp = headers["X-SwiftLink-Timestamp"]
    assert abs(time.time() - int(timestamp)) <= 300
    expected = hmac.new(SL_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers["X-SwiftLink-Signature"], "v1=" + expected.hexdigest())
    assert headers["Content-Type"] == "application/json"


def test_swiftlink_pushes_signed_events_and_resends_the_same_ids(
    client: httpx.Client, receiver: Receiver
) -> None:
    number = "SL9T8E7S6T5A"
    key = {"X-Api-Key": "slpsh1-test"}
    subscription = {"tracking_number": number, "callback_url": receiver.url}
    first = client.post("/swiftlink/v1/subscriptions", json=subscription, headers=key)
    again = client.post("/swiftlink/v1/subscriptions", json=subscription, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]  # one subscription

    plan = _plan(client, "swiftlink", number)
    _wait_until(lambda: len({b["event_id"] for b in receiver.bodies()}) == len(plan), timeout=15)
    time.sleep(3 * STEP_SECONDS)  # nothing more arrives: no second subscription's copies
    pushes = list(receiver.pushes)
    for headers, body in pushes:
        _verify(headers, body)
    bodies = [json.loads(body) for _, body in pushes]
    assert all(
        set(b) == {"event_id", "tracking_number", "code", "occurred_at", "city", "country"}
        for b in bodies
    )
    assert all(b["tracking_number"] == number and UTC_TIME.match(b["occurred_at"]) for b in bodies)
    # the first push got a 500 and was retried as the same bytes; then each event exactly once
    assert pushes[0][1] == pushes[1][1]
    ids = [b["event_id"] for b in bodies[1:]]
    assert len(ids) == len(set(ids)) == len(plan)
    assert [b["code"] for b in bodies[1:]] == plan
    assert all(re.fullmatch(r"sl_[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)

    since = bodies[1]["occurred_at"]
    resent = client.post("/swiftlink/v1/resend", json={"since": since}, headers=key)
    assert resent.status_code == 202 and resent.json() == {"queued": len(plan)}
    _wait_until(lambda: len(receiver.pushes) >= len(pushes) + len(plan), timeout=10)
    again_pushes = list(receiver.pushes)[len(pushes) :]
    for headers, body in again_pushes:
        _verify(headers, body)
    assert [json.loads(body)["event_id"] for _, body in again_pushes] == ids
    assert [body for _, body in again_pushes] == [body for _, body in pushes[1:]]

    stats = client.get("/_sandbox/stats/swiftlink").json()
    attempts = [p for p in stats["pushes"] if p["tracking_number"] == number]
    assert attempts[0]["status"] == 500 and attempts[1]["attempt"] == 2
    assert sum(p["resend"] for p in attempts) == len(plan)


def test_swiftlink_refuses_callbacks_off_loopback_and_bad_input(client: httpx.Client) -> None:
    key = {"X-Api-Key": "slbad1-test"}
    for url in [
        "http://example.com/hook",
        "https://10.1.2.3/hook",
        "http://127.0.0.1@example.com/hook",
        "http://localhost.example.com/hook",
        "ftp://127.0.0.1/hook",
        "http://127.0.0.1:99999/hook",
        "not a url",
    ]:
        refused = client.post("/swiftlink/v1/subscriptions", json={"tracking_number": "SLREFUSED001", "callback_url": url}, headers=key)  # fmt: skip
        assert refused.status_code == 400, url
        assert refused.json()["error"] == "callback_url_not_allowed"

    hook = "http://127.0.0.1:9/hook"
    assert client.post("/swiftlink/v1/subscriptions", json={"tracking_number": "x!", "callback_url": hook}, headers=key).status_code == 400  # fmt: skip
    assert client.post("/swiftlink/v1/subscriptions", json={"tracking_number": "SLREFUSED001", "callback_url": hook}, headers={"X-Api-Key": "hp-demo-dragon-gate"}).status_code == 401  # fmt: skip
    assert client.post("/swiftlink/v1/resend", json={"since": "yesterday"}, headers=key).status_code == 400  # fmt: skip
    assert client.post("/swiftlink/v1/resend", content=b"{", headers=key).status_code == 400
    nothing = client.post("/swiftlink/v1/resend", json={"since": "2026-01-01T00:00:00Z"}, headers=key)  # fmt: skip
    assert (nothing.status_code, nothing.json()) == (202, {"queued": 0})


# the process


def test_sandbox_exits_cleanly_on_sigint(tmp_path: Path) -> None:
    proc, url = _start(tmp_path / "sandbox.log")
    try:
        assert httpx.get(f"{url}/_sandbox/health", trust_env=False).json()["status"] == "ok"
    finally:
        code = _stop(proc, signal.SIGINT)
    assert code == 0, (tmp_path / "sandbox.log").read_text(errors="replace")
