"""The leader's team view: additive counters, small-number suppression and the CSV export.

Examples first, then properties: no shown figure is backed by fewer than ``threshold`` people,
no hidden cell comes back by subtraction, no distribution where all but a few share one answer
is shown (dominance), counters add and remove exactly, and any summary gives a view.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teams_app.domain.content import ASSESSED_SKILLS, Curriculum, Role, SkillId
from teams_app.domain.learner import LearnerState, LessonRecord, SkillLevel, SkillResult
from teams_app.domain.privacy import NOT_ENOUGH, Headline, Tile, dominated, suppress
from teams_app.domain.scoring import CALIBRATION_LABELS, Calibration, Confidence, Tally
from teams_app.domain.team import (
    ConfidenceCount,
    Contribution,
    TeamSummary,
    TeamView,
    contribution_of,
    csv_rows,
    team_view,
)

WEEK = "2026-W48"  # the latest closed week: where the weekly series ends
WEEKS = ("2026-W45", "2026-W46", "2026-W47", WEEK)
BEFORE = "2026-W47"
SKILLS = tuple(skill.value for skill in ASSESSED_SKILLS)
LEVELS = tuple(level.value for level in Confidence)
PLACEMENTS = tuple(level.value for level in SkillLevel)
TRACKS = ("foundation", "hr", "leaders")


def member(**changes: Any) -> Contribution:
    """An engaged member: active in WEEK, two lessons, assessed, answered WEEK's pulse."""
    values: dict[str, Any] = {
        "started": True,
        "active_weeks": frozenset({WEEK}),
        "completed_tracks": frozenset({"foundation"}),
        "lessons_completed": 2,
        "quiz_right": 5,
        "quiz_answers": 6,
        "quiz_mark": 11,
        "quiz_max_mark": 18,
        "confidence": {"medium": (4, 5), "high": (1, 1)},
        "skill_levels": dict.fromkeys(SKILLS, "developing"),
        "pulse": {WEEK: (4, 30, True)},
    }
    return Contribution(**(values | changes))


def team(*members: Contribution) -> TeamSummary:
    summary = TeamSummary.empty()
    for one in members:
        summary = summary.add(one)
    return summary


def view_of(summary: TeamSummary, threshold: int = 3, **options: Any) -> TeamView:
    return team_view(summary, threshold=threshold, week=WEEK, **options)


