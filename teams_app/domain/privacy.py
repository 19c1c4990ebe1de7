"""What a leader may see of a team: small-number suppression, the view's shape, its CSV form.

Two rules from the privacy design. Primary suppression: a figure is shown only when at least
``threshold`` people contribute to it. Complementary (secondary) suppression: inside a
breakdown whose total the viewer knows, a small hidden cell is never left on its own, since
the total minus the shown cells would give it back; the smallest shown cell is hidden with it.
Two hidden cells only give away their sum, which does not pin down either of them.

:func:`teams_app.domain.team.team_view` applies these rules to a team's counters and fills
the :class:`TeamView` defined here; :func:`csv_rows` flattens a view for export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from teams_app.domain.scoring import Calibration, calibration_label
from teams_app.i18n import N_, _, ngettext

MIN_THRESHOLD = 3
# TRANSLATORS: shown in place of a figure that fewer people than the privacy threshold are
# behind (the tab pages show the same words: keep them identical)
NOT_ENOUGH = N_("not enough responses yet")


def not_enough() -> str:
    """:data:`NOT_ENOUGH` in the reader's language."""
    return _(NOT_ENOUGH)


def check_threshold(threshold: int) -> int:
    """Return ``threshold``, or raise ``ValueError`` when it is below the floor of three."""
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"the privacy threshold must be at least {MIN_THRESHOLD}")
    return threshold


def shown[T](value: T, contributors: int, threshold: int) -> T | None:
    """``value`` when at least ``threshold`` people contribute to it, otherwise ``None``."""
    return value if contributors >= check_threshold(threshold) else None


def suppress(
    groups: Mapping[str, int], threshold: int, total_known: bool = True
) -> dict[str, int | None]:
    """Each group's count, or ``None`` where it must stay hidden.

    Counts below ``threshold`` (zero included) are hidden. When the viewer knows the total of
    the groups (``total_known``), the smallest shown group is hidden too, and again, while a
    hidden group could come back by subtraction: while exactly one group is hidden, or exactly
    one hidden group is not empty and it is below the threshold (an empty group is a poor
    complement: a viewer may well guess that nobody is in it). Ties go by name, so the result
    is deterministic. A breakdown with a known total needs two groups: a lone group *is* the
    total.
    """
    check_threshold(threshold)
    if any(count < 0 for count in groups.values()):
        raise ValueError("group counts cannot be negative")
    if total_known and len(groups) < 2:
        raise ValueError("a breakdown with a known total needs at least two groups")
    hidden = {name for name, count in groups.items() if count < threshold}

    def recoverable() -> bool:
        occupied = [groups[name] for name in hidden if groups[name]]
        return len(hidden) == 1 or (len(occupied) == 1 and occupied[0] < threshold)

    while total_known and len(hidden) < len(groups) and recoverable():
        smallest = min((count, name) for name, count in groups.items() if name not in hidden)
        hidden.add(smallest[1])
    return {name: None if name in hidden else count for name, count in groups.items()}


def dominated(groups: Mapping[str, int], threshold: int) -> bool:
    """Whether all but fewer than ``threshold`` people fall in one group (dominance).

    Such a distribution tells everyone in the big group what each of them answered ("8 of 8
    mastered"), and leaves the few others nearly alone: the whole distribution is hidden.
    """
    check_threshold(threshold)
    total = sum(groups.values())
    return total > 0 and total - max(groups.values()) < threshold


@dataclass(frozen=True)
class LearningView:
    """Lessons and quiz results of the members who completed a lesson (``learners``)."""

    learners: int | None
    lessons_completed: int | None
    accuracy_pct: float | None
    mark_pct: float | None


@dataclass(frozen=True)
class TrackRow:
    """How many members completed a track."""

    track: str
    completed: int | None


@dataclass(frozen=True)
class SkillRow:
    """One row of the skill-gap heatmap: members per assessed level, and those not assessed."""

    skill: str
    gap: int | None
    developing: int | None
    mastered: int | None
    not_assessed: int | None


