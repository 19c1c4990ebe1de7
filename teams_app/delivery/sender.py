"""The one sender every outbound message goes through: replies, welcomes, proactive cards.

``Sender.send`` posts an activity to a conversation through the Bot Connector and decides
what a failure means, in one place:

- it waits for a slot from the :class:`~teams_app.delivery.pacing.RateGate` (per tenant,
  per conversation, and the tenant's pause after a 429);
- 429, 412, 502, 503 and 504, and connections that failed before the request went out, are
  retried with jittered exponential backoff, honouring ``Retry-After`` (a 429 also pauses
  the whole tenant);
- 403 and 404 are final: the conversation is blocked or gone; the ``on_gone`` callback marks
  the learner's contact unreachable (before the result returns), and every later proactive
  or queued send checks the contact first, in whichever process it runs;
- a request that went out but got no answer may have arrived: it is not resent
  (:attr:`SendStatus.UNKNOWN`), because a learner must never get a message twice;
- what can't be sent before ``deadline`` is handed to the durable outbox, if there is one,
  with the delivery's id, so the queue worker sends it later, exactly once
  (:attr:`SendStatus.QUEUED`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from teams_app.adapters.connector import (
    NOT_SENT,
    REFUSED_HOST,
    UNKNOWN,
    ConnectorClient,
    PostResult,
)
from teams_app.delivery.pacing import RateGate
from teams_app.logsafe import safe

logger = logging.getLogger(__name__)

RETRYABLE = frozenset({429, 412, 502, 503, 504, NOT_SENT})
GONE = frozenset({403, 404})
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
MAX_ATTEMPTS = 6
CLAIM_LEAD_SECONDS = 0.25  # how long before its send slot the worker's claim is made


class SendStatus(StrEnum):
    """How a send ended."""

    SENT = "sent"
    QUEUED = "queued"  # handed to the outbox for a later, single delivery
    RETRY = "retry"  # not sent yet and no outbox: the caller retries (the queue worker does)
    GONE = "gone"  # 403/404: blocked or uninstalled
    FAILED = "failed"  # refused for good (another 4xx, a host not on the allow-list)
    UNKNOWN = "unknown"  # went out, no answer: may have arrived, never resent
    WITHDRAWN = "withdrawn"  # the caller's claim said no: nothing went out


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message for one conversation."""

    delivery_id: str  # unique per message: the outbox and ledger key
    tenant_id: str
    user_id: str
    service_url: str
    conversation_id: str
    activity: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome, the last HTTP status and how many attempts it took."""

    status: SendStatus
    http_status: int | None = None
    attempts: int = 0
    activity_id: str | None = None
    retry_after: float | None = None
    throttled: int = 0  # attempts answered 429


class Outbox(Protocol):
    """The durable queue that takes what could not be sent in time."""

    async def put(self, message: Outbound, *, delay: float) -> None:
        """Queue ``message`` for sending in ``delay`` seconds (at the earliest)."""
        ...


@dataclass
class SendCounts:
    """Running totals, for metrics and the deliveries report."""

    sent: int = 0
    retried: int = 0
    throttled: int = 0
    queued: int = 0
    gone: int = 0
    failed: int = 0
    unknown: int = 0


def backoff(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**attempt`` s."""
    ceiling: float = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)
    return ceiling * (0.5 + rng() / 2)


