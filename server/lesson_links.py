"""Public lesson links: ``GET /lessons/{lesson_id}``.

A shared lesson's link is ``https://<public host>/lessons/<id>``. Pasted in Teams it unfurls
into the lesson's card (:mod:`teams_app.extension`); opened anywhere else it is this page:
the lesson's title, skill, length and summary, and an "Open in Teams" deep link to the
reader's own chat with AI Ready, which starts the lesson. The page shows only curriculum text
(nothing personal, no sign-in), loads nothing, and may not be framed. An unknown id gets a 404
page that does not repeat what was asked for.

The pages have a Jinja2 environment of their own (autoescaping, strict undefined), built when
the routes are registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from aiohttp import web

from server import keys
from teams_app import i18n
from teams_app.extension import chat_link, shareable_lesson

# The page needs nothing but its own HTML: no scripts, styles, images or frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
CACHE_SECONDS = 300

PAGES = Path(__file__).resolve().parent / "templates" / "public"


@dataclass(frozen=True, slots=True)
class LessonPage:
    """What the lesson page shows."""

    lesson_id: str
    title: str
    context: str
    skill: str
    minutes: int
    summary: str
    open_url: str


def page_environment() -> jinja2.Environment:
    """The pages' own Jinja2 environment (``templates/public``): autoescaping everything,
    failing on a missing value, in the reader's language."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PAGES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    i18n.install_jinja(environment)
    return environment


def _html(text: str, status: int = 200) -> web.Response:
    response = web.Response(text=text, content_type="text/html", status=status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Language"] = i18n.current().html_lang
    response.headers["Vary"] = "Accept-Language"  # one page per language
    if status == 200:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


class LessonLinks:
    """The handler of ``GET /lessons/{lesson_id}``."""

    def __init__(self, environment: jinja2.Environment) -> None:
        self._lesson = environment.get_template("lesson.html")
        self._not_found = environment.get_template("not_found.html")

    async def lesson(self, request: web.Request) -> web.Response:
        """The lesson's page, or a 404 page."""
        curriculum = request.app[keys.SERVICES].curriculum.in_language(i18n.current().code)
        item = shareable_lesson(curriculum, request.match_info["lesson_id"])
        if item is None:
            return _html(self._not_found.render(), status=404)
        bot = request.app[keys.SETTINGS].bot_client_id
        page = LessonPage(
            lesson_id=item.id,
            title=item.title,
            context=item.context,
            skill=item.skill,
            minutes=item.minutes,
            summary=item.summary,
            open_url=chat_link(f"28:{bot}", item.command) if bot else "",
        )
        return _html(self._lesson.render(page=page))


def setup_lesson_links(app: web.Application) -> None:
    """Register ``GET /lessons/{lesson_id}``."""
    links = LessonLinks(page_environment())
    app.router.add_get("/lessons/{lesson_id}", links.lesson)
