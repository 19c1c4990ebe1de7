"""A leader kicks off a challenge for the whole team.

Every member on the team's roster who can be reached gets the same challenge card in their
chat, through the engine like any proactive message: planned in the ledger (campaign
``team-challenge-<ISO week>``, so a member gets one team challenge a week however many of
their leaders kick one off; a second kick-off of the same team that week does nothing), put
on the queue,
and re-checked at send time against the member's settings and working hours (a member
outside their hours gets it on their next working morning). Doing it counts as the member's
challenge for the week. The leader learns only that it is on its way: never who gets it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teams_app.domain.content import Challenge, Curriculum, Role
from teams_app.domain.learner import iso_week
from teams_app.domain.schedule import Kind, zone
from teams_app.storage.engine_ports import Claim, DeliveryQueue, Ledger, Outcome, State
from teams_app.storage.keys import join_key
from teams_app.storage.ports import LearnerKey, LearnerStore
from teams_app.storage.team_ports import TeamKey, TeamStore

CAMPAIGN_PREFIX = "team-challenge-"
KICKOFF_PREFIX = "team-kickoff-"  # one ledger row per team and week: kicked off already?
PER_MESSAGE = 32
CONCURRENCY = 16


class UnknownChallenge(ValueError):
    """The challenge asked for doesn't exist."""


@dataclass(frozen=True, slots=True)
class KickOff:
    """What the leader is told: the week and the challenge, never who gets it."""

    week: str
    challenge: Challenge | None  # None when the team's challenge went out earlier this week


def team_challenges(curriculum: Curriculum) -> list[Challenge]:
    """The challenges a leader can give a whole team: those meant for everyone."""
    return [c for c in curriculum.challenges if Role.EVERYONE in c.roles]


def default_challenge(curriculum: Curriculum, week: str) -> Challenge | None:
    """The week's suggestion: the everyone-challenges in turn, one a week."""
    pool = team_challenges(curriculum)
    if not pool:
        return None
    return pool[int(week[-2:]) % len(pool)]


class TeamChallenges:
    """Kicks off a team challenge (the caller has checked that the user leads the team)."""

    def __init__(
        self,
        teams: TeamStore,
        learners: LearnerStore,
        ledger: Ledger,
        queue: DeliveryQueue,
        curriculum: Curriculum,
        *,
        clock: Callable[[], datetime],
        real_now: Callable[[], datetime],
        default_zone: str,
    ) -> None:
        self._teams = teams
        self._learners = learners
        self._ledger = ledger
        self._queue = queue
        self._curriculum = curriculum
        self._clock = clock
        self._real_now = real_now
        self._default_zone = default_zone

    async def kick_off(self, team: TeamKey, challenge_id: str | None) -> KickOff:
        """Send ``challenge_id`` (default: this week's suggestion) to the team's members."""
        now = self._clock()
        week = iso_week(now.date())
        if challenge_id:
            challenge = self._curriculum.challenge(challenge_id)
            if challenge is None or challenge not in team_challenges(self._curriculum):
                raise UnknownChallenge(challenge_id)
        else:
            challenge = default_challenge(self._curriculum, week)
            if challenge is None:
                raise UnknownChallenge("no challenge for everyone")
        # Once a team and week: a repeated kick-off (a double click, a second leader) does
        # nothing more, rather than putting every member's delivery on the queue again.
        marker_campaign = KICKOFF_PREFIX + week
        marker = join_key(team.tenant_id, team.team_id)
        marker_etag = await self._ledger.plan(marker_campaign, marker, self._real_now())
        if marker_etag is None:
            return KickOff(week, None)
        keys = [LearnerKey(team.tenant_id, u) for u in await self._teams.member_ids(team)]
        contacts = await self._learners.get_contacts(keys)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def plan(key: LearnerKey) -> dict[str, Any] | None:
            stored = contacts.get(key)
            if stored is None or stored.contact.unreachable or stored.contact.preferences.silent:
                return None  # nobody to write to, or they asked for nothing
            local = now.astimezone(zone(stored.contact.time_zone or self._default_zone)).date()
            member_week = iso_week(local)
            campaign = CAMPAIGN_PREFIX + member_week
            recipient = join_key(key.tenant_id, key.user_id)
            async with slots:
                etag = await self._ledger.plan(campaign, recipient, self._real_now())
            if etag is None:
                return None  # this week's team challenge has already gone out
            return {
                "campaign": campaign,
                "recipient": recipient,
                "tenant": key.tenant_id,
                "user": key.user_id,
                "kind": Kind.CHALLENGE.value,
                "data": {
                    "week": member_week,
                    "day": local.isoformat(),
                    "challenge": challenge.id,
                    "team": True,
                },
                "etag": etag,
            }

        planned = [d for d in await asyncio.gather(*(plan(k) for k in keys)) if d is not None]
        await asyncio.gather(
            *(
                self._queue.put({"type": "deliver", "deliveries": planned[i : i + PER_MESSAGE]})
                for i in range(0, len(planned), PER_MESSAGE)
            )
        )
        claim = await self._ledger.claim(
            marker_campaign, marker, "kick-off", self._real_now(), marker_etag
        )
        if isinstance(claim, Claim):
            await self._ledger.record(claim, Outcome(State.SENT))
        return KickOff(week, challenge)
