"""The API keys and webhook secrets the sandbox carriers accept (the demo tenants store exactly these)."""

from __future__ import annotations

from collections.abc import Mapping

CARRIERS = ("harbour-post", "pearl-river", "swiftlink")

# api_key -> {"carrier": slug, "webhook_secret": secret or None}
ACCOUNTS: dict[str, dict] = {
    "hp-demo-harbour-express": {"carrier": "harbour-post", "webhook_secret": None},
    "hp-demo-dragon-gate": {"carrier": "harbour-post", "webhook_secret": None},
    "pr-demo-harbour-express": {"carrier": "pearl-river", "webhook_secret": None},
    "pr-demo-dragon-gate": {"carrier": "pearl-river", "webhook_secret": None},
    "sl-demo-harbour-express": {
        "carrier": "swiftlink",
        "webhook_secret": "whsec-sl-harbour-express",
    },
    "sl-demo-dragon-gate": {"carrier": "swiftlink", "webhook_secret": "whsec-sl-dragon-gate"},
}


def merged_accounts(extra: Mapping[str, Mapping] | None = None) -> dict[str, dict]:
    """The demo accounts plus extra ones of the same shape (tests pass SANDBOX_EXTRA_KEYS)."""
    accounts = {key: dict(value) for key, value in ACCOUNTS.items()}
    for key, value in (extra or {}).items():
        if not isinstance(key, str) or not key or not isinstance(value, Mapping):
            raise ValueError("each extra key maps a non-empty string to {carrier, webhook_secret}")
        carrier = value.get("carrier")
        secret = value.get("webhook_secret")
        if carrier not in CARRIERS:
            raise ValueError(f"extra key {key[:6]}…: carrier must be one of {', '.join(CARRIERS)}")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise ValueError(f"extra key {key[:6]}…: webhook_secret must be a non-empty string")
        if carrier == "swiftlink" and secret is None:
            raise ValueError(f"extra key {key[:6]}…: a swiftlink key needs a webhook_secret")
        accounts[key] = {"carrier": carrier, "webhook_secret": secret}
    return accounts
