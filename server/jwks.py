"""Token signing keys, fetched asynchronously and cached: shared by the bot and tab validators.

A :class:`KeySet` holds one issuer's published RSA keys (a JWKS document, optionally found
through OpenID metadata). Keys are fetched with aiohttp on the event loop, never in a worker
thread, so a stalled key endpoint cannot starve the default executor that other I/O uses.

- Concurrent callers share one fetch (single flight).
- A key id the cache does not know triggers a refresh at most once per
  ``min_refresh_interval``, so made-up key ids cannot make us hammer the identity provider.
- A failed fetch is retried after a short back-off; keys older than ``max_age`` are
  refreshed on use, and if that fails the known keys stay in service.
- Responses are size-capped and must come from https URLs on the configured host.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp
import jwt

from teams_app.adapters.http import OutboundHttp

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 5.0
MAX_AGE_SECONDS = 24 * 3600.0
FAILED_FETCH_BACKOFF_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """A verification key and the channels that endorse it (Bot Framework keys have them)."""

    key: Any
    endorsements: frozenset[str] | None = None


class KeysUnavailable(Exception):
    """No key could be found for the token (unknown key id, or the keys could not be fetched)."""


@dataclass
class _State:
    keys: dict[str, PublishedKey] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None
    kid_refresh_at: float | None = None


class KeySet:
    """One issuer's signing keys, from a JWKS URL or from OpenID metadata's ``jwks_uri``."""

    def __init__(
        self,
        http: OutboundHttp,
        *,
        jwks_url: str | None = None,
        metadata_url: str | None = None,
        clock: Callable[[], float] = time.time,
        min_refresh_interval: float = 60.0,
    ) -> None:
        if (jwks_url is None) == (metadata_url is None):
            raise ValueError("give exactly one of jwks_url and metadata_url")
        self._http = http
        self._jwks_url = jwks_url
        self._metadata_url = metadata_url
        self._clock = clock
        self._min_refresh = min_refresh_interval
        self._state = _State()
        self._inflight: asyncio.Task[None] | None = None

    async def key(self, kid: str) -> PublishedKey:
        """The published key ``kid``; raises :class:`KeysUnavailable`."""
        if self._inflight is not None:
            await asyncio.shield(self._inflight)
        elif self._should_fetch(kid):
            await self._refresh()
        found = self._state.keys.get(kid)
        if found is None:
            raise KeysUnavailable("unknown key id" if self._state.keys else "keys unavailable")
        return found

    def _should_fetch(self, kid: str) -> bool:
        state, now = self._state, self._clock()
        if state.fetched_at is None or now - state.fetched_at > MAX_AGE_SECONDS:
            backoff = min(FAILED_FETCH_BACKOFF_SECONDS, self._min_refresh)
            return state.attempted_at is None or now - state.attempted_at >= backoff
        if kid in state.keys:
            return False
        if state.kid_refresh_at is not None and now - state.kid_refresh_at < self._min_refresh:
            return False
        state.kid_refresh_at = now
        return True

    async def _refresh(self) -> None:
        task = asyncio.create_task(self._fetch())
        self._inflight = task

        def done(_: asyncio.Task[None]) -> None:
            self._inflight = None

        task.add_done_callback(done)
        await asyncio.shield(task)

    async def _fetch(self) -> None:
        self._state.attempted_at = self._clock()
        try:
            url = self._jwks_url or await self._jwks_from_metadata()
            keys = published_keys(await self._get_json(url))
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            logger.warning("could not fetch token signing keys: %s", type(err).__name__)
            return
        self._state.keys = keys
        self._state.fetched_at = self._clock()

    async def _jwks_from_metadata(self) -> str:
        assert self._metadata_url is not None
        metadata = await self._get_json(self._metadata_url)
        jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if not isinstance(jwks_uri, str):
            raise ValueError("metadata has no jwks_uri")
        wanted, got = urlparse(self._metadata_url), urlparse(jwks_uri)
        if got.scheme != "https" or got.hostname != wanted.hostname:
            raise ValueError("jwks_uri is not on the metadata's https host")
        return jwks_uri

    async def _get_json(self, url: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with self._http.session.get(
            url,
            ssl=self._http.ssl,
            proxy=self._http.proxy(url),
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
            body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError("document too large")
        return json.loads(body)


def published_keys(jwks: Any) -> dict[str, PublishedKey]:
    """RSA signing keys by kid from a JWKS document; malformed entries are skipped."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a key set")
    keys: dict[str, PublishedKey] = {}
    for entry in jwks["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        endorsements = entry.get("endorsements")
        try:
            key = jwt.PyJWK(entry, algorithm="RS256").key
        except jwt.PyJWTError:
            continue
        keys[entry["kid"]] = PublishedKey(
            key,
            frozenset(e for e in endorsements if isinstance(e, str))
            if isinstance(endorsements, list)
            else None,
        )
    return keys


def unverified_rs256(token: str) -> tuple[str, dict[str, Any]]:
    """(kid, unverified claims) of a token that looks like an RS256 JWT; ``ValueError``
    otherwise. Nothing here is trusted until the signature is checked."""
    if not isinstance(token, str) or not token or token.count(".") != 2:
        raise ValueError("malformed")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise ValueError("malformed") from None
    if header.get("alg") != "RS256":
        raise ValueError("algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("no key id")
    if not isinstance(claims, dict):
        raise ValueError("malformed")
    return kid, claims


def verified_claims(token: str, key: Any) -> dict[str, Any]:
    """The claims of ``token`` if its RS256 signature verifies with ``key``; time, issuer and
    audience rules are the caller's. ``ValueError`` when the signature is bad."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={
                "verify_aud": False,
                "verify_iss": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        raise ValueError("bad signature") from None
    return claims


def number(value: Any) -> float | None:
    """A numeric claim as a float; ``None`` if absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
