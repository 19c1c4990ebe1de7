"""Published team snapshots: what a leader reading before and after a change can learn.

A simulated team (members who learn, answer quizzes and pulses, are assessed, join, leave or
have their data deleted, while days pass and snapshots are published) is checked against a
ground truth computed here from its own event log: between two consecutive snapshots, a
section's figures move only when at least ``k`` different members changed them since they
last moved, a week's figures appear only once the week has closed, and a snapshot shows for
each section figures the team really had at some moment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teams_app.domain.content import ASSESSED_SKILLS
from teams_app.domain.learner import SkillLevel, iso_week
from teams_app.domain.publication import (
    BASE_SECTIONS,
    HISTORY_POINTS,
    KEEP_WEEKS,
    WEEK_PREFIX,
    Publication,
    changed_sections,
    compose,
)
from teams_app.domain.scoring import Confidence
from teams_app.domain.team import Contribution, TeamSummary, team_view

MONDAY = date(2026, 11, 2)  # 2026-W45
SKILLS = tuple(skill.value for skill in ASSESSED_SKILLS)
PLACEMENTS = tuple(level.value for level in SkillLevel)
LEVELS = tuple(level.value for level in Confidence)

# The figures each section moves: the specification, written out independently of the code.
SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "progress": ("members", "started", "learners", "lessons_completed", "tracks", "leaders",
                 "leaders_started", "role_tracks_done"),
    "quiz": ("quiz_right", "quiz_answers", "quiz_mark", "quiz_max_mark"),
    "confidence": ("answerers", "confidence"),
    "skills": ("skills", "assessed"),
}  # fmt: skip
WEEK_FIELDS = ("active", "pulse", "challenges", "leaders_active", "leaders_challenges")


def figures(summary: TeamSummary) -> dict[str, object]:
    """A summary's figures by section; a week without any figure has no entry."""
    out: dict[str, object] = {
        section: tuple(getattr(summary, name) for name in names)
        for section, names in SECTION_FIELDS.items()
    }
    weeks: set[str] = set()
    for name in WEEK_FIELDS:
        weeks.update(getattr(summary, name))
    for week in weeks:
        out[WEEK_PREFIX + week] = tuple(getattr(summary, name).get(week) for name in WEEK_FIELDS)
    return out


def moved(before: TeamSummary, after: TeamSummary) -> set[str]:
    """The sections whose figures differ."""
    a, b = figures(before), figures(after)
    return {section for section in a.keys() | b.keys() if a.get(section) != b.get(section)}


def part(c: Contribution | None) -> TeamSummary:
    """One member's own figures (none for someone who is not on the team)."""
    return TeamSummary.empty() if c is None else TeamSummary.empty().add(c)


def canonical(value: object) -> str:
    """A figure's value in a form that ignores the order of mapping keys."""
    return json.dumps(value, sort_keys=True)


def week_of(section: str) -> str | None:
    return section[len(WEEK_PREFIX) :] if section.startswith(WEEK_PREFIX) else None


# The simulated team -----------------------------------------------------------------------


@dataclass
class Snapshot:
    """One publication as the leader saw it."""

    step: int
    day: date
    summary: TeamSummary


