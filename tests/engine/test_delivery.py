"""Nothing the bot sends is lost to throttling, and nothing arrives twice: the app, its
engine and worker processes on Azurite (tables and queues), against a local Bot Connector
that throttles like Teams (a per-tenant cap answered with 429 and ``Retry-After``), fails a
share of requests with 502 and refuses blocked chats with 403.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import load_settings
from teams_app.domain.learner import LearnerState
from teams_app.domain.schedule import Preferences
from teams_app.storage.engine_ports import Contact, State
from teams_app.storage.engine_tables import TableLedger, TableSchedule
from teams_app.storage.ports import LearnerKey
from teams_app.storage.tables import TableLearnerStore
from tests.conftest import REPO_ROOT, table_prefix
from tests.support.activities import TeamsUser
from tests.support.azurite import Azurite
from tests.support.connector import FakeConnector, start_connector

pytestmark = pytest.mark.azurite

TENANT = "11111111-1111-4111-8111-111111111111"
CAP = 20  # the connector's messages per second per tenant, as Teams' limit
# Zones no more than three hours apart: at any moment one of them is between 10:00 and 15:00.
ZONES = (
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/Berlin",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Tokyo",
    "Pacific/Noumea",
    "Pacific/Kiritimati",
)


def office_hours_zone(now: datetime) -> str:
    """A zone where it is late morning or early afternoon right now."""
    return next(z for z in ZONES if 10 <= now.astimezone(ZoneInfo(z)).hour < 15)


def _env(azurite: Azurite, prefix: str, **extra: str) -> dict[str, str]:
    return {
        "AIREADY_ENV": "development",
        "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
        "AIREADY_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AIREADY_TABLE_PREFIX": prefix,
        "AIREADY_SEND_RATE": str(CAP),
        **extra,
    }


@pytest.fixture
async def throttling_connector() -> AsyncIterator[tuple[FakeConnector, TestServer]]:
    fake = FakeConnector(tenant_rate=CAP, retry_after=1.0)
    fake, server = await start_connector(fake)
    try:
        yield fake, server
    finally:
        await server.close()


async def _until(check: Callable[[], Any], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def test_an_install_burst_welcomes_every_reachable_learner_exactly_once(
    aiohttp_client: Callable[..., Any],
    azurite: Azurite,
    throttling_connector: tuple[FakeConnector, TestServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """520 learners install at once (an org-wide policy: every request in flight together);
    the connector admits 20 a second, answers 2 % with 502, and a tenth of the chats refuse
    with 403. Each turn has 3 seconds to send its welcome (12 in the app): however fast this
    machine takes the installs in, the later welcomes can't go within their turn and must go
    by the queue. A turn has 1 second for its storage work (9 in the app), so the burst's
    later turns can't finish theirs in time: they still welcome their learner (never an
    error card instead), and the install is recorded all the same."""
    monkeypatch.setattr("server.routes.REPLY_BUDGET_SECONDS", 3.0)
    monkeypatch.setattr("teams_app.bot.agent.MESSAGE_BUDGET_SECONDS", 1.0)
    fake, server = throttling_connector
    fake.fail_share = 0.02
    users = [
        TeamsUser(
            service_url=str(server.make_url("/")),
            user_id=f"29:burst-{n}",
            aad_object_id=f"00000000-0000-4000-8000-{n:012d}",
            tenant_id=TENANT,
        )
        for n in range(520)
    ]
    blocked = {u.conversation_id for u in users[::10]}
    fake.blocked = set(blocked)
    settings = load_settings(_env(azurite, table_prefix(), AIREADY_ENGINE_IN_WEB="true"))
    client = await aiohttp_client(create_app(settings))
    started = time.monotonic()
    # Not the test client's session: its pool would take 100 installs at a time.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as teams:

        async def install(user: TeamsUser) -> int:
            async with teams.post(client.make_url("/api/messages"), json=user.installed()) as r:
                await r.read()
                return r.status

        statuses = await asyncio.gather(*(install(u) for u in users))
    assert set(statuses) <= {200, 202}, Counter(statuses)
    reachable = {u.conversation_id for u in users} - blocked

    async def all_welcomed() -> bool:
        return set(fake.per_conversation()) >= reachable

    await _until(all_welcomed, 120, "every reachable learner's welcome")
    await asyncio.sleep(2)  # anything still in flight would show up as a second message
    took = time.monotonic() - started
    counts = fake.per_conversation()
    assert all(counts[c] == 1 for c in reachable), "exactly one welcome each"
    assert not set(counts) & blocked, "nothing reached a refusing chat"
    assert fake.statuses[403] == len(blocked), "each refusing chat was tried once"
    assert sum(fake.after_block.values()) == 0, "no message after the first refusal"
    assert all("welcome" in str(s.activity).lower() for s in fake.sent)
    assert fake.statuses[429] + fake.statuses[502] > 0, "the connector did push back"
    assert len(reachable) / took <= CAP * 1.05, "never faster than the cap"
    ledger = await _ledger_counts(azurite, settings.table_prefix)
    queued = sum(c.get(State.SENT.value, 0) for n, c in ledger.items() if n.startswith("replies-"))
    assert queued > 0, "some welcomes were handed to the queue and sent from there"
    store = TableLearnerStore.from_connection_string(
        azurite.connection_string, settings.table_prefix
    )
    try:
        contacts = await store.get_contacts([LearnerKey(TENANT, u.aad_object_id) for u in users])
    finally:
        await store.close()
    assert len(contacts) == len(users), "every install is recorded, in time or not"
    assert all(c.contact.welcomed_by for c in contacts.values()), "each marked as welcomed"


async def _ledger_counts(azurite: Azurite, prefix: str) -> dict[str, dict[str, int]]:
    store = TableLearnerStore.from_connection_string(azurite.connection_string, prefix)
    ledger = TableLedger(store.service, prefix, store.guard)
    await ledger.open()
    try:
        return {c: await ledger.counts(c) for c in await ledger.campaigns()}
    finally:
        await ledger.close()
        await store.close()


async def _seed(
    azurite: Azurite, prefix: str, service_url: str, count: int, now: datetime
) -> list[LearnerKey]:
    """``count`` learners whose weekly challenge is due right now."""
    store = TableLearnerStore.from_connection_string(azurite.connection_string, prefix)
    await store.open()
    schedule = TableSchedule(store.service, prefix, store.guard)
    await schedule.open()
    zone = office_hours_zone(now)
    at = now.replace(second=0, microsecond=0)
    keys = [LearnerKey(TENANT, f"learner-{n:04d}") for n in range(count)]
    slots = asyncio.Semaphore(32)

    async def one(key: LearnerKey) -> None:
        reference = {
            "bot": {"id": "28:bot"},
            "channelId": "msteams",
            "conversation": {"id": f"a:{key.user_id}", "tenantId": TENANT},
            "serviceUrl": service_url,
            "user": {"id": f"29:{key.user_id}"},
        }
        contact = Contact(
            reference,
            now - timedelta(days=3),
            zone,
            Preferences(working_days=frozenset(range(7))),
            next_check=at,
        )
        async with slots:
            await store.save_profile(key, LearnerState(), None)
            await store.save_contact(key, contact, None)
            await schedule.add(at, key)

    try:
        await asyncio.gather(*(one(k) for k in keys))
    finally:
        await schedule.close()
        await store.close()
    return keys


class Workers:
    """``python -m server worker`` processes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIREADY_")},
            **env,
            "AIREADY_LOG_LEVEL": "WARNING",
        }
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "worker"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running.append(process)
        return process

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers() -> Any:
    started: list[Workers] = []

    def make(env: dict[str, str]) -> Workers:
        started.append(Workers(env))
        return started[-1]

    yield make
    for w in started:
        w.stop()


