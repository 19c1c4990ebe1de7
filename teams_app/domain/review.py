"""Spaced review: every lesson question becomes a review item scheduled by FSRS.

FSRS (the ``fsrs`` package, open-spaced-repetition) predicts when an item is about to be
forgotten and schedules it for then. AI Ready's questions are answered with a confidence
rating, which maps onto FSRS's four ratings:

==========================  ==========
the answer                  rating
==========================  ==========
wrong (any confidence)      Again
right, low confidence       Hard
right, medium confidence    Good
right, high confidence      Easy
==========================  ==========

The scheduler works in days (no minute-long learning steps: this is a weekly habit, not a
flashcard app), aims at 90 % recall and waits at most 180 days. A lesson's quiz questions are
rated from the learner's answers when the lesson is finished; its review-pool questions start
as new items due two days later, so the first review asks something the lesson didn't.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler

from teams_app.domain.scoring import Confidence

DESIRED_RETENTION = 0.9
MAXIMUM_INTERVAL_DAYS = 180
POOL_FIRST_DUE = timedelta(days=2)
SESSION_SIZE = 5


def rating(correct: bool, confidence: Confidence) -> Rating:
    """The FSRS rating for an answer (see the table above)."""
    if not correct:
        return Rating.Again
    return {
        Confidence.LOW: Rating.Hard,
        Confidence.MEDIUM: Rating.Good,
        Confidence.HIGH: Rating.Easy,
    }[confidence]


def scheduler(*, fuzz: bool = True) -> Scheduler:
    """The day-granular scheduler (fuzzing spreads due dates; tests turn it off)."""
    return Scheduler(
        desired_retention=DESIRED_RETENTION,
        learning_steps=(),
        relearning_steps=(),
        maximum_interval=MAXIMUM_INTERVAL_DAYS,
        enable_fuzzing=fuzz,
    )


def item_id(lesson_id: str, question_id: str) -> str:
    """A review item's id: the lesson and the question."""
    return f"{lesson_id}/{question_id}"


def split_item(item: str) -> tuple[str, str]:
    """``(lesson_id, question_id)`` of a review item id."""
    lesson, _, question = item.partition("/")
    return lesson, question


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One question's FSRS card, and the answer that last moved it (for idempotency)."""

    item: str
    card: Card
    last_answer: str = ""  # "<attempt>" of the review or lesson that last rated it

    @property
    def due(self) -> datetime:
        """When the item is due (UTC)."""
        due: datetime = self.card.due
        return due

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (the card's own dict, FSRS's format)."""
        return {"item": self.item, "card": self.card.to_dict(), "last": self.last_answer}

    @staticmethod
    def from_json(raw: dict[str, Any]) -> ReviewItem:
        """Read :meth:`to_json`."""
        return ReviewItem(raw["item"], Card.from_dict(raw["card"]), raw.get("last", ""))


def new_item(item: str, now: datetime, *, delay: timedelta = POOL_FIRST_DUE) -> ReviewItem:
    """A question not yet answered, due after ``delay``."""
    card = Card(card_id=zlib.crc32(item.encode()), due=(now + delay).astimezone(UTC))
    return ReviewItem(item, card)


def answered(
    current: ReviewItem | None,
    item: str,
    correct: bool,
    confidence: Confidence,
    answer_key: str,
    now: datetime,
    sched: Scheduler,
) -> ReviewItem:
    """The item after an answer; the same answer applied twice changes nothing."""
    base = current or ReviewItem(item, Card(card_id=zlib.crc32(item.encode())))
    if base.last_answer == answer_key:
        return base
    card, _log = sched.review_card(base.card, rating(correct, confidence), now.astimezone(UTC))
    return ReviewItem(item, card, answer_key)


def pick_session(items: list[ReviewItem], now: datetime) -> list[str]:
    """Up to :data:`SESSION_SIZE` due items, the most overdue first."""
    due = sorted((i for i in items if i.due <= now), key=lambda i: i.due)
    return [i.item for i in due[:SESSION_SIZE]]