@dataclass
class Team:
    """A team as the store keeps it: each member's contribution and ``counted`` record, the
    live summary, the publication; plus the event log the ground truth is computed from."""

    k: int
    today: date = MONDAY
    members: dict[int, Contribution] = field(default_factory=dict)
    counted: dict[int, dict[str, int]] = field(default_factory=dict)
    live: TeamSummary = field(default_factory=TeamSummary.empty)
    publication: Publication = field(default_factory=Publication)
    step: int = 0
    log: list[tuple[int, int, set[str]]] = field(default_factory=list)  # step, who, sections
    snapshots: list[Snapshot] = field(default_factory=list)
    history: dict[str, set[str]] = field(default_factory=dict)  # every live value, by section
    joined: int = 0

    def __post_init__(self) -> None:
        self.remember()

    @property
    def this_week(self) -> str:
        return iso_week(self.today)

    def remember(self) -> None:
        for section, value in figures(self.live).items():
            self.history.setdefault(section, set()).add(canonical(value))

    def set(self, who: int, new: Contribution | None) -> None:
        """Member ``who`` changes to ``new`` (``None``: leaves the team)."""
        old = self.members.get(who)
        self.step += 1
        self.log.append((self.step, who, moved(part(old), part(new))))
        self.publication, mine = self.publication.note(self.counted.get(who, {}), old, new)
        live = self.live if old is None else self.live.add(old, -1)
        self.live = live if new is None else live.add(new)
        if new is None:
            del self.members[who]
            self.counted.pop(who, None)
        else:
            self.members[who], self.counted[who] = new, mine
        self.remember()

    def join(self, c: Contribution) -> int:
        who = self.joined
        self.joined += 1
        self.set(who, c)
        return who

    def edit(self, who: int, change: Callable[[Contribution], Contribution]) -> None:
        self.set(who, change(self.members[who]))

    def read(self) -> TeamSummary | None:
        """A leader opens the tab: a snapshot is published when one is due."""
        if self.publication.due(self.today):
            self.step += 1
            self.publication = self.publication.publish(
                self.live, threshold=self.k, today=self.today, this_week=self.this_week
            )
            assert self.publication.snapshot is not None
            self.snapshots.append(Snapshot(self.step, self.today, self.publication.snapshot))
        return self.publication.snapshot

    def pass_days(self, days: int = 1) -> None:
        self.today += timedelta(days=days)


def check(team: Team) -> None:
    """Every property of the team's published history, against the ground truth."""
    k, empty = team.k, Snapshot(0, MONDAY, TeamSummary.empty())
    last_moved: dict[str, int] = {}  # section -> step of the snapshot that last moved it
    shown_weeks: set[str] = set()
    for earlier, later in zip([empty, *team.snapshots], team.snapshots, strict=False):
        closed = iso_week(later.day)
        shown = figures(later.summary)
        for section in moved(earlier.summary, later.summary):
            week = week_of(section)
            since = last_moved.get(section, 0)
            changers = {
                who for step, who, s in team.log if since < step < later.step and section in s
            }
            if week is not None and week not in shown_weeks:
                # A week released whole, for the first time, once it has closed.
                assert figures(earlier.summary).get(section) is None, section
                assert week < closed, (section, later.day)
            else:
                assert len(changers) >= k, (section, sorted(changers), later.day)
            last_moved[section] = later.step
        # No figure of a week that has not closed is ever published.
        for name in WEEK_FIELDS:
            assert all(week < closed for week in getattr(later.summary, name)), (name, later.day)
        shown_weeks |= {w for s in shown if (w := week_of(s)) is not None}
        # Each section shows figures the team really had at some moment: never a mixture.
        for section, value in shown.items():
            assert canonical(value) in team.history[section], section
    # At most one snapshot a day.
    days = [s.day for s in team.snapshots]
    assert days == sorted(set(days))


# Events -----------------------------------------------------------------------------------


def learn(c: Contribution) -> Contribution:
    lessons = c.lessons_completed + 1
    tracks = c.completed_tracks | ({"foundation"} if lessons >= 3 else set())
    return replace(
        c,
        started=True,
        lessons_completed=lessons,
        completed_tracks=frozenset(tracks | ({"hr"} if lessons >= 5 else set())),
        role_track_done=lessons >= 5,
    )


def quiz(right: int, total: int) -> Callable[[Contribution], Contribution]:
    def change(c: Contribution) -> Contribution:
        return replace(
            c,
            started=True,
            quiz_right=c.quiz_right + right,
            quiz_answers=c.quiz_answers + total,
            quiz_mark=c.quiz_mark + 3 * right - 6 * (total - right),
            quiz_max_mark=c.quiz_max_mark + 3 * total,
        )

    return change


def rate(level: str, right: bool) -> Callable[[Contribution], Contribution]:
    def change(c: Contribution) -> Contribution:
        r, t = c.confidence.get(level, (0, 0))
        return replace(c, started=True, confidence={**c.confidence, level: (r + right, t + 1)})

    return change


