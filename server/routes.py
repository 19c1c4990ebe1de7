"""HTTP routes: the bot endpoint and the health check.

``POST /api/messages`` owns the HTTP boundary of the bot: it authenticates the channel
(:mod:`server.bot_auth`; in local development, the explicit anonymous switch), reads and
checks the body, and only then runs the SDK's turn pipeline. Every malformed request gets a
4xx with a short reason that never echoes the input, and nothing reaches storage or the
connector before the request is both authentic and well formed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import ClaimsIdentity
from pydantic import ValidationError

from server import keys
from server.bot_auth import ChannelAuthError, ChannelIdentity
from teams_app.storage.keys import join_key

logger = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 5.0
HEALTH_TIMEOUT_SECONDS = 1.5
# Teams wants an invoke answered within about 5 s and a turn within 15 s; replies that can't
# go out by then are queued.
REPLY_BUDGET_SECONDS = 12.0
MAX_JSON_DEPTH = 32
MAX_KEY_CHARS = 1000  # Azure Tables keys are at most 1 KiB
MAX_ID_CHARS = {"from.id": 256, "from.aadObjectId": 128, "conversation.id": 1024, "id": 256}
_NEEDS_SENDER = {"message", "invoke", "conversationUpdate", "installationUpdate"}
_UNAUTHORIZED = {"error": "unauthorized"}
_CHANNEL = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _bad_request(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 with a short reason."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad_request("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("body must be a JSON object (an activity)")
    if _depth(body) > MAX_JSON_DEPTH:
        raise _bad_request("body is nested too deeply")
    return body


def _text(parent: Any, name: str) -> str | None:
    value = parent.get(name) if isinstance(parent, dict) else None
    return value if isinstance(value, str) else None


def check_activity(body: dict[str, Any]) -> None:
    """Refuse bodies that are not Bot Framework activities we can answer, with a reason."""
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise _bad_request("activity needs a 'type'")
    conversation = body.get("conversation")
    if not _text(conversation, "id"):
        raise _bad_request("activity needs 'conversation.id'")
    if kind not in _NEEDS_SENDER:
        return
    sender = body.get("from")
    if not _text(sender, "id"):
        raise _bad_request("activity needs 'from.id'")
    if not _text(body.get("recipient"), "id"):
        raise _bad_request("activity needs 'recipient.id'")
    if not _CHANNEL.match(_text(body, "channelId") or ""):
        raise _bad_request("activity needs a 'channelId'")
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        raise _bad_request("activity needs a valid 'serviceUrl'")
    for path, limit in MAX_ID_CHARS.items():
        parent, _, name = path.rpartition(".")
        value = _text(body.get(parent) if parent else body, name)
        if value is not None and len(value) > limit:
            raise _bad_request(f"'{path}' is too long")
    tenant = _text(conversation, "tenantId") or ""
    user = _text(sender, "aadObjectId") or _text(sender, "id") or ""
    if len(join_key(tenant, user)) > MAX_KEY_CHARS:
        raise _bad_request("sender id is too long to store")


def _model(body: dict[str, Any]) -> Activity:
    try:
        return Activity.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0] if err.errors() else None
        field = ".".join(str(p) for p in first["loc"]) if first else "?"
        raise _bad_request(f"activity field '{field[:60]}' is not valid") from None


async def _authenticate(request: web.Request) -> ChannelIdentity | None:
    """The channel's identity; ``None`` in local-dev anonymous mode; 401 otherwise."""
    validator = request.app.get(keys.CHANNEL_VALIDATOR)
    if validator is None:  # only built without credentials, i.e. the local-dev switch
        return None
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
            return await validator.validate(request.headers.get("Authorization"))
    except (ChannelAuthError, TimeoutError):
        raise web.HTTPUnauthorized(
            text=json.dumps(_UNAUTHORIZED), content_type="application/json"
        ) from None


async def messages(request: web.Request) -> web.StreamResponse:
    """``POST /api/messages``: activities from the Bot Connector."""
    arrived = time.monotonic()
    identity = await _authenticate(request)
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "send application/json"}), content_type="application/json"
        )
    body = parse_body(await request.read())  # read() raises 413 past client_max_size
    check_activity(body)
    if identity is not None:
        try:
            identity.check_activity(body.get("serviceUrl"), body.get("channelId"))
        except ChannelAuthError as err:
            logger.info("bot request refused: %s", err.reason)
            return web.json_response(_UNAUTHORIZED, status=401)
    connector = request.app[keys.SERVICES].connector
    service_url = body.get("serviceUrl")
    if isinstance(service_url, str) and not connector.allows(service_url):
        logger.info("bot request refused: serviceUrl host is not on the allow-list")
        return web.json_response(_UNAUTHORIZED, status=401)
    activity = _model(body)
    claims = identity.claims_identity() if identity is not None else ClaimsIdentity()
    app = request.app
    outcome = "error"
    try:
        invoke = await app[keys.ADAPTER].process_turn(
            claims,
            activity,
            app[keys.AGENT].on_turn,
            arrived=arrived,
            reply_seconds=REPLY_BUDGET_SECONDS,
        )
        outcome = "ok"
    finally:
        elapsed = (time.monotonic() - arrived) * 1000
        app[keys.TELEMETRY].turn_done(str(activity.type), outcome, elapsed)
    if activity.type == "invoke":
        if invoke is None:
            return web.json_response({"error": "not implemented"}, status=501)
        return web.json_response(invoke.body, status=invoke.status)
    return web.Response(status=202)


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 when storage answers within its deadline, 503 otherwise."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            storage_ok = await request.app[keys.SERVICES].store.ping()
    except TimeoutError:
        storage_ok = False
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
