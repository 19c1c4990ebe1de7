"""A local stand-in for the Bot Framework channel's token issuer (login.botframework.com).

It serves, over HTTPS, what the real one does:

- ``GET /v1/.well-known/openidconfiguration``: OpenID metadata whose ``jwks_uri`` points at
- ``GET /v1/.well-known/keys``: the channel's signing keys, each with its ``endorsements``
  (the channels that may use it, ``msteams`` here).

:meth:`LocalBotFramework.channel_token` mints what the Bot Connector sends with every
activity: an RS256 JWT with ``iss`` https://api.botframework.com, ``aud`` the bot's app id,
``serviceurl`` and a short lifetime. ``host`` is what the metadata names (the real host when
reached through :mod:`tests.support.tunnel`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.idp import ServerThread, TestCA
from tests.support.tokens import SigningKey

ISSUER = "https://api.botframework.com"


@dataclass
class LocalBotFramework:
    """The channel's key publisher; ``start()`` serves it over HTTPS."""

    ca: TestCA
    host: str = "login.botframework.com"
    endorsements: list[str] = field(default_factory=lambda: ["msteams"])
    requests: Counter[str] = field(default_factory=Counter)
    unavailable: bool = False
    key: SigningKey = field(default_factory=lambda: SigningKey("bf-channel-key"))
    _server: ServerThread | None = None

    def start(self) -> LocalBotFramework:
        self._server = ServerThread(self._app, self.ca.server_context()).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.port

    @property
    def metadata_url(self) -> str:
        return f"https://{self.host}/v1/.well-known/openidconfiguration"

    def channel_token(
        self,
        app_id: str,
        service_url: str,
        *,
        lifetime: int = 300,
        key: SigningKey | None = None,
        **overrides: Any,
    ) -> str:
        """A channel token; ``overrides`` replace claims (``None`` removes one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": now - 5,
            "exp": now + lifetime,
            "iss": ISSUER,
            "aud": app_id,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return (key or self.key).sign(claims, typ="JWT")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        return app

    async def _metadata(self, _request: web.Request) -> web.Response:
        self.requests["metadata"] += 1
        if self.unavailable:
            return web.Response(status=503)
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"https://{self.host}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        self.requests["keys"] += 1
        if self.unavailable:
            return web.Response(status=503)
        jwk = {**self.key.jwk(), "endorsements": self.endorsements}
        return web.json_response({"keys": [jwk]})
