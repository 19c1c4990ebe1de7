/**
 * The team (leader) tab and its configuration page.
 *
 * The team view shows group figures only, exactly as the server's privacy rules let them
 * through: any figure may be null, meaning "not enough responses yet", and is shown as that
 * text (never as 0). The configuration page registers the tab's settings with Teams.
 */

import { HEAT_STEPS, bandBars, barList, heatmap, shortWeek, trendChart } from "./charts.js";
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
} from "./tabs.js";

const body = document.body;
const $ = (id) => document.getElementById(id);

// Display names for the ids in the view; the server may send its own under "labels".
const SKILL_NAMES = {
  "ai-literacy": "AI literacy",
  prompting: "Prompting",
  "data-interpretation": "Data interpretation",
  "critical-thinking": "Critical thinking",
  "responsible-ai": "Responsible AI",
};
const TRACK_NAMES = {
  foundation: "Foundation",
  hr: "HR",
  marketing: "Marketing",
  finance: "Finance",
  it: "IT",
  sales: "Sales",
  support: "Customer support",
  engineering: "Software engineering",
  leaders: "Leaders",
};
const LEVELS = {
  low: {
    short: "Low",
    label: "Low confidence",
    band: [0, 2 / 3],
    note: "right under 67% of the time",
  },
  medium: {
    short: "Medium",
    label: "Medium confidence",
    band: [2 / 3, 0.8],
    note: "right 67-80% of the time",
  },
  high: {
    short: "High",
    label: "High confidence",
    band: [0.8, 1],
    note: "right over 80% of the time",
  },
};
const CALIBRATION_TEXT = {
  calibrated: [
    "Calibrated",
    "calibrated",
    "The team's confidence matches its accuracy: people know when to trust an answer and when to check.",
  ],
  "over-confident": [
    "Over-confident",
    "over-confident",
    "The team is sure more often than it is right: the habit that lets confident but wrong AI output through. Lessons on checking outputs help.",
  ],
  "under-confident": [
    "Under-confident",
    "under-confident",
    "The team is right more often than it feels: people may distrust AI, and themselves, more than needed.",
  ],
  mixed: [
    "Over- and under-confident",
    "mixed",
    "The team is sure too often on some answers and unsure too often on others: certainty should follow checking, not habit.",
  ],
  unknown: ["Too few answers yet", "unknown", "Calibration appears once enough answers come in."],
};
const HEAT_COLUMNS = [
  ["gap", "Gap"],
  ["developing", "Developing"],
  ["mastered", "Mastered"],
  ["not_assessed", "Not assessed"],
];

function humanize(id) {
  const text = String(id).replace(/[-_]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function names(labels) {
  return {
    skill: (id) => labels?.skills?.[id] || SKILL_NAMES[id] || humanize(id),
    track: (id) => labels?.tracks?.[id] || TRACK_NAMES[id] || humanize(id),
  };
}

const pct = (value) => figure(value, "%");
const isNull = (value) => value === null || value === undefined;

/** "2026-12-01" → "1 Dec 2026" in the reader's locale (the ISO text if it isn't a date). */
function day(iso) {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!found) return iso;
  const date = new Date(Number(found[1]), Number(found[2]) - 1, Number(found[3]));
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }).format(date);
}

/**
 * One figure as a <dt>/<dd> group in a <div> (a <dl> allows nothing else); a detail such as
 * "by 10 people" is a second <dd>. Null shows "not enough responses yet".
 */
function stat(key, label, value, { suffix = "", sub = null, className = "tile" } = {}) {
  const hidden = isNull(value);
  return el(
    "div",
    { class: className },
    el("dt", { text: label }),
    el("dd", {
      class: hidden ? "not-enough" : null,
      "data-figure": key,
      text: hidden ? NOT_ENOUGH : formatNumber(value) + suffix,
    }),
    sub ? el("dd", { class: "tile-sub" }, sub) : null,
  );
}

