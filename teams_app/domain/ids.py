"""Entra object ids (users, teams, groups): the one check of their shape."""

from __future__ import annotations

import re

_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def looks_like_object_id(text: object) -> bool:
    """Whether ``text`` is a GUID as Entra writes object ids (either case)."""
    return isinstance(text, str) and bool(_OBJECT_ID.match(text))


def is_object_id(text: str) -> bool:
    """Whether ``text`` is an object id in the lower case this app stores them in."""
    return looks_like_object_id(text) and text == text.lower()
