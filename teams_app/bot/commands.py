"""Text commands in the chat, matched on the whole normalised message, never substrings.

One command takes an argument: ``lesson <id>``, which a shared lesson's "Open in AI Ready"
button types into the learner's chat.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from enum import StrEnum

from teams_app import i18n


class Command(StrEnum):
    """What a typed message asks for."""

    HELP = "help"
    START = "start"
    NEXT = "next"
    PROGRESS = "progress"
    ROLE = "role"
    RESET = "reset"
    MY_DATA = "my data"
    PULSE = "pulse"
    DELETE_MY_DATA = "delete my data"
    REVIEW = "review"
    CHALLENGE = "challenge"
    SETTINGS = "settings"
    PAUSE = "pause"
    STOP = "stop"
    RESUME = "resume"
    LESSON = "lesson"
    GREETING = "greeting"
    UNKNOWN = "unknown"


_WORDS: dict[str, Command] = {
    "help": Command.HELP,
    "?": Command.HELP,
    "menu": Command.HELP,
    "start": Command.START,
    "continue": Command.START,
    "next": Command.NEXT,
    "next lesson": Command.NEXT,
    "progress": Command.PROGRESS,
    "my progress": Command.PROGRESS,
    "status": Command.PROGRESS,
    "role": Command.ROLE,
    "change role": Command.ROLE,
    "reset": Command.RESET,
    "start over": Command.RESET,
    "my data": Command.MY_DATA,
    "pulse": Command.PULSE,
    "weekly pulse": Command.PULSE,
    "my privacy": Command.MY_DATA,
    "delete my data": Command.DELETE_MY_DATA,
    "review": Command.REVIEW,
    "reviews": Command.REVIEW,
    "challenge": Command.CHALLENGE,
    "weekly challenge": Command.CHALLENGE,
    "settings": Command.SETTINGS,
    "reminders": Command.SETTINGS,
    "pause": Command.PAUSE,
    "pause reminders": Command.PAUSE,
    "stop": Command.STOP,
    "stop reminders": Command.STOP,
    "resume": Command.RESUME,
    "resume reminders": Command.RESUME,
    "hi": Command.GREETING,
    "hello": Command.GREETING,
    "hey": Command.GREETING,
}
# The command words the help card lists: a reader may type them in their own language too
# (the card shows the translation, from the same catalog messages).
LISTED = (
    "start",
    "next",
    "review",
    "challenge",
    "progress",
    "role",
    "reset",
    "pulse",
    "settings",
    "pause",
    "resume",
    "my data",
    "delete my data",
    "help",
)
_MENTION = re.compile(r"<at>.*?</at>", re.I | re.S)
_TRAILING = re.compile(r"[\s.!]+$")
_LESSON = re.compile(r"lesson ([a-z0-9][a-z0-9-]{0,99})")


def _fold(text: str) -> str:
    """Accents off Latin letters ("rôle", "réviser" match "role", "reviser"), full-width
    letters narrowed; other scripts' marks (Japanese dakuten) are kept."""
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch) and kept and kept[-1].isascii():
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def _normalise(text: str) -> str:
    cleaned = _fold(_MENTION.sub(" ", text))
    return _TRAILING.sub("", " ".join(cleaned.casefold().split())).lstrip("/")


def parse_command(text: str | None) -> Command:
    """The command a message asks for; :attr:`Command.UNKNOWN` for anything else."""
    if not text:
        return Command.UNKNOWN
    cleaned = _normalise(text)
    if _LESSON.fullmatch(cleaned):
        return Command.LESSON
    return _WORDS.get(cleaned) or translated_words(i18n.current().code).get(
        cleaned, Command.UNKNOWN
    )


@functools.cache
def translated_words(code: str) -> dict[str, Command]:
    """The listed command words as language ``code`` writes them (English always works)."""
    gettext = i18n.translations(code).gettext
    return {_normalise(gettext(word)): _WORDS[word] for word in LISTED}


def lesson_argument(text: str | None) -> str:
    """The lesson id in a ``lesson <id>`` message; ``""`` when it is not one."""
    found = _LESSON.fullmatch(_normalise(text or ""))
    return found.group(1) if found else ""
