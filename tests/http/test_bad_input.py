"""Malformed requests to the bot endpoint get a 4xx with a short reason, and change nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.http_server import AiReadyRunner
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.team_memory import MemoryTeamStore
from tests.bot.conftest import dev_settings
from tests.support.activities import TeamsUser


class ServedTestServer(TestServer):
    """The test server with the runner ``python -m server`` and gunicorn use."""

    async def _make_runner(self, **kwargs: Any) -> AiReadyRunner:
        return AiReadyRunner(self.app, **kwargs)


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any]) -> Any:
    store = MemoryLearnerStore()
    app = create_app(
        dev_settings(), store=store, team_store=MemoryTeamStore(), engine=memory_engine()
    )
    client = await aiohttp_client(ServedTestServer(app))
    client.store = store
    return client


def _activity() -> dict[str, Any]:
    return TeamsUser(service_url="http://127.0.0.1:9/").invoke("show_help")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"\xff\xfe\x00", "body is not valid JSON"),
        (b"[1, 2, 3]", "body must be a JSON object (an activity)"),
        (b'"message"', "body must be a JSON object (an activity)"),
        (b"{}", "activity needs a 'type'"),
        (b'{"type": "message"}', "activity needs 'conversation.id'"),
        (b'{"type": "message", "conversation": {"id": 5}}', "activity needs 'conversation.id'"),
        (b'{"type": "invoke", "conversation": {"id": "c"}}', "activity needs 'from.id'"),
    ],
)
async def test_malformed_bodies_get_400_with_a_reason(
    client: Any, body: bytes, reason: str
) -> None:
    response = await client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await response.json() == {"error": reason}
    assert client.store._profiles == {}


async def test_an_invalid_field_is_named(client: Any) -> None:
    activity = {**_activity(), "timestamp": "not a date"}
    response = await client.post("/api/messages", json=activity)
    assert response.status == 400
    assert (await response.json())["error"] == "activity field 'timestamp' is not valid"


async def test_an_oversized_body_gets_413(client: Any) -> None:
    activity = {**_activity(), "text": "x" * 400_000}
    response = await client.post(
        "/api/messages", data=json.dumps(activity), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert await response.json() == {"error": "request body too large"}


async def test_a_non_json_content_type_gets_415(client: Any) -> None:
    response = await client.post(
        "/api/messages",
        data="type=message",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 415


async def test_wrong_method_and_unknown_path_get_json_errors(client: Any) -> None:
    response = await client.get("/api/messages")
    assert response.status == 405
    assert "error" in await response.json()
    response = await client.get("/nope")
    assert response.status == 404
    assert await response.json() == {"error": "Not Found"}


async def test_health_reports_storage(client: Any) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "storage": "ok"}


async def test_unhandled_activity_types_are_accepted_quietly(client: Any) -> None:
    activity = {**_activity(), "type": "messageReaction", "reactionsAdded": [{"type": "like"}]}
    activity.pop("name")
    response = await client.post("/api/messages", json=activity)
    assert response.status in (200, 202)


def _with(**fields: Any) -> dict[str, Any]:
    activity = _activity()
    for name, value in fields.items():
        if value is _DROP:
            activity.pop(name, None)
        else:
            activity[name] = value
    return activity


_DROP = object()


@pytest.mark.parametrize(
    ("case", "body", "reason"),
    [
        ("deeply nested", b'{"type":"message","x":' + b"[" * 5000 + b"]" * 5000 + b"}", None),
        ("moderately nested", b'{"type":"message","x":' + b"[" * 40 + b"]" * 40 + b"}", None),
        ("a 5,000-digit number", b'{"type":"message","n":' + b"9" * 5000 + b"}", None),
        ("NaN", b'{"type":"message","n":NaN}', None),
    ],
)
async def test_hostile_json_gets_400_without_echo(
    client: Any, case: str, body: bytes, reason: str | None
) -> None:
    response = await client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    text = await response.text()
    assert response.status == 400, case
    assert "999" not in text and "[[" not in text, "the input is not echoed"
    assert client.store._profiles == {}


@pytest.mark.parametrize(
    ("case", "fields", "reason"),
    [
        ("no serviceUrl", {"serviceUrl": _DROP}, "activity needs a valid 'serviceUrl'"),
        (
            "serviceUrl not a URL",
            {"serviceUrl": "javascript:alert(1)"},
            "activity needs a valid 'serviceUrl'",
        ),
        ("serviceUrl a number", {"serviceUrl": 42}, "activity needs a valid 'serviceUrl'"),
        ("recipient null", {"recipient": None}, "activity needs 'recipient.id'"),
        ("recipient without id", {"recipient": {"name": "x"}}, "activity needs 'recipient.id'"),
        ("from null", {"from": None}, "activity needs 'from.id'"),
        ("id too long", {"id": "x" * 300}, "'id' is too long"),
        (
            "sender id too long to store",
            {"from": {"id": "é" * 200}},
            "sender id is too long to store",
        ),
        (
            "conversation id too long",
            {"conversation": {"id": "a:" + "x" * 2000, "tenantId": "t"}},
            "'conversation.id' is too long",
        ),
    ],
)
async def test_activities_we_cannot_answer_get_400_with_a_reason(
    client: Any, case: str, fields: dict[str, Any], reason: str
) -> None:
    response = await client.post("/api/messages", json=_with(**fields))
    assert response.status == 400, case
    assert await response.json() == {"error": reason}
    assert client.store._profiles == {}


async def test_a_service_url_off_the_allow_list_is_refused_even_in_development(
    client: Any,
) -> None:
    response = await client.post(
        "/api/messages", json=_with(serviceUrl="https://collector.example.net/")
    )
    assert response.status == 401
    assert client.store._profiles == {}


@pytest.mark.parametrize("where", ["header", "request line"])
async def test_malformed_http_gets_a_400_that_echoes_nothing_and_logs_one_line(
    client: Any, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "S3CRET" + "x" * 9000
    with caplog.at_level(logging.INFO):
        if where == "header":
            response = await client.post(
                "/api/messages", json=_activity(), headers={"X-Long": secret}
            )
        else:
            response = await client.get(f"/{secret}")
        text = await response.text()
    assert response.status == 400
    assert await response.json() == {"error": "bad request"}
    assert "S3CRET" not in text and "xxxx" not in text
    assert "S3CRET" not in caplog.text, "nothing of the request reaches the log"
    assert not any(r.exc_info for r in caplog.records), "no traceback"


async def test_health_answers_within_two_seconds_when_storage_stalls(
    aiohttp_client: Callable[..., Any],
) -> None:
    class Stalled(MemoryLearnerStore):
        async def ping(self) -> bool:
            await asyncio.sleep(30)
            return True

    client = await aiohttp_client(
        create_app(
            dev_settings(), store=Stalled(), team_store=MemoryTeamStore(), engine=memory_engine()
        )
    )
    started = time.monotonic()
    response = await client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "degraded", "storage": "unreachable"}
    assert time.monotonic() - started < 2
