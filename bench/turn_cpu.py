"""Benchmark: CPU milliseconds per learner turn, ours against the bare SDK turn.

Two server processes run side by side on one Azurite, and a local Bot Connector runs here:

* **ours**: the real app (``create_app``, local-dev mode);
* **floor**: the Agents SDK's own stack (``CloudAdapter`` + ``AgentApplication``, as its
  samples wire it) doing the same storage I/O and sending the same card: for an answer, one
  profile read and one ETag-guarded write, and the feedback card; for a lesson start, one
  read and one write, and the lesson card; for a typed message, one read, and the progress
  card posted to the connector. The cards are ours, rendered once at start-up, so the floor
  does none of our rendering or rules.

For each turn kind, the same number of turns goes to each server, in alternating blocks, and
the CPU time each process used (user + system, from ``/proc``) is divided by the turns.
Target: ours <= 1.5x the floor for every kind.

Usage: .venv/bin/python bench/turn_cpu.py [--turns 400]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.activities import TeamsUser  # noqa: E402
from tests.support.azurite import free_port, start_azurite  # noqa: E402
from tests.support.connector import start_connector  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
KINDS = ("answer", "lesson start", "text message")
TARGET = 1.5


def _cards() -> dict[str, dict[str, Any]]:
    """The cards ours sends for these turns, rendered once: what the floor sends unchanged."""
    from teams_app import views
    from teams_app.cards import CardRenderer
    from teams_app.content_files import load_curriculum
    from teams_app.domain.learner import next_lesson, record_answer
    from teams_app.domain.scoring import Confidence

    renderer = CardRenderer(ROOT / "cards")
    curriculum = load_curriculum(ROOT / "content")
    state = _seeded_state(curriculum, "0123456789ab")
    activity = state.activity
    assert activity is not None and activity.current_question_id is not None
    item = curriculum.item(activity.current_question_id)
    assert item is not None
    after, result = record_answer(
        state, item.question, item.skill, "0", Confidence.HIGH, date(2026, 12, 1), curriculum
    )
    scored = after.activity or after.last_activity
    assert scored is not None
    lesson = next_lesson(state, curriculum)
    assert lesson is not None
    replies = {
        "answer": views.feedback_card(
            curriculum, scored, item.question, result, curriculum.skill_name(item.skill)
        ),
        "lesson": views.lesson_card(curriculum, lesson, "0123456789ab"),
        "progress": views.progress(curriculum, state, lesson, date(2026, 12, 1)),
    }
    return {name: renderer.render(r.card, r.data) for name, r in replies.items()}


def _seeded_state(curriculum: Any, attempt: str) -> Any:
    """A finance learner with a skills profile and a skills check open (for every kind)."""
    from teams_app.domain.content import Role
    from teams_app.domain.learner import LearnerState, SkillLevel, SkillResult, start_assessment

    skills = {s: SkillResult(SkillLevel.DEVELOPING, 1, 2, 1) for s in curriculum.skills}
    base = LearnerState(role=Role.FINANCE, skills=skills, assessed_on=date(2026, 11, 30))
    return start_assessment(base, curriculum, attempt)


def _floor_app(connection_string: str, prefix: str) -> Any:
    """The SDK's bare turn with the same storage I/O and the same cards."""
    from aiohttp import web
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode
    from microsoft_agents.activity import AdaptiveCardInvokeResponse, Attachment
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import CloudAdapter, start_agent_process
    from microsoft_agents.hosting.core import (
        AgentApplication,
        AgentAuthConfiguration,
        ApplicationOptions,
        MemoryStorage,
        MessageFactory,
        TurnState,
    )

    from teams_app.storage.keys import join_key
    from teams_app.storage.tables import service_client

    cards = _cards()
    config = AgentAuthConfiguration(anonymous_allowed=True)
    connections = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})
    adapter = CloudAdapter(connection_manager=connections)
    agent = AgentApplication[TurnState](
        ApplicationOptions(
            storage=MemoryStorage(), start_typing_timer=False, turn_state_factory=TurnState
        ),
        connection_manager=connections,
    )
    service = service_client(connection_string)
    table = service.get_table_client(f"{prefix}learners")

    def key(context: Any) -> str:
        activity = context.activity
        return join_key(activity.conversation.tenant_id, activity.from_property.aad_object_id)

    async def read_write(context: Any) -> None:
        row = await table.get_entity(key(context), "profile")
        await table.update_entity(
            row,
            mode=UpdateMode.REPLACE,
            etag=row.metadata["etag"],
            match_condition=MatchConditions.IfNotModified,
        )

    def invoke_card(card: dict[str, Any]) -> AdaptiveCardInvokeResponse:
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.card.adaptive", value=card
        )

    @agent.adaptive_card.action_execute("answer")
    async def on_answer(context: Any, _state: Any, _data: Any) -> AdaptiveCardInvokeResponse:
        await read_write(context)
        return invoke_card(cards["answer"])

    @agent.adaptive_card.action_execute("start_lesson")
    async def on_lesson(context: Any, _state: Any, _data: Any) -> AdaptiveCardInvokeResponse:
        await read_write(context)
        return invoke_card(cards["lesson"])

    @agent.activity("message")
    async def on_message(context: Any, _state: Any) -> None:
        await table.get_entity(key(context), "profile")
        attachment = Attachment(
            content_type="application/vnd.microsoft.card.adaptive", content=cards["progress"]
        )
        await context.send_activity(MessageFactory.attachment(attachment))

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent, adapter)
        return response or web.Response(status=202)

    async def lifespan(_app: web.Application) -> Any:
        yield
        await table.close()
        await service.close()

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.cleanup_ctx.append(lifespan)
    return app


