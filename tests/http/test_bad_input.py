"""Malformed requests to the bot endpoint get a 4xx with a short reason, and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from server.app import create_app
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.team_memory import MemoryTeamStore
from tests.bot.conftest import dev_settings
from tests.support.activities import TeamsUser


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any]) -> Any:
    store = MemoryLearnerStore()
    client = await aiohttp_client(
        create_app(dev_settings(), store=store, team_store=MemoryTeamStore())
    )
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
