"""A local Bot Connector: receives the bot's outgoing activities over real HTTP(S).

It speaks the Bot Connector REST protocol's send endpoints
(``POST /v3/conversations/{id}/activities[/{activityId}]``), answers ``201`` with the new
activity's id, and records what arrives, so tests see exactly what Teams would have been
sent. Like Teams, it can refuse:

- ``tenant_rate``: at most that many messages per second per tenant (sliding one-second
  window); above it, ``429`` with ``Retry-After`` (``retry_after`` seconds);
- ``conversation_rate``: the same per conversation;
- ``blocked``: conversation ids answered ``403`` (the user blocked or uninstalled the bot);
- ``fail_share``: that share of requests answered ``502`` (seeded, so runs repeat);
- ``fail_with``: every request answered with that status;
- ``jwks`` and ``audience``: when set, the bearer token must be an RS256 JWT signed by one of
  those keys, for that audience, else ``401``, as the real connector checks the bot's token.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import ssl
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.tokens import SigningKey


@dataclass
class Sent:
    """One activity the bot sent, with the Authorization header it carried."""

    conversation_id: str
    activity: dict[str, Any]
    authorization: str | None
    at: float = 0.0


@dataclass
class FakeConnector:
    """Records activities and refuses some, as configured (see the module docstring)."""

    sent: list[Sent] = field(default_factory=list)
    fail_with: int | None = None
    tenant_rate: float | None = None
    conversation_rate: float | None = None
    retry_after: float = 1.0
    blocked: set[str] = field(default_factory=set)
    fail_share: float = 0.0
    seed: int = 7
    keys: list[SigningKey] = field(default_factory=list)
    audience: str | None = None
    statuses: Counter[int] = field(default_factory=Counter)
    throttled_at: list[tuple[str, float]] = field(default_factory=list)  # (tenant, when)
    after_block: Counter[str] = field(default_factory=Counter)
    delay: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _windows: dict[str, deque[float]] = field(default_factory=dict)
    _rng: random.Random | None = None
    _refused_once: set[str] = field(default_factory=set)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_post("/{prefix:[^/]+}/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/{prefix:[^/]+}/v3/conversations/{cid}/activities/{aid}", self._post)
        return app

    def _answer(self, status: int, **headers: str) -> web.Response:
        self.statuses[status] += 1
        body = {"error": {"code": "Throttled" if status == 429 else "ServiceError"}}
        return web.json_response(body, status=status, headers=headers)

    def _over(self, key: str, rate: float, now: float) -> bool:
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= rate:
            return True
        window.append(now)
        return False

    def _token_ok(self, header: str | None) -> bool:
        if not self.keys:
            return True
        if not header or not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ")
        for key in self.keys:
            try:
                jwt.decode(
                    token, key.private.public_key(), algorithms=["RS256"], audience=self.audience
                )
            except jwt.PyJWTError:
                continue
            return True
        return False

    async def _post(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._token_ok(request.headers.get("Authorization")):
            return self._answer(401)
        if self.fail_with:
            return self._answer(self.fail_with)
        body = await request.json()
        conversation = request.match_info["cid"]
        if conversation in self.blocked:
            if conversation in self._refused_once:
                self.after_block[conversation] += 1
            self._refused_once.add(conversation)
            return self._answer(403)
        if self._rng is None:
            self._rng = random.Random(self.seed)
        if self.fail_share and self._rng.random() < self.fail_share:
            return self._answer(502)
        now = time.monotonic()
        tenant = _tenant(body)
        if self.tenant_rate and self._over(f"t|{tenant}", self.tenant_rate, now):
            self.throttled_at.append((tenant, now))
            return self._answer(429, **{"Retry-After": f"{self.retry_after:g}"})
        if self.conversation_rate and self._over(f"c|{conversation}", self.conversation_rate, now):
            return self._answer(429, **{"Retry-After": f"{self.retry_after:g}"})
        self.sent.append(Sent(conversation, body, request.headers.get("Authorization"), now))
        self._arrived.set()
        self.statuses[201] += 1
        return web.json_response({"id": f"msg-{next(self._ids)}"}, status=201)

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

    def per_conversation(self) -> Counter[str]:
        """How many messages each conversation received."""
        return Counter(s.conversation_id for s in self.sent)


def _tenant(body: dict[str, Any]) -> str:
    conversation = body.get("conversation") or {}
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    if not tenant:
        data = body.get("channelData") or {}
        tenant = (data.get("tenant") or {}).get("id") if isinstance(data, dict) else None
    return str(tenant or "-")


async def start_connector(
    connector: FakeConnector | None = None, *, tls: ssl.SSLContext | None = None
) -> tuple[FakeConnector, TestServer]:
    """Start a connector on a free loopback port (HTTPS when ``tls`` is given)."""
    connector = connector or FakeConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server(ssl=tls)
    return connector, server
