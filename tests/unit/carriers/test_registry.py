"""The carrier registry: every slug has one adapter, unknown slugs fail loudly, capabilities agree."""

from __future__ import annotations

import inspect

import pytest

from backend.integrations.carriers import registry
from backend.integrations.carriers.base import CarrierAdapter
from backend.integrations.carriers.harbour_post.adapter import HarbourPostAdapter
from backend.integrations.carriers.pearl_river.adapter import PearlRiverAdapter
from backend.integrations.carriers.swiftlink.adapter import SwiftLinkAdapter

INTERFACE = ["track", "parse_push", "request_resend", "subscribe", "quote", "book"]


@pytest.mark.parametrize(
    ("slug", "kind"),
    [
        ("harbour-post", HarbourPostAdapter),
        ("pearl-river", PearlRiverAdapter),
        ("swiftlink", SwiftLinkAdapter),
    ],
)
def test_each_slug_has_its_adapter(slug: str, kind: type) -> None:
    adapter = registry.get_adapter(slug)

    assert isinstance(adapter, kind)
    assert adapter.slug == slug


def test_an_unknown_slug_is_a_key_error_that_names_it_and_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no carrier adapter for 'dhl'.*harbour-post"):
        registry.get_adapter("dhl")


def test_all_adapters_lists_each_carrier_once_in_slug_order() -> None:
    slugs = [adapter.slug for adapter in registry.all_adapters()]

    assert slugs == ["harbour-post", "pearl-river", "swiftlink"]


@pytest.mark.parametrize("adapter", registry.all_adapters(), ids=lambda a: a.slug)
def test_every_adapter_has_the_whole_interface_with_its_signatures(adapter: CarrierAdapter) -> None:
    for name in INTERFACE:
        declared = inspect.signature(getattr(CarrierAdapter, name))
        implemented = inspect.signature(getattr(type(adapter), name))
        assert list(implemented.parameters) == list(declared.parameters), name


@pytest.mark.parametrize("adapter", registry.all_adapters(), ids=lambda a: a.slug)
def test_declared_capabilities_agree_with_each_other(adapter: CarrierAdapter) -> None:
    capabilities = adapter.capabilities

    assert capabilities.polls == (capabilities.batch_size > 0)
    assert (
        capabilities.polls or capabilities.pushes
    )  # a carrier we could never hear from is useless
    if capabilities.can_resend or capabilities.needs_subscription:
        assert capabilities.pushes


def test_the_documented_limits_are_declared() -> None:
    by_slug = {adapter.slug: adapter.capabilities for adapter in registry.all_adapters()}

    assert (by_slug["harbour-post"].batch_size, by_slug["harbour-post"].books) == (40, True)
    assert by_slug["pearl-river"].batch_size == 10
    assert not by_slug["swiftlink"].polls and by_slug["swiftlink"].can_resend