def leaves(tree: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar in a ``to_dict()`` tree, with a dotted path."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, f"{path}.{key}" if path else key)
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from leaves(value, f"{path}[{index}]")
    else:
        yield path, tree


def numbers(view: TeamView) -> dict[str, int | float | None]:
    """The view's figures (ints, floats or hidden), without its settings, dates and labels."""
    return {
        path: value
        for path, value in leaves(view.to_dict())
        if path not in ("threshold", "published_on") and not isinstance(value, str)
    }


def pulses(week: str, *answers: tuple[int, int]) -> list[Contribution]:
    """Members who answered ``week``'s pulse: (confidence 1-5, minutes saved) each."""
    return [
        member(active_weeks=frozenset({week}), pulse={week: (level, minutes, False)})
        for level, minutes in answers
    ]


def about(rows: list[list[str]]) -> dict[str, str]:
    """The CSV's "about" rows: what its figures are, item to value."""
    return {item: value for section, item, _week, value, _n in rows[1:] if section == "about"}


def skill_row(view: TeamView, skill: str) -> dict[str, int | None]:
    row = next(r for r in view.skills if r.skill == skill)
    return {"gap": row.gap, "developing": row.developing, "mastered": row.mastered,
            "not assessed": row.not_assessed}  # fmt: skip


# Examples ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [-1, 0, 2])
def test_a_threshold_below_three_is_refused(threshold: int) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        team_view(team(member()), threshold=threshold, week=WEEK)
    with pytest.raises(ValueError, match="at least 3"):
        suppress({"a": 5, "b": 5}, threshold)


def test_a_three_person_team_shows_nothing_numeric() -> None:
    view = view_of(team(member(), member(), member(leader=True)), threshold=5)
    figures = numbers(view)
    assert figures  # the view does list its figures...
    assert all(value is None for value in figures.values()), figures  # ...all hidden
    assert view.confidence.calibration is None
    assert view.headline == Headline(Tile(None, None, None), Tile(None, None, None))
    rows = csv_rows(view)
    values = [value for section, _item, _week, value, _n in rows[1:] if section != "about"]
    assert set(values) == {NOT_ENOUGH}
    assert about(rows) == {
        "figures with fewer than 5 people behind them": NOT_ENOUGH,
        "figures as of": "",  # never published
    }


def test_a_six_person_team_shows_participation() -> None:
    quiet = Contribution()
    view = view_of(team(member(), member(), member(), quiet, quiet, quiet))
    assert (view.members, view.started, view.not_started) == (6, 3, 3)
    assert view.trend[-1].active == 3
    assert view.trend[-2].active is None  # nobody was active last week
    assert view.learning.learners == 3
    assert view.learning.lessons_completed == 6
    assert view.learning.accuracy_pct == pytest.approx(83.3)
    week = view.trend[-1]
    # Three answers, but all three at 4: the average is each one's own answer (dominance).
    assert (week.pulse_responses, week.pulse_confidence) == (3, None)
    assert week.minutes_saved == 30  # three people saved time: enough
    # All three caught an error: "did not catch" is empty, so both cells stay hidden.
    assert week.caught_error is None


def test_an_empty_group_still_needs_a_complement() -> None:
    # Everybody started: "not started" (0) is hidden, so "started" would equal the member
    # count; it is hidden as its complement.
    view = view_of(team(*[member()] * 6))
    assert view.members == 6
    assert (view.started, view.not_started) == (None, None)


def test_not_started_is_shown_only_as_a_large_enough_count() -> None:
    view = view_of(team(*[member()] * 5, *[Contribution()] * 5), threshold=5)
    assert (view.started, view.not_started) == (5, 5)
    view = view_of(team(*[member()] * 8, *[Contribution()] * 2), threshold=3)
    # Two people have not started: too few, and "started" would give it away (10 - 8).
    assert (view.members, view.started, view.not_started) == (10, None, None)
    assert "not started" not in json.dumps(view.to_dict())  # a count, never a list of people


def test_one_small_skill_cell_forces_a_second_one_hidden() -> None:
    levels = ["gap"] * 5 + ["developing"] * 3 + ["mastered"] * 2
    members = [member(skill_levels={"prompting": level}) for level in levels]
    view = view_of(team(*members))
    # Mastered (2) is too small; "not assessed" (0) is hidden too, but an empty cell is a poor
    # complement (a leader may know everybody took the assessment), so developing goes as well.
    assert skill_row(view, "prompting") == {
        "gap": 5, "developing": None, "mastered": None, "not assessed": None,
    }  # fmt: skip
    # Nobody was placed on the other skills: "10 of 10 not assessed" would tell each member
    # they are all in one cell (dominance), so the whole row is hidden.
    assert skill_row(view, "ai-literacy") == {
        "gap": None, "developing": None, "mastered": None, "not assessed": None,
    }  # fmt: skip


def test_skill_cells_big_enough_are_all_shown() -> None:
    levels = ["gap"] * 3 + ["developing"] * 4 + ["mastered"] * 3
    members = [member(skill_levels={"prompting": level}) for level in levels]
    view = view_of(team(*members, *[Contribution()] * 3))
    assert skill_row(view, "prompting") == {
        "gap": 3, "developing": 4, "mastered": 3, "not assessed": 3,
    }  # fmt: skip


def test_the_weekly_series_ends_at_the_given_closed_week_and_hides_each_small_point() -> None:
    def busy(level: int) -> Contribution:
        return member(
            active_weeks=frozenset({"2026-W46", WEEK}), pulse={"2026-W46": (level, 60, False)}
        )

    # Four different answers: no level holds all but fewer than three of them.
    view = view_of(team(busy(1), busy(2), busy(4), busy(5), member(), member()), weeks=4)
    assert [p.week for p in view.trend] == ["2026-W45", "2026-W46", "2026-W47", WEEK]
    assert view.week == WEEK  # the series ends at the week given: a closed one
    assert [p.active for p in view.trend] == [None, 4, None, 6]
    assert [p.pulse_responses for p in view.trend] == [None, 4, None, None]
    assert view.trend[1].pulse_confidence == 3.0
    assert view.trend[1].minutes_saved == 60
    assert view.trend[3].pulse_confidence is None  # two answers in WEEK: too few


def test_the_weekly_series_crosses_a_year_with_53_weeks() -> None:
    view = team_view(TeamSummary.empty(), threshold=3, week="2027-W02", weeks=4)
    assert [p.week for p in view.trend] == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]


@pytest.mark.parametrize("bad", ["2026-48", "2026-W54", "2026-W00", "W48", ""])
def test_a_malformed_week_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        team_view(TeamSummary.empty(), threshold=3, week=bad)


