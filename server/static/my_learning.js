/**
 * The personal "My learning" tab: role, next lesson, streak, path and progress per track,
 * skills against the skills check, calibration, history, and the learner's own data
 * (download, and delete after a confirmation dialog).
 */

import { barList, pairedBars } from "./charts.js";
import { formatDate as formatLocaleDate, t, tn } from "./i18n.js";
import {
  el,
  formatList,
  formatNumber,
  replace,
  setLoading,
  showError,
  startTab,
  withNodes,
  withPageParams,
} from "./tabs.js";

// What the API wants to confirm a deletion (a code, not text a reader sees).
const DELETE_PHRASE = "delete my data";
const LEVEL_LABELS = {
  // TRANSLATORS: a skill level: the skills check found a gap in this skill.
  gap: t("Gap"),
  // TRANSLATORS: a skill level between "Gap" and "Mastered".
  developing: t("Developing"),
  // TRANSLATORS: a skill level: the skill is mastered.
  mastered: t("Mastered"),
};
const CALIBRATION = {
  // TRANSLATORS: a calibration badge: confidence matches how often the answers are right.
  calibrated: [t("Calibrated"), "calibrated"],
  // TRANSLATORS: a calibration badge: sure more often than right.
  "over-confident": [t("Over-confident"), "over-confident"],
  // TRANSLATORS: a calibration badge: right more often than sure.
  "under-confident": [t("Under-confident"), "under-confident"],
  // TRANSLATORS: a calibration badge: over-confident on some answers, under- on others.
  mixed: [t("Over- and under-confident"), "mixed"],
  // TRANSLATORS: a calibration badge when there are not enough rated answers to tell.
  unknown: [t("Too few answers yet"), "unknown"],
};

// The roles' names as the chat shows them (teams_app.domain.content.ROLE_LABELS).
const ROLE_NAMES = {
  everyone: t("Everyone"),
  // TRANSLATORS: the role in Human Resources.
  hr: t("HR"),
  marketing: t("Marketing"),
  finance: t("Finance"),
  // TRANSLATORS: the role in Information Technology.
  it: t("IT"),
  sales: t("Sales"),
  support: t("Customer support"),
  engineering: t("Software engineering"),
  leader: t("Leader"),
};
// TRANSLATORS: the chat command that changes one's role (the chat understands it translated).
const ROLE_COMMAND = t("role");

// TRANSLATORS: in place of a skill's level or figure: not in the learner's skills check.
const NOT_ASSESSED = t("not assessed");
// TRANSLATORS: in place of a skill's share of right answers: no answers in it yet.
const NO_ANSWERS = t("no answers yet");

const body = document.body;
const $ = (id) => document.getElementById(id);

function calibrationBadge(value) {
  const [label, kind] = CALIBRATION[value] || CALIBRATION.unknown;
  return el("span", { class: `badge badge--${kind}`, text: label });
}

function formatDate(iso) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso || "")) return iso || "";
  return formatLocaleDate(iso, { day: "numeric", month: "short", year: "numeric" });
}

// ---------------------------------------------------------------------------- summary

function renderSummary(data) {
  const firstName = (data.user?.name || "").trim().split(/\s+/)[0];
  $("greeting").textContent = firstName
    ? t("Hi {name}. Here's your path, your skills and what AI Ready keeps about you.", {
        name: firstName,
      })
    : t("Your path, your skills and what AI Ready keeps about you.");

  // TRANSLATORS: in place of the learner's role when they haven't chosen one.
  $("role").textContent = data.role ? data.role.label : t("Not chosen yet");
  const suggestion = $("role-suggestion");
  if (data.suggested_role) {
    suggestion.hidden = false;
    suggestion.textContent = t("Your directory profile suggests {role}.", {
      role: data.suggested_role.label,
    });
  } else {
    suggestion.hidden = true;
    suggestion.textContent = "";
  }
  // TRANSLATORS: {command} is the chat command "role", as translated for the chat.
  const change = t("Change it in the chat with '{command}'.", { command: ROLE_COMMAND });
  // TRANSLATORS: {command} is the chat command "role", as translated for the chat.
  const choose = t("Choose it in the chat with '{command}'.", { command: ROLE_COMMAND });
  $("role-help").textContent = data.role ? change : choose;

  // What "Continue in chat" leads to: the chat asks for a role first, then the skills check.
  const next = data.next_lesson;
  let label = t("Next lesson");
  let text = next ? next.title : t("You've finished your path");
  if (data.in_progress) {
    // TRANSLATORS: a lesson the learner started and hasn't finished.
    label = t("In progress");
    text = t("Pick up where you left off");
  } else if (!data.role) {
    label = t("Get started");
    text = t("Choose your role, then take the 5-minute skills check");
  }
  $("next-label").textContent = label;
  $("next-lesson").textContent = text;

  $("streak").textContent = formatNumber(data.streak_weeks);
  // TRANSLATORS: shown after the streak's number of weeks, which stands in large type before it.
  $("streak-unit").textContent = tn("week in a row", "weeks in a row", data.streak_weeks);
  $("lessons-done").textContent = tn("{n} lesson done", "{n} lessons done", data.lessons_done);
}

