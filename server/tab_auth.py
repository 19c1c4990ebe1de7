"""Validation of the Teams tab SSO token (``microsoftTeams.authentication.getAuthToken()``).

The tab sends Entra ID's v2.0 access token for our own API. It is accepted only when:

- it is a well-formed JWT whose header says ``alg: RS256`` and names a ``kid``;
- its ``tid`` is a GUID (and one of ``allowed_tenants`` when that is set), checked before
  anything is fetched, so tokens for other tenants cost no outbound request;
- its signature verifies against the key ``kid`` published by the issuer at
  ``{authority}/{tid}/discovery/v2.0/keys``;
- ``iss`` is ``{authority}/{tid}/v2.0`` (the app registration must have
  ``accessTokenAcceptedVersion: 2``); ``aud`` is exactly one of the configured audiences (the
  client id, or the Application ID URI); ``scp`` contains ``access_as_user``; ``exp`` and
  ``nbf`` hold within ``leeway`` seconds; ``oid`` is present.

Keys come from :class:`server.jwks.KeySet` (fetched with aiohttp, cached per tenant, refreshed
on an unknown key id at most once a minute). Every refusal raises
``TabAuthError("invalid token")``; the specific ``reason`` is for logs and tests only. Nothing
from the token is ever logged.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.jwks import (
    KeySet,
    KeysUnavailable,
    number,
    unverified_rs256,
    verified_claims,
)
from teams_app.adapters.http import OutboundHttp

logger = logging.getLogger(__name__)

REQUIRED_SCOPE = "access_as_user"
MAX_CACHED_TENANTS = 1000
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass(frozen=True)
class TabIdentity:
    """The tab user, from a validated token's claims."""

    tenant_id: str
    user_id: str  # the 'oid' claim
    name: str
    token: str = field(repr=False)  # raw, for the on-behalf-of flow
    roles: frozenset[str] = frozenset()  # the app roles assigned to the user ('roles' claim)


class TabAuthError(Exception):
    """The tab's token is refused. The message is always generic; ``reason`` is for logs."""

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__("invalid token")
        self.reason = reason


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, else ``TabAuthError``."""
    if not header:
        raise TabAuthError("no authorization header")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        raise TabAuthError("not a bearer token")
    return token


class TabTokenValidator:
    """Validates tab SSO tokens for one app registration."""

    def __init__(
        self,
        audiences: frozenset[str],
        *,
        authority: str = "https://login.microsoftonline.com",
        allowed_tenants: frozenset[str] | None,
        http: OutboundHttp,
        clock: Callable[[], float] = time.time,
        leeway: int = 60,
        min_refresh_interval: float = 60.0,
    ) -> None:
        if not audiences:
            raise ValueError("at least one audience (the client id) is required")
        self._audiences = audiences
        self._authority = authority.rstrip("/")
        self._allowed = (
            None if allowed_tenants is None else frozenset(t.lower() for t in allowed_tenants)
        )
        self._http = http
        self._clock = clock
        self._leeway = leeway
        self._min_refresh = min_refresh_interval
        self._tenants: OrderedDict[str, KeySet] = OrderedDict()

    async def validate(self, token: str) -> TabIdentity:
        """The identity in ``token``, or ``TabAuthError`` for any problem."""
        try:
            return await self._validate(token)
        except TabAuthError as err:
            logger.info("tab token refused: %s", err.reason)
            raise
        except Exception as err:  # fail closed: whatever went wrong, the token is not accepted
            logger.warning("tab token validation failed: %s", type(err).__name__)
            raise TabAuthError("validation error") from None

    async def _validate(self, token: str) -> TabIdentity:
        try:
            kid, unverified = unverified_rs256(token)
        except ValueError as err:
            raise TabAuthError(str(err)) from None
        tenant = unverified.get("tid")
        if not isinstance(tenant, str) or not _GUID.match(tenant):
            raise TabAuthError("tenant id is not a GUID")
        if self._allowed is not None and tenant.lower() not in self._allowed:
            raise TabAuthError("tenant not allowed")
        try:
            published = await self._keys(tenant).key(kid)
            claims = verified_claims(token, published.key)
        except (KeysUnavailable, ValueError) as err:
            raise TabAuthError(str(err)) from None
        self._check_claims(claims, tenant)
        return TabIdentity(
            tenant_id=tenant,
            user_id=claims["oid"],
            name=str(claims.get("name") or ""),
            token=token,
            roles=_roles(claims.get("roles")),
        )

    def _keys(self, tenant: str) -> KeySet:
        keys = self._tenants.get(tenant)
        if keys is None:
            keys = self._tenants[tenant] = KeySet(
                self._http,
                jwks_url=f"{self._authority}/{tenant}/discovery/v2.0/keys",
                clock=self._clock,
                min_refresh_interval=self._min_refresh,
            )
            while len(self._tenants) > MAX_CACHED_TENANTS:
                self._tenants.popitem(last=False)
        self._tenants.move_to_end(tenant)
        return keys

    def _check_claims(self, claims: dict[str, Any], tenant: str) -> None:
        if claims.get("tid") != tenant:
            raise TabAuthError("tenant id changed")
        if claims.get("iss") != f"{self._authority}/{tenant}/v2.0":
            raise TabAuthError("wrong issuer")
        aud = claims.get("aud")
        if not isinstance(aud, str) or aud not in self._audiences:
            raise TabAuthError("wrong audience")
        self._check_times(claims)
        scopes = claims.get("scp")
        if not isinstance(scopes, str) or REQUIRED_SCOPE not in scopes.split():
            raise TabAuthError("missing scope")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise TabAuthError("missing oid")

    def _check_times(self, claims: dict[str, Any]) -> None:
        exp, nbf = number(claims.get("exp")), number(claims.get("nbf"))
        if exp is None or nbf is None:
            raise TabAuthError("missing exp or nbf")
        now = self._clock()
        if now > exp + self._leeway:
            raise TabAuthError("expired")
        if now + self._leeway < nbf:
            raise TabAuthError("not yet valid")


def _roles(claim: Any) -> frozenset[str]:
    """The ``roles`` claim: a list of app role values; anything else grants nothing."""
    if not isinstance(claim, list):
        return frozenset()
    return frozenset(r for r in claim if isinstance(r, str))
