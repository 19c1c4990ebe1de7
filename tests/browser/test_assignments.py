"""Tracks a programme admin assigns to a team or group, as the team's leaders see them on the
team view and as each learner sees them in My learning; and the way from My learning to the
organisation page, for programme admins only.

Assignments are made through the real API as the demo user (a programme admin in demo mode);
states the calendar can't produce on cue (a due date passed, a group too small to count) are
played by answering the page's API with a Playwright route.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from teams_app.domain.privacy import NOT_ENOUGH
from tests.browser.conftest import (
    DEMO_USER,
    TEAM,
    THEMES,
    VIEW_API,
    OpenPage,
    TabServer,
    api_json,
    as_demo_user,
    assign,
    no_problems,
    ready,
    screenshot,
    seed_learner,
    seed_team,
    team_members,
)

pytestmark = pytest.mark.browser

LEARNING_API = "**/api/me/learning"
OTHER_GROUP = "dd000000-0000-4000-8000-0000000000dd"


def patched(url: str, change: Any) -> Any:
    """A route handler answering the real response with ``change(body)`` applied."""

    async def handle(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        change(body)
        await route.fulfill(response=response, json=body)

    async def prepare(page: Page) -> None:
        await page.route(url, handle)

    return prepare


# ------------------------------------------------------------------------- the team view


async def test_leaders_see_what_the_organisation_assigned_the_team(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    await assign(demo_server, "leaders", TEAM, days=12)
    await assign(demo_server, "finance", TEAM, days=40)
    await assign(demo_server, "hr", OTHER_GROUP, days=20)  # another group's: not shown here
    body = await api_json(demo_server, f"/api/teams/{TEAM}/view")
    assignments = body["assignments"]
    assert [a["track"] for a in assignments] == ["leaders", "finance"]

    page, problems = await open_page(demo_server.url("/tabs/team"))
    await ready(page)
    section = page.get_by_role("region", name="Assigned by your organisation")
    await expect(section).to_be_visible()
    items = section.locator("li")
    await expect(items).to_have_count(len(assignments))
    for item, a in zip(await items.all(), assignments, strict=True):
        await expect(item.locator(".assignment-title")).to_have_text(a["title"])
        assert await item.locator("time").get_attribute("datetime") == a["due"]
        await expect(item).to_contain_text("Due ")
        done = (
            NOT_ENOUGH if a["completed"] is None else f"{a['completed']} of {a['members']} finished"
        )
        await expect(item.locator(".assignment-done")).to_have_text(done)
    await screenshot(page, "team-assignments")
    no_problems(problems)


async def test_team_assignments_too_small_to_count_or_past_due(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    rows = [
        {
            "id": "a00000000001",
            "track": "foundation",
            "title": "Foundation",
            "due": "2026-01-15",
            "completed": None,
            "members": None,
            "overdue": True,
        },
        {
            "id": "a00000000002",
            "track": "hr",
            "title": "HR",
            "due": "2099-03-01",
            "completed": 5,
            "members": 13,
            "overdue": False,
        },
    ]

    def add(body: dict[str, Any]) -> None:
        body["assignments"] = rows

    page, problems = await open_page(
        demo_server.url("/tabs/team?theme=contrast"), prepare=patched(VIEW_API, add)
    )
    await ready(page)
    items = page.locator("#assignment-list li")
    await expect(items.nth(0).locator(".assignment-done")).to_have_text(NOT_ENOUGH)
    await expect(items.nth(0)).to_contain_text("Due date passed")
    await expect(items.nth(1).locator(".assignment-done")).to_have_text("5 of 13 finished")
    await expect(items.nth(1)).not_to_contain_text("Due date passed")
    await screenshot(page, "team-assignments-contrast")
    no_problems(problems)


@pytest.mark.parametrize("answer", ["empty", "absent"])
async def test_no_assignments_no_section(
    demo_server: TabServer, open_page: OpenPage, answer: str
) -> None:
    await seed_team(demo_server)

    def change(body: dict[str, Any]) -> None:
        if answer == "empty":
            body["assignments"] = []
        else:
            body.pop("assignments", None)  # an older server: no such key

    page, problems = await open_page(
        demo_server.url("/tabs/team"), prepare=patched(VIEW_API, change)
    )
    await ready(page)
    await expect(page.locator("#assignments")).to_be_hidden()
    region = page.get_by_role("region", name="Assigned by your organisation")
    await expect(region).to_have_count(0)
    no_problems(problems)


# ------------------------------------------------------------------------- My learning


async def seed_assigned_learner(tabs: TabServer) -> list[dict[str, Any]]:
    """The demo user as a finance learner on the demo team, with two tracks assigned to the
    team: finance (on their path) and leaders (for another role)."""
    await tabs.roster({DEMO_USER: False})
    await seed_learner(tabs, as_demo_user(team_members()[3]))
    await assign(tabs, "finance", TEAM, days=14)
    await assign(tabs, "leaders", TEAM, days=45)
    assignments: list[dict[str, Any]] = (await api_json(tabs, "/api/me/learning"))["assignments"]
    return assignments


@pytest.mark.parametrize("theme", THEMES)
async def test_learners_see_their_assignments_with_progress_and_role_hints(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    assignments = await seed_assigned_learner(demo_server)
    assert [(a["track"], a["in_path"]) for a in assignments] == [
        ("finance", True),
        ("leaders", False),
    ]
    page, problems = await open_page(demo_server.url(f"/tabs/my-learning?theme={theme}"))
    await ready(page)

    section = page.get_by_role("region", name="Assigned to you")
    await expect(section).to_be_visible()
    items = section.locator("li")
    await expect(items).to_have_count(2)
    for item, a in zip(await items.all(), assignments, strict=True):
        await expect(item.locator("h3")).to_have_text(a["title"])
        await expect(item).to_contain_text("Assigned by your organisation, due ")
        assert await item.locator("time").get_attribute("datetime") == a["due"]
        await expect(item.locator(".assignment-progress")).to_have_text(
            f"{a['done']} of {a['total']} lessons done"
        )
    await expect(items.nth(0).locator(".hint")).to_have_count(0)  # on their path
    await expect(items.nth(1).locator(".hint")).to_have_text(
        "This track is for the Leader role: change your role in the chat (type role) to take it."
    )
    await expect(items.nth(1).locator(".hint kbd")).to_have_text("role")
    await screenshot(page, f"my-learning-assignments-{theme}")
    no_problems(problems)


async def test_finished_and_overdue_assignments_say_so(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_assigned_learner(demo_server)

    def states(body: dict[str, Any]) -> None:
        finished, overdue = body["assignments"]
        finished.update(done=finished["total"], finished=True, overdue=False)
        overdue.update(due="2026-01-10", overdue=True, roles=["finance", "hr"])

    page, problems = await open_page(
        demo_server.url("/tabs/my-learning"), prepare=patched(LEARNING_API, states)
    )
    await ready(page)
    items = page.locator("#assignment-list li")
    await expect(items.nth(0).locator(".badge")).to_have_text("Finished")
    await expect(items.nth(1).locator(".badge")).to_have_text("Overdue")
    await expect(items.nth(1).locator(".hint")).to_contain_text("for the Finance or HR role")
    await expect(page.locator("#assignments-note")).to_have_text("1 still to finish")
    no_problems(problems)


async def test_no_assignments_in_my_learning_no_section(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_learner(demo_server, as_demo_user(team_members()[3]))  # on no team
    assert (await api_json(demo_server, "/api/me/learning"))["assignments"] == []
    page, problems = await open_page(demo_server.url("/tabs/my-learning"))
    await ready(page)
    await expect(page.locator("#assignments")).to_be_hidden()
    no_problems(problems)


# ------------------------------------------------------------------------- organisation link


async def test_programme_admins_find_the_organisation_view_from_my_learning(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    assert (await api_json(demo_server, "/api/me/learning"))["admin"] is True
    page, problems = await open_page(demo_server.url("/tabs/my-learning?theme=dark"))
    await ready(page)
    link = page.get_by_role("link", name="Organisation view")
    assert await link.get_attribute("href") == "/tabs/organisation?theme=dark"
    await link.click()
    await ready(page)
    assert page.url == demo_server.url("/tabs/organisation?theme=dark")
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    await expect(page.locator("#page-title")).to_have_text("Organisation")
    no_problems(problems)


async def test_learners_who_are_not_admins_get_no_organisation_link(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_learner(demo_server, as_demo_user(team_members()[3]))

    def not_admin(body: dict[str, Any]) -> None:
        body["admin"] = False

    page, problems = await open_page(
        demo_server.url("/tabs/my-learning"), prepare=patched(LEARNING_API, not_admin)
    )
    await ready(page)
    await expect(page.locator("#organisation-link")).to_be_hidden()
    await expect(page.get_by_role("link", name="Organisation view")).to_have_count(0)
    no_problems(problems)
