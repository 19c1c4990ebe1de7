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

from teams_app.i18n import N_, _


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
    MIXED = "mixed"  # over-confident at one level and under-confident at another


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


MIN_ANSWERS_PER_LEVEL = 4


def calibration(tallies: dict[Confidence, Tally]) -> Calibration:
    """Classify calibration from per-confidence tallies, judging each level on its own.

    Under certainty-based marking each level is the best bet only within an accuracy band
    (:data:`BANDS`): "high" pays only above 80 % right, "low" is best below two thirds. A level
    with at least :data:`MIN_ANSWERS_PER_LEVEL` answers whose accuracy falls below its band is
    over-confidence; above it, under-confidence. The two are reported separately (never
    netted against each other): a learner wrong on half their "I'd bet on it" answers is
    over-confident however often their unsure answers were right.
    """
    over = under = judged = False
    for level, tally in tallies.items():
        accuracy = tally.accuracy
        if accuracy is None or tally.total < MIN_ANSWERS_PER_LEVEL:
            continue
        judged = True
        low, high = BANDS[level]
        over = over or accuracy < low
        under = under or accuracy > high
    if over and under:
        return Calibration.MIXED
    if over:
        return Calibration.OVER
    if under:
        return Calibration.UNDER
    return Calibration.CALIBRATED if judged else Calibration.UNKNOWN


# Labels and hints in English (the catalog's message ids): show them with
# :func:`calibration_label` and :func:`calibration_hint_for`.
CALIBRATION_LABELS: dict[Calibration, str] = {
    # TRANSLATORS: calibration (how well confidence matches accuracy) before enough answers
    Calibration.UNKNOWN: N_("Not enough answers yet"),
    # TRANSLATORS: calibration: the learner's confidence matches their accuracy
    Calibration.CALIBRATED: N_("Calibrated"),
    # TRANSLATORS: calibration: sure more often than right
    Calibration.OVER: N_("Over-confident"),
    # TRANSLATORS: calibration: right more often than sure
    Calibration.UNDER: N_("Under-confident"),
    # TRANSLATORS: calibration: over-confident at one confidence level, under at another
    Calibration.MIXED: N_("Over- and under-confident"),
}

CALIBRATION_HINTS: dict[Calibration, str] = {
    Calibration.UNKNOWN: N_(
        "Answer a few more questions and we'll show how well your confidence matches your accuracy."
    ),
    Calibration.CALIBRATED: N_(
        "Your confidence matches your accuracy: you know what you know. "
        "That is the habit that makes AI output safe to use."
    ),
    Calibration.OVER: N_(
        "You were sure more often than you were right. When you feel certain, "
        "pause and check: the same reflex catches confident but wrong AI answers."
    ),
    Calibration.UNDER: N_(
        "You were right more often than you felt. Trust what you know a little "
        "more, and save your checking for the claims that matter."
    ),
    Calibration.MIXED: N_(
        "When you were sure you were often wrong, and when you were unsure you "
        "were mostly right: keep certainty for what you have checked, and trust what you know."
    ),
}


def calibration_label(value: Calibration) -> str:
    """The calibration's name in the reader's language."""
    return _(CALIBRATION_LABELS[value])


def calibration_hint_for(value: Calibration) -> str:
    """What the calibration means for the learner, in the reader's language."""
    return _(CALIBRATION_HINTS[value])


def tallies_of(answers: Iterable[tuple[Confidence, bool]]) -> dict[Confidence, Tally]:
    """Per-confidence tallies from ``(confidence, correct)`` pairs."""
    result = {level: Tally() for level in Confidence}
    for level, correct in answers:
        result[level] = result[level].add(correct)
    return result
