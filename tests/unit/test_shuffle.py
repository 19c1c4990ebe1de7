"""Options are shown in a per-attempt order: the key's place in the file gives nothing away,
and the same card always shows the same order."""

from __future__ import annotations

from collections import Counter

from teams_app.domain.content import Curriculum
from teams_app.views import choices


def test_the_order_is_stable_within_an_attempt_and_keeps_each_options_index(
    curriculum: Curriculum,
) -> None:
    question = next(iter(curriculum.lessons.values())).questions[0]
    first = choices(question, "attempt-1")
    assert first == choices(question, "attempt-1"), "a redrawn card looks the same"
    assert sorted(c["value"] for c in first) == [str(i) for i in range(len(question.options))]
    for choice in first:
        assert question.options[int(choice["value"])].text == choice["title"]


def test_the_key_lands_in_every_position_across_attempts(curriculum: Curriculum) -> None:
    questions = [q for lesson in curriculum.lessons.values() for q in lesson.questions]
    where: Counter[int] = Counter()
    for n, question in enumerate(questions):
        shown = choices(question, f"attempt-{n}")
        key = next(i for i, o in enumerate(question.options) if o.correct)
        where[next(i for i, c in enumerate(shown) if c["value"] == str(key))] += 1
    assert set(where) == {0, 1, 2, 3}
    assert max(where.values()) / len(questions) < 0.35


def test_a_retake_shows_a_different_order_somewhere(curriculum: Curriculum) -> None:
    questions = [q for lesson in curriculum.lessons.values() for q in lesson.questions]
    assert any(choices(q, "one") != choices(q, "two") for q in questions)
