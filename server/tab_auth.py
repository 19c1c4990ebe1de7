"""Validation of the Teams tab SSO token (``microsoftTeams.authentication.getAuthToken()``).

The tab sends Entra ID's v2.0 access token for our own API. It is accepted only when:

- it is a well-formed JWT whose header says ``alg: RS256`` and names a ``kid``;
- its ``tid`` is a GUID (and one of ``allowed_tenants`` when that is set), checked before
  anything is fetched, so tokens for other tenants cost no outbound request;
- its signature verifies against the key ``kid`` published by the issuer at
  ``{authority}/{tid}/discovery/v2.0/keys``;
- ``iss`` is ``{authority}/{tid}/v2.0`` (the app registration must have
  ``accessTokenAcceptedVersion: 2``); ``aud`` is the client id or an Application ID URI
  ``api://…/{client_id}``; ``scp`` contains ``access_as_user``; ``exp`` and ``nbf`` hold
  within ``leeway`` seconds; ``oid`` is present.

Keys are fetched with aiohttp (never blocking the loop) and cached per tenant. A ``kid`` the
cache does not know triggers a refresh, at most once per ``min_refresh_interval`` per tenant,
so made-up key ids cannot make us hammer the identity provider; concurrent fetches for one
tenant share a single request. A failed first fetch is retried after a short back-off. Keys
older than a day are refreshed on use; if that fails, the known keys stay in service.

Every refusal raises ``TabAuthError("invalid token")``; the specific ``reason`` is for logs
and tests only. Nothing from the token is ever logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt

logger = logging.getLogger(__name__)

REQUIRED_SCOPE = "access_as_user"
KEY_FETCH_TIMEOUT_SECONDS = 5.0
KEY_MAX_AGE_SECONDS = 24 * 3600.0
FAILED_FETCH_BACKOFF_SECONDS = 5.0
MAX_CACHED_TENANTS = 1000
MAX_JWKS_BYTES = 256 * 1024
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass(frozen=True)
class TabIdentity:
    """The tab user, from a validated token's claims."""

    tenant_id: str
    user_id: str  # the 'oid' claim
    name: str
    token: str = field(repr=False)  # raw, for the on-behalf-of flow


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


@dataclass
class _TenantKeys:
    """One tenant's published keys and when they were (or were tried to be) fetched."""

    keys: dict[str, Any] = field(default_factory=dict)
    fetched_at: float | None = None  # last success
    attempted_at: float | None = None  # last attempt, successful or not
    kid_refresh_at: float | None = None  # last refresh caused by an unknown kid


