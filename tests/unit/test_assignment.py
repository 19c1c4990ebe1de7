"""Assignments: what an admin may ask for, and how a learner's progress on one reads."""

from __future__ import annotations

from datetime import date

import pytest

from teams_app.domain.assignment import (
    Assignment,
    InvalidAssignment,
    for_learner,
    is_assignment_id,
    new_assignment,
)
from teams_app.domain.content import Curriculum, Role
from teams_app.domain.learner import LearnerState, LessonRecord
from teams_app.views import assignment_line, progress

TODAY = date(2026, 12, 1)
GROUP = "7d1f0c2e-0000-4000-8000-00000000aaaa"


def _role_track(curriculum: Curriculum, role: Role) -> str:
    return next(t.id for t in curriculum.tracks if role in t.roles and Role.EVERYONE not in t.roles)


def test_a_valid_request_makes_an_assignment_with_a_fresh_id(curriculum: Curriculum) -> None:
    track = curriculum.tracks[0].id
    made = new_assignment(curriculum, track, GROUP.upper(), "2027-01-15", TODAY)
    again = new_assignment(curriculum, track, GROUP, "2027-01-15", TODAY)
    assert (made.track_id, made.group_id, made.due, made.created) == (
        track,
        GROUP,
        date(2027, 1, 15),
        TODAY,
    )
    assert made.id != again.id and is_assignment_id(made.id)
    assert not is_assignment_id("../etc") and not is_assignment_id("A" * 12)


@pytest.mark.parametrize(
    ("track", "group", "due", "reason"),
    [
        ("no-such-track", GROUP, "2027-01-15", "'track'"),
        (None, GROUP, "2027-01-15", "'track'"),
        ("FIRST", "not-a-guid", "2027-01-15", "'group'"),
        ("FIRST", 7, "2027-01-15", "'group'"),
        ("FIRST", GROUP, "2026-12-01", "'due'"),  # today is not after today
        ("FIRST", GROUP, "2026-11-30", "'due'"),
        ("FIRST", GROUP, "2029-01-01", "'due'"),  # more than two years ahead
        ("FIRST", GROUP, "15/01/2027", "'due'"),
        ("FIRST", GROUP, 20270115, "'due'"),
    ],
)
def test_a_bad_request_says_which_field_is_wrong(
    curriculum: Curriculum, track: object, group: object, due: object, reason: str
) -> None:
    if track == "FIRST":
        track = curriculum.tracks[0].id
    with pytest.raises(InvalidAssignment, match=reason):
        new_assignment(curriculum, track, group, due, TODAY)


def test_a_learner_sees_progress_soonest_due_first_once_per_track(
    curriculum: Curriculum,
) -> None:
    foundation = next(t for t in curriculum.tracks if Role.EVERYONE in t.roles)
    finance = _role_track(curriculum, Role.FINANCE)
    state = LearnerState(
        role=Role.HR,
        completed={
            foundation.lesson_ids[0]: LessonRecord(foundation.lesson_ids[0], "a1", 3, 3, 6, TODAY)
        },
    )
    later = Assignment("aaaaaaaaaaaa", foundation.id, GROUP, date(2027, 3, 1), TODAY)
    sooner = Assignment("bbbbbbbbbbbb", foundation.id, GROUP, date(2027, 1, 1), TODAY)
    other = Assignment("cccccccccccc", finance, GROUP, date(2026, 11, 1), TODAY)
    gone = Assignment("dddddddddddd", "removed-track", GROUP, date(2027, 1, 1), TODAY)
    found = for_learner([later, sooner, other, gone], state, curriculum)
    assert [a.assignment.id for a in found] == ["cccccccccccc", "bbbbbbbbbbbb"]
    finance_one, foundation_one = found
    assert (foundation_one.done, foundation_one.total) == (1, len(foundation.lesson_ids))
    assert foundation_one.in_path and not finance_one.in_path
    assert finance_one.overdue(TODAY) and not foundation_one.overdue(TODAY)
    line = assignment_line(finance_one, TODAY)
    assert "overdue" in line and "type `role` to switch" in line and "due 1 Nov 2026" in line


def test_the_progress_card_lists_assignments_only_when_there_are_some(
    curriculum: Curriculum,
) -> None:
    foundation = next(t for t in curriculum.tracks if Role.EVERYONE in t.roles)
    state = LearnerState(role=Role.HR)
    plain = progress(curriculum, state, None, TODAY)
    assert plain.data["has_assignments"] is False and plain.data["assignments"] == []
    assigned = for_learner(
        [Assignment("aaaaaaaaaaaa", foundation.id, GROUP, date(2027, 1, 15), TODAY)],
        state,
        curriculum,
    )
    card = progress(curriculum, state, None, TODAY, assigned)
    assert card.data["has_assignments"] is True
    assert card.data["assignments"] == [
        {"line": f"**{foundation.title}** · due 15 Jan 2027 · 0 of "
                 f"{len(foundation.lesson_ids)} lessons"}
    ]  # fmt: skip
