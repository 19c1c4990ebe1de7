"""When team figures change for leaders: periodic snapshots that can't be differenced.

Live sums that move with every answer let a leader who looks before and after a colleague's
"done my pulse" read that colleague's answer off the difference. So leaders never read the
live :class:`~teams_app.domain.team.TeamSummary`; they read a *snapshot*, and a snapshot moves
a figure only when at least ``k`` different people changed it since it last moved.

The figures fall into sections (:func:`sections_of`):

* ``progress`` (started, lessons and tracks completed, leadership, the roster itself),
  ``quiz``, ``confidence`` and ``skills``: a section is *released* into the next snapshot
  when at least ``k`` distinct members changed their part of it since its last release;
* ``w|<ISO week>`` (active that week, the week's pulse answer, the week's challenge): a week
  is first released whole once it has closed, when no earlier snapshot showed anything of
  it; after that, late changes wait for ``k`` distinct members like any other section.

Each section has an *epoch*, bumped when it is released; a member's row remembers the epoch
in which it was last counted for each section (``counted``), so a member who changes the
same section five times is counted once. Two consecutive snapshots therefore differ, in any
figure, by the changes of at least ``k`` people, or of a whole week first shown at once
(itself behind the ``k`` threshold of the view). A new snapshot is taken at most once a day
(:func:`due`), and right away for a team that has none yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

from teams_app.domain.learner import iso_week
from teams_app.domain.team import ConfidenceCount, Contribution, TeamSummary

BASE_SECTIONS = ("progress", "quiz", "confidence", "skills")
WEEK_PREFIX = "w|"
KEEP_WEEKS = 26  # week sections older than this many weeks are forgotten
PUBLICATION_VERSION = 1
_WEEK = re.compile(r"\d{4}-W\d{2}")

# Which summary fields each section moves; week-keyed fields move per week.
_FIELDS: dict[str, tuple[str, ...]] = {
    "progress": ("members", "started", "learners", "lessons_completed", "tracks", "leaders",
                 "leaders_started", "role_tracks_done"),
    "quiz": ("quiz_right", "quiz_answers", "quiz_mark", "quiz_max_mark"),
    "confidence": ("answerers", "confidence"),
    "skills": ("skills", "assessed"),
}  # fmt: skip
_WEEK_FIELDS = ("active", "pulse", "challenges", "leaders_active", "leaders_challenges")


def sections_of(c: Contribution | None) -> dict[str, object]:
    """Each section's part of a member's contribution (a non-member has none)."""
    if c is None:
        return {}
    weeks = {*c.active_weeks, *c.pulse, *c.challenge_weeks}
    parts: dict[str, object] = {
        "progress": (c.started, c.lessons_completed, sorted(c.completed_tracks), c.leader,
                     c.role_track_done),
        "quiz": (c.quiz_right, c.quiz_answers, c.quiz_mark, c.quiz_max_mark),
        "confidence": sorted(c.confidence.items()),
        "skills": sorted(c.skill_levels.items()),
    }  # fmt: skip
    for week in weeks:
        parts[WEEK_PREFIX + week] = (
            week in c.active_weeks,
            c.pulse.get(week),
            week in c.challenge_weeks,
            c.leader,
        )
    return parts


_NOTHING = Contribution()


def changed_sections(old: Contribution | None, new: Contribution | None) -> set[str]:
    """The sections in which ``new`` differs from ``old`` (joining or leaving moves all)."""
    # Joining or leaving moves the roster (progress) and only the sections where the
    # member's figures differ from those of someone who has done nothing.
    before, after = sections_of(old or _NOTHING), sections_of(new or _NOTHING)
    changed = {s for s in before.keys() | after.keys() if before.get(s) != after.get(s)}
    return changed | {"progress"} if (old is None) != (new is None) else changed


HISTORY_POINTS = 12


@dataclass(frozen=True)
class HistoryPoint:
    """The confidence figures as one snapshot published them (for calibration over time)."""

    published_on: date
    answerers: int
    confidence: dict[str, ConfidenceCount]

    def to_list(self) -> list[Any]:
        """A JSON-able form."""
        return [
            self.published_on.isoformat(),
            self.answerers,
            {k: list(v) for k, v in sorted(self.confidence.items())},
        ]

    @classmethod
    def from_list(cls, raw: Any) -> HistoryPoint:
        """Read :meth:`to_list`'s output; ``ValueError`` on anything else."""
        when, answerers, confidence = raw
        return cls(
            date.fromisoformat(when),
            int(answerers),
            {str(k): ConfidenceCount(*(int(n) for n in v)) for k, v in dict(confidence).items()},
        )

    def plus(self, other: HistoryPoint) -> HistoryPoint:
        """Two disjoint groups' points of the same day added together."""
        merged = dict(self.confidence)
        for level, count in other.confidence.items():
            mine = merged.get(level, ConfidenceCount())
            merged[level] = ConfidenceCount(*(a + b for a, b in zip(mine, count, strict=True)))
        return HistoryPoint(self.published_on, self.answerers + other.answerers, merged)