function weekList(trend, key, format = formatNumber) {
  return trend
    .map((p) => `${shortWeek(p.week)} ${isNull(p[key]) ? NOT_ENOUGH : format(p[key])}`)
    .join(", ");
}

// ---------------------------------------------------------------------------- sections

function renderOverview(view) {
  $("threshold-text").textContent =
    `Figures appear when at least ${view.threshold} people contribute. Smaller groups show ` +
    `"${NOT_ENOUGH}", so no one can be singled out.`;
  const now = view.trend.find((p) => p.week === view.week);
  const learning = view.learning;
  replace(
    $("tiles"),
    stat("members", "Members", view.members),
    stat("started", "Started", view.started),
    stat("not_started", "Not started yet", view.not_started),
    stat("active_last_week", "Active last week", now ? now.active : null),
    stat("lessons_completed", "Lessons completed", learning.lessons_completed, {
      sub: isNull(learning.learners)
        ? null
        : [
            "by ",
            el("span", { "data-figure": "learners", text: formatNumber(learning.learners) }),
            " people",
          ],
    }),
    stat("accuracy_pct", "Quiz accuracy", learning.accuracy_pct, {
      suffix: "%",
      sub: isNull(learning.mark_pct)
        ? null
        : [
            "Confidence-weighted mark ",
            el("span", { "data-figure": "mark_pct", text: `${formatNumber(learning.mark_pct)}%` }),
          ],
    }),
  );
}

function renderParticipation(view) {
  const trend = view.trend;
  const weeks = trend.map((p) => p.week);
  const active = trend.map((p) => (isNull(p.active) ? null : p.active));
  const leaders = trend.map((p) => (isNull(p.leaders_active) ? null : p.leaders_active));
  const hasLeaders = leaders.some((v) => v !== null);
  const maxValue = Math.max(
    0,
    ...active.filter((v) => v !== null),
    ...leaders.filter((v) => v !== null),
  );
  const yMax =
    !isNull(view.members) && view.members >= maxValue && view.members > 0
      ? view.members
      : undefined;
  const legend = [["1", "Members active"]];
  if (hasLeaders) legend.push(["line", "Leaders active"]);
  if (active.some((v) => v === null)) legend.push(["stub", NOT_ENOUGH]);
  replace(
    $("participation-chart"),
    trendChart({
      name: "participation",
      caption: "Members active each week",
      sub: "Did a lesson, a quiz or a review that week",
      summary:
        `Members active per week, last ${weeks.length} weeks: ${weekList(trend, "active")}.` +
        (hasLeaders ? ` Leaders active: ${weekList(trend, "leaders_active")}.` : ""),
      weeks,
      bars: { values: active },
      line: hasLeaders ? { values: leaders } : null,
      yMax,
      height: 200,
      legend,
      table: {
        columns: ["Week", "Members active", "Leaders active"],
        numeric: [false, true, true],
        rows: trend.map((p) => [p.week, figure(p.active), figure(p.leaders_active)]),
      },
    }),
  );
}

function renderTracks(view, label) {
  const tracks = view.tracks;
  if (!tracks.length) {
    replace(
      $("tracks-chart"),
      el("p", {
        class: "muted",
        text: `No track has been completed by at least ${view.threshold} people yet.`,
      }),
    );
    return;
  }
  const max = isNull(view.members)
    ? Math.max(1, ...tracks.map((t) => t.completed || 0))
    : view.members;
  replace(
    $("tracks-chart"),
    barList({
      name: "track-completion",
      caption: "Members who completed each track",
      summary: `Members who completed each track: ${tracks.map((t) => `${label.track(t.track)} ${figure(t.completed)}`).join(", ")}.`,
      barClass: "c-bar-2",
      rows: tracks.map((t) => ({
        label: label.track(t.track),
        value: isNull(t.completed) ? null : t.completed,
        max,
        text: isNull(view.members)
          ? formatNumber(t.completed ?? 0)
          : `${formatNumber(t.completed ?? 0)} of ${formatNumber(view.members)}`,
      })),
      table: {
        columns: ["Track", "Members who completed it"],
        numeric: [false, true],
        rows: tracks.map((t) => [label.track(t.track), figure(t.completed)]),
      },
    }),
  );
}

