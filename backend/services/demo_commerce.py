"""The demo's prices and payment accounts: a rate card per tenant, and all six providers enabled.

Each provider's keys are generated here, both sides of them (payment_demo/<slug>.py):
our side is stored as a tenant admin would store it, the provider's side is written
to the sandbox's accounts file (DATA_DIR/sandbox/psp_accounts.json, readable by us
only), as the provider's dashboard would hold it. Re-run safely: a tenant's
provider is provisioned again only when either side is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from pathlib import Path

from sqlmodel import Session, select

from backend.config import get_settings
from backend.integrations.payments.registry import PROVIDERS
from backend.models import PaymentProviderAccount, Tenant, TenantRateCard
from backend.services import payment_accounts, pricing
from backend.services.payment_demo import DemoTenant

HARBOUR_RATES = {
    "currency": "HKD",
    "zones": [{"origin": "HK", "destination": "HK", "region": "*", "zone": "local"}],
    "rules": [
        {
            "service_level": "economy",
            "zone": "local",
            "breaks": [[1000, 2500], [3000, 3200], [5000, 3900]],
            "extra_per_kg_minor": 500,
            "max_weight_grams": 30000,
            "transit_days": 3,
        },
        {
            "service_level": "standard",
            "zone": "local",
            "breaks": [[1000, 3500], [3000, 4500], [5000, 5500]],
            "extra_per_kg_minor": 800,
            "max_weight_grams": 30000,
            "transit_days": 1,
        },
        {
            "service_level": "express",
            "zone": "local",
            "breaks": [[1000, 5500], [3000, 6800], [5000, 8000]],
            "extra_per_kg_minor": 1200,
            "max_weight_grams": 20000,
            "transit_days": 0,
        },
    ],
    "surcharges": {
        "fuel_bp": 850,
        "remote_area_minor": 3000,
        "remote_regions": ["Lantau Island", "Cheung Chau", "Lamma Island", "Peng Chau", "Tai O"],
        "oversize_longest_mm": 1000,
        "oversize_minor": 5000,
        "volumetric_divisor_cm3_per_kg": 5000,
        "insurance_bp": 100,
        "insurance_min_minor": 1000,
    },
}
_BAY_CITIES = ["Shenzhen", "Guangzhou", "Dongguan", "Foshan", "Zhuhai", "Zhongshan", "Huizhou"]
DRAGON_RATES = {
    "currency": "HKD",
    "zones": [
        *[
            {"origin": "HK", "destination": "CN", "region": c, "zone": "greater_bay"}
            for c in _BAY_CITIES
        ],
        {"origin": "HK", "destination": "CN", "region": "*", "zone": "mainland"},
        {"origin": "HK", "destination": "MO", "region": "*", "zone": "macau"},
    ],
    "rules": [
        {
            "service_level": "standard",
            "zone": "greater_bay",
            "breaks": [[1000, 6000], [3000, 8500], [5000, 11000]],
            "extra_per_kg_minor": 1800,
            "max_weight_grams": 30000,
            "transit_days": 3,
        },
        {
            "service_level": "express",
            "zone": "greater_bay",
            "breaks": [[1000, 9000], [3000, 12000]],
            "extra_per_kg_minor": 2500,
            "max_weight_grams": 20000,
            "transit_days": 2,
        },
        {
            "service_level": "standard",
            "zone": "mainland",
            "breaks": [[1000, 9000], [3000, 13000], [5000, 17000]],
            "extra_per_kg_minor": 2800,
            "max_weight_grams": 30000,
            "transit_days": 5,
        },
        {
            "service_level": "standard",
            "zone": "macau",
            "breaks": [[1000, 5000], [3000, 7000]],
            "extra_per_kg_minor": 1500,
            "max_weight_grams": 30000,
            "transit_days": 2,
        },
    ],
    "surcharges": {
        "fuel_bp": 1200,
        "oversize_longest_mm": 1000,
        "oversize_minor": 8000,
        "volumetric_divisor_cm3_per_kg": 6000,
        "insurance_bp": 150,
        "insurance_min_minor": 2000,
    },
}
RATE_CARDS = {"harbour-express": HARBOUR_RATES, "dragon-gate": DRAGON_RATES}


def sandbox_accounts_path() -> Path:
    return get_settings().data_dir / "sandbox" / "psp_accounts.json"


def stripe_url(tenant_index: int) -> str:
    """localstripe keeps one state for every key, so each demo tenant gets its own process."""
    return f"http://127.0.0.1:{get_settings().stripe_sandbox_port + tenant_index}"


def _read_accounts(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_accounts(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)
    temporary.replace(path)  # the sandbox never reads half a file


def available_providers() -> list[str]:
    """The providers whose demo provisioning exists in this checkout, in checkout order."""
    return [p for p in PROVIDERS if importlib.util.find_spec(f"backend.services.payment_demo.{p}")]


def seed_commerce(db: Session, sandbox_url: str) -> None:
    """Rate cards and payment provider accounts for every demo tenant that lacks them."""
    settings = get_settings()
    path = sandbox_accounts_path()
    sandbox_side = _read_accounts(path)
    tenants = db.exec(select(Tenant).order_by(Tenant.created_at, Tenant.slug)).all()
    for index, tenant in enumerate(tenants):
        if (
            tenant.slug in RATE_CARDS
            and not db.exec(
                select(TenantRateCard.id).where(TenantRateCard.tenant_id == tenant.id)
            ).first()
        ):
            pricing.save_rate_card(db, tenant.id, RATE_CARDS[tenant.slug])
        have = set(
            db.exec(
                select(PaymentProviderAccount.provider).where(
                    PaymentProviderAccount.tenant_id == tenant.id
                )
            )
        )
        for position, provider in enumerate(available_providers()):
            known = sandbox_side.get(provider, {})
            marker = f"{tenant.slug}"
            if provider in have and any(r.get("tenant") == marker for r in known.values()):
                continue
            module = importlib.import_module(f"backend.services.payment_demo.{provider}")
            demo = DemoTenant(
                slug=tenant.slug,
                name=tenant.name,
                currency=tenant.currency,
                sandbox_url=sandbox_url,
                stripe_url=stripe_url(index),
                webhook_url=f"{settings.base_url}/webhooks/payments/{provider}/{tenant.slug}",
            )
            provision = module.provision(demo)
            payment_accounts.save_provider_account(
                db,
                tenant.id,
                provider,
                api_base=provision.api_base,
                settings=provision.settings,
                secret_values=provision.secrets,
                position=position,
            )
            # Forget an older record of this tenant at this provider before adding the new one.
            known = {k: r for k, r in known.items() if r.get("tenant") != marker}
            known[provision.sandbox_key] = {**provision.sandbox_record, "tenant": marker}
            sandbox_side[provider] = known
    _write_accounts(path, sandbox_side)
