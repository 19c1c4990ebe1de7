"""Pacing details that decide whether a campaign runs at the cap: how a 429 slows a tenant,
how the last check before a send spaces requests, and how work is shared out between tenants.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from teams_app.delivery.pacing import (
    RECOVERY_SECONDS,
    SLOWDOWN,
    BurstGuard,
    LocalRateGate,
    after_429,
)
from teams_app.engine.planner import _taking_turns
from teams_app.engine.worker import Worker
from teams_app.storage.engine_memory import MemoryQueue
from teams_app.storage.ports import LearnerKey


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- a 429 ---------------------------------------------------------------------------------


def test_a_straggler_of_the_pause_under_way_changes_nothing() -> None:
    assert after_429(0.75, 990.0, 995.0, paused_until=1001.0, now=1000.0) == (0.75, 990.0)


def test_a_lone_429_only_pauses_and_a_second_soon_after_cuts_the_rate() -> None:
    factor, since = after_429(1.0, 0.0, None, paused_until=0.0, now=1000.0)
    assert (factor, since) == (1.0, 1000.0)  # first: the pause alone
    factor, since = after_429(factor, since, 1000.0, paused_until=1001.0, now=1003.0)
    assert factor == pytest.approx(SLOWDOWN)  # again within the recovery time: slower
    later = 1003.0 + RECOVERY_SECONDS + 1
    recovered_factor, _ = after_429(factor, since, 1003.0, paused_until=1004.0, now=later)
    assert recovered_factor > factor  # a lone one after a quiet spell cuts nothing more


async def test_two_requests_refused_together_count_as_one_429() -> None:
    """A pause's in-flight stragglers don't slow the tenant; a real second 429 does."""
    clock = FakeClock()
    gate = LocalRateGate(10.0, clock=clock, conversation_interval=0.0)

    def spacing() -> float:
        first = gate.reserve_now("t", "c1", 100.0)
        second = gate.reserve_now("t", "c2", 100.0)
        assert first is not None and second is not None
        return second - first

    await gate.pause("t", 1.0)
    await gate.pause("t", 1.0)  # the other request in flight, refused at the same moment
    clock.now += 1.0
    assert spacing() == pytest.approx(0.1)  # full rate after the pause: no slowdown
    clock.now += 2.0
    await gate.pause("t", 1.0)  # a second 429 three seconds later: the limit is real
    clock.now += 1.0
    # cut by a quarter, and a second into its recovery (doubling every RECOVERY_SECONDS)
    assert spacing() == pytest.approx(0.1 / (SLOWDOWN * 2 ** (1 / RECOVERY_SECONDS)))


# --- the last check before a send ------------------------------------------------------------


async def test_the_burst_guard_spaces_sends_and_keeps_the_rate_in_every_second() -> None:
    """A busy event loop releases many sends at once: they leave spread out, never more than
    ceil(rate) in any one second, and at the rate over time."""
    rate = 19.4
    guard = BurstGuard(rate)
    admitted: list[float] = []

    async def one() -> None:
        await guard.admit("t")
        admitted.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(45)))
    gaps = [b - a for a, b in itertools.pairwise(admitted)]
    assert min(gaps) >= 0.5 / rate - 0.005  # spread, not bunched
    window = 20 / rate  # 20 sends at 19.4 a second take 1.03 s
    for i, start in enumerate(admitted):
        assert sum(1 for t in admitted[i:] if t < start + window - 0.005) <= 20


# --- sharing out between tenants -------------------------------------------------------------


def test_tenants_take_turns_among_learners_due_at_the_same_time() -> None:
    at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    later = at + timedelta(minutes=1)
    entries = [
        *((at, LearnerKey("a", f"a{n}")) for n in range(3)),  # the index lists by tenant
        *((at, LearnerKey("b", f"b{n}")) for n in range(2)),
        (later, LearnerKey("a", "a9")),
        (at, LearnerKey("c", "c0")),
    ]
    order = [(when == later, key.tenant_id) for when, key in _taking_turns(entries)]
    assert order == [
        (False, "a"),
        (False, "b"),
        (False, "c"),
        (False, "a"),
        (False, "b"),
        (False, "a"),
        (True, "a"),  # time order first
    ]


def _worker(queue: MemoryQueue) -> Worker:
    """A worker for the queue alone (sending 20 a second per tenant)."""
    unused = cast(Any, None)
    return Worker(
        queue=queue,
        ledger=unused,
        store=unused,
        schedule=unused,
        sender=unused,
        curriculum=unused,
        render=unused,
        clock=unused,
        owner="test",
        tenant_rate=20.0,
    )


async def test_a_message_mixing_tenants_is_split_so_no_tenant_waits_for_another() -> None:
    """Deliveries go on the queue one tenant to a message; one mixing tenants (put by an
    older version) is split before anything is sent, so one busy tenant's backlog never
    holds back another tenant's messages."""
    queue = MemoryQueue()
    worker = _worker(queue)

    def delivery(tenant: str, n: int) -> dict[str, Any]:
        return {
            "campaign": "challenge-2026-W49",
            "recipient": f"{tenant}|u{n}",
            "tenant": tenant,
            "user": f"u{n}",
            "kind": "challenge",
            "data": {},
        }

    mixed = [delivery("a", 1), delivery("b", 2), delivery("a", 3)]
    await queue.put({"type": "deliver", "deliveries": mixed}, delay=0.0)
    assert await worker.run_once() == 1
    parts = await queue.receive(10, visibility=60.0)
    tenants = sorted({d["tenant"] for d in m.body["deliveries"]} for m in parts)
    assert tenants == [{"a"}, {"b"}]
    assert sorted(len(m.body["deliveries"]) for m in parts) == [1, 2]


