"""Encoding of Azure Tables keys.

PartitionKey and RowKey may not contain ``/ \\ # ?`` or control characters, and user and
tenant ids come from outside. Every character outside a small safe set becomes ``~`` and six
hex digits, which is reversible and keeps distinct ids distinct (``~`` itself is escaped).
"""

from __future__ import annotations

import string

_SAFE = frozenset(string.ascii_letters + string.digits + "-_.:@")


def encode_part(part: str) -> str:
    """Encode one id so it is safe inside a key."""
    return "".join(ch if ch in _SAFE else f"~{ord(ch):06x}" for ch in part)


def decode_part(encoded: str) -> str:
    """Reverse :func:`encode_part`."""
    out: list[str] = []
    i = 0
    while i < len(encoded):
        if encoded[i] == "~":
            out.append(chr(int(encoded[i + 1 : i + 7], 16)))
            i += 7
        else:
            out.append(encoded[i])
            i += 1
    return "".join(out)


def join_key(*parts: str) -> str:
    """A key made of several encoded ids, separated by ``|`` (never produced by encoding)."""
    return "|".join(encode_part(p) for p in parts)
