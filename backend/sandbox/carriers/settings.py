"""The sandbox's own settings, read from SANDBOX_* environment variables (the only place it reads env)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxSettings:
    step_seconds: float = 20.0  # one journey step this often
    seed: int | None = None  # seeds the fault dice, so a test run can be replayed
    extra_keys: dict[str, dict] = field(default_factory=dict)  # api_key -> account, as accounts.py
    push_attempts: int = 5  # SwiftLink tries a push this many times in all
    push_backoff_seconds: float = 1.0  # first retry delay; doubles each time, capped below
    push_backoff_cap_seconds: float = 60.0
    psp_accounts_path: str = (
        ""  # JSON of the payment providers' merchant accounts (payments/accounts.py)
    )


def load_settings(env: Mapping[str, str] | None = None) -> SandboxSettings:
    """Read and check the settings; a bad value stops the sandbox at start with a clear message."""
    env = os.environ if env is None else env
    step = _number(env, "SANDBOX_STEP_SECONDS", 20.0)
    if not 0.01 <= step <= 86_400:
        raise ValueError("SANDBOX_STEP_SECONDS must be between 0.01 and 86400")
    seed_text = env.get("SANDBOX_SEED", "").strip()
    try:
        seed = int(seed_text) if seed_text else None
    except ValueError:
        raise ValueError("SANDBOX_SEED must be an integer") from None
    extra_text = env.get("SANDBOX_EXTRA_KEYS", "").strip()
    try:
        extra = json.loads(extra_text) if extra_text else {}
    except ValueError:
        raise ValueError(
            "SANDBOX_EXTRA_KEYS must be JSON: {api_key: {carrier, webhook_secret}}"
        ) from None
    if not isinstance(extra, dict):
        raise ValueError("SANDBOX_EXTRA_KEYS must be a JSON object")
    attempts = int(_number(env, "SANDBOX_PUSH_ATTEMPTS", 5))
    backoff = _number(env, "SANDBOX_PUSH_BACKOFF_SECONDS", 1.0)
    if not 1 <= attempts <= 20 or not 0 <= backoff <= 3600:
        raise ValueError("SANDBOX_PUSH_ATTEMPTS is 1-20 and SANDBOX_PUSH_BACKOFF_SECONDS 0-3600")
    return SandboxSettings(
        psp_accounts_path=env.get("SANDBOX_PSP_ACCOUNTS", "").strip(),
        step_seconds=step,
        seed=seed,
        extra_keys=extra,
        push_attempts=attempts,
        push_backoff_seconds=backoff,
    )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
