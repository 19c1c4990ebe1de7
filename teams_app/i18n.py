"""The interface in the reader's language: message catalogs, locale choice and formats.

Every user-visible string of the cards, the tab pages and the bot comes from the gettext
catalogs in ``teams_app/locale/<language>/LC_MESSAGES/messages.po``; English is the source
language (the message ids), so it has no catalog of its own. Babel reads the ``.po`` files
directly at start-up: there are no compiled ``.mo`` files to keep in step. Plural forms
follow each catalog's ``Plural-Forms`` rule (Japanese has one form, French counts 0 as
singular).

The language of the current turn or request lives in a context variable: the bot sets it
from the activity's ``locale``, the tab server from ``?locale=`` (the manifest passes Teams'
``{locale}``) or ``Accept-Language``, and the engine from the locale a learner last wrote
in. :func:`_` and :func:`ngettext` translate into it; dates and numbers are formatted with
the full tag (``en-US`` and ``en-GB`` share a catalog, not a date format).

Placeholders are named: ``{name}`` in Python and JavaScript messages (filled by
:func:`_`), ``${name}`` in card templates (filled by the card renderer) and ``%(name)s``
in Jinja ``{% trans %}`` blocks. The ``qps-ploc`` pseudo-locale rewrites every catalog
message with accented letters and 40 % more length, so a string that never went through a
catalog shows up as plain ASCII in the tests.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import io
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TEMPLATE = LOCALE_DIR / "messages.pot"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "de", "fr", "es", "ja")
PSEUDO = "qps-ploc"
# The tag dates and numbers use when a language is chosen by its bare code.
# English is our source text's own: British ("organisation"), so its dates are too.
DEFAULT_TAGS = {"en": "en-GB", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "ja": "ja-JP"}
JS_SOURCES = "server/static/"  # messages used there go to the page's JavaScript catalog
MAX_TAG = 35  # RFC 5646 recommends supporting tags up to 35 characters

_TAG = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$")
# {name}, ${name}, %(name)s and %s, which translations must keep as they are.
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_]+\)[sd]|%[sd]")


@dataclass(frozen=True, slots=True)
class Language:
    """A reader's language: ``code`` picks the catalog, ``tag`` formats dates and numbers."""

    code: str
    tag: str

    @property
    def locale(self) -> Locale:
        """The Babel locale for formatting (the pseudo-locale formats as US English)."""
        return _babel_locale(self.tag)

    @property
    def html_lang(self) -> str:
        """The ``lang`` attribute of a page in this language."""
        return self.tag


ENGLISH = Language(SOURCE_LANGUAGE, DEFAULT_TAGS[SOURCE_LANGUAGE])
_current: ContextVar[Language] = ContextVar("ai_ready_language", default=ENGLISH)


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en_US")


def _one(tag: str) -> Language | None:
    tag = tag.strip()
    if not tag or len(tag) > MAX_TAG or not _TAG.match(tag):
        return None
    if tag.lower() == PSEUDO:
        return Language(PSEUDO, "en-US")
    code = tag.replace("_", "-").split("-")[0].lower()
    if code not in LANGUAGES:
        return None
    try:
        Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Language(code, DEFAULT_TAGS[code])
    parts = tag.replace("_", "-").split("-")
    if len(parts) == 1:  # a bare language formats as its main country does
        return Language(code, DEFAULT_TAGS[code])
    # Normalise the case the way BCP 47 writes it: language lower, region upper.
    normal = [parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]]
    return Language(code, "-".join(normal))


def negotiate(*tags: str | None) -> Language:
    """The first supported language among ``tags`` (each a BCP 47 tag such as ``de-AT``
    or an ``Accept-Language`` header), else English."""
    for value in tags:
        if not value:
            continue
        for tag in _accept_language(value):
            if (found := _one(tag)) is not None:
                return found
    return ENGLISH