def test_leaders_are_shown_only_when_there_are_enough_of_them() -> None:
    idle_leader = Contribution(leader=True)
    few = view_of(team(*[member()] * 6, member(leader=True), idle_leader))
    assert (few.leaders.leaders, few.leaders.started, few.leaders.active_last_week) == (
        None, None, None,
    )  # fmt: skip
    assert few.trend[-1].leaders_active is None
    enough = view_of(team(*[member()] * 6, member(leader=True), member(leader=True), idle_leader))
    assert (enough.leaders.leaders, enough.leaders.started) == (3, 2)
    assert enough.leaders.active_last_week == 2


def test_the_leaders_figures_cannot_be_subtracted_from_the_team_figures() -> None:
    leaders = [member(leader=True)] * 3
    one_other = member()
    others_idle = [Contribution()] * 6
    view = view_of(team(*leaders, one_other, *others_idle))
    assert view.leaders.active_last_week == 3
    # Four people were active, but one of them is not a leader: 4 - 3 would single them out.
    assert view.trend[-1].active is None
    # Likewise started (4) minus the leaders who started (3).
    assert view.started is None
    with_more = view_of(team(*leaders, *[member()] * 3, *others_idle))
    assert (with_more.trend[-1].active, with_more.started, with_more.not_started) == (6, 6, 6)


def test_one_busy_learner_does_not_make_a_lesson_total() -> None:
    view = view_of(team(member(lessons_completed=8), *[Contribution()] * 5))
    assert view.members == 6
    assert dataclasses.astuple(view.learning) == (None, None, None, None)


def test_quiz_and_calibration_need_enough_answerers() -> None:
    sure_and_wrong = member(confidence={"high": (1, 4)})
    view = view_of(team(*[sure_and_wrong] * 3))
    assert view.confidence.answerers == 3
    assert view.confidence.calibration == Calibration.OVER.value
    high = next(r for r in view.confidence.levels if r.level == "high")
    assert (high.people, high.answers, high.accuracy_pct) == (3, 12, 25.0)
    assert {r.level: r.people for r in view.confidence.levels} == {
        "low": None, "medium": None, "high": 3,
    }  # fmt: skip
    assert view_of(team(*[sure_and_wrong] * 2)).confidence.calibration is None


def test_tracks_listed_by_the_caller_appear_even_when_hidden() -> None:
    view = view_of(team(*[member()] * 3, member(completed_tracks=frozenset({"hr"}))))
    assert [(r.track, r.completed) for r in view.tracks] == [("foundation", 3)]  # hr: hidden
    listed = view_of(team(*[member()] * 3), tracks=["hr", "foundation"])
    assert [(r.track, r.completed) for r in listed.tracks] == [("hr", None), ("foundation", 3)]


def test_a_skill_everyone_shares_is_hidden_whole() -> None:
    # "8 of 8 mastered" tells each member what the others scored: dominance hides the row.
    all_mastered = view_of(team(*[member(skill_levels={"prompting": "mastered"})] * 8))
    assert skill_row(all_mastered, "prompting") == dict.fromkeys(
        ("gap", "developing", "mastered", "not assessed")
    )
    # All but fewer than k in one cell leaves the few nearly alone: hidden as well.
    levels = ["mastered"] * 7 + ["gap"] * 2
    nearly = view_of(team(*[member(skill_levels={"prompting": lv}) for lv in levels]))
    assert set(skill_row(nearly, "prompting").values()) == {None}
    # With k people outside the biggest cell the row shows (the empty cells stay hidden).
    levels = ["mastered"] * 5 + ["gap"] * 3
    mixed = view_of(team(*[member(skill_levels={"prompting": lv}) for lv in levels]))
    assert skill_row(mixed, "prompting") == {
        "gap": 3, "developing": None, "mastered": 5, "not assessed": None,
    }  # fmt: skip


def test_the_pulse_average_is_hidden_when_all_but_a_few_gave_the_same_answer() -> None:
    four_at_4 = view_of(team(*pulses(WEEK, (4, 0), (4, 0), (4, 0), (4, 0), (2, 0), (2, 0))))
    assert four_at_4.trend[-1].pulse_responses == 6
    assert four_at_4.trend[-1].pulse_confidence is None  # only two answered otherwise
    three_each = view_of(team(*pulses(WEEK, (4, 0), (4, 0), (4, 0), (2, 0), (2, 0), (2, 0))))
    assert three_each.trend[-1].pulse_confidence == 3.0
    assert three_each.headline.pulse_confidence.now == 3.0
    spread = view_of(team(*pulses(WEEK, (1, 0), (2, 0), (3, 0), (5, 0), (5, 0))))
    assert spread.trend[-1].pulse_confidence == 3.2  # 16 / 5


