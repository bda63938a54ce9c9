"""What the sandbox providers share in one process: merchant accounts, the webhook sender, state.

Each provider module keeps its own payments and refunds in `store(slug)`, a plain dict
(in memory: a restarted sandbox forgets them, as tests expect).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.sandbox.payments.accounts import PspAccounts
from backend.sandbox.payments.notifier import Notifier


@dataclass
class PaymentSandbox:
    accounts: PspAccounts
    notifier: Notifier
    stores: dict[str, dict] = field(default_factory=dict)

    def store(self, provider: str) -> dict:
        return self.stores.setdefault(provider, {})

    def reset(self) -> None:
        self.stores.clear()
        self.notifier.reset()
