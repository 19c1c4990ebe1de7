"""The learner's state machine, placement, path and streak, on the real curriculum."""

from __future__ import annotations

from datetime import date

import pytest

from teams_app.domain.content import ASSESSED_SKILLS, Curriculum, Role, SkillId
from teams_app.domain.learner import (
    ActivityKind,
    AnswerResult,
    LearnerState,
    SkillLevel,
    begin_quiz,
    choose_role,
    next_lesson,
    pick_assessment_items,
    recommended_path,
    record_answer,
    skill_profile,
    start_assessment,
    start_lesson,
    streak_weeks,
)
from teams_app.domain.scoring import Confidence

TODAY = date(2026, 11, 26)


def _result(skill: SkillId, correct: bool, confidence: Confidence) -> AnswerResult:
    mark = {Confidence.LOW: (1, 0), Confidence.MEDIUM: (2, -2), Confidence.HIGH: (3, -6)}
    return AnswerResult("q", "0", correct, confidence, mark[confidence][0 if correct else 1], skill)


def test_assessment_covers_every_skill_at_both_levels(curriculum: Curriculum) -> None:
    items = [curriculum.item(i) for i in pick_assessment_items(curriculum, (), "seed")]
    assert len(items) == 8
    for skill in ASSESSED_SKILLS:
        levels = sorted(i.level for i in items if i is not None and i.skill is skill)
        assert levels == [1, 2]


def test_retake_gets_fresh_items_while_the_bank_has_them(curriculum: Curriculum) -> None:
    first = pick_assessment_items(curriculum, (), "one")
    second = pick_assessment_items(curriculum, first, "two")
    assert not set(first) & set(second)


def test_lucky_guesses_are_not_mastery() -> None:
    sure = [_result(SkillId.PROMPTING, True, Confidence.HIGH)] * 2
    guessed = [_result(SkillId.AI_LITERACY, True, Confidence.LOW)] * 2
    wrong = [_result(SkillId.CRITICAL_THINKING, False, Confidence.MEDIUM)] * 2
    mixed = [
        _result(SkillId.DATA_INTERPRETATION, True, Confidence.MEDIUM),
        _result(SkillId.DATA_INTERPRETATION, False, Confidence.LOW),
    ]
    profile = skill_profile((*sure, *guessed, *wrong, *mixed))
    assert profile[SkillId.PROMPTING].level is SkillLevel.MASTERED
    assert profile[SkillId.AI_LITERACY].level is SkillLevel.DEVELOPING
    assert profile[SkillId.CRITICAL_THINKING].level is SkillLevel.GAP
    assert profile[SkillId.DATA_INTERPRETATION].level is SkillLevel.DEVELOPING


def _assess(curriculum: Curriculum, right_skills: set[SkillId]) -> LearnerState:
    state = start_assessment(choose_role(LearnerState(), Role.HR), curriculum, "attempt")
    while state.activity is not None:
        item = curriculum.item(state.activity.current_question_id or "")
        assert item is not None
        right = next(i for i, o in enumerate(item.question.options) if o.correct)
        wrong = next(i for i, o in enumerate(item.question.options) if not o.correct)
        response = str(right if item.skill in right_skills else wrong)
        state, _ = record_answer(state, item.question, item.skill, response, Confidence.HIGH, TODAY)
    return state


def test_finishing_the_assessment_places_each_skill(curriculum: Curriculum) -> None:
    state = _assess(curriculum, {SkillId.AI_LITERACY})
    assert state.activity is None
    assert state.assessed_on == TODAY
    assert state.skills[SkillId.AI_LITERACY].level is SkillLevel.MASTERED
    assert state.skills[SkillId.PROMPTING].level is SkillLevel.GAP
    assert len(state.seen_items) == 8


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
    foundation = curriculum.track("foundation")
    assert foundation is not None
    assert [e.lesson.id for e in path] == list(foundation.lesson_ids)
    assert not any(e.optional for e in path)


def test_a_lesson_is_read_then_answered_then_recorded(curriculum: Curriculum) -> None:
    lesson = curriculum.lesson(curriculum.tracks_for(Role.EVERYONE)[0].lesson_ids[0])
    assert lesson is not None
    state = start_lesson(LearnerState(role=Role.EVERYONE), lesson, "l1")
    assert state.activity is not None and state.activity.kind is ActivityKind.LESSON
    with pytest.raises(ValueError, match="current"):
        record_answer(state, lesson.questions[1], lesson.skill, "0", Confidence.LOW, TODAY)
    state = begin_quiz(state)
    for question in lesson.questions:
        state, result = record_answer(state, question, lesson.skill, "0", Confidence.LOW, TODAY)
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