def test_minutes_saved_need_k_people_who_saved_time_and_are_rounded_to_five() -> None:
    two_saved = view_of(team(*pulses(WEEK, (3, 60), (3, 45), (2, 0), (2, 0), (4, 0))))
    assert two_saved.trend[-1].pulse_responses == 5
    assert two_saved.trend[-1].minutes_saved is None  # 105 minutes between two people
    three_saved = view_of(team(*pulses(WEEK, (3, 10), (3, 20), (2, 40), (2, 0), (4, 0))))
    assert three_saved.trend[-1].minutes_saved == 15  # 70 / 5 = 14, to the nearest 5
    assert isinstance(three_saved.trend[-1].minutes_saved, int)
    more = view_of(team(*pulses(WEEK, (3, 15), (3, 15), (2, 20), (2, 0))))
    assert more.trend[-1].minutes_saved == 10  # 50 / 4 = 12.5: halves go to the even five
    up = view_of(team(*pulses(WEEK, (3, 15), (3, 15), (2, 25), (2, 0))))
    assert up.trend[-1].minutes_saved == 15  # 55 / 4 = 13.75


@pytest.mark.parametrize("right", [0, 6])
def test_quiz_results_are_hidden_when_every_answer_was_right_or_every_one_wrong(
    right: int,
) -> None:
    uniform = view_of(team(*[member(quiz_right=right, quiz_answers=6)] * 4))
    assert uniform.learning.learners == 4
    assert uniform.learning.lessons_completed == 8  # counts stay
    assert (uniform.learning.accuracy_pct, uniform.learning.mark_pct) == (None, None)
    one_differs = view_of(
        team(*[member(quiz_right=right, quiz_answers=6)] * 3, member(quiz_right=3))
    )
    assert one_differs.learning.accuracy_pct is not None
    assert one_differs.learning.mark_pct is not None


def test_the_headline_sets_this_week_beside_the_week_before_and_the_organisation() -> None:
    sure_and_wrong = {"high": (1, 4)}
    before_levels, now_levels = (2, 2, 3, 3, 4, 4), (3, 3, 4, 4, 5, 5)
    mine = [
        member(pulse={BEFORE: (b, 20, False), WEEK: (n, 20, False)})
        for b, n in zip(before_levels, now_levels, strict=True)
    ]
    others = [
        member(pulse={WEEK: (n, 0, False)}, confidence={"high": (0, 4)}) for n in (1, 1, 2, 2, 2, 2)
    ]
    previous = team(*[member(confidence=sure_and_wrong)] * 6)
    view = view_of(team(*mine), previous=previous, organisation=team(*mine, *others))
    assert view.headline.pulse_confidence == Tile(now=4.0, before=3.0, organisation=2.8)  # 34/12
    assert view.headline.calibration == Tile(
        now=Calibration.CALIBRATED.value,
        before=Calibration.OVER.value,
        organisation=Calibration.OVER.value,  # 6 right of 30 sure answers
    )
    # Without a previous snapshot or an organisation there is nothing to compare with.
    alone = view_of(team(*mine))
    assert alone.headline.pulse_confidence == Tile(4.0, 3.0, None)
    assert alone.headline.calibration == Tile(Calibration.CALIBRATED.value, None, None)
    # Each side of a comparison follows the same rules: a small previous snapshot is hidden.
    small = view_of(team(*mine), previous=team(member(confidence=sure_and_wrong)))
    assert small.headline.calibration.before is None
    # A one-week series has no "before".
    one_week = view_of(team(*mine), weeks=1)
    assert one_week.headline.pulse_confidence == Tile(4.0, None, None)


CSV_ITEMS = {
    *("members", "started", "not started", "people who finished a lesson", "lessons completed"),
    *("quiz answers right %", "quiz score counting confidence %"),
    *("people who rated their confidence", "calibration", "leaders", "active"),
    "did the week's challenge",
    *("leaders active", "pulse answers", "confidence using AI (1-5)", "minutes saved per person"),
    "caught an AI error",
    *TRACKS,
    *(f"{skill}: {level}" for skill in SKILLS for level in (*PLACEMENTS, "not assessed yet")),
    *(f"{level} confidence: {what}" for level in LEVELS for what in ("people", "answers right %")),
}


