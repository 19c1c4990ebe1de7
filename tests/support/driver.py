"""Drive the real app over HTTP like Teams does, and collect the cards it answers with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from tests.support.activities import TeamsUser
from tests.support.cardcheck import CardValidator
from tests.support.connector import FakeConnector


@dataclass
class BotDriver:
    """Posts activities from one user to ``/api/messages``."""

    client: TestClient  # type: ignore[type-arg]
    connector: FakeConnector
    user: TeamsUser
    headers: dict[str, str] | None = None
    validator: CardValidator | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def services(self) -> Any:
        """The app's services (tests may look behind the bot, e.g. to move time on)."""
        from server import keys

        return self.client.app[keys.SERVICES]

    def _check(self, card: dict[str, Any]) -> dict[str, Any]:
        """Every card the bot sends must pass Microsoft's renderer with no warnings."""
        self.seen.append(card)
        if self.validator is not None:
            problems = self.validator.validate(card)
            assert not problems, problems
        return card

    async def post(self, activity: dict[str, Any]) -> Any:
        """Post an activity; returns the aiohttp response (already read)."""
        response = await self.client.post("/api/messages", json=activity, headers=self.headers)
        await response.read()
        return response

    async def say(self, text: str) -> dict[str, Any]:
        """Type a message; returns the one card the bot sent back."""
        self.connector.take_cards()
        response = await self.post(self.user.message(text))
        assert response.status in (200, 202), await response.text()
        cards = self.connector.take_cards()
        assert len(cards) == 1, f"expected one card, got {len(cards)}"
        return self._check(cards[0])

    async def click(self, verb: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Click an ``Action.Execute`` button; returns the card that replaces it."""
        response = await self.post(self.user.invoke(verb, data))
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["statusCode"] == 200, body
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        card: dict[str, Any] = body["value"]
        return self._check(card)

    async def install(self) -> dict[str, Any]:
        """Install the app in the 1:1 chat; returns the welcome card."""
        self.connector.take_cards()
        response = await self.post(self.user.installed())
        assert response.status in (200, 202), await response.text()
        cards = self.connector.take_cards()
        assert len(cards) == 1
        return self._check(cards[0])


def find_action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    """The ``Action.Execute`` with ``verb`` in ``card`` (fails the test if absent)."""
    found = [a for a in actions(card) if a.get("verb") == verb]
    assert found, f"no {verb!r} action in card; has {[a.get('verb') for a in actions(card)]}"
    return found[0]


def actions(node: Any) -> list[dict[str, Any]]:
    """Every ``Action.Execute`` anywhere in ``node``."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute":
            out.append(node)
        for value in node.values():
            out += actions(value)
    elif isinstance(node, list):
        for value in node:
            out += actions(value)
    return out


def texts(node: Any) -> str:
    """All visible text of a card, joined (for assertions)."""
    out: list[str] = []
    if isinstance(node, dict):
        for key in ("text", "title", "value", "label"):
            if isinstance(node.get(key), str):
                out.append(node[key])
        for key, value in node.items():
            if key not in ("text", "title", "value", "label") or not isinstance(value, str):
                out.append(texts(value))
    elif isinstance(node, list):
        out += [texts(v) for v in node]
    return " ".join(t for t in out if t)


def find_input(card: dict[str, Any], input_id: str) -> dict[str, Any]:
    """The input element with ``input_id``."""

    def walk(node: Any) -> dict[str, Any] | None:
        if isinstance(node, dict):
            if node.get("id") == input_id and str(node.get("type", "")).startswith("Input."):
                return node
            for value in node.values():
                if (hit := walk(value)) is not None:
                    return hit
        elif isinstance(node, list):
            for value in node:
                if (hit := walk(value)) is not None:
                    return hit
        return None

    hit = walk(card)
    assert hit is not None, f"no input {input_id!r}"
    return hit


async def answers_stored(store: Any, key: Any) -> list[Any]:
    """Every answer the store holds for a learner: its history plus the activity in progress."""
    results = [r for a in await store.list_attempts(key) for r in a.activity.results]
    stored = await store.get_profile(key)
    if stored is not None and stored.state.activity is not None:
        results += list(stored.state.activity.results)
    return results