@dataclass(frozen=True)
class Publication:
    """A team's published snapshot and what has changed since.

    ``pending`` counts, per section, the distinct members who changed it since its last
    release; ``epochs`` numbers each section's releases; ``shown_weeks`` are the weeks some
    snapshot has shown. ``previous`` is the snapshot before the last one that moved the
    ``confidence`` section (for "last period" comparisons).
    """

    snapshot: TeamSummary | None = None
    published_on: date | None = None
    epochs: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    shown_weeks: frozenset[str] = frozenset()
    previous: TeamSummary | None = None
    history: tuple[HistoryPoint, ...] = ()  # each move of the confidence figures, oldest first

    def note(
        self, counted: Mapping[str, int], old: Contribution | None, new: Contribution | None
    ) -> tuple[Publication, dict[str, int]]:
        """Record a member's change from ``old`` to ``new``.

        ``counted`` is the member's record of the epoch each section last counted them in;
        returns the new publication state and the member's new record.
        """
        pending, mine = dict(self.pending), dict(counted)
        for section in changed_sections(old, new):
            epoch = self.epochs.get(section, 0)
            if mine.get(section) != epoch:
                pending[section] = pending.get(section, 0) + 1
                mine[section] = epoch
        # Entries from past epochs can never match again: drop them to keep rows small.
        mine = {s: e for s, e in mine.items() if self.epochs.get(s, 0) == e}
        return replace(self, pending=pending), mine

    def publish(
        self,
        live: TeamSummary,
        *,
        threshold: int,
        today: date,
        this_week: str,
        totals: Mapping[str, int] | None = None,
        shown_elsewhere: frozenset[str] = frozenset(),
    ) -> Publication:
        """The next snapshot of ``live``: released sections move, the others stay put.

        ``totals`` replaces this group's pending counts in the decision, and
        ``shown_elsewhere`` adds to the weeks already shown, for a group that is only ever
        shown summed with others (the organisation's shards): there, the sum's change is
        what must have ``threshold`` people behind it, and a week one shard has shown is no
        longer new in any of them.
        """
        oldest = _weeks_before(this_week, KEEP_WEEKS)
        counts = self.pending if totals is None else totals
        released = [s for s in BASE_SECTIONS if counts.get(s, 0) >= threshold]
        for section, count in counts.items():
            if not section.startswith(WEEK_PREFIX) or count <= 0:
                continue
            week = section[len(WEEK_PREFIX) :]
            if week < oldest:
                continue  # past what any view shows, and past what shown_weeks remembers
            new = week not in self.shown_weeks and week not in shown_elsewhere
            if week < this_week and (new or count >= threshold):
                released.append(section)
        base = self.snapshot or TeamSummary.empty()
        snapshot = compose(base, live, released)
        epochs, pending = dict(self.epochs), dict(self.pending)
        for section in released:
            epochs[section] = epochs.get(section, 0) + 1
            pending.pop(section, None)
        shown = {s[len(WEEK_PREFIX) :] for s in released if s.startswith(WEEK_PREFIX)}
        return Publication(
            snapshot=snapshot,
            published_on=today,
            epochs=_recent(epochs, oldest),
            pending=_recent(pending, oldest),
            shown_weeks=frozenset(w for w in self.shown_weeks | shown if w >= oldest),
            previous=base if "confidence" in released and self.snapshot else self.previous,
            history=(
                (*self.history, HistoryPoint(today, snapshot.answerers, snapshot.confidence))[
                    -HISTORY_POINTS:
                ]
                if "confidence" in released
                else self.history
            ),
        )

    def due(self, today: date) -> bool:
        """Whether a new snapshot is due: none yet, or none taken today."""
        return self.published_on is None or self.published_on < today

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy, for storage."""
        return {
            "version": PUBLICATION_VERSION,
            "snapshot": self.snapshot.to_dict() if self.snapshot else None,
            "published_on": self.published_on.isoformat() if self.published_on else None,
            "epochs": dict(sorted(self.epochs.items())),
            "pending": dict(sorted(self.pending.items())),
            "shown_weeks": sorted(self.shown_weeks),
            "previous": self.previous.to_dict() if self.previous else None,
            "history": [point.to_list() for point in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Publication:
        """Read :meth:`to_dict`'s output; ``ValueError`` on anything else."""
        if data.get("version") != PUBLICATION_VERSION:
            raise ValueError("unknown publication version")
        published_on = data.get("published_on")
        snapshot, previous = data.get("snapshot"), data.get("previous")
        return cls(
            snapshot=TeamSummary.from_dict(snapshot) if snapshot else None,
            published_on=date.fromisoformat(published_on) if published_on else None,
            epochs={str(k): int(v) for k, v in dict(data.get("epochs") or {}).items()},
            pending={str(k): int(v) for k, v in dict(data.get("pending") or {}).items()},
            shown_weeks=frozenset(str(w) for w in data.get("shown_weeks") or ()),
            previous=TeamSummary.from_dict(previous) if previous else None,
            history=tuple(HistoryPoint.from_list(p) for p in data.get("history") or ()),
        )


def compose(base: TeamSummary, live: TeamSummary, released: Iterable[str]) -> TeamSummary:
    """``base`` with the released sections' figures taken from ``live``."""
    released = set(released)
    values: dict[str, Any] = {f.name: getattr(base, f.name) for f in fields(TeamSummary)}
    for section in BASE_SECTIONS:
        if section in released:
            for name in _FIELDS[section]:
                values[name] = getattr(live, name)
    weeks = {s[len(WEEK_PREFIX) :] for s in released if s.startswith(WEEK_PREFIX)}
    for name in _WEEK_FIELDS:
        merged = {w: v for w, v in getattr(base, name).items() if w not in weeks}
        merged.update({w: v for w, v in getattr(live, name).items() if w in weeks})
        values[name] = dict(sorted(merged.items()))
    return TeamSummary(**values)


def _weeks_before(this_week: str, weeks: int) -> str:
    if not _WEEK.fullmatch(this_week):
        raise ValueError(f"not an ISO week: {this_week!r}")
    monday = date.fromisocalendar(int(this_week[:4]), int(this_week[6:]), 1)
    return iso_week(monday - timedelta(weeks=weeks))


def _recent(counts: Mapping[str, int], oldest: str) -> dict[str, int]:
    return {
        s: n
        for s, n in sorted(counts.items())
        if not s.startswith(WEEK_PREFIX) or s[len(WEEK_PREFIX) :] >= oldest
    }