def _serve(which: str, connection_string: str, prefix: str, port: int, ready: Any) -> None:
    import logging
    import warnings

    from aiohttp import web

    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")

    async def main() -> None:
        if which == "ours":
            from server.app import create_app
            from server.config import load_settings

            settings = load_settings(
                {
                    "AIREADY_ENV": "development",
                    "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
                    "AIREADY_STORAGE_CONNECTION_STRING": connection_string,
                    "AIREADY_TABLE_PREFIX": prefix,
                    "AIREADY_SEND_RATE": "1000",
                }
            )
            app = create_app(settings)
        else:
            app = _floor_app(connection_string, prefix)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def _seed(connection_string: str, prefix: str, users: list[TeamsUser]) -> None:
    """Learners ready for each kind of turn, written straight to storage (not measured)."""
    from teams_app.content_files import load_curriculum
    from teams_app.storage.ports import LearnerKey
    from teams_app.storage.tables import TableLearnerStore

    curriculum = load_curriculum(ROOT / "content")
    store = TableLearnerStore.from_connection_string(connection_string, prefix)
    await store.open()

    async def one(user: TeamsUser) -> None:
        state = _seeded_state(curriculum, uuid.uuid4().hex[:12])
        await store.save_profile(LearnerKey(user.tenant_id, user.aad_object_id), state, None)

    for start in range(0, len(users), 32):
        await asyncio.gather(*(one(u) for u in users[start : start + 32]))
    await store.close()


def _activity(kind: str, user: TeamsUser, question: int, attempt: str, item: str) -> dict[str, Any]:
    if kind == "answer":
        data = {"kind": "assessment", "attempt": attempt, "question": item, "answer": "0",
                "confidence": "high"}  # fmt: skip
        return user.invoke("answer", data)
    if kind == "lesson start":
        return user.invoke("start_lesson", {"restart": True})
    return user.message("progress")