class Sender:
    """Paced, retrying sends with one policy for every caller."""

    def __init__(
        self,
        connector: ConnectorClient,
        gate: RateGate,
        *,
        outbox: Outbox | None = None,
        on_gone: Callable[[Outbound], Awaitable[None]] | None = None,
        observe: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._connector = connector
        self._gate = gate
        self._outbox = outbox
        self._on_gone = on_gone
        self._observe = observe or (lambda _status: None)
        self._clock = clock
        self._sleep = sleep
        self.counts = SendCounts()

    async def send(
        self,
        message: Outbound,
        *,
        deadline: float,
        hand_off: bool = True,
        claim: Callable[[], Awaitable[bool]] | None = None,
    ) -> SendResult:
        """Send ``message``, retrying until ``deadline`` (a ``time.monotonic()`` value).
        With ``hand_off`` (replies in a turn), what can't be sent in time goes to the outbox;
        without it (the queue worker, which retries from its ledger), the result says
        :attr:`SendStatus.RETRY` with the wait. ``claim`` is awaited once, when the first
        send slot has come and just before anything goes out (the worker claims the
        delivery in its ledger then, not while it waits); if it says no, nothing is sent
        (:attr:`SendStatus.WITHDRAWN`)."""
        result = await self._send(message, deadline, hand_off, claim)
        self._observe(result.status.value)
        return result

    async def _send(
        self,
        message: Outbound,
        deadline: float,
        hand_off: bool,
        claim: Callable[[], Awaitable[bool]] | None,
    ) -> SendResult:
        if not self._connector.allows(message.service_url):
            logger.warning(
                "not sending %s: its host is not on the allow-list", safe(message.delivery_id)
            )
            self.counts.failed += 1
            return SendResult(SendStatus.FAILED, REFUSED_HOST)
        attempt = throttled = 0
        while True:
            generation = self._gate.generation(message.tenant_id)
            wait = await self._gate.reserve(
                message.tenant_id, message.conversation_id, deadline - self._clock()
            )
            if wait is None:
                later = await self._later(message, 1.0, attempt, None, hand_off)
                return replace(later, throttled=throttled)
            slot = self._clock() + wait
            if claim is not None:
                # Claimed a moment ahead of the slot, so the claim's round trip to storage
                # doesn't make the send late (and bunch it with the next ones).
                await self._until(slot - CLAIM_LEAD_SECONDS)
                if self._gate.generation(message.tenant_id) != generation:
                    continue  # a 429 paused the tenant while we waited: take a new slot
                if not await claim():
                    return SendResult(SendStatus.WITHDRAWN)
                claim = None
            await self._until(slot)
            if self._gate.generation(message.tenant_id) != generation:
                continue  # a 429 paused the tenant while we waited: take a new slot
            await self._gate.admit(message.tenant_id)
            remaining = deadline - self._clock()
            result = await self._connector.post(
                message.service_url,
                message.conversation_id,
                message.activity,
                timeout=max(1.0, min(10.0, remaining)),
            )
            attempt += 1
            throttled += result.status == 429
            outcome = await self._judge(message, result, attempt)
            if outcome is not None:
                return replace(outcome, throttled=throttled)
            delay = result.retry_after if result.retry_after is not None else backoff(attempt)
            if attempt >= MAX_ATTEMPTS or self._clock() + delay > deadline:
                later = await self._later(message, delay, attempt, result.status, hand_off)
                return replace(later, throttled=throttled)
            self.counts.retried += 1
            await self._sleep(delay)

    async def _until(self, moment: float) -> None:
        """Sleep until ``moment`` (a ``clock()`` value), if it is still to come."""
        wait = moment - self._clock()
        if wait > 0:
            await self._sleep(wait)

    async def _judge(
        self, message: Outbound, result: PostResult, attempt: int
    ) -> SendResult | None:
        """The final result of this attempt, or ``None`` to retry."""
        if result.ok:
            self.counts.sent += 1
            return SendResult(SendStatus.SENT, result.status, attempt, result.activity_id)
        if result.status in GONE:
            self.counts.gone += 1
            if self._on_gone is not None:
                await self._on_gone(message)
            return SendResult(SendStatus.GONE, result.status, attempt)
        if result.status == UNKNOWN:
            self.counts.unknown += 1
            logger.warning(
                "no answer for %s: it may have arrived; not resending", safe(message.delivery_id)
            )
            return SendResult(SendStatus.UNKNOWN, result.status, attempt)
        if result.status == 429:
            self.counts.throttled += 1
            await self._gate.pause(message.tenant_id, result.retry_after or backoff(attempt))
        if result.status in RETRYABLE:
            return None
        self.counts.failed += 1
        logger.warning("connector refused %s with %s", safe(message.delivery_id), result.status)
        return SendResult(SendStatus.FAILED, result.status, attempt)

    async def _later(
        self,
        message: Outbound,
        delay: float,
        attempts: int,
        http_status: int | None,
        hand_off: bool,
    ) -> SendResult:
        if self._outbox is None or not hand_off:
            return SendResult(SendStatus.RETRY, http_status, attempts, retry_after=delay)
        await self._outbox.put(message, delay=delay)
        self.counts.queued += 1
        logger.info(
            "%s handed to the outbox after %d attempt(s)", safe(message.delivery_id), attempts
        )
        return SendResult(SendStatus.QUEUED, http_status, attempts, retry_after=delay)
