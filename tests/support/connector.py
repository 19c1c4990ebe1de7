"""A local Bot Connector: receives the bot's outgoing activities over real HTTP.

It speaks the Bot Connector REST protocol's reply endpoints
(``POST /v3/conversations/{id}/activities[/{activityId}]``) and records what arrives, so
tests see exactly what Teams would have been sent.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    """One activity the bot sent, with the Authorization header it carried."""

    conversation_id: str
    activity: dict[str, Any]
    authorization: str | None


@dataclass
class FakeConnector:
    """Records activities; ``fail_with`` makes the next calls answer with that status."""

    sent: list[Sent] = field(default_factory=list)
    fail_with: int | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        if self.fail_with:
            return web.json_response({"error": {"code": "ServiceError"}}, status=self.fail_with)
        body = await request.json()
        self.sent.append(
            Sent(request.match_info["cid"], body, request.headers.get("Authorization"))
        )
        self._arrived.set()
        return web.json_response({"id": f"msg-{next(self._ids)}"})

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards sent so far, in order."""
        found = []
        for sent in self.sent:
            for attachment in sent.activity.get("attachments") or []:
                if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    found.append(attachment["content"])
        return found

    def take_cards(self) -> list[dict[str, Any]]:
        """The cards sent since the last call."""
        cards = self.cards()
        self.sent.clear()
        return cards


async def start_connector() -> tuple[FakeConnector, TestServer]:
    """Start a connector on a free loopback port."""
    connector = FakeConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    return connector, server
