"""Shared fixtures: isolated environment, Azurite, the real curriculum, stores, a test app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from teams_app.content_files import load_curriculum
from teams_app.domain.content import Curriculum
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.tables import TableLearnerStore
from tests.support.azurite import Azurite, start_azurite
from tests.support.cardcheck import CardValidator
from tests.support.connector import FakeConnector, start_connector
from tests.support.idp import LocalIdentityProvider, TestCA

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's AIREADY_* or SDK connection variables."""
    for name in list(os.environ):
        if name.startswith(("AIREADY_", "CONNECTIONS__", "AGENTAPPLICATION__")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """One Azurite table service for the whole session (tests use distinct table prefixes)."""
    server = start_azurite()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def connector() -> AsyncIterator[tuple[FakeConnector, TestServer]]:
    """A local Bot Connector on a loopback port (plain HTTP, as in local development)."""
    fake, server = await start_connector()
    try:
        yield fake, server
    finally:
        await server.close()


@pytest.fixture(scope="session")
def test_ca() -> Iterator[TestCA]:
    """A throw-away certificate authority for the session's local HTTPS servers."""
    ca = TestCA()
    try:
        yield ca
    finally:
        ca.cleanup()


@pytest.fixture(scope="session")
def idp_server(test_ca: TestCA) -> Iterator[LocalIdentityProvider]:
    """The local Entra ID (each test package registers its own app)."""
    server = LocalIdentityProvider(test_ca)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def card_validator() -> Iterator[CardValidator]:
    """Microsoft's Adaptive Cards renderer, checking cards (one for the session)."""
    with CardValidator() as validator:
        yield validator


@pytest.fixture(scope="session")
def curriculum() -> Curriculum:
    """The shipped curriculum."""
    return load_curriculum(REPO_ROOT / "content")


def table_prefix() -> str:
    """A fresh table-name prefix, so tests never share rows."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
async def table_store(azurite: Azurite) -> AsyncIterator[TableLearnerStore]:
    """A store on Azurite with its own tables."""
    store = TableLearnerStore.from_connection_string(azurite.connection_string, table_prefix())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def memory_store() -> MemoryLearnerStore:
    """The in-memory fake store."""
    return MemoryLearnerStore()
