"""The tab pages as a person sees them: headless Chromium against the real server.

Local-dev demo mode stands in for Teams sign-in (``AIREADY_DEV_DEMO_USER``); everything else
is the real app: templates, static files, JSON API, privacy rules, stores. Screenshots go to
``test-artifacts/screenshots/`` for a human look.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from server import keys
from teams_app.domain.learner import iso_week
from teams_app.domain.privacy import NOT_ENOUGH
from teams_app.domain.publication import Publication
from teams_app.domain.team import TeamSummary
from teams_app.storage.engine_ports import State
from teams_app.storage.ports import LearnerKey
from teams_app.storage.team_ports import TeamKey
from tests.browser.conftest import (
    CLIENT_ID,
    DEMO_USER,
    MEMBER,
    OWNER,
    SIDE_PANEL,
    TEAM,
    TEAMS_TENANT,
    TENANT,
    THEMES,
    VIEW_API,
    Member,
    OpenInTeams,
    OpenPage,
    StartServer,
    TabServer,
    TeamsHost,
    api_json,
    as_demo_user,
    axe_violations,
    chart_tables,
    figures,
    legacy_context,
    no_problems,
    ready,
    screenshot,
    seed_learner,
    seed_team,
    shown,
    tab_settings,
    team_members,
)
from tests.support.graph_server import LocalGraph
from tests.support.idp import LocalIdentityProvider

pytestmark = pytest.mark.browser

# Teams' JS SDK fetches its list of host domains from Microsoft's CDN when it loads (the CSP
# allows that one host). This machine has no internet, so the lookup fails and the SDK falls
# back to its built-in list; only an external host can fail name resolution here.
SDK_DOMAIN_LIST = "validDomains"
NO_INTERNET = "net::ERR_NAME_NOT_RESOLVED"


# ------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("theme", THEMES)
async def test_my_learning_renders_the_seeded_learner(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    await seed_learner(demo_server, team_members()[0])
    data = await api_json(demo_server, "/api/me/learning")

    page, problems = await open_page(demo_server.url(f"/tabs/my-learning?theme={theme}"))
    await ready(page)

    assert await page.evaluate("document.documentElement.dataset.theme") == theme
    await expect(page.locator("#role")).to_have_text(data["role"]["label"])
    await expect(page.locator("#next-lesson")).to_have_text(data["next_lesson"]["title"])
    await expect(page.locator("#streak")).to_have_text(str(data["streak_weeks"]))
    await expect(page.locator("#lessons-done")).to_have_text(f"{data['lessons_done']} lessons done")
    await expect(page.locator("#continue")).to_have_text("Continue in chat")
    await expect(page.locator("#history-table tbody tr")).to_have_count(len(data["history"]))
    for track in data["tracks"]:
        lessons = page.locator(f"section[aria-labelledby='track-{track['id']}'] li")
        await expect(lessons).to_have_count(len(track["lessons"]))
        done = [lesson["done"] for lesson in track["lessons"]]
        assert (
            await lessons.evaluate_all("l => l.map(e => e.classList.contains('is-done'))") == done
        )
    await expect(page.locator("#calibration-hint")).to_have_text(data["calibration"]["hint"])
    await screenshot(page, f"my-learning-{theme}")
    no_problems(problems)


async def test_my_learning_fits_a_narrow_side_panel(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_learner(demo_server, team_members()[0])
    page, problems = await open_page(
        demo_server.url("/tabs/my-learning?theme=dark"), viewport=SIDE_PANEL
    )
    await ready(page)
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the page scrolls sideways in a narrow panel"
    await screenshot(page, "my-learning-narrow-dark")
    # Demo mode has no bot registration, so no chat to open: the button says what it does.
    await page.locator("#continue").click()
    await expect(page.locator("#next-note")).to_have_text(
        "In Teams, this opens your chat with AI Ready."
    )
    assert len(page.context.pages) == 1
    no_problems(problems)


@pytest.mark.parametrize("theme", THEMES)
async def test_team_view_renders_the_seeded_team(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    await seed_team(demo_server)
    body = await api_json(demo_server, f"/api/teams/{TEAM}/view")
    assert body["status"] == "ready"
    view = body["view"]

    page, problems = await open_page(demo_server.url(f"/tabs/team?theme={theme}"))
    await ready(page)

    assert await page.evaluate("document.documentElement.dataset.theme") == theme
    tiles = await figures(page)
    assert tiles["members"] == shown(view["members"])
    assert tiles["started"] == shown(view["started"])
    assert tiles["not_started"] == shown(view["not_started"])
    assert tiles["active_last_week"] == shown(view["trend"][-1]["active"])
    assert tiles["lessons_completed"] == shown(view["learning"]["lessons_completed"])
    assert tiles["accuracy_pct"] == shown(view["learning"]["accuracy_pct"], "%")
    assert tiles["leaders"] == shown(view["leaders"]["leaders"])
    await expect(page.locator("#threshold-text")).to_contain_text(
        f"Figures appear when at least {view['threshold']} people contribute"
    )
    await expect(page.locator("#download-csv")).to_be_visible()
    await screenshot(page, f"team-{theme}")
    no_problems(problems)


async def test_a_leader_sends_the_team_a_challenge_from_the_page(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    members = await seed_team(demo_server)
    services = demo_server.app[keys.SERVICES]
    for member in members:
        key = LearnerKey(TENANT, member.user)
        reference = {"conversation": {"id": f"a:{member.user}"}, "serviceUrl": "http://x/"}
        await services.contacts.installed(key, reference, "i", "Europe/Berlin", welcome=False)
    listed = (await api_json(demo_server, f"/api/teams/{TEAM}/view"))["team_challenges"]
    suggested = next(c for c in listed if c["suggested"])

    page, problems = await open_page(demo_server.url("/tabs/team"))
    await ready(page)
    choice = page.locator("#team-challenge-choice")
    await expect(choice).to_have_value(suggested["id"])
    assert await choice.locator("option").count() == len(listed)
    await page.get_by_role("button", name="Send to the team").click()
    await expect(page.locator("#team-challenge-result")).to_contain_text(
        f'"{suggested["title"]}" is on its way'
    )
    week = iso_week(services.clock().date())  # a challenge goes out for the current week
    counts = await services.engine.ledger.counts(f"team-challenge-{week}")
    # One delivery per member, whatever state the in-web worker has already moved it to
    # (these made-up chats' host isn't allowed, so a delivery taken up ends "failed").
    assert sum(counts.get(s.value, 0) for s in State) == len(members), counts
    no_problems(problems)


async def test_team_view_fits_a_narrow_side_panel(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    page, problems = await open_page(demo_server.url("/tabs/team"), viewport=SIDE_PANEL)
    await ready(page)
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the page scrolls sideways in a narrow panel"
    await screenshot(page, "team-narrow-default")
    no_problems(problems)


# ------------------------------------------------------------------------- accessible figures


async def test_my_learning_charts_carry_tables_with_the_api_figures(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_learner(demo_server, as_demo_user(team_members()[3]))
    data = await api_json(demo_server, "/api/me/learning")
    page, _ = await open_page(demo_server.url("/tabs/my-learning"))
    await ready(page)
    tables = await chart_tables(page)

    assert tables["track-progress"] == [
        [t["title"], str(t["done"]), str(t["total"])] for t in data["tracks"]
    ]
    levels = {"gap": "Gap", "developing": "Developing", "mastered": "Mastered"}
    assert tables["skill-profile"] == [
        [
            s["name"],
            levels[s["baseline"]] if s["baseline"] else "not assessed",
            f"{s['baseline_right']} of {s['baseline_total']}" if s["baseline"] else "not assessed",
            f"{s['right']} of {s['answers']}" if s["answers"] else "no answers yet",
            {
                "calibrated": "Calibrated",
                "over-confident": "Over-confident",
                "under-confident": "Under-confident",
                "unknown": "Too few answers yet",
            }[s["calibration"]],
        ]
        for s in data["skills"]
    ]
    for chart in ("track-progress", "skill-profile"):
        svg = page.locator(f"figure[data-chart='{chart}'] svg")
        assert await svg.get_attribute("role") == "img"
        label = await svg.get_attribute("aria-label") or ""
        assert data["tracks"][0]["title"] in label or data["skills"][0]["name"] in label


async def test_team_charts_carry_tables_with_the_api_figures(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    view = (await api_json(demo_server, f"/api/teams/{TEAM}/view"))["view"]
    page, _ = await open_page(demo_server.url("/tabs/team"))
    await ready(page)
    tables = await chart_tables(page)
    names = {s.value: demo_server.curriculum.skill_name(s) for s in _skills(view)}
    titles = {t.id: t.title for t in demo_server.curriculum.tracks}

    assert tables["skill-gaps"] == [
        [
            names[r["skill"]],
            *(shown(r[k]) for k in ("gap", "developing", "mastered", "not_assessed")),
        ]
        for r in view["skills"]
    ]
    assert tables["track-completion"] == [
        [titles[r["track"]], shown(r["completed"])] for r in view["tracks"]
    ]
    assert tables["participation"] == [
        [p["week"], shown(p["active"]), shown(p["leaders_active"])] for p in view["trend"]
    ]
    # Per confidence level: how many people answered at it (people, not answers), and how
    # often those answers were right.
    assert [row[1:3] for row in tables["calibration"]] == [
        [shown(r["people"]), shown(r["accuracy_pct"], "%")] for r in view["confidence"]["levels"]
    ]
    for chart, key in (
        ("pulse-confidence", "pulse_confidence"),
        ("pulse-minutes", "minutes_saved"),
        ("pulse-caught", "caught_error"),
    ):
        assert tables[chart] == [
            [p["week"], shown(p[key]), shown(p["pulse_responses"])] for p in view["trend"]
        ], chart

    # Every hidden heatmap cell is drawn hatched with the words, and the summary says so too.
    hidden = sum(
        r[k] is None
        for r in view["skills"]
        for k in ("gap", "developing", "mastered", "not_assessed")
    )
    assert hidden > 0, "the seeded team should have suppressed skill cells"
    heatmap = page.locator("figure[data-chart='skill-gaps'] svg")
    await expect(heatmap.locator("g.c-hidden")).to_have_count(hidden)
    await expect(heatmap.locator("g.c-hidden text")).to_have_count(hidden)
    assert (await heatmap.get_attribute("aria-label") or "").count(NOT_ENOUGH) == hidden
    for figure_ in await page.locator("figure[data-chart]").all():
        svg = figure_.locator("svg")
        assert await svg.get_attribute("role") == "img"
        assert (await svg.get_attribute("aria-label") or "").strip()
        assert await figure_.locator("table caption").count() == 1


def _skills(view: dict[str, Any]) -> list[Any]:
    from teams_app.domain.content import SkillId

    return [SkillId(r["skill"]) for r in view["skills"]]


async def test_suppressed_figures_read_not_enough_responses_never_zero(
    start_server: StartServer, open_page: OpenPage
) -> None:
    tabs = await start_server(tab_settings())
    # Four members, one of whom has started: the team size shows, nothing else may.
    members = [
        Member(DEMO_USER, "leader", True, lessons=((0, ""),)),
        Member("00000001-aaaa-4bbb-8ccc-000000000001", "everyone", started=False),
        Member("00000001-aaaa-4bbb-8ccc-000000000002", "everyone", started=False),
        Member("00000001-aaaa-4bbb-8ccc-000000000003", "everyone", started=False),
    ]
    await seed_team(tabs, members)
    view = (await api_json(tabs, f"/api/teams/{TEAM}/view"))["view"]
    assert view["members"] == 4
    assert view["started"] is None and view["not_started"] is None
    assert view["learning"]["lessons_completed"] is None

    page, problems = await open_page(tabs.url("/tabs/team"))
    await ready(page)
    tiles = await figures(page)
    assert tiles["members"] == "4"
    for key in ("started", "not_started", "active_last_week", "lessons_completed", "accuracy_pct"):
        assert tiles[key] == NOT_ENOUGH, key
    assert tiles["calibration"] == NOT_ENOUGH
    tables = await chart_tables(page)
    cells = [cell for rows in tables.values() for row in rows for cell in row[1:]]
    assert NOT_ENOUGH in cells
    assert "0" not in cells, "a suppressed figure was shown as 0"
    await screenshot(page, "team-suppressed")
    no_problems(problems)


# ------------------------------------------------------------------------- your data


async def _tab_to(page: Page, element_id: str, limit: int = 80) -> list[str]:
    """Press Tab until ``element_id`` has focus; returns the ids passed on the way."""
    seen: list[str] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement && document.activeElement.id")
        seen.append(focused or "")
        if focused == element_id:
            return seen
    raise AssertionError(f"Tab never reached #{element_id}; went through {seen}")


async def test_keyboard_reaches_the_data_controls_and_the_dialog(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_learner(demo_server, as_demo_user(team_members()[3]))
    page, _ = await open_page(demo_server.url("/tabs/my-learning"))
    await ready(page)

    seen = await _tab_to(page, "download-data")
    assert seen[0] == "", "the skip link comes first"
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    await _tab_to(page, "delete-data", limit=1)

    await page.keyboard.press("Enter")
    dialog = page.locator("#delete-dialog")
    await expect(dialog).to_be_visible()
    assert await dialog.evaluate("d => d.open && d.matches(':modal')")
    assert await page.evaluate("document.activeElement.id") == "delete-cancel"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "delete-confirm"
    await screenshot(page, "my-learning-delete-dialog")

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("document.activeElement.id") == "delete-data"
    assert await demo_server.store.get_profile(LearnerKey(TENANT, DEMO_USER)) is not None


async def live_figures(tabs: TabServer) -> TeamSummary:
    """The demo team's live sums (what the next snapshot is taken from), through the team
    store's publish port with a decision that publishes nothing."""
    seen: list[TeamSummary] = []

    def look(live: TeamSummary, _publication: Publication) -> None:
        seen.append(live)

    await tabs.teams.publish(TeamKey(TENANT, TEAM), look)
    return seen[-1]


