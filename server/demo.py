"""Demo data for local development: a made-up team so the team tab has something to show.

Only for ``AIREADY_ENV=development`` with ``AIREADY_DEV_DEMO_USER`` set: the demo user leads a
team of synthetic members (ids ``demo-member-NN``, never real people) whose figures are
generated from a fixed seed.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from server.config import Environment, Settings
from server.tabs import DEMO_TEAM
from teams_app.content_files import load_curriculum
from teams_app.domain.assignment import Assignment
from teams_app.domain.content import ASSESSED_SKILLS, Curriculum, Role
from teams_app.domain.learner import iso_week
from teams_app.domain.team import Contribution, contribution_of
from teams_app.storage.ports import LearnerKey
from teams_app.storage.tables import TableLearnerStore
from teams_app.storage.team_ports import TeamKey
from teams_app.storage.team_tables import TableTeamStore
from teams_app.team_service import org_shard, pulses_of

DEMO_MEMBERS = 23
LEVELS = ("gap", "developing", "mastered")


def synthetic_member(rng: random.Random, curriculum: Curriculum, today: date) -> Contribution:
    """A plausible member's contribution (made up, for the demo only)."""
    if rng.random() < 0.25:
        return Contribution()
    weeks = [iso_week(today - timedelta(weeks=n)) for n in range(8)]
    active = frozenset(w for w in weeks if rng.random() < 0.55)
    lessons = rng.randint(0, 9)
    answers = 3 * lessons
    right = sum(rng.random() < 0.72 for _ in range(answers))
    marks = sum(
        rng.choice((1, 2, 3)) if i < right else rng.choice((0, -2, -6)) for i in range(answers)
    )
    high = rng.randint(0, answers)
    confidence = {"high": (min(right, int(high * 0.7)), high), "medium": (0, answers - high)}
    foundation = curriculum.tracks_for(Role.EVERYONE)[0]
    return Contribution(
        started=True,
        active_weeks=active,
        completed_tracks=frozenset({foundation.id})
        if lessons >= len(foundation.lesson_ids)
        else frozenset(),
        lessons_completed=lessons,
        quiz_right=right,
        quiz_answers=answers,
        quiz_mark=marks,
        quiz_max_mark=3 * answers,
        confidence={k: v for k, v in confidence.items() if v[1]},
        skill_levels={s.value: rng.choice(LEVELS) for s in ASSESSED_SKILLS if rng.random() < 0.8},
        pulse={
            w: (rng.randint(2, 5), rng.choice((0, 15, 30, 45, 60, 90, 120)), rng.random() < 0.3)
            for w in weeks
            if rng.random() < 0.5
        },
        leader=False,
    )


async def seed_demo_team(settings: Settings) -> int:
    """Write the demo team; returns its size."""
    if settings.environment is not Environment.DEVELOPMENT or settings.dev_demo_user is None:
        raise ValueError("demo data needs AIREADY_ENV=development and AIREADY_DEV_DEMO_USER")
    tenant, user = settings.dev_demo_user
    curriculum = load_curriculum(settings.content_dir)
    learners = TableLearnerStore.from_connection_string(
        settings.storage_connection_string, settings.table_prefix
    )
    await learners.open()
    teams = TableTeamStore(learners.service, settings.table_prefix)
    await teams.open()
    try:
        rng = random.Random(2026)  # noqa: S311 - made-up demo figures
        today = datetime.now(UTC).date()
        members = {
            f"demo-member-{i:02d}": synthetic_member(rng, curriculum, today)
            for i in range(DEMO_MEMBERS)
        }
        for name in ("demo-member-00", "demo-member-01", "demo-member-02"):
            members[name] = replace(members[name], leader=True)
        stored = await learners.get_profile(LearnerKey(tenant, user))
        if stored is not None:
            members[user] = contribution_of(
                stored.state, curriculum, leader=True, pulses=pulses_of(stored.state)
            )
        else:
            members[user] = Contribution(leader=True)
        team = TeamKey(tenant, DEMO_TEAM)
        await teams.replace_roster(team, members, datetime.now(UTC))
        await teams.designate(team, frozenset({user}))
        if not await teams.assignments(tenant):  # one assignment, so every view shows one
            foundation = next(t for t in curriculum.tracks if Role.EVERYONE in t.roles)
            await teams.save_assignment(
                tenant,
                Assignment(
                    "demo00000001", foundation.id, DEMO_TEAM, today + timedelta(days=30), today
                ),
            )
        for name, contribution in members.items():  # the organisation view counts them too
            await teams.update_member(org_shard(tenant, name), name, contribution, join=True)
        return len(members)
    finally:
        await teams.close()
        await learners.close()
