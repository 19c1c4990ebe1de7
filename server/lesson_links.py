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

import jinja2
from aiohttp import web

from server import keys
from teams_app.extension import chat_link, shareable_lesson

# The page needs nothing but its own HTML: no scripts, styles, images or frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
CACHE_SECONDS = 300

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · AI Ready</title>
{% block meta %}{% endblock %}
</head>
<body>
<main>
<p>AI Ready: AI skills at work, in Microsoft Teams</p>
{% block main %}{% endblock %}
</main>
</body>
</html>
"""

_LESSON = """{% extends "layout.html" %}
{% block title %}{{ page.title }}{% endblock %}
{% block meta %}<meta name="description" content="{{ page.summary }}">
<meta property="og:title" content="{{ page.title }}">
<meta property="og:description" content="{{ page.summary }}">
<meta property="og:site_name" content="AI Ready">{% endblock %}
{% block main %}
<h1>{{ page.title }}</h1>
<p>{{ page.context }} · about {{ page.minutes }} minutes · skill: {{ page.skill }}</p>
<p>{{ page.summary }}</p>
{% if page.open_url %}<p><a href="{{ page.open_url }}">Open in Teams</a></p>{% endif %}
<p>In Teams, open your chat with AI Ready and type <code>lesson {{ page.lesson_id }}</code>
to start this lesson.</p>
{% endblock %}
"""

_NOT_FOUND = """{% extends "layout.html" %}
{% block title %}Lesson not found{% endblock %}
{% block main %}
<h1>Lesson not found</h1>
<p>There is no AI Ready lesson at this address. The link may be from an older version of
AI Ready. In Teams, open your chat with AI Ready and type <code>next</code> for your next
lesson.</p>
{% endblock %}
"""


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
    """The pages' own Jinja2 environment: autoescaping everything, failing on a missing value."""
    return jinja2.Environment(
        loader=jinja2.DictLoader(
            {"layout.html": _LAYOUT, "lesson.html": _LESSON, "not_found.html": _NOT_FOUND}
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _html(text: str, status: int = 200) -> web.Response:
    response = web.Response(text=text, content_type="text/html", status=status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if status == 200:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


class LessonLinks:
    """The handler of ``GET /lessons/{lesson_id}``."""

    def __init__(self, environment: jinja2.Environment) -> None:
        self._lesson = environment.get_template("lesson.html")
        self._not_found = environment.get_template("not_found.html").render()

    async def lesson(self, request: web.Request) -> web.Response:
        """The lesson's page, or a 404 page."""
        curriculum = request.app[keys.SERVICES].curriculum
        item = shareable_lesson(curriculum, request.match_info["lesson_id"])
        if item is None:
            return _html(self._not_found, status=404)
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
