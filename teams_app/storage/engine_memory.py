"""In-memory fakes of the engine's ports, held to the same contract tests as the Azure ones."""

from __future__ import annotations

import copy
import itertools
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from teams_app.storage.engine_ports import (
    OPEN_STATES,
    Claim,
    EnginePorts,
    Held,
    Outcome,
    QueueMessage,
    State,
)
from teams_app.storage.keys import join_key
from teams_app.storage.ports import LearnerKey

CLAIM_LEASE = timedelta(seconds=60)


class MemorySchedule:
    """:class:`ScheduleIndex` in a set."""

    def __init__(self) -> None:
        self._rows: set[tuple[datetime, LearnerKey]] = set()

    async def add(self, at: datetime, key: LearnerKey) -> None:
        self._rows.add((at.replace(second=0, microsecond=0), key))

    async def due(self, start: datetime, end: datetime) -> list[tuple[datetime, LearnerKey]]:
        return sorted(
            ((at, key) for at, key in self._rows if start <= at < end),
            key=lambda r: (r[0], r[1].tenant_id, r[1].user_id),
        )

    async def remove(self, at: datetime, key: LearnerKey) -> None:
        self._rows.discard((at.replace(second=0, microsecond=0), key))

    async def purge(self, before: datetime) -> int:
        hour = before.replace(minute=0, second=0, microsecond=0)
        old = {row for row in self._rows if row[0] < hour}
        self._rows -= old
        return len({at.replace(minute=0) for at, _ in old})


class MemoryLedger:
    """:class:`Ledger` in a dictionary."""

    def __init__(self, claim_lease: timedelta = CLAIM_LEASE) -> None:
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._etags = itertools.count(1)
        self._lease = claim_lease

    async def plan(self, campaign: str, recipient: str, now: datetime) -> str | None:
        row = self._rows.setdefault(
            (campaign, recipient),
            {"state": State.QUEUED, "attempts": 0, "throttled": 0, "retried": False},
        )
        row.setdefault("etag", str(next(self._etags)))
        if row["state"] is State.QUEUED:
            return str(row["etag"])
        return "" if row["state"] in OPEN_STATES else None

    async def claim(
        self,
        campaign: str,
        recipient: str,
        owner: str,
        now: datetime,
        etag: str | None = None,
    ) -> Claim | Held | None:
        row = self._rows.get((campaign, recipient))
        if row is None:
            row = {"state": State.QUEUED, "attempts": 0, "throttled": 0, "retried": False}
            self._rows[(campaign, recipient)] = row
        elif row["state"] is State.SENDING:
            age = now - row["claimed_at"]
            if age <= self._lease:
                return Held((self._lease - age).total_seconds())
            row.update(state=State.UNKNOWN, etag=str(next(self._etags)))
            return None
        elif row["state"] not in OPEN_STATES:
            return None
        etag = str(next(self._etags))
        row.update(
            state=State.SENDING,
            owner=owner,
            claimed_at=now,
            attempts=row["attempts"] + 1,
            etag=etag,
        )
        return Claim(campaign, recipient, etag, row["attempts"], row["throttled"])

    async def record(self, claim: Claim, outcome: Outcome) -> None:
        row = self._rows.get((claim.campaign, claim.recipient))
        if row is None:
            return
        if row["etag"] != claim.etag and outcome.state is not State.SENT:
            return  # someone else moved it on; only a delivery we know happened overrides
        row.update(
            state=outcome.state,
            etag=str(next(self._etags)),
            status=outcome.http_status,
            throttled=claim.throttled + outcome.throttled,
            retried=claim.attempts > 1 or outcome.tries > 1,
            activity_id=outcome.activity_id,
        )

    async def counts(self, campaign: str, tenant_id: str | None = None) -> dict[str, int]:
        prefix = "" if tenant_id is None else join_key(tenant_id) + "|"
        rows = [r for (c, who), r in self._rows.items() if c == campaign and who.startswith(prefix)]
        counted = Counter(str(r["state"]) for r in rows)
        counted["retried"] = sum(1 for r in rows if r["retried"])
        counted["throttled"] = sum(r["throttled"] for r in rows)
        return dict(counted)

    async def campaigns(self) -> list[str]:
        return sorted({c for c, _ in self._rows})

    async def deliveries_of(self, recipient: str) -> dict[str, str]:
        return {
            c: str(r["state"]) for (c, who), r in sorted(self._rows.items()) if who == recipient
        }

    async def forget(self, recipient: str) -> int:
        mine = [key for key in self._rows if key[1] == recipient]
        for key in mine:
            del self._rows[key]
        return len(mine)


class MemoryLeases:
    """:class:`Leases` in a dictionary."""

    def __init__(self) -> None:
        self._leases: dict[str, tuple[str, datetime]] = {}

    async def acquire(self, name: str, owner: str, seconds: float, now: datetime) -> bool:
        held = self._leases.get(name)
        if held is not None and held[0] != owner and held[1] > now:
            return False
        self._leases[name] = (owner, now + timedelta(seconds=seconds))
        return True


class MemoryQueue:
    """:class:`DeliveryQueue` in a list, with visibility timeouts on a clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._messages: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._poisoned = 0

    async def put(self, body: dict[str, Any], *, delay: float = 0.0) -> None:
        message_id = str(next(self._ids))
        self._messages[message_id] = {
            "body": copy.deepcopy(body),
            "visible_at": self._clock() + max(0.0, delay),
            "dequeued": 0,
            "receipt": 0,
        }

    async def receive(self, count: int, *, visibility: float) -> list[QueueMessage]:
        now = self._clock()
        out: list[QueueMessage] = []
        for message_id, row in sorted(self._messages.items(), key=lambda kv: int(kv[0])):
            if len(out) >= count:
                break
            if row["visible_at"] > now:
                continue
            row["visible_at"] = now + visibility
            row["dequeued"] += 1
            row["receipt"] += 1
            out.append(
                QueueMessage(
                    message_id, copy.deepcopy(row["body"]), row["dequeued"], row["receipt"]
                )
            )
        return out

    async def delete(self, message: QueueMessage) -> None:
        row = self._messages.get(message.id)
        if row is not None and row["receipt"] == message.receipt:
            del self._messages[message.id]

    async def delay(self, message: QueueMessage, seconds: float) -> QueueMessage:
        row = self._messages[message.id]
        row["visible_at"] = self._clock() + max(0.0, seconds)
        row["receipt"] += 1
        return QueueMessage(message.id, message.body, message.dequeue_count, row["receipt"])

    async def set_aside(self, message: QueueMessage) -> None:
        self._messages.pop(message.id, None)
        self._poisoned += 1

    async def poisoned(self) -> int:
        return self._poisoned

    def __len__(self) -> int:
        return len(self._messages)


def memory_engine(clock: Callable[[], float] = time.monotonic) -> EnginePorts:
    """In-memory engine storage (tests and benchmarks that don't exercise Azure)."""
    return EnginePorts(MemorySchedule(), MemoryLedger(), MemoryLeases(), MemoryQueue(clock))
