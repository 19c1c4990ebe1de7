"""Team and organisation figures: who may see them, keeping them current, roster syncs.

Live figures come from one summary row per team (:mod:`teams_app.storage.team_tables`),
updated whenever a member's progress changes; leaders read a snapshot published from it at
most once a day, under the rules of :mod:`teams_app.domain.publication`. Who is on a team
comes from the directory (Microsoft Graph); its leaders are its owners plus the people a
programme admin designated for that team, and nobody else. A roster older than
``roster_ttl`` is refreshed in the background, so a leader never waits for it.

The organisation's figures are kept the same way in ``ORG_SHARDS`` shards (every learner
belongs to one, by a hash of their id, so no single row takes every write); the shards are
only ever shown summed, so a section is released in all of them at once when their pending
changes add up to the threshold, and the sum is stored as one row for programme admins.
Departments (as the directory gives them at roster syncs) are groups of their own, published
under the same rules. Assignments (a track for a group, due on a date) are kept here too:
their completion is the group's published track count.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from teams_app import i18n
from teams_app.directory import Directory, DirectoryError, DirectoryUnavailable
from teams_app.domain.assignment import (
    Assignment,
    InvalidAssignment,
    for_learner,
    new_assignment,
)
from teams_app.domain.content import Curriculum, Role
from teams_app.domain.learner import LearnerState, iso_week
from teams_app.domain.organisation import OrganisationView, organisation_view
from teams_app.domain.privacy import TeamView
from teams_app.domain.publication import HistoryPoint, Publication
from teams_app.domain.team import Contribution, TeamSummary, contribution_of, team_view
from teams_app.storage.engine_ports import Ledger, State
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey, LearnerStore, StorageError
from teams_app.storage.team_ports import Decide, StoredTeam, TeamKey, TeamStore

logger = logging.getLogger(__name__)

OWNERS_TTL_SECONDS = 300.0
SYNC_CONCURRENCY = 16
SYNC_TRIES = 3
CLOSE_GRACE_SECONDS = 2.0
ORG_SHARDS = 8
ORG_TEAM = "organisation"  # the published row of the organisation's combined snapshot
ADMIN_ROLE = "AIReady.Admin"  # the Entra app role of programme admins
DELIVERY_WEEKS = 4
KICKOFF_KIND = "team-kickoff"  # markers that a team's challenge went out, not deliveries
_CAMPAIGN = re.compile(r"^(?P<kind>[a-z-]+)-(?P<stamp>\d{4}-W\d{2}|\d{4}-\d{2}-\d{2})$")
_STATES = frozenset(state.value for state in State)


class Forbidden(Exception):
    """The user may not see these figures or do this."""


@dataclass(frozen=True, slots=True)
class TeamResult:
    """A team view, or ``None`` before the first roster sync (``syncing`` while it runs)."""

    view: TeamView | None
    syncing: bool
    assignments: tuple[dict[str, Any], ...] = ()  # the team's, with its completion


def org_shard(tenant_id: str, user_id: str) -> TeamKey:
    """The organisation shard a learner's figures go to."""
    digest = hashlib.sha256(user_id.encode()).digest()
    return TeamKey(tenant_id, f"org-{int.from_bytes(digest[:4]) % ORG_SHARDS}")


DEPARTMENT_PREFIX = "dept:"


def department_group(tenant_id: str, department: str) -> TeamKey:
    """The group of a department's people (its figures feed the organisation view)."""
    return TeamKey(tenant_id, DEPARTMENT_PREFIX + department)


