"""Settings for every Waybill process; the only place environment variables are read."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """One settings object drives the app, the Celery workers and Alembic alike."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Database connections kept per process (the app's 5 workers, each Celery process): with
    # PostgreSQL's usual max_connections of 100, 5 workers x (10 + 5) stay within it.
    db_pool_size: int = 10
    db_max_overflow: int = 5

    # Unset URLs mean: start embedded PostgreSQL / Redis under data_dir.
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    embedded_postgres_port: int = 54329
    embedded_redis_port: int = 63790

    # The public address of the portal (pages, state events, API and webhooks share it).
    port: int = 3000
    public_url: str | None = None

    # Sessions: idle and absolute expiry, and the login throttle.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # Login throttle. One (account, IP) pair is slowed down after a few failures with a
    # doubling pause; the account as a whole only pauses briefly, so that a stranger
    # hammering it cannot keep its owner out for long; one IP spraying many accounts pauses longest.
    login_window_seconds: int = 900
    login_failures_per_pair: int = 5
    login_pair_base_pause_seconds: int = 30
    login_pair_max_pause_seconds: int = 900
    login_failures_per_account: int = 50
    login_account_pause_seconds: int = 60
    login_failures_per_ip: int = 30
    login_ip_pause_seconds: int = 900
    secure_cookies: bool = False

    # Public tracking: lookups per client (every number counts), numbers nobody knows
    # (the sign of someone enumerating), and second-factor attempts per shipment.
    tracking_lookups_per_minute: int = 120
    tracking_misses_per_10_minutes: int = 20
    tracking_verify_attempts_per_hour: int = 5
    # Load balancers in front of us whose X-Forwarded-For we believe (0: none).
    trusted_proxy_hops: int = 0

    # Envelope encryption of tenant secrets: this key (32 bytes, base64) wraps each tenant's
    # data key. Unset, a key is generated once into DATA_DIR/master.key (fine for a demo;
    # production sets MASTER_KEY from a secret store, never from the database).
    master_key: str = Field(default="", repr=False)

    # Tracking sync: the cadence unit (60 s: out-for-delivery parcels polled every 5 minutes)
    # and how many due parcels one dispatch hands out.
    tracking_poll_unit_seconds: float = 60.0
    tracking_dispatch_limit: int = 2000

    # The demo's offline carriers (and payment providers) listen here; `make run` starts them
    # and the demo data points the demo carrier accounts at them.
    sandbox_port: int = 8790
    # localstripe (the Stripe stand-in) for the first demo tenant; the next tenant gets the next port.
    stripe_sandbox_port: int = 8420

    # Internal calls from workers to the app (live page refresh) carry this secret.
    internal_token: str = Field(default="", repr=False)

    # Celery health probe: how long /healthz waits for the worker to answer.
    health_worker_timeout_seconds: float = 3.0

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://localhost:{self.port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read settings once per process."""
    return Settings()
