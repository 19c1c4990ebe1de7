"""In-memory :class:`~teams_app.storage.team_ports.TeamStore` for fast tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from teams_app.domain.team import Contribution, TeamSummary
from teams_app.storage.ports import ConcurrentUpdate
from teams_app.storage.team_ports import StoredTeam, TeamKey


class MemoryTeamStore:
    """:class:`TeamStore` kept in dictionaries."""

    def __init__(self) -> None:
        self._teams: dict[TeamKey, tuple[TeamSummary, datetime, int]] = {}
        self._members: dict[TeamKey, dict[str, Contribution]] = {}

    async def get_team(self, team: TeamKey) -> StoredTeam | None:
        """See :meth:`TeamStore.get_team`."""
        found = self._teams.get(team)
        return StoredTeam(found[0], found[1]) if found else None

    async def update_member(self, team: TeamKey, user_id: str, new: Contribution | None) -> bool:
        """See :meth:`TeamStore.update_member`."""
        found = self._teams.get(team)
        members = self._members.get(team, {})
        old = members.get(user_id)
        if found is None or old is None:
            return False
        summary = found[0].add(old, -1)
        if new is not None:
            new = replace(new, leader=old.leader)
            summary = summary.add(new)
            members[user_id] = new
        else:
            del members[user_id]
        self._teams[team] = (summary, found[1], found[2] + 1)
        return True

    async def replace_roster(
        self, team: TeamKey, members: Mapping[str, Contribution], synced_at: datetime
    ) -> None:
        """See :meth:`TeamStore.replace_roster`."""
        version = self._teams.get(team, (None, None, 0))[2]
        summary = TeamSummary.empty()
        for contribution in members.values():
            summary = summary.add(contribution)
        if self._teams.get(team, (None, None, 0))[2] != version:
            raise ConcurrentUpdate
        self._members[team] = dict(members)
        self._teams[team] = (summary, synced_at, version + 1)

    async def member_ids(self, team: TeamKey) -> list[str]:
        """See :meth:`TeamStore.member_ids`."""
        return sorted(self._members.get(team, {}))

    async def teams_of(self, tenant_id: str, user_id: str) -> list[str]:
        """See :meth:`TeamStore.teams_of`."""
        return sorted(
            key.team_id
            for key, members in self._members.items()
            if key.tenant_id == tenant_id and user_id in members
        )
