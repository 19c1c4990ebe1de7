/**
 * Group figures shared by the team tab and the organisation page: names for ids, single
 * figures, the skill-gap heatmap, calibration, the weekly pulse charts and assignments.
 *
 * Any figure may be null, meaning "not enough responses yet": it is shown as that text (never
 * as 0), and only the figure that is null is hidden. ``group`` says whose figures they are
 * ("team" or "organisation"): each has its own whole sentences, so translators never have to
 * fit a group's name into a sentence.
 */

import { HEAT_STEPS, bandBars, heatmap, shortWeek, trendChart } from "./charts.js";
import { formatDate, t, tn } from "./i18n.js";
import {
  NOT_ENOUGH,
  el,
  figure,
  formatList,
  formatNumber,
  formatPercent,
  replace,
  withNodes,
} from "./tabs.js";

/** "67-80%": a range of percentages (the sign written once, where the locale puts it). */
function percentRange(low, high) {
  const range = `${formatNumber(low)}-${formatNumber(high)}`;
  return formatPercent(high).replace(formatNumber(high), range);
}

// Display names for the ids in a view; the server may send its own under "labels".
const SKILL_NAMES = {
  "ai-literacy": t("AI literacy"),
  prompting: t("Prompting"),
  "data-interpretation": t("Data interpretation"),
  "critical-thinking": t("Critical thinking"),
  "responsible-ai": t("Responsible AI"),
};
const TRACK_NAMES = {
  foundation: t("Foundation"),
  // TRANSLATORS: the learning track for Human Resources.
  hr: t("HR"),
  marketing: t("Marketing"),
  finance: t("Finance"),
  // TRANSLATORS: the learning track for Information Technology.
  it: t("IT"),
  sales: t("Sales"),
  support: t("Customer support"),
  engineering: t("Software engineering"),
  leaders: t("Leaders"),
};
const LEVELS = {
  low: {
    // TRANSLATORS: a confidence level an answer was given at (low, medium, high).
    short: t("Low"),
    label: t("Low confidence"),
    band: [0, 2 / 3],
    // TRANSLATORS: completes "calibrated when …": answers at low confidence should be right
    // less than {percent} ("67%") of the time.
    note: t("right under {percent} of the time", { percent: formatPercent(67) }),
  },
  medium: {
    // TRANSLATORS: a confidence level an answer was given at (low, medium, high).
    short: t("Medium"),
    label: t("Medium confidence"),
    band: [2 / 3, 0.8],
    // TRANSLATORS: completes "calibrated when …"; {range} is "67-80%".
    note: t("right {range} of the time", { range: percentRange(67, 80) }),
  },
  high: {
    // TRANSLATORS: a confidence level an answer was given at (low, medium, high).
    short: t("High"),
    label: t("High confidence"),
    band: [0.8, 1],
    // TRANSLATORS: completes "calibrated when …"; {percent} is "80%".
    note: t("right over {percent} of the time", { percent: formatPercent(80) }),
  },
};
/** Calibration values: the badge's words, its style, and a short plain reading. */
export const CALIBRATION = {
  // TRANSLATORS: a calibration badge: a group's confidence matches how often it is right.
  calibrated: [t("Calibrated"), "calibrated", t("Confidence matches results")],
  // TRANSLATORS: a calibration badge: sure more often than right.
  "over-confident": [t("Over-confident"), "over-confident", t("Sure more often than right")],
  // TRANSLATORS: a calibration badge: right more often than sure.
  "under-confident": [t("Under-confident"), "under-confident", t("Right more often than sure")],
  mixed: [
    // TRANSLATORS: a calibration badge: over-confident on some answers, under- on others.
    t("Over- and under-confident"),
    "mixed",
    t("Too sure of some answers, too unsure of others"),
  ],
  // TRANSLATORS: a calibration badge when there are not enough rated answers to tell.
  unknown: [t("Too few answers yet"), "unknown", t("Too few answers with a confidence rating yet")],
};

