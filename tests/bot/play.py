"""Play the learner's flow through the bot like a person clicking cards."""

from __future__ import annotations

from typing import Any

from teams_app.domain.content import Curriculum, Question, SkillId
from tests.support.driver import BotDriver, actions, find_action, find_input, texts


def question_of(curriculum: Curriculum, action: dict[str, Any]) -> tuple[Question, SkillId]:
    """The content behind an ``answer`` button (tests may peek; the bot never trusts cards)."""
    data = action["data"]
    if data["kind"] == "assessment":
        item = curriculum.item(data["question"])
        assert item is not None
        return item.question, item.skill
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
