"""The bot's own access token for the Bot Connector: MSAL's client-credentials flow.

The token is for the scope ``https://api.botframework.com/.default``, from the bot's Entra ID
tenant at ``{authority}/{tenant}`` (``AIREADY_ENTRA_AUTHORITY``: sovereign clouds and local
test identity providers differ). MSAL caches it until shortly before it expires, so most calls
are answered from memory. MSAL is synchronous: every call runs on a small thread pool of its
own (never the default executor, which other I/O shares), concurrent callers share one
request, and a call that outlives its deadline is abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import msal
import requests

from teams_app.adapters.connector import TokenUnavailable
from teams_app.adapters.msal_http import TimeoutHttpClient, authority_options

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
TOKEN_TIMEOUT_SECONDS = 10.0


class MsalBotTokens:
    """:class:`~teams_app.adapters.connector.TokenSource` for a single-tenant bot."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        tenant_id: str,
        authority: str,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self._authority = f"{authority.rstrip('/')}/{tenant_id}"
        self._executor = executor
        self._http = TimeoutHttpClient(requests.Session(), TOKEN_TIMEOUT_SECONDS)
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self._inflight: asyncio.Future[str] | None = None

    async def token(self) -> str | None:
        """A Bot Connector token (MSAL's cache first); ``TokenUnavailable`` on failure."""
        if self._inflight is None:
            loop = asyncio.get_running_loop()
            self._inflight = loop.run_in_executor(self._executor, self._acquire)
            self._inflight.add_done_callback(self._forget)
        try:
            async with asyncio.timeout(TOKEN_TIMEOUT_SECONDS + 1):
                return await asyncio.shield(self._inflight)
        except TimeoutError:
            raise TokenUnavailable("token request timed out") from None

    def _forget(self, _: asyncio.Future[str]) -> None:
        self._inflight = None

    def _acquire(self) -> str:
        try:
            with self._lock:
                if self._app is None:
                    self._app = msal.ConfidentialClientApplication(
                        self._client_id,
                        client_credential=self._secret,
                        authority=self._authority,
                        http_client=self._http,
                        **authority_options(self._authority),
                    )
                app = self._app
            result = app.acquire_token_for_client(scopes=[BOT_FRAMEWORK_SCOPE])
        except (requests.RequestException, msal.exceptions.MsalServiceError, ValueError) as err:
            logger.warning("bot token unavailable: %s", type(err).__name__)
            raise TokenUnavailable("identity provider unavailable") from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            error = result.get("error") if isinstance(result, dict) else None
            logger.warning("bot token refused: %s", str(error)[:64])
            raise TokenUnavailable("identity provider refused the request")
        return token

    def close(self) -> None:
        """Release MSAL's HTTP session."""
        self._http.close()
