"""Production mode for real: channel tokens, Entra ID and the Bot Connector behind a proxy.

The app runs with production settings, unchanged: bot credentials, the Bot Framework's real
OpenID metadata URL and Entra ID's real authority. ``HTTPS_PROXY`` points at a local tunnelling
proxy (:mod:`tests.support.tunnel`) that routes ``login.botframework.com``,
``login.microsoftonline.com`` and ``smba.trafficmanager.net`` to local stand-ins whose
certificates (from the test CA, which ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` trust) name
those hosts. The connector stand-in accepts only messages carrying a bot token that the local
Entra ID issued for the Bot Framework, as the real one does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.config import load_settings
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.team_memory import MemoryTeamStore
from tests.support.activities import TeamsUser
from tests.support.botframework import LocalBotFramework
from tests.support.connector import FakeConnector, start_connector
from tests.support.idp import LocalIdentityProvider, TestCA
from tests.support.tunnel import TunnelProxy

BOT_ID = "6f1c0f7e-1c2d-4c5e-9f00-123456789abc"
BOT_SECRET = "bot-client-secret-for-the-local-identity-provider"
TENANT = "11111111-1111-4111-8111-111111111111"
OTHER_TENANT = "22222222-2222-4222-8222-222222222222"
SERVICE_URL = "https://smba.trafficmanager.net/teams/"
BOT_FRAMEWORK = "https://api.botframework.com"


@pytest.fixture(scope="session")
def botframework_server(test_ca: TestCA) -> Iterator[LocalBotFramework]:
    server = LocalBotFramework(test_ca).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Production:
    """The app in production mode and the stand-ins it talks to."""

    client: TestClient  # type: ignore[type-arg]
    connector: FakeConnector
    tunnel: TunnelProxy
    botframework: LocalBotFramework
    idp: LocalIdentityProvider
    store: MemoryLearnerStore

    def token(self, service_url: str = SERVICE_URL, **claims: Any) -> str:
        """A valid channel token for ``service_url`` (``claims`` override)."""
        return self.botframework.channel_token(BOT_ID, service_url, **claims)

    def user(self, **fields: Any) -> TeamsUser:
        return TeamsUser(service_url=SERVICE_URL, tenant_id=TENANT, **fields)

    async def post(self, activity: dict[str, Any], authorization: str | None) -> tuple[int, Any]:
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = await self.client.post("/api/messages", json=activity, headers=headers)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


@pytest.fixture
async def production(
    aiohttp_client: Callable[..., Any],
    test_ca: TestCA,
    idp_server: LocalIdentityProvider,
    botframework_server: LocalBotFramework,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Production]:
    idp_server.reset()
    idp_server.register_client(BOT_ID, BOT_SECRET)
    botframework_server.requests.clear()
    botframework_server.unavailable = False
    botframework_server.endorsements = ["msteams"]
    connector = FakeConnector(keys=list(idp_server.keys), audience=BOT_FRAMEWORK)
    connector, server = await start_connector(connector, tls=test_ca.server_context())
    tunnel = await TunnelProxy(
        routes={
            "login.microsoftonline.com": ("127.0.0.1", _port(idp_server.url)),
            "login.botframework.com": ("127.0.0.1", botframework_server.port),
            "smba.trafficmanager.net": ("127.0.0.1", _port(str(server.make_url("/")))),
        }
    ).start()
    # What an operator behind a TLS-inspecting egress proxy sets, for every client library.
    monkeypatch.setenv("SSL_CERT_FILE", test_ca.pem_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", test_ca.pem_path)
    monkeypatch.setenv("HTTPS_PROXY", tunnel.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings = load_settings(
        {
            "AIREADY_BOT_CLIENT_ID": BOT_ID,
            "AIREADY_BOT_CLIENT_SECRET": BOT_SECRET,
            "AIREADY_BOT_TENANT_ID": TENANT,
            "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
            "HTTPS_PROXY": tunnel.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "AIREADY_ENGINE_IN_WEB": "false",
        }
    )
    store = MemoryLearnerStore()
    app = create_app(settings, store=store, team_store=MemoryTeamStore(), engine=memory_engine())
    client = await aiohttp_client(app)
    try:
        yield Production(client, connector, tunnel, botframework_server, idp_server, store)
    finally:
        await tunnel.stop()
        await server.close()


def _port(url: str) -> int:
    port = urlparse(url).port
    assert port is not None
    return port
