/**
 * The programme admins' organisation page: adoption funnel, participation, outcomes (hours
 * saved with how they are worked out), skill gaps, calibration and assignments.
 *
 * Like the team tab it shows group figures only, exactly as the server's privacy rules let
 * them through: any figure may be null, meaning "not enough responses yet", and is shown as
 * that text (never as 0). The API answers 403 to anyone without the AIReady.Admin app role.
 */

import { barList, trendChart } from "./charts.js";
import {
  activeChart,
  fillConfidence,
  caughtChart,
  dayElement,
  finishedText,
  isNull,
  minutesChart,
  names,
  pulseConfidenceChart,
  skillHeatmap,
  stat,
  weekEnd,
  weekList,
} from "./figures.js";
import {
  ApiError,
  NOT_ENOUGH,
  el,
  figure,
  formatNumber,
  replace,
  setLoading,
  showError,
  startTab,
  withTheme,
} from "./tabs.js";

const body = document.body;
const $ = (id) => document.getElementById(id);
const WHO = "the organisation";

// ---------------------------------------------------------------------------- sections

function renderAsOf(view) {
  const end = weekEnd(view.week);
  const weeks = [
    el("span", { "data-figure": "week", text: view.week }),
    ...(end ? [" (the week ending ", dayElement(end), ")"] : []),
  ];
  replace(
    $("as-of"),
    ...(isNull(view.published_on)
      ? ["Figures for weeks up to ", ...weeks, ", not yet published."]
      : ["Figures as of ", dayElement(view.published_on), ", for weeks up to ", ...weeks, "."]),
  );
  $("threshold-text").textContent =
    `Figures appear when at least ${view.threshold} people contribute. Smaller groups show ` +
    `"${NOT_ENOUGH}", so no one can be singled out.`;
}

function renderFunnel(funnel) {
  const first = funnel.find((step) => !isNull(step.people));
  const base = first && first.people > 0 ? first.people : null;
  const max = Math.max(1, ...funnel.map((step) => step.people || 0));
  const share = (step) =>
    base === null || isNull(step.people) ? "" : ` (${formatNumber((100 * step.people) / base)}%)`;
  replace(
    $("funnel-chart"),
    barList({
      name: "funnel",
      caption: "How far people have come",
      sub: base === null ? null : `Share of the ${formatNumber(base)} people at the first step`,
      summary: `Adoption funnel: ${funnel.map((step) => `${step.label} ${figure(step.people)}`).join(", ")}.`,
      tableToggle: "Show the figures as a table",
      rows: funnel.map((step) => ({
        label: step.label,
        value: isNull(step.people) ? null : step.people,
        max,
        text: `${formatNumber(step.people ?? 0)}${share(step)}`,
      })),
      table: {
        columns: ["Step", "People"],
        numeric: [false, true],
        rows: funnel.map((step) => [step.label, figure(step.people)]),
      },
    }),
  );
}

function renderParticipation(org) {
  const view = org.view;
  const challenges = org.challenges;
  const values = challenges.map((c) => (isNull(c.people) ? null : c.people));
  $("participation-note").textContent = `Last ${view.trend.length} weeks`;
  replace(
    $("participation-charts"),
    activeChart(view.trend, view.members, { height: 150 }),
    trendChart({
      name: "challenges",
      caption: "People who did the week's challenge",
      sub: "A short practice task, sent once a week",
      summary: `People who did the week's challenge, per week: ${weekList(challenges, "people")}.`,
      weeks: challenges.map((c) => c.week),
      bars: { values, className: "c-bar-2" },
      height: 150,
      legend: values.some((v) => v === null) ? [["stub", NOT_ENOUGH]] : [],
      table: {
        columns: ["Week", "People who did the challenge"],
        numeric: [false, true],
        rows: challenges.map((c) => [c.week, figure(c.people)]),
      },
    }),
  );
}

function renderOutcomes(org) {
  const trend = org.view.trend;
  replace(
    $("hours"),
    stat("hours_saved_per_month", "Hours saved per month", org.hours_saved_per_month, {
      sub: isNull(org.hours_saved_per_month) ? null : "by the people who answered the weekly pulse",
    }),
  );
  $("hours-method").textContent = org.hours_method;
  replace(
    $("outcome-charts"),
    minutesChart(trend),
    pulseConfidenceChart(trend),
    caughtChart(trend),
  );
}

