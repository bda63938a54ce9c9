"""Which adapter speaks for which carrier slug; the one place that lists them."""

from __future__ import annotations

from backend.integrations.carriers.base import CarrierAdapter
from backend.integrations.carriers.harbour_post.adapter import HarbourPostAdapter
from backend.integrations.carriers.pearl_river.adapter import PearlRiverAdapter
from backend.integrations.carriers.swiftlink.adapter import SwiftLinkAdapter

# Adapters hold no state (credentials and the client come with every call): one each is enough.
_ADAPTERS: dict[str, CarrierAdapter] = {
    adapter.slug: adapter
    for adapter in (HarbourPostAdapter(), PearlRiverAdapter(), SwiftLinkAdapter())
}


def get_adapter(slug: str) -> CarrierAdapter:
    """The adapter for a carrier slug such as "harbour-post"; KeyError for a slug we do not know."""
    try:
        return _ADAPTERS[slug]
    except KeyError:
        known = ", ".join(sorted(_ADAPTERS))
        raise KeyError(f"no carrier adapter for {slug!r} (known: {known})") from None


def all_adapters() -> list[CarrierAdapter]:
    """Every adapter, in slug order."""
    return [_ADAPTERS[slug] for slug in sorted(_ADAPTERS)]
