"""Demo accounts with the six payment providers, generated when the demo data is loaded.

A real tenant admin pastes keys from each provider's dashboard; the demo has no
dashboard, so each module here (one per provider, `<slug>.py`, with a
`provision(tenant) -> DemoProvision` function) makes both sides' keys: what our
side stores (settings in `payment_provider_account`, secrets sealed in
`tenant_secret`) and what the provider's side must know (the record the sandbox
reads from its accounts file, as a provider's dashboard would hold it).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoTenant:
    slug: str  # e.g. "harbour-express"
    name: str  # shown on the hosted pages as the merchant
    currency: str  # e.g. "HKD"
    sandbox_url: str  # http://127.0.0.1:<sandbox port>: providers are mounted at /<slug> under it
    stripe_url: str  # where localstripe answers for this tenant (its own process)
    webhook_url: str  # https?://.../webhooks/payments/<provider>/<tenant slug>, filled per provider


@dataclass(frozen=True)
class DemoProvision:
    api_base: str  # the provider's API root our adapter calls
    settings: dict[str, str] = field(default_factory=dict)  # not secret: merchant id, app id...
    secrets: dict[str, str] = field(default_factory=dict)  # sealed in tenant_secret
    sandbox_key: str = ""  # the provider's name for this merchant account (its dict key)
    sandbox_record: dict = field(default_factory=dict)  # what the provider's side knows
