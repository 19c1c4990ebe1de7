"""Fixtures for the tab pages in a real browser.

The real server (``server.app.create_app``) runs on a loopback port in local-dev demo mode
(``AIREADY_DEV_DEMO_USER``), so the pages work in a plain browser with no Teams. Data is
seeded through the learner's real use cases (:class:`teams_app.learning.LearningService`:
role, skills check, lessons, pulse), whose write-time hook keeps the team figures current;
team rosters go through the team store's public ``replace_roster``. Pages are driven by
Playwright on the machine's Chromium (never a downloaded browser), headless.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Frame, Page, Route, async_playwright, expect

from server import keys
from server.app import create_app
from server.config import Settings, load_settings
from server.tab_auth import TabTokenValidator
from server.tabs import DEMO_TEAM
from teams_app.adapters.http import OutboundHttp
from teams_app.directory import GraphDirectory
from teams_app.domain.content import Curriculum, Question, QuestionType, SkillId
from teams_app.domain.learner import ActivityKind
from teams_app.domain.privacy import NOT_ENOUGH
from teams_app.domain.team import Contribution
from teams_app.learning import LearningService, Turn
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from teams_app.storage.team_memory import MemoryTeamStore
from teams_app.storage.team_ports import TeamKey
from tests.support.graph_server import LocalGraph
from tests.support.idp import LocalIdentityProvider, TestCA

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm devDependency
CHROMIUM = Path("/usr/bin/chromium")
# From ../shared/TOOLBOX.md: what Chromium needs to run headless here, with no network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

TENANT = "5a0c9e3f-2b7d-4e1a-8c6f-9d3b2a1e0f4c"
DEMO_USER = "e7d1c2b3-a4f5-4e6d-9c8b-7a6f5e4d3c2b"
TEAM = DEMO_TEAM
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 420, "height": 900}
SIDE_PANEL = {"width": 360, "height": 800}
THEMES = ("default", "dark", "contrast")
VIEW_API = "**/api/teams/*/view"


def tab_settings(*, demo: bool = True, min_group: int = 3) -> Settings:
    """Local-dev settings; ``demo`` adds the demo-user switch (pages work without Teams)."""
    env = {
        "AIREADY_ENV": "development",
        "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
        "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        "AIREADY_MIN_GROUP_SIZE": str(min_group),
    }
    if demo:
        env["AIREADY_DEV_DEMO_USER"] = f"{TENANT}/{DEMO_USER}"
    return load_settings(env)


# ------------------------------------------------------------------------- learning flow


def _respond(question: Question, right: bool) -> str:
    """The response a learner who is (not) right would send from the card."""
    if question.type is QuestionType.SHORT:
        return question.answers[0] if right else "no idea"
    return str(next(i for i, o in enumerate(question.options) if o.correct is right))


@dataclass
class Learner:
    """One learner going through the real use cases, as their card clicks would."""

    service: LearningService
    store: MemoryLearnerStore
    curriculum: Curriculum
    key: LearnerKey

    def turn(self, day: date) -> Turn:
        return Turn(self.key, datetime.combine(day, time(12), UTC), day)

    async def _activity(self) -> Any:
        stored = await self.store.get_profile(self.key)
        assert stored is not None and stored.state.activity is not None
        return stored.state.activity

    async def choose_role(self, role: str, day: date) -> None:
        await self.service.choose_role(self.turn(day), {"role": role})

    async def _answer_all(
        self, day: date, choose: Callable[[SkillId, int], tuple[bool, str]]
    ) -> None:
        """Answer every question of the current activity; ``choose(skill, n)`` gives
        (answer right?, confidence) for the n-th answer."""
        for n in itertools.count():
            stored = await self.store.get_profile(self.key)
            assert stored is not None
            activity = stored.state.activity
            if activity is None:
                return
            asked = activity.current_question_id or ""
            if activity.kind is ActivityKind.ASSESSMENT:
                item = self.curriculum.item(asked)
                assert item is not None
                question, skill = item.question, item.skill
            else:
                lesson = self.curriculum.lesson(activity.lesson_id or "")
                assert lesson is not None
                question = next(q for q in lesson.questions if q.id == asked)
                skill = lesson.skill
            right, confidence = choose(skill, n)
            await self.service.answer(
                self.turn(day),
                {
                    "kind": activity.kind.value,
                    "attempt": activity.attempt,
                    "question": question.id,
                    "answer": _respond(question, right),
                    "confidence": confidence,
                },
            )

    async def skills_check(
        self, skills: dict[str, int], day: date, confidence: Iterable[str] = ("high",)
    ) -> None:
        """The skills check: the first ``skills[skill]`` questions of each skill right.

        One right of two is answered as someone developing would (sure of the right one,
        unsure of the other), so certainty-based marking places them as developing.
        """
        asked: dict[SkillId, int] = {}
        levels = itertools.cycle(confidence)

        def choose(skill: SkillId, _n: int) -> tuple[bool, str]:
            asked[skill] = asked.get(skill, 0) + 1
            wanted = skills.get(skill.value, 0)
            right = asked[skill] <= wanted
            if wanted == 1:
                return right, "high" if right else "low"
            return right, next(levels)

        await self.service.start_assessment(self.turn(day))
        await self._answer_all(day, choose)

    async def lesson(
        self,
        day: date,
        *,
        lesson_id: str = "",
        wrong: int = 0,
        confidence: Iterable[str] = ("high",),
    ) -> None:
        """A lesson read and answered (the first ``wrong`` questions answered wrongly)."""
        await self.service.start_lesson(self.turn(day), {"lesson": lesson_id})
        activity = await self._activity()
        await self.service.start_quiz(self.turn(day), {"attempt": activity.attempt})
        levels = itertools.cycle(confidence)
        await self._answer_all(day, lambda _skill, n: (n >= wrong, next(levels)))

    async def pulse(self, day: date, confidence: int, minutes: int, caught: bool) -> None:
        week = f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"
        await self.service.submit_pulse(
            self.turn(day),
            {
                "week": week,
                "confidence": str(confidence),
                "minutes": str(minutes),
                "caught": "yes" if caught else "no",
            },
        )


def weeks_ago(n: int) -> date:
    """A Wednesday ``n`` weeks before this week (inside that ISO week)."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    day = monday - timedelta(weeks=n) + timedelta(days=2)
    return min(day, today)


