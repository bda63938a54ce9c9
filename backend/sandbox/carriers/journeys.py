"""Journeys in progress: a parcel starts when first seen and takes one step every step_seconds."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from backend.sandbox.carriers.scenarios import Plan, Step, plan_for

MAX_JOURNEYS = 500_000  # the oldest are forgotten past this


@dataclass(frozen=True)
class Event:
    index: int  # position in the journey, from 0: the basis of every carrier's stable event id
    step: Step
    at: int  # unix seconds (whole: the carriers' timestamps have no fractions)


@dataclass(frozen=True)
class Journey:
    plan: Plan
    started_at: float  # unix time of the first event
    step_seconds: float

    def visible_count(self, now: float) -> int:
        """How many events have happened by `now` (the first one at once)."""
        if now < self.started_at:
            return 0
        return min(
            len(self.plan.steps), math.floor((now - self.started_at) / self.step_seconds) + 1
        )

    def event(self, index: int) -> Event:
        at = math.floor(self.started_at + index * self.step_seconds)
        return Event(index, self.plan.steps[index], at)

    def events(self, now: float) -> list[Event]:
        return [self.event(i) for i in range(self.visible_count(now))]

    def finished(self, now: float) -> bool:
        return self.visible_count(now) == len(self.plan.steps)


class Journeys:
    def __init__(self, step_seconds: float, clock: Callable[[], float] = time.time):
        self.step_seconds = step_seconds
        self.clock = clock
        self._journeys: dict[tuple[str, str], Journey] = {}

    def start(self, carrier: str, number: str, now: float | None = None) -> Journey:
        """The journey of a (normalized) number, started `now` if the carrier had not seen it."""
        journey = self._journeys.get((carrier, number))
        if journey is None:
            now = self.clock() if now is None else now
            if len(self._journeys) >= MAX_JOURNEYS:
                del self._journeys[next(iter(self._journeys))]
            journey = Journey(plan_for(carrier, number), now, self.step_seconds)
            self._journeys[(carrier, number)] = journey
        return journey

    def get(self, carrier: str, number: str) -> Journey | None:
        return self._journeys.get((carrier, number))

    def reset(self) -> None:
        self._journeys.clear()
