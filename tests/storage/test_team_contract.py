"""One contract for every TeamStore: in memory and Azure Tables (on Azurite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from teams_app.domain.team import Contribution, TeamSummary
from teams_app.storage.tables import service_client
from teams_app.storage.team_memory import MemoryTeamStore
from teams_app.storage.team_ports import TeamKey, TeamStore
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


async def test_unknown_team_has_no_summary(store: TeamStore) -> None:
    assert await store.get_team(TEAM) is None
    assert await store.update_member(TEAM, "u1", _c(1)) is False


async def test_a_roster_sync_builds_the_summary_and_memberships(store: TeamStore) -> None:
    members = {"u1": _c(1), "u2": _c(0, started=False), "u3": _c(2, leader=True)}
    await store.replace_roster(TEAM, members, NOW)
    stored = await store.get_team(TEAM)
    assert stored is not None
    assert stored.summary == _sum(*members.values())
    assert stored.synced_at == NOW
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
    stored = await store.get_team(TEAM)
    assert stored is not None and stored.summary == _sum(_c(3), _c(2))
    assert await store.update_member(TEAM, "stranger", _c(1)) is False


async def test_removing_a_member_takes_them_out_of_every_figure(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(2)}, NOW)
    assert await store.update_member(TEAM, "u2", None) is True
    stored = await store.get_team(TEAM)
    assert stored is not None and stored.summary == _sum(_c(1))
    assert await store.teams_of(TEAM.tenant_id, "u2") == []


async def test_concurrent_member_updates_are_all_counted(store: TeamStore) -> None:
    users = {f"u{i}": _c(0) for i in range(8)}
    await store.replace_roster(TEAM, users, NOW)
    await asyncio.gather(*(store.update_member(TEAM, user, _c(1)) for user in users))
    stored = await store.get_team(TEAM)
    assert stored is not None
    assert stored.summary == _sum(*[_c(1)] * 8)


async def test_a_resync_replaces_the_roster(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"u1": _c(1), "u2": _c(2)}, NOW)
    await store.replace_roster(TEAM, {"u2": _c(2), "u3": _c(0)}, NOW)
    stored = await store.get_team(TEAM)
    assert stored is not None and stored.summary == _sum(_c(2), _c(0))
    assert await store.teams_of(TEAM.tenant_id, "u1") == []
    assert await store.teams_of(TEAM.tenant_id, "u3") == [TEAM.team_id]


async def test_a_large_roster_syncs_in_batches(store: TeamStore) -> None:
    members = {f"user-{i:04d}": _c(i % 3, leader=i < 5) for i in range(250)}
    await store.replace_roster(TEAM, members, NOW)
    stored = await store.get_team(TEAM)
    assert stored is not None
    assert stored.summary.members == 250 and stored.summary.leaders == 5


async def test_leadership_comes_from_the_roster_not_from_updates(store: TeamStore) -> None:
    await store.replace_roster(TEAM, {"boss": _c(1, leader=True), "u1": _c(1)}, NOW)
    await store.update_member(TEAM, "boss", _c(2, leader=False))
    await store.update_member(TEAM, "u1", _c(2, leader=True))
    stored = await store.get_team(TEAM)
    assert stored is not None
    assert stored.summary == _sum(_c(2, leader=True), _c(2))