async def _measure(
    args: argparse.Namespace, urls: dict[str, str], pids: dict[str, int], connection: str,
    prefix: str, connector_url: str,
) -> int:  # fmt: skip
    from teams_app.storage.ports import LearnerKey
    from teams_app.storage.tables import TableLearnerStore

    per_server = {
        name: [
            TeamsUser(
                service_url=connector_url, user_id=f"29:{name}-{i}", aad_object_id=str(uuid.uuid4())
            )
            for i in range(args.turns * len(KINDS))  # each kind its own learners, in the same state
        ]
        for name in urls
    }
    for users in per_server.values():
        await _seed(connection, prefix, users)
    store = TableLearnerStore.from_connection_string(connection, prefix)
    plans: dict[str, list[tuple[str, str]]] = {}
    for name, users in per_server.items():
        plans[name] = []
        for user in users:
            stored = await store.get_profile(LearnerKey(user.tenant_id, user.aad_object_id))
            assert stored is not None and stored.state.activity is not None
            plans[name].append(
                (stored.state.activity.attempt, stored.state.activity.question_ids[0])
            )
    await store.close()

    cpu: dict[tuple[str, str], float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def turn(name: str, kind: str, index: int) -> None:
            index += KINDS.index(kind) * args.turns
            attempt, item = plans[name][index]
            activity = _activity(kind, per_server[name][index], index, attempt, item)
            async with http.post(urls[name], json=activity) as response:
                await response.read()
                assert response.status in (200, 202), (name, kind, response.status)

        for kind in KINDS:
            for name in urls:  # warm up both servers for this kind
                for index in range(10):
                    await turn(name, kind, args.turns - 1 - index)
            block = 50
            for start in range(0, args.turns - 20, block):
                for name in urls:
                    before = _cpu_seconds(pids[name])
                    for index in range(start, min(start + block, args.turns - 20)):
                        await turn(name, kind, index)
                    cpu[(name, kind)] = (
                        cpu.get((name, kind), 0.0) + _cpu_seconds(pids[name]) - before
                    )
    turns = args.turns - 20
    print(f"CPU per turn, {turns} turns of each kind per server (alternating blocks of 50):")
    ok = True
    for kind in KINDS:
        ours = 1000 * cpu[("ours", kind)] / turns
        floor = 1000 * cpu[("floor", kind)] / turns
        ratio = ours / floor
        passed = ratio <= TARGET
        ok &= passed
        print(f"  {kind:<13} ours {ours:6.2f} ms   floor {floor:6.2f} ms   ratio {ratio:4.2f}  "
              f"{'PASS' if passed else 'FAIL'} (target <= {TARGET})")  # fmt: skip
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400)
    args = parser.parse_args()
    azurite = start_azurite()
    prefix = "cpu" + uuid.uuid4().hex[:8]
    ctx = multiprocessing.get_context("spawn")
    ports = {"ours": free_port(), "floor": free_port()}
    children, pids = [], {}

    async def run() -> int:
        _connector, server = await start_connector()
        try:
            connector_url = str(server.make_url("/"))
            from teams_app.storage.tables import TableLearnerStore

            store = TableLearnerStore.from_connection_string(azurite.connection_string, prefix)
            await store.open()
            await store.close()
            for name, port in ports.items():
                ready = ctx.Event()
                child = ctx.Process(
                    target=_serve,
                    args=(name, azurite.connection_string, prefix, port, ready),
                    daemon=True,
                )
                child.start()
                children.append(child)
                if not await asyncio.to_thread(ready.wait, 60):
                    raise RuntimeError(f"{name} did not start")
                assert child.pid is not None
                pids[name] = child.pid
            urls = {name: f"http://127.0.0.1:{port}/api/messages" for name, port in ports.items()}
            return await _measure(
                args, urls, pids, azurite.connection_string, prefix, connector_url
            )
        finally:
            await server.close()

    try:
        return asyncio.run(run())
    finally:
        for child in children:
            child.terminate()
            child.join(10)
        azurite.stop()


if __name__ == "__main__":
    sys.exit(main())
