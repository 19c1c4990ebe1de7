"""Assignments: a programme admin asks a team or an Entra group to finish a track by a date.

An assignment names no person: it points at a group, whose members come from the directory
(a roster like a team's), and at a track of the curriculum. Learners see the assignments of
the groups they belong to; leaders and admins see how many of the group finished the track,
under the same privacy rules as every other participation figure.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from teams_app.domain.content import Curriculum, Role, Track, role_label
from teams_app.domain.ids import looks_like_object_id
from teams_app.domain.learner import LearnerState

MAX_DAYS_AHEAD = 366 * 2
_ID = re.compile(r"^[a-z0-9]{12}$")


class InvalidAssignment(ValueError):
    """An assignment request that can't be accepted; the message says why (no echo)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """Track ``track_id`` for the members of group ``group_id``, due on ``due``."""

    id: str
    track_id: str
    group_id: str
    due: date
    created: date
    group_name: str | None = None  # as the directory named the group when it was assigned

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return {
            "id": self.id,
            "track": self.track_id,
            "group": self.group_id,
            "group_name": self.group_name,
            "due": self.due.isoformat(),
            "created": self.created.isoformat(),
        }


def new_assignment(
    curriculum: Curriculum, track_id: object, group_id: object, due: object, today: date
) -> Assignment:
    """A checked new assignment; :class:`InvalidAssignment` when a field is wrong."""
    if not isinstance(track_id, str) or curriculum.track(track_id) is None:
        raise InvalidAssignment("'track' must be the id of a track in the curriculum")
    if not isinstance(group_id, str) or not looks_like_object_id(group_id):
        raise InvalidAssignment("'group' must be the object id of a team or Entra group")
    try:
        due_date = date.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        due_date = None
    if due_date is None or not today < due_date <= date.fromordinal(
        today.toordinal() + MAX_DAYS_AHEAD
    ):
        raise InvalidAssignment("'due' must be a date (YYYY-MM-DD) after today, within 2 years")
    return Assignment(secrets.token_hex(6), track_id, group_id.lower(), due_date, today)


def is_assignment_id(text: str) -> bool:
    """Whether ``text`` looks like an id :func:`new_assignment` makes."""
    return bool(_ID.match(text))


@dataclass(frozen=True, slots=True)
class LearnerAssignment:
    """An assignment as its learner sees it."""

    assignment: Assignment
    track: Track
    done: int
    total: int
    in_path: bool  # the track is on the learner's path for their role

    @property
    def finished(self) -> bool:
        """Whether every lesson of the track is done."""
        return self.done >= self.total

    def overdue(self, today: date) -> bool:
        """Past the due date and not finished."""
        return not self.finished and today > self.assignment.due

    def to_dict(self, today: date) -> dict[str, Any]:
        """What the My learning page shows."""
        return {
            **self.assignment.to_dict(),
            "title": self.track.title,
            "done": self.done,
            "total": self.total,
            "finished": self.finished,
            "overdue": self.overdue(today),
            "in_path": self.in_path,
            "roles": sorted(r.value for r in self.track.roles),
            "role_labels": [role_label(r) for r in sorted(self.track.roles)],
        }


def for_learner(
    assignments: list[Assignment], state: LearnerState, curriculum: Curriculum
) -> list[LearnerAssignment]:
    """The learner's assignments with their progress, soonest due first (one per track)."""
    path = {t.id for t in curriculum.tracks_for(state.role or Role.EVERYONE)}
    seen: dict[str, LearnerAssignment] = {}
    for a in sorted(assignments, key=lambda a: (a.due, a.id)):
        track = curriculum.track(a.track_id)
        if track is None or a.track_id in seen:
            continue  # a track since removed from the curriculum, or assigned twice
        done = sum(1 for lesson_id in track.lesson_ids if lesson_id in state.completed)
        seen[a.track_id] = LearnerAssignment(
            a, track, done, len(track.lesson_ids), a.track_id in path
        )
    return list(seen.values())