async def test_deferred_messages_come_back_one_behind_another_not_all_at_once() -> None:
    """A worker already holding 20 s of a tenant's sends puts that tenant's further messages
    back for later. Each comes back when its turn is near, after the ones put back before
    it, so a campaign of thousands doesn't keep putting the same messages back every few
    seconds (that churn kept the queue itself busy)."""
    clock = FakeClock()
    queue = MemoryQueue(clock)
    worker = _worker(queue)
    worker._backlog["a"] = 400  # 20 s of sending under way for tenant a (white box)
    for first in range(0, 160, 32):
        deliveries = [_delivery(n) for n in range(first, first + 32)]
        await queue.put({"type": "deliver", "deliveries": deliveries}, delay=0.0)
    assert await worker.run_once() == 5
    back: list[list[Any]] = []
    for _ in range(5):  # each comes back 1.6 s (32 sends) after the one before
        clock.now += 0.1
        assert await queue.receive(10, visibility=60.0) == []
        clock.now += 1.6 if back else 12.5 - 0.1  # 20 s of backlog, back with 7.5 s left
        back.append(await queue.receive(10, visibility=60.0))
    assert [len(b) for b in back] == [1, 1, 1, 1, 1]


class RecordingQueue(MemoryQueue):
    """The in-memory queue, noting each put's delay."""

    def __init__(self) -> None:
        super().__init__(FakeClock())
        self.delays: list[float] = []

    async def put(self, body: dict[str, Any], *, delay: float = 0.0) -> None:
        self.delays.append(delay)
        await super().put(body, delay=delay)


async def test_a_message_put_back_twice_is_counted_once() -> None:
    """A deferred message that comes back while the tenant is still busy goes back behind
    the ones still away, not behind itself as well: the estimate doesn't drift later and
    later (which left the worker idle with work waiting on the queue)."""
    queue = RecordingQueue()
    worker = _worker(queue)
    worker._backlog["a"] = 400  # 20 s of sending under way (white box)
    body = {"type": "deliver", "deliveries": [_delivery(n) for n in range(32)]}
    for _ in range(2):
        await queue.put(body)
    first, second = await queue.receive(2, visibility=60.0)
    assert await worker._later(first) and await worker._later(second)
    assert queue.delays[-2:] == pytest.approx([12.5, 14.1], abs=0.05)
    now = asyncio.get_running_loop().time()
    worker._deferred["a"] = [(now - 0.1, 32), (now + 1.5, 32)]  # the first came back
    await queue.put(body)
    (again,) = await queue.receive(1, visibility=60.0)
    assert await worker._later(again)
    assert queue.delays[-1] == pytest.approx(14.1, abs=0.05), "behind the second only"


def _delivery(n: int) -> dict[str, Any]:
    return {
        "campaign": "challenge-2026-W49",
        "recipient": f"a|u{n}",
        "tenant": "a",
        "user": f"u{n}",
        "kind": "challenge",
        "data": {},
    }
