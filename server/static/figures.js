/**
 * Group figures shared by the team tab and the organisation page: names for ids, single
 * figures, the skill-gap heatmap, calibration, the weekly pulse charts and assignments.
 *
 * Any figure may be null, meaning "not enough responses yet": it is shown as that text (never
 * as 0), and only the figure that is null is hidden. ``who`` names the group in sentences
 * ("the team", "the organisation").
 */

import { HEAT_STEPS, bandBars, heatmap, shortWeek, trendChart } from "./charts.js";
import { NOT_ENOUGH, el, figure, formatNumber, replace } from "./tabs.js";

// Display names for the ids in a view; the server may send its own under "labels".
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
/** Calibration values: the badge's words, its style, and a short plain reading. */
export const CALIBRATION = {
  calibrated: ["Calibrated", "calibrated", "Confidence matches results"],
  "over-confident": ["Over-confident", "over-confident", "Sure more often than right"],
  "under-confident": ["Under-confident", "under-confident", "Right more often than sure"],
  mixed: ["Over- and under-confident", "mixed", "Too sure of some answers, too unsure of others"],
  unknown: ["Too few answers yet", "unknown", "Too few answers with a confidence rating yet"],
};
const CALIBRATION_EXPLAINED = {
  calibrated: (who) =>
    `${who}'s confidence matches its accuracy: people know when to trust an answer and when to check.`,
  "over-confident": (who) =>
    `${who} is sure more often than it is right: the habit that lets confident but wrong AI output through. Lessons on checking outputs help.`,
  "under-confident": (who) =>
    `${who} is right more often than it feels: people may distrust AI, and themselves, more than needed.`,
  mixed: (who) =>
    `${who} is sure too often on some answers and unsure too often on others: certainty should follow checking, not habit.`,
  unknown: () => "Calibration appears once enough answers come in.",
};
const HEAT_COLUMNS = [
  ["gap", "Gap"],
  ["developing", "Developing"],
  ["mastered", "Mastered"],
  ["not_assessed", "Not assessed"],
];

export const isNull = (value) => value === null || value === undefined;
const pct = (value) => figure(value, "%");
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function humanize(id) {
  const text = String(id).replace(/[-_]+/g, " ").trim();
  return capital(text);
}

/** Name look-ups for skill and track ids, preferring the server's ``labels``. */
export function names(labels) {
  return {
    skill: (id) => labels?.skills?.[id] || SKILL_NAMES[id] || humanize(id),
    track: (id) => labels?.tracks?.[id] || TRACK_NAMES[id] || humanize(id),
  };
}

/** "2026-12-01" → "1 Dec 2026" in the reader's locale (the ISO text if it isn't a date). */
export function day(iso) {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!found) return iso || "";
  const date = new Date(Number(found[1]), Number(found[2]) - 1, Number(found[3]));
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }).format(date);
}

/** A date as a <time> element. */
export function dayElement(iso) {
  return el("time", { datetime: iso, text: day(iso) });
}

/** "2026-W48" → the Sunday that ends that ISO week, as "YYYY-MM-DD" (null if malformed). */
export function weekEnd(week) {
  const found = /^(\d{4})-W(\d{2})$/.exec(week || "");
  if (!found) return null;
  const jan4 = new Date(Date.UTC(Number(found[1]), 0, 4));
  const monday1 = Date.UTC(Number(found[1]), 0, 4 - ((jan4.getUTCDay() + 6) % 7));
  const sunday = new Date(monday1 + ((Number(found[2]) - 1) * 7 + 6) * 86_400_000);
  return sunday.toISOString().slice(0, 10);
}

/**
 * One figure as a <dt>/<dd> group in a <div> (a <dl> allows nothing else); a detail such as
 * "by 10 people" is a second <dd>. Null shows "not enough responses yet".
 */