function renderSkills(view, label) {
  const skills = view.skills;
  const hasHidden = skills.some((row) => HEAT_COLUMNS.some(([key]) => isNull(row[key])));
  const legend = [{ scale: HEAT_STEPS, low: "Fewer", high: "More of the team" }];
  if (hasHidden) legend.push(["hidden", NOT_ENOUGH]);
  replace(
    $("skills-chart"),
    heatmap({
      name: "skill-gaps",
      caption: "Members at each level, per skill",
      // Not "darker": on the dark and high-contrast themes the fuller cells are the lighter ones.
      sub: "The stronger the colour, the more of the team at that level",
      summary:
        "Skill-gap heatmap. " +
        skills
          .map(
            (row) =>
              `${label.skill(row.skill)}: ${HEAT_COLUMNS.map(([key, name]) => `${name.toLowerCase()} ${figure(row[key])}`).join(", ")}`,
          )
          .join(". ") +
        ".",
      columns: HEAT_COLUMNS.map(([, name]) => name),
      rows: skills.map((row) => ({
        label: label.skill(row.skill),
        values: HEAT_COLUMNS.map(([key]) => (isNull(row[key]) ? null : row[key])),
      })),
      total: view.members,
      legend,
      table: {
        columns: ["Skill", ...HEAT_COLUMNS.map(([, name]) => name)],
        numeric: [false, true, true, true, true],
        rows: skills.map((row) => [
          label.skill(row.skill),
          ...HEAT_COLUMNS.map(([key]) => figure(row[key])),
        ]),
      },
    }),
  );
}

function renderConfidence(view) {
  const confidence = view.confidence;
  const known = !isNull(confidence.calibration);
  const [text, kind, explanation] = known
    ? CALIBRATION_TEXT[confidence.calibration] || CALIBRATION_TEXT.unknown
    : [
        NOT_ENOUGH,
        "unknown",
        `Calibration appears once at least ${view.threshold} people have answered with a confidence rating.`,
      ];
  replace(
    $("team-calibration"),
    el("span", { class: `badge badge--${kind}`, "data-figure": "calibration", text }),
  );
  $("calibration-text").textContent = explanation;
  replace(
    $("confidence-note"),
    isNull(confidence.answerers)
      ? null
      : [
          el("span", { "data-figure": "answerers", text: formatNumber(confidence.answerers) }),
          " people answered",
        ],
  );
  const levels = confidence.levels;
  replace(
    $("confidence-chart"),
    bandBars({
      name: "calibration",
      caption: "Accuracy at each confidence level",
      sub: "The shaded band is where each level is the right call",
      summary:
        "Accuracy per confidence level. " +
        levels
          .map((row) => {
            const level = LEVELS[row.level] || { label: humanize(row.level), note: "" };
            return isNull(row.accuracy_pct)
              ? `${level.label}: ${NOT_ENOUGH}`
              : `${level.label}: ${formatNumber(row.accuracy_pct)}% right over ${formatNumber(row.answers)} answers; calibrated when ${level.note}`;
          })
          .join(". ") +
        ".",
      rows: levels.map((row) => {
        const level = LEVELS[row.level] || { short: humanize(row.level), band: [0, 1] };
        return {
          label: level.short,
          pct: isNull(row.accuracy_pct) ? null : row.accuracy_pct,
          band: level.band,
          text: isNull(row.accuracy_pct) ? "" : `${formatNumber(row.accuracy_pct)}%`,
        };
      }),
      legend: [
        ["1", "Share of right answers"],
        ["band", "Where this confidence level pays off"],
        ...(levels.some((r) => isNull(r.accuracy_pct)) ? [["hidden", NOT_ENOUGH]] : []),
      ],
      table: {
        columns: ["Confidence", "People", "Answers", "Right answers", "Calibrated when"],
        numeric: [false, true, true, true, false],
        rows: levels.map((row) => {
          const level = LEVELS[row.level] || { label: humanize(row.level), note: "" };
          return [
            level.label,
            figure(row.people),
            figure(row.answers),
            pct(row.accuracy_pct),
            level.note,
          ];
        }),
      },
    }),
  );
}

