"""The one place where HTTP errors become responses: short JSON reasons, no internals."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from server.tab_auth import TabAuthError
from teams_app.directory import DirectoryUnavailable
from teams_app.storage.ports import StorageError
from teams_app.team_service import Forbidden

logger = logging.getLogger(__name__)


def _json_error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


API_DEADLINE_SECONDS = 10.0


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn typed errors and HTTP exceptions into JSON bodies; anything else is a generic 500.
    The tabs' API calls get a deadline of their own (the bot endpoint keeps Teams' budgets)."""
    try:
        if request.path.startswith("/api/") and request.path != "/api/messages":
            async with asyncio.timeout(API_DEADLINE_SECONDS):
                return await handler(request)
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json":
            raise
        if exc.status == 413:
            return _json_error(413, "request body too large")
        if exc.status < 400:
            raise
        return _json_error(exc.status, exc.reason)
    except TabAuthError as err:
        logger.info("tab request refused: %s", err.reason)
        return _json_error(401, "unauthorized")
    except Forbidden as err:
        return _json_error(403, str(err))
    except (StorageError, DirectoryUnavailable, TimeoutError) as err:
        logger.warning("dependency unavailable on %s: %s", request.path, type(err).__name__)
        return _json_error(503, "temporarily unavailable, please try again in a minute")
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _json_error(500, "internal error")
