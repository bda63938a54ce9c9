"""Who is asking: the client address that per-client rate limits count against."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from backend.config import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(text: str) -> IPAddress | None:
    """An address as proxies write it: bare, 'v4:port' or '[v6]:port'."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxy_hops: int) -> str:
    """The right-most address that none of our `trusted_proxy_hops` proxies vouches for.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so with N of them the
    client is the N-th entry from the right; anything further left the client wrote itself.
    When the header is shorter than that or unreadable, the peer itself is all we know.
    An IPv6 client is counted by its /64, since one subscriber holds a whole /64 and could
    otherwise step through addresses to escape its limit.
    """
    chosen = peer or "unknown"
    if trusted_proxy_hops > 0 and forwarded_for:
        hops = [entry for entry in forwarded_for.split(",") if entry.strip()]
        if len(hops) >= trusted_proxy_hops and (found := _parse_ip(hops[-trusted_proxy_hops])):
            chosen = str(found)
    ip = _parse_ip(chosen)
    if ip is None:
        return chosen  # not an address (a test client, a Unix socket): use it as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_identity(request: Request) -> str:
    """client_address() for a Starlette request, with the configured number of trusted proxies."""
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    peer = request.client.host if request.client else None
    return client_address(peer, forwarded, get_settings().trusted_proxy_hops)
