"""A small HTTP/1.1 load generator on asyncio: open loop at a fixed rate, and closed loop.

Open loop: request i is due at start + i / rate, whatever happened to the requests
before it, and its latency counts from the moment it was due. A server that falls
behind therefore shows its queue in the latency instead of quietly slowing the
generator down (no "coordinated omission"). Closed loop: N clients, each sending its
next request as soon as the last one is answered: the most the server can do.

It speaks just enough HTTP/1.1 (GET, or POST of a prepared body: loadgen.Post; keep-alive,
Content-Length or chunked bodies)
to cost far less CPU per request than a general client: the generator shares the
machine's two cores with the servers it measures.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

REQUEST_TIMEOUT = 10.0
MAX_OPEN_CONNECTIONS = 512


@dataclass
class RunResult:
    label: str
    target_rate: float | None  # None for a closed-loop run
    elapsed: float
    latencies_ms: list[float] = field(default_factory=list)  # answered with 200
    errors: Counter = field(default_factory=Counter)  # "HTTP 429", "timeout", ...

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def achieved_rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the successful requests' latencies (NaN when none)."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    def error_text(self) -> str:
        return ", ".join(f"{kind} x{count}" for kind, count in self.errors.most_common()) or "0"


@dataclass(frozen=True)
class Post:
    """A POST to send instead of a GET path (e.g. a signed webhook): its headers go as given."""

    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host
        self.reusable = True

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def get(self, path: str) -> int:
        """Send GET `path`, read the whole answer, return its status code."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        return await self._answer()

    async def post(self, request: Post) -> int:
        """Send POST with the request's headers and body, read the whole answer, return its status."""
        head = f"POST {request.path} HTTP/1.1\r\nHost: {self.host}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in request.headers)
        head += f"Content-Length: {len(request.body)}\r\n\r\n"
        self.writer.write(head.encode() + request.body)
        return await self._answer()

    async def _answer(self) -> int:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if b":" in line:
                name, value = line.split(b":", 1)
                headers[name.strip().lower()] = value.strip().lower()
        if b"content-length" in headers:
            await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding") == b"chunked":
            await self._read_chunks()
        else:  # the body runs until the server closes
            await self.reader.read()
            self.reusable = False
        if headers.get(b"connection") == b"close":
            self.reusable = False
        return status

    async def _read_chunks(self) -> None:
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await self.reader.readexactly(size + 2)
            if size == 0:
                return

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections to one server, opened on demand up to a limit."""

    def __init__(self, base_url: str, limit: int = MAX_OPEN_CONNECTIONS):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[Connection] = []
        self.slots = asyncio.Semaphore(limit)

    async def request(self, path: str | Post, timeout: float = REQUEST_TIMEOUT) -> str | None:
        """None when the answer was 200, else what went wrong ("HTTP 500", "timeout", ...).

        `path` is a GET path, or a Post to send instead."""
        async with self.slots:
            connection = None
            try:
                connection = self.idle.pop() if self.idle else None
                if connection is None:
                    connection = await asyncio.wait_for(
                        Connection.open(self.host, self.port), timeout
                    )
                sent = connection.get(path) if isinstance(path, str) else connection.post(path)
                status = await asyncio.wait_for(sent, timeout)
            except TimeoutError:
                return self._discard(connection, "timeout")
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                return self._discard(connection, type(error).__name__)
            if connection.reusable:
                self.idle.append(connection)
            else:
                connection.close()
            return None if status == 200 else f"HTTP {status}"

    def _discard(self, connection: Connection | None, error: str) -> str:
        if connection is not None:
            connection.close()
        return error

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


async def open_loop(
    base_url: str, paths: list[str] | list[Post], rate: float, duration: float, label: str = ""
) -> RunResult:
    """Send `rate` requests a second for `duration` seconds, on time whatever the answers do."""
    loop = asyncio.get_running_loop()
    pool = Pool(base_url)
    result = RunResult(label, rate, 0.0)
    count = max(1, int(rate * duration))
    start = loop.time() + 0.05

    async def one(path: str | Post, due: float) -> float:
        error = await pool.request(path)
        done = loop.time()
        if error:
            result.errors[error] += 1
        else:
            result.latencies_ms.append((done - due) * 1000)
        return done

    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[i % len(paths)], due)))
    finished = await asyncio.gather(*tasks)
    result.elapsed = max(max(finished) - start, duration)
    pool.close()
    return result


async def closed_loop(
    base_url: str, paths: list[str], concurrency: int, duration: float, label: str = ""
) -> RunResult:
    """`concurrency` clients, each sending its next request when the last one is answered."""
    loop = asyncio.get_running_loop()
    pool = Pool(base_url, limit=concurrency)
    result = RunResult(label, None, 0.0)
    start = loop.time()
    deadline = start + duration

    async def client(k: int) -> None:
        i = k
        while loop.time() < deadline:
            sent = loop.time()
            error = await pool.request(paths[i % len(paths)])
            if error:
                result.errors[error] += 1
            else:
                result.latencies_ms.append((loop.time() - sent) * 1000)
            i += concurrency

    await asyncio.gather(*(client(k) for k in range(concurrency)))
    result.elapsed = loop.time() - start
    pool.close()
    return result
