"""The team view as a leader reads it: hidden figures that can't pass for data, a heatmap whose
colours, legend and labels hold up in every theme and at 420 px, the headline figures' markup,
and the states around the figures (roster sync, no member list, not a leader).

The real server in demo mode serves the page; a few tests answer the view API themselves
(Playwright routes) to show states the demo server can't produce on cue, and a fake clock
(``page.clock``) stands in for minutes of waiting.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Locator, Page, Route, expect

from teams_app.domain.privacy import NOT_ENOUGH
from tests.browser.colours import RGB, contrast, luminance, over, parse
from tests.browser.conftest import (
    NARROW,
    TEAM,
    THEMES,
    VIEW_API,
    WIDE,
    OpenPage,
    TabServer,
    api_json,
    axe_violations,
    no_problems,
    ready,
    screenshot,
    seed_team,
)

pytestmark = pytest.mark.browser

LEVELS = {"gap": "Gap", "developing": "Developing", "mastered": "Mastered"}
LEVELS["not_assessed"] = "Not assessed"
SYNCING = {"status": "syncing", "refreshing": True, "view": None}
UNAVAILABLE = {"status": "unavailable", "refreshing": False, "view": None}
MINUTE = 60_000


def short_week(week: str) -> str:
    """ "2026-W07" → "W7", as the charts label weeks."""
    return f"W{int(week.split('-W')[1])}"


async def chart_rows(page: Page, chart: str) -> dict[str, list[str]]:
    """A chart's hidden data table: each row's cells by the row's first cell."""
    table = page.locator(f"figure[data-chart='{chart}'] tbody tr")
    rows: list[list[str]] = await table.evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return {row[0]: row[1:] for row in rows}


def heatmap(page: Page) -> Locator:
    return page.locator("figure[data-chart='skill-gaps']")


# ------------------------------------------------------------------------- hidden weeks

_TREND = """figure => {
  const svg = figure.querySelector("svg");
  const y = line => Number(line.getAttribute("y1"));
  const axis = svg.querySelector("line.c-axis");
  const grid = [...svg.querySelectorAll("line.c-grid")];
  return {
    baseline: y(axis),
    plot: y(axis) - Math.min(...grid.map(y)),
    hidden: [...svg.querySelectorAll("g.c-hidden")].map(g => {
      const box = g.getBBox();
      const spans = [...g.querySelectorAll("tspan")].map(s => s.textContent);
      return {week: g.dataset.week ?? null, title: g.querySelector("title")?.textContent ?? null,
              text: spans.join(" "), top: box.y, height: box.height};
    }),
    bars: svg.querySelectorAll("rect.c-bar-1, rect.c-bar-2").length,
    summary: svg.getAttribute("aria-label"),
    legend: figure.querySelector(".legend")?.textContent ?? "",
  };
}"""

TRENDS = {
    "participation": ("active", True),
    "pulse-minutes": ("minutes_saved", True),
    "pulse-caught": ("caught_error", True),
    "pulse-confidence": ("pulse_confidence", False),
}


