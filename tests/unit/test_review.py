"""Spaced review: the rating map, FSRS's day-granular intervals, idempotent answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating

from teams_app.domain.review import (
    MAXIMUM_INTERVAL_DAYS,
    POOL_FIRST_DUE,
    SESSION_SIZE,
    ReviewItem,
    answered,
    new_item,
    pick_session,
    rating,
    scheduler,
)
from teams_app.domain.scoring import Confidence

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
SCHED = scheduler(fuzz=False)


@pytest.mark.parametrize(
    ("correct", "confidence", "expected"),
    [
        (False, Confidence.LOW, Rating.Again),
        (False, Confidence.MEDIUM, Rating.Again),
        (False, Confidence.HIGH, Rating.Again),
        (True, Confidence.LOW, Rating.Hard),
        (True, Confidence.MEDIUM, Rating.Good),
        (True, Confidence.HIGH, Rating.Easy),
    ],
)
def test_the_rating_map(correct: bool, confidence: Confidence, expected: Rating) -> None:
    assert rating(correct, confidence) is expected


@pytest.mark.parametrize(
    ("correct", "confidence", "days"),
    [
        (False, Confidence.HIGH, 1),  # a lapse comes back tomorrow
        (True, Confidence.LOW, 1),  # right but unsure: soon
        (True, Confidence.MEDIUM, 2),
        (True, Confidence.HIGH, 8),  # right and sure: much later
    ],
)
def test_a_first_answer_schedules_by_how_well_it_was_known(
    correct: bool, confidence: Confidence, days: int
) -> None:
    item = answered(None, "lesson/q1", correct, confidence, "attempt-1", T0, SCHED)
    assert item.due == T0 + timedelta(days=days)
    assert item.last_answer == "attempt-1"


def test_the_same_answer_twice_changes_nothing_and_a_new_one_moves_the_item_on() -> None:
    first = answered(None, "lesson/q1", True, Confidence.MEDIUM, "a1", T0, SCHED)
    assert answered(first, "lesson/q1", False, Confidence.HIGH, "a1", T0, SCHED) == first
    later = T0 + timedelta(days=2)
    second = answered(first, "lesson/q1", True, Confidence.MEDIUM, "a2", later, SCHED)
    assert second.due > first.due + timedelta(days=2), "a second success waits longer"
    lapse = answered(second, "lesson/q1", False, Confidence.HIGH, "a3", second.due, SCHED)
    assert lapse.card.stability is not None and second.card.stability is not None
    assert lapse.card.stability < second.card.stability / 4, "a lapse loses most stability"
    assert lapse.due - second.due < second.due - later, "and comes back sooner"


def test_intervals_grow_with_success_and_stop_at_the_maximum() -> None:
    item, now, intervals = None, T0, []
    for n in range(8):
        item = answered(item, "lesson/q1", True, Confidence.HIGH, f"a{n}", now, SCHED)
        intervals.append((item.due - now).days)
        now = item.due
    assert intervals == sorted(intervals)
    assert intervals[-1] == MAXIMUM_INTERVAL_DAYS


def test_review_pool_questions_start_unanswered_and_due_two_days_later() -> None:
    item = new_item("lesson/pool-1", T0)
    assert item.due == T0 + POOL_FIRST_DUE
    assert item.card.last_review is None
    rated = answered(item, "lesson/pool-1", True, Confidence.HIGH, "r1", item.due, SCHED)
    assert rated.due > item.due


def test_a_session_takes_at_most_five_due_items_most_overdue_first() -> None:
    items = [
        ReviewItem(f"l/q{n}", new_item(f"l/q{n}", T0 - timedelta(days=n + 3)).card)
        for n in range(8)
    ]
    not_due = new_item("l/later", T0)  # due in two days
    session = pick_session([*items, not_due], T0)
    assert len(session) == SESSION_SIZE
    assert session == ["l/q7", "l/q6", "l/q5", "l/q4", "l/q3"]
    assert pick_session([not_due], T0) == []


def test_an_item_round_trips_through_json() -> None:
    item = answered(None, "lesson/q1", True, Confidence.LOW, "a1", T0, SCHED)
    assert ReviewItem.from_json(item.to_json()) == item


def test_review_times_must_be_utc_aware_and_any_zone_is_accepted() -> None:
    from zoneinfo import ZoneInfo

    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))
    item = answered(None, "lesson/q1", True, Confidence.MEDIUM, "a1", berlin, SCHED)
    assert item.due == T0 + timedelta(days=2)
