"""Merchant accounts the sandbox providers know, as a provider's dashboard would hold them.

Loaded from the JSON file named by SANDBOX_PSP_ACCOUNTS (the demo data writes it when it
generates each tenant's keys) and extendable at run time through
`POST /_sandbox/payments/accounts` (tests). Shape: {provider: {account_key: record}}, where
each provider picks its own account key (Adyen: merchant account; Alipay: app id; ...) and
record fields (webhook URL, HMAC key, the provider's own private key, ...).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("waybill.sandbox.payments")


class PspAccounts:
    def __init__(self, path: str = ""):
        self._path = Path(path) if path else None
        self._mtime = -1.0
        self._from_file: dict[str, dict[str, dict]] = {}
        self._added: dict[str, dict[str, dict]] = {}

    def _reload_if_changed(self) -> None:
        # The demo may (re)write the file while the sandbox runs: read it again when it changes.
        if self._path is None or not self._path.exists():
            return
        mtime = self._path.stat().st_mtime
        if mtime == self._mtime:
            return
        try:
            data = json.loads(self._path.read_text())
        except ValueError:
            log.warning("ignoring unreadable %s", self._path)
            return
        self._from_file = data if isinstance(data, dict) else {}
        self._mtime = mtime

    def get(self, provider: str, key: str) -> dict | None:
        """The record of one merchant account, or None when the provider does not know it."""
        self._reload_if_changed()
        return self._added.get(provider, {}).get(key) or self._from_file.get(provider, {}).get(key)

    def all(self, provider: str) -> dict[str, dict]:
        self._reload_if_changed()
        return {**self._from_file.get(provider, {}), **self._added.get(provider, {})}

    def find(self, provider: str, field: str, value: str) -> tuple[str, dict] | None:
        """The account whose record has `field` == `value` (e.g. the one an API key belongs to)."""
        for key, record in self.all(provider).items():
            if value and record.get(field) == value:
                return key, record
        return None

    def add(self, provider: str, key: str, record: dict) -> None:
        self._added.setdefault(provider, {})[key] = record
