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
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from teams_app import i18n
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
    StoredContact,
)
from teams_app.storage.guard import background as storage_background
from teams_app.storage.keys import join_key
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey, LearnerStore, StorageError

logger = logging.getLogger(__name__)

MAX_DEQUEUES = 5
MAX_CLAIMS = 6
BATCH = 32
IN_FLIGHT = 64  # queue messages under way at once in one worker
VISIBILITY_SECONDS = 60.0
KEEP_EVERY_SECONDS = VISIBILITY_SECONDS / 3  # a message under way is kept hidden this often
SEND_BUDGET_SECONDS = 20.0
CONCURRENCY = 32  # checks (or one tenant's deliveries) under way at once in one worker
BACKLOG_SECONDS = 15.0  # a tenant's deliveries taken on beyond this much sending wait
CHECK_TRIES = 3

Renderer = Callable[[str, dict[str, Any], Contact], dict[str, Any] | None]

_STATES = {
    SendStatus.SENT: State.SENT,
    SendStatus.GONE: State.GONE,
    SendStatus.FAILED: State.FAILED,
    SendStatus.UNKNOWN: State.UNKNOWN,
    SendStatus.RETRY: State.RETRY,
    SendStatus.QUEUED: State.RETRY,  # not reached: the worker never hands off
    SendStatus.WITHDRAWN: State.RETRY,  # not reached: withdrawn sends have no claim
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
        tenant_rate: float = 20.0,
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
        # A delivery waits for its tenant's send slot (see the rate gate) while it holds
        # one of its tenant's concurrency slots, never another tenant's; and a message for
        # a tenant with more taken on than it can send soon goes back on the queue for
        # later, so one busy tenant can't fill the worker (head-of-line blocking).
        self._concurrency = concurrency
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}
        self._backlog: dict[str, int] = {}
        self._deferred: dict[str, list[tuple[float, int]]] = {}  # back at, deliveries
        self._tenant_rate = tenant_rate
        self._real_now = real_now
        self.poisoned = 0

    async def run_once(self, count: int = BATCH) -> int:
        """Receive and handle one batch; returns how many messages were received. Every
        message's handling has ended when it returns (or raises the first failure)."""
        messages = await self._queue.receive(count, visibility=VISIBILITY_SECONDS)
        handled = await asyncio.gather(*(self._handle(m) for m in messages), return_exceptions=True)
        for outcome in handled:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(messages)

    async def run(self, stopping: asyncio.Event, poll_after: Callable[[int], float]) -> None:
        """Handle messages until ``stopping`` is set, with up to :data:`IN_FLIGHT` of them
        under way, receiving more as they finish (so one tenant's paced sends don't hold up
        the others). ``poll_after(n)`` is how long to wait after ``n`` empty receives."""
        running: set[asyncio.Task[None]] = set()
        stop = asyncio.ensure_future(stopping.wait())
        empty = 0
        try:
            while not stopping.is_set():
                room = IN_FLIGHT - len(running) >= BATCH
                received = await self._receive() if room else []
                running.update(asyncio.create_task(self._handle(m)) for m in received)
                empty = 0 if received else empty + 1
                if len(received) == BATCH and IN_FLIGHT - len(running) >= BATCH:
                    continue  # a full batch: more may be waiting
                timeout = None if not room else (0.05 if received else poll_after(empty))
                done, _ = await asyncio.wait(
                    {*running, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done - {stop}:
                    running.discard(task)
                    if not task.cancelled() and task.exception() is not None:
                        logger.error("queue message failed", exc_info=task.exception())
        finally:
            stop.cancel()
            if running:
                await asyncio.wait(running)

    async def _receive(self) -> list[QueueMessage]:
        try:
            return await self._queue.receive(BATCH, visibility=VISIBILITY_SECONDS)
        except StorageError as err:
            logger.warning("queue receive failed: %s", type(err).__name__)
            return []

    async def _handle(self, message: QueueMessage) -> None:
        if message.dequeue_count > MAX_DEQUEUES:
            logger.warning("setting aside a message dequeued %d times", message.dequeue_count)
            await self._queue.set_aside(message)
            self.poisoned += 1
            return
        try:
            work = self._work(message.body)
        except (KeyError, TypeError, ValueError) as err:  # malformed: retrying won't help
            logger.error("dropping a malformed queue message: %s", type(err).__name__)
            await self._queue.delete(message)
            return
        held = [message]  # the message, with its latest receipt
        keeping = asyncio.create_task(self._keep(held))
        try:
            if message.dequeue_count > 1 and await self._split(message):
                return  # its parts go their own way
            if message.body["type"] == "deliver" and await self._later(message):
                return
            await work()
        except StorageError as err:  # left on the queue: it comes back after its visibility
            logger.warning("queue message left for later: %s", type(err).__name__)
            return
        finally:
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping
        # Anything else (a bug) propagates and leaves the message too: it comes back, and
        # after MAX_DEQUEUES it is set aside and counted, never silently dropped.
        try:
            await self._queue.delete(held[0])
        except StorageError as err:  # it comes back, and the ledger finds its work done
            logger.warning("a handled queue message is left for later: %s", type(err).__name__)

    async def _keep(self, held: list[QueueMessage]) -> None:
        """Keep a message invisible while its work goes on. A check of hundreds of learners,
        sharing the worker with others, can take longer than the visibility timeout; had it
        reappeared, a second handling would split it and check every learner again, and
        that extra load is what stalled large campaigns."""
        while True:
            await asyncio.sleep(KEEP_EVERY_SECONDS)
            try:
                held[0] = await self._queue.delay(held[0], VISIBILITY_SECONDS)
            except StorageError as err:  # tried again next time; at worst it reappears
                logger.warning("could not keep a queue message hidden: %s", type(err).__name__)

    async def _later(self, message: QueueMessage) -> bool:
        """Put a delivery message back for later if its tenant's backlog here is already
        more than :data:`BACKLOG_SECONDS` of sending (as a new message: a deferral is
        not a failure, so it doesn't count towards being set aside). It comes back when
        its turn to send is near, after what this worker has already put back for the same
        tenant: deferred messages queue up one behind another instead of all coming back
        together and being put back again and again, which for a campaign of thousands
        kept the queue itself busy."""
        deliveries = message.body.get("deliveries") or []
        tenants = {str(d["tenant"]) for d in deliveries}
        if len(tenants) > 1:  # put by an older version: one tenant's backlog mustn't hold
            await self._put(deliveries)  # up the others, so each goes its own way
            await self._queue.delete(message)
            return True
        if not tenants:
            return False
        (tenant,) = tenants
        wait = self._backlog.get(tenant, 0) / self._tenant_rate
        if wait <= BACKLOG_SECONDS:
            return False
        now = asyncio.get_running_loop().time()
        # Behind what this worker has put back for the tenant and is still to come back
        # (a message that came back and goes back again is counted once).
        ahead = [(at, n) for at, n in self._deferred.get(tenant, []) if at > now]
        wait += sum(n for _, n in ahead) / self._tenant_rate
        delay = wait - BACKLOG_SECONDS / 2
        self._deferred[tenant] = [*ahead, (now + delay, len(deliveries))]
        await self._queue.put(message.body, delay=delay)
        await self._queue.delete(message)
        return True

    async def _split(self, message: QueueMessage) -> bool:
        """Put each learner of a message seen before on a message of their own, so that
        one learner whose handling keeps failing holds up (and is set aside) alone."""
        body = message.body
        field = "learners" if body["type"] == "check" else "deliveries"
        parts = body.get(field) or []
        if len(parts) < 2:
            return False
        await asyncio.gather(*(self._queue.put({**body, field: [part]}) for part in parts))
        await self._queue.delete(message)
        return True

    def _work(self, body: dict[str, Any]) -> Callable[[], Awaitable[None]]:
        """The message's work, its shape checked first (``KeyError``/``TypeError``/
        ``ValueError`` if malformed)."""
        kind = body.get("type")
        if kind == "check":
            base = datetime.fromisoformat(str(body["at"]))
            entries = [
                (base + timedelta(minutes=int(minutes)), LearnerKey(str(tenant), str(user)))
                for tenant, user, minutes in body.get("learners") or []
            ]
            return functools.partial(self._check, entries)
        if kind == "deliver":
            deliveries = list(body.get("deliveries") or [])
            for delivery in deliveries:
                for field in ("campaign", "recipient", "tenant", "user", "kind"):
                    if not isinstance(delivery[field], str):
                        raise TypeError(field)
                if delivery["kind"] == REPLY_KIND and not isinstance(delivery["activity"], dict):
                    raise TypeError("activity")
                if not isinstance(delivery.get("data") or {}, dict):
                    raise TypeError("data")
            return functools.partial(self._deliver_all, deliveries)
        raise ValueError(f"unknown message type {safe(kind)}")

    async def _bounded(self, work: Awaitable[Any]) -> Any:
        async with self._slots:
            return await work

    # --- check: what is due now ------------------------------------------------------------

    async def _check(self, entries: list[tuple[datetime, LearnerKey]]) -> None:
        """Read the learners' contacts together, decide for every learner, then plan what is
        due in the ledger, then put it on the queue (32 deliveries to a message), then save
        each contact with its next check. A crash anywhere leaves the check message to run
        again: the contacts haven't moved, the same deliveries are decided, the ledger finds
        them planned (or sent), and a delivery put twice is claimed once. Its storage calls
        wait for the sends' (a campaign checks thousands of learners within a minute while
        others' messages go out)."""
        with storage_background():
            await self._check_all(entries)

    async def _check_all(self, entries: list[tuple[datetime, LearnerKey]]) -> None:
        contacts = await self._store.get_contacts([key for _, key in entries])
        decided = await asyncio.gather(
            *(self._bounded(self._decide(at, key, contacts.get(key))) for at, key in entries)
        )
        decisions = [d for d in decided if d is not None]
        deliveries = await asyncio.gather(
            *(self._bounded(self._plan(d)) for d in decisions if d.delivery is not None)
        )
        await self._put([d for d in deliveries if d is not None])
        saved = await asyncio.gather(*(self._bounded(self._save(d)) for d in decisions))
        for decision, ok in zip(decisions, saved, strict=True):
            if not ok:  # the learner moved meanwhile: look at them again, on their own
                await self._bounded(self._check_one(decision.at, decision.key))

    async def _decide(
        self, at: datetime, key: LearnerKey, stored: StoredContact | None
    ) -> _Decision | None:
        """What is due now for the learner (``stored``: their contact), and their next
        check (``None``: the entry is stale)."""
        if stored is None or not _same_minute(stored.contact.next_check, at):
            await self._schedule.remove(at, key)  # stale: the learner moved on
            return None
        profile, items = await asyncio.gather(
            self._store.get_profile(key), self._store.review_items(key)
        )
        contact = stored.contact
        state = profile.state if profile else LearnerState()
        now = self._clock.now()
        kind = due_at(facts_of(contact, state, items, self._default_zone), now)
        delivery = self._delivery(kind, key, contact, state, items, now) if kind else None
        if kind is not None and delivery is not None:
            contact = mark_sent(contact, kind, delivery["data"], now)
        upcoming = next_check(
            facts_of(contact, state, items, self._default_zone), now + timedelta(seconds=1)
        )
        return _Decision(at, key, stored.etag, replace(contact, next_check=upcoming), delivery)

    async def _plan(self, decision: _Decision) -> dict[str, Any] | None:
        """The decision's delivery recorded as queued, or ``None`` if it has gone out."""
        delivery = decision.delivery
        assert delivery is not None
        etag = await self._ledger.plan(
            delivery["campaign"], delivery["recipient"], self._real_now()
        )
        return None if etag is None else {**delivery, "etag": etag}

    async def _put(self, deliveries: list[dict[str, Any]]) -> None:
        """Deliveries on the queue, :data:`BATCH` to a message, one tenant's to a message
        (a message waits for its tenant's pace alone: see :meth:`_later`)."""
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for delivery in deliveries:
            by_tenant.setdefault(str(delivery["tenant"]), []).append(delivery)
        await asyncio.gather(
            *(
                self._queue.put({"type": "deliver", "deliveries": mine[i : i + BATCH]})
                for mine in by_tenant.values()
                for i in range(0, len(mine), BATCH)
            )
        )

    async def _save(self, decision: _Decision) -> bool:
        """Put the learner at their next check and save the contact; ``False`` if it
        changed since it was read."""
        upcoming = decision.contact.next_check
        if upcoming is not None:
            await self._schedule.add(upcoming, decision.key)
        try:
            await self._store.save_contact(decision.key, decision.contact, decision.etag)
        except ConcurrentUpdate:
            return False
        if not _same_minute(upcoming, decision.at):
            await self._schedule.remove(decision.at, decision.key)
        return True

    async def _check_one(self, at: datetime, key: LearnerKey) -> None:
        """:meth:`_check` for one learner, re-reading after a conflict."""
        for _ in range(CHECK_TRIES):
            decision = await self._decide(at, key, await self._store.get_contact(key))
            if decision is None:
                return
            if decision.delivery is not None:
                await self._put([d for d in [await self._plan(decision)] if d is not None])
            if await self._save(decision):
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

    async def _deliver_all(self, deliveries: list[dict[str, Any]]) -> None:
        """The learners' contacts, read together as the message is taken up (its sends go
        out within seconds), then each delivery."""
        keys = [LearnerKey(str(d["tenant"]), str(d["user"])) for d in deliveries]
        for key in keys:
            self._backlog[key.tenant_id] = self._backlog.get(key.tenant_id, 0) + 1
        try:
            contacts = await self._store.get_contacts(keys)
            await asyncio.gather(
                *(self._deliver(d, contacts.get(k)) for d, k in zip(deliveries, keys, strict=True))
            )
        finally:
            for key in keys:
                self._backlog[key.tenant_id] -= 1

    def _tenant_slot(self, tenant_id: str) -> asyncio.Semaphore:
        """One of the tenant's concurrency slots, held from taking a send slot to the end of
        the send (not while the outcome is written: a send waiting for its turn shouldn't
        wait for storage too)."""
        slots = self._tenant_slots.get(tenant_id)
        if slots is None:
            slots = self._tenant_slots[tenant_id] = asyncio.Semaphore(self._concurrency)
        return slots

    async def _deliver(self, delivery: dict[str, Any], stored: StoredContact | None) -> None:
        """Check, claim (just before it goes out), send and record one delivery."""
        contact = stored.contact if stored else None
        ending: State | None = None  # decided without sending
        if delivery.get("kind") == REPLY_KIND:
            activity = dict(delivery["activity"])
            if contact is not None and contact.unreachable:
                ending = State.GONE
        elif contact is None:  # deleted their data (or never installed): no trace of them
            logger.info("dropping a delivery for a learner without a contact")
            return
        elif contact.preferences.silent or self._stale(delivery, contact):
            ending = State.SKIPPED
        elif contact.unreachable:
            ending = State.GONE
        else:
            zone_name, now = contact.time_zone or self._default_zone, self._clock.now()
            if not in_hours(zone_name, contact.preferences, now):  # late: wait for the morning
                opens = next_open(zone_name, contact.preferences, now)
                await self._again(delivery, (opens - now).total_seconds(), simulated=True)
                return
            # The card speaks the language the learner's Teams last reported.
            with i18n.using(i18n.negotiate(contact.reference.get("locale"))):
                card = self._render(
                    str(delivery["kind"]), dict(delivery.get("data") or {}), contact
                )
            if card is None:
                ending = State.SKIPPED
            else:
                activity = proactive_activity(contact.reference, card)
        if ending is not None:
            if (claim := await self._claim(delivery)) is not None:
                await self._ledger.record(claim, Outcome(ending))
            return
        claimed: list[Claim] = []
        async with self._tenant_slot(str(delivery["tenant"])):
            result = await self._send(delivery, activity, claimed)
        await self._settle(delivery, claimed, result)

    async def _claim(self, delivery: dict[str, Any]) -> Claim | None:
        """The delivery's claim, or ``None`` (ended, or held: then it comes back later)."""
        claim = await self._ledger.claim(
            str(delivery["campaign"]),
            str(delivery["recipient"]),
            self._owner,
            self._real_now(),
            delivery.get("etag"),
        )
        if isinstance(claim, Held):  # another worker's claim is fresh: look after it ends
            await self._again(delivery, claim.seconds + 1)
            return None
        return claim

    async def _send(
        self, delivery: dict[str, Any], activity: dict[str, Any], claimed: list[Claim]
    ) -> SendResult:
        """Send when the tenant's turn comes, claiming the delivery just before (the claim
        is appended to ``claimed``)."""

        async def claim_now() -> bool:
            claim = await self._claim(delivery)
            if claim is not None:
                claimed.append(claim)
            return claim is not None

        message = Outbound(
            delivery_id=f"{delivery['campaign']}|{delivery['recipient']}",
            tenant_id=str(delivery["tenant"]),
            user_id=str(delivery["user"]),
            service_url=str(activity.get("serviceUrl") or ""),
            conversation_id=str((activity.get("conversation") or {}).get("id") or ""),
            activity=activity,
        )
        deadline = asyncio.get_running_loop().time() + SEND_BUDGET_SECONDS
        return await self._sender.send(message, deadline=deadline, hand_off=False, claim=claim_now)

    async def _settle(
        self, delivery: dict[str, Any], claimed: list[Claim], result: SendResult
    ) -> None:
        """Record what the send came to; a retry goes back on the queue."""
        if not claimed:  # withdrawn (sent or held elsewhere), or refused before any attempt
            refused = result.status is SendStatus.FAILED  # its host isn't allowed
            if refused and (claim := await self._claim(delivery)) is not None:
                await self._ledger.record(claim, _outcome(State.FAILED, result))
            return
        claim = claimed[0]
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
        again = {k: v for k, v in delivery.items() if k != "etag"}  # the row will have moved
        await self._queue.put({"type": "deliver", "deliveries": [again]}, delay=max(0.0, delay))

    def _stale(self, delivery: dict[str, Any], contact: Contact) -> bool:
        """Whether a proactive message's moment has passed: a weekly one in a later week, a
        daily one on a later day (in the learner's zone)."""
        local = self._clock.now().astimezone(zone(contact.time_zone or self._default_zone)).date()
        data = delivery.get("data") or {}
        if delivery.get("kind") in (Kind.CHALLENGE.value, Kind.PULSE.value):
            return str(data.get("week") or "") < iso_week(local)
        return str(data.get("day") or "") < local.isoformat()


@dataclass(frozen=True, slots=True)
class _Decision:
    """What a check decided for one learner: the contact to save (with what was sent and
    the next check) over the ETag it was read at, and the delivery, if any."""

    at: datetime
    key: LearnerKey
    etag: str
    contact: Contact
    delivery: dict[str, Any] | None


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
