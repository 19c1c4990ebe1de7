"""A team's figures for the leader tab: additive counters, and what a leader may see of them.

The storage layer keeps one :class:`TeamSummary` per team up to date at write time: when a
member's state changes it removes their old :class:`Contribution` and adds the new one, so
the leader tab reads one row instead of every learner. :func:`team_view` turns the counters
into what a leader may see: aggregates only, each backed by at least ``threshold`` people,
with complementary suppression inside every breakdown whose total is known
(:mod:`teams_app.domain.privacy`). No name or id ever enters a summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from teams_app.domain.content import ASSESSED_SKILLS, Curriculum, Role
from teams_app.domain.learner import LearnerState, SkillLevel, iso_week
from teams_app.domain.privacy import (
    NOT_ENOUGH,
    CalibrationPoint,
    ConfidenceView,
    Headline,
    LeadersView,
    LearningView,
    LevelRow,
    SkillRow,
    TeamView,
    Tile,
    TrackRow,
    WeekPoint,
    check_threshold,
    csv_rows,
    dominated,
    shown,
    suppress,
)
from teams_app.domain.scoring import Confidence, Tally, calibration

# The view's types and its CSV form live in privacy.py; callers may import them from here.
__all__ = [
    "NOT_ENOUGH",
    "ConfidenceCount",
    "Contribution",
    "PulseCount",
    "SkillCount",
    "TeamSummary",
    "TeamView",
    "contribution_of",
    "csv_rows",
    "team_view",
]

SUMMARY_VERSION = 2
MINUTES_STEP = 5  # minutes-saved averages are rounded to this
_WEEK = re.compile(r"(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])")
_CONFIDENCE_LEVELS = tuple(level.value for level in Confidence)
_SKILL_LEVELS = tuple(level.value for level in SkillLevel)
_NO_PULSES: Mapping[str, tuple[int, int, bool]] = MappingProxyType({})


def _check_week(week: str) -> None:
    if not _WEEK.fullmatch(week):
        raise ValueError(f"not an ISO week like 2026-W48: {week!r}")


@dataclass(frozen=True)
class Contribution:
    """One member's part of the team figures, derived from their state; it holds no identity.

    ``confidence`` maps a confidence level to (right, total) answers; ``skill_levels`` maps an
    assessed skill to its level; ``pulse`` maps an ISO week to (confidence 1-5, minutes saved,
    caught an AI error).
    """

    started: bool = False
    active_weeks: frozenset[str] = frozenset()
    completed_tracks: frozenset[str] = frozenset()
    lessons_completed: int = 0
    quiz_right: int = 0
    quiz_answers: int = 0
    quiz_mark: int = 0
    quiz_max_mark: int = 0
    confidence: dict[str, tuple[int, int]] = field(default_factory=dict)
    skill_levels: dict[str, str] = field(default_factory=dict)
    pulse: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    leader: bool = False
    challenge_weeks: frozenset[str] = frozenset()  # weeks the weekly challenge was done
    role_track_done: bool = False  # finished a track beyond the foundation

    def __post_init__(self) -> None:
        if min(self.lessons_completed, self.quiz_right, self.quiz_max_mark) < 0:
            raise ValueError("counts cannot be negative")
        if self.quiz_right > self.quiz_answers:
            raise ValueError("more right answers than answers")
        for level, (right, total) in self.confidence.items():
            if level not in _CONFIDENCE_LEVELS or not 0 <= right <= total:
                raise ValueError(f"bad confidence tally {level!r}: {right}/{total}")
        if any(level not in _SKILL_LEVELS for level in self.skill_levels.values()):
            raise ValueError("unknown skill level")
        for week, (confidence, minutes, _caught) in self.pulse.items():
            if not 1 <= confidence <= 5 or minutes < 0:
                raise ValueError(f"bad pulse for {week}")
        for week in (*self.active_weeks, *self.pulse, *self.challenge_weeks):
            _check_week(week)


def contribution_of(
    state: LearnerState,
    curriculum: Curriculum,
    *,
    leader: bool,
    pulses: Mapping[str, tuple[int, int, bool]] = _NO_PULSES,
) -> Contribution:
    """A member's contribution from their learner state and their weekly pulse answers."""
    records = state.completed.values()
    tracks = curriculum.tracks_for(state.role or Role.EVERYONE)
    answers = sum(tally.total for tally in state.tallies.values())
    return Contribution(
        started=bool(answers or state.completed or state.assessed or state.assessments_taken),
        active_weeks=frozenset(state.active_weeks),
        completed_tracks=frozenset(
            t.id for t in tracks if t.lesson_ids and all(i in state.completed for i in t.lesson_ids)
        ),
        lessons_completed=len(state.completed),
        quiz_right=sum(r.right for r in records),
        quiz_answers=sum(r.total for r in records),
        quiz_mark=sum(r.mark for r in records),
        quiz_max_mark=sum(r.max_mark for r in records),
        confidence={c.value: (t.right, t.total) for c, t in state.tallies.items() if t.total},
        skill_levels={s.value: r.level.value for s, r in state.skills.items()},
        pulse=dict(pulses),
        leader=leader,
        challenge_weeks=frozenset(w for w, r in state.challenges.items() if r.done),
        role_track_done=any(
            Role.EVERYONE not in t.roles
            and t.lesson_ids
            and all(i in state.completed for i in t.lesson_ids)
            for t in tracks
        ),
    )


