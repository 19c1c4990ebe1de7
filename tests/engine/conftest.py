"""A simulated week for the engine: the real services (``build_services``) with in-memory
storage on a clock the test moves, a local Bot Connector, and the engine's planner and
worker driven step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.config import load_settings
from server.services import Services, build_services
from teams_app.delivery.pacing import LocalRateGate
from teams_app.domain.content import Curriculum, Role
from teams_app.domain.learner import LearnerState, choose_role
from teams_app.engine.runner import Engine
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from teams_app.storage.team_memory import MemoryTeamStore
from tests.support.connector import FakeConnector, Sent

TENANT = "11111111-1111-4111-8111-111111111111"
ENV = {
    "AIREADY_ENV": "development",
    "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
    "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
    "AIREADY_ENGINE_IN_WEB": "false",
}


@dataclass
class SimClock:
    """Simulated UTC time that only moves when the test says so."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()


@dataclass
class Week:
    """The engine of one app, on simulated time."""

    services: Services
    engine: Engine
    connector: FakeConnector
    clock: SimClock
    service_url: str
    sends: list[tuple[datetime, Sent]] = field(default_factory=list)

    async def learner(
        self,
        user: str,
        *,
        zone: str = "Europe/Berlin",
        role: Role | None = Role.HR,
        installed: datetime | None = None,
        locale: str | None = None,
    ) -> LearnerKey:
        """A learner who installed the app (at ``installed``, default now) in ``zone``."""
        key = LearnerKey(TENANT, user)
        then = self.clock.now
        self.clock.now = installed or then
        reference = {
            "activityId": f"install-{user}",
            "bot": {"id": "28:bot", "name": "AI Ready"},
            "channelId": "msteams",
            "conversation": {"id": f"a:{user}", "conversationType": "personal", "tenantId": TENANT},
            "serviceUrl": self.service_url,
            "user": {"id": f"29:{user}", "aadObjectId": user},
        }
        if locale:
            reference["locale"] = locale  # the Teams client's language at install
        if role is not None:
            state = choose_role(LearnerState(), role)
            await self.services.store.save_profile(key, state, None)
        await self.services.contacts.installed(
            key, reference, f"install-{user}", zone, welcome=True
        )
        self.clock.now = then
        return key

    async def run_until(self, end: datetime, step: timedelta = timedelta(minutes=5)) -> None:
        """Move time on in steps; at each, the planner ticks and the worker empties what is
        visible on the queue."""
        while self.clock.now < end:
            self.clock.now = min(end, self.clock.now + step)
            await self.engine.planner.tick()
            while await self.engine.worker.run_once():
                pass
            for sent in self.connector.sent[len(self.sends) :]:
                self.sends.append((self.clock.now, sent))

    def sent_to(self, user: str) -> list[tuple[datetime, dict[str, Any]]]:
        """(when, card) of each message ``user``'s chat received."""
        return [
            (when, attachment["content"])
            for when, sent in self.sends
            if sent.conversation_id == f"a:{user}"
            for attachment in sent.activity.get("attachments") or []
        ]


def card_kind(card: dict[str, Any]) -> str:
    """Which proactive card this is, from its header."""
    header = card["body"][0]["columns"][1]["items"][0]["text"]
    for kind, marker in (
        ("challenge", "Weekly challenge"),
        ("reviews", "Spaced review"),
        ("pulse", "Weekly pulse"),
        ("nudge", "A nudge"),
    ):
        if header.startswith(marker):
            return kind
    raise AssertionError(f"not a proactive card: {header}")


@pytest.fixture
async def week(
    connector: tuple[FakeConnector, TestServer], curriculum: Curriculum
) -> AsyncIterator[Callable[..., Any]]:
    """``await week(start)`` → a :class:`Week` whose clock starts at ``start``."""
    fake, server = connector
    opened: list[Any] = []

    async def make(start: datetime, **env: str) -> Week:
        clock = SimClock(start.astimezone(UTC))
        context = build_services(
            load_settings({**ENV, **env}),
            store=MemoryLearnerStore(),
            team_store=MemoryTeamStore(),
            engine=memory_engine(clock.timestamp),
            curriculum=curriculum,
            clock=clock,
            gate=LocalRateGate(10_000, conversation_interval=0),
        )
        services = await context.__aenter__()
        opened.append(context)
        return Week(
            services, services.engine_runner("test"), fake, clock, str(server.make_url("/"))
        )

    yield make
    for context in opened:
        await context.__aexit__(None, None, None)