@dataclass
class TabServer:
    """The real app on a loopback port, with its in-memory stores."""

    server: TestServer
    store: MemoryLearnerStore
    teams: MemoryTeamStore
    settings: Settings

    @property
    def app(self) -> web.Application:
        return self.server.app

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    @property
    def service(self) -> LearningService:
        return self.app[keys.SERVICES].learning

    @property
    def curriculum(self) -> Curriculum:
        return self.app[keys.SERVICES].curriculum

    def learner(self, user: str, tenant: str = TENANT) -> Learner:
        return Learner(self.service, self.store, self.curriculum, LearnerKey(tenant, user))

    async def roster(self, members: dict[str, bool], team: str = TEAM) -> None:
        """Put ``members`` (user id → is a leader) on the demo tenant's team, as a roster
        sync would."""
        await self.teams.replace_roster(
            TeamKey(TENANT, team),
            {user: Contribution(leader=leader) for user, leader in members.items()},
            datetime.now(UTC),
        )


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[..., Awaitable[TabServer]]]:
    """``await start_server(settings, **overrides)`` → the real app serving on 127.0.0.1."""
    running: list[TestServer] = []

    async def start(settings: Settings, **overrides: Any) -> TabServer:
        store, teams = MemoryLearnerStore(), MemoryTeamStore()
        overrides.setdefault("engine", memory_engine())
        app = create_app(settings, store=store, team_store=teams, **overrides)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        running.append(server)
        if settings.dev_demo_user is not None:  # as a programme admin would: the demo user
            await teams.designate(TeamKey(TENANT, TEAM), frozenset({DEMO_USER}))  # leads
        return TabServer(server, store, teams, settings)

    yield start
    for server in running:
        await server.close()


@pytest.fixture
async def demo_server(start_server: Callable[..., Awaitable[TabServer]]) -> TabServer:
    """Demo mode; the demo user is a designated leader."""
    return await start_server(tab_settings())


# ------------------------------------------------------------------------- seeded data


