"""Pacing of outbound messages: per tenant, per conversation, and a pause after throttling.

Teams throttles a bot per app per tenant (documented as 50 requests per second, "subject to
change") and per conversation (7 per second, fewer over longer windows). A :class:`RateGate`
hands out send slots so that a tenant's messages leave at most at the configured rate, one
conversation gets at most one message a second, and after a 429 the whole tenant waits out
``Retry-After``.

The gate is a GCRA ("virtual scheduling"): each key keeps the theoretical time of its next
slot; reserving a slot moves that time on by one interval. It never bursts above the rate,
so a connector that counts requests in any one-second window sees at most ``rate`` of them,
as long as each slot is used on time. A slot used late (the event loop was busy, a claim
took long) would bunch with the next ones, so :class:`BurstGuard` checks again just before
each request: a process never sends more than ``rate`` of a tenant's messages in any one
second.
:class:`LocalRateGate` paces one process; the engine's table-backed gate shares the tenant's
schedule among processes.

Repeated 429s mean the real limit is lower than ours (other apps' traffic, a lower limit
than documented), so from the second 429 within :data:`RECOVERY_SECONDS` the tenant's rate
is cut by a quarter (:data:`SLOWDOWN`, never below a sixteenth) at each, and recovers,
doubling every :data:`RECOVERY_SECONDS` without a 429: a storm of 429s brings the rate down
within a few of them, and the sender settles just under what the connector admits instead of
bursting into it after every pause. One stray 429 (a request that met a busy moment) costs
only its pause, and the requests already in flight when it came, refused too, count as that
same 429 (:func:`after_429`). Each pause also starts a new *generation*: a slot reserved
before it is given back rather than used.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

CONVERSATION_INTERVAL_SECONDS = 1.0
SLOWDOWN = 0.75
SLOWDOWN_FLOOR = 1 / 16
RECOVERY_SECONDS = 10.0


def recovered(factor: float, since: float, now: float) -> float:
    """The rate factor ``now`` of a tenant slowed to ``factor`` at ``since``."""
    growth: float = 2.0 ** (max(0.0, now - since) / RECOVERY_SECONDS)
    return min(1.0, factor * growth)


def slowed(factor: float, since: float, now: float) -> float:
    """The rate factor after another 429 at ``now``."""
    return max(SLOWDOWN_FLOOR, recovered(factor, since, now) * SLOWDOWN)


def after_429(
    factor: float, since: float, last: float | None, paused_until: float, now: float
) -> tuple[float, float]:
    """The tenant's rate factor and its time after a 429 at ``now`` (``last``: the previous
    429 that counted). Requests already in flight when the tenant was paused come back 429
    too: while paused, nothing changes. A first 429 after :data:`RECOVERY_SECONDS` without
    one only pauses (a request that met a busy network moment); another within that time
    means the limit really is lower, and the rate is cut."""
    if now < paused_until:
        return factor, since
    if last is None or now - last >= RECOVERY_SECONDS:
        return recovered(factor, since, now), now
    return slowed(factor, since, now), now


class RateGate(Protocol):
    """Hands out send slots."""

    async def reserve(self, tenant_id: str, conversation_id: str, max_wait: float) -> float | None:
        """Reserve the next slot for one message if it comes within ``max_wait`` seconds;
        returns how many seconds to wait for it, or ``None`` (nothing reserved)."""
        ...

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """Hold every send of the tenant for ``seconds`` and slow it down (after a 429)."""
        ...

    async def admit(self, tenant_id: str) -> None:
        """Just before a request goes out: wait while this process has already sent the
        rate's worth of the tenant's messages in the last second (see :class:`BurstGuard`)."""
        ...

    def generation(self, tenant_id: str) -> int:
        """How many times this process paused the tenant: a slot reserved in an earlier
        generation is stale."""
        ...


class BurstGuard:
    """At most ``n = ceil(rate)`` of a tenant's requests from this process in any window of
    ``n / rate`` seconds (so never more than ``n`` in one second, and ``rate`` a second over
    time), and never two closer than half the rate's interval: sends a busy event loop woke
    together go out spread, not at once, so the connector's own one-second windows (which
    count arrivals, a little earlier or later than our sends) don't see them bunched."""

    def __init__(self, rate_per_second: float, clock: Callable[[], float] = time.monotonic):
        self._limit = max(1, math.ceil(rate_per_second))
        self._window = self._limit / rate_per_second
        self._gap = 0.5 / rate_per_second
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    async def admit(self, tenant_id: str) -> None:
        """Wait, if need be, until one more request fits in the tenant's last second."""
        sent = self._sent.setdefault(tenant_id, deque())
        while True:
            now = self._clock()
            while sent and sent[0] <= now - self._window:
                sent.popleft()
            spaced = not sent or now - sent[-1] >= self._gap
            if spaced and len(sent) < self._limit:
                sent.append(now)
                return
            wait = sent[-1] + self._gap - now if not spaced else sent[0] + self._window - now
            await asyncio.sleep(max(wait, 0.0))


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
        self._slow: dict[str, tuple[float, float]] = {}  # tenant: (factor, since)
        self._last_429: dict[str, float] = {}
        self._generations: dict[str, int] = {}
        self._max_keys = max_keys
        self._burst = BurstGuard(rate_per_second, clock)

    async def admit(self, tenant_id: str) -> None:
        """See :meth:`RateGate.admit`."""
        await self._burst.admit(tenant_id)

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
        factor, since = self._slow.get(tenant_id, (1.0, now))
        self._tenants[tenant_id] = slot + self._interval / recovered(factor, since, now)
        self._conversations[conversation_id] = slot + self._conversation_interval
        return slot - now

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """See :meth:`RateGate.pause`."""
        now = self._clock()
        until = now + max(0.0, seconds)
        paused = self._paused.get(tenant_id, 0.0)
        if now >= paused:  # not a straggler of the pause under way
            factor, since = self._slow.get(tenant_id, (1.0, now))
            last = self._last_429.get(tenant_id)
            self._slow[tenant_id] = after_429(factor, since, last, paused, now)
            self._last_429[tenant_id] = now
        self._paused[tenant_id] = max(paused, until)
        self._generations[tenant_id] = self._generations.get(tenant_id, 0) + 1

    def generation(self, tenant_id: str) -> int:
        """See :meth:`RateGate.generation`."""
        return self._generations.get(tenant_id, 0)

    def _forget_old(self, now: float) -> None:
        if len(self._conversations) <= self._max_keys:
            return
        self._conversations = {k: v for k, v in self._conversations.items() if v > now}
        self._tenants = {k: v for k, v in self._tenants.items() if v > now}
        self._paused = {k: v for k, v in self._paused.items() if v > now}