def test_the_csv_matches_the_view_and_names_no_one() -> None:
    levels = ["gap"] * 3 + ["developing"] * 4 + ["mastered"] * 3
    members = [
        member(skill_levels={"prompting": lv}, leader=i < 3, pulse={WEEK: (2 + i % 3, 30, True)})
        for i, lv in enumerate(levels)
    ]
    view = view_of(
        team(*members, *[Contribution()] * 3),
        tracks=["foundation", "hr"],
        published_on="2026-11-30",
    )
    rows = csv_rows(view)
    assert rows[0] == ["section", "item", "week", "value", "contributors"]
    assert all(len(row) == 5 for row in rows)
    assert about(rows) == {
        "figures with fewer than 3 people behind them": NOT_ENOUGH,
        "figures as of": "2026-11-30",
    }
    cells = {(s, i, w): (v, n) for s, i, w, v, n in rows[1:] if s != "about"}
    assert len(cells) == len(rows) - 3  # one row per figure
    assert cells[("team", "members", "")] == ("13", "")
    assert cells[("participation", "started", "")] == ("10", "")
    assert cells[("participation", "not started", "")] == ("3", "")
    assert cells[("skills", "prompting: developing", "")] == ("4", "")
    assert cells[("skills", "prompting: not assessed yet", "")] == ("3", "")
    accuracy = cells[("learning", "quiz answers right %", "")]
    assert accuracy == (str(view.learning.accuracy_pct), "10")
    assert cells[("tracks", "hr", "")] == (NOT_ENOUGH, "")
    assert cells[("weekly", "active", WEEK)] == (str(view.trend[-1].active), "")
    assert cells[("weekly", "confidence using AI (1-5)", WEEK)] == ("2.9", "10")  # 29 / 10
    assert cells[("weekly", "minutes saved per person", WEEK)] == ("30", "10")
    assert cells[("leaders", "started", "")] == ("3", "")
    assert cells[("leaders", "active", WEEK)] == ("3", "")
    assert cells[("confidence", "calibration", "")] == ("Calibrated", "10")
    # One row per figure of the view, hidden where it is. Not in the export: the headline,
    # which repeats the last week's confidence and the calibration next to comparisons, and
    # each level's number of answers (which the page shows in its "Answers" column).
    figures = {
        path: value
        for path, value in numbers(view).items()
        if not path.startswith("headline.") and not path.endswith(".answers")
    }
    values = [*figures.values(), view.confidence.calibration]
    assert len(cells) == len(values)
    assert sum(v == NOT_ENOUGH for v, _ in cells.values()) == values.count(None)
    # Nothing but figures, fixed labels and content ids: no name, no id, no free text.
    labels = set(CALIBRATION_LABELS.values())
    for (_section, item, week), (value, contributors) in cells.items():
        assert value in labels or value == NOT_ENOUGH or float(value) is not None
        assert contributors == "" or int(contributors) >= view.threshold
        assert week in ("", *[p.week for p in view.trend])
        assert item in CSV_ITEMS, item
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    assert "not enough responses yet" in text.getvalue()


def test_the_csv_uses_the_names_it_is_given_and_states_the_threshold() -> None:
    levels = ["gap"] * 5 + ["developing"] * 5
    members = [member(skill_levels={"prompting": lv}) for lv in levels]
    view = team_view(
        team(*members),
        threshold=5,
        week=WEEK,
        tracks=["foundation", "hr"],
        published_on="2026-12-01",
    )
    rows = csv_rows(
        view,
        skills={"prompting": "Prompting well"},
        tracks={"foundation": "AI foundations", "hr": "AI in HR"},
    )
    items = {(section, item): value for section, item, _week, value, _n in rows[1:]}
    assert about(rows) == {
        "figures with fewer than 5 people behind them": NOT_ENOUGH,
        "figures as of": "2026-12-01",
    }
    assert items[("tracks", "AI foundations")] == "10"
    assert items[("tracks", "AI in HR")] == NOT_ENOUGH
    assert items[("skills", "Prompting well: gap")] == "5"
    assert items[("skills", "Prompting well: developing")] == "5"
    assert items[("skills", "Prompting well: not assessed yet")] == NOT_ENOUGH  # nobody: 0
    # Ids without a name keep their id; no row names an id that was given a name.
    assert items[("skills", "ai-literacy: gap")] == NOT_ENOUGH
    assert not any(item.startswith(("prompting:", "foundation", "hr")) for _s, item in items)


def test_a_track_id_that_looks_like_a_formula_is_defused() -> None:
    view = view_of(team(*[member(completed_tracks=frozenset({"=cmd()"}))] * 3))
    assert ["tracks", "'=cmd()", "", "3", ""] in csv_rows(view)


