/**
 * The personal "My learning" tab: role, next lesson, streak, path and progress per track,
 * skills against the skills check, calibration, history, and the learner's own data
 * (download, and delete after a confirmation dialog).
 */

import { barList, pairedBars } from "./charts.js";
import {
  el,
  formatNumber,
  plural,
  replace,
  setLoading,
  showError,
  startTab,
  withTheme,
} from "./tabs.js";

const DELETE_PHRASE = "delete my data";
const LEVEL_LABELS = { gap: "Gap", developing: "Developing", mastered: "Mastered" };
const CALIBRATION = {
  calibrated: ["Calibrated", "calibrated"],
  "over-confident": ["Over-confident", "over-confident"],
  "under-confident": ["Under-confident", "under-confident"],
  mixed: ["Over- and under-confident", "mixed"],
  unknown: ["Too few answers yet", "unknown"],
};

// The roles' names as the chat shows them (teams_app.domain.content.ROLE_LABELS).
const ROLE_NAMES = {
  everyone: "Everyone",
  hr: "HR",
  marketing: "Marketing",
  finance: "Finance",
  it: "IT",
  sales: "Sales",
  support: "Customer support",
  engineering: "Software engineering",
  leader: "Leader",
};

const body = document.body;
const $ = (id) => document.getElementById(id);

function calibrationBadge(value) {
  const [label, kind] = CALIBRATION[value] || CALIBRATION.unknown;
  return el("span", { class: `badge badge--${kind}`, text: label });
}

function formatDate(iso) {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!found) return iso || "";
  const date = new Date(Number(found[1]), Number(found[2]) - 1, Number(found[3]));
  return new Intl.DateTimeFormat(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
  }).format(date);
}

// ---------------------------------------------------------------------------- summary

function renderSummary(data) {
  const firstName = (data.user?.name || "").trim().split(/\s+/)[0];
  $("greeting").textContent = firstName
    ? `Hi ${firstName}. Here's your path, your skills and what AI Ready keeps about you.`
    : "Your path, your skills and what AI Ready keeps about you.";

  $("role").textContent = data.role ? data.role.label : "Not chosen yet";
  const suggestion = $("role-suggestion");
  if (data.suggested_role) {
    suggestion.hidden = false;
    suggestion.textContent = `Your directory profile suggests ${data.suggested_role.label}.`;
  } else {
    suggestion.hidden = true;
    suggestion.textContent = "";
  }
  $("role-help").textContent = data.role
    ? "Change it in the chat with 'role'."
    : "Choose it in the chat with 'role'.";

  // What "Continue in chat" leads to: the chat asks for a role first, then the skills check.
  const next = data.next_lesson;
  let label = "Next lesson";
  let text = next ? next.title : "You've finished your path";
  if (data.in_progress) {
    label = "In progress";
    text = "Pick up where you left off";
  } else if (!data.role) {
    label = "Get started";
    text = "Choose your role, then take the 5-minute skills check";
  }
  $("next-label").textContent = label;
  $("next-lesson").textContent = text;

  $("streak").textContent = formatNumber(data.streak_weeks);
  $("streak-unit").textContent = `${data.streak_weeks === 1 ? "week" : "weeks"} in a row`;
  $("lessons-done").textContent = `${plural(data.lessons_done, "lesson", "lessons")} done`;
}

// ---------------------------------------------------------------------------- assignments

/** "Finance", "Finance or HR", "Finance, HR or IT". */
function roleNames(roles) {
  const named = (roles || []).map((r) => ROLE_NAMES[r] || r);
  if (named.length < 2) return named.join("");
  return `${named.slice(0, -1).join(", ")} or ${named[named.length - 1]}`;
}

function assignmentState(a) {
  if (a.finished) return el("span", { class: "badge badge--done", text: "Finished" });
  if (a.overdue) return el("span", { class: "badge badge--overdue", text: "Overdue" });
  return null;
}

function renderAssignments(data) {
  const assignments = data.assignments || [];
  $("assignments").hidden = assignments.length === 0;
  const open = assignments.filter((a) => !a.finished).length;
  $("assignments-note").textContent = assignments.length
    ? `${formatNumber(open)} still to finish`
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
          "Assigned by your organisation, due ",
          el("time", { datetime: a.due, text: formatDate(a.due) }),
        ),
        el("p", {
          class: "assignment-progress",
          text: `${formatNumber(a.done)} of ${formatNumber(a.total)} lessons done`,
        }),
        a.in_path
          ? null
          : el(
              "p",
              { class: "hint" },
              `This track is for the ${roleNames(a.roles)} role: change your role in the chat (type `,
              el("kbd", { text: "role" }),
              ") to take it.",
            ),
      );
    }),
  );
}