async def _settled(azurite: Azurite, prefix: str, campaign: str, total: int) -> dict[str, int]:
    counts: dict[str, int] = {}

    async def done() -> bool:
        nonlocal counts
        counts = (await _ledger_counts(azurite, prefix)).get(campaign, {})
        finished = sum(
            counts.get(s.value, 0) for s in State if s.value not in ("queued", "sending", "retry")
        )
        return finished == total

    await _until(done, 120, f"{campaign} to settle")
    return counts


async def test_two_worker_processes_send_a_campaign_exactly_once(
    azurite: Azurite,
    throttling_connector: tuple[FakeConnector, TestServer],
    workers: Callable[..., Workers],
) -> None:
    fake, server = throttling_connector
    prefix, now = table_prefix(), datetime.now(UTC)
    keys = await _seed(azurite, prefix, str(server.make_url("/")), 240, now)
    pool = workers(_env(azurite, prefix))
    pool.start()
    pool.start()
    campaign = _campaign(now)
    counts = await _settled(azurite, prefix, campaign, len(keys))
    await asyncio.sleep(1)
    assert counts.get(State.SENT.value) == len(keys), counts
    per_chat = fake.per_conversation()
    assert len(per_chat) == len(keys) and set(per_chat.values()) == {1}, "once each"
    assert fake.statuses[201] == len(keys)


