"""Pacing of outbound messages: per tenant, per conversation, and a pause after throttling.

Teams throttles a bot per app per tenant (documented as 50 requests per second, "subject to
change") and per conversation (7 per second, fewer over longer windows). A :class:`RateGate`
hands out send slots so that a tenant's messages leave at most at the configured rate, one
conversation gets at most one message a second, and after a 429 the whole tenant waits out
``Retry-After``.

The gate is a GCRA ("virtual scheduling"): each key keeps the theoretical time of its next
slot; reserving a slot moves that time on by one interval. It never bursts above the rate,
so a connector that counts requests in any one-second window sees at most ``rate`` of them.
:class:`LocalRateGate` paces one process; the engine's table-backed gate shares the tenant's
schedule among processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

CONVERSATION_INTERVAL_SECONDS = 1.0


class RateGate(Protocol):
    """Hands out send slots."""

    async def reserve(self, tenant_id: str, conversation_id: str, max_wait: float) -> float | None:
        """Reserve the next slot for one message if it comes within ``max_wait`` seconds;
        returns how many seconds to wait for it, or ``None`` (nothing reserved)."""
        ...

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """Hold every send of the tenant for ``seconds`` (after a 429)."""
        ...


class LocalRateGate:
    """:class:`RateGate` for one process."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        conversation_interval: float = CONVERSATION_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate_per_second
        self._conversation_interval = conversation_interval
        self._clock = clock
        self._tenants: dict[str, float] = {}
        self._paused: dict[str, float] = {}
        self._conversations: dict[str, float] = {}
        self._max_keys = max_keys

    async def reserve(self, tenant_id: str, conversation_id: str, max_wait: float) -> float | None:
        """See :meth:`RateGate.reserve`."""
        return self.reserve_now(tenant_id, conversation_id, max_wait)

    def reserve_now(self, tenant_id: str, conversation_id: str, max_wait: float) -> float | None:
        """:meth:`reserve` without awaiting."""
        now = self._clock()
        self._forget_old(now)
        earliest = max(now, self._conversations.get(conversation_id, now))
        slot = max(earliest, self._tenants.get(tenant_id, now), self._paused.get(tenant_id, now))
        if slot - now > max_wait:
            return None
        self._tenants[tenant_id] = slot + self._interval
        self._conversations[conversation_id] = slot + self._conversation_interval
        return slot - now

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """See :meth:`RateGate.pause`."""
        until = self._clock() + max(0.0, seconds)
        self._paused[tenant_id] = max(self._paused.get(tenant_id, 0.0), until)

    def _forget_old(self, now: float) -> None:
        if len(self._conversations) <= self._max_keys:
            return
        self._conversations = {k: v for k, v in self._conversations.items() if v > now}
        self._tenants = {k: v for k, v in self._tenants.items() if v > now}
        self._paused = {k: v for k, v in self._paused.items() if v > now}
