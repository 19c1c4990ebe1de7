"""Keep the message catalogs in step with the code: ``python -m server messages``.

``extract`` collects every message into ``teams_app/locale/messages.pot`` and merges it into
each language's ``.po`` (new messages come in untranslated, changed ones fuzzy):

- Python under ``teams_app/`` and ``server/``: ``_()``, ``ngettext()``, ``N_()``;
- the card templates in ``cards/``: every string a reader sees (:func:`card_messages`);
- the tab and lesson pages in ``server/templates/``: ``{% trans %}`` blocks and ``_()``;
- the pages' scripts in ``server/static/``: ``t()`` and ``tn()``.

``check`` fails when the template is out of date with the code, or when a language's catalog
misses a translation, keeps a fuzzy one, or changes a placeholder.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import write_po

from server.package import manifest_messages
from teams_app import i18n
from teams_app.cards import card_messages

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON_KEYWORDS: dict[str, Any] = {"_": None, "ngettext": (1, 2), "N_": None}
JS_KEYWORDS: dict[str, Any] = {"t": None, "tn": (1, 2)}
JINJA = "jinja2.ext:babel_extract"
JINJA_KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2)}


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One thing wrong with a catalog."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def extract_cards(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """A Babel extraction method for card templates (keywords, comment tags and options
    don't apply: every string a reader sees is a message)."""
    del keywords, comment_tags, options
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for message in card_messages(json.loads(text)):
        needle = json.dumps(message, ensure_ascii=False)
        line = next((i for i, row in enumerate(lines, 1) if needle in row), 1)
        yield line, None, message, []


def extract_manifest(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """A Babel extraction method for the manifest template: its store listing, tab names
    and commands (the package's localization files translate them)."""
    del keywords, comment_tags, options
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for key, message in manifest_messages(json.loads(text)).items():
        needle = json.dumps(message, ensure_ascii=False)
        line = next((i for i, row in enumerate(lines, 1) if needle in row), 1)
        yield line, None, message, [f"manifest: {key}"]


def _sources(root: Path) -> Iterator[tuple[Path, Any, dict[str, Any], dict[str, str]]]:
    """(file, extraction method, keywords, options) for every file with messages."""
    for folder in ("teams_app", "server"):
        for path in sorted((root / folder).rglob("*.py")):
            yield path, "python", PYTHON_KEYWORDS, {}
    for path in sorted((root / "cards").glob("*.json")):
        yield path, extract_cards, {}, {}
    yield root / "manifest" / "manifest.template.json", extract_manifest, {}, {}
    for path in sorted((root / "server" / "templates").rglob("*.html")):
        yield path, JINJA, JINJA_KEYWORDS, {"trimmed": "true"}
    for path in sorted((root / "server" / "static").glob("*.js")):
        yield path, "javascript", JS_KEYWORDS, {"parse_template_string": "true"}


def extract(root: Path = REPO_ROOT) -> Catalog:
    """Every message in the code, cards and pages, with where it is used."""
    catalog = Catalog(project="AI Ready", domain="messages", charset="utf-8", fuzzy=False)
    for path, method, keywords, options in _sources(root):
        relative = path.relative_to(root).as_posix()
        for line, message, comments, context in extract_from_file(
            method, path, keywords=keywords, comment_tags=("TRANSLATORS:",), options=options
        ):
            catalog.add(message, None, [(relative, line)], auto_comments=comments, context=context)
    return catalog


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_by_file=False, include_previous=False)
    path.write_bytes(buffer.getvalue())


def update(root: Path = REPO_ROOT) -> list[str]:
    """Re-extract the template and merge it into every language's catalog; returns what
    changed, one line per file."""
    template = extract(root)
    locale_dir = root / i18n.LOCALE_DIR.relative_to(REPO_ROOT)
    _write(locale_dir / "messages.pot", template)
    report = [f"messages.pot: {len(template)} messages"]
    for code in i18n.LANGUAGES:
        if code == i18n.SOURCE_LANGUAGE:
            continue
        path = locale_dir / code / "LC_MESSAGES" / "messages.po"
        catalog = i18n.read_catalog(path, locale=code) if path.exists() else Catalog(locale=code)
        catalog.update(template, update_header_comment=False)
        _write(path, catalog)
        missing = sum(1 for m in catalog if m.id and not _translated(m))
        report.append(f"{code}: {missing} to translate")
    return report


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return not message.fuzzy and all(strings)


def _ids(catalog: Catalog) -> set[Any]:
    return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in catalog if m.id}


def check(root: Path = REPO_ROOT) -> list[CatalogProblem]:
    """Everything wrong with the catalogs (empty when they are complete and current)."""
    problems: list[CatalogProblem] = []
    locale_dir = root / i18n.LOCALE_DIR.relative_to(REPO_ROOT)
    template_path = locale_dir / "messages.pot"
    if not template_path.exists():
        return [CatalogProblem("messages.pot", "missing: run `python -m server messages extract`")]
    template = i18n.read_catalog(template_path)
    extracted = extract(root)
    for kind, ids in (
        ("new", _ids(extracted) - _ids(template)),
        ("gone", _ids(template) - _ids(extracted)),
    ):
        for _context, message_id in sorted(ids, key=str)[:20]:
            problems.append(
                CatalogProblem(
                    "messages.pot",
                    f"out of date ({kind} message {message_id!r}): "
                    "run `python -m server messages extract`",
                )
            )
    for code in i18n.LANGUAGES:
        if code == i18n.SOURCE_LANGUAGE:
            continue
        path = locale_dir / code / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            problems.append(CatalogProblem(f"{code}/messages.po", "missing"))
            continue
        catalog = i18n.read_catalog(path, locale=code)
        problems += _check_language(code, template, catalog)
    return problems


def _check_language(code: str, template: Catalog, catalog: Catalog) -> list[CatalogProblem]:
    problems: list[CatalogProblem] = []
    where = f"{code}/messages.po"
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        shown = message.id if isinstance(message.id, str) else message.id[0]
        if found is None or not _translated(found):
            problems.append(CatalogProblem(where, f"no translation of {shown!r}"))
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(i18n.placeholders(i) for i in ids))
        strings = [found.string] if isinstance(found.string, str) else list(found.string or ())
        for string in strings:
            got = set(i18n.placeholders(string))
            # A plural form may leave the count out ("one lesson"); nothing else may change.
            if got - expected or expected - got - {"{n}"}:
                problems.append(
                    CatalogProblem(
                        where,
                        f"placeholders of {shown!r}: {sorted(expected)} became {sorted(got)}",
                    )
                )
    return problems
