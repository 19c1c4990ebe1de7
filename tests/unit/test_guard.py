"""The storage guard: each call's deadline, the circuit breaker, and the bulkhead that
keeps a burst's queueing from being mistaken for an outage."""

from __future__ import annotations

import asyncio

import pytest

from teams_app.storage.guard import StorageGuard, background
from teams_app.storage.ports import StorageUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _slow(guard: StorageGuard, seconds: float) -> None:
    async with guard.call("read"):
        await asyncio.sleep(seconds)


async def test_a_call_past_its_deadline_is_an_outage() -> None:
    guard = StorageGuard(deadline=0.05)
    with pytest.raises(StorageUnavailable, match="no answer within"):
        await _slow(guard, 1.0)


async def test_the_breaker_opens_fails_fast_probes_and_closes() -> None:
    clock = Clock()
    guard = StorageGuard(deadline=0.01, failures_to_open=3, cooldown=2.0, clock=clock)
    for _ in range(3):
        with pytest.raises(StorageUnavailable, match="no answer"):
            await _slow(guard, 0.1)
    assert guard.is_open
    with pytest.raises(StorageUnavailable, match="failing fast"):
        await _slow(guard, 0.0)  # not even tried
    clock.now = 2.5  # the cooldown is over: one call probes, and its success closes it
    await _slow(guard, 0.0)
    assert not guard.is_open
    await _slow(guard, 0.0)


async def test_a_burst_waits_its_turn_without_opening_the_breaker() -> None:
    """200 calls at once, each answered in 20 ms, through 8 slots: the last waits about
    half a second, ten times the deadline, but its deadline starts when its turn comes, so
    waiting is not an outage. (Without the bulkhead, every call would be under way at once,
    queueing in the HTTP client's pool inside its own deadline.)"""
    guard = StorageGuard(deadline=0.05, failures_to_open=1, in_flight=8)
    under_way = peak = 0

    async def call() -> None:
        nonlocal under_way, peak
        async with guard.call("read"):
            under_way += 1
            peak = max(peak, under_way)
            await asyncio.sleep(0.02)
            under_way -= 1

    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.gather(*(call() for _ in range(200)))
    assert loop.time() - began > 0.05 * 5, "the burst took far longer than one deadline"
    assert peak == 8
    assert not guard.is_open


async def test_an_open_breaker_fails_fast_even_for_calls_waiting_their_turn() -> None:
    clock = Clock()
    guard = StorageGuard(deadline=0.01, failures_to_open=1, cooldown=60, clock=clock)
    with pytest.raises(StorageUnavailable):
        await _slow(guard, 0.1)
    began = asyncio.get_running_loop().time()
    outcomes = await asyncio.gather(*(_slow(guard, 0.0) for _ in range(50)), return_exceptions=True)
    assert all(isinstance(o, StorageUnavailable) for o in outcomes)
    assert asyncio.get_running_loop().time() - began < 0.05


async def test_background_calls_leave_half_the_slots_and_let_others_go_first() -> None:
    guard = StorageGuard(in_flight=4)
    order: list[str] = []
    busy = 0
    most_busy = 0

    async def call(name: str, seconds: float = 0.02) -> None:
        nonlocal busy, most_busy
        async with guard.call(name):
            busy += name.startswith("check")
            most_busy = max(most_busy, busy)
            order.append(name)
            await asyncio.sleep(seconds)
            busy -= name.startswith("check")

    async def checks() -> None:
        with background():
            await asyncio.gather(*(call(f"check-{n}") for n in range(6)))

    checking = asyncio.create_task(checks())
    await asyncio.sleep(0.005)  # the checks hold two slots and four wait
    assert order == ["check-0", "check-1"], "background calls hold at most half the slots"
    await asyncio.gather(*(call(f"send-{n}", 0.05) for n in range(4)))
    await checking
    assert most_busy == 2
    # Two sends took the free slots at once, the other two the first two slots the
    # checks gave back: no check started before every send had.
    assert order.index("send-3") < order.index("check-2"), order
    assert len(order) == len(set(order)) == 10, "every call ran once"


async def _most_at_once(guard: StorageGuard, calls: int, *, waits: bool) -> int:
    """How many of ``calls`` concurrent calls (background ones with ``waits``) ran at once."""
    busy = most = 0

    async def call() -> None:
        nonlocal busy, most
        async with guard.call("read"):
            busy += 1
            most = max(most, busy)
            await asyncio.sleep(0.01)
            busy -= 1

    async def all_calls() -> None:
        await asyncio.gather(*(call() for _ in range(calls)))

    if waits:
        with background():
            await asyncio.wait_for(all_calls(), 1)
    else:
        await asyncio.wait_for(all_calls(), 1)
    return most


@pytest.mark.parametrize("granted", [False, True], ids=["while-waiting", "just-granted"])
async def test_a_background_call_cancelled_in_line_neither_keeps_nor_frees_a_slot(
    granted: bool,
) -> None:
    """Cancelled while it waits, or in the moment between being given a slot and running:
    either way the guard still runs four calls, two at once, and two background ones, one
    at a time (a slot kept would leave one, a slot given back twice three)."""
    guard = StorageGuard(in_flight=2)  # background calls: one at a time
    release = asyncio.Event()

    async def hold() -> None:
        async with guard.call("read"):
            await release.wait()

    with background():
        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(_slow(guard, 0.0))  # over the background share: waits
        await asyncio.sleep(0)
    if granted:
        release.set()
        await asyncio.sleep(0)  # the holder leaves and hands its slot to the waiter
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    assert await _most_at_once(guard, 4, waits=False) == 2
    assert await _most_at_once(guard, 4, waits=True) == 1