async def test_hidden_weeks_are_empty_stubs_on_the_baseline_never_bars(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    trend = (await api_json(demo_server, f"/api/teams/{TEAM}/view"))["view"]["trend"]
    page, problems = await open_page(demo_server.url("/tabs/team"))
    await ready(page)

    mixed = 0
    for chart, (key, has_bars) in TRENDS.items():
        hidden = [p["week"] for p in trend if p[key] is None]
        shown_ = [p[key] for p in trend if p[key] is not None]
        marks = await page.locator(f"figure[data-chart='{chart}']").evaluate(_TREND)
        # The table says what the API says, week by week, and the legend names hidden weeks.
        rows = await chart_rows(page, chart)
        for week in hidden:
            assert rows[week][0] == NOT_ENOUGH, (chart, week)
        if hidden:
            assert NOT_ENOUGH in marks["legend"], chart
        if not shown_:  # nothing to show at all: one empty frame that says so
            assert [m["text"] for m in marks["hidden"]] == [NOT_ENOUGH], chart
            assert marks["bars"] == 0, chart
            continue
        # One stub per hidden week: no height to speak of, standing on the baseline.
        assert [m["week"] for m in marks["hidden"]] == hidden, chart
        for mark in marks["hidden"]:
            assert mark["height"] <= 8 < marks["plot"] / 10, (chart, mark)
            assert mark["top"] + mark["height"] == pytest.approx(marks["baseline"], abs=1)
            assert mark["title"] == f"{short_week(mark['week'])}: {NOT_ENOUGH}", (chart, mark)
            assert f"{short_week(mark['week'])} {NOT_ENOUGH}" in marks["summary"], chart
        if has_bars:  # a bar for each shown week with something to show, none for the others
            assert marks["bars"] == sum(1 for v in shown_ if v > 0), chart
        mixed += bool(hidden)
    assert mixed > 0, "the seeded team should have a chart with hidden and shown weeks"
    await screenshot(page, "team-hidden-weeks")
    no_problems(problems)


# ------------------------------------------------------------------------- heatmap colours

_LEGEND = """figure => ({
  surface: getComputedStyle(figure.closest(".card")).backgroundColor,
  sub: figure.querySelector(".chart-sub").textContent,
  legendInk: getComputedStyle(figure.querySelector(".legend")).color,
  scale: [...figure.querySelectorAll(".legend .swatch--heat")].map(
    s => getComputedStyle(s).backgroundColor),
  cells: [...figure.querySelectorAll("svg [data-step] rect.c-heat")].map(
    r => ({step: Number(r.closest("[data-step]").dataset.step), fill: getComputedStyle(r).fill})),
})"""


@pytest.mark.parametrize("theme", THEMES)
async def test_heatmap_caption_and_legend_describe_its_colours(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    await seed_team(demo_server)
    page, problems = await open_page(demo_server.url(f"/tabs/team?theme={theme}"))
    await ready(page)
    found = await heatmap(page).evaluate(_LEGEND)
    surface = parse(found["surface"])[0]
    scale = [parse(c)[0] for c in found["scale"]]

    assert len(scale) >= 3, "the legend shows the heatmap's colour scale"
    strength = [contrast(step, surface) for step in scale]
    assert strength == sorted(strength) and len(set(strength)) == len(strength), (
        f"each step stands out more from the card than the one before: {strength}"
    )
    assert found["cells"], "the seeded team should fill some cells"
    for cell in found["cells"]:
        if cell["step"]:  # (step 0: nobody at that level)
            assert parse(cell["fill"])[0] == scale[cell["step"] - 1], cell
    # Whatever the words say about the colour has to be true in this theme.
    sub = found["sub"].lower()
    fuller_is_darker = luminance(scale[-1]) < luminance(scale[0])
    wrong = ("lighter", "brighter", "paler") if fuller_is_darker else ("darker", "deeper")
    assert not any(word in sub for word in wrong), (theme, found["sub"])
    assert contrast(parse(found["legendInk"])[0], surface) >= 4.5
    no_problems(problems)


_LABELS = """figure => {
  figure.scrollIntoView();
  const text = t => {
    const spans = [...t.querySelectorAll("tspan")].map(s => s.textContent);
    return spans.length ? spans.join(" ") : t.textContent;
  };
  return [...figure.querySelectorAll("svg text")].map(t => {
    const r = t.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const layers = [];  // painted shapes under the text's middle, topmost first
    let base = null;    // the first opaque page background under them
    for (const e of document.elementsFromPoint(x, y)) {
      if (e instanceof SVGElement && !(e instanceof SVGGeometryElement)) continue;  // text, svg
      const style = getComputedStyle(e);
      if (e instanceof SVGGeometryElement) {
        if (style.fill !== "none" && e.tagName !== "line")
          layers.push({fill: style.fill, alpha: Number(style.fillOpacity) * Number(style.opacity)});
      } else if (style.backgroundColor !== "rgba(0, 0, 0, 0)") {
        base = style.backgroundColor;
        break;
      }
    }
    const style = getComputedStyle(t);
    const alpha = Number(style.fillOpacity) * Number(style.opacity);
    return {text: text(t), ink: style.fill, alpha, layers, base,
            visible: y >= 0 && y <= innerHeight};
  });
}"""


def label_contrast(label: dict[str, Any]) -> tuple[float, RGB]:
    """The contrast of a chart label against what is painted under it, and that colour
    (0 when that is a pattern rather than a colour: text over hatching has no one contrast)."""
    under = parse(label["base"])[0]
    for layer in reversed(label["layers"]):
        if layer["fill"].startswith("url("):
            return 0, under
        colour, alpha = parse(layer["fill"])
        under = over(colour, alpha * layer["alpha"], under)
    ink, alpha = parse(label["ink"])
    return contrast(over(ink, alpha * label["alpha"], under), under), under


# Counts that put cells on every colour step of a 13-member team, hidden cells too.
EVERY_STEP = [(0, 1, 3, None), (5, 6, 8, 9), (10, 11, 13, 2), (None, 4, 7, 12)]


async def every_step(route: Route) -> None:
    """The real view with the skill counts above."""
    response = await route.fetch()
    body = await response.json()
    assert body["view"]["members"] == 13
    for row, counts in zip(body["view"]["skills"], EVERY_STEP, strict=True):
        row.update(zip(LEVELS, counts, strict=True))
    await route.fulfill(response=response, json=body)


@pytest.mark.parametrize("theme", THEMES)
async def test_every_heatmap_label_has_4_5_to_1_contrast(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    await seed_team(demo_server)
    for data, viewport in itertools.product(("seeded", "every step"), (WIDE, NARROW)):

        async def prepare(page: Page, data: str = data) -> None:
            if data == "every step":
                await page.route(VIEW_API, every_step)

        page, problems = await open_page(
            demo_server.url(f"/tabs/team?theme={theme}"), viewport=viewport, prepare=prepare
        )
        await ready(page)
        labels = await heatmap(page).evaluate(_LABELS)
        assert all(label["visible"] for label in labels)
        measured = [(label["text"], *label_contrast(label)) for label in labels]
        low = [(text, round(ratio, 2)) for text, ratio, _ in measured if ratio < 4.5]
        assert not low, f"{theme}, {data}, {viewport['width']} px: labels under 4.5:1: {low}"
        if data == "every step":  # five steps, and the card (or "none", or hidden) around them
            assert len({under for _, _, under in measured}) >= 6, measured
        no_problems(problems)


# ------------------------------------------------------------------------- heatmap at 420 px

_CELLS = """figure => {
  const svg = figure.querySelector("svg");
  const box = e => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  const text = t => {
    const spans = [...t.querySelectorAll("tspan")].map(s => s.textContent);
    return spans.length ? spans.join(" ") : t.textContent;
  };
  const texts = root => [...root.querySelectorAll("text")].map(
    t => ({text: text(t), box: box(t), px: parseFloat(getComputedStyle(t).fontSize)}));
  return {
    width: svg.getBoundingClientRect().width,
    room: figure.getBoundingClientRect().width,
    texts: texts(svg),
    cells: [...svg.querySelectorAll("g.c-cell")].map(c => ({
      row: c.dataset.row, level: c.dataset.level, box: box(c.querySelector("rect")),
      texts: texts(c)})),
  };
}"""


def inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
    )


def overlap(a: list[float], b: list[float]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


@pytest.mark.parametrize("theme", THEMES)
async def test_heatmap_level_labels_stay_readable_at_420_px(
    demo_server: TabServer, open_page: OpenPage, theme: str
) -> None:
    await seed_team(demo_server)
    page, problems = await open_page(demo_server.url(f"/tabs/team?theme={theme}"), viewport=NARROW)
    await ready(page)
    found = await heatmap(page).evaluate(_CELLS)
    rows = await chart_rows(page, "skill-gaps")

    assert found["width"] <= found["room"] + 0.5, "the heatmap is wider than its card"
    cells = {(c["row"], c["level"]): c for c in found["cells"]}
    assert set(cells) == {(row, level) for row in rows for level in LEVELS.values()}
    for (row, level), cell in cells.items():
        # The cell names its level and shows its figure (as the table does), in full.
        figure_ = rows[row][list(LEVELS.values()).index(level)]
        assert sorted(t["text"] for t in cell["texts"]) == sorted([level, figure_]), cell
        for text in cell["texts"]:
            assert text["px"] >= 12, (row, level, text)
            assert inside(text["box"], cell["box"]), (row, level, text, cell["box"])
    for a, b in itertools.combinations(found["texts"], 2):
        assert overlap(a["box"], b["box"]) < 1, (a, b)
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the page scrolls sideways at 420 px"
    await screenshot(page, f"team-420-{theme}")
    no_problems(problems)


# ------------------------------------------------------------------------- headline figures

_DL_PROBLEMS = """() => [...document.querySelectorAll("dl")].flatMap(dl =>
  [...dl.children].flatMap(child => {
    if (["DT", "DD"].includes(child.tagName)) return [];
    if (child.tagName !== "DIV") return [`#${dl.id} > ${child.tagName.toLowerCase()}`];
    const tags = [...child.children].map(c => c.tagName);
    const ok = tags.includes("DT") && tags.includes("DD")
      && tags.every(t => t === "DT" || t === "DD");
    return ok ? [] : [`#${dl.id} > div > ${tags.join(", ").toLowerCase()}`];
  }))"""


async def test_headline_figures_are_a_well_formed_definition_list(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    page, problems = await open_page(demo_server.url("/tabs/team"))
    await ready(page)
    assert await page.evaluate(_DL_PROBLEMS) == []
    assert await page.locator("#tiles > div").count() == 6
    # The detail belongs to its figure: "Lessons completed: 40, by 10 people".
    lessons = page.locator("#tiles > div", has=page.locator("[data-figure=lessons_completed]"))
    await expect(lessons.locator("dd")).to_have_count(2)
    await expect(lessons.locator("dd").nth(1)).to_contain_text("people")
    no_problems(problems)


# ------------------------------------------------------------------------- states


def answer_with(body: dict[str, Any], calls: list[str]) -> Callable[[Route], Awaitable[None]]:
    """A route handler for the view API answering ``body``; appends to ``calls``."""

    async def handle(route: Route) -> None:
        calls.append(route.request.url)
        await route.fulfill(json=body)

    return handle


async def test_no_member_list_yet_says_what_to_do_and_stops_asking(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    calls: list[str] = []

    async def prepare(page: Page) -> None:
        await page.clock.install()
        await page.route(VIEW_API, answer_with(UNAVAILABLE, calls))

    page, problems = await open_page(demo_server.url("/tabs/team?theme=dark"), prepare=prepare)
    notice = page.locator("#unavailable")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("once AI Ready has read the team's member list")
    await expect(notice).to_contain_text("Reopen this tab later.")
    await expect(notice).to_contain_text("ask your Microsoft 365 admin to grant AI Ready's")
    await expect(notice).to_contain_text("Microsoft Graph consent")
    await expect(page.locator(".spinner")).to_have_count(0)
    await expect(page.locator("#content")).to_be_hidden()
    await expect(page.locator("#download-csv")).to_be_hidden()
    await screenshot(page, "team-unavailable-dark")
    report = await axe_violations(page)
    assert not report, f"axe found serious or critical violations:\n{report}"

    await page.clock.run_for(30 * MINUTE)  # nothing is running, so nothing to wait for
    assert len(calls) == 1
    await page.get_by_role("button", name="Check again").click()
    await expect(notice).to_be_visible()
    assert len(calls) == 2
    no_problems(problems)


async def test_while_syncing_the_page_looks_again_less_often_then_stops_with_advice(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    calls: list[str] = []

    async def prepare(page: Page) -> None:
        await page.clock.install(time=0)
        await page.clock.pause_at(1000)  # time moves only when the test says
        await page.route(VIEW_API, answer_with(SYNCING, calls))

    page, problems = await open_page(demo_server.url("/tabs/team"), prepare=prepare)
    syncing = page.locator("#syncing")
    await expect(syncing).to_contain_text("Collecting your team's figures")
    await expect(syncing).to_contain_text("This page checks again on its own.")

    # Let up to 20 minutes pass a second at a time, noting when each look happens.
    times: list[int] = []
    for second in range(20 * 60):
        await page.clock.run_for(1000)
        while len(times) < len(calls):
            times.append(second)
        if await page.locator("#sync-slow").is_visible():
            break
    waits = [b - a for a, b in itertools.pairwise(times)]  # seconds, give or take one
    assert 3 <= len(waits) <= 10, f"looked again {len(waits)} times"
    assert all(b >= a - 1 for a, b in itertools.pairwise(waits)), f"no backoff: {waits}"
    assert waits[-1] >= 4 * waits[0], f"no backoff: {waits}"

    slow = page.locator("#sync-slow")
    await expect(slow).to_contain_text("This is taking longer than usual")
    await expect(slow).to_contain_text("Reopen this tab in a few minutes.")
    await expect(slow).to_contain_text("ask your Microsoft 365 admin")
    await expect(page.locator(".spinner")).to_have_count(0)
    await screenshot(page, "team-sync-slow")
    await page.clock.resume()  # axe-core waits on timers of its own
    report = await axe_violations(page)
    assert not report, f"axe found serious or critical violations:\n{report}"

    stopped = len(calls)
    await page.clock.run_for(60 * MINUTE)
    assert len(calls) == stopped, "it kept asking after giving up"
    await page.get_by_role("button", name="Check again").click()
    await expect(syncing).to_be_visible()  # asking again starts a fresh round of looks
    assert len(calls) == stopped + 1
    no_problems(problems)


async def test_a_member_who_does_not_lead_the_team_is_pointed_to_my_learning(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    # The demo user always leads the demo team, so the API's refusal is played here; the
    # real one, from a team's owners in Graph, is in test_tabs' in-Teams tests.
    async def refuse(route: Route) -> None:
        await route.fulfill(status=403, json={"error": "not a leader of this team"})

    async def prepare(page: Page) -> None:
        await page.route(VIEW_API, refuse)

    tabs = demo_server
    page, problems = await open_page(tabs.url("/tabs/team?theme=contrast"), prepare=prepare)
    notice = page.locator("#not-leader")
    await expect(notice).to_contain_text(
        "This view is for the team's owners and the leaders designated for this team."
    )
    await expect(page.locator("#content")).to_be_hidden()
    await screenshot(page, "team-not-a-leader-contrast")
    report = await axe_violations(page)
    assert not report, f"axe found serious or critical violations:\n{report}"

    link = notice.get_by_role("link", name="Open My learning")
    assert await link.get_attribute("href") == "/tabs/my-learning?theme=contrast"
    await link.click()
    await expect(page.locator("#content")).to_be_visible()
    assert page.url == tabs.url("/tabs/my-learning?theme=contrast")
    assert await page.evaluate("document.documentElement.dataset.theme") == "contrast"
    no_problems(problems, "403 (Forbidden)")


# ------------------------------------------------------------------------- confidence up front

HEADLINE = {
    "headline_confidence": ("pulse_confidence", "now"),
    "headline_confidence_before": ("pulse_confidence", "before"),
    "headline_confidence_organisation": ("pulse_confidence", "organisation"),
    "headline_calibration": ("calibration", "now"),
    "headline_calibration_before": ("calibration", "before"),
    "headline_calibration_organisation": ("calibration", "organisation"),
}
CALIBRATION = {
    "calibrated": "Calibrated",
    "over-confident": "Over-confident",
    "under-confident": "Under-confident",
    "mixed": "Over- and under-confident",
    "unknown": "Too few answers yet",
}


def headline_text(tile: str, value: float | str | None) -> str:
    """How a headline figure reads: the pulse average with its one decimal, calibration in
    words, a hidden figure as "not enough responses yet"."""
    if value is None:
        return NOT_ENOUGH
    if tile == "pulse_confidence":
        assert isinstance(value, float | int)
        return f"{value:.1f}"
    return CALIBRATION[str(value)]


async def headline(page: Page) -> dict[str, str]:
    found: dict[str, str] = await page.locator("#headline").evaluate(
        """root => Object.fromEntries([...root.querySelectorAll('[data-figure]')].map(
            e => [e.dataset.figure, e.textContent.trim()]))"""
    )
    return found


async def test_confidence_and_calibration_come_first_with_last_period_and_organisation(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    view = (await api_json(demo_server, f"/api/teams/{TEAM}/view"))["view"]
    tiles = view["headline"]
    assert tiles["pulse_confidence"]["now"] is not None, "the seed should show this week's"
    page, problems = await open_page(demo_server.url("/tabs/team"))
    await ready(page)

    # The two tiles, by their plain names, ahead of every other figure on the page.
    confidence = page.get_by_role(
        "region", name="Confidence using AI (last week's pulse, 1–5)", exact=True
    )
    calibration = page.get_by_role(
        "region",
        name="Calibration (how well the team's confidence matches its results in lessons)",
        exact=True,
    )
    await expect(confidence).to_be_visible()
    await expect(calibration).to_be_visible()
    first = await page.evaluate(
        "document.querySelector('#content [data-figure]').closest('#headline') !== null"
    )
    assert first, "the headline tiles come before the other figures"

    shown_ = await headline(page)
    assert shown_ == {
        key: headline_text(tile, tiles[tile][when]) for key, (tile, when) in HEADLINE.items()
    }
    for label in ("Your team", "The week before", "Whole organisation", "Last period"):
        await expect(page.locator("#headline dt", has_text=label).first).to_be_visible()
    now, before = tiles["pulse_confidence"]["now"], tiles["pulse_confidence"]["before"]
    if before is not None:
        word = "Up" if now > before else "Down" if now < before else "The same"
        await expect(confidence.locator(".headline-change")).to_contain_text(word)

    # Plain words throughout: no marking jargon anywhere on the page.
    text = (await page.locator("#content").inner_text()).lower()
    assert "weighted" not in text and "certainty-based" not in text
    await expect(page.locator("#tiles")).to_contain_text("Score counting confidence")
    assert await page.evaluate(_DL_PROBLEMS) == []
    await screenshot(page, "team-headline")
    no_problems(problems)


async def test_hidden_headline_figures_read_not_enough_responses_never_zero(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    blank = {"now": None, "before": None, "organisation": None}

    async def hide(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body["view"]["headline"] = {"pulse_confidence": blank, "calibration": blank}
        await route.fulfill(response=response, json=body)

    async def prepare(page: Page) -> None:
        await page.route(VIEW_API, hide)

    page, problems = await open_page(demo_server.url("/tabs/team?theme=dark"), prepare=prepare)
    await ready(page)
    assert await headline(page) == dict.fromkeys(HEADLINE, NOT_ENOUGH)
    await expect(page.locator("#headline .headline-change")).to_have_count(0)
    assert "0" not in await page.locator("#headline dd").all_inner_texts()
    await screenshot(page, "team-headline-hidden-dark")
    no_problems(problems)


# ------------------------------------------------------------------------- confidence levels

_LEVELS = """figure => ({
  summary: figure.querySelector("svg").getAttribute("aria-label"),
  labels: [...figure.querySelectorAll("svg text.c-text--strong")].map(t => t.textContent),
  hidden: figure.querySelectorAll("svg g.c-hidden").length,
})"""


async def test_the_confidence_chart_counts_people_and_hides_only_what_is_null(
    demo_server: TabServer, open_page: OpenPage
) -> None:
    await seed_team(demo_server)
    levels = [
        {"level": "low", "people": 5, "answers": 40, "accuracy_pct": None},
        {"level": "medium", "people": None, "answers": None, "accuracy_pct": None},
        {"level": "high", "people": 6, "answers": 100, "accuracy_pct": 80.0},
    ]

    async def answer(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body["view"]["confidence"]["levels"] = levels
        await route.fulfill(response=response, json=body)

    async def prepare(page: Page) -> None:
        await page.route(VIEW_API, answer)

    page, problems = await open_page(demo_server.url("/tabs/team"), prepare=prepare)
    await ready(page)
    rows = await chart_rows(page, "calibration")
    # Per level: the people who answered at it, and how often they were right.
    assert rows["Low confidence"][:2] == ["5", NOT_ENOUGH]
    assert rows["Medium confidence"][:2] == [NOT_ENOUGH, NOT_ENOUGH]
    assert rows["High confidence"][:2] == ["6", "80%"]
    found = await page.locator("figure[data-chart='calibration']").evaluate(_LEVELS)
    assert "Low · 5 people" in found["labels"] and "High · 6 people" in found["labels"]
    assert "Medium" in found["labels"]  # its people are hidden: no count next to it
    assert found["hidden"] == 2  # the bars of low (accuracy) and medium
    assert "5 people" in found["summary"] and "6 people" in found["summary"]
    assert "100 answers" not in found["summary"] and "40" not in found["summary"]
    no_problems(problems)
