"""Public lesson links (``GET /lessons/{id}``), through the real app factory: the page a shared
lesson's link opens outside Teams."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from markupsafe import escape

from server.app import create_app
from server.config import Settings, load_settings
from teams_app.domain.content import Curriculum
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.team_memory import MemoryTeamStore
from tests.bot.conftest import dev_settings

BOT_ID = "0a8e4d21-95c3-47f6-b2de-81c3f4a6e7b9"
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def production_settings() -> Settings:
    return load_settings(
        {
            "AIREADY_BOT_CLIENT_ID": BOT_ID,
            "AIREADY_BOT_CLIENT_SECRET": "a-secret",
            "AIREADY_BOT_TENANT_ID": "11111111-1111-4111-8111-111111111111",
            "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
            "AIREADY_PUBLIC_URL": "https://ai-ready.contoso.example",
            "AIREADY_ENGINE_IN_WEB": "false",
        }
    )


async def client_for(
    aiohttp_client: Callable[..., Any], settings: Settings, **overrides: Any
) -> Any:
    app = create_app(
        settings,
        store=MemoryLearnerStore(),
        team_store=MemoryTeamStore(),
        engine=memory_engine(),
        **overrides,
    )
    return await aiohttp_client(app)


class Elements(HTMLParser):
    """The tags of a page and the href of its links."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links += [value or "" for name, value in attrs if name == "href"]


def parsed(html: str) -> Elements:
    elements = Elements()
    elements.feed(html)
    return elements


def check_headers(response: Any) -> None:
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_lesson_link_opens_a_page_with_the_lesson_and_an_open_in_teams_link(
    aiohttp_client: Callable[..., Any], curriculum: Curriculum
) -> None:
    client = await client_for(aiohttp_client, production_settings())
    lesson = next(iter(curriculum.lessons.values()))
    response = await client.get(f"/lessons/{lesson.id}")
    assert response.status == 200
    check_headers(response)
    html = await response.text()
    page = parsed(html)
    assert "script" not in page.tags and "style" not in page.tags, "the page loads nothing"
    assert f"<h1>{escape(lesson.title)}</h1>" in html
    assert page.links == [
        f"https://teams.microsoft.com/l/chat/0/0?users=28:{BOT_ID}&message=lesson%20{lesson.id}"
    ]
    assert f"lesson {lesson.id}" in html
    assert curriculum.skill_name(lesson.skill) in html


async def test_an_unknown_lesson_gets_a_404_page_that_does_not_repeat_the_request(
    aiohttp_client: Callable[..., Any],
) -> None:
    client = await client_for(aiohttp_client, production_settings())
    response = await client.get("/lessons/%3Cscript%3Ealert(1)%3C%2Fscript%3E-nope")
    assert response.status == 404
    check_headers(response)
    html = await response.text()
    assert "Lesson not found" in html
    assert "alert" not in html and "nope" not in html
    assert "script" not in parsed(html).tags


async def test_curriculum_text_is_escaped_on_the_page(
    aiohttp_client: Callable[..., Any], curriculum: Curriculum
) -> None:
    lesson = next(iter(curriculum.lessons.values()))
    hostile = dataclasses.replace(lesson, title=HOSTILE, concept=f"{HOSTILE}\n\nMore.")
    lessons = {**curriculum.lessons, lesson.id: hostile}
    client = await client_for(
        aiohttp_client,
        dev_settings(AIREADY_PUBLIC_URL="https://ai-ready.contoso.example"),
        curriculum=dataclasses.replace(curriculum, lessons=lessons),
    )
    response = await client.get(f"/lessons/{lesson.id}")
    assert response.status == 200
    html = await response.text()
    page = parsed(html)
    assert "script" not in page.tags and "img" not in page.tags
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img" in html
    # Without the bot's client id (local development) there is no deep link, only the command.
    assert page.links == []
    assert f"lesson {lesson.id}" in html
