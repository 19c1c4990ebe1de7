"""One contract for the engine's storage: the in-memory fakes and Azure (Tables and Queue
Storage on Azurite)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.engine_ports import Claim, EnginePorts, Held, Outcome, State
from teams_app.storage.engine_tables import TableLeases, TableLedger, TableSchedule
from teams_app.storage.guard import StorageGuard
from teams_app.storage.keys import join_key
from teams_app.storage.ports import LearnerKey
from teams_app.storage.queues import AzureDeliveryQueue
from teams_app.storage.tables import service_client
from tests.conftest import table_prefix
from tests.support.azurite import Azurite

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ALICE = LearnerKey("tenant-1", "alice")
BOB = LearnerKey("tenant-1", "bob|with/odd#chars")


@pytest.fixture(params=["memory", "azure"])
async def ports(request: pytest.FixtureRequest) -> AsyncIterator[EnginePorts]:
    if request.param == "memory":
        yield memory_engine(time.monotonic)
        return
    azurite: Azurite = request.getfixturevalue("azurite")
    service = service_client(azurite.connection_string)
    guard, prefix = StorageGuard(), table_prefix()
    parts = (
        TableSchedule(service, prefix, guard),
        TableLedger(service, prefix, guard, claim_lease=timedelta(seconds=60)),
        TableLeases(service, prefix, guard),
        AzureDeliveryQueue(azurite.connection_string, prefix, guard),
    )
    for part in parts:
        await part.open()
    try:
        yield EnginePorts(*parts)
    finally:
        for part in parts:
            await part.close()
        await service.close()


async def test_the_schedule_returns_what_falls_in_a_window_and_forgets_removed_entries(
    ports: EnginePorts,
) -> None:
    schedule = ports.schedule
    await schedule.add(NOW, ALICE)
    await schedule.add(NOW + timedelta(minutes=14), BOB)
    await schedule.add(NOW + timedelta(minutes=15), ALICE)  # just outside
    await schedule.add(NOW - timedelta(minutes=1), BOB)  # just before
    found = await schedule.due(NOW, NOW + timedelta(minutes=15))
    assert sorted(found, key=lambda r: r[0]) == [(NOW, ALICE), (NOW + timedelta(minutes=14), BOB)]
    await schedule.add(NOW, ALICE)  # adding twice is one entry
    await schedule.remove(NOW, ALICE)
    await schedule.remove(NOW, ALICE)  # removing twice is fine
    assert await schedule.due(NOW, NOW + timedelta(minutes=1)) == []


async def test_entries_added_and_removed_together_in_one_minute(ports: EnginePorts) -> None:
    """A check puts its learners in the same minutes and takes them out of theirs together
    (one transaction per minute on Azure Tables); an entry removed twice, or added twice at
    once, is no error."""
    schedule = ports.schedule
    keys = [LearnerKey(f"tenant-{n % 2}", f"learner-{n:03d}") for n in range(120)]
    await asyncio.gather(
        *(schedule.add(NOW + timedelta(minutes=n % 2), k) for n, k in enumerate(keys)),
        schedule.add(NOW, keys[0]),  # the same entry twice in one go
    )
    found = await schedule.due(NOW, NOW + timedelta(minutes=2))
    assert sorted(found, key=lambda e: e[1].user_id) == [
        (NOW + timedelta(minutes=n % 2), k) for n, k in enumerate(keys)
    ]
    await schedule.remove(NOW, keys[2])  # gone before the others
    await asyncio.gather(
        *(schedule.remove(NOW + timedelta(minutes=n % 2), k) for n, k in enumerate(keys[:100]))
    )
    left = await schedule.due(NOW, NOW + timedelta(minutes=2))
    assert sorted(k.user_id for _, k in left) == [k.user_id for k in keys[100:]]


async def test_deliveries_planned_together_are_each_claimed_once(ports: EnginePorts) -> None:
    """A check plans a campaign's deliveries together (one transaction on Azure Tables); one
    planned before (a check run twice) doesn't stop the others, and keeps its own state."""
    ledger = ports.ledger
    recipients = [f"tenant-1|learner-{n:02d}" for n in range(40)]
    first = await ledger.plan("c-together", recipients[5], NOW)
    claim = await ledger.claim("c-together", recipients[5], "w1", NOW, first)
    assert isinstance(claim, Claim)
    await ledger.record(claim, Outcome(State.SENT))
    etags = await asyncio.gather(*(ledger.plan("c-together", r, NOW) for r in recipients))
    assert etags[5] is None, "sent already: nothing to plan"
    assert all(etags[n] for n in range(len(recipients)) if n != 5)
    claims = await asyncio.gather(
        *(
            ledger.claim("c-together", r, "w1", NOW, etag)
            for r, etag in zip(recipients, etags, strict=True)
            if etag
        )
    )
    assert all(isinstance(c, Claim) and c.attempts == 1 for c in claims)
    assert (await ledger.counts("c-together")).get(State.SENDING.value) == len(recipients) - 1
    # Claimed together too (no send cap): each claim's ETag is its row's, so an outcome
    # written only if the row is unchanged (a retry, unlike a send) is written.
    await asyncio.gather(
        *(ledger.record(c, Outcome(State.RETRY)) for c in claims if isinstance(c, Claim))
    )
    counts = await ledger.counts("c-together")
    assert counts.get(State.RETRY.value) == len(recipients) - 1
    assert counts.get(State.SENT.value) == 1


