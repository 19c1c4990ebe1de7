"""Fixtures for tab SSO: a local Entra ID and a local Microsoft Graph over HTTPS.

Both servers start once per session (each on its own thread and event loop) and are reset
before every test that uses them.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import requests

from teams_app.adapters.http import OutboundHttp
from tests.support.graph_server import LocalGraph
from tests.support.idp import LocalIdentityProvider, TestCA

CLIENT_ID = "0d5c6a2e-4b1f-4c3a-9e8d-7f6a5b4c3d2e"
CLIENT_SECRET = "local-test-secret-4f8a9c2d1e0b7a6f5e4d3c2b1a09f8e7"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "3c1a7b2d-5e4f-4a6b-8c9d-0e1f2a3b4c5d"
USER = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
APP_ID_URI = f"api://ai-ready.example.com/{CLIENT_ID}"
AUDIENCES = frozenset({CLIENT_ID, APP_ID_URI})


@pytest.fixture(scope="session")
def graph_server(idp_server: LocalIdentityProvider) -> Iterator[LocalGraph]:
    server = LocalGraph(idp_server).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def idp(idp_server: LocalIdentityProvider) -> LocalIdentityProvider:
    """The local Entra ID with fresh counters, one signing key and no injected faults; the
    tabs' app registration exists."""
    idp_server.reset()
    idp_server.register_client(CLIENT_ID, CLIENT_SECRET)
    return idp_server


@pytest.fixture
def graph(graph_server: LocalGraph) -> LocalGraph:
    """The local Graph with no data, fresh counters and no injected faults."""
    graph_server.reset()
    return graph_server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session (trusts only the system CAs)."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def trusting_http(test_ca: TestCA) -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session that trusts the test CA."""
    connector = aiohttp.TCPConnector(ssl=test_ca.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def no_proxy(_url: str) -> None:
    """Direct connections only."""
    return None


@pytest.fixture
def trusting_outbound(trusting_http: aiohttp.ClientSession, test_ca: TestCA) -> OutboundHttp:
    """Outbound HTTP as the services build it, trusting the test CA."""
    return OutboundHttp(trusting_http, test_ca.client_context(), no_proxy)


@pytest.fixture
def msal_http(test_ca: TestCA) -> Iterator[requests.Session]:
    """The requests session MSAL gets: trusts the test CA, ignores REQUESTS_CA_BUNDLE."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify=
    session.verify = test_ca.pem_path
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def closed_port_url() -> str:
    """An https URL on a loopback port nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"https://127.0.0.1:{port}"
