"""Injected faults per carrier: answer 503 or hang before answering, with given probabilities."""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import asdict, dataclass

from backend.sandbox.carriers.accounts import CARRIERS

MAX_HANG_SECONDS = 600.0


class FaultRequestError(ValueError):
    """The body of POST /_sandbox/faults is wrong; the message says how."""


@dataclass
class Fault:
    error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 0.0


class Faults:
    """The current faults of every carrier and the dice (seeded by SANDBOX_SEED when set)."""

    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed)
        self._faults = {carrier: Fault() for carrier in CARRIERS}

    def view(self) -> dict[str, dict]:
        return {carrier: asdict(fault) for carrier, fault in self._faults.items()}

    def configure(self, body: object) -> dict:
        """Apply a faults request; `reset` first clears the carrier (or all, with no carrier)."""
        if not isinstance(body, dict):
            raise FaultRequestError("the body is a JSON object")
        reset = body.get("reset", False)
        if not isinstance(reset, bool):
            raise FaultRequestError("reset is true or false")
        carrier = body.get("carrier")
        if carrier is None and reset:
            self.reset()
            return {"faults": self.view()}
        if carrier not in self._faults:
            raise FaultRequestError(f"carrier is one of {', '.join(CARRIERS)}")
        values = {
            "error_rate": _number(body, "error_rate", 0.0, 1.0),
            "hang_rate": _number(body, "hang_rate", 0.0, 1.0),
            "hang_seconds": _number(body, "hang_seconds", 0.0, MAX_HANG_SECONDS),
        }
        fault = Fault() if reset else self._faults[carrier]
        for name, value in values.items():
            if value is not None:
                setattr(fault, name, value)
        self._faults[carrier] = fault
        return {"carrier": carrier, **asdict(fault)}

    def reset(self) -> None:
        self._faults = {carrier: Fault() for carrier in CARRIERS}

    async def strike(self, carrier: str) -> bool:
        """Roll the dice for one request: maybe hang (without blocking others); True means 503."""
        fault = self._faults[carrier]
        if fault.hang_rate and self._rng.random() < fault.hang_rate:
            await asyncio.sleep(fault.hang_seconds)
        return bool(fault.error_rate) and self._rng.random() < fault.error_rate


def _number(body: dict, name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaultRequestError(f"{name} is a number")
    if not low <= value <= high:
        raise FaultRequestError(f"{name} is between {low:g} and {high:g}")
    return float(value)
