"""Text commands in the chat, matched on the whole normalised message, never substrings."""

from __future__ import annotations

import re
from enum import StrEnum


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
_MENTION = re.compile(r"<at>.*?</at>", re.I | re.S)
_TRAILING = re.compile(r"[\s.!]+$")


def parse_command(text: str | None) -> Command:
    """The command a message asks for; :attr:`Command.UNKNOWN` for anything else."""
    if not text:
        return Command.UNKNOWN
    cleaned = _MENTION.sub(" ", text)
    cleaned = _TRAILING.sub("", " ".join(cleaned.casefold().split()))
    return _WORDS.get(cleaned.lstrip("/"), Command.UNKNOWN)