class ConfidenceCount(NamedTuple):
    """Answers given at one confidence level, and how many members gave them."""

    people: int = 0
    right: int = 0
    total: int = 0


class SkillCount(NamedTuple):
    """Members placed at each level of one assessed skill."""

    gap: int = 0
    developing: int = 0
    mastered: int = 0


class PulseCount(NamedTuple):
    """One week's pulse answers: how many, the sums of their figures, how many saved no
    time, and how many answered each confidence level 1-5 (for the dominance rule)."""

    responses: int = 0
    confidence: int = 0
    minutes: int = 0
    caught: int = 0
    no_minutes: int = 0
    at_1: int = 0
    at_2: int = 0
    at_3: int = 0
    at_4: int = 0
    at_5: int = 0

    def levels(self) -> dict[str, int]:
        """How many answered each confidence level, keyed "1" to "5"."""
        return {str(n): self[4 + n] for n in range(1, 6)}


def _pulse_count(confidence: int, minutes: int, caught: bool) -> PulseCount:
    levels = [0] * 5
    levels[confidence - 1] = 1
    return PulseCount(1, confidence, minutes, int(caught), int(minutes == 0), *levels)


_VECTORS: dict[str, Callable[..., tuple[int, ...]]] = {
    "confidence": ConfidenceCount,
    "skills": SkillCount,
    "pulse": PulseCount,
}


