"""Everything one sandbox process remembers, in memory: accounts, limits, faults, log, journeys, pushes."""

from __future__ import annotations

from dataclasses import dataclass

from backend.sandbox.carriers.accounts import merged_accounts
from backend.sandbox.carriers.faults import Faults
from backend.sandbox.carriers.journeys import Journeys
from backend.sandbox.carriers.limits import Limiter
from backend.sandbox.carriers.push import PushDispatcher
from backend.sandbox.carriers.settings import SandboxSettings
from backend.sandbox.carriers.stats import RequestLog


@dataclass
class Sandbox:
    settings: SandboxSettings
    accounts: dict[str, dict]
    limiter: Limiter
    faults: Faults
    log: RequestLog
    journeys: Journeys
    pushes: PushDispatcher

    @classmethod
    def build(cls, settings: SandboxSettings) -> Sandbox:
        log = RequestLog()
        journeys = Journeys(settings.step_seconds)
        return cls(
            settings=settings,
            accounts=merged_accounts(settings.extra_keys),
            limiter=Limiter(),
            faults=Faults(settings.seed),
            log=log,
            journeys=journeys,
            pushes=PushDispatcher(journeys, log, settings),
        )

    def reset(self) -> None:
        """Forget journeys, subscriptions, buckets, faults and the log (POST /_sandbox/reset)."""
        self.pushes.reset()
        self.journeys.reset()
        self.limiter.reset()
        self.faults.reset()
        self.log.reset()