async def test_a_worker_killed_mid_campaign_leaves_unknown_never_a_duplicate(
    azurite: Azurite,
    throttling_connector: tuple[FakeConnector, TestServer],
    workers: Callable[..., Workers],
) -> None:
    fake, server = throttling_connector
    prefix, now = table_prefix(), datetime.now(UTC)
    keys = await _seed(azurite, prefix, str(server.make_url("/")), 240, now)
    pool = workers(_env(azurite, prefix))
    doomed = pool.start()
    pool.start()

    async def under_way() -> bool:
        return len(fake.sent) >= 60

    await _until(under_way, 60, "the campaign to get going")
    doomed.send_signal(signal.SIGKILL)  # mid-send: no chance to record anything
    doomed.wait()
    pool.start()  # a replacement comes up
    campaign = _campaign(now)
    counts = await _settled(azurite, prefix, campaign, len(keys))
    await asyncio.sleep(1)
    per_chat = fake.per_conversation()
    assert max(per_chat.values()) == 1, "nobody got the challenge twice"
    sent, unknown = counts.get(State.SENT.value, 0), counts.get(State.UNKNOWN.value, 0)
    assert sent + unknown == len(keys), counts
    assert sent <= len(per_chat) <= sent + unknown, "unknown: it may or may not have arrived"
    assert unknown <= 16, "at most one worker's in-flight sends"


def _campaign(now: datetime) -> str:
    zone = office_hours_zone(now)
    local = now.astimezone(ZoneInfo(zone)).date()
    year, week, _ = local.isocalendar()
    return f"challenge-{year}-W{week:02d}"


async def test_a_429_storm_slows_the_campaign_down_and_loses_nothing(
    azurite: Azurite,
    throttling_connector: tuple[FakeConnector, TestServer],
    curriculum: Any,
) -> None:
    """The connector admits 4 a second (we pace at 20), answers 10 % with 502 and five
    chats refuse: the sender honours Retry-After across the tenant, retries the rest."""
    from server.services import build_services

    fake, server = throttling_connector
    fake.tenant_rate, fake.retry_after, fake.fail_share = 4, 2.0, 0.1
    prefix, now = table_prefix(), datetime.now(UTC)
    keys = await _seed(azurite, prefix, str(server.make_url("/")), 60, now)
    blocked = {f"a:{k.user_id}" for k in keys[:5]}
    fake.blocked = set(blocked)
    settings = load_settings(_env(azurite, prefix, AIREADY_ENGINE_IN_WEB="false"))
    async with build_services(settings, curriculum=curriculum) as services:
        engine = services.engine_runner("storm")
        running = asyncio.create_task(engine.run())
        try:
            counts = await _settled(azurite, prefix, _campaign(now), len(keys))
        finally:
            engine.stop()
            await running
    per_chat = fake.per_conversation()
    assert set(per_chat) == {f"a:{k.user_id}" for k in keys} - blocked
    assert set(per_chat.values()) == {1}, "each exactly once"
    assert counts[State.SENT.value] == len(keys) - len(blocked)
    assert counts[State.GONE.value] == len(blocked)
    assert fake.statuses[403] == len(blocked) and sum(fake.after_block.values()) == 0
    assert counts["throttled"] > 0 and counts["retried"] > 0
    assert fake.statuses[429] < fake.statuses[201], "Retry-After held the tenant back"
