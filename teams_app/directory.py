"""What the organisation's directory says about a tab user: the port and its Graph adapter.

``Directory`` is the port the use cases see: a user's profile (department and job title feed
role mapping) and a team's owners and members (who may see the leader tab, how many people a
team has). ``GraphDirectory`` implements it with Microsoft Graph, on the user's behalf:

1. the tab's SSO token (already validated by ``server.tab_auth``) is exchanged for a Graph
   token with MSAL's on-behalf-of flow. MSAL is synchronous, so it runs on the given thread
   pool (the services give it MSAL's own, never the default executor). There is one
   ``ConfidentialClientApplication`` per tenant (authority ``{authority}/{tenant}``)
   sharing one ``SerializableTokenCache``.
   MSAL's ``acquire_token_on_behalf_of`` always asks the identity provider; so, as MSAL's own
   comments suggest, we map each user assertion (by its SHA-256) to the account MSAL cached
   for it and try ``acquire_token_silent`` first: the same SSO token reuses the cached Graph
   token (or its refresh token) instead of a new OBO request;
2. Graph is called with aiohttp. 429, 502, 503 and 504 are retried, waiting as
   ``Retry-After`` says (capped) or with exponential backoff and jitter, within a total
   budget; 4xx answers are final (``DirectoryError``); network failures, other 5xx and
   exhausted retries are ``DirectoryUnavailable``. Member lists follow ``@odata.nextLink``,
   only ever to the configured Graph host.

Tokens, secrets and response bodies are never logged; errors carry no token details.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import msal
import requests

from teams_app.adapters.http import OutboundHttp
from teams_app.adapters.msal_http import TimeoutHttpClient, authority_options

logger = logging.getLogger(__name__)

GRAPH_SCOPES = (
    "https://graph.microsoft.com/User.Read",
    "https://graph.microsoft.com/GroupMember.Read.All",
)
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_WAIT_SECONDS = 5.0
MAX_TOTAL_WAIT_SECONDS = 15.0
BACKOFF_BASE_SECONDS = 0.25
REQUEST_TIMEOUT_SECONDS = 10.0
MSAL_TIMEOUT_SECONDS = 10.0
MAX_PAGES = 1000
MAX_REMEMBERED_ASSERTIONS = 10_000
_TRANSIENT_TOKEN_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SAFE_CODE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class UserProfile:
    """The directory's view of a user."""

    display_name: str
    department: str | None
    job_title: str | None


class DirectoryError(Exception):
    """The directory refused or could not answer the request; retrying will not help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DirectoryUnavailable(DirectoryError):
    """The directory or the identity provider is unreachable or overloaded; try later."""


class Directory(Protocol):
    """Directory look-ups made on behalf of the signed-in user."""

    async def profile(self, tenant_id: str, user_token: str) -> UserProfile:
        """The user's display name, department and job title."""
        ...

    async def team_owners(self, tenant_id: str, user_token: str, group_id: str) -> set[str]:
        """Object ids of the owners of the team's group."""
        ...

    async def team_members(self, tenant_id: str, user_token: str, group_id: str) -> list[str]:
        """Object ids of the members of the team's group, all pages."""
        ...

    async def team_departments(
        self, tenant_id: str, user_token: str, group_id: str
    ) -> dict[str, str | None]:
        """The group's members, all pages: object id → department (``None`` when unset)."""
        ...

    async def group_name(self, tenant_id: str, user_token: str, group_id: str) -> str | None:
        """The group's display name (``None`` when it has none)."""
        ...


def _require_guid(value: str, what: str) -> None:
    if not isinstance(value, str) or not _GUID.match(value):
        raise DirectoryError(f"{what} is not a GUID")