def place(skill: str, level: str) -> Callable[[Contribution], Contribution]:
    def change(c: Contribution) -> Contribution:
        return replace(c, started=True, skill_levels={**c.skill_levels, skill: level})

    return change


def answer_pulse(
    week: str, level: int, minutes: int, caught: bool = False
) -> Callable[[Contribution], Contribution]:
    def change(c: Contribution) -> Contribution:
        return replace(c, pulse={**c.pulse, week: (level, minutes, caught)})

    return change


def active_in(week: str) -> Callable[[Contribution], Contribution]:
    def change(c: Contribution) -> Contribution:
        return replace(c, active_weeks=c.active_weeks | {week})

    return change


def challenge_in(week: str) -> Callable[[Contribution], Contribution]:
    def change(c: Contribution) -> Contribution:
        return replace(c, challenge_weeks=c.challenge_weeks | {week})

    return change


# Someone who has used the app: a part in every section. Roster changes in the simulation
# involve such members only: ``changed_sections`` counts whoever joins or leaves as a changer
# of *every* section, even one where their part is empty and no figure moves, which the ground
# truth here rightly does not. That is a known gap in publication.py, not a rule: four
# newcomers who have done nothing plus one colleague who retook the skills check release the
# skills section with k = 5, and the snapshots before and after isolate that colleague.
SEASONED = Contribution(
    started=True,
    lessons_completed=1,
    quiz_right=2,
    quiz_answers=3,
    quiz_mark=0,
    quiz_max_mark=9,
    confidence={"medium": (1, 1)},
    skill_levels={"ai-literacy": "developing"},
)


def seasoned(c: Contribution) -> bool:
    """Whether ``c`` has a part in every section (see :data:`SEASONED`)."""
    return bool(c.started and c.lessons_completed and c.quiz_answers) and bool(
        c.confidence and c.skill_levels
    )


def weeks_back(team: Team, n: int) -> str:
    return iso_week(team.today - timedelta(weeks=n))


# An event is a tuple: its kind, then a member selector and the kind's arguments.
edits = st.one_of(
    st.tuples(st.just("learn")),
    st.tuples(st.just("quiz"), st.integers(0, 3), st.just(3)),
    st.tuples(st.just("rate"), st.sampled_from(LEVELS), st.booleans()),
    st.tuples(st.just("place"), st.sampled_from(SKILLS[:2]), st.sampled_from(PLACEMENTS)),
    # This week's pulse, or a late answer for a closed week (an edge the rules must hold in).
    st.tuples(
        st.just("pulse"),
        st.sampled_from([0, 0, 0, 1, 2]),
        st.integers(1, 5),
        st.sampled_from([0, 15, 60]),
        st.booleans(),
    ),
    st.tuples(st.just("active")),
    st.tuples(st.just("challenge")),
    st.tuples(st.just("delete")),  # their data is deleted: an empty row stays on the roster
)
member_edits = st.tuples(st.just("edit"), st.integers(0, 99), edits)
events = st.one_of(
    member_edits,
    member_edits,
    member_edits,
    st.tuples(st.just("join")),
    st.tuples(st.just("leave"), st.integers(0, 99)),
    st.tuples(st.just("day"), st.integers(1, 3)),
    st.tuples(st.just("read")),
)


def apply_edit(team: Team, who: int, edit: tuple[Any, ...]) -> None:
    kind, *args = edit
    this_week = team.this_week
    if kind == "learn":
        team.edit(who, learn)
    elif kind == "quiz":
        team.edit(who, quiz(*args))
    elif kind == "rate":
        team.edit(who, rate(*args))
    elif kind == "place":
        team.edit(who, place(*args))
    elif kind == "pulse":
        back, level, minutes, caught = args
        week = weeks_back(team, back)
        team.edit(who, answer_pulse(week, level, minutes, caught))
        team.edit(who, active_in(this_week))  # answering is being active this week
    elif kind == "active":
        team.edit(who, active_in(this_week))
    elif kind == "challenge":
        team.edit(who, challenge_in(this_week))
        team.edit(who, active_in(this_week))
    else:
        team.set(who, Contribution())


