"""The adaptive skills check: which item comes next, and where each skill is placed.

Per assessed skill, the check climbs a short ladder and stops as soon as the answers settle it:

============================  ==========================================================
first level-1 item right      level-2 items follow; a miss ends the skill as
                              *developing*; four answers all right (one level-1, three
                              level-2), each given with at least medium confidence, make
                              it *strong*
first level-1 item wrong      a second level-1 item; wrong again: *focus area*; right: one
                              level-2 item decides between *developing* and *focus area*
============================  ==========================================================

So a skill takes two to four questions, and the whole check eight to sixteen, about ten for
most people. "Strong" makes a skill's lessons optional, so it needs enough evidence that
guessing can't reach it: with four options, a pure guesser is right four times in a row with
probability 1/256, and is marked strong on any of the four skills about 1.6 % of the time
(a test checks this by simulation).

Skills are asked in rounds (the skill with the fewest answers next), so the check moves
between topics. Items are drawn per attempt from the bank, ones the learner has not seen
before first; the draw is seeded by the attempt, so it is the same however often it is
recomputed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from teams_app.domain.content import ASSESSED_SKILLS, AssessmentItem, Curriculum, SkillId
from teams_app.domain.scoring import Confidence

STRONG_ANSWERS = 4
MIN_QUESTIONS_PER_SKILL = 2


@dataclass(frozen=True, slots=True)
class Answer:
    """One skills-check answer, as placement sees it."""

    level: int
    correct: bool
    confidence: Confidence


class SkillLevel(StrEnum):
    """Placement of one skill after the skills check."""

    GAP = "gap"
    DEVELOPING = "developing"
    MASTERED = "mastered"


def next_level(answers: Sequence[Answer]) -> int | None:
    """The level of the skill's next item, or ``None`` when its answers settle it."""
    count = len(answers)
    if count == 0:
        return 1
    if not answers[0].correct:
        if count == 1:
            return 1  # a second chance at level 1
        if count == 2:
            return 2 if answers[1].correct else None
        return None
    if count >= STRONG_ANSWERS or not answers[-1].correct:
        return None
    return 2


def place(answers: Sequence[Answer]) -> SkillLevel:
    """The skill's placement from its answers (see the module docstring)."""
    if (
        len(answers) >= STRONG_ANSWERS
        and all(a.correct for a in answers)
        and all(a.confidence is not Confidence.LOW for a in answers)
    ):
        return SkillLevel.MASTERED
    if answers and answers[0].correct:
        return SkillLevel.DEVELOPING
    if len(answers) >= 3 and answers[1].correct and answers[2].correct:
        return SkillLevel.DEVELOPING
    return SkillLevel.GAP


def question_range(skills: int = len(ASSESSED_SKILLS)) -> tuple[int, int]:
    """The fewest and the most questions the check can ask."""
    return MIN_QUESTIONS_PER_SKILL * skills, STRONG_ANSWERS * skills


def next_item(
    curriculum: Curriculum,
    asked: Sequence[str],
    answers: dict[SkillId, list[Answer]],
    seen: Iterable[str],
    attempt: str,
) -> str | None:
    """The next item to ask, or ``None`` when every skill is settled.

    ``asked`` are the items of this attempt so far, ``answers`` their answers per skill, and
    ``seen`` the items of earlier attempts (asked again only when the bank runs out).
    """
    open_skills = [
        (len(answers.get(skill, [])), order, skill)
        for order, skill in enumerate(ASSESSED_SKILLS)
        if next_level(answers.get(skill, [])) is not None
    ]
    seen_set, asked_set = set(seen), set(asked)
    for _count, _order, skill in sorted(open_skills):
        level = next_level(answers.get(skill, []))
        pool = [
            item
            for item in curriculum.assessment
            if item.skill is skill and item.level == level and item.id not in asked_set
        ]
        if not pool:
            continue  # the bank has nothing more at this level: the skill stops here
        fresh = [item for item in pool if item.id not in seen_set] or pool
        rng = random.Random(f"{attempt}:{len(asked)}")  # noqa: S311 - item choice, not security
        return rng.choice(sorted(fresh, key=_by_id)).id
    return None


def _by_id(item: AssessmentItem) -> str:
    return item.id