async def test_delete_my_data_end_to_end(demo_server: TabServer, open_page: OpenPage) -> None:
    await seed_team(demo_server)
    key = LearnerKey(TENANT, DEMO_USER)
    before = await api_json(demo_server, "/api/me/learning")
    assert before["lessons_done"] > 0 and before["history"]
    team_before = await live_figures(demo_server)

    page, problems = await open_page(demo_server.url("/tabs/my-learning"))
    await ready(page)
    await page.locator("#delete-data").click()
    await expect(page.locator("#delete-dialog")).to_be_visible()
    await page.get_by_role("button", name="Delete everything").click()

    notice = page.locator("#deleted-notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("Your data is deleted")
    await expect(page.locator("#delete-dialog")).to_be_hidden()
    assert await page.evaluate("document.activeElement.id") == "deleted-notice"
    await expect(page.locator("#role")).to_have_text("Not chosen yet")
    await expect(page.locator("#history")).to_contain_text("Nothing yet")
    await screenshot(page, "my-learning-deleted")

    after = await api_json(demo_server, "/api/me/learning")
    assert after["role"] is None
    assert after["lessons_done"] == 0
    assert after["history"] == []
    assert after["streak_weeks"] == 0
    assert all(t["done"] == 0 for t in after["tracks"])
    assert all(s["baseline"] is None and s["answers"] == 0 for s in after["skills"])
    assert await demo_server.store.get_profile(key) is None
    assert await demo_server.store.list_attempts(key) == []
    # They stay on the team's roster (it comes from the directory), contributing nothing.
    assert await demo_server.teams.teams_of(TENANT, DEMO_USER) == [TEAM]
    team_after = await live_figures(demo_server)
    assert team_after.members == team_before.members
    assert team_after.started == team_before.started - 1
    assert team_after.lessons_completed == team_before.lessons_completed - before["lessons_done"]
    no_problems(problems)


async def test_download_my_data(demo_server: TabServer, open_page: OpenPage) -> None:
    await seed_learner(demo_server, as_demo_user(team_members()[3]))
    page, problems = await open_page(demo_server.url("/tabs/my-learning"))
    await ready(page)
    async with page.expect_download() as info:
        await page.locator("#download-data").click()
    download = await info.value
    assert download.suggested_filename == "ai-ready-my-data.json"
    data = json.loads((await download.path()).read_text())
    assert data["user_id"] == DEMO_USER
    assert data["profile"] is not None
    assert len(data["history"]) == len((await api_json(demo_server, "/api/me/learning"))["history"])
    await expect(page.locator("#data-result")).to_contain_text("Downloaded ai-ready-my-data.json")
    no_problems(problems)


# ------------------------------------------------------------------------- team CSV


async def test_team_csv_download_matches_the_page(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    page, problems = await open_page(demo_server.url("/tabs/team"))
    await ready(page)
    async with page.expect_download() as info:
        await page.locator("#download-csv").click()
    download = await info.value
    assert download.suggested_filename.startswith("ai-ready-team-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO((await download.path()).read_text())))
    assert rows[0] == ["section", "item", "week", "value", "contributors"]

    tiles = await figures(page)
    tables = await chart_tables(page)
    threshold_note = await page.locator("#threshold-text").inner_text()
    published = await page.locator("#footer-note time").get_attribute("datetime")
    calibration_points = {
        await row.locator("time").get_attribute("datetime"): await row.locator("td").inner_text()
        for row in await page.locator("#calibration-trend-table tbody tr").all()
    }

    def row_of(chart: str, first: str) -> list[str]:
        found = [r for r in tables[chart] if r[0] == first]
        assert found, f"no row {first!r} in the {chart} table"
        return found[0]

    def on_page(section: str, item: str, week: str) -> str | None:
        """What the page shows for one CSV figure (None: the CSV row has no page twin)."""
        if section == "about":  # the privacy rule, and the snapshot's date
            if item == "figures as of":
                return published
            rule = f"at least {item.split()[4]} people" in threshold_note  # "… than 3 people …"
            return NOT_ENOUGH if rule and NOT_ENOUGH in threshold_note else None
        simple = {
            ("team", "members"): "members",
            ("participation", "started"): "started",
            ("participation", "not started"): "not_started",
            ("learning", "lessons completed"): "lessons_completed",
            ("learning", "quiz answers right %"): "accuracy_pct",
            ("confidence", "calibration"): "calibration",
            ("leaders", "leaders"): "leaders",
            ("leaders", "started"): "leaders_started",
            ("leaders", "active"): "leaders_active_last_week",
            ("leaders", "did the week's challenge"): "leaders_challenge_last_week",
        }
        if (section, item) in simple:
            return tiles[simple[section, item]]
        # Shown as small print next to a figure they gate: absent when that one is hidden.
        gated = {
            ("learning", "quiz score counting confidence %"): ("mark_pct", "accuracy_pct"),
            ("learning", "people who finished a lesson"): ("learners", "lessons_completed"),
            ("confidence", "people who rated their confidence"): ("answerers", "calibration"),
        }
        if (section, item) in gated:
            own, gate = gated[section, item]
            return tiles.get(own, tiles[gate])
        if section == "tracks":  # (named as on the page)
            return row_of("track-completion", item)[1]
        if section == "skills":
            skill, level = item.split(": ")
            columns = {"gap": 1, "developing": 2, "mastered": 3, "not assessed yet": 4}
            return row_of("skill-gaps", skill)[columns[level]]
        if section == "confidence":
            level, what = item.split(": ")
            column = {"people": 1, "answers right %": 2}[what]
            return row_of("calibration", level.capitalize())[column]  # "Low confidence"
        if section == "calibration over time":  # the week column holds the update's date
            return calibration_points.get(week)
        if section == "weekly":
            chart, column = {
                "active": ("participation", 1),
                "leaders active": ("participation", 2),
                "pulse answers": ("pulse-minutes", 2),
                "confidence using AI (1-5)": ("pulse-confidence", 1),
                "minutes saved per person": ("pulse-minutes", 1),
                "caught an AI error": ("pulse-caught", 1),
            }[item]
            return row_of(chart, week)[column]
        return None

    checked = 0
    for section, item, week, value, _contributors in rows[1:]:
        text = on_page(section, item, week)
        assert text is not None, f"the CSV has {section}/{item}, the page does not"
        if value == NOT_ENOUGH:
            assert text == NOT_ENOUGH, (section, item, week, text)
        elif (section, item) in (
            ("confidence", "calibration"),
            ("about", "figures as of"),
            ("calibration over time", "calibration"),
        ):
            assert text.lower() == value.lower(), (item, text)
        else:
            number = text.replace("%", "").replace(",", "")
            assert float(number) == pytest.approx(float(value)), (section, item, week, text, value)
        checked += 1
    assert checked == len(rows) - 1 > 60
    no_problems(problems)


# ------------------------------------------------------------------------- states


async def test_outside_teams_without_demo_mode_says_to_open_it_in_teams(
    start_server: StartServer, open_page: OpenPage
) -> None:
    tabs = await start_server(tab_settings(demo=False))
    started = time.monotonic()
    page, problems = await open_page(tabs.url("/tabs/my-learning"))
    message = page.get_by_text(
        "Open AI Ready in Microsoft Teams to see this page (Apps → AI Ready → My learning)"
    )
    await expect(message).to_be_visible(timeout=4000)
    assert time.monotonic() - started < 4.5
    await expect(page.locator("#content")).to_have_count(0)
    await screenshot(page, "my-learning-outside-teams")

    team, _ = await open_page(tabs.url("/tabs/team"))
    await expect(
        team.get_by_text("Open AI Ready in Microsoft Teams to see this page")
    ).to_be_visible(timeout=4000)
    no_problems(problems, SDK_DOMAIN_LIST, NO_INTERNET)


async def test_team_view_while_the_first_roster_sync_runs(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    # Demo mode has no directory to sync from: the API answers "syncing" until the roster
    # arrives, then the real answer goes through.
    synced = False

    async def view(route: Route) -> None:
        if synced:
            await route.continue_()
        else:
            await route.fulfill(json={"status": "syncing", "refreshing": True, "view": None})

    page, problems = await open_page(
        demo_server.url("/tabs/team?theme=dark"), prepare=lambda p: p.route(VIEW_API, view)
    )
    await expect(page.locator("#syncing")).to_contain_text(
        "Collecting your team's figures: AI Ready is reading the team's member list."
    )
    await expect(page.locator("#content")).to_be_hidden()
    await screenshot(page, "team-syncing-dark")

    await seed_team(demo_server)  # the roster arrives
    synced = True
    await page.get_by_role("button", name="Refresh").click()
    await ready(page)
    await expect(page.locator("#syncing")).to_have_count(0)
    no_problems(problems)


async def test_team_configuration_page_explains_the_tab(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    page, problems = await open_page(demo_server.url("/tabs/team/config?theme=contrast"))
    await expect(page.locator("#config-text")).to_have_text(
        "Adds the AI Ready team view: participation, skills and confidence as group figures; "
        "only team owners and designated leaders can open it."
    )
    await expect(page.locator("h1")).to_be_visible()
    await screenshot(page, "team-config-contrast")
    no_problems(problems)


# ------------------------------------------------------------------------- inside Teams


async def _until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_in_teams_my_learning_signs_in_and_follows_the_teams_theme(
    teams_server: TabServer,
    open_in_teams: OpenInTeams,
    entra: LocalIdentityProvider,
    directory_server: LocalGraph,
) -> None:
    directory_server.add_user(
        TEAMS_TENANT, MEMBER, "Priya Shah", department="Finance", job_title="Analyst"
    )
    await seed_learner(teams_server, replace(team_members()[4], user=MEMBER), TEAMS_TENANT)
    token = entra.sso_token(TEAMS_TENANT, MEMBER, "Priya Shah", aud=CLIENT_ID)

    host = await open_in_teams(
        teams_server, "/tabs/my-learning", context=legacy_context(MEMBER, theme="dark"), token=token
    )
    tab = host.tab
    await expect(tab.locator("#content")).to_be_visible(timeout=8000)
    await expect(tab.locator("html")).to_have_attribute("data-theme", "dark")
    await expect(tab.locator("#greeting")).to_contain_text("Hi Priya.")
    await expect(tab.locator("#role")).to_have_text("HR")
    await expect(tab.locator("#role-suggestion")).to_have_text(
        "Your directory profile suggests Finance."
    )
    assert await host.calls("authentication.getAuthToken")
    await screenshot(host.page, "in-teams-my-learning-dark")

    await host.page.evaluate("changeTheme('contrast')")  # the user switches Teams' theme
    await expect(tab.locator("html")).to_have_attribute("data-theme", "contrast")

    await expect(tab.locator("body")).to_have_attribute("data-host", "Teams")
    await expect(tab.locator("#continue")).to_have_text("Continue in chat")
    await tab.locator("#continue").click()
    await _until(lambda: _has_calls(host, "executeDeepLink"), "the deep link")
    assert await host.calls("executeDeepLink") == [[CHAT_URL]]
    no_problems(host.problems, SDK_DOMAIN_LIST, NO_INTERNET)


async def _has_calls(host: TeamsHost, func: str) -> bool:
    return bool(await host.calls(func))


# ------------------------------------------------------------------------- Outlook, Microsoft 365
#
# The personal tab is extended to Outlook and the Microsoft 365 app (TeamsJS host names
# "Outlook" and "Office"): the same page, the same SSO token path; the bot's chat still lives
# in Teams, so its deep link goes to the host through TeamsJS (app.openLink → executeDeepLink).

CHAT_URL = f"https://teams.microsoft.com/l/chat/0/0?users=28:{CLIENT_ID}"


async def _open_my_learning_in(
    host_name: str,
    client_type: str,
    teams_server: TabServer,
    open_in_teams: OpenInTeams,
    entra: LocalIdentityProvider,
) -> TeamsHost:
    await seed_learner(teams_server, replace(team_members()[4], user=MEMBER), TEAMS_TENANT)
    token = entra.sso_token(TEAMS_TENANT, MEMBER, "Priya Shah", aud=CLIENT_ID)
    host = await open_in_teams(
        teams_server,
        "/tabs/my-learning",
        context=legacy_context(MEMBER),
        token=token,
        host=host_name,
        client_type=client_type,
    )
    await expect(host.tab.locator("#content")).to_be_visible(timeout=8000)
    return host


@pytest.mark.parametrize(
    ("host_name", "client_type"),
    [("Outlook", "desktop"), ("Office", "web")],
    ids=["outlook-desktop", "microsoft-365-app-web"],
)
async def test_in_outlook_and_the_microsoft_365_app_my_learning_opens_the_chat_in_teams(
    teams_server: TabServer,
    open_in_teams: OpenInTeams,
    entra: LocalIdentityProvider,
    host_name: str,
    client_type: str,
) -> None:
    host = await _open_my_learning_in(host_name, client_type, teams_server, open_in_teams, entra)
    tab = host.tab
    await expect(tab.locator("#greeting")).to_contain_text("Hi Priya.")
    await expect(tab.locator("#role")).to_have_text("HR")
    assert await host.calls("authentication.getAuthToken")  # the same SSO token path
    await expect(tab.locator("body")).to_have_attribute("data-host", host_name)
    seen = await tab.evaluate(
        "microsoftTeams.app.getContext().then(c => [c.app.host.name, c.app.host.clientType])"
    )
    assert seen == [host_name, client_type]

    chat = tab.get_by_role("link", name="Open the chat in Teams")
    await expect(chat).to_have_attribute("href", CHAT_URL)  # the fallback outside a host
    await screenshot(host.page, f"in-{host_name.lower()}-my-learning")
    await chat.click()
    await _until(lambda: _has_calls(host, "executeDeepLink"), "the deep link")
    assert await host.calls("executeDeepLink") == [[CHAT_URL]]
    assert tab.url == "https://ai-ready.test/tabs/my-learning"  # the tab itself stays
    no_problems(host.problems, SDK_DOMAIN_LIST, NO_INTERNET)


async def test_in_outlook_my_learning_has_no_serious_accessibility_violations(
    teams_server: TabServer, open_in_teams: OpenInTeams, entra: LocalIdentityProvider
) -> None:
    host = await _open_my_learning_in("Outlook", "web", teams_server, open_in_teams, entra)
    await host.tab.wait_for_function(
        "[...document.querySelectorAll('figure[data-chart]')]"
        ".every(f => f.querySelector('svg[role=img]'))"
    )
    report = await axe_violations(host.tab)
    assert not report, f"axe, My learning in Outlook:\n{report}"
    no_problems(host.problems, SDK_DOMAIN_LIST, NO_INTERNET)


async def test_in_teams_a_team_owner_sees_the_team_once_its_roster_is_synced(
    teams_server: TabServer,
    open_in_teams: OpenInTeams,
    entra: LocalIdentityProvider,
    directory_server: LocalGraph,
) -> None:
    group = "bb000000-0000-4000-8000-0000000000aa"
    people = [replace(m, user=OWNER if m.user == DEMO_USER else m.user) for m in team_members()]
    for member in people:
        await seed_learner(teams_server, member, TEAMS_TENANT)
    directory_server.add_group(
        TEAMS_TENANT, group, owners=[OWNER], members=[m.user for m in people]
    )
    token = entra.sso_token(TEAMS_TENANT, OWNER, "Sam Lee", aud=CLIENT_ID)

    host = await open_in_teams(
        teams_server, "/tabs/team", context=legacy_context(OWNER, group=group), token=token
    )
    tab = host.tab
    syncing = tab.locator("#syncing")
    await expect(syncing).to_contain_text("Collecting your team's figures", timeout=8000)
    await screenshot(host.page, "in-teams-team-syncing")

    async def refreshed() -> bool:
        if await tab.locator("#content").is_visible():
            return True
        if await tab.get_by_role("button", name="Refresh").is_visible():
            await tab.get_by_role("button", name="Refresh").click()
        await asyncio.sleep(0.2)
        return False

    await _until(refreshed, "the team figures after the roster sync", seconds=10)
    tiles = await figures(tab)  # type: ignore[arg-type]
    assert tiles["members"] == str(len(people))
    assert tiles["leaders"] == NOT_ENOUGH  # one owner: fewer leaders than the threshold

    async with host.page.expect_download() as info:
        await tab.locator("#download-csv").click()
    rows = list(csv.reader(io.StringIO((await (await info.value).path()).read_text())))
    assert ["team", "members", "", str(len(people)), ""] in rows
    await screenshot(host.page, "in-teams-team-default")
    no_problems(host.problems, SDK_DOMAIN_LIST, NO_INTERNET)


async def test_in_teams_a_member_who_does_not_lead_the_team_is_refused(
    teams_server: TabServer,
    open_in_teams: OpenInTeams,
    entra: LocalIdentityProvider,
    directory_server: LocalGraph,
) -> None:
    group = "bb000000-0000-4000-8000-0000000000bb"
    directory_server.add_group(TEAMS_TENANT, group, owners=[OWNER], members=[OWNER, MEMBER])
    token = entra.sso_token(TEAMS_TENANT, MEMBER, "Priya Shah", aud=CLIENT_ID)
    host = await open_in_teams(
        teams_server, "/tabs/team", context=legacy_context(MEMBER, group=group), token=token
    )
    tab = host.tab
    await expect(
        tab.get_by_text(
            "This view is for the team's owners and the leaders designated for this team."
        )
    ).to_be_visible(timeout=8000)
    await expect(tab.locator("#content")).to_be_hidden()
    await expect(tab.locator("#download-csv")).to_be_hidden()
    await screenshot(host.page, "in-teams-team-refused")

    # The way onward: their own page, opened in the same tab frame with the same sign-in.
    await tab.get_by_role("link", name="Open My learning").click()
    await expect(host.tab.locator("#content")).to_be_visible(timeout=8000)
    assert host.tab.url == "https://ai-ready.test/tabs/my-learning"
    await expect(host.tab.locator("#page-title")).to_have_text("My learning")
    no_problems(host.problems, SDK_DOMAIN_LIST, NO_INTERNET, "403 (Forbidden)")


async def test_in_teams_a_refused_sign_in_asks_to_sign_in_again(
    teams_server: TabServer, open_in_teams: OpenInTeams, entra: LocalIdentityProvider
) -> None:
    expired = entra.sso_token(TEAMS_TENANT, MEMBER, "Priya Shah", aud=CLIENT_ID, lifetime=-600)
    host = await open_in_teams(
        teams_server, "/tabs/my-learning", context=legacy_context(MEMBER), token=expired
    )
    await expect(host.tab.get_by_text("Please sign in again")).to_be_visible(timeout=8000)
    await expect(host.tab.locator("#content")).to_be_hidden()
    # One fresh token was asked for before giving up.
    assert len(await host.calls("authentication.getAuthToken")) == 2


async def test_in_teams_the_configuration_page_saves_the_team_tab(
    teams_server: TabServer, open_in_teams: OpenInTeams
) -> None:
    host = await open_in_teams(
        teams_server,
        "/tabs/team/config",
        context=legacy_context(OWNER, group="bb000000-0000-4000-8000-0000000000cc"),
        token=None,
        frame_context="settings",
    )
    await _until(lambda: _has_calls(host, "settings.setValidityState"), "the validity state")
    assert await host.calls("settings.setValidityState") == [[True]]
    await host.page.evaluate("pressSave()")
    await _until(lambda: _has_calls(host, "settings.save.success"), "the save to succeed")
    [[settings]] = await host.calls("settings.setSettings")
    assert settings == {
        "entityId": "ai-ready-team",
        "contentUrl": "https://ai-ready.test/tabs/team?locale={locale}",  # Teams fills it
        "websiteUrl": "https://ai-ready.test/tabs/team",
        "suggestedDisplayName": "AI Ready team",
    }
    await screenshot(host.page, "in-teams-team-config")
    no_problems(host.problems, SDK_DOMAIN_LIST, NO_INTERNET)