async def test_a_campaigns_rows_are_kept_in_a_partition_per_tenant(azurite: Azurite) -> None:
    """No partition takes a campaign's writes for every tenant (a partition serves a few
    thousand a second, a tenant's sends are paced by Teams), yet each row stays where
    claims, reports and a learner's data download find it."""
    service = service_client(azurite.connection_string)
    prefix = table_prefix()
    ledger = TableLedger(service, prefix, StorageGuard())
    await ledger.open()
    recipients = [join_key(f"tenant-{n % 3}", f"u{n}") for n in range(60)]
    try:
        await asyncio.gather(*(ledger.plan("c-tenants", r, NOW) for r in recipients))
        claims = await asyncio.gather(*(ledger.claim("c-tenants", r, "w", NOW) for r in recipients))
        await asyncio.gather(
            *(ledger.record(c, Outcome(State.SENT)) for c in claims if isinstance(c, Claim))
        )
        table = service.get_table_client(f"{prefix}deliveries")
        partitions = Counter(
            [row["PartitionKey"] async for row in table.list_entities(select=["PartitionKey"])]
        )
        await table.close()
        assert sorted(partitions.values()) == [1, 20, 20, 20], "three tenants and the index"
        assert (await ledger.counts("c-tenants"))["sent"] == 60
        assert (await ledger.counts("c-tenants", "tenant-1"))["sent"] == 20
        assert await ledger.deliveries_of(recipients[7]) == {"c-tenants": "sent"}
    finally:
        await ledger.close()
        await service.close()


async def test_whole_hours_are_purged_once_long_past(ports: EnginePorts) -> None:
    schedule = ports.schedule
    for minutes in (-125, -70, -55, -5, 0, 30):
        await schedule.add(NOW + timedelta(minutes=minutes), ALICE)
    assert await schedule.purge(NOW - timedelta(minutes=50)) == 2, "the hours before 08:00"
    left = await schedule.due(NOW - timedelta(hours=3), NOW + timedelta(hours=1))
    kept = [NOW + timedelta(minutes=m) for m in (-55, -5, 0, 30)]
    assert sorted(at for at, _ in left) == kept, "08:00 is kept whole, 08:05 too"
    await schedule.add(NOW - timedelta(minutes=125), BOB)  # a purged hour fills again
    assert await schedule.due(NOW - timedelta(minutes=125), NOW - timedelta(minutes=124)) == [
        (NOW - timedelta(minutes=125), BOB)
    ]


async def test_a_delivery_is_claimed_once_and_a_sent_one_never_again(ports: EnginePorts) -> None:
    ledger = ports.ledger
    planned = await ledger.plan("challenge-2026-W49", "r1", NOW)
    assert planned, "new: its ETag"
    assert await ledger.plan("challenge-2026-W49", "r1", NOW) == planned, "still waiting"
    claims = await asyncio.gather(
        *(ledger.claim("challenge-2026-W49", "r1", f"worker-{n}", NOW) for n in range(6))
    )
    won = [c for c in claims if isinstance(c, Claim)]
    assert len(won) == 1, claims
    assert all(isinstance(c, Held) or c is None for c in claims if c is not won[0])
    await ledger.record(won[0], Outcome(State.SENT, 201, tries=1, activity_id="a-1"))
    assert await ledger.claim("challenge-2026-W49", "r1", "late", NOW) is None
    assert await ledger.plan("challenge-2026-W49", "r1", NOW) is None, "ended"
    assert (await ledger.counts("challenge-2026-W49"))["sent"] == 1


