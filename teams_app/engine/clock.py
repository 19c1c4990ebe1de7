"""The engine's clock: real time, or (local development only) a faster one.

With a speed of 1440, a simulated day passes in a real minute, so a person watching the
Agents Playground sees the first day's quiet hours pass, then a challenge and a review
arrive, within a minute or two. The web app and the worker share the epoch (the real instant
the simulated time starts from), so both see the same simulated time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Clock:
    """Simulated UTC time running ``speed`` times faster than real time since ``epoch`` (or,
    with ``source``, whatever time that callable says: tests set the time themselves)."""

    speed: float = 1.0
    epoch: float = 0.0  # unix seconds at which simulated time equals real time
    source: Callable[[], datetime] | None = None

    def now(self) -> datetime:
        """The current (simulated) UTC time."""
        if self.source is not None:
            return self.source()
        real = time.time()
        if self.speed == 1.0:
            return datetime.fromtimestamp(real, UTC)
        return datetime.fromtimestamp(self.epoch + (real - self.epoch) * self.speed, UTC)

    def real_seconds(self, simulated: float) -> float:
        """How long ``simulated`` seconds take in real time."""
        return simulated / self.speed
