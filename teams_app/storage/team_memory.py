"""In-memory :class:`~teams_app.storage.team_ports.TeamStore` for fast tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from teams_app.domain.assignment import Assignment
from teams_app.domain.ids import is_object_id
from teams_app.domain.publication import Publication
from teams_app.domain.team import Contribution, TeamSummary
from teams_app.storage.ports import ConcurrentUpdate
from teams_app.storage.team_ports import Decide, StoredTeam, TeamKey


@dataclass
class _Team:
    live: TeamSummary
    synced_at: datetime
    version: int = 0
    publication: Publication = field(default_factory=Publication)
    members: dict[str, tuple[Contribution, dict[str, int]]] = field(default_factory=dict)
    published: StoredTeam | None = None
    joinable: bool = False  # made by joining (no roster): not listed by teams_of


class MemoryTeamStore:
    """:class:`TeamStore` kept in dictionaries."""

    def __init__(self) -> None:
        self._teams: dict[TeamKey, _Team] = {}
        self._designated: dict[TeamKey, frozenset[str]] = {}
        self._put: dict[TeamKey, StoredTeam] = {}
        self._assignments: dict[str, dict[str, Assignment]] = {}
        self._departments: dict[tuple[str, str], str] = {}

    async def get_team(self, team: TeamKey) -> StoredTeam | None:
        """See :meth:`TeamStore.get_team`."""
        if team in self._put:
            return self._put[team]
        found = self._teams.get(team)
        if found is None:
            return None
        return found.published or StoredTeam(None, found.synced_at)

    async def update_member(
        self, team: TeamKey, user_id: str, new: Contribution | None, *, join: bool = False
    ) -> bool:
        """See :meth:`TeamStore.update_member`."""
        found = self._teams.get(team)
        if found is None and join:
            found = self._teams[team] = _Team(TeamSummary.empty(), datetime.now(UTC), joinable=True)
        if found is None or (user_id not in found.members and not join):
            return False
        old, counted = found.members.get(user_id, (None, {}))
        if new is not None and old is not None:
            new = replace(new, leader=old.leader)
        if old == new:
            return True
        live = found.live if old is None else found.live.add(old, -1)
        publication, counted = found.publication.note(counted, old, new)
        if new is not None:
            live = live.add(new)
            found.members[user_id] = (new, counted)
        else:
            found.members.pop(user_id, None)
        found.live, found.publication, found.version = live, publication, found.version + 1
        return True

    async def publish(self, team: TeamKey, decide: Decide) -> StoredTeam | None:
        """See :meth:`TeamStore.publish`."""
        found = self._teams.get(team)
        if found is None:
            return None
        publication = decide(found.live, found.publication)
        if publication is not None:
            found.publication = publication
            found.published = StoredTeam(
                publication.snapshot,
                found.synced_at,
                publication.published_on,
                publication.previous,
                publication.history,
            )
        return found.published or StoredTeam(None, found.synced_at)

    async def replace_roster(
        self, team: TeamKey, members: Mapping[str, Contribution], synced_at: datetime
    ) -> None:
        """See :meth:`TeamStore.replace_roster`."""
        found = self._teams.get(team) or _Team(TeamSummary.empty(), synced_at)
        version = found.version
        live, publication = TeamSummary.empty(), found.publication
        rows: dict[str, tuple[Contribution, dict[str, int]]] = {}
        for user, contribution in members.items():
            old, counted = found.members.get(user, (None, {}))
            publication, counted = publication.note(counted, old, contribution)
            rows[user] = (contribution, counted)
            live = live.add(contribution)
        for user in found.members.keys() - members.keys():
            publication, _ = publication.note(found.members[user][1], found.members[user][0], None)
        if self._teams.get(team, found).version != version:
            raise ConcurrentUpdate
        found.live, found.publication, found.members = live, publication, rows
        found.synced_at, found.version = synced_at, version + 1
        if found.published is not None:
            found.published = replace(found.published, synced_at=synced_at)
        self._teams[team] = found

    async def member_ids(self, team: TeamKey) -> list[str]:
        """See :meth:`TeamStore.member_ids`."""
        found = self._teams.get(team)
        return sorted(found.members) if found else []

    async def teams_of(self, tenant_id: str, user_id: str) -> list[str]:
        """See :meth:`TeamStore.teams_of`."""
        return sorted(
            key.team_id
            for key, found in self._teams.items()
            if key.tenant_id == tenant_id and user_id in found.members and not found.joinable
        )

    async def designated(self, team: TeamKey) -> frozenset[str]:
        """See :meth:`TeamStore.designated`."""
        return self._designated.get(team, frozenset())

    async def designate(self, team: TeamKey, user_ids: frozenset[str]) -> None:
        """See :meth:`TeamStore.designate`."""
        self._designated[team] = frozenset(user_ids)

    async def published_teams(self, tenant_id: str) -> list[TeamSummary]:
        """See :meth:`TeamStore.published_teams`."""
        return [
            found.published.summary
            for key, found in sorted(self._teams.items(), key=lambda item: item[0].team_id)
            if key.tenant_id == tenant_id
            and is_object_id(key.team_id)
            and found.published is not None
            and found.published.summary is not None
        ]

    async def published_groups(self, tenant_id: str, prefix: str) -> list[tuple[str, StoredTeam]]:
        """See :meth:`TeamStore.published_groups`."""
        return [
            (key.team_id, found.published)
            for key, found in sorted(self._teams.items(), key=lambda item: item[0].team_id)
            if key.tenant_id == tenant_id
            and key.team_id.startswith(prefix)
            and found.published is not None
        ]

    async def group_ids(self, tenant_id: str, prefix: str) -> list[str]:
        """See :meth:`TeamStore.group_ids`."""
        return sorted(
            key.team_id
            for key in self._teams
            if key.tenant_id == tenant_id and key.team_id.startswith(prefix)
        )

    async def department_of(self, tenant_id: str, user_id: str) -> str | None:
        """See :meth:`TeamStore.department_of`."""
        return self._departments.get((tenant_id, user_id))

    async def set_department(self, tenant_id: str, user_id: str, department: str | None) -> None:
        """See :meth:`TeamStore.set_department`."""
        if department is None:
            self._departments.pop((tenant_id, user_id), None)
        else:
            self._departments[(tenant_id, user_id)] = department

    async def put_published(self, team: TeamKey, stored: StoredTeam) -> None:
        """See :meth:`TeamStore.put_published`."""
        self._put[team] = stored

    async def assignments(self, tenant_id: str) -> list[Assignment]:
        """See :meth:`TeamStore.assignments`."""
        found = self._assignments.get(tenant_id, {}).values()
        return sorted(found, key=lambda a: (a.due, a.id))

    async def save_assignment(self, tenant_id: str, assignment: Assignment) -> None:
        """See :meth:`TeamStore.save_assignment`."""
        self._assignments.setdefault(tenant_id, {})[assignment.id] = assignment

    async def delete_assignment(self, tenant_id: str, assignment_id: str) -> bool:
        """See :meth:`TeamStore.delete_assignment`."""
        return self._assignments.get(tenant_id, {}).pop(assignment_id, None) is not None