@dataclass(frozen=True)
class LevelRow:
    """Answers given at one confidence level, and how often they were right."""

    level: str
    people: int | None
    answers: int | None
    accuracy_pct: float | None


@dataclass(frozen=True)
class ConfidenceView:
    """The team's calibration and its accuracy per confidence level."""

    answerers: int | None
    calibration: str | None
    levels: tuple[LevelRow, ...]


@dataclass(frozen=True)
class LeadersView:
    """The leaders' own participation; all ``None`` when there are too few leaders."""

    leaders: int | None
    started: int | None
    active_last_week: int | None
    challenge_last_week: int | None = None  # leaders who did that week's challenge


@dataclass(frozen=True)
class WeekPoint:
    """One ISO week of the trend series; each figure is gated by its own contributors."""

    week: str
    active: int | None
    leaders_active: int | None
    pulse_responses: int | None
    pulse_confidence: float | None
    minutes_saved: float | None
    caught_error: int | None


@dataclass(frozen=True)
class Tile:
    """A headline figure, the same figure for the period before, and the organisation's."""

    now: float | str | None
    before: float | str | None
    organisation: float | str | None


@dataclass(frozen=True)
class Headline:
    """What leaders came for, up front: the team's confidence and its calibration."""

    pulse_confidence: Tile  # the weekly pulse's "confidence using AI" (1-5), last week
    calibration: Tile  # how well confidence matches results


@dataclass(frozen=True)
class CalibrationPoint:
    """Calibration as one snapshot published it (``None``: too few people behind it)."""

    published_on: str
    calibration: str | None


@dataclass(frozen=True)
class TeamView:
    """Everything a leader may see about a team; ``None`` means "not enough responses yet".

    ``week`` is the latest closed week the figures run to; ``published_on`` the snapshot's
    date.
    """

    threshold: int
    week: str
    published_on: str | None
    members: int | None
    started: int | None
    not_started: int | None
    learning: LearningView
    tracks: tuple[TrackRow, ...]
    skills: tuple[SkillRow, ...]
    confidence: ConfidenceView
    leaders: LeadersView
    trend: tuple[WeekPoint, ...]
    headline: Headline
    calibration_trend: tuple[CalibrationPoint, ...] = ()  # oldest first

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists and scalars, ready for ``json.dumps``."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


def plain(value: Any) -> Any:
    """Dataclasses as dicts and tuples as lists, all the way down."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


# The header and the first column (the section) are the export's stable keys, the same in
# every language; the items and the values in words are in the reader's language.
_CSV_HEADER = ["section", "item", "week", "value", "contributors"]
LEVEL_NAMES = {
    # TRANSLATORS: CSV export, after a skill's name: members whose skill level is a gap
    "gap": N_("gap"),
    # TRANSLATORS: CSV export, after a skill's name: members whose skill level is developing
    "developing": N_("developing"),
    # TRANSLATORS: CSV export, after a skill's name: members who mastered the skill
    "mastered": N_("mastered"),
    # TRANSLATORS: CSV export, after a skill's name: members who did not take the skills check
    "not_assessed": N_("not assessed yet"),
}
# Per confidence level: the people who answered at it, and how often they were right.
_CONFIDENCE_ITEMS = {
    "low": (N_("low confidence: people"), N_("low confidence: answers right %")),
    "medium": (N_("medium confidence: people"), N_("medium confidence: answers right %")),
    "high": (N_("high confidence: people"), N_("high confidence: answers right %")),
}


def skill_level_item(skill: str, level: str) -> str:
    """A CSV item for a skill's people at one level: ``Prompting well: gap``."""
    # TRANSLATORS: CSV export item: a skill's name, then its level (gap, developing, ...)
    return _("{skill}: {level}", skill=skill, level=_(LEVEL_NAMES[level]))