def test_a_learners_contribution(curriculum: Curriculum) -> None:
    foundation = curriculum.track("foundation")
    assert foundation is not None
    records = {
        lesson_id: LessonRecord(lesson_id, "a", right=2, total=3, mark=2, completed_on=date.today())
        for lesson_id in foundation.lesson_ids
    }
    state = LearnerState(
        role=Role.HR,
        skills={SkillId.PROMPTING: SkillResult(SkillLevel.GAP, right=0, total=2, mark=-4)},
        assessments_taken=1,
        completed=records,
        tallies={Confidence.HIGH: Tally(3, 4), Confidence.LOW: Tally(0, 0)},
        active_weeks=("2026-W47", WEEK),
    )
    pulses = {WEEK: (4, 20, False)}
    got = contribution_of(state, curriculum, leader=True, pulses=pulses)
    n = len(foundation.lesson_ids)
    assert got == Contribution(
        started=True,
        active_weeks=frozenset({"2026-W47", WEEK}),
        completed_tracks=frozenset({"foundation"}),  # not "hr": none of its lessons are done
        lessons_completed=n,
        quiz_right=2 * n,
        quiz_answers=3 * n,
        quiz_mark=2 * n,
        quiz_max_mark=9 * n,
        confidence={"high": (3, 4)},
        skill_levels={"prompting": "gap"},
        pulse=pulses,
        leader=True,
    )


def test_a_new_learner_contributes_only_their_membership(curriculum: Curriculum) -> None:
    assert contribution_of(LearnerState(), curriculum, leader=False) == Contribution()
    summary = team(contribution_of(LearnerState(), curriculum, leader=False))
    assert summary == TeamSummary(members=1)


def test_updating_a_member_replaces_their_old_contribution() -> None:
    old, new, other = Contribution(), member(), member(leader=True)
    assert team(old, other).add(old, -1).add(new) == team(new, other)


def test_two_teams_add_up_to_their_members_together() -> None:
    hr = member(completed_tracks=frozenset({"foundation", "hr"}), role_track_done=True)
    one, other = team(member(), hr), team(member(leader=True), Contribution())
    both = one.plus(other)
    assert both == team(member(), hr, member(leader=True), Contribution())
    assert (both.members, both.assessed, both.role_tracks_done) == (4, 3, 1)
    assert one.plus(TeamSummary.empty()) == one


def test_removing_what_was_never_added_is_refused() -> None:
    with pytest.raises(ValueError, match="never added"):
        TeamSummary.empty().add(member(), -1)
    with pytest.raises(ValueError, match="never added"):
        team(member(leader=False)).add(member(leader=True), -1)
    with pytest.raises(ValueError, match="sign"):
        TeamSummary.empty().add(member(), 2)


@pytest.mark.parametrize(
    "bad",
    [
        {"quiz_right": 7},
        {"lessons_completed": -1},
        {"confidence": {"sure": (1, 1)}},
        {"confidence": {"low": (3, 2)}},
        {"skill_levels": {"prompting": "expert"}},
        {"pulse": {WEEK: (6, 10, False)}},
        {"pulse": {WEEK: (3, -5, False)}},
        {"active_weeks": frozenset({"last week"})},
    ],
)
def test_a_malformed_contribution_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        member(**bad)


def test_the_summary_is_stored_as_stable_json() -> None:
    summary = team(member(), member(leader=True), Contribution())
    data = json.loads(json.dumps(summary.to_dict()))
    assert TeamSummary.from_dict(data) == summary
    assert list(data["skills"]) == sorted(SKILLS)
    assert data["confidence"]["medium"] == [2, 8, 10]  # people, right, total
    # responses, confidence sum, minutes sum, caught, saved no time, answers at 1..5
    assert data["pulse"][WEEK] == [2, 8, 60, 2, 0, 0, 0, 0, 2, 0]


@pytest.mark.parametrize(
    "change",
    [
        {"version": 1},  # stored before the pulse counted answers per level
        {"pulse": {WEEK: [2, 8, 60, 2]}},  # that version's pulse shape
        {"surprise": 1},
        {"members": -1},
        {"members": True},
        {"active": {WEEK: "3"}},
        {"skills": {"prompting": [1, 2]}},
    ],
)
def test_a_corrupt_stored_summary_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TeamSummary.from_dict(team(member()).to_dict() | change)


# Properties ----------------------------------------------------------------------------------

group_counts = st.dictionaries(
    st.sampled_from("abcdef"), st.integers(0, 30), min_size=2, max_size=6
)
thresholds = st.integers(3, 10)


@given(groups=group_counts, threshold=thresholds, total_known=st.booleans())
def test_no_shown_figure_is_below_the_threshold(
    groups: dict[str, int], threshold: int, total_known: bool
) -> None:
    result = suppress(groups, threshold, total_known)
    assert result.keys() == groups.keys()
    for name, value in result.items():
        assert value is None or value == groups[name] >= threshold
    if not total_known:  # then only the small ones are hidden
        assert all((value is None) == (groups[k] < threshold) for k, value in result.items())


