"""Under load, through a storage outage and a ``kill -9`` of the server: no answer a learner
saw acknowledged is lost, none is counted twice, and error cards arrive within Teams' 5 s.

The real server runs as a subprocess (``python -m server``, local-dev mode) against Azurite,
reached through a TCP proxy the test can take down. Forty learners answer their skills check
and a lesson concurrently, as Teams would send the clicks; a click that got no answer (the
server was killed, or storage was down) is sent again later with the same activity id, as
Teams redelivers. Partway through, storage goes down for a few seconds; later the server is
killed with SIGKILL and started again. Afterwards every learner's stored answers are checked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from teams_app.domain.content import Curriculum
from teams_app.storage.ports import LearnerKey
from teams_app.storage.tables import TableLearnerStore
from tests.bot.play import choice, question_of
from tests.conftest import table_prefix
from tests.support.activities import TeamsUser
from tests.support.azurite import Azurite, connection_string, free_port
from tests.support.driver import actions, answers_stored, find_action
from tests.support.flaky_proxy import FlakyProxy

pytestmark = pytest.mark.azurite

REPO_ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 40
OUTAGE_AFTER = 120  # acknowledged answers before storage goes down
KILL_AFTER = 260  # ... before the server is killed
OUTAGE_SECONDS = 3.0
TEAMS_LIMIT_SECONDS = 5.0


@dataclass
class Server:
    """``python -m server`` as a subprocess."""

    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Run:
    """Shared state of the load."""

    acknowledged: dict[str, set[str]] = field(default_factory=dict)  # learner -> attempt|q
    error_latencies: list[float] = field(default_factory=list)
    answers: int = 0
    resent: int = 0
    server_down: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def proxy(azurite: Azurite) -> AsyncIterator[FlakyProxy]:
    flaky = await FlakyProxy(azurite.port).start()
    try:
        yield flaky
    finally:
        await flaky.close()


async def _click(
    http: aiohttp.ClientSession, server: Server, run: Run, activity: dict[str, Any]
) -> dict[str, Any]:
    """Post one card action until the server answers it (re-sending the same activity)."""
    while True:
        if run.server_down.is_set():
            await asyncio.sleep(0.1)
            continue
        sent = time.monotonic()
        try:
            async with http.post(f"{server.url}/api/messages", json=activity) as response:
                body: dict[str, Any] = await response.json()
        except (TimeoutError, aiohttp.ClientError):
            run.resent += 1
            await asyncio.sleep(0.2)  # the server is gone: Teams would redeliver later
            continue
        elapsed = time.monotonic() - sent
        card: dict[str, Any] = body.get("value", {})
        if "Temporary problem" in str(card) or "try again" in str(card).lower():
            run.error_latencies.append(elapsed)
            await asyncio.sleep(0.3)
            continue  # redelivered with the same id, as Teams does when a learner retries
        assert response.status == 200, body
        return card


async def _learner(
    index: int, http: aiohttp.ClientSession, server: Server, run: Run, curriculum: Curriculum
) -> None:
    user = TeamsUser(
        service_url="http://127.0.0.1:9/",
        user_id=f"29:load-{index}",
        aad_object_id=f"00000000-0000-4000-8000-{index + 100:012d}",
    )
    mine = run.acknowledged.setdefault(user.aad_object_id, set())
    await _click(http, server, run, user.invoke("choose_role", {"role": "finance"}))
    card = await _click(http, server, run, user.invoke("start_assessment"))
    finished = 0  # the skills check, then one lesson
    while finished < 2:
        verbs = [a.get("verb") for a in actions(card)]
        if "start_quiz" in verbs:
            data = find_action(card, "start_quiz")["data"]
            card = await _click(http, server, run, user.invoke("start_quiz", data))
            continue
        button = find_action(card, "answer")
        response = "0"
        if button["data"]["kind"] == "assessment":
            question, _ = question_of(curriculum, button)
            response = choice(question, index % 2 == 0)
        data = {**button["data"], "answer": response, "confidence": "medium"}
        feedback = await _click(http, server, run, user.invoke("answer", data))
        assert "Correct" in str(feedback) or "Not quite" in str(feedback), feedback
        mine.add(f"{data['attempt']}|{data['question']}")
        run.answers += 1
        if "show_results" in [a.get("verb") for a in actions(feedback)]:
            finished += 1
            card = await _click(http, server, run, user.invoke("start_lesson"))
        else:
            card = await _click(http, server, run, user.invoke("continue"))


async def _conductor(run: Run, proxy: FlakyProxy, server: Server) -> None:
    while run.answers < OUTAGE_AFTER:
        await asyncio.sleep(0.05)
    proxy.down = True
    proxy.reset_open()
    await asyncio.sleep(OUTAGE_SECONDS)
    proxy.down = False
    while run.answers < KILL_AFTER:
        await asyncio.sleep(0.05)
    run.server_down.set()
    server.kill()
    await server.start()
    run.server_down.clear()


async def test_no_acknowledged_answer_is_lost_or_counted_twice(
    azurite: Azurite, proxy: FlakyProxy, curriculum: Curriculum
) -> None:
    prefix = table_prefix()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIREADY_")},
        "AIREADY_ENV": "development",
        "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
        "AIREADY_STORAGE_CONNECTION_STRING": connection_string(proxy.port, azurite.queue_port),
        "AIREADY_TABLE_PREFIX": prefix,
        "AIREADY_PORT": str(free_port()),
        "AIREADY_LOG_LEVEL": "ERROR",
    }
    server = Server(env, int(env["AIREADY_PORT"]))
    await server.start()
    run = Run()
    try:
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            conductor = asyncio.create_task(_conductor(run, proxy, server))
            await asyncio.wait_for(
                asyncio.gather(
                    *(_learner(i, http, server, run, curriculum) for i in range(LEARNERS))
                ),
                timeout=600,
            )
            assert conductor.done(), "the outage and the kill both happened"
            await conductor
    finally:
        server.stop()

    assert run.error_latencies, "the outage was felt"
    assert run.resent, "the kill cut requests off"
    assert max(run.error_latencies) < TEAMS_LIMIT_SECONDS, sorted(run.error_latencies)[-5:]
    store = TableLearnerStore.from_connection_string(azurite.connection_string, prefix)
    try:
        for user_id, acknowledged in run.acknowledged.items():
            key = LearnerKey("11111111-1111-4111-8111-111111111111", user_id)
            stored = await answers_stored(store, key)
            profile = await store.get_profile(key)
            assert profile is not None
            history = await store.list_attempts(key)
            answered = [
                f"{a.activity.attempt}|{r.question_id}" for a in history for r in a.activity.results
            ]
            if profile.state.activity is not None:
                answered += [
                    f"{profile.state.activity.attempt}|{r.question_id}"
                    for r in profile.state.activity.results
                ]
            assert len(answered) == len(set(answered)), f"{user_id}: an answer counted twice"
            assert acknowledged <= set(answered), f"{user_id}: an acknowledged answer was lost"
            tallied = sum(t.total for t in profile.state.tallies.values())
            assert tallied == len(stored), f"{user_id}: tallies disagree with the answers"
    finally:
        await store.close()
