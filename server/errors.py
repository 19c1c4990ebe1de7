"""The one place where HTTP errors become responses: short JSON reasons, no internals."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

logger = logging.getLogger(__name__)


def _json_error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn HTTP exceptions into JSON bodies and unexpected errors into a generic 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json":
            raise
        if exc.status == 413:
            return _json_error(413, "request body too large")
        if exc.status < 400:
            raise
        return _json_error(exc.status, exc.reason)
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _json_error(500, "internal error")
