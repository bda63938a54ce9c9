"""Which address per-client rate limits count against, with and without trusted proxies."""

from __future__ import annotations

import pytest

from backend.api.clients import client_address


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "hops", "expected"),
    [
        # No trusted proxy: the peer, whatever X-Forwarded-For claims.
        ("203.0.113.5", "198.51.100.1", 0, "203.0.113.5"),
        ("203.0.113.5", None, 0, "203.0.113.5"),
        # One proxy: the right-most entry is the address it saw.
        ("10.0.0.2", "198.51.100.1", 1, "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", 1, "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6,198.51.100.1, ", 1, "198.51.100.1"),
        # Two proxies: the second entry from the right; the left-most is the client's own word.
        ("10.0.0.3", "6.6.6.6, 198.51.100.1, 10.0.0.2", 2, "198.51.100.1"),
        # Proxies that write ports.
        ("10.0.0.2", "198.51.100.1:4711", 1, "198.51.100.1"),
        ("10.0.0.2", "[2001:db8:1:2::99]:4711", 1, "2001:db8:1:2::/64"),
        # Shorter than the proxies we trust, missing or unreadable: only the peer is known.
        ("10.0.0.3", "198.51.100.1", 2, "10.0.0.3"),
        ("10.0.0.2", None, 1, "10.0.0.2"),
        ("10.0.0.2", "not-an-address", 1, "10.0.0.2"),
        ("10.0.0.2", "<script>", 1, "10.0.0.2"),
        # IPv6 clients count by their /64; IPv4-mapped ones as IPv4.
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", None, 0, "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", None, 0, "198.51.100.7"),
        # Not an address at all (a test client, a Unix socket): used as it is.
        ("testclient", None, 0, "testclient"),
        (None, None, 0, "unknown"),
    ],
)
def test_client_address(peer, forwarded_for, hops, expected):
    assert client_address(peer, forwarded_for, hops) == expected


def test_one_ipv6_subscriber_cannot_step_through_its_addresses():
    assert client_address("2001:db8:1:2::1", None, 0) == client_address(
        "2001:db8:1:2:ffff::9", None, 0
    )
    assert client_address("2001:db8:1:3::1", None, 0) != client_address("2001:db8:1:2::1", None, 0)
