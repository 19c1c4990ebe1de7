"""The message extension: find, share and unfurl AI Ready lessons in any chat or channel.

Teams sends four ``composeExtension/*`` invokes, all answered here from the curriculum in
memory (no storage, so always well inside Teams' five seconds):

- ``query`` (command ``searchLessons``): lessons and weekly challenges whose title, summary or
  skill contain every word typed, best title matches first; an empty query (``initialRun``)
  lists this week's suggestions. Paged by ``queryOptions.skip``/``count``, at most 25.
- ``selectItem``: the full card of a result the person picked.
- ``queryLink``: a pasted ``https://<public host>/lessons/<id>`` unfurls into the lesson's
  card; any other link gets an empty result, never an error.
- ``submitAction`` (command ``shareLesson``): the card for a lesson named by id, title or
  link; anything else gets a ``message`` result saying why.

Every card is the ``shared_lesson`` template. Its "Open in AI Ready" button is a Teams deep
link to the person's own 1:1 chat with the bot, with ``lesson <id>`` typed in the compose box
(the ``message`` parameter of ``/l/chat/0/0``); the bot's ``lesson <id>`` command then
starts that lesson through the ordinary lesson use case (:meth:`MessageExtension.open_lesson`).

The template uses nothing newer than Adaptive Cards 1.3, because Teams unfurls links only
with cards up to 1.3; link unfurls say so in their ``version``, everything else is sent as 1.5.
Routing on the invoke name is deliberate: the SDK's ``MessageExtension`` helper (in the
deprecated ``microsoft-agents-hosting-teams``) validates ``value`` with pydantic models before
a handler runs (``commandContext`` is required, for one), so a malformed invoke would become
an exception rather than a ``message`` result.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from teams_app import i18n, views
from teams_app.cards import CardRenderer
from teams_app.domain.content import Challenge, Curriculum, Lesson, Role
from teams_app.domain.learner import iso_week
from teams_app.engine.kickoff import default_challenge
from teams_app.i18n import _, format_number, ngettext
from teams_app.learning import LearningService, Turn
from teams_app.verbs import Verb
from teams_app.views import Reply

logger = logging.getLogger(__name__)

QUERY = "composeExtension/query"
SELECT_ITEM = "composeExtension/selectItem"
QUERY_LINK = "composeExtension/queryLink"
SUBMIT_ACTION = "composeExtension/submitAction"
SEARCH_COMMAND = "searchLessons"
SHARE_COMMAND = "shareLesson"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
THUMBNAIL_CARD = "application/vnd.microsoft.card.thumbnail"
CARD = "shared_lesson"
MAX_RESULTS = 25  # Teams shows at most 25 results a page
MAX_SKIP = 1_000
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
SUMMARY_CHARS = 240
PREVIEW_CHARS = 120
UNFURL_CARD_VERSION = "1.3"  # Teams unfurls links with Adaptive Cards 1.3 and earlier
LESSON_PATH = "/lessons/"
CHAT_LINK = "https://teams.microsoft.com/l/chat/0/0"

_LESSON_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_BOT_USER = re.compile(r"28:[A-Za-z0-9-]{1,100}")
_TERM = re.compile(r"\w+")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_MARK = re.compile(r"[*_`#>]+")
_LIST_MARKER = re.compile(r"^\s*(?:[-+]|\d+\.)\s+", re.M)


@dataclass(frozen=True, slots=True)
class Shareable:
    """A lesson or weekly challenge as it is shared: what the card and the preview show."""

    kind: str  # "lesson" or "challenge"
    id: str
    title: str
    skill: str
    minutes: int
    summary: str
    track: str = ""  # a lesson's track title, if it has a track

    @property
    def command(self) -> str:
        """What the person's chat with the bot opens with."""
        return f"lesson {self.id}" if self.kind == "lesson" else "challenge"

    @property
    def kind_label(self) -> str:
        """``Lesson`` or ``Weekly challenge``, in the reader's language."""
        return _("Lesson") if self.kind == "lesson" else _("Weekly challenge")

    @property
    def context(self) -> str:
        """The lesson's track (``Foundation track``), else :attr:`kind_label`, in the reader's
        language."""
        if self.kind == "lesson" and self.track:
            # TRANSLATORS: the track a shared lesson belongs to: "Foundation track"
            return _("{track} track", track=self.track)
        return self.kind_label


