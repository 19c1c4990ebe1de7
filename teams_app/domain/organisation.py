"""The programme admins' organisation view: adoption, participation and outcomes.

It is built from the organisation's published snapshot (the sum of its shards' snapshots,
released together under the rules of :mod:`teams_app.domain.publication`), and every figure
follows the team view's privacy rules (:func:`teams_app.domain.team.team_view`): counts of
people (the funnel, weekly challenges) need an organisation of at least ``threshold`` people
and at least ``threshold`` people in the count, like a team's track counts; results follow
the threshold, complementary suppression and dominance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from teams_app.domain.privacy import (
    LEVEL_NAMES,
    SkillRow,
    TeamView,
    csv_rows,
    not_enough,
    plain,
    skill_level_item,
    spreadsheet_safe,
)
from teams_app.domain.team import ConfidenceCount, TeamSummary, team_view
from teams_app.i18n import _, ngettext

WEEKS = 12
OUTCOME_WEEKS = 4
WEEKS_PER_MONTH = 52 / 12


def hours_method(weeks: int = OUTCOME_WEEKS) -> str:
    """How the hours saved per month are estimated, in the reader's language."""
    return ngettext(
        "Hours saved per month: for each of the last {n} closed week with enough pulse "
        "answers, the average minutes saved per answer times the number of answers; the mean of "
        "those weeks, times 52/12 weeks a month, divided by 60. Only people who answered the "
        "pulse count: nothing is extrapolated to people who did not answer.",
        "Hours saved per month: for each of the last {n} closed weeks with enough pulse "
        "answers, the average minutes saved per answer times the number of answers; the mean of "
        "those weeks, times 52/12 weeks a month, divided by 60. Only people who answered the "
        "pulse count: nothing is extrapolated to people who did not answer.",
        weeks,
    )


@dataclass(frozen=True)
class FunnelStep:
    """How many people reached one step of adoption."""

    step: str
    label: str
    people: int | None


@dataclass(frozen=True)
class WeekCount:
    """One week's count of a participation figure."""

    week: str
    people: int | None


@dataclass(frozen=True)
class DepartmentRow:
    """One department's skill gaps (its people per level of each assessed skill)."""

    department: str
    members: int
    skills: tuple[SkillRow, ...]


@dataclass(frozen=True)
class OrganisationView:
    """What a programme admin sees; ``None`` means "not enough responses yet"."""

    view: TeamView
    funnel: tuple[FunnelStep, ...]
    challenges: tuple[WeekCount, ...]
    hours_saved_per_month: int | None
    hours_method: str
    departments: tuple[DepartmentRow, ...] = ()  # departments with enough people only

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists and scalars, ready for ``json.dumps``."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


def organisation_view(
    summary: TeamSummary,
    *,
    threshold: int,
    week: str,
    foundation: Sequence[str],
    tracks: Sequence[str] = (),
    previous: TeamSummary | None = None,
    published_on: str | None = None,
    departments: Sequence[tuple[str, TeamSummary]] = (),
    history: Sequence[tuple[str, int, Mapping[str, ConfidenceCount]]] = (),
) -> OrganisationView:
    """The organisation's figures from its published snapshot; ``foundation`` lists the
    foundation track ids (everyone's first track). ``departments`` are the departments'
    published snapshots (from the directory's department of each person): one with fewer
    than ``threshold`` people is left out, and each skill row follows the team view's rules
    (threshold, complementary suppression, dominance)."""
    view = team_view(
        summary,
        threshold=threshold,
        week=week,
        weeks=WEEKS,
        tracks=tracks,
        previous=previous,
        published_on=published_on,
        history=history,
    )
    big_enough = summary.members >= view.threshold

    def participation(n: int) -> int | None:
        """A count of people, under the team view's rule for track counts: shown for a big
        enough organisation when at least the threshold of people are in it."""
        return n if big_enough and n >= view.threshold else None

    foundation_done = max((summary.tracks.get(t, 0) for t in foundation), default=0)
    funnel = (
        # TRANSLATORS: the first step of the adoption funnel: people who wrote to the bot
        FunnelStep("installed", _("Talked to AI Ready"), participation(summary.members)),
        FunnelStep("started", _("Answered a first question"), participation(summary.started)),
        FunnelStep("assessed", _("Took the skills check"), participation(summary.assessed)),
        FunnelStep("foundation", _("Finished the foundation"), participation(foundation_done)),
        FunnelStep(
            "role_track", _("Finished a role track"), participation(summary.role_tracks_done)
        ),
    )
    challenges = tuple(
        WeekCount(p.week, participation(summary.challenges.get(p.week, 0))) for p in view.trend
    )
    weekly_hours = [
        p.minutes_saved * p.pulse_responses / 60
        for p in view.trend[-OUTCOME_WEEKS:]
        if p.minutes_saved is not None and p.pulse_responses is not None
    ]
    hours = round(sum(weekly_hours) / len(weekly_hours) * WEEKS_PER_MONTH) if weekly_hours else None
    return OrganisationView(
        view=view,
        funnel=funnel,
        challenges=challenges,
        hours_saved_per_month=hours,  # each week in it was already behind the threshold
        hours_method=hours_method(),
        departments=tuple(
            DepartmentRow(name, group.members, _skills(group, view.threshold, week))
            for name, group in sorted(departments, key=lambda d: d[0].casefold())
            if group.members >= view.threshold
        ),
    )


def _skills(group: TeamSummary, threshold: int, week: str) -> tuple[SkillRow, ...]:
    return team_view(group, threshold=threshold, week=week, weeks=1).skills


def organisation_csv(
    org: OrganisationView, *, skills: Mapping[str, str] = {}, tracks: Mapping[str, str] = {}
) -> list[list[str]]:
    """The organisation view as CSV rows: the team view's rows plus the funnel, the weekly
    challenges and the hours saved, under the page's names."""
    rows = csv_rows(org.view, skills=skills, tracks=tracks)
    hidden = not_enough()

    def cell(value: object) -> str:
        return hidden if value is None else str(value)

    rows += [["adoption", step.label, "", cell(step.people), ""] for step in org.funnel]
    for d in org.departments:
        label = spreadsheet_safe(d.department)
        # TRANSLATORS: CSV export item: how many people a department has
        rows.append(
            ["departments", _("{department}: members", department=label), "", str(d.members), ""]
        )
        rows += [
            [
                "departments",
                # TRANSLATORS: CSV export item: a department, then a skill and its level
                _(
                    "{department}: {skill_and_level}",
                    department=label,
                    skill_and_level=skill_level_item(skills.get(r.skill, r.skill), level),
                ),
                "",
                cell(getattr(r, level)),
                "",
            ]
            for r in d.skills
            for level in LEVEL_NAMES
        ]
    # TRANSLATORS: CSV export item: people who did the week's challenge
    did = _("did the challenge")
    rows += [["weekly", did, c.week, cell(c.people), ""] for c in org.challenges]
    # TRANSLATORS: CSV export item
    hours = _("hours saved per month")
    rows.append(["outcomes", hours, "", cell(org.hours_saved_per_month), ""])
    # TRANSLATORS: CSV export item: followed by the method in a sentence or two
    rows.append(["about", _("how hours saved are estimated"), "", org.hours_method, ""])
    return rows
