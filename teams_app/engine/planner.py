"""The planner: one process at a time (a lease) turns due schedule entries into queue work.

Every tick, the lease holder reads the schedule index from where it last planned up to a
short lookahead, groups the learners by instant into "check" messages of up to
:data:`BATCH` learners, and puts them on the delivery queue, each invisible until its
instant. The tick reads only the index partitions of the minutes being planned, so it costs
in proportion to what is due, not to the number of learners. A new leader starts a little
in the past: entries planned twice are harmless (a worker skips a learner whose contact no
longer points at that instant, and the ledger never sends a campaign twice).
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from teams_app.engine.clock import Clock
from teams_app.storage.engine_ports import DeliveryQueue, Leases, ScheduleIndex
from teams_app.storage.ports import LearnerKey

logger = logging.getLogger(__name__)

BATCH = 64
LEASE_NAME = "planner"
TICK = timedelta(minutes=5)
LOOKAHEAD = timedelta(minutes=15)
RESTART_LOOKBACK = timedelta(hours=1)


def owner_name() -> str:
    """A name for this process, for leases and ledger claims."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class Planner:
    """Plans due schedule entries onto the queue (see the module docstring).

    Each tick reads the window from a little before the previous tick (an entry added just
    behind the planner is still found) to ``lookahead`` ahead, and remembers what it put on
    the queue, so an entry is planned once per leader however many windows it falls in.
    """

    def __init__(
        self,
        leases: Leases,
        schedule: ScheduleIndex,
        queue: DeliveryQueue,
        clock: Clock,
        *,
        owner: str,
        lease_seconds: float = 60.0,
        tick: timedelta = TICK,
        lookahead: timedelta = LOOKAHEAD,
    ) -> None:
        self._leases = leases
        self._schedule = schedule
        self._queue = queue
        self._clock = clock
        self._owner = owner
        self._lease_seconds = lease_seconds
        self.tick_every = tick
        self._lookahead = max(lookahead, 3 * tick)
        self._last_tick: datetime | None = None
        self._planned: set[tuple[datetime, LearnerKey]] = set()

    async def tick(self) -> int:
        """Plan what is due; returns how many learners were put on the queue (0 when another
        process holds the lease)."""
        now = self._clock.now()
        ttl = self._lease_seconds * self._clock.speed  # the lease is kept in simulated time
        if not await self._leases.acquire(LEASE_NAME, self._owner, ttl, now):
            self._last_tick = None  # someone else plans; if we lead again, look back
            self._planned.clear()
            return 0
        start = (
            now - RESTART_LOOKBACK
            if self._last_tick is None
            else self._last_tick - 2 * self.tick_every
        )
        end = now + self._lookahead
        due = [
            (at, key)
            for at, key in await self._schedule.due(start, end)
            if (at, key) not in self._planned
        ]
        by_instant: dict[datetime, list[LearnerKey]] = defaultdict(list)
        for at, key in due:
            by_instant[at].append(key)
        for at, keys in sorted(by_instant.items()):
            delay = self._clock.real_seconds(max(0.0, (at - now).total_seconds()))
            for first in range(0, len(keys), BATCH):
                learners = [[k.tenant_id, k.user_id] for k in keys[first : first + BATCH]]
                await self._queue.put(
                    {"type": "check", "at": at.isoformat(), "learners": learners}, delay=delay
                )
                self._planned.update((at, k) for k in keys[first : first + BATCH])
        self._planned = {(at, k) for at, k in self._planned if at >= start}
        self._last_tick = now
        if due:
            logger.info("planned %d learner(s) up to %s", len(due), end.isoformat())
        return len(due)
