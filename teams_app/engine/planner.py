"""The planner: one process at a time (a lease) turns due schedule entries into queue work.

Every tick, the lease holder reads the schedule index from where it last planned up to a
short lookahead, groups the learners into "check" messages of up to :data:`BATCH`
learners, and puts them on the delivery queue, each invisible until its learners' time.
The tick reads only the index's tables for the hours being planned, so it costs in
proportion to what is due, not to the number of learners. A new leader looks back two days
(what a planner outage left behind is still checked, late rather than never): entries
planned twice are harmless (a worker skips a learner whose contact no longer points at
that instant, and the ledger never sends a campaign twice)."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from teams_app.engine.clock import Clock
from teams_app.storage.engine_ports import DeliveryQueue, Leases, ScheduleIndex
from teams_app.storage.ports import LearnerKey

logger = logging.getLogger(__name__)

BATCH = 512  # learners per check message (under 48 KB with GUID ids)
LEASE_NAME = "planner"
TICK = timedelta(minutes=5)
LOOKAHEAD = timedelta(minutes=15)
BUCKET = timedelta(minutes=5)  # learners due within one bucket share a check message
RESTART_LOOKBACK = timedelta(hours=48)  # a new leader looks this far back, once
KEEP_HOURS = timedelta(hours=48)  # the index keeps planned hours this long
PUTS_AT_ONCE = 8
SKEW = timedelta(minutes=1)  # how far apart two hosts' clocks may be
LEASE_TICKS = 4  # the planner's lease lasts this many ticks


def owner_name() -> str:
    """A name for this process, for leases and ledger claims."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class Planner:
    """Plans due schedule entries onto the queue (see the module docstring).

    Each tick reads the window from the previous tick (an entry is always added for a later
    minute than the one it is added in, so nothing new lies before) to ``lookahead`` ahead,
    and remembers what it put on the queue, so an entry is planned once per leader however
    many windows it falls in.
    Learners due within one five-minute bucket go in the same check messages, each with its
    own instant, which come up at the end of the bucket: at most a few minutes late, and
    never early (a check before a learner's instant would find nothing due).
    """

    def __init__(
        self,
        leases: Leases,
        schedule: ScheduleIndex,
        queue: DeliveryQueue,
        clock: Clock,
        *,
        owner: str,
        tick: timedelta = TICK,
        lookahead: timedelta = LOOKAHEAD,
    ) -> None:
        self._leases = leases
        self._schedule = schedule
        self._queue = queue
        self._clock = clock
        self._owner = owner
        self.tick_every = tick
        self._lookahead = max(lookahead, 3 * tick)
        self._last_tick: datetime | None = None
        self._planned: set[tuple[datetime, LearnerKey]] = set()
        self._purged_before: datetime | None = None
        self._lease_until = datetime.min.replace(tzinfo=UTC)

    async def tick(self) -> int:
        """Plan what is due; returns how many learners were put on the queue (0 when another
        process holds the lease)."""
        now = self._clock.now()
        if self._last_tick is None:  # not leading yet: plan only once the lease is ours
            if not await self._renew(now):
                return 0
            return await self._plan(now - RESTART_LOOKBACK, now)
        # An entry is only ever added for a later minute than when it was added, so what is
        # new since the last tick lies after it (a minute's margin for clock skew).
        start = self._last_tick - SKEW
        if self._lease_until - now > 2 * self.tick_every:  # held for two more ticks at least
            return await self._plan(start, now)
        # Plan while the lease is renewed. Had it been lost, the new leader plans the same
        # entries again, which is harmless (see the module docstring).
        leading, planned = await asyncio.gather(self._renew(now), self._plan(start, now))
        if not leading:  # someone else plans now; if we lead again, we look back
            self._last_tick = None
            self._planned.clear()
            return 0
        return planned

    async def _renew(self, now: datetime) -> bool:
        """Take or renew the lease for four ticks; renewed when two are left, so a leader
        that stops is replaced within four ticks (what it planned is on the queue already)."""
        held = await self._leases.acquire(
            LEASE_NAME, self._owner, LEASE_TICKS * self.tick_every.total_seconds(), now
        )
        if held:
            self._lease_until = now + LEASE_TICKS * self.tick_every
        return held

    async def _plan(self, start: datetime, now: datetime) -> int:
        end = now + self._lookahead
        due = [e for e in await self._schedule.due(start, end) if e not in self._planned]
        buckets: dict[datetime, list[tuple[datetime, LearnerKey]]] = defaultdict(list)
        for at, key in _taking_turns(due):
            buckets[_bucket(at)].append((at, key))
        messages = [
            (max(at for at, _ in group), group)
            for entries in buckets.values()
            for group in (entries[i : i + BATCH] for i in range(0, len(entries), BATCH))
        ]
        slots = asyncio.Semaphore(PUTS_AT_ONCE)

        async def put(last: datetime, group: list[tuple[datetime, LearnerKey]]) -> None:
            base = group[0][0]  # the earliest: each learner's instant is minutes after it
            body = {
                "type": "check",
                "at": base.isoformat(),
                "learners": [
                    [k.tenant_id, k.user_id, round((at - base).total_seconds() / 60)]
                    for at, k in group
                ],
            }
            delay = self._clock.real_seconds(max(0.0, (last - now).total_seconds()))
            async with slots:
                await self._queue.put(body, delay=delay)
            self._planned.update(group)

        await asyncio.gather(*(put(last, group) for last, group in messages))
        self._planned = {(at, k) for at, k in self._planned if at >= start}
        self._last_tick = now
        if due:
            logger.info("planned %d learner(s) up to %s", len(due), end.isoformat())
        return len(due)

    async def housekeeping(self) -> None:
        """Drop the index's hours that are long planned (does something once an hour, and
        only in the leading process)."""
        if self._last_tick is None:
            return
        before = (self._last_tick - KEEP_HOURS).replace(minute=0, second=0, microsecond=0)
        if self._purged_before != before:
            await self._schedule.purge(before)
            self._purged_before = before


def _taking_turns(
    entries: list[tuple[datetime, LearnerKey]],
) -> list[tuple[datetime, LearnerKey]]:
    """Entries in time order, tenants taking turns among those due at the same instant (the
    index lists them tenant by tenant): so every tenant's campaign starts at once, and one
    tenant's thousands of learners don't hold up another's first messages."""
    turns: Counter[tuple[datetime, str]] = Counter()
    ranked = []
    for at, key in sorted(entries, key=lambda e: e[0]):
        turn = turns[(at, key.tenant_id)]
        turns[(at, key.tenant_id)] += 1
        ranked.append((at, turn, key.tenant_id, key))
    ranked.sort(key=lambda r: r[:3])
    return [(at, key) for at, _turn, _tenant, key in ranked]


def _bucket(at: datetime) -> datetime:
    minutes = int(BUCKET.total_seconds() // 60)
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0)