/** What each group's page says in sentences that name the group. */
const GROUPS = {
  team: {
    calibration: {
      calibrated: t(
        "The team's confidence matches its accuracy: people know when to trust an answer and when to check.",
      ),
      "over-confident": t(
        "The team is sure more often than it is right: the habit that lets confident but wrong AI output through. Lessons on checking outputs help.",
      ),
      "under-confident": t(
        "The team is right more often than it feels: people may distrust AI, and themselves, more than needed.",
      ),
      mixed: t(
        "The team is sure too often on some answers and unsure too often on others: certainty should follow checking, not habit.",
      ),
    },
    heatCaption: t("Members at each level, per skill"),
    // Not "darker": on the dark and high-contrast themes the fuller cells are the lighter ones.
    heatSub: t("The stronger the colour, the more of the team at that level"),
    // TRANSLATORS: the dark end of the skill heatmap's colour scale (its light end: "Fewer").
    heatMore: t("More of the team"),
    activeLegend: t("Members active"),
    activeCaption: t("Members active each week"),
    activeSummary: (weeks, list) =>
      tn(
        "Members active per week, last {n} week: {weeks}.",
        "Members active per week, last {n} weeks: {weeks}.",
        weeks,
        { weeks: list },
      ),
  },
  organisation: {
    calibration: {
      calibrated: t(
        "The organisation's confidence matches its accuracy: people know when to trust an answer and when to check.",
      ),
      "over-confident": t(
        "The organisation is sure more often than it is right: the habit that lets confident but wrong AI output through. Lessons on checking outputs help.",
      ),
      "under-confident": t(
        "The organisation is right more often than it feels: people may distrust AI, and themselves, more than needed.",
      ),
      mixed: t(
        "The organisation is sure too often on some answers and unsure too often on others: certainty should follow checking, not habit.",
      ),
    },
    heatCaption: t("People at each level, per skill"),
    heatSub: t("The stronger the colour, the more of the organisation at that level"),
    // TRANSLATORS: the dark end of the skill heatmap's colour scale (its light end: "Fewer").
    heatMore: t("More of the organisation"),
    activeLegend: t("People active"),
    activeCaption: t("People active each week"),
    activeSummary: (weeks, list) =>
      tn(
        "People active per week, last {n} week: {weeks}.",
        "People active per week, last {n} weeks: {weeks}.",
        weeks,
        { weeks: list },
      ),
  },
};
const groupText = (group) => GROUPS[group] || GROUPS.organisation;

// A skill level's column in the heatmap, and how the chart's spoken summary names a count in
// it (lower case, before the count: "gap 3").
const HEAT_COLUMNS = [
  // TRANSLATORS: a skill level: the skills check found a gap in this skill.
  ["gap", t("Gap"), (value) => t("gap {count}", { count: value })],
  // TRANSLATORS: a skill level between "Gap" and "Mastered".
  ["developing", t("Developing"), (value) => t("developing {count}", { count: value })],
  // TRANSLATORS: a skill level: the skill is mastered.
  ["mastered", t("Mastered"), (value) => t("mastered {count}", { count: value })],
  ["not_assessed", t("Not assessed"), (value) => t("not assessed {count}", { count: value })],
];

export const isNull = (value) => value === null || value === undefined;
const pct = (value) => (isNull(value) ? NOT_ENOUGH : formatPercent(value));
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

/** "2026-12-01" → "1 Dec 2026" in the page's locale (the ISO text if it isn't a date). */
export function day(iso) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso || "")) return iso || "";
  return formatDate(iso, { dateStyle: "medium" });
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

/** The privacy line: figures need at least ``threshold`` people. */
export function thresholdText(threshold) {
  return tn(
    'Figures appear when at least {n} person contributes. Smaller groups show "{hidden}", so no one can be singled out.',
    'Figures appear when at least {n} people contribute. Smaller groups show "{hidden}", so no one can be singled out.',
    threshold,
    { hidden: NOT_ENOUGH },
  );
}

/** A label and its figure in a chart's spoken summary: "W7 3", "Prompting 4". */
export function labelled(label, value) {
  // TRANSLATORS: one item of a list read out for a chart, e.g. "W7 3": a week (or a step,
  // or a track) and its figure.
  return t("{label} {value}", { label, value });
}

/**
 * One figure as a <dt>/<dd> group in a <div> (a <dl> allows nothing else); a detail such as
 * "by 10 people" is a second <dd>. Null shows "not enough responses yet". ``format`` writes
 * the value (a number by default; ``formatPercent`` for a percentage).
 */
export function stat(
  key,
  label,
  value,
  { suffix = "", sub = null, className = "tile", format = formatNumber } = {},
) {
  const hidden = isNull(value);
  return el(
    "div",
    { class: className },
    el("dt", { text: label }),
    el("dd", {
      class: hidden ? "not-enough" : null,
      "data-figure": key,
      text: hidden ? NOT_ENOUGH : format(value) + suffix,
    }),
    sub ? el("dd", { class: "tile-sub" }, sub) : null,
  );
}

/** "W7 3, W8 not enough responses yet, …" for a chart's summary. */
export function weekList(trend, key, format = formatNumber) {
  return formatList(
    trend.map((p) => labelled(shortWeek(p.week), isNull(p[key]) ? NOT_ENOUGH : format(p[key]))),
  );
}

/** The legend entry for hidden weeks, when a series has any. */
/** The chart legend's "not enough responses yet" entry, when a value is hidden. */
export function hiddenLegend(values) {
  return values.some((v) => v === null) ? [["stub", NOT_ENOUGH]] : [];
}

/** One figure per point, hidden ones as null. */
export const series = (points, key) => points.map((p) => (isNull(p[key]) ? null : p[key]));

