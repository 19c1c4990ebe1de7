"""Certainty-based marking and calibration."""

from __future__ import annotations

import pytest

from teams_app.domain.scoring import (
    Calibration,
    Confidence,
    Tally,
    calibration,
    cbm_mark,
    tallies_of,
)


@pytest.mark.parametrize(
    ("confidence", "right", "wrong"),
    [(Confidence.LOW, 1, 0), (Confidence.MEDIUM, 2, -2), (Confidence.HIGH, 3, -6)],
)
def test_marks_follow_moodle_cbm(confidence: Confidence, right: int, wrong: int) -> None:
    assert cbm_mark(True, confidence) == right
    assert cbm_mark(False, confidence) == wrong


def test_high_confidence_only_pays_above_eighty_percent() -> None:
    # Expected mark per answer at accuracy p: the best level changes at 2/3 and 0.8.
    def expected(level: Confidence, p: float) -> float:
        return p * cbm_mark(True, level) + (1 - p) * cbm_mark(False, level)

    assert expected(Confidence.LOW, 0.6) > expected(Confidence.MEDIUM, 0.6)
    assert expected(Confidence.MEDIUM, 0.75) > expected(Confidence.HIGH, 0.75)
    assert expected(Confidence.HIGH, 0.85) > expected(Confidence.MEDIUM, 0.85)


def test_too_few_answers_is_unknown() -> None:
    assert calibration(tallies_of([(Confidence.HIGH, False)] * 3)) is Calibration.UNKNOWN


def test_sure_and_often_wrong_is_over_confident() -> None:
    answers = [(Confidence.HIGH, True)] * 3 + [(Confidence.HIGH, False)] * 3
    assert calibration(tallies_of(answers)) is Calibration.OVER


def test_unsure_but_always_right_is_under_confident() -> None:
    answers = [(Confidence.LOW, True)] * 6
    assert calibration(tallies_of(answers)) is Calibration.UNDER


def test_confidence_matching_accuracy_is_calibrated() -> None:
    answers = (
        [(Confidence.HIGH, True)] * 5
        + [(Confidence.LOW, True), (Confidence.LOW, False)]
        + [(Confidence.MEDIUM, True)] * 3
        + [(Confidence.MEDIUM, False)]
    )
    assert calibration(tallies_of(answers)) is Calibration.CALIBRATED


def test_tally_accuracy() -> None:
    assert Tally().accuracy is None
    assert Tally().add(True).add(False).accuracy == 0.5
