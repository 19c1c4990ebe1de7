"""HTTP routes: the bot endpoint and the health check."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import start_agent_process
from pydantic import ValidationError

from server import keys
from server.bot_auth import authenticate

logger = logging.getLogger(__name__)

_NEEDS_SENDER = {"message", "invoke", "conversationUpdate", "installationUpdate"}


def _bad_request(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


def _check_activity(body: Any) -> None:
    """Refuse bodies that are not Bot Framework activities, with a short reason."""
    if not isinstance(body, dict):
        raise _bad_request("body must be a JSON object (an activity)")
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise _bad_request("activity needs a 'type'")
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        raise _bad_request("activity needs 'conversation.id'")
    sender = body.get("from")
    if kind in _NEEDS_SENDER and not (
        isinstance(sender, dict) and isinstance(sender.get("id"), str)
    ):
        raise _bad_request("activity needs 'from.id'")
    try:
        Activity.model_validate(body)
    except ValidationError as err:
        field = ".".join(str(p) for p in err.errors()[0]["loc"]) if err.errors() else "?"
        raise _bad_request(f"activity field '{field}' is not valid") from None


async def messages(request: web.Request) -> web.StreamResponse:
    """``POST /api/messages``: activities from the Bot Connector."""
    refused = await authenticate(request)
    if refused is not None:
        return refused
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "send application/json"}), content_type="application/json"
        )
    raw = await request.read()  # raises 413 past the app's client_max_size
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad_request("body is not valid JSON") from None
    _check_activity(body)
    app = request.app
    response = await start_agent_process(request, app[keys.AGENT], app[keys.ADAPTER])
    return response if response is not None else web.Response(status=202)


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 when storage answers, 503 otherwise."""
    storage_ok = await request.app[keys.STORE].ping()
    status = 200 if storage_ok else 503
    body = {
        "status": "ok" if storage_ok else "degraded",
        "storage": "ok" if storage_ok else "unreachable",
    }
    return web.json_response(body, status=status)


def setup_routes(app: web.Application) -> None:
    """Register every route."""
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