@given(groups=group_counts, threshold=thresholds)
def test_no_hidden_cell_can_be_derived_by_subtraction(
    groups: dict[str, int], threshold: int
) -> None:
    result = suppress(groups, threshold, total_known=True)
    hidden = [name for name, value in result.items() if value is None]
    shown = [groups[name] for name, value in result.items() if value is not None]
    if sum(groups.values()) < threshold:
        return  # the total itself is hidden in the view: nothing to subtract from
    # The total minus the shown cells is the sum of the hidden ones: never one cell alone.
    assert len(hidden) != 1
    # Even to a viewer who guesses which hidden cells are empty, a small occupied cell is
    # always hidden together with another occupied one.
    occupied = [groups[name] for name in hidden if groups[name]]
    if any(count < threshold for count in occupied):
        assert len(occupied) >= 2
    # Each hidden cell is small, or was hidden as a complement: one of the smallest shown.
    for name in hidden:
        assert groups[name] < threshold or all(groups[name] <= count for count in shown)
    if all(count >= threshold for count in groups.values()):
        assert not hidden


@st.composite
def contributions(draw: st.DrawFn) -> Contribution:
    answers = draw(st.integers(0, 20))
    tallies = st.integers(0, 10).flatmap(
        lambda total: st.tuples(st.integers(0, total), st.just(total))
    )
    pulse = st.tuples(st.integers(1, 5), st.integers(0, 600), st.booleans())
    return Contribution(
        started=draw(st.booleans()),
        active_weeks=draw(st.frozensets(st.sampled_from(WEEKS))),
        completed_tracks=draw(st.frozensets(st.sampled_from(TRACKS))),
        lessons_completed=draw(st.integers(0, 8)),
        quiz_right=draw(st.integers(0, answers)),
        quiz_answers=answers,
        quiz_mark=draw(st.integers(-6 * answers, 3 * answers)),
        quiz_max_mark=3 * answers,
        confidence=draw(st.dictionaries(st.sampled_from(LEVELS), tallies)),
        skill_levels=draw(st.dictionaries(st.sampled_from(SKILLS), st.sampled_from(PLACEMENTS))),
        pulse=draw(st.dictionaries(st.sampled_from(WEEKS), pulse)),
        leader=draw(st.booleans()),
    )


# Teams of a few kinds of member, each repeated: counts land on both sides of the threshold.
teams = st.lists(st.tuples(contributions(), st.integers(1, 6)), max_size=6).map(
    lambda kinds: [one for one, times in kinds for _ in range(times)]
)


@given(members=teams, extra=contributions())
def test_adding_then_removing_a_member_restores_the_summary(
    members: list[Contribution], extra: Contribution
) -> None:
    summary = team(*members)
    assert summary.add(extra).add(extra, -1) == summary
    assert TeamSummary.from_dict(json.loads(json.dumps(summary.to_dict()))) == summary


@given(members=teams, data=st.data())
def test_the_summary_does_not_depend_on_the_order_of_members(
    members: list[Contribution], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(members))
    assert team(*shuffled) == team(*members)
    assert team(*shuffled).to_dict() == team(*members).to_dict()


