"""Fixtures for driving the real app: a local Bot Connector and a dev-mode app factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Settings, load_settings
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.ports import LearnerStore
from teams_app.storage.team_memory import MemoryTeamStore
from tests.support.activities import TeamsUser
from tests.support.cardcheck import CardValidator
from tests.support.connector import FakeConnector
from tests.support.driver import BotDriver

DEV_ENV = {
    "AIREADY_ENV": "development",
    "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
    "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
    "AIREADY_ENGINE_IN_WEB": "false",
}


def dev_settings(**extra: str) -> Settings:
    """Local-dev settings (anonymous bot requests), as the dev script sets them."""
    return load_settings({**DEV_ENV, **extra})


@pytest.fixture
def make_driver(
    aiohttp_client: Callable[..., Any],
    connector: tuple[FakeConnector, TestServer],
    card_validator: CardValidator,
) -> Callable[..., Any]:
    """``await make_driver(store, user=None)`` → a :class:`BotDriver` on a fresh app."""
    fake, server = connector

    async def make(
        store: LearnerStore, user: TeamsUser | None = None, **app_kwargs: Any
    ) -> BotDriver:
        app_kwargs.setdefault("team_store", MemoryTeamStore())
        app_kwargs.setdefault("engine", memory_engine())
        app = create_app(dev_settings(), store=store, **app_kwargs)
        client = await aiohttp_client(app)
        user = user or TeamsUser(service_url="")
        user.service_url = user.service_url or str(server.make_url("/"))
        return BotDriver(client, fake, user, validator=card_validator)

    return make
