"""The worker: takes planned work off the queue and sends it, at most once.

Two kinds of message:

- ``check`` (from the planner): for each learner whose contact still points at this
  instant, decide what is due now (:func:`teams_app.domain.schedule.due_at`). A delivery is
  first recorded in the ledger as queued and put on the queue; then the learner is put in
  the schedule at their next check; then the contact is saved with what was sent and that
  next check (ETag-guarded: of two workers, one wins, and the loser looks again). A worker
  that dies anywhere in between leaves the check message on the queue, and the ledger turns
  the repeat into a no-op, so nothing is lost and nothing doubles.
- ``deliver``: deliveries to send (planned ones, and replies their turn handed over). Each
  is checked against the learner's working hours (outside them it waits for the next
  window), claimed in the ledger, checked against the learner's settings and reachability,
  rendered, sent through the shared :class:`~teams_app.delivery.sender.Sender`, and its
  outcome recorded. A retryable failure goes back on the queue after its backoff or
  ``Retry-After``; a message dequeued more than :data:`MAX_DEQUEUES` times is set aside
  (the poison queue) and counted.

Campaign ids are deterministic (``challenge-2026-W49``, ``reviews-2026-12-01``...), so the
same learner never gets the same campaign twice, whoever plans or sends it. Decisions use
the engine's clock (simulated in local development); leases and claims use real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from teams_app.delivery.sender import Outbound, Sender, SendResult, SendStatus, backoff
from teams_app.domain.content import Curriculum
from teams_app.domain.learner import (
    LearnerState,
    iso_week,
    next_lesson,
    streak_weeks,
    weekly_challenge,
)
from teams_app.domain.review import SESSION_SIZE, ReviewItem
from teams_app.domain.schedule import (
    DEFAULT_ZONE,
    Kind,
    due_at,
    in_hours,
    next_check,
    next_open,
    zone,
)
from teams_app.engine.clock import Clock
from teams_app.engine.contacts import facts_of
from teams_app.engine.outbox import REPLY_KIND
from teams_app.logsafe import safe
from teams_app.storage.engine_ports import (
    Claim,
    Contact,
    DeliveryQueue,
    Held,
    Ledger,
    Outcome,
    QueueMessage,
    ScheduleIndex,
    State,
)
from teams_app.storage.keys import join_key
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey, LearnerStore, StorageError

logger = logging.getLogger(__name__)

MAX_DEQUEUES = 5
MAX_CLAIMS = 6
BATCH = 32
VISIBILITY_SECONDS = 60.0
SEND_BUDGET_SECONDS = 20.0
CONCURRENCY = 16
CHECK_TRIES = 3

Renderer = Callable[[str, dict[str, Any], Contact], dict[str, Any] | None]

_STATES = {
    SendStatus.SENT: State.SENT,
    SendStatus.GONE: State.GONE,
    SendStatus.FAILED: State.FAILED,
    SendStatus.UNKNOWN: State.UNKNOWN,
    SendStatus.RETRY: State.RETRY,
    SendStatus.QUEUED: State.RETRY,  # not reached: the worker never hands off
}


def campaign_of(kind: Kind, local_day: str, week: str) -> str:
    """The deterministic campaign id of a proactive message."""
    if kind in (Kind.CHALLENGE, Kind.PULSE):
        return f"{kind.value}-{week}"
    return f"{kind.value}-{local_day}"


def proactive_activity(reference: dict[str, Any], card: dict[str, Any]) -> dict[str, Any]:
    """A message carrying ``card`` to the conversation of a stored reference."""
    return {
        "type": "message",
        "channelId": reference.get("channelId") or "msteams",
        "serviceUrl": reference.get("serviceUrl"),
        "from": reference.get("bot") or {},
        "recipient": reference.get("user") or {},
        "conversation": reference.get("conversation") or {},
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def mark_sent(contact: Contact, kind: Kind, data: dict[str, Any], now: datetime) -> Contact:
    """The contact once ``kind`` is on its way (so the next check moves on)."""
    local = now.astimezone(zone(contact.time_zone)).date()
    marked = replace(contact, last_sent_on=local)
    if kind is Kind.CHALLENGE:
        return replace(marked, challenge_week=iso_week(local), challenge_id=data["challenge"])
    if kind is Kind.PULSE:
        return replace(marked, pulse_week=iso_week(local))
    if kind is Kind.REVIEWS:
        return replace(marked, reviews_sent_on=local)
    return replace(marked, nudged_at=now)


class Worker:
    """Handles queue messages (see the module docstring)."""

    def __init__(
        self,
        *,
        queue: DeliveryQueue,
        ledger: Ledger,
        store: LearnerStore,
        schedule: ScheduleIndex,
        sender: Sender,
        curriculum: Curriculum,
        render: Renderer,
        clock: Clock,
        owner: str,
        default_zone: str = DEFAULT_ZONE,
        concurrency: int = CONCURRENCY,
        real_now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._queue = queue
        self._ledger = ledger
        self._store = store
        self._schedule = schedule
        self._sender = sender
        self._curriculum = curriculum
        self._render = render
        self._clock = clock
        self._owner = owner
        self._default_zone = default_zone
        self._slots = asyncio.Semaphore(concurrency)
        self._real_now = real_now
        self.poisoned = 0

    async def run_once(self, count: int = BATCH) -> int:
        """Receive and handle one batch; returns how many messages were received."""
        messages = await self._queue.receive(count, visibility=VISIBILITY_SECONDS)
        await asyncio.gather(*(self._handle(m) for m in messages))
        return len(messages)

    async def _handle(self, message: QueueMessage) -> None:
        if message.dequeue_count > MAX_DEQUEUES:
            logger.warning("setting aside a message dequeued %d times", message.dequeue_count)
            await self._queue.set_aside(message)
            self.poisoned += 1
            return
        kind = message.body.get("type")
        try:
            if kind == "check":
                await self._check(message.body)
            elif kind == "deliver":
                for delivery in message.body.get("deliveries") or []:
                    await self._bounded(self._deliver(delivery))
            else:
                logger.warning("dropping a queue message of unknown type %s", safe(kind))
        except StorageError as err:  # left on the queue: it comes back after its visibility
            logger.warning("queue message left for later: %s", type(err).__name__)
            return
        except (KeyError, TypeError, ValueError) as err:  # malformed: retrying won't help
            logger.error("dropping a malformed queue message: %s", type(err).__name__)
        await self._queue.delete(message)

    async def _bounded(self, work: Awaitable[Any]) -> Any:
        async with self._slots:
            return await work

    # --- check: what is due now ------------------------------------------------------------

    async def _check(self, body: dict[str, Any]) -> None:
        at = datetime.fromisoformat(body["at"])
        keys = [LearnerKey(str(t), str(u)) for t, u in body.get("learners") or []]
        await asyncio.gather(*(self._bounded(self._check_one(at, k)) for k in keys))

    async def _check_one(self, at: datetime, key: LearnerKey) -> None:
        for _ in range(CHECK_TRIES):
            stored = await self._store.get_contact(key)
            if stored is None or not _same_minute(stored.contact.next_check, at):
                await self._schedule.remove(at, key)  # stale: the learner moved on
                return
            contact = stored.contact
            profile = await self._store.get_profile(key)
            state = profile.state if profile else LearnerState()
            items = await self._store.review_items(key)
            now = self._clock.now()
            kind = due_at(facts_of(contact, state, items, self._default_zone), now)
            delivery = self._delivery(kind, key, contact, state, items, now) if kind else None
            if kind is not None and delivery is not None:
                contact = mark_sent(contact, kind, delivery["data"], now)
                if await self._ledger.plan(
                    delivery["campaign"], delivery["recipient"], self._real_now()
                ):
                    await self._queue.put({"type": "deliver", "deliveries": [delivery]})
            upcoming = next_check(
                facts_of(contact, state, items, self._default_zone), now + timedelta(seconds=1)
            )
            if upcoming is not None:
                await self._schedule.add(upcoming, key)
            try:
                await self._store.save_contact(
                    key, replace(contact, next_check=upcoming), stored.etag
                )
            except ConcurrentUpdate:
                continue  # another worker (or the learner) moved first: look again
            if not _same_minute(upcoming, at):
                await self._schedule.remove(at, key)
            return

    def _delivery(
        self,
        kind: Kind,
        key: LearnerKey,
        contact: Contact,
        state: LearnerState,
        items: list[ReviewItem],
        now: datetime,
    ) -> dict[str, Any] | None:
        local = now.astimezone(zone(contact.time_zone or self._default_zone)).date()
        week = iso_week(local)
        data: dict[str, Any] = {"week": week, "day": local.isoformat()}
        if kind is Kind.CHALLENGE:
            last = contact.challenge_id if contact.challenge_week != week else ""
            challenge = weekly_challenge(state, self._curriculum, week, last)
            if challenge is None:
                return None
            data["challenge"] = challenge.id
        elif kind is Kind.REVIEWS:
            data["due"] = min(SESSION_SIZE, sum(1 for i in items if i.due <= now))
            data["streak"] = streak_weeks(state.active_weeks, local)
        elif kind is Kind.NUDGE:
            lesson = next_lesson(state, self._curriculum)
            data["lesson"] = lesson.id if lesson else ""
        return {
            "campaign": campaign_of(kind, local.isoformat(), week),
            "recipient": join_key(key.tenant_id, key.user_id),
            "tenant": key.tenant_id,
            "user": key.user_id,
            "kind": kind.value,
            "data": data,
        }

    # --- deliver: claim, re-check, send, record -----------------------------------------------

    async def _deliver(self, delivery: dict[str, Any]) -> None:
        key = LearnerKey(str(delivery["tenant"]), str(delivery["user"]))
        campaign, recipient = str(delivery["campaign"]), str(delivery["recipient"])
        stored = await self._store.get_contact(key)
        contact = stored.contact if stored else None
        reply = delivery.get("kind") == REPLY_KIND
        if not reply and contact is not None and not self._stale(delivery, contact):
            zone_name = contact.time_zone or self._default_zone
            now = self._clock.now()
            if not contact.preferences.silent and not in_hours(zone_name, contact.preferences, now):
                opens = next_open(zone_name, contact.preferences, now)
                await self._again(delivery, (opens - now).total_seconds(), simulated=True)
                return
        claim = await self._ledger.claim(campaign, recipient, self._owner, self._real_now())
        if claim is None:
            return  # sent, or ended: never twice
        if isinstance(claim, Held):  # another worker's claim is fresh: look again after it
            await self._again(delivery, claim.seconds + 1)
            return
        if reply:
            await self._send(claim, delivery, contact, delivery["activity"])
            return
        if contact is None or contact.preferences.silent or self._stale(delivery, contact):
            await self._ledger.record(claim, Outcome(State.SKIPPED))
            return
        if contact.unreachable:
            await self._ledger.record(claim, Outcome(State.GONE))
            return
        card = self._render(str(delivery["kind"]), dict(delivery.get("data") or {}), contact)
        if card is None:
            await self._ledger.record(claim, Outcome(State.SKIPPED))
            return
        await self._send(claim, delivery, contact, proactive_activity(contact.reference, card))

    async def _send(
        self,
        claim: Claim,
        delivery: dict[str, Any],
        contact: Contact | None,
        activity: dict[str, Any],
    ) -> None:
        if contact is not None and contact.unreachable:
            await self._ledger.record(claim, Outcome(State.GONE))
            return
        message = Outbound(
            delivery_id=f"{claim.campaign}|{claim.recipient}",
            tenant_id=str(delivery["tenant"]),
            user_id=str(delivery["user"]),
            service_url=str(activity.get("serviceUrl") or ""),
            conversation_id=str((activity.get("conversation") or {}).get("id") or ""),
            activity=activity,
        )
        deadline = asyncio.get_running_loop().time() + SEND_BUDGET_SECONDS
        result = await self._sender.send(message, deadline=deadline, hand_off=False)
        state = _STATES[result.status]
        if state is State.RETRY and claim.attempts >= MAX_CLAIMS:
            state = State.FAILED
        await self._ledger.record(claim, _outcome(state, result))
        if state is State.RETRY:
            wait = result.retry_after if result.retry_after is not None else backoff(claim.attempts)
            await self._again(delivery, wait)

    async def _again(
        self, delivery: dict[str, Any], seconds: float, *, simulated: bool = False
    ) -> None:
        """Put a delivery back on the queue, to come back after ``seconds``."""
        delay = self._clock.real_seconds(seconds) if simulated else seconds
        await self._queue.put({"type": "deliver", "deliveries": [delivery]}, delay=max(0.0, delay))

    def _stale(self, delivery: dict[str, Any], contact: Contact) -> bool:
        """Whether a proactive message's moment has passed: a weekly one in a later week, a
        daily one on a later day (in the learner's zone)."""
        local = self._clock.now().astimezone(zone(contact.time_zone or self._default_zone)).date()
        data = delivery.get("data") or {}
        if delivery.get("kind") in (Kind.CHALLENGE.value, Kind.PULSE.value):
            return str(data.get("week") or "") < iso_week(local)
        return str(data.get("day") or "") < local.isoformat()


def _outcome(state: State, result: SendResult) -> Outcome:
    return Outcome(
        state,
        http_status=result.http_status or 0,
        tries=result.attempts,
        throttled=result.throttled,
        activity_id=result.activity_id or "",
    )


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def _same_minute(a: datetime | None, b: datetime) -> bool:
    return a is not None and _minute(a) == _minute(b)