function renderLeaders(view) {
  const leaders = view.leaders;
  const list = $("leaders");
  replace(
    list,
    stat("leaders", "Leaders", leaders.leaders, { className: "" }),
    stat("leaders_started", "Leaders who started", leaders.started, { className: "" }),
    stat("leaders_active_last_week", "Leaders active last week", leaders.active_last_week, {
      className: "",
    }),
    stat(
      "leaders_challenge_last_week",
      "Leaders who did last week's challenge",
      leaders.challenge_last_week,
      { className: "" },
    ),
  );
  const note = $("leaders-note");
  note.hidden = !isNull(leaders.leaders);
  note.textContent = isNull(leaders.leaders)
    ? `Shown once the team has at least ${view.threshold} leaders (team owners and designated ` +
      "leaders), so no single leader is exposed."
    : "";
}

function renderPulse(view) {
  const trend = view.trend;
  const weeks = trend.map((p) => p.week);
  const values = (key) => trend.map((p) => (isNull(p[key]) ? null : p[key]));
  const hiddenLegend = (key) => (values(key).some((v) => v === null) ? [["stub", NOT_ENOUGH]] : []);
  const responses = (p) => figure(p.pulse_responses);
  replace(
    $("pulse-charts"),
    trendChart({
      name: "pulse-confidence",
      caption: "Confidence using AI in their role",
      sub: "Average answer, 1 (low) to 5 (high)",
      summary: `Average pulse confidence from 1 to 5 per week: ${weekList(trend, "pulse_confidence")}.`,
      weeks,
      line: { values: values("pulse_confidence"), className: "c-line-1", dotClass: "c-dot-1" },
      yMin: 1,
      yMax: 5,
      height: 120,
      legend: hiddenLegend("pulse_confidence"),
      table: {
        columns: ["Week", "Average confidence (1-5)", "Pulse answers"],
        numeric: [false, true, true],
        rows: trend.map((p) => [p.week, figure(p.pulse_confidence), responses(p)]),
      },
    }),
    trendChart({
      name: "pulse-minutes",
      caption: "Minutes AI saved, per person",
      sub: "Average of the week's answers",
      summary: `Average minutes AI saved per person per week: ${weekList(trend, "minutes_saved")}.`,
      weeks,
      bars: { values: values("minutes_saved"), className: "c-bar-2" },
      height: 120,
      legend: hiddenLegend("minutes_saved"),
      table: {
        columns: ["Week", "Minutes saved (average)", "Pulse answers"],
        numeric: [false, true, true],
        rows: trend.map((p) => [p.week, figure(p.minutes_saved), responses(p)]),
      },
    }),
    trendChart({
      name: "pulse-caught",
      caption: "People who caught an AI error",
      sub: "Spotted a wrong or made-up AI answer that week",
      summary: `People who caught an AI error per week: ${weekList(trend, "caught_error")}.`,
      weeks,
      bars: { values: values("caught_error") },
      height: 120,
      legend: hiddenLegend("caught_error"),
      table: {
        columns: ["Week", "People who caught an AI error", "Pulse answers"],
        numeric: [false, true, true],
        rows: trend.map((p) => [p.week, figure(p.caught_error), responses(p)]),
      },
    }),
  );
}

function render(view, labels) {
  const label = names(labels);
  renderOverview(view);
  renderParticipation(view);
  renderTracks(view, label);
  renderSkills(view, label);
  renderConfidence(view);
  renderLeaders(view);
  renderPulse(view);
  // Leaders read a published snapshot (at most one a day) that runs to the last closed week.
  const published = isNull(view.published_on)
    ? null
    : [
        ", published on ",
        el("time", { datetime: view.published_on, text: day(view.published_on) }),
      ];
  replace(
    $("footer-note"),
    `Figures run to week ${view.week}`,
    published,
    ". They are group totals, updated at most once a day; the CSV holds the same figures. " +
      "Nobody's individual answers are stored in them.",
  );
}

