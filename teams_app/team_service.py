"""The leader's team view: who may see it, keeping its figures current, and roster syncs.

Figures come from one summary row per team (:mod:`teams_app.storage.team_tables`), updated
whenever a member's progress changes. Who is on a team and who leads it comes from the
directory (Microsoft Graph): the team's owners, plus leaders an admin designates. A roster
older than ``roster_ttl`` is refreshed in the background, so a leader never waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from teams_app.directory import Directory, DirectoryError
from teams_app.domain.content import Curriculum
from teams_app.domain.learner import LearnerState, iso_week
from teams_app.domain.privacy import TeamView
from teams_app.domain.team import Contribution, contribution_of, team_view
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey, LearnerStore, StorageError
from teams_app.storage.team_ports import TeamKey, TeamStore

logger = logging.getLogger(__name__)

OWNERS_TTL_SECONDS = 300.0
SYNC_CONCURRENCY = 16
SYNC_TRIES = 3


class Forbidden(Exception):
    """The user may not see this team's figures."""


@dataclass(frozen=True, slots=True)
class TeamResult:
    """A team view, or ``None`` while the first roster sync is still running."""

    view: TeamView | None
    syncing: bool


def pulses_of(state: LearnerState) -> dict[str, tuple[int, int, bool]]:
    """A learner's pulses in the shape team figures use."""
    return {w: (p.confidence, p.minutes_saved, p.caught_error) for w, p in state.pulses.items()}


class TeamService:
    """Team figures for leaders, kept current at write time."""

    def __init__(
        self,
        learners: LearnerStore,
        teams: TeamStore,
        curriculum: Curriculum,
        directory: Directory | None,
        *,
        threshold: int,
        designated_leaders: frozenset[str] = frozenset(),
        roster_ttl: timedelta = timedelta(hours=6),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._learners = learners
        self._teams = teams
        self._curriculum = curriculum
        self._directory = directory
        self._threshold = threshold
        self._designated = designated_leaders
        self._roster_ttl = roster_ttl
        self._clock = clock
        self._owners: dict[TeamKey, tuple[float, frozenset[str]]] = {}
        self._syncs: dict[TeamKey, asyncio.Task[None]] = {}

    # --- write time ---------------------------------------------------------------------

    async def learner_changed(self, key: LearnerKey, state: LearnerState) -> None:
        """Move the learner's teams' figures to their new state (best effort: a failure is
        logged and repaired by the next change or roster sync)."""
        try:
            teams = await self._teams.teams_of(key.tenant_id, key.user_id)
            if not teams:
                return
            contribution = contribution_of(
                state, self._curriculum, leader=False, pulses=pulses_of(state)
            )
            for team_id in teams:
                await self._teams.update_member(
                    TeamKey(key.tenant_id, team_id), key.user_id, contribution
                )
        except (StorageError, ConcurrentUpdate) as err:
            logger.warning("team figures not updated: %s", type(err).__name__)

    async def learner_deleted(self, key: LearnerKey) -> None:
        """Take a learner out of every team's figures (their data is being deleted)."""
        for team_id in await self._teams.teams_of(key.tenant_id, key.user_id):
            await self._teams.update_member(TeamKey(key.tenant_id, team_id), key.user_id, None)

    # --- the leader's view --------------------------------------------------------------

    async def leader_view(
        self, tenant_id: str, user_id: str, team_id: str, user_token: str | None
    ) -> TeamResult:
        """The team's figures, if the user leads it; raises :class:`Forbidden` otherwise."""
        team = await self.require_leader(tenant_id, user_id, team_id, user_token)
        stored = await self._teams.get_team(team)
        stale = stored is None or self._clock() - stored.synced_at > self._roster_ttl
        if stale and user_token is not None and self._directory is not None:
            self._start_sync(team, user_token)
        if stored is None:
            return TeamResult(view=None, syncing=team in self._syncs)
        this_week = iso_week(self._clock().date())
        tracks = [t.id for t in self._curriculum.tracks]
        view = team_view(
            stored.summary, threshold=self._threshold, this_week=this_week, tracks=tracks
        )
        return TeamResult(view=view, syncing=team in self._syncs)

    async def require_leader(
        self, tenant_id: str, user_id: str, team_id: str, user_token: str | None
    ) -> TeamKey:
        """The team, if the user leads it; raises :class:`Forbidden` otherwise."""
        team = TeamKey(tenant_id, team_id)
        if not await self.is_leader(team, user_id, user_token):
            raise Forbidden("not a leader of this team")
        return team

    async def is_leader(self, team: TeamKey, user_id: str, user_token: str | None) -> bool:
        """Designated leaders, and the team's owners according to the directory."""
        if user_id in self._designated:
            return True
        if self._directory is None or user_token is None:
            return False
        cached = self._owners.get(team)
        if cached is None or time.monotonic() - cached[0] > OWNERS_TTL_SECONDS:
            try:
                owners = await self._directory.team_owners(team.tenant_id, user_token, team.team_id)
            except DirectoryError:
                return False  # not found in the user's tenant, or no permission: not theirs
            cached = (time.monotonic(), frozenset(owners))
            self._owners[team] = cached
        return user_id in cached[1]

    # --- roster syncs -------------------------------------------------------------------

    def _start_sync(self, team: TeamKey, user_token: str) -> None:
        if team in self._syncs:
            return
        task = asyncio.create_task(self._sync_quietly(team, user_token))
        self._syncs[team] = task
        task.add_done_callback(lambda _t: self._syncs.pop(team, None))

    async def _sync_quietly(self, team: TeamKey, user_token: str) -> None:
        try:
            await self.sync_roster(team, user_token)
        except (DirectoryError, StorageError, ConcurrentUpdate) as err:
            logger.warning("team roster sync failed: %s", type(err).__name__)

    async def sync_roster(self, team: TeamKey, user_token: str) -> None:
        """Read the team's members and owners from the directory and rebuild its figures."""
        assert self._directory is not None
        members = await self._directory.team_members(team.tenant_id, user_token, team.team_id)
        owners = await self._directory.team_owners(team.tenant_id, user_token, team.team_id)
        self._owners[team] = (time.monotonic(), frozenset(owners))
        leaders = set(owners) | self._designated
        for _ in range(SYNC_TRIES):
            contributions = await self.contributions(team.tenant_id, members, leaders)
            try:
                await self._teams.replace_roster(team, contributions, self._clock())
            except ConcurrentUpdate:
                continue
            logger.info("team roster synced: %d members", len(contributions))
            return
        raise ConcurrentUpdate

    async def contributions(
        self, tenant_id: str, members: Iterable[str], leaders: set[str]
    ) -> dict[str, Contribution]:
        """Each member's current contribution, read from their profiles."""
        limit = asyncio.Semaphore(SYNC_CONCURRENCY)

        async def one(user_id: str) -> tuple[str, Contribution]:
            async with limit:
                stored = await self._learners.get_profile(LearnerKey(tenant_id, user_id))
            state = stored.state if stored else LearnerState()
            leader = user_id in leaders
            return user_id, contribution_of(
                state, self._curriculum, leader=leader, pulses=pulses_of(state)
            )

        pairs = await asyncio.gather(*(one(m) for m in dict.fromkeys(members)))
        return dict(pairs)

    async def close(self) -> None:
        """Stop background syncs (at shutdown)."""
        tasks = list(self._syncs.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def view_json(result: TeamResult) -> dict[str, Any]:
    """The API body for a team view."""
    return {
        "status": "syncing" if result.view is None else "ready",
        "refreshing": result.syncing,
        "view": result.view.to_dict() if result.view else None,
    }
