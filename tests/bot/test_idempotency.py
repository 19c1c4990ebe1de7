"""Teams may deliver a card action more than once. Every verb, delivered twice in a row or four
times at once (same activity id), leaves the learner's data exactly as one delivery does, and
every delivery is answered with the same card (so the card the learner ends up seeing still
works: no "out of date" on their next click).

Three learners play the same prelude on Azure Tables (Azurite): one gets the action once,
one twice in a row, one four times concurrently. Their stored profiles, histories and team
figures are then compared, with the random attempt ids normalised away.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import pytest

from teams_app.domain.content import Curriculum
from teams_app.storage.ports import LearnerKey
from teams_app.storage.tables import TableLearnerStore
from teams_app.verbs import Verb
from tests.bot.play import choice, finish_a_lesson, make_reviews_due, question_of
from tests.support.activities import TeamsUser
from tests.support.driver import BotDriver, find_action

pytestmark = pytest.mark.azurite

ITEM = re.compile(r"^assess-[a-z]+-\d+$")
Prelude = Callable[[BotDriver, Curriculum], Awaitable[dict[str, Any]]]


async def _role(bot: BotDriver, _c: Curriculum) -> dict[str, Any]:
    await bot.install()
    return {"role": "hr"}


async def _with_role(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await bot.install()
    await bot.click("choose_role", {"role": "hr"})
    return {}


async def _in_assessment(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _with_role(bot, c)
    card = await bot.click("start_assessment")
    button = find_action(card, "answer")
    question, _ = question_of(c, button)
    return {**button["data"], "answer": choice(question, True), "confidence": "high"}


async def _assessed(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    data = await _in_assessment(bot, c)
    while True:
        feedback = await bot.click("answer", data)
        verbs = [a["verb"] for a in json.loads(json.dumps(feedback)).get("actions", [])]
        if "show_results" in verbs:
            return dict(find_action(feedback, "show_results")["data"])
        card = await bot.click("continue")
        button = find_action(card, "answer")
        question, _ = question_of(c, button)
        data = {**button["data"], "answer": choice(question, False), "confidence": "low"}


async def _reading_lesson(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _assessed(bot, c)
    card = await bot.click("start_lesson")
    return dict(find_action(card, "start_quiz")["data"])


async def _after_assessment(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _assessed(bot, c)
    return {}


async def _pulse(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _with_role(bot, c)
    card = await bot.say("pulse")
    week = find_action(card, "submit_pulse")["data"]["week"]
    return {"week": week, "confidence": "4", "minutes": "30", "caught": "yes"}


async def _reviews_due(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _assessed(bot, c)
    await finish_a_lesson(bot, c)
    await make_reviews_due(bot)
    return {}


async def _challenge(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _with_role(bot, c)
    card = await bot.say("challenge")
    return {**find_action(card, "complete_challenge")["data"], "minutes": "20", "check_0": "yes"}


async def _settings(bot: BotDriver, c: Curriculum) -> dict[str, Any]:
    await _with_role(bot, c)
    return {"cadence": "daily", "hour": "10", "days": "0,1,2", "zone": "Europe/Berlin"}


PRELUDES: dict[Verb, Prelude] = {
    Verb.CHOOSE_ROLE: _role,
    Verb.SHOW_ROLE: _with_role,
    Verb.START_ASSESSMENT: _with_role,
    Verb.ANSWER: _in_assessment,
    Verb.CONTINUE: _in_assessment,
    Verb.SHOW_RESULTS: _assessed,
    Verb.START_LESSON: _after_assessment,
    Verb.START_QUIZ: _reading_lesson,
    Verb.SHOW_PROGRESS: _with_role,
    Verb.SHOW_HELP: _with_role,
    Verb.RESET: _after_assessment,
    Verb.CONFIRM_RESET: _after_assessment,
    Verb.CANCEL_RESET: _after_assessment,
    Verb.DELETE_MY_DATA: _after_assessment,
    Verb.CONFIRM_DELETE_DATA: _after_assessment,
    Verb.SUBMIT_PULSE: _pulse,
    Verb.START_REVIEW: _reviews_due,
    Verb.SHOW_CHALLENGE: _with_role,
    Verb.COMPLETE_CHALLENGE: _challenge,
    Verb.SKIP_CHALLENGE: _challenge,
    Verb.SHOW_SETTINGS: _with_role,
    Verb.SAVE_SETTINGS: _settings,
    Verb.PAUSE_REMINDERS: _with_role,
    Verb.RESUME_REMINDERS: _with_role,
}


def test_every_verb_has_a_prelude() -> None:
    assert set(PRELUDES) == set(Verb)


def _normalise(value: Any, attempts: dict[str, str]) -> Any:
    """Attempt ids are random per learner, and so are the skills-check items drawn with
    them: name attempts by order of appearance, and items generically."""
    if isinstance(value, dict):
        return {
            k: "-" if k == "response" else _normalise(v, attempts)  # option index: per item
            for k, v in value.items()
            if k != "handled"
        }
    if isinstance(value, list | tuple):
        return [_normalise(v, attempts) for v in value]
    if isinstance(value, str) and len(value) == 12 and all(c in "0123456789abcdef" for c in value):
        return attempts.setdefault(value, f"attempt-{len(attempts)}")
    if isinstance(value, str) and ITEM.match(value):
        return "item"  # the skills check draws its items per attempt
    return value


async def _snapshot(store: TableLearnerStore, key: LearnerKey) -> Any:
    """What one learner has stored, without what differs between any two runs (times)."""
    stored = await store.get_profile(key)
    history = await store.list_attempts(key)
    contact = await store.get_contact(key)
    items = await store.review_items(key)
    attempts: dict[str, str] = {}
    state = asdict(stored.state) if stored else None
    if state is not None:
        state.pop("handled")
        state.pop("last_active")
    kept = None
    if contact is not None:
        c = contact.contact
        kept = {
            "preferences": asdict(c.preferences),
            "time_zone": c.time_zone,
            "unreachable": c.unreachable,
            "challenge": [c.challenge_week, c.challenge_id],
        }
    return _normalise(
        {
            "profile": json.loads(json.dumps(state, default=str)),
            "history": [
                json.loads(json.dumps(asdict(a.activity), default=str)) | {"finished": a.finished}
                for a in history
            ],
            "contact": json.loads(json.dumps(kept, default=sorted)),
            "reviews": sorted(
                (
                    i.item,
                    i.last_answer,
                    round(i.card.stability or 0, 3),
                    (i.card.due - (i.card.last_review or i.card.due)).days,
                )
                for i in items
            ),
        },
        attempts,
    )


@pytest.mark.parametrize("verb", list(Verb))
async def test_a_redelivered_action_changes_nothing_more(
    verb: Verb,
    make_driver: Callable[..., Any],
    table_store: TableLearnerStore,
    curriculum: Curriculum,
) -> None:
    snapshots = []
    for index, deliveries in enumerate(("once", "twice", "four at once")):
        user = TeamsUser(
            service_url="",
            user_id=f"29:dup-{index}",
            aad_object_id=f"00000000-0000-4000-8000-{index + 1:012d}",
        )
        bot = await make_driver(table_store, user=user)
        data = await PRELUDES[verb](bot, curriculum)
        activity = bot.user.invoke(verb.value, data)  # one activity id for every delivery
        if deliveries == "once":
            responses = [await bot.post(activity)]
        elif deliveries == "twice":
            responses = [await bot.post(activity), await bot.post(activity)]
        else:
            responses = await asyncio.gather(*(bot.post(activity) for _ in range(4)))
        assert all(r.status == 200 for r in responses), [r.status for r in responses]
        cards = [await r.json() for r in responses]
        assert all(card == cards[0] for card in cards), (
            f"{verb}: every delivery of one click is answered with the same card"
        )
        key = LearnerKey(user.tenant_id, user.aad_object_id)
        snapshots.append(await _snapshot(table_store, key))
    once, twice, concurrent = snapshots
    assert twice == once, f"{verb}: a second delivery changed the data: {_diff(once, twice)}"
    assert concurrent == once, (
        f"{verb}: concurrent deliveries changed the data: {_diff(once, concurrent)}"
    )


def _diff(expected: Any, got: Any) -> str:
    lines = difflib.unified_diff(
        json.dumps(expected, indent=1, sort_keys=True).splitlines(),
        json.dumps(got, indent=1, sort_keys=True).splitlines(),
        lineterm="",
        n=1,
    )
    return "\n".join(list(lines)[:40])
