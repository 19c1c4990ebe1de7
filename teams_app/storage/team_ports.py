"""The team store port: per-team summary rows kept current at write time.

Implementations: :class:`teams_app.storage.team_tables.TableTeamStore` (Azure Tables) and
:class:`teams_app.storage.team_memory.MemoryTeamStore` (tests); one contract suite runs
against both (``tests/storage/test_team_contract.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from teams_app.domain.team import Contribution, TeamSummary


@dataclass(frozen=True, slots=True)
class TeamKey:
    """A team (its Entra group id) inside a tenant."""

    tenant_id: str
    team_id: str


@dataclass(frozen=True, slots=True)
class StoredTeam:
    """A team's summary, and when its roster was last synchronised with the directory."""

    summary: TeamSummary
    synced_at: datetime


class TeamStore(Protocol):
    """Team summaries and memberships."""

    async def get_team(self, team: TeamKey) -> StoredTeam | None:
        """The team's summary (one row), or ``None`` before its first roster sync."""
        ...

    async def update_member(self, team: TeamKey, user_id: str, new: Contribution | None) -> bool:
        """Replace a member's contribution (``None`` removes the member) and adjust the
        summary by the difference, atomically and with ETag retries. The member keeps the
        leader flag the last roster sync gave them.

        Returns ``False`` when the team is unknown or the user is not on its roster.
        """
        ...

    async def replace_roster(
        self, team: TeamKey, members: Mapping[str, Contribution], synced_at: datetime
    ) -> None:
        """Make ``members`` the team's roster and rebuild its summary from them.

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