@given(
    members=teams,
    threshold=thresholds,
    week=st.sampled_from([*WEEKS, "2027-W01"]),
    weeks=st.integers(1, 10),
)
def test_any_summary_gives_a_private_view(
    members: list[Contribution], threshold: int, week: str, weeks: int
) -> None:
    summary = team(*members)
    view = team_view(summary, threshold=threshold, week=week, weeks=weeks)
    assert len(view.trend) == weeks
    assert view.trend[-1].week == view.week == week
    json.dumps(view.to_dict())
    assert len(csv_rows(view)) > 1
    # Every count outside the leaders' own figures is backed by enough people (minutes are
    # an average, however whole).
    for path, value in numbers(view).items():
        counts = "leaders" not in path and not path.endswith("minutes_saved")
        if isinstance(value, int) and counts:
            assert value >= threshold, path
    # Sums and averages are shown only with enough contributors.
    if any(value is not None for value in dataclasses.astuple(view.learning)):
        assert summary.learners >= threshold
    if view.learning.accuracy_pct is not None:  # nor when they say what everyone scored
        assert 0 < summary.quiz_right < summary.quiz_answers
    if view.confidence.calibration is not None:
        assert summary.answerers >= threshold
    for point in view.trend:
        pulse = summary.pulse.get(point.week)
        if point.pulse_confidence is not None or point.minutes_saved is not None:
            assert pulse is not None and pulse.responses >= threshold
        if point.pulse_confidence is not None:  # no level holds all but fewer than k
            assert pulse is not None and not dominated(pulse.levels(), threshold)
        if point.minutes_saved is not None:  # k people saved time; rounded to 5 minutes
            assert pulse is not None and pulse.responses - pulse.no_minutes >= threshold
            assert isinstance(point.minutes_saved, int) and point.minutes_saved % 5 == 0
        if point.active is not None and point.leaders_active is not None:
            assert point.active - point.leaders_active >= threshold
        if point.caught_error is not None:  # "did not catch" = responses - caught
            assert pulse is not None and pulse.responses - point.caught_error >= threshold
    # Subtracting the leaders' own figures never leaves a small group of the others.
    if view.leaders.started is not None and view.started is not None:
        assert view.started - view.leaders.started >= threshold
    # A track nobody asked for is listed only with its count: its name would tell otherwise.
    assert all(row.completed is not None for row in view.tracks)
    # The leaders' figures appear only with enough leaders.
    if summary.leaders < threshold:
        assert view.leaders.leaders is view.leaders.started is view.leaders.active_last_week is None
    # Breakdowns whose total the leader sees never leave a single hidden cell.
    if view.members is not None:
        breakdowns = [[view.started, view.not_started]]
        breakdowns += [[r.gap, r.developing, r.mastered, r.not_assessed] for r in view.skills]
        for cells in breakdowns:
            assert sum(cell is None for cell in cells) != 1
    # A skill row shows nothing when all but fewer than k people share one cell.
    for row in view.skills:
        if any(cell is not None for cell in (row.gap, row.developing, row.mastered)):
            placed = summary.skills.get(row.skill)
            assert placed is not None
            groups = {**placed._asdict(), "none": max(0, summary.members - sum(placed))}
            assert not dominated(groups, threshold)
    # The headline repeats figures of the view itself.
    assert view.headline.pulse_confidence.now == view.trend[-1].pulse_confidence
    assert view.headline.calibration.now == view.confidence.calibration


def test_leaders_challenges_count_in_leading_by_example_only_with_enough_leaders() -> None:
    did = frozenset({WEEK})
    leaders = [member(leader=True, challenge_weeks=did if i < 2 else frozenset()) for i in range(3)]
    others = [member(challenge_weeks=did) for _ in range(5)]
    view = view_of(team(*leaders, *others))
    assert view.leaders.challenge_last_week == 2, "two of the three leaders did it"
    few = view_of(team(*leaders[:2], *others))
    assert few.leaders.challenge_last_week is None, "two leaders are fewer than the minimum"
    last_week = team_view(team(*leaders, *others), threshold=3, week="2026-W49")
    assert last_week.leaders.challenge_last_week == 0, "a new week starts from nobody"


def test_a_done_challenge_counts_and_a_skipped_one_does_not() -> None:
    from teams_app.content_files import load_curriculum
    from teams_app.domain.learner import ChallengeRecord, LearnerState
    from teams_app.domain.team import contribution_of
    from tests.conftest import REPO_ROOT

    state = LearnerState(
        challenges={
            "2026-W47": ChallengeRecord("challenge-x", True, 20, 3),
            WEEK: ChallengeRecord("challenge-y", False, 0, 0),
        }
    )
    contribution = contribution_of(state, load_curriculum(REPO_ROOT / "content"), leader=True)
    assert contribution.challenge_weeks == frozenset({"2026-W47"})
    summary = team(contribution)
    assert summary.leaders_challenges == {"2026-W47": 1} and summary.challenges == {"2026-W47": 1}
    assert summary.add(contribution, -1) == TeamSummary.empty()
    assert TeamSummary.from_dict(summary.to_dict()) == summary


def test_calibration_over_time_shows_each_point_with_enough_people_behind_it() -> None:
    sure_and_right = {"high": ConfidenceCount(5, 19, 20)}
    history = [
        ("2026-11-20", 2, sure_and_right),  # two people: hidden
        ("2026-11-27", 5, sure_and_right),
        ("2026-11-30", 5, {"high": ConfidenceCount(5, 8, 20)}),
    ]
    view = team_view(TeamSummary.empty(), threshold=3, week=WEEK, history=history)
    assert [(p.published_on, p.calibration) for p in view.calibration_trend] == [
        ("2026-11-20", None),
        ("2026-11-27", "calibrated"),
        ("2026-11-30", "over-confident"),
    ]
    rows = [r for r in csv_rows(view) if r[0] == "calibration over time"]
    assert [r[2:4] for r in rows] == [
        ["2026-11-20", NOT_ENOUGH],
        ["2026-11-27", "Calibrated"],
        ["2026-11-30", "Over-confident"],
    ]
