"""A local HTTPS Microsoft Graph for tab tests: the few v1.0 endpoints the app calls.

Served at ``https://127.0.0.1:PORT`` in place of ``https://graph.microsoft.com``, with the
same test CA as the local identity provider:

- ``GET /v1.0/me``: the signed-in user (from the token's ``tid``/``oid``). Without ``$select``
  Graph's default property set, which (as on the real service) has no ``department``;
- ``GET /v1.0/groups/{id}/owners`` and ``/members``: ``directoryObject`` collections with
  ``@odata.type``, paged with ``@odata.nextLink`` (an opaque ``$skiptoken``); ``$top`` caps
  the page, and so does ``page_size``.

Every call needs a bearer token signed by the local IdP for ``aud`` https://graph.microsoft.com
with the delegated permission the real endpoint needs (``User.Read`` for ``/me``,
``GroupMember.Read.All`` or wider for a group's owners and members). Errors are Graph's:
``{"error": {"code", "message", "innerError": {...}}}`` with 400 for a malformed id, 401 for
a bad token, 403 ``Authorization_RequestDenied``, 404 ``Request_ResourceNotFound``, and,
when told to, 429 ``TooManyRequests`` or 503/504 with ``Retry-After``.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.typedefs import Handler

from tests.support.idp import GRAPH, LocalIdentityProvider, ServerThread

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DEFAULT_USER_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
_GROUP_READ = frozenset(
    {"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}
)
_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)
_REASONS = {429: "TooManyRequests", 503: "serviceNotAvailable", 504: "UnknownError"}


@dataclass
class GraphUser:
    """A user as Graph returns it."""

    id: str
    display_name: str
    department: str | None = None
    job_title: str | None = None
    upn: str = ""

    def properties(self) -> dict[str, Any]:
        given, _, surname = self.display_name.partition(" ")
        return {
            "businessPhones": [],
            "displayName": self.display_name,
            "givenName": given,
            "jobTitle": self.job_title,
            "mail": self.upn or None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-GB",
            "surname": surname or None,
            "userPrincipalName": self.upn,
            "id": self.id,
            "department": self.department,
        }


@dataclass
class GraphGroup:
    """A Microsoft 365 group (a team), its owners and members by object id."""

    owners: list[str]
    members: list[str]
    forbidden: bool = False
    name: str = ""


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


@dataclass
class LocalGraph:
    """Directory data and failure switches of the local Graph; ``start()`` serves it."""

    idp: LocalIdentityProvider
    users: dict[tuple[str, str], GraphUser] = field(default_factory=dict)
    groups: dict[tuple[str, str], GraphGroup] = field(default_factory=dict)
    page_size: int = 100
    requests: Counter[str] = field(default_factory=Counter)
    _failures: list[tuple[int, int | None]] = field(default_factory=list)
    _pages: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ServerThread | None = None

    def start(self) -> LocalGraph:
        self._server = ServerThread(self._app, self.idp.ca.server_context()).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        """The service root, in place of ``https://graph.microsoft.com``."""
        assert self._server is not None, "not started"
        return self._server.url

    def reset(self) -> None:
        with self._lock:
            self.users.clear()
            self.groups.clear()
            self.requests.clear()
            self._failures.clear()
            self._pages.clear()
            self.page_size = 100

    def add_user(
        self,
        tenant: str,
        oid: str,
        display_name: str,
        *,
        department: str | None = None,
        job_title: str | None = None,
    ) -> None:
        upn = f"{oid[:8]}@contoso.example"
        self.users[(tenant, oid)] = GraphUser(oid, display_name, department, job_title, upn)

    def add_group(
        self,
        tenant: str,
        group_id: str,
        *,
        owners: list[str],
        members: list[str],
        forbidden: bool = False,
        name: str = "",
    ) -> None:
        """A team; ``forbidden`` makes reads of it answer 403 (e.g. a hidden-membership group)."""
        self.groups[(tenant, group_id.lower())] = GraphGroup(owners, members, forbidden, name)

    def fail_next(self, count: int, status: int = 429, retry_after: int | None = 1) -> None:
        """Answer the next ``count`` calls with ``status`` (and ``Retry-After`` if not None)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * count)

    # -- HTTP

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors])
        app.router.add_get("/v1.0/me", self._me, name="me")
        app.router.add_get("/v1.0/groups/{id}", self._group, name="group")
        app.router.add_get("/v1.0/groups/{id}/owners", self._owners, name="owners")
        app.router.add_get("/v1.0/groups/{id}/members", self._members, name="members")
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        with self._lock:
            self.requests[request.match_info.route.name or "unknown"] += 1
        try:
            self._maybe_fail()
            return await handler(request)
        except _Refused as refused:
            return self._error(request, refused)

    def _maybe_fail(self) -> None:
        with self._lock:
            if not self._failures:
                return
            status, retry_after = self._failures.pop(0)
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        message = (
            "Too Many Requests" if status == 429 else "The service is temporarily unavailable."
        )
        raise _Refused(status, _REASONS.get(status, "UnknownError"), message, headers)

    @staticmethod
    def _error(request: web.Request, refused: _Refused) -> web.Response:
        request_id = str(uuid.uuid4())
        body = {
            "error": {
                "code": refused.code,
                "message": refused.message,
                "innerError": {
                    "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": request.headers.get("client-request-id", request_id),
                },
            }
        }
        headers = {"request-id": request_id, **refused.headers}
        if refused.status == 401:
            headers["WWW-Authenticate"] = (
                'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
            )
        return web.json_response(body, status=refused.status, headers=headers)

    def _authorize(self, request: web.Request, needs: frozenset[str]) -> dict[str, Any]:
        """The claims of a valid Graph token carrying one of ``needs``; else 401/403."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise _Refused(401, "InvalidAuthenticationToken", "Access token is empty.")
        token = header[7:].strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next(k for k in self.idp.keys if k.kid == kid)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private.public_key(),
                algorithms=["RS256"],
                audience=GRAPH,
                options={"require": ["exp", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise _Refused(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            ) from None
        except jwt.InvalidAudienceError:
            raise _Refused(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            ) from None
        except (jwt.PyJWTError, StopIteration):
            raise _Refused(
                401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed."
            ) from None
        granted = set(str(claims.get("scp", "")).split())
        if not granted & needs:
            raise _Refused(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        return claims

    async def _me(self, request: web.Request) -> web.Response:
        claims = self._authorize(
            request,
            frozenset({"User.Read", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All"}),
        )
        user = self.users.get((claims["tid"], claims["oid"]))
        if user is None:
            raise _Refused(
                404,
                "Request_ResourceNotFound",
                f"Resource '{claims['oid']}' does"
                " not exist or one of its queried reference-property objects are"
                " not present.",
            )
        select = _select(request) or list(_DEFAULT_USER_PROPERTIES)
        everything = user.properties()
        unknown = [name for name in select if name not in everything]
        if unknown:
            raise _Refused(
                400,
                "Request_BadRequest",
                f"Could not find a property named"
                f" '{unknown[0]}' on type 'Microsoft.DirectoryServices.User'.",
            )
        context = (
            "users/$entity" if not _select(request) else (f"users({','.join(select)})/$entity")
        )
        body = {"@odata.context": f"{self.url}/v1.0/$metadata#{context}"}
        body |= {name: everything[name] for name in select}
        return _odata(body)

    async def _owners(self, request: web.Request) -> web.Response:
        return self._collection(request, "owners")

    async def _members(self, request: web.Request) -> web.Response:
        return self._collection(request, "members")

    async def _group(self, request: web.Request) -> web.Response:
        """``GET /groups/{id}``: the group's ``displayName`` (with ``$select``)."""
        _claims, group = self._group_of(request)
        body = {
            "@odata.context": f"{self.url}/v1.0/$metadata#groups(displayName)/$entity",
            "id": request.match_info["id"],
            "displayName": group.name or None,
        }
        return _odata(body)

    def _group_of(self, request: web.Request) -> tuple[dict[str, Any], GraphGroup]:
        """The token's claims and the group the path names; Graph's 400/404/403 otherwise."""
        claims = self._authorize(request, _GROUP_READ)
        group_id = request.match_info["id"]
        if not _GUID.match(group_id):
            raise _Refused(400, "Request_BadRequest", f"Invalid object identifier '{group_id}'.")
        group = self.groups.get((claims["tid"], group_id.lower()))
        if group is None:
            raise _Refused(
                404,
                "Request_ResourceNotFound",
                f"Resource '{group_id}' does not"
                " exist or one of its queried reference-property objects are not"
                " present.",
            )
        if group.forbidden:
            raise _Refused(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        return claims, group

    def _collection(self, request: web.Request, relation: str) -> web.Response:
        claims, group = self._group_of(request)
        group_id = request.match_info["id"]
        ids: list[str] = getattr(group, relation)
        start = self._page_start(request, claims["tid"], group_id, relation)
        size = min(self.page_size, _top(request))
        page = ids[start : start + size]
        selected = _select(request)
        body: dict[str, Any] = {
            "@odata.context": f"{self.url}/v1.0/$metadata#directoryObjects(id)",
            "value": [self._member(claims["tid"], i, selected) for i in page],
        }
        if start + size < len(ids):
            body["@odata.nextLink"] = self._next_link(
                request, claims["tid"], group_id, relation, start + size
            )
        return _odata(body)

    def _member(self, tenant: str, oid: str, selected: list[str]) -> dict[str, Any]:
        """A member as a directoryObject; user properties asked for with ``$select`` come
        back for users the directory knows (``null`` when unset, as on Graph)."""
        item: dict[str, Any] = {"@odata.type": "#microsoft.graph.user", "id": oid}
        if "department" in selected:
            user = self.users.get((tenant, oid))
            item["department"] = user.department if user else None
        return item

    def _page_start(self, request: web.Request, tenant: str, group_id: str, relation: str) -> int:
        token = request.query.get("$skiptoken")
        if token is None:
            return 0
        with self._lock:
            page = self._pages.get(token)
        if page is None or page[:3] != (tenant, group_id.lower(), relation):
            raise _Refused(400, "Request_BadRequest", "Invalid skip token.")
        return page[3]

    def _next_link(
        self, request: web.Request, tenant: str, group_id: str, relation: str, offset: int
    ) -> str:
        token = "RFNwdAIAAQAAA" + secrets.token_urlsafe(24)
        with self._lock:
            self._pages[token] = (tenant, group_id.lower(), relation, offset)
        query = "&".join(f"{k}={v}" for k, v in request.query.items() if k != "$skiptoken")
        sep = "&" if query else ""
        return f"{self.url}/v1.0/groups/{group_id}/{relation}?{query}{sep}$skiptoken={token}"


def _select(request: web.Request) -> list[str]:
    raw = request.query.get("$select", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def _top(request: web.Request) -> int:
    raw = request.query.get("$top", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 999:
        raise _Refused(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.",
        )
    return int(raw)


def _odata(body: dict[str, Any]) -> web.Response:
    """A 200 with Graph's OData JSON content type."""
    headers = {"Content-Type": _CONTENT_TYPE, "request-id": str(uuid.uuid4())}
    return web.Response(text=json.dumps(body), headers=headers)