def run(team: Team, script: Iterable[tuple[Any, ...]]) -> None:
    for event in script:
        roster = sorted(team.members)
        if event[0] == "edit" and roster:
            apply_edit(team, roster[event[1] % len(roster)], event[2])
        elif event[0] == "join":
            team.join(SEASONED)
        elif event[0] == "leave" and (leavers := [w for w in roster if seasoned(team.members[w])]):
            team.set(leavers[event[1] % len(leavers)], None)
        elif event[0] == "day":
            team.pass_days(event[1])
            team.read()
        elif event[0] == "read":
            team.read()
        # The stored form reads back exactly.
        stored = json.loads(json.dumps(team.publication.to_dict()))
        assert Publication.from_dict(stored) == team.publication


def team_of(k: int, size: int, member: Contribution = SEASONED) -> Team:
    """A team synced from its roster and published once."""
    team = Team(k)
    for _ in range(size):
        team.join(member)
    team.read()
    return team


# Properties -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    k=st.integers(3, 5),
    size=st.integers(0, 9),
    # At most 50 events of up to 3 days: the simulation stays well inside the KEEP_WEEKS
    # weeks a publication remembers.
    script=st.lists(events, min_size=10, max_size=50),
)
def test_snapshots_move_only_with_k_changers_or_a_whole_closed_week(
    k: int, size: int, script: list[tuple[Any, ...]]
) -> None:
    team = team_of(k, size)
    run(team, script)
    team.pass_days(7)  # whatever was pending for the last week is released now
    team.read()
    assert team.today - MONDAY < timedelta(weeks=KEEP_WEEKS - 2)  # late answers: 2 weeks back
    check(team)


@settings(max_examples=50, deadline=None)
@given(
    k=st.integers(3, 6),
    extra=st.integers(0, 4),
    script=st.lists(st.tuples(st.integers(0, 99), edits), max_size=30),
)
def test_fewer_than_k_members_changing_never_move_a_snapshot(
    k: int, extra: int, script: list[tuple[int, tuple[Any, ...]]]
) -> None:
    team = team_of(k, k + extra)
    for who in sorted(team.members):
        team.edit(who, active_in("2026-W45"))
    team.pass_days(7)  # into 2026-W46: 2026-W45 has closed and is shown
    first = team.read()
    assert first is not None and first.active == {"2026-W45": k + extra}
    few = sorted(team.members)[: k - 1]
    for n, (pick, edit) in enumerate(script):
        if edit[0] == "pulse":  # late answers go to the week shown: 2026-W45
            edit = ("pulse", 1, *edit[2:])
        apply_edit(team, few[pick % len(few)], edit)
        if n % 5 == 0:
            team.pass_days(1)
            assert team.read() == first
    assert team.this_week == "2026-W46"
    team.pass_days(7)
    # The week under way while they changed things closes now: it alone may appear, whole.
    after = team.read()
    assert after is not None
    assert moved(first, after) <= {WEEK_PREFIX + "2026-W46"}
    check(team)


@settings(max_examples=50, deadline=None)
@given(
    k=st.integers(3, 6),
    edits_made=st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=20),
)
def test_a_member_changing_a_section_many_times_is_counted_once(
    k: int, edits_made: list[tuple[int, bool]]
) -> None:
    team = team_of(k, k + 2)
    first = team.read()
    busy = sorted(team.members)[0]
    for right, sure in edits_made:
        team.edit(busy, quiz(right, 3))
        team.edit(busy, rate("high" if sure else "low", bool(right)))
    assert team.publication.pending.get("quiz", 0) <= 1
    assert team.publication.pending.get("confidence", 0) <= 1
    team.pass_days(1)
    assert team.read() == first
    # Others follow: with the busy member, k - 1 people and then k have changed the quiz.
    *others, last = sorted(team.members)[1:k]
    for who in others:
        team.edit(who, quiz(2, 3))
    team.pass_days(1)
    assert team.read() == first
    team.edit(last, quiz(2, 3))
    team.pass_days(1)
    after = team.read()
    assert after is not None and first is not None
    assert moved(first, after) == {"quiz"}
    check(team)


