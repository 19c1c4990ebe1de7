"""The learner's state machine, placement, path and streak, on the real curriculum."""

from __future__ import annotations

from datetime import date

import pytest

from teams_app.domain.content import ASSESSED_SKILLS, Curriculum, Role, SkillId
from teams_app.domain.learner import (
    ActivityKind,
    LearnerState,
    SkillLevel,
    begin_quiz,
    choose_role,
    next_lesson,
    recommended_path,
    record_answer,
    start_assessment,
    start_lesson,
    streak_weeks,
)
from teams_app.domain.scoring import Confidence

TODAY = date(2026, 11, 26)


def _assess(
    curriculum: Curriculum,
    right_skills: set[SkillId],
    confidence: Confidence = Confidence.HIGH,
    attempt: str = "attempt",
    state: LearnerState | None = None,
) -> LearnerState:
    state = start_assessment(state or choose_role(LearnerState(), Role.HR), curriculum, attempt)
    while state.activity is not None:
        item = curriculum.item(state.activity.current_question_id or "")
        assert item is not None
        right = next(i for i, o in enumerate(item.question.options) if o.correct)
        wrong = next(i for i, o in enumerate(item.question.options) if not o.correct)
        response = str(right if item.skill in right_skills else wrong)
        state, _ = record_answer(
            state, item.question, item.skill, response, confidence, TODAY, curriculum
        )
    return state


def test_a_strong_learner_climbs_to_three_level_two_items_per_skill(
    curriculum: Curriculum,
) -> None:
    state = _assess(curriculum, set(ASSESSED_SKILLS))
    asked = state.last_activity.question_ids if state.last_activity else ()
    assert len(asked) == 16
    for skill in ASSESSED_SKILLS:
        levels = [i.level for i in map(curriculum.item, asked) if i and i.skill is skill]
        assert levels == [1, 2, 2, 2]
        assert state.skills[skill].level is SkillLevel.MASTERED


def test_a_learner_who_misses_everything_answers_two_level_one_items_per_skill(
    curriculum: Curriculum,
) -> None:
    state = _assess(curriculum, set())
    asked = state.last_activity.question_ids if state.last_activity else ()
    assert len(asked) == 8
    items = [curriculum.item(i) for i in asked]
    assert {item.level for item in items if item is not None} == {1}
    assert all(r.level is SkillLevel.GAP for r in state.skills.values())


def test_the_check_moves_between_skills_rather_than_drilling_one(curriculum: Curriculum) -> None:
    state = _assess(curriculum, {SkillId.PROMPTING})
    asked = state.last_activity.question_ids if state.last_activity else ()
    items = [curriculum.item(i) for i in asked[:4]]
    first_round = [item.skill for item in items if item is not None]
    assert first_round == list(ASSESSED_SKILLS)


def test_right_answers_given_as_guesses_are_not_mastery(curriculum: Curriculum) -> None:
    state = _assess(curriculum, set(ASSESSED_SKILLS), confidence=Confidence.LOW)
    assert all(r.level is SkillLevel.DEVELOPING for r in state.skills.values())


def test_a_retake_gets_items_the_learner_has_not_seen(curriculum: Curriculum) -> None:
    first = _assess(curriculum, set(ASSESSED_SKILLS), attempt="one")
    second = _assess(curriculum, set(ASSESSED_SKILLS), attempt="two", state=first)
    one = set(first.last_activity.question_ids if first.last_activity else ())
    two = set(second.last_activity.question_ids if second.last_activity else ())
    assert one and two and not one & two


def test_finishing_the_assessment_places_each_skill(curriculum: Curriculum) -> None:
    state = _assess(curriculum, {SkillId.AI_LITERACY})
    assert state.activity is None
    assert state.assessed_on == TODAY
    assert state.skills[SkillId.AI_LITERACY].level is SkillLevel.MASTERED
    assert state.skills[SkillId.PROMPTING].level is SkillLevel.GAP
    assert len(state.seen_items) == 4 + 3 * 2  # one skill climbed, three failed twice


def test_path_puts_gaps_first_and_mastered_lessons_last_as_optional(
    curriculum: Curriculum,
) -> None:
    state = _assess(curriculum, {SkillId.AI_LITERACY})
    path = recommended_path(state, curriculum)
    foundation = [e for e in path if e.lesson.track_id == "foundation"]
    assert [e.lesson.track_id for e in path[: len(foundation)]] == ["foundation"] * len(foundation)
    assert any(e.lesson.track_id == "hr" for e in path)
    optional = [e for e in foundation if e.optional]
    assert optional and all(e.lesson.skill is SkillId.AI_LITERACY for e in optional)
    assert foundation[-len(optional) :] == optional
    assert foundation[0].focus
    first = next_lesson(state, curriculum)
    assert first is not None and first.skill is not SkillId.AI_LITERACY


def test_without_an_assessment_the_path_keeps_the_authored_order(curriculum: Curriculum) -> None:
    path = recommended_path(LearnerState(role=Role.EVERYONE), curriculum)
    everyone = [t for t in curriculum.tracks_for(Role.EVERYONE)]
    assert [t.id for t in everyone] == ["foundation", "at-work"], "foundation first"
    assert [e.lesson.id for e in path] == [i for t in everyone for i in t.lesson_ids]
    assert not any(e.optional for e in path)


def test_a_lesson_is_read_then_answered_then_recorded(curriculum: Curriculum) -> None:
    lesson = curriculum.lesson(curriculum.tracks_for(Role.EVERYONE)[0].lesson_ids[0])
    assert lesson is not None
    state = start_lesson(LearnerState(role=Role.EVERYONE), lesson, "l1")
    assert state.activity is not None and state.activity.kind is ActivityKind.LESSON
    with pytest.raises(ValueError, match="current"):
        record_answer(
            state, lesson.questions[1], lesson.skill, "0", Confidence.LOW, TODAY, curriculum
        )
    state = begin_quiz(state)
    for question in lesson.questions:
        state, result = record_answer(
            state, question, lesson.skill, "0", Confidence.LOW, TODAY, curriculum
        )
        assert result.mark in (0, 1)
    record = state.completed[lesson.id]
    assert record.total == len(lesson.questions)
    assert state.active_weeks == ("2026-W48",)
    assert state.activity is None
    assert next_lesson(state, curriculum) != lesson


def test_streak_counts_consecutive_weeks_and_survives_until_the_week_ends() -> None:
    weeks = ("2026-W45", "2026-W46", "2026-W47")
    assert streak_weeks(weeks, date(2026, 11, 26)) == 3  # W48: not done yet, still alive
    assert streak_weeks((*weeks, "2026-W48"), date(2026, 11, 26)) == 4
    assert streak_weeks(weeks, date(2026, 12, 3)) == 0  # W49: W48 was missed
    assert streak_weeks((), TODAY) == 0


def test_streak_crosses_the_year_boundary() -> None:
    assert streak_weeks(("2026-W53", "2027-W01"), date(2027, 1, 5)) == 2
