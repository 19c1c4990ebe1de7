"""Authentication of ``/api/messages``: the Agents SDK's JWT validation, made fail-safe.

The SDK checks the Bot Connector token (signature against the published keys, issuer,
audience, expiry). This wrapper adds what a public endpoint needs around it: any exception
inside validation (a malformed header, a token without a key id, a key endpoint that cannot
be reached) is a 401 with a generic body, never a 500; validation that stalls is cut off;
nothing about the token reaches the log.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from microsoft_agents.hosting.aiohttp import jwt_authorization_middleware

logger = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 5.0
_UNAUTHORIZED = {"error": "unauthorized"}


class _Passed(web.Response):
    """Returned by the probe handler: the SDK accepted the request."""


async def _probe(_request: web.Request) -> web.StreamResponse:
    return _Passed(status=204)


async def authenticate(request: web.Request) -> web.Response | None:
    """``None`` when the request may proceed (claims are then in ``request``), else a 401."""
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
            result = await jwt_authorization_middleware(request, _probe)
    except TimeoutError:
        logger.warning("bot token validation timed out")
        return web.json_response(_UNAUTHORIZED, status=401)
    except Exception as err:  # any failure to validate is a failure to authenticate
        logger.warning("bot token rejected: %s", type(err).__name__)
        return web.json_response(_UNAUTHORIZED, status=401)
    if isinstance(result, _Passed):
        return None
    logger.info("bot request refused with status %s", getattr(result, "status", "?"))
    return web.json_response(_UNAUTHORIZED, status=401)