@given(days=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), max_size=20))
def test_a_snapshot_is_due_at_most_once_a_day(days: list[tuple[int, int]]) -> None:
    team = team_of(3, 4)
    assert len(team.snapshots) == 1  # a new team's first snapshot is taken right away
    assert not team.publication.due(team.today)
    reading_days = {MONDAY}
    for gap, reads in days:
        team.pass_days(gap)
        for _ in range(reads):
            team.read()
        reading_days.add(team.today)
    assert [s.day for s in team.snapshots] == sorted(reading_days)
    assert team.publication.published_on == team.today
    assert team.publication.due(team.today + timedelta(days=1))


def test_a_new_publication_is_due_and_reads_back() -> None:
    fresh = Publication()
    assert fresh.due(MONDAY)
    assert Publication.from_dict(json.loads(json.dumps(fresh.to_dict()))) == fresh


@pytest.mark.parametrize(
    "change", [{"version": 2}, {"version": None}, {"snapshot": {"members": 1}}]
)
def test_a_corrupt_stored_publication_is_refused(change: dict[str, Any]) -> None:
    team = team_of(3, 4)
    with pytest.raises(ValueError):
        Publication.from_dict(team.publication.to_dict() | change)


# The scenarios behind the rules ------------------------------------------------------------

# Eight people whose weekly pulse answers vary enough for the average to be shown at k = 5.
LEVELS_OF_SEVEN = (1, 1, 2, 2, 3, 4, 5)


def test_a_leader_reading_before_and_after_a_colleagues_pulse_learns_nothing() -> None:
    # The issue: a team of 8, k = 5; everyone but one colleague has answered this week's pulse.
    # The leader reads, the colleague answers, the leader reads again.
    team = team_of(5, 8)
    colleague, *others = sorted(team.members)
    week = team.this_week
    for who, level in zip(others, LEVELS_OF_SEVEN, strict=True):
        team.edit(who, answer_pulse(week, level, 30))
        team.edit(who, active_in(week))
    team.pass_days(2)
    before = team.read()
    live_before = team.live
    team.edit(colleague, answer_pulse(week, 5, 30))
    team.edit(colleague, active_in(week))
    # On live sums the difference would be their answer: 2.6 with seven answers, 2.9 with 8.
    week_live = [
        team_view(s, threshold=5, week=week).trend[-1].pulse_confidence
        for s in (live_before, team.live)
    ]
    assert week_live == [2.6, 2.9]
    assert team.read() == before  # the same day: the same snapshot
    for _ in range(4):  # the rest of the week, a read every day
        team.pass_days(1)
        assert team.read() == before
    assert before is not None and week not in before.pulse
    # The week closes: all eight answers appear at once; no snapshot ever showed seven.
    team.pass_days(1)
    after = team.read()
    assert after is not None
    assert after.pulse[week].responses == 8
    assert team_view(after, threshold=5, week=week).trend[-1].pulse_confidence == 2.9
    check(team)


def test_a_late_change_to_a_shown_week_waits_for_k_people() -> None:
    # The same team a week later; the colleague deletes their data, taking their answer for
    # the shown week away. Before and after read the same until four more people change it.
    team = team_of(5, 8)
    colleague, *others = sorted(team.members)
    week = team.this_week
    for who, level in zip([*others, colleague], (*LEVELS_OF_SEVEN, 5), strict=True):
        team.edit(who, answer_pulse(week, level, 30))
    team.pass_days(7)
    shown = team.read()
    assert shown is not None and shown.pulse[week].responses == 8
    team.set(colleague, Contribution())
    for who in others[:3]:  # three more change their answer for that week: four in all
        team.edit(who, answer_pulse(week, 3, 15))
        team.pass_days(1)
        assert team.read() == shown
    team.edit(others[3], answer_pulse(week, 3, 15))  # the fifth
    team.pass_days(1)
    after = team.read()
    assert after is not None and after.pulse[week].responses == 7
    check(team)