class TabTokenValidator:
    """Validates tab SSO tokens for one app registration."""

    def __init__(
        self,
        client_id: str,
        *,
        authority: str = "https://login.microsoftonline.com",
        allowed_tenants: frozenset[str] | None,
        session: aiohttp.ClientSession,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
        leeway: int = 60,
        min_refresh_interval: float = 60.0,
    ) -> None:
        if not client_id:
            raise ValueError("client_id is required")
        self._client_id = client_id
        self._authority = authority.rstrip("/")
        self._allowed = (
            None if allowed_tenants is None else frozenset(t.lower() for t in allowed_tenants)
        )
        self._session = session
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._clock = clock
        self._leeway = leeway
        self._min_refresh = min_refresh_interval
        self._tenants: OrderedDict[str, _TenantKeys] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[None]] = {}

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
        kid, unverified = _parse(token)
        tenant = unverified.get("tid")
        if not isinstance(tenant, str) or not _GUID.match(tenant):
            raise TabAuthError("tenant id is not a GUID")
        if self._allowed is not None and tenant.lower() not in self._allowed:
            raise TabAuthError("tenant not allowed")
        key = await self._signing_key(tenant, kid)
        claims = self._verified_claims(token, key)
        self._check_claims(claims, tenant)
        return TabIdentity(
            tenant_id=tenant,
            user_id=claims["oid"],
            name=str(claims.get("name") or ""),
            token=token,
        )

    def _verified_claims(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                # Time and audience rules are ours (injectable clock, App ID URI audiences).
                options={
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise TabAuthError("bad signature") from None
        return claims

    def _check_claims(self, claims: dict[str, Any], tenant: str) -> None:
        if claims.get("tid") != tenant:
            raise TabAuthError("tenant id changed")
        if claims.get("iss") != f"{self._authority}/{tenant}/v2.0":
            raise TabAuthError("wrong issuer")
        if not self._audience_ok(claims.get("aud")):
            raise TabAuthError("wrong audience")
        self._check_times(claims)
        scopes = claims.get("scp")
        if not isinstance(scopes, str) or REQUIRED_SCOPE not in scopes.split():
            raise TabAuthError("missing scope")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise TabAuthError("missing oid")

    def _audience_ok(self, aud: Any) -> bool:
        if not isinstance(aud, str):
            return False
        return aud == self._client_id or (
            aud.startswith("api://") and aud.endswith(f"/{self._client_id}")
        )

    def _check_times(self, claims: dict[str, Any]) -> None:
        exp, nbf = _number(claims.get("exp")), _number(claims.get("nbf"))
        if exp is None or nbf is None:
            raise TabAuthError("missing exp or nbf")
        now = self._clock()
        if now > exp + self._leeway:
            raise TabAuthError("expired")
        if now + self._leeway < nbf:
            raise TabAuthError("not yet valid")

    # --- keys -----------------------------------------------------------------------------

    async def _signing_key(self, tenant: str, kid: str) -> Any:
        entry = self._entry(tenant)
        if tenant in self._inflight:
            await asyncio.shield(self._inflight[tenant])
        elif self._should_fetch(entry, kid):
            await self._refresh(tenant, entry)
        key = entry.keys.get(kid)
        if key is None:
            raise TabAuthError("keys unavailable" if not entry.keys else "unknown key id")
        return key

    def _entry(self, tenant: str) -> _TenantKeys:
        entry = self._tenants.get(tenant)
        if entry is None:
            entry = self._tenants[tenant] = _TenantKeys()
            while len(self._tenants) > MAX_CACHED_TENANTS:
                self._tenants.popitem(last=False)
        self._tenants.move_to_end(tenant)
        return entry

    def _should_fetch(self, entry: _TenantKeys, kid: str) -> bool:
        """Whether a JWKS request is allowed now; records an unknown-kid refresh when so."""
        now = self._clock()
        if entry.fetched_at is None or now - entry.fetched_at > KEY_MAX_AGE_SECONDS:
            backoff = min(FAILED_FETCH_BACKOFF_SECONDS, self._min_refresh)
            return entry.attempted_at is None or now - entry.attempted_at >= backoff
        if kid in entry.keys:
            return False
        if entry.kid_refresh_at is not None and now - entry.kid_refresh_at < self._min_refresh:
            return False
        entry.kid_refresh_at = now
        return True

    async def _refresh(self, tenant: str, entry: _TenantKeys) -> None:
        """Fetch the tenant's keys once, however many callers are waiting for them."""
        task = asyncio.create_task(self._fetch(tenant, entry))
        self._inflight[tenant] = task
        task.add_done_callback(lambda _: self._inflight.pop(tenant, None))
        await asyncio.shield(task)

    async def _fetch(self, tenant: str, entry: _TenantKeys) -> None:
        entry.attempted_at = self._clock()
        try:
            keys = await self._download(tenant)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            logger.warning("could not fetch tab token signing keys: %s", type(err).__name__)
            return
        entry.keys = keys
        entry.fetched_at = self._clock()

    async def _download(self, tenant: str) -> dict[str, Any]:
        url = f"{self._authority}/{tenant}/discovery/v2.0/keys"
        timeout = aiohttp.ClientTimeout(total=KEY_FETCH_TIMEOUT_SECONDS)
        async with self._session.get(
            url, ssl=self._ssl, timeout=timeout, allow_redirects=False
        ) as response:
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
            body = await response.content.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("key set too large")
        return _public_keys(json.loads(body))


def _parse(token: str) -> tuple[str, dict[str, Any]]:
    """(kid, unverified claims) of a token that looks like an RS256 JWT."""
    if not isinstance(token, str) or not token or token.count(".") != 2:
        raise TabAuthError("malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TabAuthError("malformed") from None
    if header.get("alg") != "RS256":
        raise TabAuthError("algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TabAuthError("no key id")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TabAuthError("malformed") from None
    return kid, claims


def _public_keys(jwks: Any) -> dict[str, Any]:
    """RSA signing keys by kid from a JWKS document; malformed entries are skipped."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a key set")
    keys: dict[str, Any] = {}
    for entry in jwks["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
        except jwt.PyJWTError:
            continue
    return keys


def _number(value: Any) -> float | None:
    """A numeric claim as a float; None if absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