def _accept_language(value: str) -> list[str]:
    """The tags of an ``Accept-Language`` header by preference (a lone tag is itself)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(value[:500].split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, i, tag))
    return [tag for _w, _i, tag in sorted(ranked)]


def current() -> Language:
    """The language of the current turn or request."""
    return _current.get()


def activate(language: Language) -> None:
    """Make ``language`` current for the rest of this task (and tasks it starts)."""
    _current.set(language)


@contextlib.contextmanager
def using(language: Language) -> Iterator[None]:
    """Make ``language`` current inside the ``with`` block."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


# --- catalogs -------------------------------------------------------------------------


def _po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """A ``.po`` or ``.pot`` file as a Babel catalog."""
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def _template() -> Catalog:
    """``messages.pot``, read once."""
    return read_catalog(TEMPLATE)


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalog of a language (English and unknown codes: the message ids)."""
    if code == PSEUDO:
        return _compiled(pseudo_catalog(_template()))
    path = _po_path(code)
    if code == SOURCE_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    return _compiled(read_catalog(path, locale=code))


def load_all() -> None:
    """Compile every catalog now (at start-up), so a broken one stops the server there."""
    for code in (*LANGUAGES, PSEUDO):
        translations(code)


def _(message: str, /, **params: Any) -> str:
    """``message`` in the current language, with ``{name}`` placeholders filled."""
    text = translations(_current.get().code).gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The form for ``n`` in the current language; ``{n}`` and ``params`` are filled."""
    text = translations(_current.get().code).ngettext(singular, plural, n)
    return text.format(n=format_number(n), **params)


def N_(message: str, /) -> str:
    """Mark ``message`` for the catalog without translating it (translate it with
    :func:`_` where it is shown)."""
    return message


# --- formats --------------------------------------------------------------------------


def format_number(value: float, digits: int = 0) -> str:
    """``value`` with the current locale's separators and at most ``digits`` decimals."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_current.get().locale)


def format_share(value: float) -> str:
    """A share (0.42) as a whole percentage in the current locale (42 %, 42%)."""
    return format_percent(value, locale=_current.get().locale)


def format_hour(hour: int) -> str:
    """A whole hour of the day on the 24-hour clock, as the locale writes it (09:00, 9:00)."""
    return format_skeleton("Hm", time(hour), locale=_current.get().locale)


def format_day(day: date | datetime, skeleton: str = "MMMd") -> str:
    """A date in the current locale from a CLDR skeleton: ``MMMd`` (3 Dec, 3. Dez.,
    12月3日), ``yMMMd``, ``MMMEd`` (Thu 3 Dec), ``MMMMEEEEd`` (Thursday 3 December)."""
    return format_skeleton(skeleton, day, locale=_current.get().locale)


# --- the pages' JavaScript ------------------------------------------------------------


@functools.cache
def _js_message_ids() -> frozenset[str]:
    template = _template()
    return frozenset(
        str(m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in template
        if m.id and any(path.startswith(JS_SOURCES) for path, _line in m.locations)
    )


# Numbers that between them take every plural form of our languages: French and Spanish
# give round millions a form of their own ("de millions", CLDR's "many").
_PLURAL_SAMPLES: tuple[int, ...] = (*range(0, 1000), 1_000_000)


def _form(code: str, n: int) -> int:
    """The gettext plural form ``n`` takes in ``code``'s catalog (English's without one)."""
    rule: Callable[[int], int] | None = getattr(translations(code), "plural", None)
    return rule(n) if rule is not None else int(n != 1)


def plural_categories(code: str) -> dict[str, int]:
    """Which plural form (gettext index) each CLDR plural category takes in ``code``; the
    pages choose the category with ``Intl.PluralRules``, so both sides agree."""
    locale = _babel_locale(DEFAULT_TAGS.get(code, "en-US"))
    found: dict[str, int] = {}
    for n in _PLURAL_SAMPLES:
        category, form = locale.plural_form(n), _form(code, n)
        if found.setdefault(category, form) != form:
            raise ValueError(f"{code}: plural category {category!r} has two gettext forms")
    return found


@functools.cache
def page_catalog(code: str) -> Mapping[str, Any]:
    """The messages the pages' scripts use, translated, with the plural categories."""
    rule = translations(code)
    messages: dict[str, str | list[str]] = {}
    template = _template()
    wanted = _js_message_ids()
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = str(message.id[0]), str(message.id[1])
            if singular in wanted:
                count = max(plural_categories(code).values()) + 1
                forms = [rule.ngettext(singular, plural, _sample(code, i)) for i in range(count)]
                messages[singular] = forms
        elif message.id in wanted:
            translated = rule.gettext(str(message.id))
            if translated != message.id:
                messages[str(message.id)] = translated
    return {
        "language": code,
        "languages": list(LANGUAGES),
        "messages": messages,
        "plural": plural_categories(code),
    }