export function stat(key, label, value, { suffix = "", sub = null, className = "tile" } = {}) {
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

/** "W7 3, W8 not enough responses yet, …" for a chart's summary. */
export function weekList(trend, key, format = formatNumber) {
  return trend
    .map((p) => `${shortWeek(p.week)} ${isNull(p[key]) ? NOT_ENOUGH : format(p[key])}`)
    .join(", ");
}

/** The legend entry for hidden weeks, when a series has any. */
function hiddenLegend(values) {
  return values.some((v) => v === null) ? [["stub", NOT_ENOUGH]] : [];
}

const series = (points, key) => points.map((p) => (isNull(p[key]) ? null : p[key]));

// ---------------------------------------------------------------------------- calibration

/** What a calibration value (maybe null) reads as: [words, badge style, plain reading]. */
export function calibrationWords(value) {
  if (isNull(value)) return [NOT_ENOUGH, "unknown", NOT_ENOUGH];
  return CALIBRATION[value] || CALIBRATION.unknown;
}

/** A longer explanation of ``value`` for ``who`` ("The team"), or how it appears. */
export function calibrationExplained(value, who, threshold) {
  if (isNull(value)) {
    return `Calibration appears once at least ${threshold} people have answered with a confidence rating.`;
  }
  return (CALIBRATION_EXPLAINED[value] || CALIBRATION_EXPLAINED.unknown)(who);
}

/** A calibration value as a badge, or "not enough responses yet" in the hidden style. */
export function calibrationBadge(value, key) {
  if (isNull(value))
    return el("span", { class: "not-enough", "data-figure": key, text: NOT_ENOUGH });
  const [text, kind] = calibrationWords(value);
  return el("span", { class: `badge badge--${kind}`, "data-figure": key, text });
}

/**
 * Accuracy at each confidence level against the band where that level is the right call,
 * with how many people answered at each level (people, not answers: people answer at several
 * levels, so the counts overlap). A level's people and accuracy are hidden independently.
 */
export function confidenceChart(confidence) {
  const levels = confidence.levels;
  const level = (row) =>
    LEVELS[row.level] || {
      short: humanize(row.level),
      label: humanize(row.level),
      band: [0, 1],
      note: "",
    };
  const people = (row) => (isNull(row.people) ? null : `${formatNumber(row.people)} people`);
  const describe = (row) => {
    const parts = [];
    parts.push(isNull(row.people) ? `people: ${NOT_ENOUGH}` : people(row));
    parts.push(
      isNull(row.accuracy_pct)
        ? `right answers: ${NOT_ENOUGH}`
        : `${formatNumber(row.accuracy_pct)}% of their answers right; calibrated when ${level(row).note}`,
    );
    return `${level(row).label}: ${parts.join(", ")}`;
  };
  return bandBars({
    name: "calibration",
    caption: "Accuracy at each confidence level",
    sub: "How many people answered at each level (people answer at several levels, so these overlap), and how often those answers were right. The shaded band is where each level is the right call.",
    summary: `Accuracy per confidence level. ${levels.map(describe).join(". ")}.`,
    rows: levels.map((row) => ({
      label: isNull(row.people) ? level(row).short : `${level(row).short} · ${people(row)}`,
      pct: isNull(row.accuracy_pct) ? null : row.accuracy_pct,
      band: level(row).band,
      text: isNull(row.accuracy_pct) ? "" : `${formatNumber(row.accuracy_pct)}%`,
    })),
    legend: [
      ["1", "Share of right answers"],
      ["band", "Where this confidence level pays off"],
      ...(levels.some((r) => isNull(r.accuracy_pct)) ? [["hidden", NOT_ENOUGH]] : []),
    ],
    table: {
      columns: [
        "Confidence",
        "People who answered at this level",
        "Right answers",
        "Calibrated when",
      ],
      numeric: [false, true, true, false],
      rows: levels.map((row) => [
        level(row).label,
        figure(row.people),
        pct(row.accuracy_pct),
        level(row).note,
      ]),
    },
  });
}

// ---------------------------------------------------------------------------- skills

/**
 * The skill-gap heatmap: people at each level per skill, coloured by share of ``members``;
 * ``noun`` names the people ("Members"), ``who`` the group ("the team").
 */
export function skillHeatmap(skills, members, label, { who, noun }) {
  const hasHidden = skills.some((row) => HEAT_COLUMNS.some(([key]) => isNull(row[key])));
  const legend = [{ scale: HEAT_STEPS, low: "Fewer", high: `More of ${who}` }];
  if (hasHidden) legend.push(["hidden", NOT_ENOUGH]);
  return heatmap({
    name: "skill-gaps",
    caption: `${noun} at each level, per skill`,
    // Not "darker": on the dark and high-contrast themes the fuller cells are the lighter ones.
    sub: `The stronger the colour, the more of ${who} at that level`,
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
    total: members,
    legend,
    table: {
      columns: ["Skill", ...HEAT_COLUMNS.map(([, name]) => name)],
      numeric: [false, true, true, true, true],
      rows: skills.map((row) => [
        label.skill(row.skill),
        ...HEAT_COLUMNS.map(([key]) => figure(row[key])),
      ]),
    },
  });
}

// ---------------------------------------------------------------------------- weekly pulse

const responses = (p) => figure(p.pulse_responses);

/** Average pulse confidence (1-5) per week. */
export function pulseConfidenceChart(trend) {
  const values = series(trend, "pulse_confidence");
  return trendChart({
    name: "pulse-confidence",
    caption: "Confidence using AI in their role",
    sub: "Average answer, 1 (low) to 5 (high)",
    summary: `Average pulse confidence from 1 to 5 per week: ${weekList(trend, "pulse_confidence")}.`,
    weeks: trend.map((p) => p.week),
    line: { values, className: "c-line-1", dotClass: "c-dot-1" },
    yMin: 1,
    yMax: 5,
    height: 120,
    legend: hiddenLegend(values),
    table: {
      columns: ["Week", "Average confidence (1-5)", "Pulse answers"],
      numeric: [false, true, true],
      rows: trend.map((p) => [p.week, figure(p.pulse_confidence), responses(p)]),
    },
  });
}

/** Average minutes AI saved per person per week. */
export function minutesChart(trend) {
  const values = series(trend, "minutes_saved");
  return trendChart({
    name: "pulse-minutes",
    caption: "Minutes AI saved, per person",
    sub: "Average of the week's answers",
    summary: `Average minutes AI saved per person per week: ${weekList(trend, "minutes_saved")}.`,
    weeks: trend.map((p) => p.week),
    bars: { values, className: "c-bar-2" },
    height: 120,
    legend: hiddenLegend(values),
    table: {
      columns: ["Week", "Minutes saved (average)", "Pulse answers"],
      numeric: [false, true, true],
      rows: trend.map((p) => [p.week, figure(p.minutes_saved), responses(p)]),
    },
  });
}

/** People who caught an AI error per week. */
export function caughtChart(trend) {
  const values = series(trend, "caught_error");
  return trendChart({
    name: "pulse-caught",
    caption: "People who caught an AI error",
    sub: "Spotted a wrong or made-up AI answer that week",
    summary: `People who caught an AI error per week: ${weekList(trend, "caught_error")}.`,
    weeks: trend.map((p) => p.week),
    bars: { values },
    height: 120,
    legend: hiddenLegend(values),
    table: {
      columns: ["Week", "People who caught an AI error", "Pulse answers"],
      numeric: [false, true, true],
      rows: trend.map((p) => [p.week, figure(p.caught_error), responses(p)]),
    },
  });
}

/**
 * People active per week (bars; leaders as a line when ``leaders``), with the group's size
 * as the top of the scale when it is known.
 */
export function activeChart(
  trend,
  members,
  { noun = "People", leaders = false, height = 200 } = {},
) {
  const active = series(trend, "active");
  const leading = series(trend, "leaders_active");
  const hasLeaders = leaders && leading.some((v) => v !== null);
  const maxValue = Math.max(
    0,
    ...active.filter((v) => v !== null),
    ...(hasLeaders ? leading.filter((v) => v !== null) : []),
  );
  const yMax = !isNull(members) && members >= maxValue && members > 0 ? members : undefined;
  const legend = [["1", `${noun} active`]];
  if (hasLeaders) legend.push(["line", "Leaders active"]);
  legend.push(...hiddenLegend(active));
  const columns = ["Week", `${noun} active`];
  if (leaders) columns.push("Leaders active");
  return trendChart({
    name: "participation",
    caption: `${noun} active each week`,
    sub: "Did a lesson, a quiz or a review that week",
    summary:
      `${noun} active per week, last ${trend.length} weeks: ${weekList(trend, "active")}.` +
      (hasLeaders ? ` Leaders active: ${weekList(trend, "leaders_active")}.` : ""),
    weeks: trend.map((p) => p.week),
    bars: { values: active },
    line: hasLeaders ? { values: leading } : null,
    yMax,
    height,
    legend,
    table: {
      columns,
      numeric: columns.map((_, i) => i > 0),
      rows: trend.map((p) => [
        p.week,
        figure(p.active),
        ...(leaders ? [figure(p.leaders_active)] : []),
      ]),
    },
  });
}

// ---------------------------------------------------------------------------- assignments

/** "4 of 13 finished", or "not enough responses yet" when the group is too small to say. */
export function finishedText(assignment) {
  if (isNull(assignment.completed)) return NOT_ENOUGH;
  if (isNull(assignment.members)) return `${formatNumber(assignment.completed)} finished`;
  return `${formatNumber(assignment.completed)} of ${formatNumber(assignment.members)} finished`;
}

/** Calibration at each update of the confidence figures, newest first. */
export function calibrationTrend(points) {
  if (!points.length) return null;
  return el(
    "table",
    { class: "data", id: "calibration-trend-table" },
    el("caption", { text: "Calibration over time, at each update of the figures" }),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col", text: "Updated" }),
        el("th", { scope: "col", text: "Calibration" }),
      ),
    ),
    el(
      "tbody",
      {},
      [...points].reverse().map((p) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, dayElement(p.published_on)),
          el("td", { text: isNull(p.calibration) ? NOT_ENOUGH : CALIBRATION[p.calibration][0] }),
        ),
      ),
    ),
  );
}

/**
 * Fill the "Confidence and calibration" card of a group's view: the calibration badge and
 * its explanation for ``who`` ("The team"), how many people answered, the confidence chart
 * and calibration over time. ``parts`` holds the card's elements by role.
 */
export function fillConfidence(view, who, parts) {
  const confidence = view.confidence;
  replace(parts.badge, calibrationBadge(confidence.calibration, "calibration"));
  parts.text.textContent = calibrationExplained(confidence.calibration, who, view.threshold);
  replace(
    parts.note,
    isNull(confidence.answerers)
      ? null
      : [
          el("span", { "data-figure": "answerers", text: formatNumber(confidence.answerers) }),
          " people answered",
        ],
  );
  replace(parts.chart, confidenceChart(confidence));
  replace(parts.trend, calibrationTrend(view.calibration_trend || []));
}