class _OnBehalfOf:
    """MSAL's on-behalf-of flow, synchronous and thread-safe: call it from a worker thread."""

    def __init__(
        self, client_id: str, client_secret: str, authority: str, http_client: TimeoutHttpClient
    ) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self._authority = authority.rstrip("/")
        self._http = http_client
        self._cache = msal.SerializableTokenCache()
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}
        self._accounts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def token(self, tenant_id: str, user_token: str) -> str:
        """A Graph access token for the user of ``user_token``."""
        try:
            app = self._app(tenant_id)
            assertion = hashlib.sha256(user_token.encode()).hexdigest()
            result = self._silent(app, assertion) or app.acquire_token_on_behalf_of(
                user_assertion=user_token, scopes=list(GRAPH_SCOPES)
            )
        except (requests.RequestException, msal.exceptions.MsalServiceError, RuntimeError) as err:
            logger.warning("identity provider unreachable: %s", type(err).__name__)
            raise DirectoryUnavailable("identity provider unavailable") from None
        except ValueError as err:  # MSAL's discovery refused the authority or tenant
            logger.warning("identity provider refused the authority: %s", type(err).__name__)
            raise DirectoryError("identity provider refused the request") from None
        return self._access_token(app, assertion, result)

    def _app(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        with self._lock:
            app = self._apps.get(tenant_id)
            if app is None:
                # The constructor fetches the tenant's OpenID configuration (network I/O).
                app = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._secret,
                    authority=f"{self._authority}/{tenant_id}",
                    token_cache=self._cache,
                    http_client=self._http,
                    **authority_options(self._authority),
                )
                self._apps[tenant_id] = app
            return app

    def _silent(
        self, app: msal.ConfidentialClientApplication, assertion: str
    ) -> dict[str, Any] | None:
        with self._lock:
            account = self._accounts.get(assertion)
            if account is not None:
                self._accounts.move_to_end(assertion)
        if account is None:
            return None
        result = app.acquire_token_silent(list(GRAPH_SCOPES), account=account)
        return result if result and "access_token" in result else None

    def _access_token(
        self, app: msal.ConfidentialClientApplication, assertion: str, result: Mapping[str, Any]
    ) -> str:
        token = result.get("access_token")
        if isinstance(token, str) and token:
            self._remember(app, assertion, result)
            return token
        error = _safe(str(result.get("error", "unknown")))
        codes = [c for c in result.get("error_codes") or [] if isinstance(c, int)]
        logger.warning("on-behalf-of token refused: %s %s", error, codes)
        if error in _TRANSIENT_TOKEN_ERRORS:
            raise DirectoryUnavailable("identity provider unavailable")
        raise DirectoryError("identity provider refused the request")

    def _remember(
        self, app: msal.ConfidentialClientApplication, assertion: str, result: Mapping[str, Any]
    ) -> None:
        """Map the assertion to the account MSAL cached for it, for ``_silent`` next time."""
        claims = result.get("id_token_claims") or {}
        oid, tenant = claims.get("oid"), claims.get("tid")
        if not oid or assertion in self._accounts:
            return
        for account in app.get_accounts():
            if account.get("local_account_id") == oid and account.get("realm") == tenant:
                with self._lock:
                    self._accounts[assertion] = account
                    while len(self._accounts) > MAX_REMEMBERED_ASSERTIONS:
                        self._accounts.popitem(last=False)
                return