@dataclass(frozen=True)
class Member:
    """A made-up team member and what they do (weeks are counted back from this week).

    ``skills`` maps a skill to how many of its two skills-check questions are answered
    right (2 mastered, 1 developing, 0 gap).
    """

    user: str
    role: str
    leader: bool = False
    skills: dict[str, int] = field(default_factory=dict)
    lessons: tuple[tuple[int, str], ...] = ()  # (weeks ago, lesson id or "" for the next)
    confidence: tuple[str, ...] = ("high",)
    pulses: tuple[tuple[int, int, int, bool], ...] = ()  # (weeks ago, 1-5, minutes, caught)
    started: bool = True


LEADER_LESSONS = (
    "leaders-lead-by-example",
    "leaders-choosing-use-cases",
    "leaders-measuring-outcomes",
    "leaders-governance",
    "leaders-calibrating-trust",
)


def _user(n: int) -> str:
    return f"0000000{n:x}-1111-4222-8333-444455556666"


def _skills(ai: int, prompting: int, data: int, critical: int) -> dict[str, int]:
    return {
        "ai-literacy": ai,
        "prompting": prompting,
        "data-interpretation": data,
        "critical-thinking": critical,
    }


def _next(*weeks: int) -> tuple[tuple[int, str], ...]:
    return tuple((w, "") for w in weeks)


def team_members() -> list[Member]:
    """Thirteen members: three leaders (the demo user among them), seven learners and three
    who have not started. Varied so that most figures show and a few stay suppressed."""
    lead = tuple(zip((6, 4, 3, 1, 0), LEADER_LESSONS, strict=True))
    return [
        Member(
            DEMO_USER,
            "leader",
            True,
            _skills(2, 2, 1, 1),
            (*lead, (0, "")),
            ("high", "medium"),
            ((0, 4, 60, True), (1, 4, 45, False), (2, 3, 30, False), (3, 3, 20, False)),
        ),
        Member(
            _user(1),
            "leader",
            True,
            _skills(2, 1, 0, 1),
            lead,
            ("medium", "high"),
            ((0, 3, 30, False), (1, 3, 20, True), (2, 3, 15, False), (3, 2, 10, False)),
        ),
        Member(
            _user(2),
            "leader",
            True,
            _skills(0, 2, 0, 2),
            tuple((max(0, w - 1), lesson) for w, lesson in lead),
            ("high",),
            ((0, 5, 90, True), (1, 4, 60, False), (2, 4, 40, False), (3, 3, 30, True)),
        ),
        Member(
            _user(3),
            "finance",
            False,
            _skills(1, 1, 2, 0),
            _next(5, 4, 2, 1, 0),
            ("high", "medium"),
            (
                (0, 4, 45, True),
                (1, 4, 30, False),
                (2, 3, 30, False),
                (3, 3, 15, False),
                (4, 3, 10, False),
                (5, 2, 5, False),
            ),
        ),
        Member(
            _user(4),
            "hr",
            False,
            _skills(1, 0, 0, 1),
            _next(5, 3, 1),
            ("low", "medium"),
            (
                (0, 2, 0, False),
                (1, 2, 10, False),
                (2, 2, 0, False),
                (4, 2, 5, False),
                (5, 1, 0, False),
            ),
        ),
        Member(
            _user(5),
            "marketing",
            False,
            _skills(1, 2, 0, 1),
            _next(4, 3, 2, 0),
            ("medium",),
            (
                (0, 3, 25, False),
                (1, 3, 20, False),
                (3, 3, 20, True),
                (4, 2, 15, False),
                (5, 3, 15, False),
            ),
        ),
        Member(
            _user(6),
            "engineering",
            False,
            _skills(2, 2, 2, 2),
            _next(6, 5, 4, 3, 2, 1, 0),
            ("high",),
            (
                (0, 5, 120, True),
                (1, 5, 90, True),
                (2, 4, 60, False),
                (3, 4, 60, False),
                (4, 4, 45, True),
                (5, 4, 30, False),
            ),
        ),
        Member(
            _user(7),
            "sales",
            False,
            _skills(2, 1, 2, 1),
            _next(4, 2, 1),
            ("medium", "high"),
            ((1, 3, 15, False), (2, 3, 20, True), (4, 3, 10, False)),
        ),
        Member(
            _user(8),
            "support",
            False,
            _skills(0, 0, 0, 0),
            _next(3),
            ("low",),
            ((2, 2, 0, False), (3, 2, 0, False)),
        ),
        Member(
            _user(9),
            "it",
            False,
            _skills(0, 0, 0, 2),
            _next(0),
            ("low", "medium"),
            ((0, 3, 20, False),),
        ),
        Member(_user(10), "everyone", started=False),
        Member(_user(11), "everyone", started=False),
        Member(_user(12), "everyone", started=False),
    ]


