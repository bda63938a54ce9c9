"""Reading request bodies with a size limit: never more than `limit` bytes in memory."""

from __future__ import annotations

from starlette.requests import Request


async def read_at_most(request: Request, limit: int) -> bytes | None:
    """The raw body, or None when it is (or says it is) larger than `limit` bytes.

    A declared Content-Length over the limit is refused before reading; a missing or false
    one is caught while reading, as soon as the count passes the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
