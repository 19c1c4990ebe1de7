"""The Bot Connector's REST API, as far as AI Ready uses it: post an activity to a conversation.

``POST {serviceUrl}/v3/conversations/{conversationId}/activities`` with the bot's bearer
token (Bot Framework REST API). Every call:

- goes only to an allowed host (:class:`HostAllowList`): Teams' service hosts, plus loopback
  in local development; anything else is refused before a connection is made, so neither a
  request body nor a stored reference can send the bot's token elsewhere;
- has a deadline, and never follows redirects;
- reports what happened as a :class:`PostResult` instead of raising: the HTTP status (or
  :data:`NOT_SENT` / :data:`UNKNOWN` for network failures before or after the request went
  out) and ``Retry-After``, so the sender decides about retries in one place.

The conversation id is percent-encoded into the path (it comes from stored references and
activities), and response bodies are never logged.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlparse

import aiohttp

from teams_app.adapters.http import OutboundHttp

logger = logging.getLogger(__name__)

NOT_SENT = 0  # the request never reached the connector (connect failure, no token)
UNKNOWN = -1  # the request went out but no answer came (timeout, reset): it may have arrived
REFUSED_HOST = -2  # the host is not on the allow-list
POST_TIMEOUT_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 3600.0


class TokenSource(Protocol):
    """Where the bot's outgoing bearer token comes from."""

    async def token(self) -> str | None:
        """A bearer token for the Bot Connector, or ``None`` to send without one (local
        development against the Agents Playground). Raises ``TokenUnavailable``."""
        ...


class TokenUnavailable(Exception):
    """The identity provider could not issue a token just now."""


class AnonymousTokens:
    """Local development: no token (the Agents Playground accepts that)."""

    async def token(self) -> str | None:
        """Always ``None``."""
        return None


class HostAllowList:
    """The hosts the bot may send to: exact names or ``*.domain``; loopback only if allowed."""

    def __init__(self, patterns: Iterable[str], *, allow_loopback: bool = False) -> None:
        self._exact = frozenset(p.lower() for p in patterns if not p.startswith("*."))
        self._suffixes = tuple(p.lower()[1:] for p in patterns if p.startswith("*."))
        self._loopback = allow_loopback

    def allows(self, url: str) -> bool:
        """Whether ``url`` may receive the bot's messages (and token)."""
        try:
            parsed = urlparse(url)
            host = (parsed.hostname or "").lower()
            parsed.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            return False
        if not host or parsed.username or parsed.password:
            return False
        if _is_loopback(host):
            return self._loopback and parsed.scheme in ("http", "https")
        if parsed.scheme != "https":
            return False
        return host in self._exact or any(host.endswith(s) for s in self._suffixes)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class PostResult:
    """What the connector said: an HTTP status, or one of the negative/zero codes above."""

    status: int
    activity_id: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the activity was accepted."""
        return 200 <= self.status < 300


def activities_url(service_url: str, conversation_id: str) -> str:
    """The connector URL that posts to ``conversation_id``."""
    conversation = quote(conversation_id, safe=":@;=,")
    return f"{service_url.rstrip('/')}/v3/conversations/{conversation}/activities"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped; ``None`` if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


class ConnectorClient:
    """Posts activities to conversations through the Bot Connector."""

    def __init__(self, http: OutboundHttp, tokens: TokenSource, hosts: HostAllowList) -> None:
        self._http = http
        self._tokens = tokens
        self._hosts = hosts

    def allows(self, service_url: str) -> bool:
        """Whether ``service_url`` is on the allow-list."""
        return self._hosts.allows(service_url)

    async def post(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        timeout: float = POST_TIMEOUT_SECONDS,  # noqa: ASYNC109 - passed to aiohttp, per call
    ) -> PostResult:
        """Post ``activity`` (JSON) to the conversation; never raises for network trouble."""
        if not self._hosts.allows(service_url):
            logger.warning("refused to send to a host that is not on the allow-list")
            return PostResult(REFUSED_HOST)
        try:
            token = await self._tokens.token()
        except TokenUnavailable:
            return PostResult(NOT_SENT)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = activities_url(service_url, conversation_id)
        try:
            async with self._http.session.post(
                url,
                json=activity,
                headers=headers,
                proxy=self._http.proxy(url),
                timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 3.0)),
                allow_redirects=False,
            ) as response:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                activity_id = None
                if 200 <= response.status < 300:
                    activity_id = await _activity_id(response)
                else:
                    await response.read()
                return PostResult(response.status, activity_id, retry_after)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            return PostResult(NOT_SENT)
        except (aiohttp.ClientError, TimeoutError):
            return PostResult(UNKNOWN)


async def _activity_id(response: aiohttp.ClientResponse) -> str | None:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return None
    found = body.get("id") if isinstance(body, dict) else None
    return found if isinstance(found, str) else None
