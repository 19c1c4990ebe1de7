"""One contract for every TeamStore: in memory and Azure Tables (on Azurite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from teams_app.domain.assignment import Assignment
from teams_app.domain.publication import HistoryPoint, Publication
from teams_app.domain.team import ConfidenceCount, Contribution, TeamSummary
from teams_app.storage.tables import service_client
from teams_app.storage.team_memory import MemoryTeamStore
from teams_app.storage.team_ports import StoredTeam, TeamKey, TeamStore
from teams_app.storage.team_tables import TableTeamStore
from tests.conftest import table_prefix
from tests.support.azurite import Azurite

TEAM = TeamKey("11111111-1111-4111-8111-111111111111", "aaaaaaaa-0000-4000-8000-000000000001")
OTHER_TENANT = TeamKey("22222222-2222-4222-8222-222222222222", TEAM.team_id)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "azure-tables"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[TeamStore]:
    if request.param == "memory":
        yield MemoryTeamStore()
        return
    azurite: Azurite = request.getfixturevalue("azurite")
    service = service_client(azurite.connection_string)
    tables = TableTeamStore(service, table_prefix())
    await tables.open()
    try:
        yield tables
    finally:
        await tables.close()
        await service.close()


def _c(lessons: int = 0, *, started: bool = True, leader: bool = False) -> Contribution:
    return Contribution(
        started=started,
        active_weeks=frozenset({"2026-W48"}) if lessons else frozenset(),
        lessons_completed=lessons,
        quiz_right=2 * lessons,
        quiz_answers=3 * lessons,
        quiz_mark=4 * lessons,
        quiz_max_mark=9 * lessons,
        confidence={"high": (2 * lessons, 3 * lessons)} if lessons else {},
        skill_levels={"prompting": "gap"},
        pulse={"2026-W48": (4, 30, True)},
        leader=leader,
    )


def _sum(*contributions: Contribution) -> TeamSummary:
    summary = TeamSummary.empty()
    for c in contributions:
        summary = summary.add(c)
    return summary


async def _live(store: TeamStore, team: TeamKey = TEAM) -> TeamSummary:
    """The live summary, seen by publishing all of it (what no real snapshot does)."""
    stored = await store.publish(team, lambda live, pub: replace(pub, snapshot=live))
    assert stored is not None and stored.summary is not None
    return stored.summary


async def _pending(store: TeamStore, team: TeamKey = TEAM) -> dict[str, int]:
    """The publication state's pending counts, read without changing anything."""
    seen: list[Publication] = []

    def look(live: TeamSummary, pub: Publication) -> None:
        seen.append(pub)

    await store.publish(team, look)
    return seen[0].pending if seen else {}


async def test_unknown_team_has_no_summary(store: TeamStore) -> None:
    assert await store.get_team(TEAM) is None
    assert await store.update_member(TEAM, "u1", _c(1)) is False


async def test_a_roster_sync_builds_the_summary_and_memberships(store: TeamStore) -> None:
    members = {"u1": _c(1), "u2": _c(0, started=False), "u3": _c(2, leader=True)}
    await store.replace_roster(TEAM, members, NOW)
    stored = await store.get_team(TEAM)
    assert stored is not None and stored.synced_at == NOW
    assert stored.summary is None  # nothing published yet: leaders never read live sums
    assert await _live(store) == _sum(*members.values())
    assert await store.teams_of(TEAM.tenant_id, "u1") == [TEAM.team_id]
    assert await store.teams_of(OTHER_TENANT.tenant_id, "u1") == []
    assert await store.get_team(OTHER_TENANT) is None


async def test_the_roster_lists_its_members(store: TeamStore) -> None:
    assert await store.member_ids(TEAM) == []
    odd = "user|with:odd/chars"
    await store.replace_roster(TEAM, {"u2": _c(1), "u1": _c(0), odd: _c(2)}, NOW)
    await store.replace_roster(OTHER_TENANT, {"u9": _c(1)}, NOW)
    assert await store.member_ids(TEAM) == sorted(["u1", "u2", odd])
    await store.update_member(TEAM, "u2", None)
    assert await store.member_ids(TEAM) == sorted(["u1", odd])


async def test_a_member_update_moves_the_summary_by_the_difference(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(2)}, NOW)
    assert await store.update_member(TEAM, "u1", _c(3)) is True
    assert await _live(store) == _sum(_c(3), _c(2))
    assert await store.update_member(TEAM, "stranger", _c(1)) is False


async def test_removing_a_member_takes_them_out_of_every_figure(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(2)}, NOW)
    assert await store.update_member(TEAM, "u2", None) is True
    assert await _live(store) == _sum(_c(1))
    assert await store.teams_of(TEAM.tenant_id, "u2") == []


