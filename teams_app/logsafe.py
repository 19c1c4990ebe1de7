"""Values from outside (ids, names, URLs) made fit for a log line."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def safe(value: object, limit: int = 120) -> str:
    """``value`` as a single printable line, capped: control characters could otherwise
    forge log lines, and a megabyte of id would flood them."""
    text = _CONTROL.sub("?", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