async def test_a_planned_delivery_is_claimed_with_its_etag_and_only_once(
    ports: EnginePorts,
) -> None:
    ledger = ports.ledger
    etag = await ledger.plan("pulse-2026-W49", "r1", NOW)
    assert etag
    claims = await asyncio.gather(
        *(ledger.claim("pulse-2026-W49", "r1", f"w{n}", NOW, etag) for n in range(4))
    )
    assert sum(isinstance(c, Claim) for c in claims) == 1
    late = await ledger.claim("pulse-2026-W49", "r1", "late", NOW, etag)  # a stale ETag
    assert isinstance(late, Held), "it is being sent"
    retry = await ledger.plan("pulse-2026-W49", "r2", NOW)
    first = await ledger.claim("pulse-2026-W49", "r2", "w1", NOW, retry)
    assert isinstance(first, Claim)
    await ledger.record(first, Outcome(State.RETRY, 502, tries=1))
    assert await ledger.plan("pulse-2026-W49", "r2", NOW) == "", "waiting for a retry"


async def test_a_retry_is_claimed_again_and_counts_attempts_and_throttles(
    ports: EnginePorts,
) -> None:
    ledger = ports.ledger
    first = await ledger.claim("reviews-2026-11-30", "r1", "w1", NOW)
    assert isinstance(first, Claim) and first.attempts == 1
    await ledger.record(first, Outcome(State.RETRY, 429, tries=2, throttled=2))
    second = await ledger.claim("reviews-2026-11-30", "r1", "w2", NOW)
    assert isinstance(second, Claim) and second.attempts == 2 and second.throttled == 2
    await ledger.record(second, Outcome(State.SENT, 201, tries=1, throttled=0))
    counts = await ledger.counts("reviews-2026-11-30")
    assert counts["sent"] == 1 and counts["retried"] == 1 and counts["throttled"] == 2


async def test_a_claim_whose_worker_died_becomes_unknown_and_is_never_sent_again(
    ports: EnginePorts,
) -> None:
    ledger = ports.ledger
    claim = await ledger.claim("nudge-2026-11-30", "r1", "dies", NOW)
    assert isinstance(claim, Claim)
    held = await ledger.claim("nudge-2026-11-30", "r1", "other", NOW + timedelta(seconds=10))
    assert isinstance(held, Held) and 49 <= held.seconds <= 50
    assert await ledger.claim("nudge-2026-11-30", "r1", "other", NOW + timedelta(minutes=2)) is None
    assert await ledger.counts("nudge-2026-11-30") == {"unknown": 1, "retried": 0, "throttled": 0}
    # ... unless the slow worker comes back knowing it was delivered: "sent" wins.
    await ledger.record(claim, Outcome(State.SENT, 201, tries=1))
    assert (await ledger.counts("nudge-2026-11-30"))["sent"] == 1
    await ledger.record(claim, Outcome(State.RETRY, 502))  # a stale claim can't reopen it
    assert (await ledger.counts("nudge-2026-11-30"))["sent"] == 1


async def test_campaigns_are_listed(ports: EnginePorts) -> None:
    for campaign in ("pulse-2026-W49", "challenge-2026-W49", "replies-2026-11-30"):
        await ports.ledger.plan(campaign, "someone", NOW)
    assert await ports.ledger.campaigns() == [
        "challenge-2026-W49",
        "pulse-2026-W49",
        "replies-2026-11-30",
    ]


async def test_each_campaign_counts_its_own_deliveries(ports: EnginePorts) -> None:
    """Names that are prefixes of one another, one holding the key separator, and one called
    like the campaign index's partition are each counted alone."""
    ledger = ports.ledger
    campaigns = ("c", "c-2", "c|x", "index", "campaigns")
    for n, campaign in enumerate(campaigns):
        for user in range(n + 1):
            await ledger.plan(campaign, join_key("t", f"u{user}"), NOW)
    for n, campaign in enumerate(campaigns):
        assert await ledger.counts(campaign) == {
            "queued": n + 1, "retried": 0, "throttled": 0,
        }, campaign  # fmt: skip
    assert await ledger.campaigns() == sorted(campaigns)


