"""axe-core (npm devDependency) on the tab pages, in the three Teams themes: no violation of
impact "serious" or "critical" may remain. The report names each rule, its impact and the
failing elements. The pages carry assignments too, so their sections are checked as well.
(The organisation page's run is in test_organisation.py.)"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import (
    DEMO_USER,
    NARROW,
    TEAM,
    THEMES,
    WIDE,
    OpenPage,
    TabServer,
    as_demo_user,
    assign,
    axe_violations,
    no_problems,
    ready,
    seed_learner,
    seed_team,
    team_members,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("theme", THEMES)
async def test_my_learning_has_no_serious_accessibility_violations(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    await demo_server.roster({DEMO_USER: False})
    await seed_learner(demo_server, as_demo_user(team_members()[3]))
    await assign(demo_server, "finance", TEAM)
    await assign(demo_server, "leaders", TEAM)  # not on their path: with the role hint
    page, problems = await open_page(demo_server.url(f"/tabs/my-learning?theme={theme}"))
    await ready(page)
    await expect(page.locator("#assignments")).to_be_visible()
    report = await axe_violations(page)
    assert not report, f"axe, My learning, {theme} theme:\n{report}"
    no_problems(problems)


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "420px"])
@pytest.mark.parametrize("theme", THEMES)
async def test_team_view_has_no_serious_accessibility_violations(
    demo_server: TabServer, open_page: OpenPage, theme: str, viewport: dict[str, int]
) -> None:
    await seed_team(demo_server)
    await assign(demo_server, "foundation", TEAM)
    page, problems = await open_page(
        demo_server.url(f"/tabs/team?theme={theme}"), viewport=viewport
    )
    await ready(page)
    await expect(page.locator("#assignments")).to_be_visible()
    report = await axe_violations(page)
    assert not report, f"axe, team view, {theme} theme, {viewport['width']} px:\n{report}"
    no_problems(problems)