// While the first roster sync runs the page looks again on its own: soon at first, then less
// and less often, and after the last look it says what to do instead of waiting forever.
const SYNC_CHECKS_MS = [2_000, 4_000, 8_000, 15_000, 30_000, 60_000];

/** A notice in #status (announced politely): a title, paragraphs or nodes, then actions. */
function showNotice(id, kind, title, parts, actions = []) {
  setLoading(false);
  replace(
    $("status"),
    el(
      "div",
      { class: `notice notice--${kind}`, id },
      el(
        "div",
        {},
        el("h2", { text: title }),
        parts.map((part) => (typeof part === "string" ? el("p", { text: part }) : part)),
        actions.length ? el("p", { class: "actions" }, actions) : null,
      ),
    ),
  );
}

function actionButton(text, onClick) {
  const button = el("button", { type: "button", class: "button", text });
  button.addEventListener("click", onClick);
  return button;
}

const CONSENT_HINT =
  "If they still don't appear, ask your Microsoft 365 admin to grant AI Ready's Microsoft " +
  "Graph consent, which lets it read the team's member list.";

/** The first roster sync is running: say so, with a way to look now. */
function showSyncing(checkNow) {
  if ($("syncing")) return; // already shown: don't announce it again at every look
  showNotice(
    "syncing",
    "info",
    "Getting ready",
    [
      "Collecting your team's figures: AI Ready is reading the team's member list. This " +
        "usually takes less than a minute.",
      el(
        "p",
        { class: "loading-inline" },
        el("span", { class: "spinner", "aria-hidden": "true" }),
        "This page checks again on its own.",
      ),
    ],
    [actionButton("Refresh", checkNow)],
  );
}

/** The sync still hasn't finished after the last automatic look. */
function showSlowSync(checkNow) {
  showNotice(
    "sync-slow",
    "warning",
    "This is taking longer than usual",
    [
      "Your team's figures appear once AI Ready has read the team's member list, and that " +
        "hasn't finished yet. Reopen this tab in a few minutes.",
      CONSENT_HINT,
    ],
    [actionButton("Check again", checkNow)],
  );
}

/** No figures yet and no roster sync running (e.g. the member list could not be read). */
function showUnavailable(checkNow) {
  showNotice(
    "unavailable",
    "warning",
    "Your team's figures aren't available yet",
    [
      "They appear once AI Ready has read the team's member list, and it couldn't read it " +
        "this time.",
      el("ul", {}, el("li", { text: "Reopen this tab later." }), el("li", { text: CONSENT_HINT })),
    ],
    [actionButton("Check again", checkNow)],
  );
}

/** A member who doesn't lead the team: what this view is, and the way to their own page. */
function showNotLeader(demo) {
  setLoading(false);
  const theme = demo ? new URLSearchParams(window.location.search).get("theme") : null;
  const href = body.dataset.myLearningUrl + (theme ? `?theme=${encodeURIComponent(theme)}` : "");
  replace(
    $("alert"),
    el(
      "div",
      { class: "notice notice--info", id: "not-leader" },
      el(
        "div",
        {},
        el("h2", { text: "This view is for the team's leaders" }),
        el("p", {
          text:
            "This view is for the team's owners and the leaders designated for this team. " +
            "Your own progress, skills and data are in My learning.",
        }),
        el(
          "p",
          { class: "actions" },
          el("a", { class: "button button--primary", href, text: "Open My learning" }),
        ),
      ),
    ),
  );
}

