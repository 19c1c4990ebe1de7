"""The programme admins' organisation page: the published figures as the API gives them, null
figures as "not enough responses yet", the downloads, the explanation for everyone else, and
the layout at 420 px, with axe-core in the three themes.

In demo mode the demo user is a programme admin. The organisation's snapshot is published on
the first view of the day, from learning seeded in past (closed) weeks through the real use
cases. Refusals and figures the seed can't produce are played by answering the API with a
Playwright route; the in-Teams tests use real signed tokens with and without the admin role.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from teams_app.domain.privacy import NOT_ENOUGH
from tests.browser.conftest import (
    CLIENT_ID,
    NARROW,
    OWNER,
    TEAM,
    TEAMS_TENANT,
    THEMES,
    WIDE,
    OpenInTeams,
    OpenPage,
    TabServer,
    api_json,
    assign,
    axe_violations,
    chart_tables,
    figures,
    legacy_context,
    no_problems,
    ready,
    screenshot,
    seed_team,
    shown,
)
from tests.support.idp import LocalIdentityProvider

pytestmark = pytest.mark.browser

ORG_API = "**/api/organisation/view"
PAGE = "/tabs/organisation"
LEVELS = ("gap", "developing", "mastered", "not_assessed")
UNSYNCED_GROUP = "cc000000-0000-4000-8000-0000000000cc"
WAITING = "waiting for the group's member list"
UNREAD = "member list not read yet"
CALIBRATION = {
    "calibrated": "Calibrated",
    "over-confident": "Over-confident",
    "under-confident": "Under-confident",
    "mixed": "Over- and under-confident",
    "unknown": "Too few answers yet",
}
# Teams' JS SDK looks up its host domains on Microsoft's CDN; this machine has no internet.
OFFLINE = ("validDomains", "net::ERR_NAME_NOT_RESOLVED")


async def seed_organisation(tabs: TabServer) -> dict[str, Any]:
    """The seeded team, two assignments (one to the team, one to a group whose member list
    was never read), the team's snapshot published (the leader opened the team view); then
    the organisation API's answer."""
    await seed_team(tabs)
    await assign(tabs, "foundation", TEAM, days=10)
    await assign(tabs, "finance", UNSYNCED_GROUP, days=30)
    await api_json(tabs, f"/api/teams/{TEAM}/view")
    body: dict[str, Any] = await api_json(tabs, "/api/organisation/view")
    return body


def finished(a: dict[str, Any]) -> str:
    """How the page words an assignment's completion."""
    if a["status"] == "syncing":
        return WAITING
    if a["status"] == "unavailable":
        return UNREAD
    if a["completed"] is None:
        return NOT_ENOUGH
    return f"{a['completed']} of {a['members']} finished"


async def text_of(page: Page, selector: str) -> str:
    return " ".join((await page.locator(selector).inner_text()).split())


# ------------------------------------------------------------------------- the figures


