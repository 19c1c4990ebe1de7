"""The team store port: per-team summary rows kept current at write time.

Implementations: :class:`teams_app.storage.team_tables.TableTeamStore` (Azure Tables) and
:class:`teams_app.storage.team_memory.MemoryTeamStore` (tests); one contract suite runs
against both (``tests/storage/test_team_contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from teams_app.domain.assignment import Assignment
from teams_app.domain.publication import HistoryPoint, Publication
from teams_app.domain.team import Contribution, TeamSummary


@dataclass(frozen=True, slots=True)
class TeamKey:
    """A team (its Entra group id) inside a tenant."""

    tenant_id: str
    team_id: str


@dataclass(frozen=True, slots=True)
class StoredTeam:
    """What leaders read of a team: its published snapshot (``None`` before the first), the
    snapshot before the last move of the confidence figures, when it was published and when
    the roster was last synchronised with the directory."""

    summary: TeamSummary | None
    synced_at: datetime
    published_on: date | None = None
    previous: TeamSummary | None = None
    history: tuple[HistoryPoint, ...] = ()  # the confidence figures at each of their moves


# Given the live summary and the publication state, the new publication state (or ``None``
# to leave it as it is).
Decide = Callable[[TeamSummary, Publication], Publication | None]


class TeamStore(Protocol):
    """Team summaries and memberships."""

    async def get_team(self, team: TeamKey) -> StoredTeam | None:
        """What leaders read (one row), or ``None`` before the team's first roster sync."""
        ...

    async def update_member(
        self, team: TeamKey, user_id: str, new: Contribution | None, *, join: bool = False
    ) -> bool:
        """Replace a member's contribution (``None`` removes the member), adjust the live
        summary by the difference and note the change for publication
        (:meth:`Publication.note`), atomically and with ETag retries. The member keeps the
        leader flag the last roster sync gave them.

        Returns ``False`` when the team is unknown or the user is not on its roster, unless
        ``join`` is set: then the team and the member are created as needed.
        """
        ...

    async def publish(self, team: TeamKey, decide: Decide) -> StoredTeam | None:
        """Apply ``decide`` to the team's live summary and publication state, with ETag
        retries; store and return what leaders now read (when ``decide`` returns ``None``,
        nothing is written). ``None`` for an unknown team."""
        ...

    async def replace_roster(
        self, team: TeamKey, members: Mapping[str, Contribution], synced_at: datetime
    ) -> None:
        """Make ``members`` the team's roster and rebuild its live summary from them; each
        member's change (joining, leaving, a new contribution) is noted for publication.

        Raises :class:`~teams_app.storage.ports.ConcurrentUpdate` when a member update landed
        meanwhile; the caller recomputes the contributions and tries again.
        """
        ...

    async def teams_of(self, tenant_id: str, user_id: str) -> list[str]:
        """The teams whose roster holds this user."""
        ...

    async def member_ids(self, team: TeamKey) -> list[str]:
        """The user ids on the team's roster (sorted; empty for an unknown team)."""
        ...

    async def published_teams(self, tenant_id: str) -> list[TeamSummary]:
        """The published snapshots of the tenant's real teams (whose ids are Entra object
        ids; not the organisation's shards or its combined row)."""
        ...

    async def published_groups(self, tenant_id: str, prefix: str) -> list[tuple[str, StoredTeam]]:
        """The published rows of the tenant's groups whose id starts with ``prefix``."""
        ...

    async def group_ids(self, tenant_id: str, prefix: str) -> list[str]:
        """The ids of the tenant's groups (with a summary row) starting with ``prefix``."""
        ...

    async def department_of(self, tenant_id: str, user_id: str) -> str | None:
        """The department the directory last gave for the user, if any."""
        ...

    async def set_department(self, tenant_id: str, user_id: str, department: str | None) -> None:
        """Remember (or, with ``None``, forget) the user's department."""
        ...

    async def put_published(self, team: TeamKey, stored: StoredTeam) -> None:
        """Store what leaders read for a group that has no roster of its own (the
        organisation's combined snapshot)."""
        ...

    async def assignments(self, tenant_id: str) -> list[Assignment]:
        """The tenant's assignments (sorted by due date, then id)."""
        ...

    async def save_assignment(self, tenant_id: str, assignment: Assignment) -> None:
        """Store a new assignment."""
        ...

    async def delete_assignment(self, tenant_id: str, assignment_id: str) -> bool:
        """Withdraw an assignment; ``False`` when there is none with that id."""
        ...

    async def designated(self, team: TeamKey) -> frozenset[str]:
        """The people a programme admin designated as this team's leaders."""
        ...

    async def designate(self, team: TeamKey, user_ids: frozenset[str]) -> None:
        """Make ``user_ids`` the team's designated leaders (the next roster sync counts
        them among the team's leaders)."""
        ...