def as_demo_user(member: Member) -> Member:
    """The same learning, done by the demo user (whose data the demo pages show)."""
    return replace(member, user=DEMO_USER)


async def seed_learner(tabs: TabServer, member: Member, tenant: str = TENANT) -> None:
    """Play one member's learning through the real use cases, oldest week first."""
    if not member.started:
        return
    learner = tabs.learner(member.user, tenant)
    first = max([w for w, _ in member.lessons] + [w for w, *_ in member.pulses] + [0])
    await learner.choose_role(member.role, weeks_ago(first))
    await learner.skills_check(member.skills, weeks_ago(first), member.confidence)
    for n, (week, lesson_id) in enumerate(sorted(member.lessons, key=lambda x: -x[0])):
        await learner.lesson(
            weeks_ago(week), lesson_id=lesson_id, wrong=n % 2, confidence=member.confidence
        )
    for week, confidence, minutes, caught in sorted(member.pulses, key=lambda x: -x[0]):
        await learner.pulse(weeks_ago(week), confidence, minutes, caught)


async def seed_team(tabs: TabServer, members: list[Member] | None = None) -> list[Member]:
    """The team's roster first (so write-time updates count), then everyone's learning."""
    members = team_members() if members is None else members
    await tabs.roster({m.user: m.leader for m in members})
    for member in members:
        await seed_learner(tabs, member)
    return members


# ------------------------------------------------------------------------- browser


@dataclass
class PageProblems:
    """Console errors, page errors and failed requests seen on a page."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on(
            "console",
            lambda m: (
                self.messages.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: self.messages.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: self.messages.append(f"request failed: {r.url} {r.failure}"),
        )
        return page


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium with the flags from TOOLBOX (Playwright's own temp profile)."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (see TOOLBOX.md)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def open_page(
    browser: Browser,
) -> AsyncIterator[Callable[..., Awaitable[tuple[Page, PageProblems]]]]:
    """``await open_page(url, viewport=WIDE)`` → (page, problems seen on it).

    ``prepare(page)``, when given, runs before the page loads (routes, a fake clock).
    """
    contexts = []

    async def open_(
        url: str,
        viewport: dict[str, int] | None = None,
        reduced_motion: bool = True,
        prepare: Callable[[Page], Awaitable[None]] | None = None,
    ) -> tuple[Page, PageProblems]:
        context = await browser.new_context(
            viewport=viewport or WIDE,  # type: ignore[arg-type]
            accept_downloads=True,
            locale="en-GB",
            reduced_motion="reduce" if reduced_motion else "no-preference",
        )
        contexts.append(context)
        page = await context.new_page()
        problems = PageProblems()
        problems.watch(page)
        if prepare is not None:
            await prepare(page)
        await page.goto(url)
        return page, problems

    yield open_
    for context in contexts:
        await context.close()


async def api_json(tabs: TabServer, path: str) -> Any:
    """GET our JSON API as the demo user (no token in demo mode)."""
    async with aiohttp.ClientSession() as http, http.get(tabs.url(path)) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def assign(tabs: TabServer, track: str, group: str = TEAM, days: int = 20) -> Any:
    """A programme admin (the demo user) assigns ``track`` to ``group``, due in ``days``."""
    due = (tabs.app[keys.SERVICES].clock().date() + timedelta(days=days)).isoformat()
    body = {"track": track, "group": group, "due": due}
    async with (
        aiohttp.ClientSession() as http,
        http.post(tabs.url("/api/assignments"), json=body) as response,
    ):
        assert response.status == 201, await response.text()
        return await response.json()


async def ready(page: Page) -> None:
    """Wait until the page's content is shown and every chart is drawn."""
    await expect(page.locator("#content")).to_be_visible(timeout=5000)
    await page.wait_for_function(
        "[...document.querySelectorAll('figure[data-chart]')]"
        ".every(f => f.querySelector('svg[role=img]'))"
    )