async def test_concurrent_member_updates_are_all_counted(store: TeamStore) -> None:
    users = {f"u{i}": _c(0) for i in range(8)}
    await store.replace_roster(TEAM, users, NOW)
    await asyncio.gather(*(store.update_member(TEAM, user, _c(1)) for user in users))
    assert await _live(store) == _sum(*[_c(1)] * 8)
    assert (await _pending(store))["quiz"] == 8  # each change noted once, none lost


async def test_a_resync_replaces_the_roster(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(2)}, NOW)
    await store.replace_roster(TEAM, {"u2": _c(2), "u3": _c(0)}, NOW)
    assert await _live(store) == _sum(_c(2), _c(0))
    assert await store.teams_of(TEAM.tenant_id, "u1") == []
    assert await store.teams_of(TEAM.tenant_id, "u3") == [TEAM.team_id]


async def test_a_large_roster_syncs_in_batches(store: TeamStore) -> None:
    members = {f"user-{i:04d}": _c(i % 3, leader=i < 5) for i in range(250)}
    await store.replace_roster(TEAM, members, NOW)
    live = await _live(store)
    assert live.members == 250 and live.leaders == 5


async def test_leadership_comes_from_the_roster_not_from_updates(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"boss": _c(1, leader=True), "u1": _c(1)}, NOW)
    await store.update_member(TEAM, "boss", _c(2, leader=False))
    await store.update_member(TEAM, "u1", _c(2, leader=True))
    assert await _live(store) == _sum(_c(2, leader=True), _c(2))


async def test_leaders_read_only_what_was_published(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(2)}, NOW)
    day = date(2026, 11, 27)

    point = HistoryPoint(date(2026, 11, 26), 3, {"low": ConfidenceCount(3, 1, 5)})

    def publish(live: TeamSummary, pub: Publication) -> Publication:
        return replace(
            pub, snapshot=live, published_on=day, previous=TeamSummary.empty(), history=(point,)
        )

    published = await store.publish(TEAM, publish)
    await store.update_member(TEAM, "u1", _c(5))  # after the snapshot: not visible
    stored = await store.get_team(TEAM)
    assert stored == published
    assert stored is not None and stored.summary == _sum(_c(1), _c(2))
    assert (stored.published_on, stored.previous) == (day, TeamSummary.empty())
    assert stored.history == (point,)
    assert await store.publish(TEAM, lambda live, pub: None) == stored  # nothing decided
    assert await store.publish(OTHER_TENANT, publish) is None


async def test_each_member_counts_once_per_section_until_it_is_released(
    store: TeamStore,
) -> None:
    await store.replace_roster(TEAM, {"u1": _c(0), "u2": _c(0)}, NOW)
    joined = await _pending(store)
    assert joined["progress"] == 2 and "quiz" not in joined  # joined, no quiz answers yet
    for lessons in (1, 2, 3):
        await store.update_member(TEAM, "u1", _c(lessons))
    pending = await _pending(store)
    assert pending["quiz"] == 1 and pending["w|2026-W48"] == 2  # u1 counted once

    def release(live: TeamSummary, pub: Publication) -> Publication:
        return pub.publish(live, threshold=2, today=date(2026, 12, 1), this_week="2026-W49")

    await store.publish(TEAM, release)
    assert await _pending(store) == {"quiz": 1, "confidence": 1}  # one person: waits
    await store.update_member(TEAM, "u1", _c(4))
    await store.update_member(TEAM, "u1", _c(5))
    assert (await _pending(store))["quiz"] == 1
    await store.update_member(TEAM, "u2", _c(1))
    assert (await _pending(store))["quiz"] == 2


async def test_a_resync_notes_who_joined_left_or_changed(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(1)}, NOW)
    await store.publish(
        TEAM,
        lambda live, pub: Publication(
            snapshot=live, published_on=NOW.date(), epochs={s: 1 for s in pub.pending}
        ),
    )
    await store.replace_roster(TEAM, {"u1": _c(1), "u3": _c(0)}, NOW)
    pending = await _pending(store)
    assert pending["progress"] == 2  # u2 left, u3 joined; u1 did not change
    assert pending["quiz"] == 1  # only u2 took quiz answers away