// ---------------------------------------------------------------------------- path

function renderPath(data) {
  const tracks = data.tracks || [];
  const done = tracks.reduce((sum, t) => sum + t.done, 0);
  const total = tracks.reduce((sum, t) => sum + t.total, 0);
  $("path-note").textContent = `${formatNumber(done)} of ${formatNumber(total)} lessons`;
  const summary =
    tracks.map((t) => `${t.title}: ${t.done} of ${t.total} lessons done`).join("; ") ||
    "No tracks yet";
  replace(
    $("path-chart"),
    barList({
      name: "track-progress",
      caption: "Progress per track",
      summary: `Progress per track. ${summary}.`,
      rows: tracks.map((t) => ({
        label: t.title,
        value: t.done,
        max: t.total,
        text: `${formatNumber(t.done)}/${formatNumber(t.total)}`,
      })),
      table: {
        columns: ["Track", "Lessons done", "Lessons on the path"],
        numeric: [false, true, true],
        rows: tracks.map((t) => [t.title, formatNumber(t.done), formatNumber(t.total)]),
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
          el("span", {
            class: "count",
            text: `${formatNumber(track.done)} of ${formatNumber(track.total)} done`,
          }),
        ),
        el(
          "ol",
          { class: "lessons" },
          track.lessons.map((lesson) => {
            const marks = [];
            if (lesson.done) marks.push(el("span", { class: "badge badge--done", text: "Done" }));
            if (lesson.focus) {
              marks.push(
                el("span", {
                  class: "badge badge--focus",
                  text: "Focus",
                  title: "A gap from your skills check: it comes first",
                }),
              );
            }
            if (lesson.optional) {
              marks.push(
                el("span", {
                  class: "badge badge--optional",
                  text: "Optional",
                  title: "You already master this skill",
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
  return `${formatNumber(right)} of ${formatNumber(total)}`;
}

function renderSkills(data) {
  const skills = data.skills || [];
  const rows = skills.map((skill) => {
    const assessed = skill.baseline !== null && skill.baseline_total > 0;
    return {
      label: skill.name,
      note: assessed ? LEVEL_LABELS[skill.baseline] || skill.baseline : "Not assessed",
      a: assessed
        ? {
            pct: (100 * skill.baseline_right) / skill.baseline_total,
            text: `${skill.baseline_right}/${skill.baseline_total}`,
          }
        : null,
      aEmpty: "not assessed",
      b:
        skill.answers > 0
          ? { pct: (100 * skill.right) / skill.answers, text: `${skill.right}/${skill.answers}` }
          : null,
      bEmpty: "no answers yet",
    };
  });
  const summary = skills
    .map((skill) => {
      const base = skill.baseline
        ? `skills check ${LEVEL_LABELS[skill.baseline] || skill.baseline}, ${skill.baseline_right} of ${skill.baseline_total} right`
        : "not in the skills check";
      const now = skill.answers
        ? `${skill.right} of ${skill.answers} right overall`
        : "no answers yet";
      return `${skill.name}: ${base}; ${now}`;
    })
    .join(". ");
  replace(
    $("skills-chart"),
    pairedBars({
      name: "skill-profile",
      caption: "Skill profile",
      sub: "Share of right answers: in the skills check, and in all your answers",
      summary: `Skill profile. ${summary}.`,
      rows,
      legend: [
        ["1", "Skills check (baseline)"],
        ["2", "All your answers (now)"],
      ],
      table: {
        columns: [
          "Skill",
          "Skills check level",
          "Skills check right",
          "Right answers now",
          "Calibration",
        ],
        numeric: [false, false, true, true, false],
        rows: skills.map((skill) => [
          skill.name,
          skill.baseline ? LEVEL_LABELS[skill.baseline] || skill.baseline : "not assessed",
          skill.baseline ? fraction(skill.baseline_right, skill.baseline_total) : "not assessed",
          skill.answers ? fraction(skill.right, skill.answers) : "no answers yet",
          (CALIBRATION[skill.calibration] || CALIBRATION.unknown)[0],
        ]),
      },
    }),
  );

  const calibration = data.calibration || { overall: "unknown", hint: "", answers: 0 };
  replace($("calibration-overall"), calibrationBadge(calibration.overall));
  $("calibration-answers").textContent =
    `Based on ${plural(calibration.answers, "answer", "answers")}`;
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
    ? plural(history.length, "activity", "activities")
    : "";
  if (!history.length) {
    replace(
      $("history"),
      el("p", {
        class: "muted",
        text: "Nothing yet: your skills checks and lessons will appear here.",
      }),
    );
    return;
  }
  // Explicit roles: the narrow layout restyles rows as cards, which can drop table semantics.
  const cell = (label, attrs, ...children) =>
    el("td", { role: "cell", "data-label": label, ...attrs }, ...children);
  const table = el(
    "table",
    { class: "data history", id: "history-table", role: "table" },
    el("caption", {
      class: "visually-hidden",
      text: "Your skills checks and lessons, newest first",
    }),
    el(
      "thead",
      { role: "rowgroup" },
      el(
        "tr",
        { role: "row" },
        ["Date", "Activity", "Right", "Score", "Status"].map((name, i) =>
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
          cell("Date", {}, el("time", { datetime: row.date, text: formatDate(row.date) })),
          el(
            "th",
            { scope: "row", role: "rowheader" },
            row.title,
            row.kind === "assessment"
              ? null
              : el("span", { class: "visually-hidden", text: " (lesson)" }),
          ),
          cell("Right", { class: "num", text: fraction(row.right, row.answers) }),
          cell("Score", {
            class: "num",
            text: `${signed(row.mark)} / ${formatNumber(row.max_mark)}`,
          }),
          cell("Status", { text: row.finished ? "Finished" : "Stopped early" }),
        ),
      ),
    ),
  );
  replace(
    $("history"),
    el("div", { class: "table-wrap" }, table),
    el("p", {
      class: "fine-print table-note",
      text:
        "Score counting confidence: a right answer scores 1, 2 or 3 at low, medium or high " +
        "confidence; a wrong one 0, −2 or −6. Being sure only when you are right pays off.",
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
    replace(result, el("p", { class: "muted", text: "Preparing your download…" }));
    try {
      const name = await tab.download(exportUrl, "ai-ready-my-data.json", "application/json");
      replace(result, el("p", { class: "muted", text: `Downloaded ${name}.` }));
    } catch (err) {
      replace(
        result,
        el("p", {
          class: "notice notice--error",
          text: "The download didn't work. Try again in a minute.",
        }),
      );
    }
  });

  $("delete-data").addEventListener("click", () => {
    error.hidden = true;
    confirmButton.disabled = false;
    cancelButton.disabled = false;
    confirmButton.textContent = "Delete everything";
    dialog.showModal();
    cancelButton.focus();
  });

  form.addEventListener("submit", async (event) => {
    if (event.submitter !== confirmButton) return; // Cancel closes the dialog as usual
    event.preventDefault();
    confirmButton.disabled = true;
    cancelButton.disabled = true;
    confirmButton.textContent = "Deleting…";
    error.hidden = true;
    try {
      const response = await tab.api(exportUrl, {
        method: "DELETE",
        json: { confirm: DELETE_PHRASE },
      });
      const answer = await response.json();
      if (!answer || answer.deleted !== true) throw new Error("not deleted");
    } catch (err) {
      error.textContent =
        "Nothing was deleted: AI Ready couldn't finish the request. Try again in a minute.";
      error.hidden = false;
      confirmButton.disabled = false;
      cancelButton.disabled = false;
      confirmButton.textContent = "Delete everything";
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
        el("h2", { text: "Your data is deleted" }),
        el("p", {
          text:
            "Everything AI Ready kept about you is gone: your role, progress, answers, pulse " +
            "answers and the chat reference. Your team's figures no longer count you. If you " +
            "message AI Ready again, you'll start fresh.",
        }),
      ),
    ),
  );
  notice.hidden = false;
  notice.setAttribute("role", "status");
  notice.focus();
  replace($("data-result"), el("p", { class: "muted", text: "Everything is deleted." }));
}

// ---------------------------------------------------------------------------- start

function render(data) {
  const organisation = $("organisation-link");
  organisation.hidden = data.admin !== true;
  organisation.href = withTheme("/tabs/organisation");
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
  if (tab.outsideTeamsClient) chatLink.textContent = "Open the chat in Teams";
  chatLink.addEventListener("click", (event) => {
    if (!chatUrl) {
      // Local demo without a bot registration: there is no chat to open.
      event.preventDefault();
      replace($("next-note"), "In Teams, this opens your chat with AI Ready.");
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