async def test_organisation_page_shows_the_published_figures_as_the_api_gives_them(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    body = await seed_organisation(demo_server)
    org, labels = body["view"], body["labels"]
    view = org["view"]
    assert view["published_on"] and view["members"], "the seed should publish figures"

    page, problems = await open_page(demo_server.url(PAGE))
    await ready(page)
    tables = await chart_tables(page)
    single = await figures(page)

    # When the figures are from, and up to which week.
    as_of = page.locator("#as-of")
    await expect(as_of).to_contain_text("Figures as of")
    await expect(as_of).to_contain_text(f"for weeks up to {view['week']}")
    assert await as_of.locator("time").first.get_attribute("datetime") == view["published_on"]

    # Adoption: a bar per step, and the same figures in a table anyone can open.
    assert tables["funnel"] == [[s["label"], shown(s["people"])] for s in org["funnel"]]
    funnel = page.locator("figure[data-chart='funnel']")
    toggle = funnel.get_by_text("Show the figures as a table")
    await expect(funnel.locator("details table")).to_be_hidden()
    await toggle.click()
    await expect(funnel.locator("details table")).to_be_visible()
    drawn = await funnel.locator("svg text").evaluate_all("t => t.map(e => e.textContent)")
    assert all(s["label"] in drawn for s in org["funnel"]), drawn

    # Participation and the weekly challenge, week by week.
    assert tables["participation"] == [[p["week"], shown(p["active"])] for p in view["trend"]]
    assert tables["challenges"] == [[c["week"], shown(c["people"])] for c in org["challenges"]]

    # Outcomes: hours saved with its method beside it, and the weekly pulse.
    assert single["hours_saved_per_month"] == shown(org["hours_saved_per_month"])
    await expect(page.locator("#hours-method")).to_have_text(org["hours_method"])
    for chart, key in (
        ("pulse-minutes", "minutes_saved"),
        ("pulse-confidence", "pulse_confidence"),
        ("pulse-caught", "caught_error"),
    ):
        assert tables[chart] == [
            [p["week"], shown(p[key]), shown(p["pulse_responses"])] for p in view["trend"]
        ], chart

    # Skill gaps and calibration, as on the team view.
    assert tables["skill-gaps"] == [
        [labels["skills"][r["skill"]], *(shown(r[k]) for k in LEVELS)] for r in view["skills"]
    ]
    assert [row[1:3] for row in tables["calibration"]] == [
        [shown(r["people"]), shown(r["accuracy_pct"], "%")] for r in view["confidence"]["levels"]
    ]
    calibration = view["confidence"]["calibration"]
    assert single["calibration"] == (CALIBRATION[calibration] if calibration else NOT_ENOUGH)
    # Calibration over time: a row per update of the figures, newest first.
    points = list(reversed(view["calibration_trend"]))
    assert points, "the seeded snapshot moved the confidence figures once"
    trend_rows = page.locator("#calibration-trend-table tbody tr")
    await expect(trend_rows).to_have_count(len(points))
    for row, p in zip(await trend_rows.all(), points, strict=True):
        assert await row.locator("time").get_attribute("datetime") == p["published_on"]
        label = CALIBRATION[p["calibration"]] if p["calibration"] else NOT_ENOUGH
        await expect(row.locator("td")).to_have_text(label)

    # Assignments: track, group, due date and how many finished, soonest due first.
    rows = page.locator("#assignments-table tbody tr")
    assignments = sorted(body["assignments"], key=lambda a: a["due"])
    assert [a["status"] for a in assignments] == ["ready", "unavailable"]  # no sync in demo
    await expect(rows).to_have_count(len(assignments))
    for row, a in zip(await rows.all(), assignments, strict=True):
        await expect(row.locator("th")).to_have_text(a["title"])
        await expect(row.locator("td").nth(0)).to_have_text(a["group"])
        assert await row.locator("time").get_attribute("datetime") == a["due"]
        await expect(row.locator("td").nth(2)).to_have_text(finished(a))
    assert assignments[0]["members"] is not None, "the team's snapshot is published"

    await expect(page.locator("#download-csv")).to_be_visible()
    await expect(page.locator("#download-json")).to_be_visible()
    no_problems(problems)


async def test_organisation_downloads_hold_the_same_figures(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    body = await seed_organisation(demo_server)
    page, problems = await open_page(demo_server.url(PAGE))
    await ready(page)

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download CSV").click()
    download = await info.value
    assert download.suggested_filename.startswith("ai-ready-organisation-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO((await download.path()).read_text())))
    hours = shown(body["view"]["hours_saved_per_month"])
    assert ["outcomes", "hours saved per month", "", hours, ""] in rows
    for step in body["view"]["funnel"]:
        assert ["adoption", step["label"], "", shown(step["people"]), ""] in rows

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download JSON").click()
    download = await info.value
    assert download.suggested_filename.endswith(".json")
    data = json.loads((await download.path()).read_text())
    assert data["format"] == "ai-ready-organisation/1"
    assert data["funnel"] == body["view"]["funnel"]
    assert data["view"]["week"] == body["view"]["view"]["week"]
    no_problems(problems)


def with_nulls(route_body: dict[str, Any]) -> dict[str, Any]:
    """The real answer with figures the seed can't hide: no hours, a hidden funnel step, no
    snapshot date, hidden calibration and one level's people, and no assignments key."""
    body = copy.deepcopy(route_body)
    org = body["view"]
    org["hours_saved_per_month"] = None
    org["funnel"][1]["people"] = None
    org["view"]["published_on"] = None
    org["view"]["confidence"]["calibration"] = None
    org["view"]["confidence"]["levels"][0]["people"] = None
    del body["assignments"]
    return body


async def test_hidden_organisation_figures_read_not_enough_responses_never_zero(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)

    served: list[dict[str, Any]] = []

    async def hide(route: Route) -> None:
        response = await route.fetch()
        served.append(with_nulls(await response.json()))
        await route.fulfill(response=response, json=served[-1])

    async def prepare(page: Page) -> None:
        await page.route(ORG_API, hide)

    page, problems = await open_page(demo_server.url(PAGE), prepare=prepare)
    await ready(page)
    single = await figures(page)
    tables = await chart_tables(page)

    assert single["hours_saved_per_month"] == NOT_ENOUGH
    assert single["calibration"] == NOT_ENOUGH
    assert tables["funnel"][1][1] == NOT_ENOUGH
    funnel = page.locator("figure[data-chart='funnel'] svg")
    hidden_steps = sum(step["people"] is None for step in served[-1]["view"]["funnel"])
    assert hidden_steps >= 1
    await expect(funnel.locator("g.c-hidden")).to_have_count(hidden_steps)
    assert tables["calibration"][0][1] == NOT_ENOUGH  # that level's people: hidden alone
    assert tables["calibration"][0][2] != NOT_ENOUGH  # its accuracy still shows
    await expect(page.locator("#as-of")).to_contain_text("not yet published")
    await expect(page.locator("#assignments")).to_have_text(
        "No track has been assigned to a team or group yet."
    )
    await expect(page.locator("#hours")).not_to_contain_text("0")
    no_problems(problems)


# ------------------------------------------------------------------------- who may see it


async def test_someone_without_the_admin_role_is_told_who_the_page_is_for(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    # The demo user is always a programme admin, so the API's refusal is played here; the
    # real one, from a signed token without the role, is in the in-Teams test below.
    async def refuse(route: Route) -> None:
        await route.fulfill(status=403, json={"error": "only programme admins can do this"})

    async def prepare(page: Page) -> None:
        await page.route(ORG_API, refuse)

    page, problems = await open_page(demo_server.url(f"{PAGE}?theme=contrast"), prepare=prepare)
    notice = page.locator("#not-admin")
    await expect(notice).to_contain_text("This page is for programme admins")
    await expect(notice).to_contain_text("AIReady.Admin app role")
    await expect(page.locator("#content")).to_be_hidden()
    await expect(page.locator("#export-links")).to_be_hidden()
    await expect(page.locator(".spinner")).to_have_count(0)
    await screenshot(page, "organisation-not-admin-contrast")
    report = await axe_violations(page)
    assert not report, f"axe found serious or critical violations:\n{report}"

    link = notice.get_by_role("link", name="Open My learning")
    assert await link.get_attribute("href") == "/tabs/my-learning?theme=contrast"
    await link.click()
    await expect(page.locator("#content")).to_be_visible()
    assert page.url == demo_server.url("/tabs/my-learning?theme=contrast")
    no_problems(problems, "403 (Forbidden)")


async def test_in_teams_only_a_programme_admin_sees_the_organisation(
    teams_server: TabServer, open_in_teams: OpenInTeams, entra: LocalIdentityProvider
) -> None:
    member = entra.sso_token(TEAMS_TENANT, OWNER, "Sam Lee", aud=CLIENT_ID)
    host = await open_in_teams(
        teams_server, PAGE, context=legacy_context(OWNER, theme="dark"), token=member
    )
    await expect(host.tab.locator("#not-admin")).to_be_visible(timeout=8000)
    await expect(host.tab.locator("#content")).to_be_hidden()
    no_problems(host.problems, *OFFLINE, "403 (Forbidden)")

    admin = entra.sso_token(TEAMS_TENANT, OWNER, "Sam Lee", aud=CLIENT_ID, roles=["AIReady.Admin"])
    host = await open_in_teams(
        teams_server, PAGE, context=legacy_context(OWNER, theme="dark"), token=admin
    )
    tab = host.tab
    await expect(tab.locator("#content")).to_be_visible(timeout=8000)
    await expect(tab.locator("html")).to_have_attribute("data-theme", "dark")
    # Nobody has learned anything in this tenant: every figure is hidden, none reads 0.
    assert (await figures(tab))["hours_saved_per_month"] == NOT_ENOUGH  # type: ignore[arg-type]
    # The download carries the Teams sign-in token (a plain link could not).
    async with host.page.expect_download() as info:
        await tab.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO((await (await info.value).path()).read_text())))
    assert ["outcomes", "hours saved per month", "", NOT_ENOUGH, ""] in rows
    await screenshot(host.page, "in-teams-organisation-dark")
    no_problems(host.problems, *OFFLINE)


# ------------------------------------------------------------------------- layout, axe


async def test_organisation_page_reflows_at_420_px(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_organisation(demo_server)
    page, problems = await open_page(demo_server.url(f"{PAGE}?theme=dark"), viewport=NARROW)
    await ready(page)
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the page scrolls sideways at 420 px"
    overflowing = await page.evaluate(
        """() => [...document.querySelectorAll('.card')].flatMap(card => {
            const box = card.getBoundingClientRect();
            return [...card.querySelectorAll('svg, table, dl, p')].filter(e => {
              if (e.closest('.visually-hidden')) return false;  // (clipped to 1 px)
              const r = e.getBoundingClientRect();
              return r.width && (r.left < box.left - 0.5 || r.right > box.right + 0.5);
            }).map(e => `${card.querySelector('h2')?.textContent}: ${e.tagName}`);
        })"""
    )
    assert overflowing == [], overflowing
    # The assignments table turns into one small card per assignment, each cell named.
    cells = page.locator("#assignments-table tbody td")
    labels = await cells.evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert set(labels) == {'"Team or group"', '"Due"', '"Finished"'}
    await screenshot(page, "organisation-420-dark")
    no_problems(problems)


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "420px"])
@pytest.mark.parametrize("theme", THEMES)
async def test_organisation_page_has_no_serious_accessibility_violations(
    demo_server: TabServer, open_page: OpenPage, theme: str, viewport: dict[str, int]
) -> None:
    await seed_organisation(demo_server)
    page, problems = await open_page(demo_server.url(f"{PAGE}?theme={theme}"), viewport=viewport)
    await ready(page)
    assert await page.evaluate("document.documentElement.dataset.theme") == theme
    await page.locator("figure[data-chart='funnel'] summary").click()  # the table too
    report = await axe_violations(page)
    assert not report, f"axe, organisation, {theme} theme, {viewport['width']} px:\n{report}"
    if viewport is WIDE:
        await screenshot(page, f"organisation-{theme}")
    no_problems(problems)