def test_deleting_a_members_data_moves_nothing_until_k_people_changed() -> None:
    team = team_of(5, 8, Contribution())
    for who in sorted(team.members):
        team.edit(who, learn)
    team.pass_days(1)
    first = team.read()
    assert first is not None and (first.members, first.started, first.lessons_completed) == (
        8, 8, 8,
    )  # fmt: skip
    gone, *others = sorted(team.members)
    team.set(gone, Contribution())  # their data is deleted; they stay on the roster
    assert (team.live.members, team.live.started) == (8, 7)
    team.pass_days(1)
    assert team.read() == first
    for who in others[:3]:
        team.edit(who, learn)
        team.pass_days(1)
        assert team.read() == first, "four changers are fewer than five"
    team.edit(others[3], learn)
    team.pass_days(1)
    after = team.read()
    assert after is not None
    assert (after.members, after.started, after.lessons_completed) == (8, 7, 11)
    check(team)


def test_a_member_leaving_moves_the_member_count_only_with_k_changes() -> None:
    team = team_of(5, 8)
    first = team.read()
    gone, *others = sorted(team.members)
    team.set(gone, None)
    team.pass_days(1)
    assert team.read() == first and first is not None and first.members == 8
    for who in others[:4]:
        team.edit(who, learn)
    team.pass_days(1)
    after = team.read()
    assert after is not None and after.members == 7
    check(team)


def test_joining_moves_the_roster_and_only_the_newcomers_own_sections() -> None:
    newcomer = Contribution(
        started=True, pulse={"2026-W45": (3, 0, False)}, active_weeks=frozenset({"2026-W46"})
    )
    assert changed_sections(None, newcomer) == {
        "progress", WEEK_PREFIX + "2026-W45", WEEK_PREFIX + "2026-W46",
    }  # fmt: skip
    assert changed_sections(newcomer, None) == changed_sections(None, newcomer)
    assert changed_sections(Contribution(), None) == {"progress"}
    assert changed_sections(newcomer, newcomer) == set()
    assert changed_sections(newcomer, replace(newcomer, lessons_completed=1)) == {"progress"}


def test_newcomers_with_nothing_done_cannot_release_a_colleagues_skills() -> None:
    """Four new hires who have done nothing plus one colleague who retakes the skills check
    must not release the skills section (k = 5)."""

    def skilled(level: str) -> Contribution:
        return Contribution(started=True, skill_levels={"prompting": level})

    publication, live, counted = Publication(), TeamSummary.empty(), {}
    team = {i: skilled(level) for i, level in enumerate(["gap"] * 6 + ["mastered"] * 6)}
    for i, c in team.items():
        publication, counted[i] = publication.note({}, None, c)
        live = live.add(c)
    publication = publication.publish(
        live, threshold=5, today=date(2026, 11, 2), this_week="2026-W45"
    )
    before = publication.snapshot
    for _ in range(4):
        publication, _ = publication.note({}, None, Contribution())
        live = live.add(Contribution())
    publication, counted[0] = publication.note(counted[0], team[0], skilled("mastered"))
    live = live.add(team[0], -1).add(skilled("mastered"))
    publication = publication.publish(
        live, threshold=5, today=date(2026, 11, 3), this_week="2026-W45"
    )
    assert before is not None and publication.snapshot is not None
    assert publication.snapshot.skills == before.skills
    assert publication.snapshot.members == before.members  # four roster changes: wait


def test_compose_takes_released_sections_from_live_and_keeps_the_rest() -> None:
    base = TeamSummary.empty().add(Contribution(quiz_right=1, quiz_answers=2))
    live = base.add(Contribution(lessons_completed=1, pulse={"2026-W45": (4, 30, True)}))
    assert compose(base, live, []) == base
    assert compose(base, live, ["progress"]).lessons_completed == 1
    assert compose(base, live, ["progress"]).pulse == {}
    assert compose(base, live, [WEEK_PREFIX + "2026-W45"]).pulse == live.pulse
    assert compose(base, live, [*BASE_SECTIONS, WEEK_PREFIX + "2026-W45"]) == live


