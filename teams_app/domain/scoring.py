"""Certainty-based marking and calibration.

Marks follow Moodle's certainty-based marking (CBM): a right answer scores +1, +2 or +3 at
low, medium or high confidence; a wrong one 0, -2 or -6. Under that scheme the best choice
is low confidence when the chance of being right is below 67 %, medium between 67 % and
80 %, and high above 80 %, so a learner whose accuracy at a level falls outside its band is
mis-calibrated (Gardner-Medwin, "Confidence-based marking", UCL).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Confidence(StrEnum):
    """How sure a learner says they are of an answer."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


_MARKS: dict[Confidence, tuple[int, int]] = {
    Confidence.LOW: (1, 0),
    Confidence.MEDIUM: (2, -2),
    Confidence.HIGH: (3, -6),
}

# The accuracy band in which each confidence level is the best bet under CBM.
BANDS: dict[Confidence, tuple[float, float]] = {
    Confidence.LOW: (0.0, 2 / 3),
    Confidence.MEDIUM: (2 / 3, 0.8),
    Confidence.HIGH: (0.8, 1.0),
}


def cbm_mark(correct: bool, confidence: Confidence) -> int:
    """The CBM mark for one answer."""
    right, wrong = _MARKS[confidence]
    return right if correct else wrong


class Calibration(StrEnum):
    """Whether stated confidence matches accuracy."""

    UNKNOWN = "unknown"
    CALIBRATED = "calibrated"
    OVER = "over-confident"
    UNDER = "under-confident"


@dataclass(frozen=True, slots=True)
class Tally:
    """Right answers out of all answers, at one confidence level."""

    right: int = 0
    total: int = 0

    def add(self, correct: bool) -> Tally:
        """A new tally with one more answer."""
        return Tally(self.right + int(correct), self.total + 1)

    @property
    def accuracy(self) -> float | None:
        """Share of right answers, or ``None`` with no answers."""
        return self.right / self.total if self.total else None


MIN_ANSWERS_FOR_CALIBRATION = 4


def calibration(tallies: dict[Confidence, Tally]) -> Calibration:
    """Classify calibration from per-confidence tallies.

    Each answer outside its level's accuracy band counts towards over- or under-confidence by
    how far the level's accuracy lies outside the band; fewer than four answers is too little
    evidence to say anything.
    """
    answered = sum(t.total for t in tallies.values())
    if answered < MIN_ANSWERS_FOR_CALIBRATION:
        return Calibration.UNKNOWN
    drift = 0.0
    for level, tally in tallies.items():
        accuracy = tally.accuracy
        if accuracy is None:
            continue
        low, high = BANDS[level]
        if accuracy < low:
            drift += (low - accuracy) * tally.total
        elif accuracy > high:
            drift -= (accuracy - high) * tally.total
    # A tenth of the answers' worth of drift is noise, not a pattern.
    threshold = 0.1 * answered
    if drift > threshold:
        return Calibration.OVER
    if drift < -threshold:
        return Calibration.UNDER
    return Calibration.CALIBRATED


CALIBRATION_HINTS: dict[Calibration, str] = {
    Calibration.UNKNOWN: "Answer a few more questions and we'll show how well your confidence "
    "matches your accuracy.",
    Calibration.CALIBRATED: "Your confidence matches your accuracy: you know what you know. "
    "That is the habit that makes AI output safe to use.",
    Calibration.OVER: "You were sure more often than you were right. When you feel certain, "
    "pause and check: the same reflex catches confident but wrong AI answers.",
    Calibration.UNDER: "You were right more often than you felt. Trust what you know a little "
    "more, and save your checking for the claims that matter.",
}


def tallies_of(answers: Iterable[tuple[Confidence, bool]]) -> dict[Confidence, Tally]:
    """Per-confidence tallies from ``(confidence, correct)`` pairs."""
    result = {level: Tally() for level in Confidence}
    for level, correct in answers:
        result[level] = result[level].add(correct)
    return result