def csv_rows(
    view: TeamView, *, skills: Mapping[str, str] = {}, tracks: Mapping[str, str] = {}
) -> list[list[str]]:
    """The view as a flat table: a header, the privacy rule, then one row per figure, under
    the names the page uses (``skills`` and ``tracks`` map ids to them); no person's name
    or id appears."""
    v, lv, cv = view, view.learning, view.confidence
    rows: list[tuple[str, str, str, object, int | None]] = [
        (
            "about",
            ngettext(
                "figures with fewer than {n} person behind them",
                "figures with fewer than {n} people behind them",
                v.threshold,
            ),
            "",
            None,
            None,
        ),
        # TRANSLATORS: CSV export item: the date of the published figures
        ("about", _("figures as of"), "", v.published_on or "", None),
        # TRANSLATORS: CSV export item: how many people are on the team
        ("team", _("members"), "", v.members, None),
        # TRANSLATORS: CSV export item: members who started learning
        ("participation", _("started"), "", v.started, None),
        # TRANSLATORS: CSV export item: members who have not started learning
        ("participation", _("not started"), "", v.not_started, None),
        ("learning", _("people who finished a lesson"), "", lv.learners, None),
        ("learning", _("lessons completed"), "", lv.lessons_completed, lv.learners),
        ("learning", _("quiz answers right %"), "", lv.accuracy_pct, lv.learners),
        ("learning", _("quiz score counting confidence %"), "", lv.mark_pct, lv.learners),
        *(("tracks", tracks.get(r.track, r.track), "", r.completed, None) for r in v.tracks),
        *(
            (
                "skills",
                skill_level_item(skills.get(r.skill, r.skill), level),
                "",
                getattr(r, level),
                None,
            )
            for r in v.skills
            for level in LEVEL_NAMES
        ),
        ("confidence", _("people who rated their confidence"), "", cv.answerers, None),
        (
            "confidence",
            # TRANSLATORS: CSV export item: how well confidence matches accuracy
            _("calibration"),
            "",
            calibration_label(Calibration(cv.calibration)) if cv.calibration else None,
            cv.answerers,
        ),
        *(("confidence", _(_CONFIDENCE_ITEMS[r.level][0]), "", r.people, None) for r in cv.levels),
        *(
            ("confidence", _(_CONFIDENCE_ITEMS[r.level][1]), "", r.accuracy_pct, r.people)
            for r in cv.levels
        ),
        # TRANSLATORS: CSV export item: how many leaders the team has
        ("leaders", _("leaders"), "", v.leaders.leaders, None),
        # TRANSLATORS: CSV export item: leaders who started learning
        ("leaders", _("started"), "", v.leaders.started, None),
        # TRANSLATORS: CSV export item: leaders active in the week
        ("leaders", _("active"), v.week, v.leaders.active_last_week, None),
        ("leaders", _("did the week's challenge"), v.week, v.leaders.challenge_last_week, None),
    ]
    rows += [
        (
            "calibration over time",
            _("calibration"),
            p.published_on,
            calibration_label(Calibration(p.calibration)) if p.calibration else None,
            None,
        )
        for p in v.calibration_trend
    ]
    for p in v.trend:
        rows += [
            # TRANSLATORS: CSV export item: members active in the week
            ("weekly", _("active"), p.week, p.active, None),
            ("weekly", _("leaders active"), p.week, p.leaders_active, None),
            ("weekly", _("pulse answers"), p.week, p.pulse_responses, None),
            (
                "weekly",
                _("confidence using AI (1-5)"),
                p.week,
                p.pulse_confidence,
                p.pulse_responses,
            ),
            ("weekly", _("minutes saved per person"), p.week, p.minutes_saved, p.pulse_responses),
            ("weekly", _("caught an AI error"), p.week, p.caught_error, None),
        ]
    hidden = not_enough()
    return [list(_CSV_HEADER)] + [
        [
            section,
            spreadsheet_safe(item),
            week,
            hidden if value is None else str(value),
            "" if value is None or n is None else str(n),
        ]
        for section, item, week, value, n in rows
    ]


def spreadsheet_safe(text: str) -> str:
    """Keep a spreadsheet from reading a label (a track id from content files) as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
