"""The learner's experience through the bot's real flow: what a learner is told about their
confidence, and that nothing they started is thrown away without asking."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from teams_app.domain.content import Curriculum
from teams_app.domain.learner import LessonRecord, recommended_path
from teams_app.domain.scoring import CALIBRATION_HINTS, Calibration
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from tests.bot.play import answer_all, choice, finish_a_lesson, question_of
from tests.support.driver import find_action, find_input, texts


async def _learner(make_driver: Callable[..., Any]) -> tuple[Any, MemoryLearnerStore, LearnerKey]:
    """A newly installed learner who picked the everyone track: the driver, store and key."""
    store = MemoryLearnerStore()
    bot = await make_driver(store)
    await bot.install()
    await bot.click("choose_role", {"role": "everyone"})
    return bot, store, LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)


async def test_sure_but_wrong_and_unsure_but_right_are_both_told(
    make_driver: Callable[..., Any], curriculum: Curriculum
) -> None:
    bot, _store, _key = await _learner(make_driver)
    await finish_a_lesson(bot, curriculum, right=True, confidence="high")
    wrong = await finish_a_lesson(bot, curriculum, right=False, confidence="high")
    assert CALIBRATION_HINTS[Calibration.OVER] in texts(wrong), "half the sure answers wrong"
    await finish_a_lesson(bot, curriculum, right=True, confidence="low")
    await finish_a_lesson(bot, curriculum, right=True, confidence="low")

    progress = texts(await bot.say("progress"))
    assert "Over- and under-confident" in progress
    assert CALIBRATION_HINTS[Calibration.MIXED] in progress
    assert CALIBRATION_HINTS[Calibration.CALIBRATED] not in progress


def _texts_and_buttons(card: dict[str, Any]) -> tuple[list[str], list[str]]:
    blocks: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                blocks.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    return blocks, [a["title"] for a in card.get("actions", [])]


async def test_a_learner_with_every_lesson_done_is_offered_more_not_a_dead_end(
    make_driver: Callable[..., Any], curriculum: Curriculum
) -> None:
    bot, store, key = await _learner(make_driver)
    stored = await store.get_profile(key)
    assert stored is not None
    state = stored.state
    done = {
        entry.lesson.id: LessonRecord(entry.lesson.id, "old", 3, 3, 6, date(2026, 11, 2))
        for entry in recommended_path(state, curriculum)
    }
    await store.save_profile(key, replace(state, completed=done), stored.etag)

    first = await bot.click("start_assessment")
    result = await answer_all(bot, curriculum, first, lambda _skill: False, "low")
    blocks, buttons = _texts_and_buttons(result)
    assert "Your skills profile" in texts(result)
    assert all(text.strip() for text in blocks), "no empty text block"
    assert not any(b.startswith("Start:") for b in buttons), "nothing leads to a finished path"
    assert {"Review what I've learned", "This week's challenge", "Explore another track"} <= set(
        buttons
    )
    roles = await bot.click("show_role")
    assert "Which role fits" in texts(roles)

    finished = await bot.say("next")
    assert "You've finished your path" in texts(finished)
    _, buttons = _texts_and_buttons(finished)
    assert "Review what I've learned" in buttons and "This week's challenge" in buttons
    challenge = await bot.click("show_challenge")
    assert "Weekly challenge" in texts(challenge)


async def test_starting_something_else_mid_skills_check_asks_first(
    make_driver: Callable[..., Any], curriculum: Curriculum
) -> None:
    bot, store, key = await _learner(make_driver)
    card = await bot.click("start_assessment")
    for _ in range(3):  # three answers in
        button = find_action(card, "answer")
        question, _skill = question_of(curriculum, button)
        data = {**button["data"], "answer": choice(question, True), "confidence": "medium"}
        card = await bot.click(
            "continue", find_action(await bot.click("answer", data), "continue")["data"]
        )
    before = await store.get_profile(key)
    assert before is not None and before.state.activity is not None

    for ask in (await bot.say("next"), await bot.click("start_assessment")):  # an old button
        assert "You're 3 questions into the skills check" in texts(ask)
        after = await store.get_profile(key)
        assert after is not None and after.state.activity == before.state.activity, "kept"
    carry_on = await bot.click("continue")
    assert "Question 4" in texts(carry_on), "carry on where you left off"


async def test_marks_read_as_people_write_them(
    make_driver: Callable[..., Any], curriculum: Curriculum
) -> None:
    bot, _store, key = await _learner(make_driver)
    summary = await finish_a_lesson(bot, curriculum, right=False, confidence="high")
    stored = await bot.services.store.get_profile(key)
    assert stored is not None
    (record,) = stored.state.completed.values()
    shown = texts(summary)
    assert f"−{6 * record.total} marks" in shown, "a real minus sign"
    assert f"out of a best possible +{3 * record.total} marks" in shown
    assert f" of {3 * record.total}" not in shown

    card = await bot.click("start_lesson")
    card = await bot.click("start_quiz", find_action(card, "start_quiz")["data"])
    button = find_action(card, "answer")
    stored = await bot.services.store.get_profile(key)
    assert stored is not None and stored.state.activity is not None
    lesson = curriculum.lesson(stored.state.activity.lesson_id or "")
    assert lesson is not None
    question = {q.id: q for q in lesson.questions}[button["data"]["question"]]
    data = {**button["data"], "answer": choice(question, True), "confidence": "low"}
    feedback = texts(await bot.click("answer", data))
    assert "+1 mark (low confidence)" in feedback and "+1 marks" not in feedback

    minutes = find_input(await bot.say("pulse"), "minutes")
    assert minutes["placeholder"] != "0", "an empty field must not look filled in"


def test_a_skill_right_every_time_yet_developing_says_why(curriculum: Curriculum) -> None:
    from teams_app.domain.content import SkillId
    from teams_app.domain.learner import LearnerState, SkillLevel, SkillResult
    from teams_app.views import assessment_result

    state = LearnerState(
        skills={
            SkillId.PROMPTING: SkillResult(SkillLevel.DEVELOPING, 2, 2, 4),
            SkillId.AI_LITERACY: SkillResult(SkillLevel.DEVELOPING, 2, 3, 1),
        }
    )
    rows = {r["name"]: r["detail"] for r in assessment_result(curriculum, state).data["skills"]}
    prompting = rows[curriculum.skill_name(SkillId.PROMPTING)]
    assert prompting.startswith("2/2 right: mastered takes 4 right in a row")
    assert rows[curriculum.skill_name(SkillId.AI_LITERACY)] == "2/3 right", "a wrong answer says it"


def _toggle(card: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (a for a in card.get("actions", []) if a.get("type") == "Action.ToggleVisibility"), None
    )


def _container(card: dict[str, Any], element_id: str) -> dict[str, Any] | None:
    return next((b for b in card["body"] if b.get("id") == element_id), None)


async def test_the_lesson_stays_reachable_from_its_questions(
    make_driver: Callable[..., Any], curriculum: Curriculum
) -> None:
    bot, _store, key = await _learner(make_driver)
    card = await bot.click("start_lesson")
    question_card = await bot.click("start_quiz", find_action(card, "start_quiz")["data"])
    stored = await bot.services.store.get_profile(key)
    assert stored is not None and stored.state.activity is not None
    lesson = curriculum.lesson(stored.state.activity.lesson_id or "")
    assert lesson is not None

    toggle = _toggle(question_card)
    assert toggle is not None and toggle["title"] == "Show the lesson"
    (target,) = toggle["targetElements"]
    hidden = _container(question_card, target)
    assert hidden is not None and hidden["isVisible"] is False, "shown only when asked"
    inside = texts(hidden)
    assert lesson.title in inside and "Try it now" in inside
    assert lesson.try_it.split()[0] in inside


def test_every_lessons_questions_fit_the_card_budget_with_the_lesson(
    curriculum: Curriculum, card_validator: Any
) -> None:
    from teams_app.cards import CardRenderer
    from teams_app.domain.learner import Activity, ActivityKind
    from teams_app.views import question_card
    from tests.conftest import REPO_ROOT

    renderer = CardRenderer(REPO_ROOT / "cards")
    for lesson in curriculum.lessons.values():
        question = lesson.questions[0]
        activity = Activity(
            kind=ActivityKind.LESSON,
            attempt="a1",
            question_ids=tuple(q.id for q in lesson.questions),
            lesson_id=lesson.id,
        )
        reply = question_card(curriculum, activity, question, "Prompting")
        card = renderer.render(reply.card, reply.data)  # raises over the 28 KB budget
        assert _toggle(card) is not None, lesson.id
        # A review is retrieval practice: its questions don't open the lesson.
        review = Activity(
            kind=ActivityKind.REVIEW,
            attempt="r1",
            question_ids=(f"{lesson.id}/{question.id}",),
        )
        reply = question_card(curriculum, review, question, "Prompting")
        assert _toggle(renderer.render(reply.card, reply.data)) is None


async def test_local_dev_turns_do_not_warn_about_the_app_id_each_time(
    make_driver: Callable[..., Any], caplog: Any
) -> None:
    """Without credentials the SDK builds a token client per turn and warns each time that
    it has no app id (574 lines in one Playground walk); the app's start-up already says it
    runs without credentials, so that warning is dropped, and only that one."""
    from microsoft_agents.hosting.core.connector.client.user_token_client import (
        UserTokenClient,
    )

    bot = await make_driver(MemoryLearnerStore())  # the app sets its logging up
    caplog.set_level("WARNING")
    await bot.install()
    for _ in range(3):
        client = UserTokenClient("https://token.botframework.test", token="", app_id="")
        await client.close()
    assert "App ID is not provided" not in caplog.text
    sdk = logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client")
    sdk.warning("something else")
    assert "something else" in caplog.text, "other warnings still show"