// ---------------------------------------------------------------------------- assignments

/** "Finance", "Finance or HR", "Finance, HR or IT" (as the page's language lists them). */
function roleNames(roles) {
  return formatList(
    (roles || []).map((r) => ROLE_NAMES[r] || r),
    "disjunction",
  );
}

/** Why an assigned track isn't on the learner's path, and how to take it. */
function otherRole(roles) {
  const names = roleNames(roles);
  // TRANSLATORS: {roles} is one or more roles ("Finance or HR"); {command} is the chat
  // command "role", as translated for the chat.
  const text = t(
    "This track is for the {roles} role: change your role in the chat (type {command}) to take it.",
    { roles: names },
  );
  return withNodes(text, { command: el("kbd", { text: ROLE_COMMAND }) });
}

function assignmentState(a) {
  // TRANSLATORS: a badge on an assigned track the learner has finished.
  if (a.finished) return el("span", { class: "badge badge--done", text: t("Finished") });
  if (a.overdue) return el("span", { class: "badge badge--overdue", text: t("Overdue") });
  return null;
}

function renderAssignments(data) {
  const assignments = data.assignments || [];
  $("assignments").hidden = assignments.length === 0;
  const open = assignments.filter((a) => !a.finished).length;
  $("assignments-note").textContent = assignments.length
    ? // TRANSLATORS: how many of the learner's assigned tracks are not finished yet.
      tn("{n} still to finish", "{n} still to finish", open)
    : "";
  replace(
    $("assignment-list"),
    assignments.map((a) => {
      const titleId = `assignment-${a.id}`;
      return el(
        "li",
        { "data-assignment": a.id },
        el(
          "div",
          { class: "my-assignment-head" },
          el("h3", { id: titleId, text: a.title }),
          assignmentState(a),
        ),
        el(
          "p",
          { class: "muted" },
          withNodes(t("Assigned by your organisation, due {date}"), {
            date: el("time", { datetime: a.due, text: formatDate(a.due) }),
          }),
        ),
        el("p", {
          class: "assignment-progress",
          text: tn("{done} of {n} lesson done", "{done} of {n} lessons done", a.total, {
            done: formatNumber(a.done),
          }),
        }),
        a.in_path ? null : el("p", { class: "hint" }, otherRole(a.roles)),
      );
    }),
  );
}

// ---------------------------------------------------------------------------- path

/** "3 of 8 done": a track's lessons done. */
function trackCount(track) {
  const done = formatNumber(track.done);
  const total = formatNumber(track.total);
  // TRANSLATORS: lessons of a track done, e.g. "3 of 8 done".
  return t("{done} of {total} done", { done, total });
}