@dataclass(frozen=True)
class TeamSummary:
    """Additive counters over a team's members; entries that fall to zero are dropped.

    ``learners`` counts members with a completed lesson (they contribute the quiz figures);
    ``answerers`` members with a confidence-rated answer (they contribute calibration).
    """

    members: int = 0
    started: int = 0
    learners: int = 0
    answerers: int = 0
    lessons_completed: int = 0
    quiz_right: int = 0
    quiz_answers: int = 0
    quiz_mark: int = 0
    quiz_max_mark: int = 0
    active: dict[str, int] = field(default_factory=dict)
    tracks: dict[str, int] = field(default_factory=dict)
    confidence: dict[str, ConfidenceCount] = field(default_factory=dict)
    skills: dict[str, SkillCount] = field(default_factory=dict)
    pulse: dict[str, PulseCount] = field(default_factory=dict)
    leaders: int = 0
    leaders_started: int = 0
    leaders_active: dict[str, int] = field(default_factory=dict)
    challenges: dict[str, int] = field(default_factory=dict)  # members who did it, by week
    leaders_challenges: dict[str, int] = field(default_factory=dict)
    assessed: int = 0  # members placed by the skills check
    role_tracks_done: int = 0  # members who finished a track beyond the foundation

    @classmethod
    def empty(cls) -> TeamSummary:
        """The summary of a team nobody has joined yet."""
        return cls()

    def add(self, c: Contribution, sign: int = 1) -> TeamSummary:
        """Add a member's contribution (``sign=1``) or remove one added before (``sign=-1``).

        Raises ``ValueError`` when a removal would make a count negative: that contribution
        was never added, and the stored summary must not be silently corrupted.
        """
        if sign not in (1, -1):
            raise ValueError("sign must be 1 or -1")
        confidence = {k: ConfidenceCount(1, r, t) for k, (r, t) in c.confidence.items() if t}
        skills = {k: SkillCount(**{level: 1}) for k, level in c.skill_levels.items()}
        pulse = {w: _pulse_count(*answer) for w, answer in c.pulse.items()}
        leader = sign * c.leader
        summary = TeamSummary(
            members=self.members + sign,
            started=self.started + sign * c.started,
            learners=self.learners + sign * (c.lessons_completed > 0),
            answerers=self.answerers + sign * bool(confidence),
            lessons_completed=self.lessons_completed + sign * c.lessons_completed,
            quiz_right=self.quiz_right + sign * c.quiz_right,
            quiz_answers=self.quiz_answers + sign * c.quiz_answers,
            quiz_mark=self.quiz_mark + sign * c.quiz_mark,
            quiz_max_mark=self.quiz_max_mark + sign * c.quiz_max_mark,
            active=_add_counts(self.active, c.active_weeks, sign),
            tracks=_add_counts(self.tracks, c.completed_tracks, sign),
            confidence=_add_vectors(ConfidenceCount, self.confidence, confidence, sign),
            skills=_add_vectors(SkillCount, self.skills, skills, sign),
            pulse=_add_vectors(PulseCount, self.pulse, pulse, sign),
            leaders=self.leaders + leader,
            leaders_started=self.leaders_started + leader * c.started,
            leaders_active=_add_counts(
                self.leaders_active, c.active_weeks if c.leader else (), sign
            ),
            challenges=_add_counts(self.challenges, c.challenge_weeks, sign),
            leaders_challenges=_add_counts(
                self.leaders_challenges, c.challenge_weeks if c.leader else (), sign
            ),
            assessed=self.assessed + sign * bool(c.skill_levels),
            role_tracks_done=self.role_tracks_done + sign * c.role_track_done,
        )
        summary._check()
        return summary

    def plus(self, other: TeamSummary) -> TeamSummary:
        """The counters of two disjoint groups added together (e.g. the organisation's
        shards)."""
        values: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in _VECTORS:
                values[f.name] = _add_vectors(_VECTORS[f.name], mine, theirs, 1)
            elif isinstance(mine, dict):
                merged = dict(mine)
                for key, n in theirs.items():
                    merged[key] = merged.get(key, 0) + n
                values[f.name] = merged
            else:
                values[f.name] = mine + theirs
        return TeamSummary(**values)

    def _check(self) -> None:
        counts: list[int] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                counts.extend(
                    n for v in value.values() for n in (v if isinstance(v, tuple) else (v,))
                )
            elif f.name != "quiz_mark":  # certainty-based marks can be negative
                counts.append(value)
        if min(counts) < 0:
            raise ValueError("a team count went negative: removing what was never added")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy with stable keys (mapping keys sorted), for storage."""
        data: dict[str, Any] = {"version": SUMMARY_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                value = {
                    k: list(v) if isinstance(v, tuple) else v for k, v in sorted(value.items())
                }
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TeamSummary:
        """Read what :meth:`to_dict` wrote; ``ValueError`` on anything else."""
        if data.get("version") != SUMMARY_VERSION:
            raise ValueError("unknown team summary version")
        names = {f.name for f in fields(cls)}
        if unknown := set(data) - names - {"version"}:
            raise ValueError(f"unknown team summary fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name in names & set(data):
            raw = data[name]
            if name in _VECTORS:
                kind = _VECTORS[name]
                entries = {str(k): _vector(kind, v) for k, v in dict(raw).items()}
                values[name] = {k: v for k, v in entries.items() if any(v)}
            elif isinstance(raw, Mapping):
                values[name] = {str(k): n for k, v in raw.items() if (n := _int(v))}
            else:
                values[name] = _int(raw)
        summary = cls(**values)
        summary._check()
        return summary


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a count: {value!r}")
    return value


def _vector[V: tuple[int, ...]](kind: Callable[..., V], value: Any) -> V:
    if not isinstance(value, list | tuple) or len(value) != len(kind()):
        raise ValueError(f"not a list of {len(kind())} counts: {value!r}")
    return kind(*(_int(v) for v in value))


def _add_counts(base: Mapping[str, int], keys: Iterable[str], sign: int) -> dict[str, int]:
    result = dict(base)
    for key in keys:
        result[key] = result.get(key, 0) + sign
        if not result[key]:
            del result[key]
    return result


def _add_vectors[V: tuple[int, ...]](
    kind: Callable[..., V], base: Mapping[str, V], deltas: Mapping[str, V], sign: int
) -> dict[str, V]:
    result = dict(base)
    for key, delta in deltas.items():
        old = result.get(key) or kind()
        new = kind(*(a + sign * b for a, b in zip(old, delta, strict=True)))
        if any(new):
            result[key] = new
        else:
            result.pop(key, None)
    return result


def team_view(
    summary: TeamSummary,
    *,
    threshold: int,
    week: str,
    weeks: int = 8,
    tracks: Sequence[str] = (),
    previous: TeamSummary | None = None,
    organisation: TeamSummary | None = None,
    published_on: str | None = None,
    history: Sequence[tuple[str, int, Mapping[str, ConfidenceCount]]] = (),
) -> TeamView:
    """What a leader may see of a published snapshot ``summary``.

    ``week`` is the latest closed week, where the weekly series ends (a week still under way
    is never published). ``previous`` is the snapshot before the one that last moved the
    confidence figures, and ``organisation`` the organisation's snapshot: both feed the
    headline comparisons. ``tracks`` lists track ids to show even when hidden, in order;
    other tracks appear only when their count is shown, since listing a hidden one would
    reveal that someone finished it. ``history`` holds (date, answerers, confidence counts) at
    each move of the confidence figures, for calibration over time (each point behind the
    threshold like the current one). Raises ``ValueError`` for a threshold below 3, a
    malformed week or ``weeks < 1``.
    """
    t = check_threshold(threshold)
    window = _week_window(week, weeks)
    members = shown(summary.members, summary.members, t)
    leaders_visible = summary.leaders >= t
    # Leaders' figures are shown as they are (leading by example is meant to be seen), so a
    # leader could subtract them from the team's: protect the rest of the team instead.
    base_members, base_started = (
        (summary.leaders, summary.leaders_started) if leaders_visible else (0, 0)
    )
    others_started = max(0, min(summary.started, summary.members) - base_started)
    others_not = max(0, summary.members - base_members - others_started)
    cells = suppress({"started": others_started, "not started": others_not}, t, members is not None)
    started, not_started = cells["started"], cells["not started"]

    def with_leaders(week: str) -> tuple[int | None, int | None]:
        active, mine = summary.active.get(week, 0), summary.leaders_active.get(week, 0)
        if not leaders_visible:
            return shown(active, active, t), None
        return (active if min(active, active - mine) >= t else None), mine

    trend = tuple(_week_point(summary, w, t, *with_leaders(w)) for w in window)
    confidence = _confidence(summary, t)
    org = (
        team_view(organisation, threshold=t, week=week, weeks=2)
        if organisation is not None
        else None
    )
    return TeamView(
        threshold=t,
        week=week,
        published_on=published_on,
        members=members,
        started=None if started is None else started + base_started,
        not_started=None if not_started is None else not_started + base_members - base_started,
        learning=_learning(summary, t),
        tracks=_tracks(summary, t, tracks),
        skills=tuple(
            _skill_row(summary, skill.value, t, members is not None) for skill in ASSESSED_SKILLS
        ),
        confidence=confidence,
        leaders=LeadersView(
            leaders=shown(summary.leaders, summary.leaders, t),
            started=shown(summary.leaders_started, summary.leaders, t),
            active_last_week=trend[-1].leaders_active,
            challenge_last_week=shown(summary.leaders_challenges.get(week, 0), summary.leaders, t),
        ),
        trend=trend,
        headline=Headline(
            pulse_confidence=Tile(
                trend[-1].pulse_confidence,
                trend[-2].pulse_confidence if len(trend) > 1 else None,
                org.trend[-1].pulse_confidence if org else None,
            ),
            calibration=Tile(
                confidence.calibration,
                _confidence(previous, t).calibration if previous is not None else None,
                org.confidence.calibration if org else None,
            ),
        ),
        calibration_trend=tuple(
            CalibrationPoint(
                when,
                _confidence(
                    TeamSummary(answerers=answerers, confidence=dict(levels)), t
                ).calibration,
            )
            for when, answerers, levels in history
        ),
    )


def _week_window(this_week: str, weeks: int) -> list[str]:
    found = _WEEK.fullmatch(this_week)
    if found is None or weeks < 1:
        raise ValueError(f"need an ISO week like 2026-W48 and weeks >= 1, got {this_week!r}")
    monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    return [iso_week(monday - timedelta(weeks=n)) for n in range(weeks - 1, -1, -1)]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _learning(summary: TeamSummary, t: int) -> LearningView:
    s, n = summary, summary.learners
    # Every answer right (or every one wrong) says what each learner scored: hide it.
    uniform = s.quiz_right in (0, s.quiz_answers)
    return LearningView(
        learners=shown(n, n, t),
        lessons_completed=shown(s.lessons_completed, n, t),
        accuracy_pct=None if uniform else shown(_pct(s.quiz_right, s.quiz_answers), n, t),
        mark_pct=None if uniform else shown(_pct(s.quiz_mark, s.quiz_max_mark), n, t),
    )


def _tracks(summary: TeamSummary, t: int, listed: Sequence[str]) -> tuple[TrackRow, ...]:
    extra = sorted(k for k, n in summary.tracks.items() if n >= t and k not in listed)
    ids = [*dict.fromkeys(listed), *extra]
    return tuple(
        TrackRow(k, shown(summary.tracks.get(k, 0), summary.tracks.get(k, 0), t)) for k in ids
    )


def _skill_row(summary: TeamSummary, skill: str, t: int, members_known: bool) -> SkillRow:
    counts = summary.skills.get(skill, SkillCount())
    groups = {**counts._asdict(), "not_assessed": max(0, summary.members - sum(counts))}
    if dominated(groups, t):
        return SkillRow(skill, None, None, None, None)
    return SkillRow(skill=skill, **suppress(groups, t, members_known))


def _confidence(summary: TeamSummary, t: int) -> ConfidenceView:
    """Calibration over everyone's confidence-rated answers, and per level how many people
    answered at it (people answer at several levels, so these counts overlap)."""
    counts = {
        level: summary.confidence.get(level, ConfidenceCount()) for level in _CONFIDENCE_LEVELS
    }
    visible = suppress({level: c.people for level, c in counts.items()}, t)
    tallies = {Confidence(level): Tally(c.right, c.total) for level, c in counts.items()}
    levels = tuple(
        LevelRow(
            level,
            visible[level],
            *((c.total, _pct(c.right, c.total)) if visible[level] else (None, None)),
        )
        for level, c in counts.items()
    )
    return ConfidenceView(
        answerers=shown(summary.answerers, summary.answerers, t),
        calibration=shown(calibration(tallies).value, summary.answerers, t),
        levels=levels,
    )


def _week_point(
    summary: TeamSummary, week: str, t: int, active: int | None, leaders_active: int | None
) -> WeekPoint:
    pulse = summary.pulse.get(week, PulseCount())
    n = pulse.responses
    caught_cells = {"caught": pulse.caught, "not caught": n - pulse.caught}
    caught = suppress(caught_cells, t, n >= t)
    # An average most people share exactly, or that fewer than t people moved off zero, is
    # their own answer: hide it (dominance); shown averages are rounded.
    level_shown = n >= t and not dominated(pulse.levels(), t)
    minutes_shown = n >= t and n - pulse.no_minutes >= t
    return WeekPoint(
        week=week,
        active=active,
        leaders_active=leaders_active,
        pulse_responses=shown(n, n, t),
        pulse_confidence=round(pulse.confidence / n, 1) if level_shown else None,
        minutes_saved=_nearest(pulse.minutes / n, MINUTES_STEP) if minutes_shown else None,
        caught_error=None if dominated(caught_cells, t) else caught["caught"],
    )


def _nearest(value: float, step: int) -> int:
    return int(step * round(value / step))
