"""Cards stay under Teams' 28 KB limit with every text 40 % longer than English.

Interface text grows through the ``qps-ploc`` pseudo-locale; content text (each lesson's
concept, example, try-it, questions, options and feedback, skill and track names) is grown the
same way here, as a translation of the whole curriculum would be. The biggest cards are the
lesson and its questions (which carry the lesson's text behind "Show the lesson").
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from teams_app import i18n, views
from teams_app.cards import MAX_CARD_BYTES, CardRenderer
from teams_app.content_files import load_curriculum
from teams_app.domain.content import Curriculum, Lesson, Question, Skill
from teams_app.domain.learner import LearnerState, begin_quiz, start_lesson

REPO = Path(__file__).resolve().parent.parent
RENDERER = CardRenderer(REPO / "cards")
CURRICULUM = load_curriculum(REPO / "content")
GROW = i18n.pseudo  # 40 % longer, accented: like a long translation


def _question(q: Question) -> Question:
    options = tuple(replace(o, text=GROW(o.text), feedback=GROW(o.feedback)) for o in q.options)
    return replace(q, prompt=GROW(q.prompt), feedback=GROW(q.feedback), options=options)


def _lesson(lesson: Lesson) -> Lesson:
    return replace(
        lesson,
        title=GROW(lesson.title),
        concept=GROW(lesson.concept),
        example=GROW(lesson.example),
        try_it=GROW(lesson.try_it),
        questions=tuple(_question(q) for q in lesson.questions),
        review_questions=tuple(_question(q) for q in lesson.review_questions),
    )


def grown(curriculum: Curriculum) -> Curriculum:
    """The curriculum with every text a learner reads 40 % longer."""
    return Curriculum(
        {k: Skill(s.id, GROW(s.name), GROW(s.description)) for k, s in curriculum.skills.items()},
        curriculum.assessment,
        tuple(replace(t, title=GROW(t.title), summary=GROW(t.summary)) for t in curriculum.tracks),
        {k: _lesson(v) for k, v in curriculum.lessons.items()},
        curriculum.challenges,
    )


GROWN = grown(CURRICULUM)


def _size(card: dict[str, object]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


@pytest.mark.parametrize("lesson_id", sorted(CURRICULUM.lessons))
def test_a_lessons_cards_fit_with_forty_percent_longer_text(lesson_id: str) -> None:
    lesson = GROWN.lessons[lesson_id]
    english = CURRICULUM.lessons[lesson_id]
    with i18n.using(i18n.negotiate(i18n.PSEUDO)):
        reading = views.lesson_card(GROWN, lesson, "a1")
        state = begin_quiz(start_lesson(LearnerState(), lesson, "a1"))
        assert state.activity is not None
        question = views.question_card(
            GROWN, state.activity, lesson.questions[0], GROWN.skill_name(lesson.skill)
        )
        sizes = {}
        for reply in (reading, question):
            sizes[reply.card] = _size(RENDERER.render(reply.card, reply.data))  # raises if over
    with i18n.using(i18n.ENGLISH):
        plain = views.lesson_card(CURRICULUM, english, "a1")
        base = _size(RENDERER.render(plain.card, plain.data))
    assert max(sizes.values()) < MAX_CARD_BYTES
    assert sizes["lesson"] > 1.3 * base  # the text really did grow