def plain_summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraph of curriculum Markdown as one plain line, clipped at a word."""
    first = next((p for p in text.strip().split("\n\n") if p.strip()), "")
    first = _LIST_MARKER.sub("", _MARKDOWN_LINK.sub(r"\1", first))
    plain = " ".join(_MARKDOWN_MARK.sub("", first).split())
    if len(plain) <= limit:
        return plain
    return plain[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def lesson_minutes(lesson: Lesson) -> int:
    """About how long a lesson takes: reading plus half a minute a question."""
    return max(1, round(lesson.reading_minutes + len(lesson.questions) * 0.5))


def lesson_item(curriculum: Curriculum, lesson: Lesson) -> Shareable:
    """A lesson as it is shared."""
    track = curriculum.track(lesson.track_id)
    return Shareable(
        kind="lesson",
        id=lesson.id,
        title=lesson.title,
        skill=curriculum.skill_name(lesson.skill),
        minutes=lesson_minutes(lesson),
        summary=plain_summary(lesson.concept),
        track=track.title if track else "",
    )


def challenge_item(curriculum: Curriculum, challenge: Challenge) -> Shareable:
    """A weekly challenge as it is shared."""
    return Shareable(
        kind="challenge",
        id=challenge.id,
        title=challenge.title,
        skill=curriculum.skill_name(challenge.skill),
        minutes=challenge.minutes,
        summary=plain_summary(challenge.task),
    )


def shareable_lesson(curriculum: Curriculum, lesson_id: str) -> Shareable | None:
    """The lesson with this id, as it is shared; ``None`` when there is none."""
    lesson = curriculum.lesson(lesson_id)
    return lesson_item(curriculum, lesson) if lesson else None


def chat_link(bot_user: str, message: str) -> str:
    """A Teams deep link to the 1:1 chat with the bot (``28:<client id>``), with ``message``
    typed in the compose box."""
    return f"{CHAT_LINK}?users={quote(bot_user, safe=':')}&message={quote(message, safe='')}"


def lesson_link_id(url: str, public_url: str) -> str | None:
    """The lesson id in ``https://<public host>/lessons/<id>``; ``None`` for any other URL."""
    if not public_url or len(url) > 2048:
        return None
    try:
        link, ours = urlsplit(url.strip()), urlsplit(public_url)
        same_origin = (link.hostname, link.port) == (ours.hostname, ours.port)
    except ValueError:
        return None
    if link.scheme != "https" or not same_origin or link.username or link.password:
        return None
    if not link.path.startswith(LESSON_PATH):
        return None
    lesson_id = link.path.removeprefix(LESSON_PATH).rstrip("/")
    return lesson_id if _LESSON_ID.fullmatch(lesson_id) else None


def _clean_query(text: str) -> list[str]:
    kept = "".join(ch for ch in text[:MAX_QUERY_CHARS] if unicodedata.category(ch)[0] != "C")
    return _TERM.findall(kept.casefold())[:MAX_TERMS]


class Catalogue:
    """Everything that can be shared, with its search text, built once from the curriculum."""

    def __init__(self, curriculum: Curriculum) -> None:
        # Lessons in the order of their tracks, then any no track lists; then the challenges.
        in_order = [i for track in curriculum.tracks for i in track.lesson_ids]
        lesson_ids = [
            i for i in dict.fromkeys([*in_order, *curriculum.lessons]) if i in curriculum.lessons
        ]
        self._curriculum = curriculum
        self.items: tuple[Shareable, ...] = (
            *(lesson_item(curriculum, curriculum.lessons[i]) for i in lesson_ids),
            *(challenge_item(curriculum, challenge) for challenge in curriculum.challenges),
        )
        self._by_id = {item.id: item for item in self.items}
        self._titles = {item.id: item.title.casefold() for item in self.items}
        self._text = {item.id: _search_text(item) for item in self.items}
        self._everyone = [
            item
            for item in self.items
            if item.kind == "lesson"
            and (track := curriculum.track(curriculum.lessons[item.id].track_id)) is not None
            and Role.EVERYONE in track.roles
        ]

    def get(self, item_id: str) -> Shareable | None:
        """The lesson or challenge with this id."""
        return self._by_id.get(item_id)

    def lesson(self, lesson_id: str) -> Shareable | None:
        """The lesson with this id (never a challenge)."""
        item = self._by_id.get(lesson_id)
        return item if item is not None and item.kind == "lesson" else None

    def search(self, query: str) -> list[Shareable]:
        """Items whose title, skill, summary or track contain every word of ``query``,
        title matches first; ``[]`` when the query has no words."""
        terms = _clean_query(query)
        if not terms:
            return []
        hits = [
            (0 if all(t in self._titles[item.id] for t in terms) else 1, index, item)
            for index, item in enumerate(self.items)
            if all(t in self._text[item.id] for t in terms)
        ]
        return [item for _title, _index, item in sorted(hits, key=lambda hit: hit[:2])]

    def suggestions(self, week: str) -> list[Shareable]:
        """This week's suggestions: the week's challenge for everyone, then the lessons meant
        for everyone, starting at a different one each week."""
        challenge = default_challenge(self._curriculum, week)
        first = [challenge_item(self._curriculum, challenge)] if challenge else []
        lessons = self._everyone
        if not lessons:
            return first
        start = (int(week[-2:]) if week[-2:].isdigit() else 0) % len(lessons)
        return first + lessons[start:] + lessons[:start]

    def find_lesson(self, text: str, public_url: str) -> tuple[Shareable | None, int]:
        """The lesson named by an id, a link, its title or words only it matches; with the
        number of lessons the words match when that is not exactly one."""
        wanted = text.strip()[:MAX_QUERY_CHARS]
        lesson_id = lesson_link_id(wanted, public_url) or wanted.casefold()
        if (item := self.lesson(lesson_id)) is not None:
            return item, 1
        title = " ".join(wanted.casefold().split())
        exact = [i for i in self.items if i.kind == "lesson" and self._titles[i.id] == title]
        matches = exact or [i for i in self.search(wanted) if i.kind == "lesson"]
        return (matches[0], 1) if len(matches) == 1 else (None, len(matches))