async def chart_tables(page: Page) -> dict[str, list[list[str]]]:
    """Each chart's hidden data table, by the chart's name: rows of cell texts."""
    result: dict[str, list[list[str]]] = await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('figure[data-chart]')].map(
            f => [f.dataset.chart, [...f.querySelectorAll('table tbody tr')].map(
                r => [...r.cells].map(c => c.textContent.trim()))]))"""
    )
    return result


async def figures(page: Page) -> dict[str, str]:
    """The single figures on the page (tiles, leaders, calibration) by their data-figure."""
    result: dict[str, str] = await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-figure]')].map(
            e => [e.dataset.figure, e.textContent.trim()]))"""
    )
    return result


def shown(value: Any, suffix: str = "") -> str:
    """How the page writes an API figure: one decimal at most, or the not-enough text."""
    if value is None:
        return NOT_ENOUGH
    text = f"{value:,.1f}".removesuffix(".0") if isinstance(value, float) else f"{value:,}"
    return text + suffix


def no_problems(problems: PageProblems, *allowed: str) -> None:
    unexpected = [m for m in problems.messages if not any(a in m for a in allowed)]
    assert not unexpected, unexpected


async def axe_violations(
    target: Page | Frame, impacts: Iterable[str] = ("serious", "critical")
) -> str:
    """Run axe-core on the page (or a host's framed tab); a report of the violations of the
    given impacts ("" if none).

    axe is served from the page's own origin (a route answers with the npm package's file),
    because the tabs' CSP (script-src 'self') rightly refuses the inline script that
    ``add_script_tag(path=...)`` would add. So the page runs under its real CSP throughout.
    """
    origin = urlsplit(target.url)
    url = f"{origin.scheme}://{origin.netloc}/_test/axe.min.js"

    async def serve(route: Route) -> None:
        await route.fulfill(path=AXE, content_type="text/javascript")

    # A page's route wins over the host stand-in's context route that forwards the tab origin.
    page = target.page if isinstance(target, Frame) else target
    await page.route(url, serve)
    await target.add_script_tag(url=url)
    found: list[dict[str, Any]] = await target.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
            v => ({id: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.map(n => n.target.join(" "))}))"""
    )
    wanted = set(impacts)
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}; at {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in wanted
    )


async def screenshot(page: Page, name: str) -> Path:
    """A screenshot in test-artifacts/screenshots/ (git-ignored): the whole page, or for the
    Teams stand-in (whose framed tab scrolls inside the frame) what the window shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    framed = bool(page.main_frame.child_frames)
    await page.screenshot(path=str(path), full_page=not framed)
    return path


# ------------------------------------------------------------------------- inside Teams
#
# A stand-in for the Teams client: a host page at https://teams.microsoft.com (served by
# Playwright's routing, so no network) that frames the tab and answers the Teams JS SDK's
# postMessage protocol as Teams does: initialize (frame context, client type, runtime),
# getContext (the legacy context shape the SDK converts), authentication.getAuthToken (a
# token signed by the local Entra ID), executeDeepLink (what app.openLink sends),
# settings.* for the configuration page, themeChange. The same page stands in for Outlook
# and the Microsoft 365 app (TeamsJS host names "Outlook" and "Office"): it is then served
# from that host's origin and names itself in the context (hostName, hostClientType).
# The tab is served as https://ai-ready.test (forwarded to the real server on loopback), so
# no mixed content and the real CSP, frame-ancestors included, apply. The SDK inside the
# page is the real one from node_modules.

TEAMS_ORIGIN = "https://teams.microsoft.com"
# Where each TeamsJS host frames tabs: origins in the SDK's built-in list of valid hosts that
# the tabs' frame-ancestors allow.
HOST_ORIGINS = {
    "Teams": TEAMS_ORIGIN,
    "Outlook": "https://outlook.office.com",
    "Office": "https://m365.cloud.microsoft",  # the Microsoft 365 app
}
TAB_ORIGIN = "https://ai-ready.test"
HOST_PATH = "/_test/host"
CLIENT_ID = "4b7e2c1d-9a8f-4e6d-b5c4-3a2f1e0d9c8b"
CLIENT_SECRET = "browser-test-secret-1f2e3d4c5b6a79880"
TEAMS_TENANT = "9e8d7c6b-5a4f-4e3d-a2c1-b0a9f8e7d6c5"
OWNER = "aa000000-0000-4000-8000-000000000001"
MEMBER = "aa000000-0000-4000-8000-000000000002"

_HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>__HOST__ (test host)</title>
<style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%}</style></head>
<body><iframe id="tab" title="AI Ready" src="__TAB__"></iframe>
<script>
const config = __CONFIG__;
const frame = document.getElementById("tab");
const runtime = {
  apiVersion: 4, isLegacyTeams: false, isNAAChannelRecommended: false,
  hostVersionsInfo: {adaptiveCardSchemaVersion: {majorVersion: 1, minorVersion: 5}},
  supports: {appInstallDialog: {}, appEntity: {}, chat: {}, conversations: {}, dialog: {},
    pages: {appButton: {}, tabs: {}, config: {}, backStack: {}, fullTrust: {}},
    teams: {fullTrust: {}}, teamsCore: {}},
};
window.hostCalls = [];
window.addEventListener("message", (event) => {
  if (event.source !== frame.contentWindow) return;
  const m = event.data;
  if (!m || typeof m.func !== "string") return;
  window.hostCalls.push({func: m.func, args: m.args});
  const reply = (args) =>
    event.source.postMessage({id: m.id, uuidAsString: m.uuidAsString, args}, event.origin);
  switch (m.func) {
    case "initialize":
      return reply([config.frameContext, config.clientType, JSON.stringify(runtime), "2.58.0"]);
    case "getContext":
      return reply([config.context]);
    case "authentication.getAuthToken":
      config.tokenRequests = (config.tokenRequests || 0) + 1;
      return reply(config.token ? [true, config.token] : [false, "resourceRequiresConsent"]);
    case "settings.setSettings":
    case "executeDeepLink":
      return reply([true]);
    default:
      return; // one-way notifications (registerHandler, appInitialization.success, ...)
  }
});
const send = (func, args) => frame.contentWindow.postMessage({func, args}, "__TAB_ORIGIN__");
window.changeTheme = (theme) => send("themeChange", [theme]);
window.pressSave = () => send("settings.save", [{}]);
</script></body></html>"""


def teams_settings(**extra: str) -> Settings:
    """Production-like settings: tab sign-in against the local Entra ID, no demo mode."""
    return load_settings(
        {
            "AIREADY_BOT_CLIENT_ID": CLIENT_ID,
            "AIREADY_BOT_CLIENT_SECRET": CLIENT_SECRET,
            "AIREADY_BOT_TENANT_ID": TEAMS_TENANT,
            "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
            "AIREADY_MIN_GROUP_SIZE": "3",
            **extra,
        }
    )


@pytest.fixture(scope="session")
def entra() -> Iterator[LocalIdentityProvider]:
    """The local Entra ID (HTTPS with a test CA), shared by the session."""
    ca = TestCA()
    idp = LocalIdentityProvider(ca)
    idp.register_client(CLIENT_ID, CLIENT_SECRET)
    idp.start()
    try:
        yield idp
    finally:
        idp.stop()
        ca.cleanup()


@pytest.fixture(scope="session")
def directory_server(entra: LocalIdentityProvider) -> Iterator[LocalGraph]:
    """The local Microsoft Graph, shared by the session."""
    graph = LocalGraph(entra).start()
    try:
        yield graph
    finally:
        graph.stop()


@pytest.fixture
async def teams_server(
    start_server: Callable[..., Awaitable[TabServer]],
    entra: LocalIdentityProvider,
    directory_server: LocalGraph,
) -> AsyncIterator[TabServer]:
    """The real app with real tab sign-in: tokens checked against the local Entra ID, Graph
    (on-behalf-of) for role suggestions, team ownership and rosters."""
    entra.reset()
    directory_server.reset()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=entra.ca.client_context()))
    msal_http = requests.Session()
    msal_http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
    msal_http.verify = entra.ca.pem_path
    outbound = OutboundHttp(http, entra.ca.client_context(), lambda _url: None)
    validator = TabTokenValidator(
        frozenset({CLIENT_ID}),
        authority=entra.url,
        allowed_tenants=frozenset({TEAMS_TENANT}),
        http=outbound,
    )
    directory = GraphDirectory(
        CLIENT_ID,
        CLIENT_SECRET,
        authority=entra.url,
        graph_url=directory_server.url,
        http=outbound,
        http_client=msal_http,
    )
    try:
        yield await start_server(teams_settings(), tab_validator=validator, directory=directory)
    finally:
        directory.close()
        msal_http.close()
        await http.close()


@dataclass
class TeamsHost:
    """The host page (Teams, Outlook or the Microsoft 365 app) and the framed tab."""

    page: Page
    problems: PageProblems
    name: str = "Teams"

    @property
    def tab(self) -> Frame:
        """The tab's frame (the host page's only child frame)."""
        frames = self.page.main_frame.child_frames
        assert len(frames) == 1, frames
        return frames[0]

    async def calls(self, func: str) -> list[Any]:
        """The arguments of every call the tab made to Teams with ``func``."""
        calls: list[dict[str, Any]] = await self.page.evaluate("window.hostCalls")
        return [c["args"] for c in calls if c["func"] == func]


@pytest.fixture
async def open_in_teams(
    browser: Browser,
) -> AsyncIterator[Callable[..., Awaitable[TeamsHost]]]:
    """``await open_in_teams(tabs, "/tabs/team", context=..., token=...)``: the tab inside
    the stand-in Teams client; ``host="Outlook"`` or ``host="Office"`` (the Microsoft 365
    app) and ``client_type`` make it stand in for another TeamsJS host."""
    contexts = []

    async def open_(
        tabs: TabServer,
        path: str,
        *,
        context: dict[str, Any],
        token: str | None,
        frame_context: str = "content",
        viewport: dict[str, int] | None = None,
        host: str = "Teams",
        client_type: str = "web",
    ) -> TeamsHost:
        browser_context = await browser.new_context(
            viewport=viewport or WIDE,  # type: ignore[arg-type]
            locale="en-GB",
            reduced_motion="reduce",
        )
        contexts.append(browser_context)
        context = {**context, "hostName": host, "hostClientType": client_type}
        config = {
            "context": context,
            "token": token,
            "frameContext": frame_context,
            "clientType": client_type,
        }
        html = (
            _HOST_PAGE.replace("__HOST__", host)
            .replace("__TAB__", TAB_ORIGIN + path)
            .replace("__TAB_ORIGIN__", TAB_ORIGIN)
            .replace("__CONFIG__", json.dumps(config))
        )
        base = tabs.url("/").rstrip("/")

        async def serve_host(route: Route) -> None:
            await route.fulfill(status=200, content_type="text/html", body=html)

        async def forward(route: Route) -> None:
            response = await route.fetch(url=base + route.request.url[len(TAB_ORIGIN) :])
            await route.fulfill(response=response)

        await browser_context.route(HOST_ORIGINS[host] + HOST_PATH, serve_host)
        await browser_context.route(TAB_ORIGIN + "/**", forward)
        page = await browser_context.new_page()
        problems = PageProblems()
        problems.watch(page)
        await page.goto(HOST_ORIGINS[host] + HOST_PATH)
        return TeamsHost(page, problems, host)

    yield open_
    for browser_context in contexts:
        await browser_context.close()


def legacy_context(
    user: str, *, theme: str = "default", group: str | None = None
) -> dict[str, Any]:
    """The context object Teams hands the SDK (its older, flat shape)."""
    context: dict[str, Any] = {
        "locale": "en-gb",
        "theme": theme,
        "tid": TEAMS_TENANT,
        "userObjectId": user,
        "loginHint": f"{user[:8]}@contoso.example",
        "entityId": "ai-ready-team" if group else "my-learning",
        "frameContext": "content",  # open_in_teams adds hostName and hostClientType
    }
    if group:
        context.update({"groupId": group, "teamId": "19:team@thread.tacv2", "teamName": "Finance"})
    return context


# What the page fixtures hand a test.
OpenPage = Callable[..., Awaitable[tuple[Page, PageProblems]]]
StartServer = Callable[..., Awaitable[TabServer]]
OpenInTeams = Callable[..., Awaitable[TeamsHost]]