function renderAssignments(assignments) {
  if (!assignments.length) {
    replace(
      $("assignments"),
      el("p", { class: "muted", text: "No track has been assigned to a team or group yet." }),
    );
    return;
  }
  // Explicit roles: the narrow layout restyles rows as cards, which can drop table semantics.
  const cell = (label, attrs, ...children) =>
    el("td", { role: "cell", "data-label": label, ...attrs }, ...children);
  const table = el(
    "table",
    { class: "data stacked", id: "assignments-table", role: "table" },
    el("caption", { class: "visually-hidden", text: "Assignments, soonest due first" }),
    el(
      "thead",
      { role: "rowgroup" },
      el(
        "tr",
        { role: "row" },
        ["Track", "Team or group", "Due", "Finished"].map((name) =>
          el("th", { scope: "col", role: "columnheader", text: name }),
        ),
      ),
    ),
    el(
      "tbody",
      { role: "rowgroup" },
      [...assignments]
        .sort((a, b) => (a.due < b.due ? -1 : a.due > b.due ? 1 : 0))
        .map((a) => {
          const finished =
            a.status === "syncing"
              ? "waiting for the group's member list"
              : a.status === "unavailable"
                ? "member list not read yet"
                : finishedText(a);
          return el(
            "tr",
            { role: "row", "data-assignment": a.id },
            el("th", { scope: "row", role: "rowheader", text: a.title }),
            cell(
              "Team or group",
              {},
              a.group_name
                ? el("span", { class: "group-name", title: a.group, text: a.group_name })
                : el("span", { class: "group-id", text: a.group }),
            ),
            cell(
              "Due",
              {},
              dayElement(a.due),
              a.overdue
                ? el("span", { class: "badge badge--overdue", text: "Due date passed" })
                : null,
            ),
            cell(
              "Finished",
              {},
              el("span", {
                class: isNull(a.completed) ? "not-enough" : null,
                "data-figure": `assignment_${a.id}`,
                text: finished,
              }),
            ),
          );
        }),
    ),
  );
  replace($("assignments"), el("div", { class: "table-wrap" }, table));
}

function render(answer) {
  const org = answer.view;
  const view = org.view;
  const label = names(answer.labels);
  renderAsOf(view);
  renderFunnel(org.funnel);
  renderParticipation(org);
  renderOutcomes(org);
  replace(
    $("skills-chart"),
    skillHeatmap(view.skills, view.members, label, { who: WHO, noun: "People" }),
  );
  fillConfidence(view, "The organisation", {
    badge: $("org-calibration"),
    text: $("calibration-text"),
    note: $("confidence-note"),
    chart: $("confidence-chart"),
    trend: $("calibration-trend"),
  });
  renderAssignments(answer.assignments || []);
  replace(
    $("footer-note"),
    "These are group totals from a snapshot published at most once a day; the CSV and JSON " +
      "downloads hold the same figures. Nobody's individual answers are stored in them.",
  );
}

/** Someone without the admin role: what this page is, and the way to their own page. */
function showNotAdmin() {
  setLoading(false);
  replace(
    $("alert"),
    el(
      "div",
      { class: "notice notice--info", id: "not-admin" },
      el(
        "div",
        {},
        el("h2", { text: "This page is for programme admins" }),
        el("p", {
          text:
            "The organisation's figures are for the people who run the AI Ready programme: " +
            "they hold the AIReady.Admin app role, which your Microsoft 365 admin gives in " +
            "Microsoft Entra ID. Your own progress, skills and data are in My learning.",
        }),
        el(
          "p",
          { class: "actions" },
          el("a", {
            class: "button button--primary",
            href: withTheme(body.dataset.myLearningUrl),
            text: "Open My learning",
          }),
        ),
      ),
    ),
  );
}

function setUpDownload(tab, id, name, accept) {
  const link = $(id);
  link.addEventListener("click", async (event) => {
    event.preventDefault(); // a plain link can't carry the Teams sign-in token
    try {
      await tab.download(link.getAttribute("href"), name, accept);
    } catch (err) {
      showError(err);
    }
  });
}

async function organisationPage() {
  const tab = await startTab();
  if (!tab) return;
  setUpDownload(tab, "download-csv", "ai-ready-organisation.csv", "text/csv");
  setUpDownload(tab, "download-json", "ai-ready-organisation.json", "application/json");
  const load = async () => {
    try {
      render(await tab.getJson(body.dataset.api));
      setLoading(false);
      $("content").hidden = false;
      $("export-links").hidden = false;
    } catch (err) {
      $("content").hidden = true;
      $("export-links").hidden = true;
      if (err instanceof ApiError && err.status === 403) showNotAdmin();
      else showError(err, load);
    }
  };
  await load();
}

organisationPage().catch((err) => showError(err instanceof ApiError ? err : new ApiError(-1)));
