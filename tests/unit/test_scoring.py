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


def test_over_and_under_confidence_are_not_netted_against_each_other() -> None:
    # Wrong on half the "I'd bet on it" answers (6 marks lost on each), right on every unsure
    # one: both habits show; netting them would have called this learner calibrated.
    answers = [(Confidence.HIGH, True)] * 3 + [(Confidence.HIGH, False)] * 3
    answers += [(Confidence.LOW, True)] * 6
    assert calibration(tallies_of(answers)) is Calibration.MIXED


@pytest.mark.parametrize(
    ("level", "right", "total", "expected"),
    [
        # "high" pays only above 80 % right: 3 of 4 (75 %) is over-confident, 4 of 5 isn't.
        (Confidence.HIGH, 3, 4, Calibration.OVER),
        (Confidence.HIGH, 4, 5, Calibration.CALIBRATED),
        (Confidence.HIGH, 2, 4, Calibration.OVER),
        # "low" is the best bet below two thirds right: 3 of 4 unsure answers right is
        # under-confident, 2 of 4 isn't.
        (Confidence.LOW, 3, 4, Calibration.UNDER),
        (Confidence.LOW, 2, 4, Calibration.CALIBRATED),
        # "medium" between the two: 5 of 10 is over, 9 of 10 under, 7 of 10 just right.
        (Confidence.MEDIUM, 5, 10, Calibration.OVER),
        (Confidence.MEDIUM, 9, 10, Calibration.UNDER),
        (Confidence.MEDIUM, 7, 10, Calibration.CALIBRATED),
        # Fewer than four answers at a level say nothing about it.
        (Confidence.HIGH, 0, 3, Calibration.UNKNOWN),
    ],
)
def test_each_level_is_judged_against_its_break_even_point(
    level: Confidence, right: int, total: int, expected: Calibration
) -> None:
    answers = [(level, True)] * right + [(level, False)] * (total - right)
    assert calibration(tallies_of(answers)) is expected


def test_every_calibration_has_a_label_and_a_one_sentence_hint() -> None:
    from teams_app.domain.scoring import CALIBRATION_HINTS, CALIBRATION_LABELS

    for value in Calibration:
        assert CALIBRATION_LABELS[value]
        assert CALIBRATION_HINTS[value].count(". ") <= 1, "a sentence or two, not a lecture"
