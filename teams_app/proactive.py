"""The cards AI Ready sends first: this week's challenge, reviews due, the pulse, a nudge.

The worker decides what is due and carries what it decided in the delivery (the challenge,
the learner's local day and week, how many reviews); this turns that into the card, at
send time, with the same templates and view functions the chat uses.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from teams_app import i18n, views
from teams_app.cards import CardRenderer
from teams_app.domain.content import Curriculum
from teams_app.domain.schedule import Kind
from teams_app.storage.engine_ports import Contact

CACHED_CARDS = 256  # a campaign's cards differ by week and challenge, not by learner


class ProactiveCards:
    """Renders a proactive delivery's card (``None`` when its content no longer exists)."""

    def __init__(self, renderer: CardRenderer, curriculum: Curriculum, min_group: int) -> None:
        self._renderer = renderer
        self._curricula = curriculum
        self._min_group = min_group
        self._cache: dict[tuple[str, str, str], dict[str, Any] | None] = {}

    @property
    def _curriculum(self) -> Curriculum:
        """The curriculum in the current reader's language."""
        return self._curricula.in_language(i18n.current().code)

    def __call__(self, kind: str, data: dict[str, Any], contact: Contact) -> dict[str, Any] | None:
        """The card in the current language (shared between learners with the same data and
        language: callers don't change it)."""
        key = (kind, i18n.current().code, json.dumps(data, sort_keys=True))
        if key not in self._cache:
            reply = self.reply(Kind(kind), data)
            if len(self._cache) >= CACHED_CARDS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = self._renderer.render(reply.card, reply.data) if reply else None
        return self._cache[key]

    def reply(self, kind: Kind, data: dict[str, Any]) -> views.Reply | None:
        """The card to send for ``kind``."""
        day = date.fromisoformat(str(data["day"]))
        week = str(data["week"])
        if kind is Kind.CHALLENGE:
            challenge = self._curriculum.challenge(str(data.get("challenge") or ""))
            if challenge is None:
                return None
            skill = self._curriculum.skill_name(challenge.skill)
            team = bool(data.get("team"))
            return views.challenge_card(challenge, skill, week, day, None, from_team_lead=team)
        if kind is Kind.REVIEWS:
            return views.reviews_due(int(data.get("due") or 1), int(data.get("streak") or 0))
        if kind is Kind.PULSE:
            return views.pulse_card(week, day, None, self._min_group)
        return views.nudge(self._curriculum.lesson(str(data.get("lesson") or "")))
