"""Bad, stale, replayed and unlucky card actions: friendly cards, nothing counted twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from azure.core.pipeline.transport import AioHttpTransport

from teams_app.domain.content import Curriculum
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey, StorageUnavailable
from teams_app.storage.tables import TableLearnerStore
from tests.bot.play import choice, question_of
from tests.conftest import table_prefix
from tests.support.activities import TeamsUser
from tests.support.azurite import Azurite, connection_string
from tests.support.driver import BotDriver, answers_stored, find_action, texts
from tests.support.flaky_proxy import FlakyProxy


async def _first_question(bot: BotDriver) -> dict[str, Any]:
    await bot.install()
    await bot.click("choose_role", {"role": "it"})
    return await bot.click("start_assessment")


async def _first_answer(
    bot: BotDriver, curriculum: Curriculum, *, right: bool, confidence: str
) -> dict[str, Any]:
    """The data of an answer to the skills check's first question."""
    button = find_action(await _first_question(bot), "answer")
    question, _ = question_of(curriculum, button)
    return {**button["data"], "answer": choice(question, right), "confidence": confidence}


def _key(bot: BotDriver) -> LearnerKey:
    return LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)


async def test_the_same_answer_delivered_twice_is_scored_once(
    make_driver: Callable[..., Any], table_store: TableLearnerStore, curriculum: Curriculum
) -> None:
    bot = await make_driver(table_store)
    data = await _first_answer(bot, curriculum, right=True, confidence="high")

    first = await bot.click("answer", data)
    again = await bot.click("answer", data)  # Teams retried the delivery
    assert texts(first) == texts(again)
    stored = await table_store.get_profile(_key(bot))
    assert stored is not None and stored.state.activity is not None
    assert stored.state.activity.position == 1
    assert len(await answers_stored(table_store, _key(bot))) == 1
    assert sum(t.total for t in stored.state.tallies.values()) == 1


async def test_concurrent_duplicate_deliveries_count_once(
    make_driver: Callable[..., Any], table_store: TableLearnerStore, curriculum: Curriculum
) -> None:
    bot = await make_driver(table_store)
    data = await _first_answer(bot, curriculum, right=False, confidence="medium")
    cards = await asyncio.gather(*(bot.click("answer", data) for _ in range(4)))
    assert all("Not quite" in texts(c) for c in cards)
    assert len(await answers_stored(table_store, _key(bot))) == 1
    stored = await table_store.get_profile(_key(bot))
    assert stored is not None and stored.state.activity is not None
    assert stored.state.activity.position == 1


async def test_a_changed_answer_on_a_replayed_card_does_not_rescore(
    make_driver: Callable[..., Any], table_store: TableLearnerStore, curriculum: Curriculum
) -> None:
    bot = await make_driver(table_store)
    card = await _first_question(bot)
    button = find_action(card, "answer")
    question, _ = question_of(curriculum, button)
    await bot.click(
        "answer", {**button["data"], "answer": choice(question, False), "confidence": "high"}
    )
    retry = await bot.click(
        "answer", {**button["data"], "answer": choice(question, True), "confidence": "high"}
    )
    assert "Not quite" in texts(retry), "the first answer stands"
    answers = await answers_stored(table_store, _key(bot))
    assert [a.correct for a in answers] == [False]


async def test_an_answer_for_a_question_not_current_gets_a_friendly_card(
    make_driver: Callable[..., Any], memory_store: MemoryLearnerStore
) -> None:
    bot = await make_driver(memory_store)
    card = await _first_question(bot)
    data = {**find_action(card, "answer")["data"], "answer": "0", "confidence": "low"}
    for bad in (
        {**data, "question": "assess-not-a-question"},
        {**data, "attempt": "old-attempt"},
        {**data, "kind": "nonsense"},
        {"answer": "0"},
    ):
        reply = await bot.click("answer", bad)
        assert "out of date" in texts(reply)
        find_action(reply, "continue")
    assert await answers_stored(memory_store, _key(bot)) == []


async def test_missing_or_invalid_inputs_ask_again_without_storing(
    make_driver: Callable[..., Any], memory_store: MemoryLearnerStore
) -> None:
    bot = await make_driver(memory_store)
    card = await _first_question(bot)
    data = find_action(card, "answer")["data"]
    crafted = [
        {**data, "answer": "0"},
        {**data, "confidence": "certain", "answer": "0"},
        data,
        {**data, "answer": "99", "confidence": "low"},  # no such option
        {**data, "answer": "-1", "confidence": "low"},
        {**data, "answer": "1e3", "confidence": "high"},
    ]
    for bad in crafted:
        reply = await bot.click("answer", bad)
        assert "Pick an answer and say how sure you are" in texts(reply), bad
        assert "Question 1" in texts(reply)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)
    assert await answers_stored(memory_store, key) == [], "nothing crafted is scored"


