"""Authentication of ``/api/messages``: only the Bot Framework channel may speak for a user.

The Agents SDK's own validator picks signing keys by the token's issuer and then never checks
the issuer itself, so an Entra ID token for the bot's app id (a tab SSO token, when bot and
tabs share one registration) passed it. We validate the channel token ourselves, as the Bot
Framework defines it for Teams:

- an ``Authorization: Bearer`` RS256 JWT whose key id is published in the channel's OpenID
  metadata (``AIREADY_BOT_OPENID_METADATA``, by default login.botframework.com);
- ``iss`` is exactly ``https://api.botframework.com`` (a string, not a list); checked before
  any key is fetched, so other issuers cost nothing;
- ``aud`` is exactly the bot's app id; ``exp`` is present and not past, ``nbf`` (if present)
  reached, both with the Bot Framework's 5 minutes of clock skew;
- no user-delegated marks (``scp``, ``idtyp: user``): the channel's tokens are app tokens;
- the signing key endorses the activity's channel (``msteams``) when it lists endorsements;
- the token's ``serviceurl`` claim equals the activity's ``serviceUrl``, so a request cannot
  make the bot post its replies (with its own credentials) anywhere else.

Every refusal is a :class:`ChannelAuthError`; the route answers 401 with no detail. Nothing
from the token is ever logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from microsoft_agents.hosting.core import ClaimsIdentity

from server.jwks import KeySet, KeysUnavailable, number, unverified_rs256, verified_claims

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
CLOCK_SKEW_SECONDS = 300


class ChannelAuthError(Exception):
    """The request is not from the channel; ``reason`` is for logs and tests only."""

    def __init__(self, reason: str) -> None:
        super().__init__("unauthorized")
        self.reason = reason


@dataclass(frozen=True)
class ChannelIdentity:
    """A validated channel token's claims."""

    claims: dict[str, Any] = field(repr=False)
    service_url: str
    endorsements: frozenset[str] | None

    def check_activity(self, service_url: object, channel_id: object) -> None:
        """Refuse an activity that the token was not issued for."""
        if not isinstance(service_url, str) or not same_service_url(service_url, self.service_url):
            raise ChannelAuthError("serviceUrl differs from the token's serviceurl claim")
        if self.endorsements is not None and channel_id not in self.endorsements:
            raise ChannelAuthError("signing key does not endorse this channel")

    def claims_identity(self) -> ClaimsIdentity:
        """The identity the Agents SDK's turn pipeline expects."""
        return ClaimsIdentity(claims=dict(self.claims), authentication_type="Bearer")


def same_service_url(a: str, b: str) -> bool:
    """Service URLs compared as the Bot Framework does: case-insensitive, trailing ``/`` free."""
    return a.rstrip("/").casefold() == b.rstrip("/").casefold()


def bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header."""
    if not header:
        raise ChannelAuthError("no authorization header")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        raise ChannelAuthError("not a bearer token")
    return token


class ChannelTokenValidator:
    """Validates Bot Framework channel tokens for one bot."""

    def __init__(
        self,
        app_id: str,
        keys: KeySet,
        *,
        clock: Callable[[], float] = time.time,
        leeway: int = CLOCK_SKEW_SECONDS,
    ) -> None:
        if not app_id:
            raise ValueError("the bot's app id is required")
        self._app_id = app_id
        self._keys = keys
        self._clock = clock
        self._leeway = leeway

    async def validate(self, authorization: str | None) -> ChannelIdentity:
        """The identity in the header's token; :class:`ChannelAuthError` for any problem."""
        try:
            return await self._validate(authorization)
        except ChannelAuthError as err:
            logger.info("bot request refused: %s", err.reason)
            raise
        except Exception as err:  # fail closed
            logger.warning("bot token validation failed: %s", type(err).__name__)
            raise ChannelAuthError("validation error") from None

    async def _validate(self, authorization: str | None) -> ChannelIdentity:
        token = bearer(authorization)
        try:
            kid, unverified = unverified_rs256(token)
        except ValueError as err:
            raise ChannelAuthError(str(err)) from None
        self._check_claims(unverified)  # cheap refusals before any key is fetched
        try:
            published = await self._keys.key(kid)
            claims = verified_claims(token, published.key)
        except (KeysUnavailable, ValueError) as err:
            raise ChannelAuthError(str(err)) from None
        self._check_claims(claims)
        return ChannelIdentity(claims, claims["serviceurl"], published.endorsements)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if claims.get("iss") != BOT_FRAMEWORK_ISSUER:
            raise ChannelAuthError("not issued by the Bot Framework channel")
        if claims.get("aud") != self._app_id:
            raise ChannelAuthError("wrong audience")
        if "scp" in claims or claims.get("idtyp") == "user":
            raise ChannelAuthError("a user-delegated token")
        exp, nbf = number(claims.get("exp")), claims.get("nbf")
        now = self._clock()
        if exp is None:
            raise ChannelAuthError("no expiry")
        if now > exp + self._leeway:
            raise ChannelAuthError("expired")
        if nbf is not None:
            not_before = number(nbf)
            if not_before is None or now + self._leeway < not_before:
                raise ChannelAuthError("not yet valid")
        service_url = claims.get("serviceurl")
        if not isinstance(service_url, str) or not service_url:
            raise ChannelAuthError("no serviceurl claim")