async function teamPage() {
  const tab = await startTab();
  if (!tab) return;
  const groupId = tab.demo ? body.dataset.demoTeam : tab.context?.team?.groupId;
  if (!groupId) {
    setLoading(false);
    replace(
      $("alert"),
      el(
        "div",
        { class: "notice notice--info" },
        el("p", { text: "Add AI Ready as a tab in a team channel to see your team's figures." }),
      ),
    );
    return;
  }
  const base = `${body.dataset.api}/${encodeURIComponent(groupId)}`;
  const csv = $("download-csv");
  csv.href = `${base}/export.csv`;
  csv.addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      await tab.download(csv.href, "ai-ready-team.csv", "text/csv");
    } catch (err) {
      showError(err);
    }
  });

  let checks = 0; // automatic looks since the last one the leader asked for
  let nextCheck = null;
  const load = async () => {
    clearTimeout(nextCheck);
    try {
      const answer = await tab.getJson(`${base}/view`);
      if (answer.status === "ready" && answer.view) {
        render(answer.view, answer.labels);
        renderTeamChallenge(answer.team_challenges || []);
        setLoading(false);
        $("content").hidden = false;
        csv.hidden = false;
        return;
      }
      $("content").hidden = true;
      csv.hidden = true;
      if (answer.status !== "syncing") {
        showUnavailable(checkNow); // "unavailable" (or anything new): nothing to wait for
      } else if (checks < SYNC_CHECKS_MS.length) {
        showSyncing(checkNow);
        nextCheck = setTimeout(load, SYNC_CHECKS_MS[checks]);
        checks += 1;
      } else {
        showSlowSync(checkNow);
      }
    } catch (err) {
      $("content").hidden = true;
      csv.hidden = true;
      if (err instanceof ApiError && err.status === 403) showNotLeader(tab.demo);
      else showError(err, load);
    }
  };
  const checkNow = () => {
    checks = 0;
    replace($("status"));
    setLoading(true, "Loading your team's figures…");
    load();
  };
  const form = $("team-challenge");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("team-challenge-result");
    const button = $("team-challenge-send");
    button.disabled = true;
    result.textContent = "Sending…";
    try {
      const response = await tab.api(`${base}/challenge`, {
        method: "POST",
        json: { challenge: $("team-challenge-choice").value },
      });
      const answer = await response.json();
      result.textContent = answer.challenge
        ? `"${answer.challenge.title}" is ${answer.status}.`
        : "The team's challenge has already been sent this week.";
    } catch (err) {
      result.textContent =
        err.status === 403
          ? "Only the team's owners and designated leaders can do this."
          : "That didn't work. Please try again in a minute.";
    } finally {
      button.disabled = false;
    }
  });
  await load();
}

function renderTeamChallenge(challenges) {
  const form = $("team-challenge");
  form.hidden = challenges.length === 0;
  const select = $("team-challenge-choice");
  const chosen = select.value;
  replace(
    select,
    ...challenges.map((c) =>
      el("option", {
        value: c.id,
        text: `${c.title} (about ${c.minutes} min)${c.suggested ? " · this week's suggestion" : ""}`,
      }),
    ),
  );
  const keep = challenges.find((c) => c.id === chosen) || challenges.find((c) => c.suggested);
  if (keep) select.value = keep.id;
}

// ---------------------------------------------------------------------------- config page

async function configPage() {
  const tab = await startTab();
  if (!tab) return;
  const status = $("status");
  if (tab.demo) {
    replace(
      status,
      el("p", {
        class: "fine-print",
        text: "Local demo mode: in Teams, Save adds the tab to the channel.",
      }),
    );
    return;
  }
  const config = window.microsoftTeams.pages.config;
  config.registerOnSaveHandler((saveEvent) => {
    const url = `${window.location.origin}/tabs/team`;
    config
      .setConfig({
        entityId: "ai-ready-team",
        contentUrl: url,
        websiteUrl: url,
        suggestedDisplayName: "AI Ready team",
      })
      .then(() => saveEvent.notifySuccess())
      .catch(() => saveEvent.notifyFailure("Couldn't save the tab. Try again."));
  });
  config.setValidityState(true);
  replace(status, el("p", { class: "fine-print", text: "Select Save to add the tab." }));
}

if (body.dataset.page === "team-config") {
  configPage();
} else {
  teamPage().catch((err) => showError(err instanceof ApiError ? err : new ApiError(-1)));
}