async def test_a_recipients_deliveries_are_listed_and_forgotten_everywhere(
    ports: EnginePorts,
) -> None:
    ledger = ports.ledger
    me, other = "tenant|me", "tenant|someone-else"
    for campaign in ("challenge-2026-W49", "reviews-2026-11-30", "replies-2026-11-30"):
        await ledger.plan(campaign, other, NOW)
    await ledger.plan("challenge-2026-W49", me, NOW)
    claim = await ledger.claim("reviews-2026-11-30", me, "w1", NOW)
    assert isinstance(claim, Claim)
    await ledger.record(claim, Outcome(State.SENT, 201, 1))
    assert await ledger.deliveries_of(me) == {
        "challenge-2026-W49": "queued",
        "reviews-2026-11-30": "sent",
    }
    assert await ledger.forget(me) == 2
    assert await ledger.deliveries_of(me) == {}
    assert await ledger.forget(me) == 0, "safe to repeat"
    assert len(await ledger.deliveries_of(other)) == 3, "nobody else's"
    assert (await ledger.counts("challenge-2026-W49")).get("queued") == 1


async def test_of_eight_contenders_exactly_one_holds_the_lease_until_it_expires(
    ports: EnginePorts,
) -> None:
    leases = ports.leases
    results = await asyncio.gather(*(leases.acquire("planner", f"p{n}", 60, NOW) for n in range(8)))
    assert results.count(True) == 1
    holder = f"p{results.index(True)}"
    assert await leases.acquire("planner", holder, 60, NOW + timedelta(seconds=30)), "renewed"
    assert not await leases.acquire("planner", "p-new", 60, NOW + timedelta(seconds=80))
    assert await leases.acquire("planner", "p-new", 60, NOW + timedelta(seconds=91)), "expired"
    assert not await leases.acquire("planner", holder, 60, NOW + timedelta(seconds=92))


async def test_queue_messages_wait_out_their_delay_and_come_back_until_deleted(
    ports: EnginePorts,
) -> None:
    queue = ports.queue
    await queue.put({"type": "check", "n": 1})
    await queue.put({"type": "check", "n": 2}, delay=2.0)
    first = await queue.receive(32, visibility=2.0)
    assert [m.body["n"] for m in first] == [1] and first[0].dequeue_count == 1
    assert await queue.receive(32, visibility=2.0) == [], "hidden while being handled"
    await asyncio.sleep(3.2)  # delays round up to whole seconds, plus one
    again = sorted(await queue.receive(32, visibility=30.0), key=lambda m: m.body["n"])
    assert [(m.body["n"], m.dequeue_count) for m in again] == [(1, 2), (2, 1)]
    for message in again:
        await queue.delete(message)
    assert await queue.receive(32, visibility=1.0) == []


async def test_a_delayed_message_returns_later_and_a_failing_one_is_set_aside(
    ports: EnginePorts,
) -> None:
    queue = ports.queue
    await queue.put({"type": "deliver", "n": 1})
    (message,) = await queue.receive(1, visibility=30.0)
    moved = await queue.delay(message, 1.0)
    assert await queue.receive(1, visibility=30.0) == []
    await asyncio.sleep(2.2)
    (back,) = await queue.receive(1, visibility=30.0)
    assert back.body == {"type": "deliver", "n": 1} and back.id == moved.id
    await queue.set_aside(back)
    assert await queue.receive(1, visibility=1.0) == []
    assert await queue.poisoned() == 1


async def test_receive_takes_at_most_what_was_asked(ports: EnginePorts) -> None:
    for n in range(40):
        await ports.queue.put({"n": n})
    batch = await ports.queue.receive(32, visibility=30.0)
    assert len(batch) == 32
    assert len(await ports.queue.receive(32, visibility=30.0)) == 8


async def test_a_campaigns_counts_can_be_read_for_one_tenant(ports: EnginePorts) -> None:
    ledger = ports.ledger
    campaign = "challenge-2026-W49"
    # "abc" is a prefix of "abcd"; "a|b" holds the separator itself.
    for tenant, users in (("abc", ["u1", "u2"]), ("abcd", ["u1"]), ("a|b", ["u~1"])):
        for user in users:
            await ledger.plan(campaign, join_key(tenant, user), NOW)
    claim = await ledger.claim(campaign, join_key("abc", "u1"), "worker", NOW)
    assert isinstance(claim, Claim)
    await ledger.record(claim, Outcome(State.SENT, 201, tries=1, activity_id="a-1"))
    assert await ledger.counts(campaign, "abc") == {
        "sent": 1, "queued": 1, "retried": 0, "throttled": 0,
    }  # fmt: skip
    assert (await ledger.counts(campaign, "abcd"))["queued"] == 1
    assert (await ledger.counts(campaign, "a|b"))["queued"] == 1
    assert (await ledger.counts(campaign, "a")).get("queued", 0) == 0
    assert (
        sum(v for k, v in (await ledger.counts(campaign)).items() if k in ("sent", "queued")) == 4
    )