function renderPath(data) {
  const tracks = data.tracks || [];
  const done = tracks.reduce((sum, track) => sum + track.done, 0);
  const total = tracks.reduce((sum, track) => sum + track.total, 0);
  $("path-note").textContent = tn("{done} of {n} lesson", "{done} of {n} lessons", total, {
    done: formatNumber(done),
  });
  const summary =
    tracks
      .map((track) =>
        tn(
          "{track}: {done} of {n} lesson done",
          "{track}: {done} of {n} lessons done",
          track.total,
          { track: track.title, done: formatNumber(track.done) },
        ),
      )
      .join("; ") || t("No tracks yet");
  replace(
    $("path-chart"),
    barList({
      name: "track-progress",
      caption: t("Progress per track"),
      summary: t("Progress per track. {tracks}.", { tracks: summary }),
      rows: tracks.map((track) => ({
        label: track.title,
        value: track.done,
        max: track.total,
        text: `${formatNumber(track.done)}/${formatNumber(track.total)}`,
      })),
      table: {
        columns: [t("Track"), t("Lessons done"), t("Lessons on the path")],
        numeric: [false, true, true],
        rows: tracks.map((track) => [
          track.title,
          formatNumber(track.done),
          formatNumber(track.total),
        ]),
      },
    }),
  );

  replace(
    $("tracks"),
    tracks.map((track) =>
      el(
        "section",
        { class: "track", "aria-labelledby": `track-${track.id}` },
        el(
          "div",
          { class: "track-head" },
          el("h3", { id: `track-${track.id}`, text: track.title }),
          el("span", { class: "count", text: trackCount(track) }),
        ),
        el(
          "ol",
          { class: "lessons" },
          track.lessons.map((lesson) => {
            const marks = [];
            if (lesson.done) {
              // TRANSLATORS: a badge on a lesson the learner has done.
              marks.push(el("span", { class: "badge badge--done", text: t("Done") }));
            }
            if (lesson.focus) {
              marks.push(
                el("span", {
                  class: "badge badge--focus",
                  // TRANSLATORS: a badge on a lesson that works on a gap: it comes first.
                  text: t("Focus"),
                  title: t("A gap from your skills check: it comes first"),
                }),
              );
            }
            if (lesson.optional) {
              marks.push(
                el("span", {
                  class: "badge badge--optional",
                  // TRANSLATORS: a badge on a lesson in a skill the learner already masters.
                  text: t("Optional"),
                  title: t("You already master this skill"),
                }),
              );
            }
            const classes = [lesson.done ? "is-done" : "", lesson.optional ? "is-optional" : ""]
              .join(" ")
              .trim();
            return el(
              "li",
              { class: classes || null, "data-lesson": lesson.id },
              el(
                "span",
                { class: "lesson-title" },
                lesson.title,
                el("span", { class: "lesson-skill", text: lesson.skill }),
              ),
              el("span", { class: "marks" }, marks),
            );
          }),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------- skills

/** A mark with a real minus sign. */
function signed(value) {
  return value < 0 ? `−${formatNumber(-value)}` : formatNumber(value);
}

function fraction(right, total) {
  // TRANSLATORS: right answers out of all answers, e.g. "3 of 5".
  return t("{right} of {total}", { right: formatNumber(right), total: formatNumber(total) });
}

function renderSkills(data) {
  const skills = data.skills || [];
  const rows = skills.map((skill) => {
    const assessed = skill.baseline !== null && skill.baseline_total > 0;
    return {
      label: skill.name,
      note: assessed ? LEVEL_LABELS[skill.baseline] || skill.baseline : t("Not assessed"),
      a: assessed
        ? {
            pct: (100 * skill.baseline_right) / skill.baseline_total,
            text: `${formatNumber(skill.baseline_right)}/${formatNumber(skill.baseline_total)}`,
          }
        : null,
      aEmpty: NOT_ASSESSED,
      b:
        skill.answers > 0
          ? {
              pct: (100 * skill.right) / skill.answers,
              text: `${formatNumber(skill.right)}/${formatNumber(skill.answers)}`,
            }
          : null,
      bEmpty: NO_ANSWERS,
    };
  });
  const describe = (skill) => {
    const baseline = {
      level: LEVEL_LABELS[skill.baseline] || skill.baseline,
      right: formatNumber(skill.baseline_right),
      total: formatNumber(skill.baseline_total),
    };
    const base = skill.baseline
      ? // TRANSLATORS: {level} is a skill level: Gap, Developing or Mastered.
        t("skills check {level}, {right} of {total} right", baseline)
      : t("not in the skills check");
    const now = skill.answers
      ? t("{right} of {total} right overall", {
          right: formatNumber(skill.right),
          total: formatNumber(skill.answers),
        })
      : NO_ANSWERS;
    // TRANSLATORS: one skill in the skill profile's spoken summary, e.g.
    // "Prompting: skills check Gap, 1 of 4 right; 6 of 9 right overall."
    return t("{skill}: {baseline}; {now}.", { skill: skill.name, baseline: base, now });
  };
  replace(
    $("skills-chart"),
    pairedBars({
      name: "skill-profile",
      caption: t("Skill profile"),
      sub: t("Share of right answers: in the skills check, and in all your answers"),
      summary: [t("Skill profile."), ...skills.map(describe)].join(" "),
      rows,
      legend: [
        ["1", t("Skills check (baseline)")],
        ["2", t("All your answers (now)")],
      ],
      table: {
        columns: [
          t("Skill"),
          t("Skills check level"),
          t("Skills check right"),
          t("Right answers now"),
          t("Calibration"),
        ],
        numeric: [false, false, true, true, false],
        rows: skills.map((skill) => [
          skill.name,
          skill.baseline ? LEVEL_LABELS[skill.baseline] || skill.baseline : NOT_ASSESSED,
          skill.baseline ? fraction(skill.baseline_right, skill.baseline_total) : NOT_ASSESSED,
          skill.answers ? fraction(skill.right, skill.answers) : NO_ANSWERS,
          (CALIBRATION[skill.calibration] || CALIBRATION.unknown)[0],
        ]),
      },
    }),
  );

  const calibration = data.calibration || { overall: "unknown", hint: "", answers: 0 };
  replace($("calibration-overall"), calibrationBadge(calibration.overall));
  $("calibration-answers").textContent = tn(
    "Based on {n} answer",
    "Based on {n} answers",
    calibration.answers,
  );
  $("calibration-hint").textContent = calibration.hint;
  replace(
    $("calibration-skills"),
    skills.map((skill) =>
      el(
        "li",
        { "data-skill": skill.id },
        el("span", { text: skill.name }),
        calibrationBadge(skill.calibration),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------- history

function renderHistory(data) {
  const history = data.history || [];
  $("history-note").textContent = history.length
    ? tn("{n} activity", "{n} activities", history.length)
    : "";
  if (!history.length) {
    replace(
      $("history"),
      el("p", {
        class: "muted",
        text: t("Nothing yet: your skills checks and lessons will appear here."),
      }),
    );
    return;
  }
  const columns = {
    // TRANSLATORS: a column heading in the learner's history.
    date: t("Date"),
    // TRANSLATORS: a column heading: the skills check or lesson done.
    activity: t("Activity"),
    // TRANSLATORS: a column heading: right answers out of all answers.
    right: t("Right"),
    // TRANSLATORS: a column heading: the score counting confidence.
    score: t("Score"),
    // TRANSLATORS: a column heading: finished or stopped early.
    status: t("Status"),
  };
  // Explicit roles: the narrow layout restyles rows as cards, which can drop table semantics.
  const cell = (label, attrs, ...children) =>
    el("td", { role: "cell", "data-label": label, ...attrs }, ...children);
  const table = el(
    "table",
    { class: "data history", id: "history-table", role: "table" },
    el("caption", {
      class: "visually-hidden",
      text: t("Your skills checks and lessons, newest first"),
    }),
    el(
      "thead",
      { role: "rowgroup" },
      el(
        "tr",
        { role: "row" },
        [columns.date, columns.activity, columns.right, columns.score, columns.status].map(
          (name, i) =>
            el("th", {
              scope: "col",
              role: "columnheader",
              class: i === 2 || i === 3 ? "num" : null,
              text: name,
            }),
        ),
      ),
    ),
    el(
      "tbody",
      { role: "rowgroup" },
      history.map((row) =>
        el(
          "tr",
          { role: "row" },
          cell(columns.date, {}, el("time", { datetime: row.date, text: formatDate(row.date) })),
          el(
            "th",
            { scope: "row", role: "rowheader" },
            row.title,
            row.kind === "assessment"
              ? null
              : // TRANSLATORS: after a lesson's title in the history, for screen readers.
                el("span", { class: "visually-hidden", text: ` ${t("(lesson)")}` }),
          ),
          cell(columns.right, { class: "num", text: fraction(row.right, row.answers) }),
          cell(columns.score, {
            class: "num",
            text: `${signed(row.mark)} / ${formatNumber(row.max_mark)}`,
          }),
          cell(columns.status, { text: row.finished ? t("Finished") : t("Stopped early") }),
        ),
      ),
    ),
  );
  replace(
    $("history"),
    el("div", { class: "table-wrap" }, table),
    el("p", {
      class: "fine-print table-note",
      text: t(
        "Score counting confidence: a right answer scores 1, 2 or 3 at low, medium or high confidence; a wrong one 0, −2 or −6. Being sure only when you are right pays off.",
      ),
    }),
  );
}

// ---------------------------------------------------------------------------- your data

function setUpData(tab, reload) {
  const exportUrl = body.dataset.exportUrl;
  const result = $("data-result");
  const dialog = $("delete-dialog");
  const form = $("delete-form");
  const error = $("delete-error");
  const confirmButton = $("delete-confirm");
  const cancelButton = $("delete-cancel");

  $("download-data").addEventListener("click", async (event) => {
    event.preventDefault();
    replace(result, el("p", { class: "muted", text: t("Preparing your download…") }));
    try {
      const name = await tab.download(exportUrl, "ai-ready-my-data.json", "application/json");
      // TRANSLATORS: {name} is the downloaded file's name.
      replace(result, el("p", { class: "muted", text: t("Downloaded {name}.", { name }) }));
    } catch (err) {
      replace(
        result,
        el("p", {
          class: "notice notice--error",
          text: t("The download didn't work. Try again in a minute."),
        }),
      );
    }
  });

  $("delete-data").addEventListener("click", () => {
    error.hidden = true;
    confirmButton.disabled = false;
    cancelButton.disabled = false;
    confirmButton.textContent = t("Delete everything");
    dialog.showModal();
    cancelButton.focus();
  });

  form.addEventListener("submit", async (event) => {
    if (event.submitter !== confirmButton) return; // Cancel closes the dialog as usual
    event.preventDefault();
    confirmButton.disabled = true;
    cancelButton.disabled = true;
    confirmButton.textContent = t("Deleting…");
    error.hidden = true;
    try {
      const response = await tab.api(exportUrl, {
        method: "DELETE",
        json: { confirm: DELETE_PHRASE },
      });
      const answer = await response.json();
      if (!answer || answer.deleted !== true) throw new Error("not deleted");
    } catch (err) {
      error.textContent = t(
        "Nothing was deleted: AI Ready couldn't finish the request. Try again in a minute.",
      );
      error.hidden = false;
      confirmButton.disabled = false;
      cancelButton.disabled = false;
      confirmButton.textContent = t("Delete everything");
      confirmButton.focus();
      return;
    }
    dialog.close("deleted");
    showDeleted();
    await reload();
  });
}

function showDeleted() {
  const notice = $("deleted-notice");
  replace(
    notice,
    el(
      "div",
      { class: "notice notice--success" },
      el(
        "div",
        {},
        el("h2", { text: t("Your data is deleted") }),
        el("p", {
          text: t(
            "Everything AI Ready kept about you is gone: your role, progress, answers, pulse answers and the chat reference. Your team's figures no longer count you. If you message AI Ready again, you'll start fresh.",
          ),
        }),
      ),
    ),
  );
  notice.hidden = false;
  notice.setAttribute("role", "status");
  notice.focus();
  replace($("data-result"), el("p", { class: "muted", text: t("Everything is deleted.") }));
}

// ---------------------------------------------------------------------------- start

function render(data) {
  const organisation = $("organisation-link");
  organisation.hidden = data.admin !== true;
  organisation.href = withPageParams("/tabs/organisation");
  renderSummary(data);
  renderAssignments(data);
  renderPath(data);
  renderSkills(data);
  renderHistory(data);
}

async function main() {
  const tab = await startTab();
  if (!tab) return;
  const api = body.dataset.api;
  const load = async () => {
    try {
      const data = await tab.getJson(api);
      render(data);
      setLoading(false);
      $("content").hidden = false;
      $("main").setAttribute("aria-busy", "false");
    } catch (err) {
      $("content").hidden = true;
      showError(err, load);
    }
  };
  const chatUrl = body.dataset.chatUrl;
  const chatLink = $("continue");
  // In Outlook and the Microsoft 365 app the chat still lives in Teams: say so.
  if (tab.outsideTeamsClient) chatLink.textContent = t("Open the chat in Teams");
  chatLink.addEventListener("click", (event) => {
    if (!chatUrl) {
      // Local demo without a bot registration: there is no chat to open.
      event.preventDefault();
      replace($("next-note"), t("In Teams, this opens your chat with AI Ready."));
      return;
    }
    if (tab.demo) return; // a plain link outside a Microsoft 365 host
    event.preventDefault();
    tab.openLink(chatUrl).catch(() => window.open(chatUrl, "_blank", "noopener"));
  });
  setUpData(tab, load);
  await load();
}

main();