def _search_text(item: Shareable) -> str:
    """What a search matches an item against: its title, skill and summary, and its context
    (``Foundation track``, ``Weekly challenge``) in every language."""
    contexts = []
    for code in i18n.LANGUAGES:
        with i18n.using(i18n.Language(code, i18n.DEFAULT_TAGS[code])):
            contexts.append(item.context)
    words = (item.title, item.skill, item.summary, *dict.fromkeys(contexts))
    return " ".join(words).casefold()


def _result(attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "composeExtension": {
            "type": "result",
            "attachmentLayout": "list",
            "attachments": attachments,
        }
    }


def _message(text: str) -> dict[str, Any]:
    return {"composeExtension": {"type": "message", "text": text}}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any, default: int, low: int, high: int) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) <= 6:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        return default
    return min(value, high)


def _parameter(value: Mapping[str, Any], name: str) -> str:
    parameters = value.get("parameters")
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, Mapping) and parameter.get("name") == name:
            found = parameter.get("value")
            return found if isinstance(found, str) else ""
    return ""


class MessageExtension:
    """Answers the ``composeExtension/*`` invokes. ``bot_id`` is the bot's client id (for the
    deep link; without it the invoke's recipient, ``28:<client id>``, is used) and
    ``public_url`` the server's public https origin, whose lesson links unfurl."""

    def __init__(
        self,
        curriculum: Curriculum,
        renderer: CardRenderer,
        *,
        bot_id: str = "",
        public_url: str = "",
    ) -> None:
        self._curriculum = curriculum
        self._renderer = renderer
        self._bot_user = f"28:{bot_id}" if bot_id else ""
        self._public_url = public_url
        self._catalogues: dict[str, Catalogue] = {}  # by language code, built when first used

    @property
    def catalogue(self) -> Catalogue:
        """What can be shared, in the current reader's language (the curriculum's translated
        text where it has some: titles, summaries and skills are searched in it)."""
        code = i18n.current().code
        found = self._catalogues.get(code)
        if found is None:
            found = self._catalogues[code] = Catalogue(self._curriculum.in_language(code))
        return found

    def selects(self, name: str | None, value: Any) -> bool:
        """Whether this invoke is ours: the four invokes, for our own commands only (any other
        is not implemented, and the server answers 501)."""
        command = _mapping(value).get("commandId")
        if name == QUERY:
            return command == SEARCH_COMMAND
        if name == SUBMIT_ACTION:
            preview = _mapping(value).get("botMessagePreviewAction")
            return command == SHARE_COMMAND and not preview
        return name in (SELECT_ITEM, QUERY_LINK)

    def answer(
        self, name: str | None, value: Any, *, now: datetime, recipient: str = ""
    ) -> dict[str, Any]:
        """The invoke response body for an invoke :meth:`selects` accepted."""
        bot_user = self._bot_user or (recipient if _BOT_USER.fullmatch(recipient) else "")
        fields = _mapping(value)
        if name == QUERY:
            return self._query(fields, now, bot_user)
        if name == SELECT_ITEM:
            item_id = value if isinstance(value, str) else fields.get("id")
            item = self.catalogue.get(item_id) if isinstance(item_id, str) else None
            if item is None:
                return _message(_("That lesson is no longer available. Search again."))
            return _result([{"contentType": ADAPTIVE_CARD, "content": self.card(item, bot_user)}])
        if name == QUERY_LINK:
            url = fields.get("url")
            lesson_id = lesson_link_id(url, self._public_url) if isinstance(url, str) else None
            item = self.catalogue.lesson(lesson_id) if lesson_id else None
            if item is None:
                return _result([])  # not one of our lessons: Teams shows the plain link
            card = {**self.card(item, bot_user), "version": UNFURL_CARD_VERSION}
            return _result([self._attachment(item, card)])
        return self._share(fields, bot_user)  # SUBMIT_ACTION

    def card(self, item: Shareable, bot_user: str = "") -> dict[str, Any]:
        """The shared-lesson card for ``item`` (Adaptive Card 1.5)."""
        if bot_user:
            open_url = chat_link(bot_user, item.command)
        elif self._public_url and item.kind == "lesson":
            open_url = self._public_url.rstrip("/") + LESSON_PATH + item.id
        else:
            open_url = ""
        return self._renderer.render(
            CARD,
            {
                "kind": item.kind_label,
                "context": item.context,
                "title": item.title,
                "skill": item.skill,
                "minutes": item.minutes,
                "summary": item.summary,
                "open_title": _("Open in AI Ready")
                if item.kind == "lesson"
                else _("Try this week's challenge in AI Ready"),
                "open_url": open_url,
            },
        )

    def _attachment(self, item: Shareable, card: dict[str, Any]) -> dict[str, Any]:
        preview = plain_summary(item.summary, PREVIEW_CHARS)
        # TRANSLATORS: a search result's subtitle: "Lesson · Prompting · about 5 min"
        subtitle = _(
            "{kind} · {skill} · about {minutes} min",
            kind=item.kind_label,
            skill=item.skill,
            minutes=format_number(item.minutes),
        )
        return {
            "contentType": ADAPTIVE_CARD,
            "content": card,
            "preview": {
                "contentType": THUMBNAIL_CARD,
                "content": {
                    "title": item.title,
                    "subtitle": subtitle,
                    "text": preview,
                    "tap": {"type": "invoke", "value": {"id": item.id}},
                },
            },
        }

    def _attachments(self, items: Iterable[Shareable], bot_user: str) -> list[dict[str, Any]]:
        return [self._attachment(item, self.card(item, bot_user)) for item in items]

    def _query(self, value: Mapping[str, Any], now: datetime, bot_user: str) -> dict[str, Any]:
        text = _parameter(value, "query")  # initialRun sends no "query": suggestions
        if _clean_query(text):
            found = self.catalogue.search(text)
        else:
            found = self.catalogue.suggestions(iso_week(now.date()))
        options = _mapping(value.get("queryOptions"))
        skip = _number(options.get("skip"), 0, 0, MAX_SKIP)
        count = _number(options.get("count"), MAX_RESULTS, 1, MAX_RESULTS)
        page = found[skip : skip + count]
        logger.debug("lesson search: %d of %d results", len(page), len(found))
        return _result(self._attachments(page, bot_user))

    def _share(self, value: Mapping[str, Any], bot_user: str) -> dict[str, Any]:
        data = _mapping(value.get("data"))
        wanted = data.get("lesson")
        if not isinstance(wanted, str) or not wanted.strip():
            return _message(_("Type a lesson's title, or paste its link."))
        item, matches = self.catalogue.find_lesson(wanted, self._public_url)
        if item is None and matches:
            # TRANSLATORS: "Find a lesson" is the name of the message extension's search command
            return _message(
                ngettext(
                    "{n} lesson matches those words. Type more of the title, "
                    "or use Find a lesson to pick one.",
                    "{n} lessons match those words. Type more of the title, "
                    "or use Find a lesson to pick one.",
                    matches,
                )
            )
        if item is None:
            # TRANSLATORS: "Find a lesson" is the name of the message extension's search command
            return _message(_("No lesson matches that. Use Find a lesson to search for one."))
        return _result([{"contentType": ADAPTIVE_CARD, "content": self.card(item, bot_user)}])

    async def open_lesson(self, service: LearningService, turn: Turn, lesson_id: str) -> Reply:
        """The ``lesson <id>`` command: start that lesson as the lesson button would (asking
        first when it would abandon work in progress); an unknown id gets a friendly card."""
        lesson = self._curriculum.lesson(lesson_id)
        if lesson is None:
            return views.notice(
                _("I couldn't find that lesson"),
                _(
                    "The link may be from an older version of AI Ready, or the lesson has been "
                    "retired. Your own path is just as you left it."
                ),
                # TRANSLATORS: the heading of a card about a lesson someone shared in a chat
                heading=_("Shared lesson"),
                action=(_("Show my next lesson"), Verb.START_LESSON.value),
            )
        return await service.start_lesson(turn, {"lesson": lesson.id})
