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
  hiddenLegend,
  isNull,
  labelled,
  minutesChart,
  names,
  pulseConfidenceChart,
  series,
  skillHeatmap,
  stat,
  thresholdText,
  weekEnd,
  weekList,
} from "./figures.js";
import { t, tn } from "./i18n.js";
import {
  ApiError,
  el,
  figure,
  formatList,
  formatNumber,
  formatPercent,
  replace,
  setLoading,
  showError,
  startTab,
  withNodes,
  withPageParams,
} from "./tabs.js";

const body = document.body;
const $ = (id) => document.getElementById(id);
const GROUP = "organisation";

// ---------------------------------------------------------------------------- sections

function renderAsOf(view) {
  const end = weekEnd(view.week);
  const parts = {
    week: el("span", { "data-figure": "week", text: view.week }),
    end: end ? dayElement(end) : null,
    date: isNull(view.published_on) ? null : dayElement(view.published_on),
  };
  let message;
  if (isNull(view.published_on) && end) {
    // TRANSLATORS: {week} is an ISO week such as "2026-W48"; {end} and {date} are dates.
    message = t("Figures for weeks up to {week} (the week ending {end}), not yet published.");
  } else if (isNull(view.published_on)) {
    message = t("Figures for weeks up to {week}, not yet published.");
  } else if (end) {
    message = t("Figures as of {date}, for weeks up to {week} (the week ending {end}).");
  } else {
    message = t("Figures as of {date}, for weeks up to {week}.");
  }
  replace($("as-of"), ...withNodes(message, parts));
  $("threshold-text").textContent = thresholdText(view.threshold);
}

function renderFunnel(funnel) {
  const first = funnel.find((step) => !isNull(step.people));
  const base = first && first.people > 0 ? first.people : null;
  const max = Math.max(1, ...funnel.map((step) => step.people || 0));
  const barText = (step) => {
    const people = formatNumber(step.people ?? 0);
    if (base === null || isNull(step.people)) return people;
    // TRANSLATORS: a step of the adoption funnel: people, and their share of the first step.
    return t("{people} ({share})", { people, share: formatPercent((100 * step.people) / base) });
  };
  const steps = formatList(funnel.map((step) => labelled(step.label, figure(step.people))));
  replace(
    $("funnel-chart"),
    barList({
      name: "funnel",
      caption: t("How far people have come"),
      sub:
        base === null
          ? null
          : tn(
              "Share of the {n} person at the first step",
              "Share of the {n} people at the first step",
              base,
            ),
      summary: t("Adoption funnel: {steps}.", { steps }),
      tableToggle: t("Show the figures as a table"),
      rows: funnel.map((step) => ({
        label: step.label,
        value: isNull(step.people) ? null : step.people,
        max,
        text: barText(step),
      })),
      table: {
        // TRANSLATORS: a column heading: a step of the adoption funnel.
        columns: [t("Step"), t("People")],
        numeric: [false, true],
        rows: funnel.map((step) => [step.label, figure(step.people)]),
      },
    }),
  );
}

function renderParticipation(org) {
  const view = org.view;
  const challenges = org.challenges;
  const values = series(challenges, "people");
  $("participation-note").textContent = tn("Last {n} week", "Last {n} weeks", view.trend.length);
  replace(
    $("participation-charts"),
    activeChart(view.trend, view.members, { group: GROUP, height: 150 }),
    trendChart({
      name: "challenges",
      caption: t("People who did the week's challenge"),
      sub: t("A short practice task, sent once a week"),
      summary: t("People who did the week's challenge, per week: {weeks}.", {
        weeks: weekList(challenges, "people"),
      }),
      weeks: challenges.map((c) => c.week),
      bars: { values, className: "c-bar-2" },
      height: 150,
      legend: hiddenLegend(values),
      table: {
        columns: [t("Week"), t("People who did the challenge")],
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
    stat("hours_saved_per_month", t("Hours saved per month"), org.hours_saved_per_month, {
      sub: isNull(org.hours_saved_per_month)
        ? null
        : t("by the people who answered the weekly pulse"),
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
      el("p", { class: "muted", text: t("No track has been assigned to a team or group yet.") }),
    );
    return;
  }
  // Explicit roles: the narrow layout restyles rows as cards, which can drop table semantics.
  const cell = (label, attrs, ...children) =>
    el("td", { role: "cell", "data-label": label, ...attrs }, ...children);
  const columns = {
    track: t("Track"),
    group: t("Team or group"),
    // TRANSLATORS: a column heading: the date an assignment is due.
    due: t("Due"),
    // TRANSLATORS: a column heading: how many people finished the assigned track.
    finished: t("Finished"),
  };
  const table = el(
    "table",
    { class: "data stacked", id: "assignments-table", role: "table" },
    el("caption", { class: "visually-hidden", text: t("Assignments, soonest due first") }),
    el(
      "thead",
      { role: "rowgroup" },
      el(
        "tr",
        { role: "row" },
        [columns.track, columns.group, columns.due, columns.finished].map((name) =>
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
              ? t("waiting for the group's member list")
              : a.status === "unavailable"
                ? t("member list not read yet")
                : finishedText(a);
          return el(
            "tr",
            { role: "row", "data-assignment": a.id },
            el("th", { scope: "row", role: "rowheader", text: a.title }),
            cell(
              columns.group,
              {},
              a.group_name
                ? el("span", { class: "group-name", title: a.group, text: a.group_name })
                : el("span", { class: "group-id", text: a.group }),
            ),
            cell(
              columns.due,
              {},
              dayElement(a.due),
              a.overdue
                ? el("span", { class: "badge badge--overdue", text: t("Due date passed") })
                : null,
            ),
            cell(
              columns.finished,
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
    skillHeatmap(view.skills, view.members, label, { group: GROUP }),
  );
  fillConfidence(view, GROUP, {
    badge: $("org-calibration"),
    text: $("calibration-text"),
    note: $("confidence-note"),
    chart: $("confidence-chart"),
    trend: $("calibration-trend"),
  });
  renderAssignments(answer.assignments || []);
  replace(
    $("footer-note"),
    t(
      "These are group totals from a snapshot published at most once a day; the CSV and JSON downloads hold the same figures. Nobody's individual answers are stored in them.",
    ),
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
        el("h2", { text: t("This page is for programme admins") }),
        el("p", {
          // TRANSLATORS: "AIReady.Admin" is the app role's technical name; keep it as it is.
          text: t(
            "The organisation's figures are for the people who run the AI Ready programme: they hold the AIReady.Admin app role, which your Microsoft 365 admin gives in Microsoft Entra ID. Your own progress, skills and data are in My learning.",
          ),
        }),
        el(
          "p",
          { class: "actions" },
          el("a", {
            class: "button button--primary",
            href: withPageParams(body.dataset.myLearningUrl),
            // TRANSLATORS: "My learning" is the name of the personal tab.
            text: t("Open My learning"),
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