def _sample(code: str, form: int) -> int:
    """A number that takes plural form ``form`` in ``code``."""
    for n in _PLURAL_SAMPLES:
        if _form(code, n) == form:
            return n
    raise ValueError(f"{code}: no number takes plural form {form}")


# --- the pseudo-locale ----------------------------------------------------------------

_PSEUDO_LETTERS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ȧƀƈḓḗƒɠħīĵķŀḿƞǿƥɋřşŧŭṽẇẋẏẑȦƁƇḒḖƑƓĦĪĴĶĿḾȠǾƤɊŘŞŦŬṼẆẊẎẐ",
)
PSEUDO_OPEN, PSEUDO_CLOSE = "⟦", "⟧"
# Kept as they are: placeholders, HTML tags and entities, Markdown link targets.
_PSEUDO_KEEP = re.compile(PLACEHOLDER.pattern + r"|<[^>]*>|&[a-z]+;|\]\([^)]*\)")


def pseudo(text: str) -> str:
    """``text`` with accented letters, 40 % longer, between ⟦ and ⟧; placeholders, tags and
    link targets unchanged."""
    out: list[str] = []
    last = 0
    for match in _PSEUDO_KEEP.finditer(text):
        out.append(text[last : match.start()].translate(_PSEUDO_LETTERS))
        out.append(match.group(0))
        last = match.end()
    out.append(text[last:].translate(_PSEUDO_LETTERS))
    body = "".join(out)
    visible = len(_PSEUDO_KEEP.sub("", text))
    dots = max(1, -(-visible * 2 // 5))  # 40 %, rounded up; in words, so lines can break
    padding = " ".join("·" * min(5, dots - i) for i in range(0, dots, 5))
    return f"{PSEUDO_OPEN}{body} {padding}{PSEUDO_CLOSE}"


def pseudo_catalog(template: Catalog) -> Catalog:
    """Every message of ``template`` pseudo-translated (plural rules of English)."""
    catalog = Catalog(locale="en", domain="messages")
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            catalog.add(message.id, tuple(pseudo(str(i)) for i in message.id))
        else:
            catalog.add(message.id, pseudo(str(message.id)))
    return catalog


def placeholders(text: str) -> list[str]:
    """The placeholders in ``text``, sorted (a translation must keep the same ones)."""
    return sorted(PLACEHOLDER.findall(text))


# --- Jinja ----------------------------------------------------------------------------


def _jinja_gettext(message: str) -> str:
    return translations(_current.get().code).gettext(message)


def _jinja_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get().code).ngettext(singular, plural, n)


def install_jinja(environment: jinja2.Environment) -> None:
    """Give a Jinja environment ``{% trans %}``, ``_()`` and ``ngettext()`` in the current
    language (whitespace inside ``{% trans %}`` is collapsed, as the extractor does) and
    ``language()``, the current :class:`Language`."""
    environment.add_extension("jinja2.ext.i18n")
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        gettext=_jinja_gettext, ngettext=_jinja_ngettext, newstyle=True
    )
    environment.globals["language"] = current
    environment.globals["page_catalog"] = lambda: page_catalog(current().code)
