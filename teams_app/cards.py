"""Render the Adaptive Card templates in ``cards/`` with data, safely.

Templates use a small subset of the Adaptive Cards Template Language: ``${path}`` (dotted
paths, ``$root``), ``$data`` bound to a list to repeat an element, and ``$when`` to keep an
element only when a value is truthy (``${!path}`` negates). Rendering walks the parsed JSON
tree and inserts values as JSON values, so no value can break out of its string or add
elements; values are inserted once and never evaluated again, so a display name containing
``${...}`` stays literal text.

Text a user controls is wrapped in :class:`UserText`; the renderer strips control
characters, caps its length and escapes the Markdown that Adaptive Cards would interpret.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teams_app import i18n
from teams_app.verbs import Verb

CARD_VERSION = "1.5"
MAX_CARD_BYTES = 28_000
USER_TEXT_LIMIT = 200
_EXPR = re.compile(r"\$\{([^}]*)\}")
_MARKDOWN = re.compile(r"([\\`*_\[\]~<>])")
_LINE_START = re.compile(r"^(\s*)([-+#>]|\d+\.)")


@dataclass(frozen=True, slots=True)
class UserText:
    """A string that came from a user (a display name, a typed answer)."""

    value: str


def clean_user_text(text: str, limit: int = USER_TEXT_LIMIT) -> str:
    """Printable, single-line, length-capped, Markdown-escaped text."""
    kept = "".join(
        " " if ch in "\r\n\t" else ch
        for ch in text
        if ch in "\r\n\t" or unicodedata.category(ch)[0] != "C"
    )
    kept = " ".join(kept.split())
    if len(kept) > limit:
        kept = kept[: limit - 1].rstrip() + "…"
    escaped = _MARKDOWN.sub(r"\\\1", kept)
    return _LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    marker = match.group(2)
    if marker.endswith("."):
        return match.group(1) + marker[:-1] + "\\."
    return match.group(1) + "\\" + marker


# The keys whose string values a reader sees; a fact's "value" is shown too (a choice's is
# the submitted value, never shown).
SHOWN_KEYS = frozenset(
    {"text", "title", "label", "errorMessage", "placeholder", "altText", "fallbackText"}
)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def _shown(text: str) -> bool:
    """A template string to translate: it has words of its own, not just ``${...}``."""
    return bool(_LETTERS.search(_EXPR.sub("", text)))


def card_messages(template: Any) -> list[str]:
    """The strings of a card template a reader sees, in document order: the catalog's
    message ids (their ``${name}`` placeholders are filled after translation)."""
    found: list[str] = []

    def note(text: str) -> str:
        found.append(text)
        return text

    localize_template(template, note)
    return found


def localize_template(node: Any, translate: Callable[[str], str], key: str | None = None) -> Any:
    """A copy of a card template with every string a reader sees passed to ``translate``."""
    if isinstance(node, dict):
        return {k: localize_template(v, translate, k) for k, v in node.items()}
    if isinstance(node, list):
        if key == "facts":
            return [
                {
                    k: translate(v)
                    if k in ("title", "value") and isinstance(v, str) and _shown(v)
                    else localize_template(v, translate, k)
                    for k, v in item.items()
                }
                if isinstance(item, dict)
                else item
                for item in node
            ]
        return [localize_template(item, translate, key) for item in node]
    if isinstance(node, str) and key in SHOWN_KEYS and _shown(node):
        return translate(node)
    return node


class CardError(Exception):
    """A template or its rendering is wrong: a bug, not a user error."""


class CardRenderer:
    """Loads every template once at start-up and renders them with data."""

    def __init__(self, cards_dir: Path) -> None:
        self._templates: dict[str, Any] = {}
        self._localized: dict[tuple[str, str], Any] = {}  # (template, language code)
        self._data_verbs: dict[str, bool] = {}  # whether a verb comes from the data
        known = {v.value for v in Verb}
        for path in sorted(cards_dir.glob("*.json")):
            template = json.loads(path.read_text(encoding="utf-8"))
            verbs = execute_verbs(template)
            if unknown := [v for v in verbs if "${" not in v and v not in known]:
                raise CardError(f"template {path.stem!r} uses unknown verbs {unknown}")
            self._templates[path.stem] = template
            self._data_verbs[path.stem] = any("${" in v for v in verbs)

    @property
    def names(self) -> list[str]:
        """The template names."""
        return sorted(self._templates)

    def template(self, name: str) -> Any:
        """A template's raw JSON (for tests and tooling)."""
        return copy.deepcopy(self._templates[name])

    def render(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Render template ``name`` with ``data`` and check the result."""
        card = _render(self._template_in(name, i18n.current().code), _Scope(data, data, None))
        if not isinstance(card, dict):
            raise CardError(f"template {name!r} did not render to an object")
        # A template's own verbs were checked when it was loaded; walk the card only when
        # the data chose a verb.
        check_card(card, verbs=self._data_verbs[name])
        return card

    def _template_in(self, name: str, code: str) -> Any:
        """Template ``name`` with its text in language ``code`` (translated once)."""
        localized = self._localized.get((name, code))
        if localized is None:
            try:
                template = self._templates[name]
            except KeyError:
                raise CardError(f"no card template {name!r}") from None
            gettext = i18n.translations(code).gettext
            localized = localize_template(template, gettext)
            self._localized[(name, code)] = localized
        return localized


def check_card(card: dict[str, Any], *, verbs: bool = True) -> None:
    """Raise :class:`CardError` unless the card is a 1.5 card under the size limit whose
    ``Action.Execute`` verbs are all known (``verbs=False`` skips that walk)."""
    if card.get("type") != "AdaptiveCard" or card.get("version") != CARD_VERSION:
        raise CardError("not an Adaptive Card 1.5")
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CARD_BYTES:
        raise CardError(f"card is {size} bytes, over {MAX_CARD_BYTES}")
    if not verbs:
        return
    known = {v.value for v in Verb}
    for verb in execute_verbs(card):
        if verb not in known:
            raise CardError(f"unknown verb {verb!r}")


def execute_verbs(node: Any) -> list[str]:
    """Every ``Action.Execute`` verb anywhere in ``node``."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute":
            found.append(str(node.get("verb", "")))
        for value in node.values():
            found += execute_verbs(value)
    elif isinstance(node, list):
        for value in node:
            found += execute_verbs(value)
    return found


@dataclass(frozen=True, slots=True)
class _Scope:
    data: Any
    root: Mapping[str, Any]
    index: int | None


def _lookup(expr: str, scope: _Scope) -> Any:
    path = expr.strip()
    if path == "$index":
        return scope.index
    current: Any = scope.data
    parts = path.split(".")
    if parts[0] == "$root":
        current, parts = scope.root, parts[1:]
    elif parts[0] == "$data":
        parts = parts[1:]
    for part in parts:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise CardError(f"no value for ${{{expr}}}")
    return current


def _value(value: Any) -> Any:
    if isinstance(value, UserText):
        return clean_user_text(value.value)
    return value


def _render_string(text: str, scope: _Scope) -> Any:
    if "${" not in text:
        return text
    whole = _EXPR.fullmatch(text)
    if whole:
        value = _value(_lookup(whole.group(1), scope))
        return copy.deepcopy(value) if isinstance(value, dict | list) else value
    return _EXPR.sub(lambda m: str(_value(_lookup(m.group(1), scope))), text)


def _truthy(expr: Any, scope: _Scope) -> bool:
    match = _EXPR.fullmatch(str(expr))
    if not match:
        raise CardError(f"$when needs ${{...}}, got {expr!r}")
    inner = match.group(1).strip()
    negate = inner.startswith("!")
    value = bool(_value(_lookup(inner.lstrip("!"), scope)))
    return not value if negate else value


def _render_object(node: dict[str, Any], scope: _Scope) -> list[Any]:
    """Render one object; a ``$data`` list repeats it, so this returns 0..n objects."""
    if "$data" in node:
        items = _render_string(str(node["$data"]), scope)
        if not isinstance(items, list):
            raise CardError("$data must bind to a list")
        body = {k: v for k, v in node.items() if k != "$data"}
        out: list[Any] = []
        for i, item in enumerate(items):
            out += _render_object(body, _Scope(item, scope.root, i))
        return out
    if "$when" in node and not _truthy(node["$when"], scope):
        return []
    rendered = {k: _render(v, scope) for k, v in node.items() if k != "$when"}
    return [{k: v for k, v in rendered.items() if v is not None}]


def _render(node: Any, scope: _Scope) -> Any:
    if isinstance(node, str):
        return _render_string(node, scope)
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            out += _render_object(item, scope) if isinstance(item, dict) else [_render(item, scope)]
        return out
    if isinstance(node, dict):
        rendered = _render_object(node, scope)
        return rendered[0] if rendered else None
    return node