async def test_unknown_verbs_and_malformed_invokes_get_a_friendly_card(
    make_driver: Callable[..., Any], memory_store: MemoryLearnerStore
) -> None:
    bot = await make_driver(memory_store)
    await bot.install()
    reply = await bot.click("launch_rockets", {"x": 1})
    assert "no longer works" in texts(reply)
    malformed = bot.user.invoke("answer")
    malformed["value"] = {"action": "not-an-object"}
    response = await bot.post(malformed)
    assert response.status == 200
    body = await response.json()
    assert "no longer works" in texts(body["value"])


async def test_hostile_display_names_cannot_break_or_inject_into_cards(
    make_driver: Callable[..., Any], memory_store: MemoryLearnerStore
) -> None:
    from tests.support.activities import TeamsUser

    for name in (
        'Robert"); DROP TABLE learners;--',
        "Line one\nLine two\r\n\t tabbed",
        "${name} ${$root.roles} {{app_id}}",
        "**bold** [click me](https://evil.example) <b>html</b>",
        "🎉 Zoë Ægir-Ōtsuka 李小龙",
        "x" * 5000,
        "\u202eevil\u0000null",
    ):
        bot = await make_driver(memory_store)
        bot.user = TeamsUser(service_url=bot.user.service_url, name=name)
        card = await bot.install()
        heading = card["body"][1]["text"]
        assert heading.startswith("Hi ") and heading.endswith(", welcome to AI Ready")
        assert "\n" not in heading and "\u202e" not in heading and "\x00" not in heading
        assert len(heading) < 250
        assert "[click me](" not in heading and "**bold**" not in heading
        if name.startswith("${"):
            assert "${name}" in heading, "template syntax in a name stays literal"


@pytest.fixture
async def flaky(azurite: Azurite) -> AsyncIterator[FlakyProxy]:
    proxy = await FlakyProxy(azurite.port).start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
async def flaky_store(flaky: FlakyProxy) -> AsyncIterator[TableLearnerStore]:
    """A table store that reaches Azurite through the flaky proxy."""
    store = TableLearnerStore.from_connection_string(connection_string(flaky.port), table_prefix())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_a_brief_storage_hiccup_is_retried_and_the_learner_never_notices(
    make_driver: Callable[..., Any], flaky: FlakyProxy, flaky_store: TableLearnerStore
) -> None:
    bot = await make_driver(flaky_store)
    await bot.install()
    flaky.reset_open()
    flaky.fail_next = 1
    reply = await bot.click("choose_role", {"role": "sales"})
    assert "skills check" in texts(reply)
    assert flaky.refused == 1
    stored = await flaky_store.get_profile(_key(bot))
    assert stored is not None and stored.state.role is not None


async def test_storage_down_gives_a_try_again_card_in_time(
    make_driver: Callable[..., Any], flaky: FlakyProxy, flaky_store: TableLearnerStore
) -> None:
    bot = await make_driver(flaky_store)
    await bot.install()
    flaky.down = True
    flaky.reset_open()
    started = time.monotonic()
    reply = await bot.click("choose_role", {"role": "sales"})
    assert time.monotonic() - started < 5, "Teams gives a card action about 5 seconds"
    assert "try again" in texts(reply).lower()
    find_action(reply, "continue")
    message = await bot.say("progress")
    assert "try again" in texts(message).lower()
    health = await bot.client.get("/healthz")
    assert health.status == 503
    flaky.down = False
    assert (await bot.client.get("/healthz")).status == 200
    assert "skills check" in texts(await bot.click("choose_role", {"role": "sales"}))


async def test_a_hundred_learners_get_their_error_cards_in_time_while_storage_is_down(
    make_driver: Callable[..., Any], flaky: FlakyProxy, flaky_store: TableLearnerStore
) -> None:
    bot = await make_driver(flaky_store)
    await bot.install()
    flaky.down = True
    flaky.reset_open()
    users = [
        TeamsUser(
            service_url=bot.user.service_url,
            user_id=f"29:crowd-{i}",
            aad_object_id=f"00000000-0000-4000-8000-{i + 500:012d}",
        )
        for i in range(100)
    ]

    async def click(user: TeamsUser) -> float:
        started = time.monotonic()
        response = await bot.post(user.invoke("choose_role", {"role": "sales"}))
        assert response.status == 200
        assert "try again" in (await response.text()).lower()
        return time.monotonic() - started

    latencies = await asyncio.gather(*(click(u) for u in users))
    assert max(latencies) < 5, f"slowest error card took {max(latencies):.1f} s"


class _StalledTransport(AioHttpTransport):  # type: ignore[misc]  # azure-core has no stubs
    """A caller's own transport with no timeouts at all (the SDK's defaults are 300 s)."""


async def test_a_stalled_storage_endpoint_cannot_hold_a_call_past_its_deadline() -> None:
    async def never_answer(_r: asyncio.StreamReader, _w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = TableLearnerStore.from_connection_string(
        connection_string(port), table_prefix(), transport=_StalledTransport()
    )
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            await store.get_profile(LearnerKey("t", "u"))
        assert time.monotonic() - started < 4, "the store's own deadline held"
    finally:
        await store.close()
        server.close()
