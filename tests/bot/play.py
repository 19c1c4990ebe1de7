"""Play the learner's flow through the bot like a person clicking cards."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from teams_app.domain.content import Curriculum, Question, SkillId
from teams_app.storage.ports import LearnerKey
from tests.support.driver import BotDriver, actions, find_action, find_input, texts


def question_of(curriculum: Curriculum, action: dict[str, Any]) -> tuple[Question, SkillId]:
    """The content behind an ``answer`` button (tests may peek; the bot never trusts cards)."""
    data = action["data"]
    if data["kind"] == "assessment":
        item = curriculum.item(data["question"])
        assert item is not None
        return item.question, item.skill
    if data["kind"] == "review":
        lesson_id, _, question_id = data["question"].partition("/")
        found = curriculum.lesson(lesson_id)
        asked = found.question(question_id) if found else None
        assert found is not None and asked is not None
        return asked, found.skill
    for lesson in curriculum.lessons.values():
        for question in lesson.questions:
            if question.id == data["question"] and data["kind"] == "lesson":
                return question, lesson.skill
    raise AssertionError(f"unknown question {data}")


def choice(question: Question, right: bool) -> str:
    """The option index to pick."""
    return str(next(i for i, o in enumerate(question.options) if o.correct is right))


async def answer_all(
    driver: BotDriver,
    curriculum: Curriculum,
    card: dict[str, Any],
    right: Any,
    confidence: str = "high",
    lesson_questions: dict[str, Question] | None = None,
) -> dict[str, Any]:
    """Answer every question from ``card`` on; ``right(skill)`` says whether to answer right.

    Returns the results card (skills profile or lesson summary).
    """
    while True:
        button = find_action(card, "answer")
        assert find_input(card, "confidence")["isRequired"] is True
        if lesson_questions is not None:
            question = lesson_questions[button["data"]["question"]]
            skill = None
        else:
            question, skill = question_of(curriculum, button)
        data = {
            **button["data"],
            "answer": choice(question, right(skill)),
            "confidence": confidence,
        }
        feedback = await driver.click("answer", data)
        assert "Correct" in texts(feedback) or "Not quite" in texts(feedback)
        verbs = [a["verb"] for a in actions(feedback)]
        if "show_results" in verbs:
            return await driver.click("show_results", find_action(feedback, "show_results")["data"])
        card = await driver.click("continue", find_action(feedback, "continue")["data"])


async def finish_a_lesson(
    driver: BotDriver, curriculum: Curriculum, right: bool = False, confidence: str = "low"
) -> dict[str, Any]:
    """Start the next lesson, read it and answer every question; returns the summary card."""
    card = await driver.click("start_lesson")
    key = LearnerKey(driver.user.tenant_id, driver.user.aad_object_id)
    stored = await driver.services.store.get_profile(key)
    lesson = curriculum.lesson(stored.state.activity.lesson_id)
    assert lesson is not None
    card = await driver.click("start_quiz", find_action(card, "start_quiz")["data"])
    questions = {q.id: q for q in lesson.questions}
    return await answer_all(driver, curriculum, card, lambda _skill: right, confidence, questions)


async def make_reviews_due(driver: BotDriver, days: int = 3) -> None:
    """Move the learner's review items ``days`` into the past, as if time had passed."""
    services = driver.services
    key = LearnerKey(driver.user.tenant_id, driver.user.aad_object_id)
    items = await services.store.review_items(key)
    assert items, "the learner has review items"
    shift = timedelta(days=days)
    await services.store.save_review_items(
        key,
        [
            replace(
                i,
                card=replace(
                    i.card,
                    due=i.card.due - shift,
                    last_review=i.card.last_review - shift if i.card.last_review else None,
                ),
            )
            for i in items
        ],
    )
