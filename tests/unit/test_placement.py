"""The adaptive skills check: the ladder, the placement rules, and what guessing can reach."""

from __future__ import annotations

import random

import pytest

from teams_app.domain.content import ASSESSED_SKILLS, Curriculum
from teams_app.domain.placement import Answer, SkillLevel, next_level, place, question_range
from teams_app.domain.scoring import Confidence

GUESSERS = 100_000
RIGHT, WRONG = True, False
HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


def _answers(*steps: tuple[int, bool, Confidence]) -> list[Answer]:
    return [Answer(level, correct, confidence) for level, correct, confidence in steps]


@pytest.mark.parametrize(
    ("steps", "next_up", "placed"),
    [
        ((), 1, None),
        (((1, RIGHT, HIGH),), 2, None),
        (((1, RIGHT, HIGH), (2, WRONG, HIGH)), None, SkillLevel.DEVELOPING),
        (((1, RIGHT, HIGH), (2, RIGHT, HIGH)), 2, None),
        (((1, RIGHT, HIGH), (2, RIGHT, MEDIUM), (2, WRONG, LOW)), None, SkillLevel.DEVELOPING),
        (
            ((1, RIGHT, HIGH), (2, RIGHT, MEDIUM), (2, RIGHT, HIGH), (2, RIGHT, MEDIUM)),
            None,
            SkillLevel.MASTERED,
        ),
        (
            ((1, RIGHT, HIGH), (2, RIGHT, LOW), (2, RIGHT, HIGH), (2, RIGHT, HIGH)),
            None,
            SkillLevel.DEVELOPING,  # a right answer given as a guess is not evidence of mastery
        ),
        (((1, WRONG, HIGH),), 1, None),
        (((1, WRONG, HIGH), (1, WRONG, LOW)), None, SkillLevel.GAP),
        (((1, WRONG, HIGH), (1, RIGHT, LOW)), 2, None),
        (((1, WRONG, HIGH), (1, RIGHT, LOW), (2, WRONG, LOW)), None, SkillLevel.GAP),
        (((1, WRONG, HIGH), (1, RIGHT, MEDIUM), (2, RIGHT, LOW)), None, SkillLevel.DEVELOPING),
    ],
)
def test_the_ladder_and_the_placement(
    steps: tuple[tuple[int, bool, Confidence], ...],
    next_up: int | None,
    placed: SkillLevel | None,
) -> None:
    answers = _answers(*steps)
    assert next_level(answers) == next_up
    if placed is not None:
        assert place(answers) is placed


def test_the_check_asks_eight_to_sixteen_questions() -> None:
    assert question_range() == (8, 16)


def _guess_a_skill(rng: random.Random, options: int, confidence: Confidence) -> SkillLevel:
    answers: list[Answer] = []
    while (level := next_level(answers)) is not None:
        answers.append(Answer(level, rng.randrange(options) == 0, confidence))
    return place(answers)


@pytest.mark.parametrize("confidence", [HIGH, MEDIUM])
def test_a_pure_guesser_is_marked_strong_on_any_skill_less_than_two_percent_of_the_time(
    confidence: Confidence, curriculum: Curriculum
) -> None:
    # Every skills-check item has four options (the content check enforces it), so a guess
    # is right a quarter of the time; the guesser claims the confidence that helps most.
    assert {len(item.question.options) for item in curriculum.assessment} == {4}
    rng = random.Random(4)
    strong_anywhere = sum(
        any(_guess_a_skill(rng, 4, confidence) is SkillLevel.MASTERED for _ in ASSESSED_SKILLS)
        for _ in range(GUESSERS)
    )
    share = strong_anywhere / GUESSERS
    assert share < 0.02, f"{share:.2%} of guessers were marked strong somewhere"
    assert share > 0.01, "the simulation is guessing at all (expected about 1.55 %)"


def test_a_guesser_mostly_lands_in_focus_areas() -> None:
    rng = random.Random(5)
    levels = [_guess_a_skill(rng, 4, HIGH) for _ in range(20_000)]
    assert levels.count(SkillLevel.GAP) / len(levels) > 0.6