async def test_joining_makes_a_group_without_a_roster(store: TeamStore) -> None:
    shard = TeamKey(TEAM.tenant_id, "org-3")
    assert await store.update_member(shard, "u1", _c(1)) is False
    assert await store.update_member(shard, "u1", _c(1), join=True) is True
    assert await store.update_member(shard, "u2", _c(2), join=True) is True
    assert await _live(store, shard) == _sum(_c(1), _c(2))
    assert await store.teams_of(TEAM.tenant_id, "u1") == []  # not a team of theirs
    assert await store.update_member(shard, "u1", None) is True
    assert await _live(store, shard) == _sum(_c(2))


async def test_concurrent_joins_all_count(store: TeamStore) -> None:
    shard = TeamKey(TEAM.tenant_id, "org-0")
    await asyncio.gather(*(store.update_member(shard, f"u{i}", _c(1), join=True) for i in range(6)))
    assert (await _live(store, shard)).members == 6


async def test_designated_leaders_belong_to_one_team(store: TeamStore) -> None:
    other_team = TeamKey(TEAM.tenant_id, "bbbbbbbb-0000-4000-8000-000000000002")
    assert await store.designated(TEAM) == frozenset()
    await store.designate(TEAM, frozenset({"boss", "deputy"}))
    assert await store.designated(TEAM) == {"boss", "deputy"}
    assert await store.designated(other_team) == frozenset()
    assert await store.designated(OTHER_TENANT) == frozenset()
    await store.designate(TEAM, frozenset({"deputy"}))
    assert await store.designated(TEAM) == {"deputy"}


async def test_a_combined_snapshot_is_stored_as_given(store: TeamStore) -> None:
    key = TeamKey(TEAM.tenant_id, "organisation")
    point = HistoryPoint(date(2026, 11, 26), 4, {"high": ConfidenceCount(4, 6, 9)})
    combined = StoredTeam(_sum(_c(1), _c(2)), NOW, date(2026, 11, 27), _sum(_c(1)), (point,))
    await store.put_published(key, combined)
    assert await store.get_team(key) == combined
    assert await store.get_team(TeamKey(OTHER_TENANT.tenant_id, "organisation")) is None


async def test_assignments_are_kept_per_tenant_and_withdrawn(store: TeamStore) -> None:
    later = Assignment("aaaaaaaaaaaa", "foundation", TEAM.team_id, date(2027, 3, 1), NOW.date())
    sooner = Assignment("bbbbbbbbbbbb", "finance", "group-2", date(2027, 1, 1), NOW.date())
    assert await store.assignments(TEAM.tenant_id) == []
    await store.save_assignment(TEAM.tenant_id, later)
    await store.save_assignment(TEAM.tenant_id, sooner)
    assert await store.assignments(TEAM.tenant_id) == [sooner, later]
    assert await store.assignments(OTHER_TENANT.tenant_id) == []
    assert await store.delete_assignment(OTHER_TENANT.tenant_id, later.id) is False
    assert await store.delete_assignment(TEAM.tenant_id, later.id) is True
    assert await store.delete_assignment(TEAM.tenant_id, later.id) is False
    assert await store.assignments(TEAM.tenant_id) == [sooner]


async def test_departments_are_remembered_per_user_and_tenant(store: TeamStore) -> None:
    assert await store.department_of(TEAM.tenant_id, "u1") is None
    await store.set_department(TEAM.tenant_id, "u1", "Finance & Risk/EMEA")
    assert await store.department_of(TEAM.tenant_id, "u1") == "Finance & Risk/EMEA"
    assert await store.department_of(OTHER_TENANT.tenant_id, "u1") is None
    await store.set_department(TEAM.tenant_id, "u1", None)
    await store.set_department(TEAM.tenant_id, "u1", None)  # forgetting twice is harmless
    assert await store.department_of(TEAM.tenant_id, "u1") is None


async def test_groups_are_listed_and_read_by_id_prefix(store: TeamStore) -> None:
    tenant = TEAM.tenant_id
    for group in ("dept:Finance", "dept:R&D/Labs", "org-1"):
        await store.update_member(TeamKey(tenant, group), "u1", _c(1), join=True)
    await store.update_member(TeamKey(OTHER_TENANT.tenant_id, "dept:HR"), "u1", _c(1), join=True)
    await store.replace_roster(TEAM, {"u1": _c(1)}, NOW)
    assert await store.group_ids(tenant, "dept:") == ["dept:Finance", "dept:R&D/Labs"]
    assert await store.published_groups(tenant, "dept:") == []  # none published yet
    await _live(store, TeamKey(tenant, "dept:R&D/Labs"))
    await _live(store, TEAM)
    found = await store.published_groups(tenant, "dept:")
    assert [name for name, _ in found] == ["dept:R&D/Labs"]
    assert found[0][1].summary == _sum(_c(1))
    assert await store.published_teams(tenant) == [_sum(_c(1))]  # the real team only
