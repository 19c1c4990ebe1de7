"""Benchmark: AI Ready's quiz-answer invoke against the Agents SDK's bare invoke turn.

Both servers run side by side in one child process on the same Azurite; this process is the
load generator. The floor is the least a real card action can do: an ``Action.Execute``
handler on the same SDK stack that makes one Table point read and one upsert and returns a
fixed card. Ours scores the answer, writes the answer row and the learner's profile in one
ETag-guarded transaction, and renders the feedback card.

Measured, in one run, and stated as ratios to the floor (a fixed rate or latency would not
hold from one machine to the next):
  * latency at 1 concurrent learner (requests alternate between the two servers):
    target p50 ours <= 1.3x floor;
  * the maximum sustained answers per second with many concurrent learners:
    target ours >= 0.8x floor;
  * latency under a steady open-loop arrival at half of the floor's measured maximum (latency
    counted from the scheduled send time, so queueing is not hidden), for both servers:
    target p99 ours <= 2x floor's p99.

Usage: .venv/bin/python bench/quiz_turn.py [--seconds 8] [--samples 300]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.activities import TeamsUser  # noqa: E402
from tests.support.azurite import free_port, start_azurite  # noqa: E402

FIXED_CARD = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Correct. +3 marks (high confidence)", "wrap": True}],
    "actions": [{"type": "Action.Execute", "title": "Next question", "verb": "continue"}],
}


# --- the servers (child process) -------------------------------------------------------------


def _floor_app(connection_string: str) -> Any:
    """The floor: SDK stack, one point read + one upsert, a fixed card."""
    from aiohttp import web
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import UpdateMode
    from microsoft_agents.activity import AdaptiveCardInvokeResponse
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import CloudAdapter, start_agent_process
    from microsoft_agents.hosting.core import (
        AgentApplication,
        AgentAuthConfiguration,
        ApplicationOptions,
        MemoryStorage,
        TurnState,
    )

    config = AgentAuthConfiguration(anonymous_allowed=True)
    connections = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})
    adapter = CloudAdapter(connection_manager=connections)
    agent = AgentApplication[TurnState](
        ApplicationOptions(
            storage=MemoryStorage(), start_typing_timer=False, turn_state_factory=TurnState
        ),
        connection_manager=connections,
    )
    from teams_app.storage.tables import service_client

    # The same client settings as ours, so the comparison is about the work, not the client.
    service = service_client(connection_string)
    table = service.get_table_client("benchfloor")

    @agent.adaptive_card.action_execute("answer")
    async def on_answer(context: Any, _state: Any, data: Any) -> AdaptiveCardInvokeResponse:
        user = context.activity.from_property.id
        try:
            row = await table.get_entity("floor", user)
            count = int(row.get("Count", 0))
        except ResourceNotFoundError:
            count = 0
        await table.upsert_entity(
            {"PartitionKey": "floor", "RowKey": user, "Count": count + 1}, mode=UpdateMode.REPLACE
        )
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.card.adaptive", value=FIXED_CARD
        )

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent, adapter)
        return response or web.Response(status=202)

    async def lifespan(_app: web.Application) -> Any:
        await service.create_table_if_not_exists("benchfloor")
        yield
        await table.close()
        await service.close()

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.cleanup_ctx.append(lifespan)
    return app


def _serve(
    connection_string: str, prefix: str, ours_port: int, floor_port: int, ready: Any
) -> None:
    import logging
    import warnings

    from aiohttp import web

    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    from server.app import create_app
    from server.config import load_settings

    settings = load_settings(
        {
            "AIREADY_ENV": "development",
            "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
            "AIREADY_STORAGE_CONNECTION_STRING": connection_string,
            "AIREADY_TABLE_PREFIX": prefix,
        }
    )

    async def main() -> None:
        runners = []
        for app, port in (
            (create_app(settings), ours_port),
            (_floor_app(connection_string), floor_port),
        ):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            runners.append(runner)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the load generator -----------------------------------------------------------------------


class Learner:
    """One simulated learner at the first question of the skills check."""

    def __init__(self, index: int) -> None:
        self.user = TeamsUser(
            service_url="http://127.0.0.1:9/",
            user_id=f"29:bench-{index}",
            aad_object_id=str(uuid.uuid4()),
        )
        self.attempt = ""
        self.question = ""  # the question on screen; empty once the check is over
        self.busy = False

    def next_answer(self) -> dict[str, Any]:
        question = self.question
        return self.user.invoke(
            "answer",
            {
                "kind": "assessment",
                "attempt": self.attempt,
                "question": question,
                "answer": "0",
                "confidence": "high",
            },
        )

    def answered(self) -> None:
        """One answer each: the next question of the adaptive check only comes after a
        "Next question" turn, which is not what this benchmark measures."""
        self.question = ""

    @property
    def left(self) -> int:
        return 1 if self.question else 0


async def _post(
    session: aiohttp.ClientSession, url: str, activity: dict[str, Any]
) -> dict[str, Any]:
    async with session.post(url, json=activity) as response:
        body: dict[str, Any] = await response.json()
        if response.status != 200 or body.get("statusCode") != 200:
            raise RuntimeError(f"unexpected answer {response.status}: {str(body)[:200]}")
        return body


async def _prepare(
    session: aiohttp.ClientSession, url: str, count: int, store: Any, *, start: int = 0
) -> list[Learner]:
    """Learners with a skills check open, and its questions read from storage (not measured)."""
    from teams_app.storage.ports import LearnerKey

    async def one(i: int) -> Learner:
        learner = Learner(i)
        await _post(session, url, learner.user.invoke("choose_role", {"role": "it"}))
        await _post(session, url, learner.user.invoke("start_assessment"))
        key = LearnerKey(learner.user.tenant_id, learner.user.aad_object_id)
        stored = await store.get_profile(key)
        learner.attempt = stored.state.activity.attempt
        learner.question = stored.state.activity.current_question_id or ""
        return learner

    learners = []
    for first in range(start, start + count, 16):
        batch = range(first, min(start + count, first + 16))
        learners += await asyncio.gather(*(one(i) for i in batch))
    return learners


def _answer_data(card: dict[str, Any], verb: str = "answer") -> dict[str, Any]:
    for action in card.get("actions", []):
        if action.get("verb") == verb:
            return dict(action["data"])
    raise RuntimeError(f"no {verb} action")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Target:
    """Where one kind of request goes and which learners it uses."""

    def __init__(self, name: str, url: str, ours: bool, pool: list[Learner]) -> None:
        self.name, self.url, self.ours, self.pool = name, url, ours, pool

    def learner(self) -> Learner:
        if not self.ours:
            return self.pool[0]
        for learner in self.pool:
            if learner.left > 0 and not learner.busy:
                return learner
        raise RuntimeError("ran out of prepared learners; raise the pool size")

    async def request(self, session: aiohttp.ClientSession) -> float:
        """Send one answer; returns its latency in seconds (the answer invoke only)."""
        if not self.ours:
            user = TeamsUser(
                service_url="http://127.0.0.1:9/", user_id=f"29:floor-{uuid.uuid4().hex[:6]}"
            )
            started = time.perf_counter()
            await _post(session, self.url, user.invoke("answer", {"x": 1}))
            return time.perf_counter() - started
        learner = self.learner()
        learner.busy = True
        try:
            started = time.perf_counter()
            await _post(session, self.url, learner.next_answer())
            elapsed = time.perf_counter() - started
            learner.answered()
            return elapsed
        finally:
            learner.busy = False


async def _sequential(
    session: aiohttp.ClientSession, ours: Target, floor: Target, samples: int
) -> tuple[list[float], list[float]]:
    a, b = [], []
    for _ in range(samples):
        a.append(await ours.request(session))
        b.append(await floor.request(session))
    return a, b


async def _open_loop(
    session: aiohttp.ClientSession, target: Target, rate: float, seconds: float
) -> list[float]:
    """Send at a fixed rate regardless of responses; latency from the scheduled time."""
    latencies: list[float] = []
    interval = 1 / rate
    start = time.perf_counter()
    tasks = []

    async def fire(scheduled: float) -> None:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        begun = time.perf_counter()
        took = await target.request(session)
        latencies.append(took + (begun - scheduled))

    for i in range(int(rate * seconds)):
        tasks.append(asyncio.create_task(fire(start + i * interval)))
    await asyncio.gather(*tasks)
    return latencies


async def _max_throughput(
    session: aiohttp.ClientSession, target: Target, concurrency: int, seconds: float
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await target.request(session)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def _row(name: str, values: list[float]) -> str:
    p50, p99 = 1000 * statistics.median(values), 1000 * _percentile(values, 0.99)
    return f"  {name:<8} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   n={len(values)}"


async def run(
    args: argparse.Namespace, ours_url: str, floor_url: str, connection_string: str, prefix: str
) -> int:
    from teams_app.storage.tables import TableLearnerStore

    store = TableLearnerStore.from_connection_string(connection_string, prefix)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        pool = await _prepare(session, ours_url, args.pool, store)
        ours = Target("ours", ours_url, True, pool)
        floor = Target("floor", floor_url, False, [])
        await _sequential(session, ours, floor, 20)  # warm up both

        seq_ours, seq_floor = await _sequential(session, ours, floor, args.samples)
        max_ours = await _max_throughput(session, ours, args.concurrency, args.max_seconds)
        max_floor = await _max_throughput(session, floor, args.concurrency, args.max_seconds)
        rate = max_floor / 2
        ready = sum(learner.left for learner in ours.pool)
        wanted = int(rate * args.seconds * 1.2) + args.concurrency
        if wanted > ready:  # each learner answers once: prepare more (not measured)
            ours.pool += await _prepare(session, ours_url, wanted - ready, store, start=len(pool))
        await store.close()
        open_ours = await _open_loop(session, ours, rate, args.seconds)
        open_floor = await _open_loop(session, floor, rate, args.seconds)

    p50_ratio = statistics.median(seq_ours) / statistics.median(seq_floor)
    p99_ratio = _percentile(open_ours, 0.99) / _percentile(open_floor, 0.99)
    throughput_ratio = max_ours / max_floor
    print("quiz-answer invoke (ours) vs the SDK's bare invoke with one read + one upsert (floor)")
    print("1 concurrent learner:")
    print(_row("ours", seq_ours))
    print(_row("floor", seq_floor))
    print(
        f"maximum sustained answers/s ({args.concurrency} concurrent learners, "
        f"{args.max_seconds:g} s):"
    )
    print(f"  ours {max_ours:8.1f}/s   floor {max_floor:8.1f}/s")
    print(f"open loop at half the floor's maximum, {rate:.0f} answers/s for {args.seconds:g} s:")
    print(_row("ours", open_ours))
    print(_row("floor", open_floor))
    checks = [
        (f"p50 ratio at 1 concurrent (ours/floor) = {p50_ratio:.2f}", p50_ratio <= 1.3, "<= 1.3"),
        (
            f"max throughput ratio (ours/floor) = {throughput_ratio:.2f}",
            throughput_ratio >= 0.8,
            ">= 0.8",
        ),
        (f"p99 ratio at half the floor's maximum = {p99_ratio:.2f}", p99_ratio <= 2.0, "<= 2.0"),
    ]
    print("targets:")
    for text, ok, target in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}  (target {target})")
    return 0 if all(ok for _, ok, _ in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument(
        "--pool", type=int, default=6000, help="learners prepared first: each answers once"
    )
    args = parser.parse_args()

    azurite = start_azurite()
    ours_port, floor_port = free_port(), free_port()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    prefix = "bench" + uuid.uuid4().hex[:8]
    child = ctx.Process(
        target=_serve,
        args=(azurite.connection_string, prefix, ours_port, floor_port, ready),
        daemon=True,
    )
    child.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("servers did not start")
        return asyncio.run(
            run(
                args,
                f"http://127.0.0.1:{ours_port}/api/messages",
                f"http://127.0.0.1:{floor_port}/api/messages",
                azurite.connection_string,
                prefix,
            )
        )
    finally:
        child.terminate()
        child.join(10)
        azurite.stop()


if __name__ == "__main__":
    sys.exit(main())
