"""Ports of the continuous-learning engine: the schedule index, the delivery ledger, leases
and the delivery queue; and the :class:`Contact` the learner store keeps beside each profile.

Implementations: Azure Tables and Azure Queue Storage (``engine_tables``, ``queues``; Azurite
locally) and in-memory fakes (``engine_memory``). One contract suite (``tests/storage``) runs
against both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from teams_app.domain.schedule import Preferences
from teams_app.storage.ports import LearnerKey


@dataclass(frozen=True)
class Contact:
    """How and when to reach a learner first: the chat, the settings, what was last sent."""

    reference: dict[str, Any] = field(repr=False)
    installed_at: datetime
    time_zone: str = ""
    preferences: Preferences = field(default_factory=Preferences)
    unreachable: bool = False
    welcomed_by: str = ""  # the inbound activity whose welcome was sent
    challenge_week: str = ""  # the ISO week whose challenge was sent (or opened)
    challenge_id: str = ""  # ... and which challenge it was
    pulse_week: str = ""
    reviews_sent_on: date | None = None
    nudged_at: datetime | None = None
    last_sent_on: date | None = None
    next_check: datetime | None = None  # where the learner sits in the schedule index


@dataclass(frozen=True, slots=True)
class StoredContact:
    """A contact with the ETag it was read at."""

    contact: Contact
    etag: str


class ScheduleIndex(Protocol):
    """Who to look at when: one row per (instant, learner), so a tick reads only what's due."""

    async def add(self, at: datetime, key: LearnerKey) -> None:
        """Put the learner at ``at`` (minute resolution)."""
        ...

    async def due(self, start: datetime, end: datetime) -> list[tuple[datetime, LearnerKey]]:
        """Every entry with ``start <= at < end``."""
        ...

    async def remove(self, at: datetime, key: LearnerKey) -> None:
        """Take the learner out of ``at`` (a missing entry is fine)."""
        ...

    async def purge(self, before: datetime) -> int:
        """Forget whole hours before ``before`` (long planned); returns how many."""
        ...


class State(StrEnum):
    """A delivery's state in the ledger."""

    QUEUED = "queued"  # planned and on the queue, not yet claimed
    SENDING = "sending"  # claimed: the HTTP call may be in flight
    SENT = "sent"
    RETRY = "retry"  # safe to send again (429, 5xx, nothing went out)
    GONE = "gone"  # 403/404, or the chat was known to refuse: blocked or uninstalled
    FAILED = "failed"  # refused for good, or retried too often
    UNKNOWN = "unknown"  # went out with no answer, or its worker died: never resent
    SKIPPED = "skipped"  # the learner's settings said no at send time


OPEN_STATES = frozenset({State.QUEUED, State.RETRY})


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to send one delivery: its ledger row and the ETag of the claim."""

    campaign: str
    recipient: str
    etag: str
    attempts: int  # claims so far, this one included
    throttled: int = 0  # 429s met by earlier claims


@dataclass(frozen=True, slots=True)
class Held:
    """Someone else's claim is still fresh: look again after ``seconds``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a claim's send came to."""

    state: State
    http_status: int = 0
    tries: int = 0  # HTTP attempts in this claim
    throttled: int = 0  # of which answered 429
    activity_id: str = ""


class Ledger(Protocol):
    """One row per (campaign, recipient), claimed before sending: never twice."""

    async def plan(self, campaign: str, recipient: str, now: datetime) -> str | None:
        """Record a delivery as queued (a no-op when its row exists). While it still waits
        to be sent (new, queued or to be retried), returns the row's ETag, which lets the
        sender claim it in one write; ``None`` once it has ended or is being sent."""
        ...

    async def claim(
        self,
        campaign: str,
        recipient: str,
        owner: str,
        now: datetime,
        etag: str | None = None,
    ) -> Claim | Held | None:
        """Claim a delivery: a new row, or one in state QUEUED or RETRY (``etag``, from
        :meth:`plan`, saves a read when the row hasn't moved since). :class:`Held` while
        another claim is fresh; ``None`` when it has ended (a claim older than the claim
        lease becomes UNKNOWN: it may have gone out, so it is never sent again)."""
        ...

    async def record(self, claim: Claim, outcome: Outcome) -> None:
        """Record the outcome of a claim (SENT wins over a sweeper's UNKNOWN)."""
        ...

    async def counts(self, campaign: str, tenant_id: str | None = None) -> dict[str, int]:
        """How many deliveries of the campaign are in each state, plus ``retried`` (sent
        after more than one attempt or claim) and ``throttled`` (429s met); only the
        tenant's recipients when ``tenant_id`` is given."""
        ...

    async def campaigns(self) -> list[str]:
        """Every campaign in the ledger."""
        ...

    async def deliveries_of(self, recipient: str) -> dict[str, str]:
        """The recipient's deliveries: campaign → state (for their data download)."""
        ...

    async def forget(self, recipient: str) -> int:
        """Delete the recipient's rows in every campaign (their data is being deleted);
        returns how many there were."""
        ...


class Leases(Protocol):
    """Named leases with an owner and an expiry: one planner at a time."""

    async def acquire(self, name: str, owner: str, seconds: float, now: datetime) -> bool:
        """Take or renew the lease; ``False`` while another owner holds it."""
        ...


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """A received message: its body and what is needed to delete or delay it."""

    id: str
    body: dict[str, Any]
    dequeue_count: int
    receipt: Any = field(repr=False)


class DeliveryQueue(Protocol):
    """The durable queue the planner and the sender hand work through."""

    async def put(self, body: dict[str, Any], *, delay: float = 0.0) -> None:
        """Add a message, invisible for ``delay`` seconds."""
        ...

    async def receive(self, count: int, *, visibility: float) -> list[QueueMessage]:
        """Up to ``count`` visible messages, hidden from others for ``visibility`` seconds."""
        ...

    async def delete(self, message: QueueMessage) -> None:
        """Done with it."""
        ...

    async def delay(self, message: QueueMessage, seconds: float) -> QueueMessage:
        """Hide it again for ``seconds`` (a retry later); returns the updated message."""
        ...

    async def set_aside(self, message: QueueMessage) -> None:
        """Move a message that keeps failing to the poison queue."""
        ...

    async def poisoned(self) -> int:
        """How many messages were set aside (approximately, for accounting)."""
        ...


@dataclass(frozen=True, slots=True)
class EnginePorts:
    """The engine's storage: where learners wait, what was sent, who plans, the queue."""

    schedule: ScheduleIndex
    ledger: Ledger
    leases: Leases
    queue: DeliveryQueue