// ---------------------------------------------------------------------------- calibration

/** What a calibration value (maybe null) reads as: [words, badge style, plain reading]. */
export function calibrationWords(value) {
  if (isNull(value)) return [NOT_ENOUGH, "unknown", NOT_ENOUGH];
  return CALIBRATION[value] || CALIBRATION.unknown;
}

/** A longer explanation of ``value`` for ``group`` ("team"), or how it appears. */
export function calibrationExplained(value, group, threshold) {
  if (isNull(value)) {
    return tn(
      "Calibration appears once at least {n} person has answered with a confidence rating.",
      "Calibration appears once at least {n} people have answered with a confidence rating.",
      threshold,
    );
  }
  return (
    groupText(group).calibration[value] || t("Calibration appears once enough answers come in.")
  );
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
  const people = (row) =>
    isNull(row.people) ? null : tn("{n} person", "{n} people", row.people);
  const describe = (row) => {
    const who = isNull(row.people)
      ? // TRANSLATORS: how many people answered at a confidence level: too few to show.
        t("people: {hidden}", { hidden: NOT_ENOUGH })
      : people(row);
    const percent = isNull(row.accuracy_pct) ? "" : formatPercent(row.accuracy_pct);
    const when = level(row).note;
    const right = isNull(row.accuracy_pct)
      ? t("right answers: {hidden}", { hidden: NOT_ENOUGH })
      : // TRANSLATORS: {when} is e.g. "right under 67% of the time".
        t("{percent} of their answers right; calibrated when {when}", { percent, when });
    // TRANSLATORS: one confidence level in the chart's spoken summary, e.g.
    // "Low confidence: 5 people, 40% of their answers right; calibrated when …".
    return t("{level}: {people}, {right}.", { level: level(row).label, people: who, right });
  };
  return bandBars({
    name: "calibration",
    caption: t("Accuracy at each confidence level"),
    sub: t(
      "How many people answered at each level (people answer at several levels, so these overlap), and how often those answers were right. The shaded band is where each level is the right call.",
    ),
    summary: [t("Accuracy per confidence level."), ...levels.map(describe)].join(" "),
    rows: levels.map((row) => ({
      label: isNull(row.people)
        ? level(row).short
        : // TRANSLATORS: a row of the confidence chart: the level and how many answered at it.
          t("{level} · {people}", { level: level(row).short, people: people(row) }),
      pct: isNull(row.accuracy_pct) ? null : row.accuracy_pct,
      band: level(row).band,
      text: isNull(row.accuracy_pct) ? "" : formatPercent(row.accuracy_pct),
    })),
    legend: [
      ["1", t("Share of right answers")],
      ["band", t("Where this confidence level pays off")],
      ...(levels.some((r) => isNull(r.accuracy_pct)) ? [["hidden", NOT_ENOUGH]] : []),
    ],
    table: {
      columns: [
        t("Confidence"),
        t("People who answered at this level"),
        t("Right answers"),
        t("Calibrated when"),
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
 * The skill-gap heatmap: people at each level per skill, coloured by share of ``members``,
 * for ``group`` ("team" or "organisation").
 */
export function skillHeatmap(skills, members, label, { group }) {
  const text = groupText(group);
  const hasHidden = skills.some((row) => HEAT_COLUMNS.some(([key]) => isNull(row[key])));
  // TRANSLATORS: the light end of the skill heatmap's colour scale.
  const legend = [{ scale: HEAT_STEPS, low: t("Fewer"), high: text.heatMore }];
  if (hasHidden) legend.push(["hidden", NOT_ENOUGH]);
  const skillSummary = (row) => {
    const skill = label.skill(row.skill);
    const levels = formatList(HEAT_COLUMNS.map(([key, , said]) => said(figure(row[key]))));
    // TRANSLATORS: one skill in the heatmap's spoken summary, e.g.
    // "Prompting: gap 2, developing 5, mastered 3, not assessed 1."
    return t("{skill}: {levels}.", { skill, levels });
  };
  return heatmap({
    name: "skill-gaps",
    caption: text.heatCaption,
    sub: text.heatSub,
    summary: [t("Skill-gap heatmap."), ...skills.map(skillSummary)].join(" "),
    columns: HEAT_COLUMNS.map(([, name]) => name),
    rows: skills.map((row) => ({
      label: label.skill(row.skill),
      values: HEAT_COLUMNS.map(([key]) => (isNull(row[key]) ? null : row[key])),
    })),
    total: members,
    legend,
    table: {
      columns: [t("Skill"), ...HEAT_COLUMNS.map(([, name]) => name)],
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
    caption: t("Confidence using AI in their role"),
    sub: t("Average answer, 1 (low) to 5 (high)"),
    summary: t("Average pulse confidence from 1 to 5 per week: {weeks}.", {
      weeks: weekList(trend, "pulse_confidence"),
    }),
    weeks: trend.map((p) => p.week),
    line: { values, className: "c-line-1", dotClass: "c-dot-1" },
    yMin: 1,
    yMax: 5,
    height: 120,
    legend: hiddenLegend(values),
    table: {
      columns: [t("Week"), t("Average confidence (1-5)"), t("Pulse answers")],
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
    caption: t("Minutes AI saved, per person"),
    sub: t("Average of the week's answers"),
    summary: t("Average minutes AI saved per person per week: {weeks}.", {
      weeks: weekList(trend, "minutes_saved"),
    }),
    weeks: trend.map((p) => p.week),
    bars: { values, className: "c-bar-2" },
    height: 120,
    legend: hiddenLegend(values),
    table: {
      columns: [t("Week"), t("Minutes saved (average)"), t("Pulse answers")],
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
    caption: t("People who caught an AI error"),
    sub: t("Spotted a wrong or made-up AI answer that week"),
    summary: t("People who caught an AI error per week: {weeks}.", {
      weeks: weekList(trend, "caught_error"),
    }),
    weeks: trend.map((p) => p.week),
    bars: { values },
    height: 120,
    legend: hiddenLegend(values),
    table: {
      columns: [t("Week"), t("People who caught an AI error"), t("Pulse answers")],
      numeric: [false, true, true],
      rows: trend.map((p) => [p.week, figure(p.caught_error), responses(p)]),
    },
  });
}

/**
 * People active per week (bars; leaders as a line when ``leaders``), with the group's size
 * as the top of the scale when it is known. ``group`` ("team" or "organisation") names the
 * people: members of the team, people in the organisation.
 */
export function activeChart(
  trend,
  members,
  { group = "organisation", leaders = false, height = 200 } = {},
) {
  const text = groupText(group);
  const active = series(trend, "active");
  const leading = series(trend, "leaders_active");
  const hasLeaders = leaders && leading.some((v) => v !== null);
  const maxValue = Math.max(
    0,
    ...active.filter((v) => v !== null),
    ...(hasLeaders ? leading.filter((v) => v !== null) : []),
  );
  const yMax = !isNull(members) && members >= maxValue && members > 0 ? members : undefined;
  const legend = [["1", text.activeLegend]];
  if (hasLeaders) legend.push(["line", t("Leaders active")]);
  legend.push(...hiddenLegend(active));
  const columns = [t("Week"), text.activeLegend];
  if (leaders) columns.push(t("Leaders active"));
  const summary = [text.activeSummary(trend.length, weekList(trend, "active"))];
  if (hasLeaders) {
    summary.push(t("Leaders active: {weeks}.", { weeks: weekList(trend, "leaders_active") }));
  }
  return trendChart({
    name: "participation",
    caption: text.activeCaption,
    sub: t("Did a lesson, a quiz or a review that week"),
    summary: summary.join(" "),
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
  const completed = formatNumber(assignment.completed);
  // TRANSLATORS: how many people finished an assigned track (the group's size is hidden).
  if (isNull(assignment.members)) return t("{completed} finished", { completed });
  const members = formatNumber(assignment.members);
  // TRANSLATORS: how many of the group's members finished an assigned track.
  return t("{completed} of {members} finished", { completed, members });
}

/** Calibration at each update of the confidence figures, newest first. */
export function calibrationTrend(points) {
  if (!points.length) return null;
  return el(
    "table",
    { class: "data", id: "calibration-trend-table" },
    el("caption", { text: t("Calibration over time, at each update of the figures") }),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        // TRANSLATORS: a column heading: the day the figures were updated.
        el("th", { scope: "col", text: t("Updated") }),
        el("th", { scope: "col", text: t("Calibration") }),
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
          el("td", { text: calibrationWords(p.calibration)[0] }),
        ),
      ),
    ),
  );
}

/**
 * Fill the "Confidence and calibration" card of a group's view: the calibration badge and
 * its explanation for ``group`` ("team" or "organisation"), how many people answered, the
 * confidence chart and calibration over time. ``parts`` holds the card's elements by role.
 */
export function fillConfidence(view, group, parts) {
  const confidence = view.confidence;
  replace(parts.badge, calibrationBadge(confidence.calibration, "calibration"));
  parts.text.textContent = calibrationExplained(confidence.calibration, group, view.threshold);
  replace(
    parts.note,
    isNull(confidence.answerers)
      ? null
      : withNodes(
          tn("{count} person answered", "{count} people answered", confidence.answerers),
          {
            count: el("span", {
              "data-figure": "answerers",
              text: formatNumber(confidence.answerers),
            }),
          },
        ),
  );
  replace(parts.chart, confidenceChart(confidence));
  replace(parts.trend, calibrationTrend(view.calibration_trend || []));
}
