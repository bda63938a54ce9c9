"""safe_next: where to send the browser after sign-in; same-site paths only, never off-site."""

from __future__ import annotations

import pytest

from backend.api.auth_routes import safe_next

HOME = "/home"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/shipments",
        "/staff/shipments?status=in_transit&after=x",
        "/track#timeline",
        "/a/b/c",
        "/" + "x" * 299,
    ],
)
def test_same_site_paths_are_kept(path):
    assert safe_next(path, HOME) == path


@pytest.mark.parametrize("raw", [None, ""])
def test_no_next_falls_back(raw):
    assert safe_next(raw, HOME) == HOME


@pytest.mark.parametrize(
    "raw",
    [
        "//evil.example",  # protocol-relative: another host
        "///evil.example",
        "/\\evil.example",  # browsers read a backslash as a slash
        "/\\/evil.example",
        "https://evil.example/",
        "http://evil.example",
        "javascript:alert(1)",
        "evil.example",
        "\\\\evil.example",
        " /shipments",  # leading space: not a path we issued
        "shipments",
    ],
)
def test_anything_that_could_leave_the_site_falls_back(raw):
    assert safe_next(raw, HOME) == HOME


def test_an_over_long_path_falls_back():
    assert safe_next("/" + "x" * 300, HOME) == HOME


def test_the_fallback_is_returned_as_given():
    assert safe_next("//evil.example", "/staff") == "/staff"


@pytest.mark.parametrize("raw", ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example"])
def test_paths_that_browsers_turn_into_another_host_fall_back(raw):
    assert safe_next(raw, HOME) == HOME
