"""The tab pages in the reader's language, in real Chromium.

In the ``qps-ploc`` pseudo-locale every catalog message is accented between ⟦ ⟧ and 40 %
longer: each page's visible text and accessible names are read, and any English word left
that isn't content or seeded data was written without the catalog. German pages show German
text, German dates and numbers; a Microsoft 365 host whose context asks for German turns an
English page German.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from playwright.async_api import Page, expect

from teams_app import i18n
from teams_app.content_files import load_curriculum
from tests.browser.conftest import (
    CLIENT_ID,
    MEMBER,
    SIDE_PANEL,
    TEAM,
    TEAMS_TENANT,
    OpenInTeams,
    OpenPage,
    TabServer,
    api_json,
    assign,
    legacy_context,
    no_problems,
    ready,
    screenshot,
    seed_learner,
    seed_team,
    team_members,
)
from tests.conftest import REPO_ROOT
from tests.support.idp import LocalIdentityProvider
from tests.support.pseudo import curriculum_text, leaks

pytestmark = pytest.mark.browser

CURRICULUM = load_curriculum(REPO_ROOT / "content")
OFFLINE = ("validDomains", "net::ERR_NAME_NOT_RESOLVED")

# Every visible text node (SVG included) and every accessible name or hint on the page.
VISIBLE_TEXT = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, [hidden]')) continue;
    const text = node.textContent.trim();
    if (text) found.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [alt], [placeholder]')) {
    if (el.closest('[hidden]')) continue;
    for (const name of ['aria-label', 'title', 'alt', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) found.push(value.trim());
    }
  }
  found.push(document.title);
  return found;
}"""


def _names(value: Any) -> set[str]:
    """Strings in an API answer that are data, not interface: names and ids."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            data_keys = ("name", "display_name", "team_name", "group_name", "id", "group")
            if key in data_keys and isinstance(item, str):
                found.add(item)
            found |= _names(item)
    elif isinstance(value, list):
        for item in value:
            found |= _names(item)
    return found


async def _leaks(page: Page, data: set[str]) -> dict[str, list[str]]:
    texts: list[str] = await page.evaluate(VISIBLE_TEXT)
    return {text: words for text in texts if (words := leaks(text, data))}


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/tabs/my-learning", "/api/me/learning"),
        ("/tabs/team", f"/api/teams/{TEAM}/view"),
        ("/tabs/organisation", "/api/organisation/view"),
    ],
    ids=["my-learning", "team", "organisation"],
)
async def test_in_the_pseudo_locale_every_page_string_comes_from_a_catalog(
    demo_server: TabServer, open_page: OpenPage, path: str, api: str
) -> None:
    await seed_team(demo_server)
    await assign(demo_server, "foundation", TEAM, days=10)
    body = await api_json(demo_server, api)
    data = curriculum_text(CURRICULUM) | _names(body) | {"AI Ready"}
    page, problems = await open_page(demo_server.url(f"{path}?locale=qps-ploc"))
    await ready(page)
    assert await page.evaluate("document.documentElement.lang") == "en-US"
    found = await _leaks(page, data)
    await screenshot(page, f"pseudo{path.replace('/', '-')}")
    assert not found, found
    no_problems(problems)


async def test_the_pseudo_locale_page_still_fits_a_side_panel(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    """Text 40 % longer must still wrap, not overflow, at Teams' narrowest width."""
    await seed_learner(demo_server, team_members()[0])
    page, problems = await open_page(
        demo_server.url("/tabs/my-learning?locale=qps-ploc"), viewport=SIDE_PANEL
    )
    await ready(page)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    no_problems(problems)


async def test_a_german_page_has_german_text_dates_and_numbers(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_learner(demo_server, team_members()[0])
    page, problems = await open_page(demo_server.url("/tabs/my-learning?locale=de-DE"))
    await ready(page)
    assert await page.evaluate("document.documentElement.lang") == "de-DE"
    with i18n.using(i18n.negotiate("de-DE")):
        title, button = i18n._("My learning"), i18n._("Continue in chat")
    assert title != "My learning" and button != "Continue in chat"
    await expect(page.locator("h1")).to_have_text(title)
    await expect(page.locator("#continue")).to_have_text(button)
    # Dates in the history table are German (day, then a German month abbreviation).
    cells = await page.locator("#history-table tbody td").all_inner_texts()
    months = r"(Jan|Feb|März|Apr|Mai|Juni|Juli|Aug|Sept|Okt|Nov|Dez)"
    assert any(re.search(r"\b\d{1,2}\. " + months, c) for c in cells), cells
    await screenshot(page, "german-my-learning")
    no_problems(problems)


async def test_the_api_answers_in_the_pages_language(demo_server: TabServer) -> None:
    """Server-written text (the calibration hint) follows the page's Accept-Language."""
    import aiohttp

    await seed_learner(demo_server, team_members()[0])
    english = await api_json(demo_server, "/api/me/learning")
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            demo_server.url("/api/me/learning"), headers={"Accept-Language": "de-DE,de;q=0.9"}
        ) as response,
    ):
        german = await response.json()
    assert german["calibration"]["hint"] != english["calibration"]["hint"]
    assert german["role"]["label"] != english["role"]["label"]  # "Führungskraft", not "Leader"


async def test_in_outlook_a_german_host_turns_an_english_page_german(
    teams_server: TabServer, open_in_teams: OpenInTeams, entra: LocalIdentityProvider
) -> None:
    """The browser asks for en-GB; Outlook's TeamsJS context says de-de: the tab reloads
    once in German and signs in again the same way."""
    await seed_learner(teams_server, replace(team_members()[4], user=MEMBER), TEAMS_TENANT)
    token = entra.sso_token(TEAMS_TENANT, MEMBER, "Priya Shah", aud=CLIENT_ID)
    context = {**legacy_context(MEMBER), "locale": "de-de"}
    host = await open_in_teams(
        teams_server, "/tabs/my-learning", context=context, token=token, host="Outlook"
    )
    tab = host.tab
    await expect(tab.locator("html")).to_have_attribute("lang", "de-DE", timeout=8000)
    await expect(tab.locator("#content")).to_be_visible(timeout=8000)
    assert "locale=de-de" in tab.url
    with i18n.using(i18n.negotiate("de-DE")):
        await expect(tab.locator("h1")).to_have_text(i18n._("My learning"))
    await screenshot(host.page, "in-outlook-german")
    no_problems(host.problems, *OFFLINE)
