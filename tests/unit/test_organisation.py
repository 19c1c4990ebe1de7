"""The programme admins' organisation view: the adoption funnel, weekly challenges, hours saved
per month with its stated method, and the CSV export."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teams_app.domain.organisation import (
    OUTCOME_WEEKS,
    WEEKS,
    OrganisationView,
    organisation_csv,
    organisation_view,
)
from teams_app.domain.privacy import NOT_ENOUGH
from teams_app.domain.team import Contribution, TeamSummary

WEEK = "2026-W48"  # the latest closed week
FOUNDATION = ("foundation", "foundation-short")


def person(**changes: Any) -> Contribution:
    return Contribution(**changes)


def organisation(*members: Contribution) -> TeamSummary:
    summary = TeamSummary.empty()
    for one in members:
        summary = summary.add(one)
    return summary


def view_of(summary: TeamSummary, threshold: int = 3, **options: Any) -> OrganisationView:
    return organisation_view(
        summary, threshold=threshold, week=WEEK, foundation=FOUNDATION, **options
    )


def funnel(org: OrganisationView) -> dict[str, int | None]:
    return {step.step: step.people for step in org.funnel}


ADOPTERS = [
    *[person()] * 4,  # talked to AI Ready, nothing more
    *[person(started=True)] * 3,
    *[person(started=True, skill_levels={"prompting": "gap"})] * 2,
    person(
        started=True, skill_levels={"prompting": "gap"}, completed_tracks=frozenset(FOUNDATION[:1])
    ),
    person(
        started=True,
        skill_levels={"prompting": "mastered"},
        completed_tracks=frozenset({FOUNDATION[1], "hr"}),
        role_track_done=True,
    ),
]


def test_the_funnel_counts_each_step_of_adoption() -> None:
    org = view_of(organisation(*ADOPTERS))
    assert [step.step for step in org.funnel] == [
        "installed", "started", "assessed", "foundation", "role_track",
    ]  # fmt: skip
    assert [step.label for step in org.funnel] == [
        "Talked to AI Ready",
        "Answered a first question",
        "Took the skills check",
        "Finished the foundation",
        "Finished a role track",
    ]
    # Each foundation track counts on its own: the larger one is the step's figure. A step
    # with fewer than k people reads "not enough" (the team view's rule for track counts).
    assert funnel(org) == {
        "installed": 11, "started": 7, "assessed": 4, "foundation": None, "role_track": None,
    }  # fmt: skip
    assert funnel(view_of(organisation(*ADOPTERS), threshold=4))["assessed"] == 4


def test_participation_is_shown_only_for_an_organisation_of_at_least_k_people() -> None:
    few = view_of(organisation(*ADOPTERS[-3:]), threshold=5)
    assert set(funnel(few).values()) == {None}
    assert {c.people for c in few.challenges} == {None}
    enough = view_of(organisation(*ADOPTERS[-5:]), threshold=5)
    assert funnel(enough)["installed"] == 5
    # Once the organisation is big enough, each count still needs k people behind it.
    assert funnel(enough)["role_track"] is None
    assert enough.view.members == 5


def test_the_weekly_challenges_run_with_the_series() -> None:
    did = [person(challenge_weeks=frozenset({WEEK, "2026-W46"})) for _ in range(3)]
    org = view_of(organisation(*did, person(challenge_weeks=frozenset({WEEK})), person()))
    assert len(org.challenges) == WEEKS == len(org.view.trend)
    assert [c.week for c in org.challenges] == [p.week for p in org.view.trend]
    assert org.challenges[-1].week == WEEK
    assert {c.week: c.people for c in org.challenges[-3:]} == {
        "2026-W46": 3, "2026-W47": None, WEEK: 4,
    }  # fmt: skip


def pulse_answers(week: str, *minutes: int) -> list[Contribution]:
    return [
        person(pulse={week: (level, m, False)})
        for level, m in zip([1, 2, 3, 4, 5] * 4, minutes, strict=False)
    ]


def test_hours_saved_per_month_from_the_last_closed_weeks() -> None:
    org = view_of(
        organisation(
            *pulse_answers(WEEK, 30, 30, 30, 60, 60, 60),  # 45 minutes average: 4.5 hours
            *pulse_answers("2026-W47", 30, 30, 30, 30, 30, 30),  # 30 minutes: 3 hours
            *pulse_answers("2026-W46", 600, 0, 0, 0),  # one person saved time: hidden
            *pulse_answers("2026-W44", 600, 600, 600),  # before the last four weeks
        )
    )
    trend = {p.week: p for p in org.view.trend}
    assert (trend[WEEK].minutes_saved, trend["2026-W47"].minutes_saved) == (45, 30)
    assert trend["2026-W46"].minutes_saved is None
    # The weeks with a figure are averaged, (4.5 + 3) / 2 hours a week; times 52/12 weeks.
    assert org.hours_saved_per_month == round(3.75 * 52 / 12) == 16
    assert f"last {OUTCOME_WEEKS} closed weeks" in org.hours_method
    assert "52/12" in org.hours_method
    assert "nothing is extrapolated" in org.hours_method


def test_hours_saved_are_hidden_without_a_week_with_enough_answers() -> None:
    org = view_of(organisation(*pulse_answers(WEEK, 30, 30), *[person()] * 5))
    assert org.hours_saved_per_month is None
    assert "Hours saved per month" in org.hours_method  # the method is stated regardless


def test_the_organisation_csv_adds_the_funnel_challenges_and_hours() -> None:
    org = view_of(
        organisation(*ADOPTERS, *pulse_answers(WEEK, 30, 30, 30, 60, 60, 60)),
        tracks=["foundation"],
        published_on="2026-11-30",
    )
    rows = organisation_csv(org, tracks={"foundation": "AI foundations"})
    assert rows[0] == ["section", "item", "week", "value", "contributors"]
    assert all(len(row) == 5 for row in rows)
    cells = {(s, i, w): v for s, i, w, v, _n in rows[1:]}
    assert len(cells) == len(rows) - 1
    assert cells[("about", "figures with fewer than 3 people behind them", "")] == NOT_ENOUGH
    assert cells[("about", "figures as of", "")] == "2026-11-30"
    assert cells[("adoption", "Talked to AI Ready", "")] == "17"
    assert cells[("adoption", "Finished a role track", "")] == NOT_ENOUGH  # 1 person
    assert cells[("weekly", "did the challenge", WEEK)] == NOT_ENOUGH  # nobody
    assert sum(s == "weekly" and i == "did the challenge" for s, i, _w in cells) == WEEKS
    assert cells[("outcomes", "hours saved per month", "")] == str(org.hours_saved_per_month)
    assert cells[("about", "how hours saved are estimated", "")] == org.hours_method
    assert cells[("tracks", "AI foundations", "")] == NOT_ENOUGH  # one person
    hidden = organisation_csv(view_of(organisation(person(), person())))
    assert [r[3] for r in hidden if r[0] in ("adoption", "outcomes")] == [NOT_ENOUGH] * 6


@pytest.mark.parametrize("threshold", [3, 5])
def test_the_organisation_view_is_plain_data(threshold: int) -> None:
    org = view_of(organisation(*ADOPTERS), threshold=threshold, previous=TeamSummary.empty())
    data = json.loads(json.dumps(org.to_dict()))
    assert set(data) == {
        "view", "funnel", "challenges", "hours_saved_per_month", "hours_method", "departments",
    }  # fmt: skip
    assert data["view"]["threshold"] == threshold
    assert len(data["view"]["trend"]) == WEEKS


def test_departments_with_too_few_people_are_left_out_and_rows_follow_the_rules() -> None:
    def placed(level: str) -> Contribution:
        return person(started=True, skill_levels={"prompting": level})

    finance = organisation(*(placed(lv) for lv in ["gap"] * 3 + ["mastered"] * 3))
    everyone_mastered = organisation(*(placed("mastered") for _ in range(4)))
    small = organisation(placed("gap"), placed("gap"))
    org = view_of(
        organisation(),
        departments=[("finance", finance), ("=HR", everyone_mastered), ("Legal", small)],
    )
    assert [(d.department, d.members) for d in org.departments] == [
        ("=HR", 4),
        ("finance", 6),
    ]  # sorted by name whatever the case; Legal (2 people) left out
    hr, fin = org.departments
    prompting = {r.skill: r for r in fin.skills}["prompting"]
    assert (prompting.gap, prompting.mastered) == (3, 3)
    assert all(r.mastered is None for r in hr.skills), "all in one cell: dominance hides it"
    rows = organisation_csv(org)
    assert ["departments", "'=HR: members", "", "4", ""] in rows, "no formula in a spreadsheet"
    assert not any(row[1].startswith("Legal") for row in rows)