def test_every_figure_belongs_to_one_section() -> None:
    named = [name for names in SECTION_FIELDS.values() for name in names] + list(WEEK_FIELDS)
    assert sorted(named) == sorted(f.name for f in fields(TeamSummary))


def test_the_snapshot_before_the_last_confidence_move_is_kept_for_comparison() -> None:
    team = team_of(3, 4)
    first = team.read()
    for who in sorted(team.members)[:3]:
        team.edit(who, rate("high", False))
    team.pass_days(1)
    second = team.read()
    assert team.publication.previous == first != second
    for who in sorted(team.members)[:3]:  # a move elsewhere keeps the comparison
        team.edit(who, learn)
    team.pass_days(1)
    team.read()
    assert team.publication.previous == first
    stored: Mapping[str, Any] = json.loads(json.dumps(team.publication.to_dict()))
    assert Publication.from_dict(stored).previous == first


def test_each_move_of_the_confidence_figures_is_kept_for_calibration_over_time() -> None:
    def rated(right: int) -> Contribution:
        return Contribution(started=True, confidence={"high": (right, 4)})

    publication, live = Publication(), TeamSummary.empty()
    for i in range(3):
        publication, _ = publication.note({}, None, rated(i))
        live = live.add(rated(i))
    day = MONDAY
    for n in range(14):  # every day three more people change their confidence answers
        publication = publication.publish(live, threshold=3, today=day, this_week="2026-W45")
        day += timedelta(days=1)
        for i in range(3):
            old, new = rated((i + n) % 5), rated((i + n + 1) % 5)
            publication, _ = publication.note({}, old, new)
            live = live.add(old, -1).add(new)
    assert len(publication.history) == HISTORY_POINTS, "the oldest points make way"
    assert [p.published_on for p in publication.history] == [
        MONDAY + timedelta(days=n) for n in range(2, 14)
    ]
    latest = publication.history[-1]
    assert publication.snapshot is not None
    assert (latest.answerers, latest.confidence) == (
        publication.snapshot.answerers,
        publication.snapshot.confidence,
    )
    assert Publication.from_dict(publication.to_dict()).history == publication.history
    moved = publication.publish(live, threshold=3, today=day, this_week="2026-W45")
    assert moved.history[-1].published_on == day  # the last day's three changes
    quiet = moved.publish(live, threshold=3, today=day + timedelta(days=1), this_week="2026-W45")
    assert quiet.history == moved.history, "no move, no new point"


def test_a_shard_that_never_showed_a_week_cannot_release_one_late_change_to_it() -> None:
    """Shards are shown summed: once one shard showed a closed week, a late change in a
    shard that never had that week waits for the threshold like any late change."""
    pulse = Contribution(started=True, pulse={"2026-W45": (4, 30, False)})
    a, a_live = Publication(), TeamSummary.empty()
    for _ in range(5):
        a, _counted = a.note({}, None, pulse)
        a_live = a_live.add(pulse)
    a = a.publish(a_live, threshold=5, today=MONDAY + timedelta(weeks=1), this_week="2026-W46")
    assert "2026-W45" in a.shown_weeks

    b, b_live = Publication(), TeamSummary.empty()  # a shard whose first member is late
    b, _counted = b.note({}, None, pulse)
    b_live = b_live.add(pulse)
    totals = {"w|2026-W45": b.pending["w|2026-W45"] + a.pending.get("w|2026-W45", 0)}
    later = MONDAY + timedelta(weeks=1, days=1)
    alone = b.publish(b_live, threshold=5, totals=totals, today=later, this_week="2026-W46")
    assert alone.snapshot is not None and "2026-W45" in alone.snapshot.pulse, (
        "without knowing the other shards, the week looks new: the leak this guards against"
    )
    guarded = b.publish(
        b_live,
        threshold=5,
        totals=totals,
        shown_elsewhere=a.shown_weeks,
        today=later,
        this_week="2026-W46",
    )
    assert guarded.snapshot is not None and "2026-W45" not in guarded.snapshot.pulse
    assert guarded.pending["w|2026-W45"] == 1