class GraphDirectory:
    """``Directory`` on Microsoft Graph, with delegated (on-behalf-of) tokens."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        authority: str = "https://login.microsoftonline.com",
        graph_url: str = "https://graph.microsoft.com",
        http: OutboundHttp,
        executor: Executor | None = None,
        http_client: requests.Session | None = None,
        max_retries: int = 3,
    ) -> None:
        self._owns_http = http_client is None
        msal_http = TimeoutHttpClient(http_client or requests.Session(), MSAL_TIMEOUT_SECONDS)
        self._obo = _OnBehalfOf(client_id, client_secret, authority, msal_http)
        self._http = msal_http
        self._graph = graph_url.rstrip("/")
        self._outbound = http
        self._executor = executor
        self._max_retries = max(0, max_retries)

    def close(self) -> None:
        """Release the HTTP session MSAL uses, if this object created it."""
        if self._owns_http:
            self._http.close()

    async def profile(self, tenant_id: str, user_token: str) -> UserProfile:
        """The user's display name, department and job title."""
        token = await self._token(tenant_id, user_token)
        body = await self._get_json(
            f"{self._graph}/v1.0/me?$select=displayName,department,jobTitle", token, "me"
        )
        return UserProfile(
            display_name=_text(body.get("displayName")) or "",
            department=_text(body.get("department")),
            job_title=_text(body.get("jobTitle")),
        )

    async def team_owners(self, tenant_id: str, user_token: str, group_id: str) -> set[str]:
        """Object ids of the group's owners."""
        _require_guid(group_id, "group id")
        token = await self._token(tenant_id, user_token)
        url = f"{self._graph}/v1.0/groups/{group_id}/owners?$select=id"
        return set(await self._collect_ids(url, token, "owners"))

    async def team_members(self, tenant_id: str, user_token: str, group_id: str) -> list[str]:
        """Object ids of the group's members, following ``@odata.nextLink``."""
        _require_guid(group_id, "group id")
        token = await self._token(tenant_id, user_token)
        url = f"{self._graph}/v1.0/groups/{group_id}/members?$select=id&$top=999"
        return await self._collect_ids(url, token, "members")

    async def team_departments(
        self, tenant_id: str, user_token: str, group_id: str
    ) -> dict[str, str | None]:
        """The group's members with their departments, following ``@odata.nextLink``."""
        _require_guid(group_id, "group id")
        token = await self._token(tenant_id, user_token)
        next_url: str | None = (
            f"{self._graph}/v1.0/groups/{group_id}/members?$select=id,department&$top=999"
        )
        found: dict[str, str | None] = {}
        for _ in range(MAX_PAGES):
            if next_url is None:
                return found
            body = await self._get_json(next_url, token, "members")
            ids = _page_ids(body)
            for member_id, item in zip(ids, body["value"], strict=True):
                found[member_id] = _department(item.get("department"))
            next_url = self._next_link(body)
        raise DirectoryError("too many pages")

    async def group_name(self, tenant_id: str, user_token: str, group_id: str) -> str | None:
        """The group's display name, read with ``$select=displayName``."""
        _require_guid(group_id, "group id")
        token = await self._token(tenant_id, user_token)
        url = f"{self._graph}/v1.0/groups/{group_id}?$select=displayName"
        return _department(  # the same tidying: printable, one line, at most 64 characters
            (await self._get_json(url, token, "group")).get("displayName")
        )

    async def _token(self, tenant_id: str, user_token: str) -> str:
        _require_guid(tenant_id, "tenant id")
        if not user_token:
            raise DirectoryError("no user token")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(MSAL_TIMEOUT_SECONDS + 1):
                return await loop.run_in_executor(
                    self._executor, self._obo.token, tenant_id.lower(), user_token
                )
        except TimeoutError:
            raise DirectoryUnavailable("identity provider did not answer") from None

    async def _collect_ids(self, url: str, token: str, what: str) -> list[str]:
        ids: list[str] = []
        next_url: str | None = url
        for _ in range(MAX_PAGES):
            if next_url is None:
                return ids
            body = await self._get_json(next_url, token, what)
            ids.extend(_page_ids(body))
            next_url = self._next_link(body)
        raise DirectoryError("too many pages")

    def _next_link(self, body: Mapping[str, Any]) -> str | None:
        link = body.get("@odata.nextLink")
        if link is None:
            return None
        if not isinstance(link, str) or not link.startswith(f"{self._graph}/"):
            raise DirectoryError("unexpected next link")  # never send the token elsewhere
        return link

    async def _get_json(self, url: str, token: str, what: str) -> dict[str, Any]:
        """GET a Graph JSON object, retrying transient failures within the wait budget."""
        waited = 0.0
        for attempt in range(self._max_retries + 1):
            retry_after = await self._attempt(url, token, what)
            if isinstance(retry_after, dict):
                return retry_after
            if attempt == self._max_retries:
                break
            delay = min(
                retry_after if retry_after is not None else _backoff(attempt),
                MAX_RETRY_WAIT_SECONDS,
            )
            if waited + delay > MAX_TOTAL_WAIT_SECONDS:
                break
            await asyncio.sleep(delay)
            waited += delay
        logger.warning("Graph %s unavailable after %d attempts", what, attempt + 1)
        raise DirectoryUnavailable("Graph unavailable")

    async def _attempt(self, url: str, token: str, what: str) -> dict[str, Any] | float | None:
        """The JSON body; or, for a transient failure, Retry-After seconds (None: unknown)."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        try:
            async with self._outbound.session.get(
                url,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                ssl=self._outbound.ssl,
                proxy=self._outbound.proxy(url),
            ) as response:
                body = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as err:
            logger.warning("Graph %s request failed: %s", what, type(err).__name__)
            return None
        if status == 200:
            return _json_object(body)
        code = _graph_error_code(body)
        if status in RETRYABLE_STATUSES:
            logger.info("Graph %s answered %s %s; will retry", what, status, code)
            return _retry_after_seconds(retry_after)
        logger.warning("Graph %s answered %s %s", what, status, code)
        if status >= 500:
            raise DirectoryUnavailable("Graph unavailable", status=status)
        raise DirectoryError(f"Graph refused the request ({status})", status=status)


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter: between half and all of base·2^attempt."""
    ceiling = BACKOFF_BASE_SECONDS * 2.0**attempt
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not crypto)


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise DirectoryError("unexpected response from Graph") from None
    if not isinstance(value, dict):
        raise DirectoryError("unexpected response from Graph")
    return value


def _graph_error_code(body: bytes) -> str:
    """Graph's ``error.code``, made safe for a log line."""
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return "-"
    return _safe(str(code))


def _page_ids(body: Mapping[str, Any]) -> list[str]:
    items = body.get("value")
    if not isinstance(items, list):
        raise DirectoryError("unexpected response from Graph")
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    if len(ids) != len(items) or not all(isinstance(i, str) and i for i in ids):
        raise DirectoryError("unexpected response from Graph")
    return ids  # type: ignore[return-value]  # checked just above


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


MAX_DEPARTMENT_CHARS = 64  # Graph's own limit for the property


def _department(value: Any) -> str | None:
    """A department name as a group key: trimmed, inner spaces collapsed, at most 64
    characters, no control characters; ``None`` when empty."""
    if not isinstance(value, str):
        return None
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return name[:MAX_DEPARTMENT_CHARS] or None


def _safe(value: str) -> str:
    return _SAFE_CODE.sub("", value)[:64]