def last_closed_week(today: datetime) -> str:
    """The ISO week before the one ``today`` is in: the latest a snapshot can show."""
    return iso_week(today.date() - timedelta(weeks=1))


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
        roster_ttl: timedelta = timedelta(hours=6),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ledger: Ledger | None = None,
    ) -> None:
        self._ledger = ledger
        self._deliveries: dict[tuple[str, date], list[dict[str, Any]]] = {}
        self._learners = learners
        self._teams = teams
        self._curricula = curriculum
        self._directory = directory
        self._threshold = threshold
        self._roster_ttl = roster_ttl
        self._clock = clock
        self._owners: dict[TeamKey, tuple[float, frozenset[str]]] = {}
        self._syncs: dict[TeamKey, asyncio.Task[None]] = {}

    @property
    def _curriculum(self) -> Curriculum:
        """The curriculum in the current reader's language."""
        return self._curricula.in_language(i18n.current().code)

    # --- write time ---------------------------------------------------------------------

    async def learner_changed(self, key: LearnerKey, state: LearnerState) -> None:
        """Move the learner's teams' figures to their new state (best effort: a failure is
        logged and repaired by the next change or roster sync)."""
        try:
            contribution = contribution_of(
                state, self._curriculum, leader=False, pulses=pulses_of(state)
            )
            department, teams = await asyncio.gather(
                self._teams.department_of(key.tenant_id, key.user_id),
                self._teams.teams_of(key.tenant_id, key.user_id),
            )
            joined = [org_shard(key.tenant_id, key.user_id)]
            if department is not None:
                joined.append(department_group(key.tenant_id, department))
            # Different groups live in different partitions: update them side by side.
            results: list[object] = await asyncio.gather(
                *(
                    self._teams.update_member(g, key.user_id, contribution, join=True)
                    for g in joined
                ),
                *(
                    self._teams.update_member(TeamKey(key.tenant_id, t), key.user_id, contribution)
                    for t in teams
                ),
                return_exceptions=True,
            )
        except (StorageError, ConcurrentUpdate) as err:
            results = [err]
        for result in results:
            if isinstance(result, StorageError | ConcurrentUpdate):
                logger.warning("team figures not updated: %s", type(result).__name__)
            elif isinstance(result, BaseException):
                raise result

    async def learner_deleted(self, key: LearnerKey) -> None:
        """Take a learner's data out of the figures (their data is being deleted). They stay
        on their teams' rosters, which come from the directory, contributing nothing."""
        await self._teams.update_member(org_shard(key.tenant_id, key.user_id), key.user_id, None)
        department = await self._teams.department_of(key.tenant_id, key.user_id)
        if department is not None:
            group = department_group(key.tenant_id, department)
            await self._teams.update_member(group, key.user_id, None)
            await self._teams.set_department(key.tenant_id, key.user_id, None)
        for team_id in await self._teams.teams_of(key.tenant_id, key.user_id):
            await self._teams.update_member(
                TeamKey(key.tenant_id, team_id), key.user_id, Contribution()
            )

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
        stored = await self._fresh(team, stored)
        organisation = await self._organisation(tenant_id)
        view = team_view(
            stored.summary or TeamSummary.empty(),
            threshold=self._threshold,
            week=last_closed_week(self._clock()),
            tracks=[t.id for t in self._curriculum.tracks],
            previous=stored.previous,
            organisation=organisation.summary if organisation else None,
            published_on=stored.published_on.isoformat() if stored.published_on else None,
            history=_history(stored),
        )
        assignments = await self.team_assignments(team, stored.summary or TeamSummary.empty())
        return TeamResult(view=view, syncing=team in self._syncs, assignments=tuple(assignments))

    async def organisation_view(self, tenant_id: str, roles: frozenset[str]) -> OrganisationView:
        """The organisation's figures, for programme admins only (:class:`Forbidden`)."""
        require_admin(roles)
        stored = await self._organisation(tenant_id)
        foundation = [t.id for t in self._curriculum.tracks if Role.EVERYONE in t.roles]
        departments = [
            (group[len(DEPARTMENT_PREFIX) :], found.summary)
            for group, found in await self._teams.published_groups(tenant_id, DEPARTMENT_PREFIX)
            if found.summary is not None
        ]
        return organisation_view(
            (stored.summary if stored else None) or TeamSummary.empty(),
            threshold=self._threshold,
            week=last_closed_week(self._clock()),
            foundation=foundation,
            tracks=[t.id for t in self._curriculum.tracks],
            previous=stored.previous if stored else None,
            published_on=(
                stored.published_on.isoformat() if stored and stored.published_on else None
            ),
            departments=departments,
            history=_history(stored) if stored else (),
        )

    # --- assignments --------------------------------------------------------------------

    async def assign(
        self,
        tenant_id: str,
        roles: frozenset[str],
        user_token: str | None,
        request: dict[str, object],
    ) -> Assignment:
        """A programme admin assigns a track to a team or Entra group, due on a date.

        Raises :class:`Forbidden` for anyone else and
        :class:`~teams_app.domain.assignment.InvalidAssignment` for a bad request. The
        group's roster is read from the directory in the background when not known yet.
        """
        require_admin(roles)
        today = self._clock().date()
        assignment = new_assignment(
            self._curriculum, request.get("track"), request.get("group"), request.get("due"), today
        )
        if user_token is not None and self._directory is not None:
            try:
                name = await self._directory.group_name(tenant_id, user_token, assignment.group_id)
            except DirectoryUnavailable:
                name = None  # assigned all the same; the overview shows the id
            except DirectoryError as err:
                reason = (
                    "'group' is not a team or group of this directory"
                    if err.status in (400, 404)
                    else "'group' can't be read with your sign-in (the directory refused)"
                )
                raise InvalidAssignment(reason) from None
            assignment = replace(assignment, group_name=name)
        await self._teams.save_assignment(tenant_id, assignment)
        group = TeamKey(tenant_id, assignment.group_id)
        known = await self._teams.get_team(group) is not None
        if not known and user_token is not None and self._directory is not None:
            self._start_sync(group, user_token)
        return assignment

    async def withdraw(self, tenant_id: str, roles: frozenset[str], assignment_id: str) -> bool:
        """A programme admin withdraws an assignment; ``False`` when there is none."""
        require_admin(roles)
        return await self._teams.delete_assignment(tenant_id, assignment_id)

    async def assignments_overview(
        self, tenant_id: str, roles: frozenset[str]
    ) -> list[dict[str, Any]]:
        """Every assignment with its group's completion (from the group's snapshot)."""
        require_admin(roles)
        rows = []
        for a in await self._teams.assignments(tenant_id):
            group = TeamKey(tenant_id, a.group_id)
            stored = await self._teams.get_team(group)
            if stored is not None:
                stored = await self._fresh(group, stored)  # today's snapshot, as leaders see
            status = "ready" if stored else "syncing" if group in self._syncs else "unavailable"
            rows.append(
                {
                    **self._completion(a, stored.summary if stored else None),
                    "group": a.group_id,
                    "group_name": a.group_name,
                    "status": status,
                }
            )
        return rows

    async def team_assignments(self, team: TeamKey, summary: TeamSummary) -> list[dict[str, Any]]:
        """The team's assignments with its completion, for its leaders."""
        return [
            self._completion(a, summary)
            for a in await self._teams.assignments(team.tenant_id)
            if a.group_id == team.team_id
        ]

    def _completion(self, a: Assignment, summary: TeamSummary | None) -> dict[str, Any]:
        """How many of the group finished the track, under the team view's rule for track
        counts (at least the threshold of people, so the two never disagree), out of its
        members (shown when there are at least the threshold of them)."""
        track = self._curriculum.track(a.track_id)
        members = summary.members if summary else 0
        big_enough = members >= self._threshold
        finished = summary.tracks.get(a.track_id, 0) if summary else 0
        completed = finished if finished >= self._threshold else None
        return {
            "id": a.id,
            "track": a.track_id,
            "title": track.title if track else a.track_id,
            "due": a.due.isoformat(),
            "created": a.created.isoformat(),
            "completed": completed if big_enough else None,
            "members": members if big_enough else None,
            "overdue": self._clock().date() > a.due,  # past the due date, finished or not
        }

    async def assignments_of(self, key: LearnerKey) -> list[Assignment]:
        """The assignments of the groups the learner belongs to (for the chat). Best
        effort: when storage fails, the chat shows the rest of the progress card."""
        try:
            groups = set(await self._teams.teams_of(key.tenant_id, key.user_id))
            if not groups:
                return []
            found = await self._teams.assignments(key.tenant_id)
        except StorageError as err:
            logger.warning("assignments not read: %s", type(err).__name__)
            return []
        return [a for a in found if a.group_id in groups]

    async def learner_assignments(self, key: LearnerKey) -> list[dict[str, Any]]:
        """The assignments of the groups the learner belongs to, with their progress."""
        mine = await self.assignments_of(key)
        if not mine:
            return []
        stored = await self._learners.get_profile(key)
        state = stored.state if stored else LearnerState()
        today = self._clock().date()
        return [a.to_dict(today) for a in for_learner(mine, state, self._curriculum)]

    async def deliveries(self, tenant_id: str, roles: frozenset[str]) -> list[dict[str, Any]]:
        """What the proactive engine sent the tenant's learners over the last
        ``DELIVERY_WEEKS`` weeks, per kind of message: counts per delivery state, only for
        kinds with at least the threshold of deliveries. Read once a day per tenant."""
        require_admin(roles)
        today = self._clock().date()
        cached = self._deliveries.get((tenant_id, today))
        if cached is not None or self._ledger is None:
            return cached or []
        oldest = iso_week(today - timedelta(weeks=DELIVERY_WEEKS - 1))
        totals: dict[str, dict[str, int]] = {}
        for campaign in await self._ledger.campaigns():
            found = _CAMPAIGN.match(campaign)
            if found is None or found["kind"] == KICKOFF_KIND:
                continue
            stamp = found["stamp"]
            week = stamp if "W" in stamp else iso_week(date.fromisoformat(stamp))
            if week < oldest:
                continue
            counts = await self._ledger.counts(campaign, tenant_id)
            sums = totals.setdefault(found["kind"], {})
            for state, n in counts.items():
                sums[state] = sums.get(state, 0) + n
        rows: list[dict[str, Any]] = []
        for kind, sums in sorted(totals.items()):
            planned = sum(n for state, n in sums.items() if state in _STATES)
            if planned >= self._threshold:
                rows.append({"kind": kind, "deliveries": planned, **sums})
        # Today's figures per tenant; earlier days' are never read again.
        self._deliveries = {k: v for k, v in self._deliveries.items() if k[1] == today}
        self._deliveries[(tenant_id, today)] = rows
        return rows

    # --- publication --------------------------------------------------------------------

    def _decide(
        self, totals: dict[str, int] | None = None, shown: frozenset[str] = frozenset()
    ) -> Decide:
        today = self._clock()
        week = iso_week(today.date())

        def decide(live: TeamSummary, publication: Publication) -> Publication | None:
            if not publication.due(today.date()):
                return None
            return publication.publish(
                live,
                threshold=self._threshold,
                today=today.date(),
                this_week=week,
                totals=totals,
                shown_elsewhere=shown,
            )

        return decide

    async def _fresh(self, team: TeamKey, stored: StoredTeam) -> StoredTeam:
        """``stored``, or a new snapshot of the team when one is due."""
        if stored.published_on is not None and stored.published_on >= self._clock().date():
            return stored
        return await self._teams.publish(team, self._decide()) or stored

    async def _organisation(self, tenant_id: str) -> StoredTeam | None:
        """The organisation's combined snapshot, published anew when one is due."""
        key = TeamKey(tenant_id, ORG_TEAM)
        stored = await self._teams.get_team(key)
        today = self._clock().date()
        if stored is not None and stored.published_on is not None and stored.published_on >= today:
            return stored
        keys = [TeamKey(tenant_id, f"org-{n}") for n in range(ORG_SHARDS)]
        # Shards are only ever shown summed: release a section when the shards' pending
        # changes add up to the threshold, in every shard at once.
        totals: dict[str, int] = {}
        shown: set[str] = set()

        def add_up(live: TeamSummary, publication: Publication) -> None:
            for section, count in publication.pending.items():
                totals[section] = totals.get(section, 0) + count
            shown.update(publication.shown_weeks)

        for group in await self._teams.group_ids(tenant_id, DEPARTMENT_PREFIX):
            await self._teams.publish(TeamKey(tenant_id, group), self._decide())
        for key_ in keys:
            await self._teams.publish(key_, add_up)
        decide = self._decide(totals, frozenset(shown))
        shards = [await self._teams.publish(key_, decide) for key_ in keys]
        snapshots = [s for s in shards if s is not None and s.summary is not None]
        total, previous = TeamSummary.empty(), TeamSummary.empty()
        history: dict[date, HistoryPoint] = {}
        for shard in snapshots:
            assert shard.summary is not None
            total = total.plus(shard.summary)
            previous = previous.plus(shard.previous or shard.summary)
            for point in shard.history:  # shards release together: their days line up
                before = history.get(point.published_on)
                history[point.published_on] = before.plus(point) if before else point
        # Leaders' participation across the organisation: the sum of the teams' published
        # leaders' figures (someone leading two teams counts in each).
        total = _with_leaders(total, await self._teams.published_teams(tenant_id))
        combined = StoredTeam(
            total, self._clock(), today, previous, tuple(history[d] for d in sorted(history))
        )
        await self._teams.put_published(key, combined)
        return combined

    async def require_leader(
        self, tenant_id: str, user_id: str, team_id: str, user_token: str | None
    ) -> TeamKey:
        """The team, if the user leads it; raises :class:`Forbidden` otherwise."""
        team = TeamKey(tenant_id, team_id)
        if not await self.is_leader(team, user_id, user_token):
            raise Forbidden("only the team's owners and the leaders designated for it can see this")
        return team

    async def is_leader(self, team: TeamKey, user_id: str, user_token: str | None) -> bool:
        """The people designated for this team, and its owners according to the directory."""
        if user_id in await self._teams.designated(team):
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

    def refresh_roster(self, team: TeamKey, user_token: str | None) -> None:
        """Re-read a team's roster in the background (after its leaders were designated,
        so their leadership counts in the figures from the next snapshot)."""
        if user_token is not None and self._directory is not None:
            self._start_sync(team, user_token)

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
        departments = await self._directory.team_departments(
            team.tenant_id, user_token, team.team_id
        )
        members = list(departments)
        owners = await self._directory.team_owners(team.tenant_id, user_token, team.team_id)
        self._owners[team] = (time.monotonic(), frozenset(owners))
        leaders = set(owners) | await self._teams.designated(team)
        for _ in range(SYNC_TRIES):
            contributions = await self.contributions(team.tenant_id, members, leaders)
            try:
                await self._teams.replace_roster(team, contributions, self._clock())
            except ConcurrentUpdate:
                continue
            logger.info("team roster synced: %d members", len(contributions))
            await self._teams.publish(team, self._decide())  # the first snapshot, if none yet
            await self._place_in_departments(team.tenant_id, departments, contributions)
            return
        raise ConcurrentUpdate

    async def _place_in_departments(
        self,
        tenant_id: str,
        departments: dict[str, str | None],
        contributions: dict[str, Contribution],
    ) -> None:
        """Remember each member's department as the directory gives it, and move those whose
        department changed to its group. Someone who has not used AI Ready yet joins the
        group with their first change (:meth:`learner_changed`)."""
        for user, department in departments.items():
            if department is None:
                continue
            before = await self._teams.department_of(tenant_id, user)
            if before == department:
                continue
            if before is not None:
                await self._teams.update_member(department_group(tenant_id, before), user, None)
            await self._teams.set_department(tenant_id, user, department)
            contribution = replace(contributions[user], leader=False)
            if contribution != Contribution():
                await self._teams.update_member(
                    department_group(tenant_id, department), user, contribution, join=True
                )

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
        """Stop background syncs (at shutdown): those under way get ``CLOSE_GRACE_SECONDS``
        to finish their requests cleanly, then the rest are cancelled."""
        tasks = list(self._syncs.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=CLOSE_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _history(stored: StoredTeam) -> list[tuple[str, int, dict[str, Any]]]:
    """A snapshot's confidence history in the shape the views take."""
    return [(p.published_on.isoformat(), p.answerers, dict(p.confidence)) for p in stored.history]


def _with_leaders(summary: TeamSummary, teams: list[TeamSummary]) -> TeamSummary:
    """``summary`` with its leaders' figures replaced by the sum over ``teams``."""
    leaders = TeamSummary.empty()
    for team in teams:
        leaders = leaders.plus(
            replace(
                TeamSummary.empty(),
                leaders=team.leaders,
                leaders_started=team.leaders_started,
                leaders_active=team.leaders_active,
                leaders_challenges=team.leaders_challenges,
            )
        )
    return replace(
        summary,
        leaders=leaders.leaders,
        leaders_started=leaders.leaders_started,
        leaders_active=leaders.leaders_active,
        leaders_challenges=leaders.leaders_challenges,
    )


def require_admin(roles: frozenset[str]) -> None:
    """Raise :class:`Forbidden` unless the token's ``roles`` claim holds the admin role."""
    if ADMIN_ROLE not in roles:
        raise Forbidden(f"only programme admins (the {ADMIN_ROLE} app role) can do this")


def view_json(result: TeamResult) -> dict[str, Any]:
    """The API body for a team view: ``ready``, ``syncing`` (the first roster sync is
    running) or ``unavailable`` (no figures yet and no sync running)."""
    status = "ready" if result.view else "syncing" if result.syncing else "unavailable"
    return {
        "status": status,
        "refreshing": result.syncing,
        "view": result.view.to_dict() if result.view else None,
        "assignments": list(result.assignments),
    }
