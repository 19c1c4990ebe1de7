/**
 * The team (leader) tab and its configuration page.
 *
 * The team view shows group figures only, exactly as the server's privacy rules let them
 * through: any figure may be null, meaning "not enough responses yet", and is shown as that
 * text (never as 0). The configuration page registers the tab's settings with Teams.
 */

import { barList } from "./charts.js";
import {
  activeChart,
  calibrationBadge,
  fillConfidence,
  calibrationWords,
  caughtChart,
  dayElement,
  finishedText,
  isNull,
  minutesChart,
  names,
  pulseConfidenceChart,
  labelled,
  skillHeatmap,
  stat,
  thresholdText,
} from "./figures.js";
import { locale, t, tn } from "./i18n.js";
import {
  ApiError,
  NOT_ENOUGH,
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
const GROUP = "team";
const oneDecimal = new Intl.NumberFormat(locale, {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

// ---------------------------------------------------------------------------- sections

/** "Up 0.5 on the week before" (or down, or the same), when both weeks are shown. */
function change(now, before) {
  if (isNull(now) || isNull(before)) return null;
  const delta = Math.round((now - before) * 10) / 10;
  if (delta === 0) return t("The same as the week before");
  const by = formatNumber(Math.abs(delta));
  // TRANSLATORS: the change of the team's average pulse confidence (1-5), e.g. "Up 0.5 …".
  if (delta > 0) return t("Up {change} on the week before", { change: by });
  // TRANSLATORS: the change of the team's average pulse confidence (1-5), e.g. "Down 0.5 …".
  return t("Down {change} on the week before", { change: by });
}

/** A headline figure's <dd>: ``show(value)``, or "not enough responses yet" when null. */
function headlineValue(key, value, show) {
  const hidden = isNull(value);
  return el(
    "dd",
    { class: hidden ? "not-enough" : null, "data-figure": key },
    hidden ? NOT_ENOUGH : show(value),
  );
}

/** One figure of a headline tile: a <dt>/<dd> pair in a <div> (all a <dl> may hold). */
function headlineFigure(key, label, value, show, { main = false, sub = null } = {}) {
  return el(
    "div",
    { class: main ? "headline-main" : null },
    el("dt", { text: label }),
    headlineValue(key, value, show),
    sub ? el("dd", { class: "headline-change", text: sub }) : null,
  );
}

/** A headline tile: the team's figure up front, then last period's and the organisation's. */
function headlineTile(id, title, sub, figures) {
  return el(
    "section",
    { class: "headline-tile", id: `headline-${id}`, "aria-labelledby": `headline-${id}-title` },
    el(
      "h3",
      { id: `headline-${id}-title` },
      `${title} `,
      el("span", { class: "headline-sub", text: sub }),
    ),
    el("dl", {}, figures),
  );
}

function renderHeadline(view) {
  const headline = view.headline || {};
  const pulse = headline.pulse_confidence || {};
  const calibration = headline.calibration || {};
  // The pulse's average always with its one decimal: "3.0", not "3", next to "3.5".
  const average = (value) => oneDecimal.format(value);
  const badge = (value) => calibrationBadge(value);
  const reading = isNull(calibration.now) ? null : calibrationWords(calibration.now)[2];
  replace(
    $("headline"),
    headlineTile(
      "confidence",
      t("Confidence using AI"),
      // TRANSLATORS: after "Confidence using AI": the pulse question's scale is 1 to 5.
      t("(last week's pulse, 1–5)"),
      [
        headlineFigure("headline_confidence", t("Your team"), pulse.now, average, {
          main: true,
          sub: change(pulse.now, pulse.before),
        }),
        headlineFigure("headline_confidence_before", t("The week before"), pulse.before, average),
        headlineFigure(
          "headline_confidence_organisation",
          t("Whole organisation"),
          pulse.organisation,
          average,
        ),
      ],
    ),
    headlineTile(
      "calibration",
      t("Calibration"),
      t("(how well the team's confidence matches its results in lessons)"),
      [
        headlineFigure("headline_calibration", t("Your team"), calibration.now, badge, {
          main: true,
          sub: reading,
        }),
        // TRANSLATORS: the calibration of the period before the latest one.
        headlineFigure("headline_calibration_before", t("Last period"), calibration.before, badge),
        headlineFigure(
          "headline_calibration_organisation",
          t("Whole organisation"),
          calibration.organisation,
          badge,
        ),
      ],
    ),
  );
}

function renderOverview(view) {
  $("threshold-text").textContent = thresholdText(view.threshold);
  const now = view.trend.find((p) => p.week === view.week);
  const learning = view.learning;
  replace(
    $("tiles"),
    // TRANSLATORS: how many people are in the team.
    stat("members", t("Members"), view.members),
    // TRANSLATORS: how many of the team's members have started learning.
    stat("started", t("Started"), view.started),
    stat("not_started", t("Not started yet"), view.not_started),
    stat("active_last_week", t("Active last week"), now ? now.active : null),
    stat("lessons_completed", t("Lessons completed"), learning.lessons_completed, {
      sub: isNull(learning.learners)
        ? null
        : withNodes(tn("by {count} person", "by {count} people", learning.learners), {
            count: el("span", { "data-figure": "learners", text: formatNumber(learning.learners) }),
          }),
    }),
    stat("accuracy_pct", t("Quiz answers right"), learning.accuracy_pct, {
      format: formatPercent,
      sub: isNull(learning.mark_pct)
        ? null
        : // TRANSLATORS: {score} is a percentage: the quiz score when confidence counts.
          withNodes(t("Score counting confidence {score}"), {
            score: el("span", {
              "data-figure": "mark_pct",
              text: formatPercent(learning.mark_pct),
            }),
          }),
    }),
  );
}

/** The organisation's assignments for this team; the section is hidden when there are none. */
function renderAssignments(assignments) {
  const section = $("assignments");
  section.hidden = assignments.length === 0;
  replace(
    $("assignment-list"),
    assignments.map((a) =>
      el(
        "li",
        { "data-assignment": a.id },
        el("span", { class: "assignment-title", text: a.title }),
        el(
          "span",
          { class: "assignment-due" },
          // TRANSLATORS: {date} is the day an assigned track is due.
          withNodes(t("Due {date}"), { date: dayElement(a.due) }),
          a.overdue
            ? el("span", { class: "badge badge--overdue", text: t("Due date passed") })
            : null,
        ),
        el("span", {
          class: isNull(a.completed) ? "assignment-done not-enough" : "assignment-done",
          "data-figure": `assignment_${a.id}`,
          text: finishedText(a),
        }),
      ),
    ),
  );
}

function renderParticipation(view) {
  replace(
    $("participation-chart"),
    activeChart(view.trend, view.members, { group: GROUP, leaders: true }),
  );
}

/** "4 of 13": members who completed a track, of the team's members (if known). */
function completedOf(completed, members) {
  if (isNull(members)) return formatNumber(completed);
  const params = { completed: formatNumber(completed), members: formatNumber(members) };
  // TRANSLATORS: members who completed a track, of all the team's members.
  return t("{completed} of {members}", params);
}

function renderTracks(view, label) {
  const tracks = view.tracks;
  if (!tracks.length) {
    replace(
      $("tracks-chart"),
      el("p", {
        class: "muted",
        text: tn(
          "No track has been completed by at least {n} person yet.",
          "No track has been completed by at least {n} people yet.",
          view.threshold,
        ),
      }),
    );
    return;
  }
  const max = isNull(view.members)
    ? Math.max(1, ...tracks.map((track) => track.completed || 0))
    : view.members;
  const completed = formatList(
    tracks.map((track) => labelled(label.track(track.track), figure(track.completed))),
  );
  replace(
    $("tracks-chart"),
    barList({
      name: "track-completion",
      caption: t("Members who completed each track"),
      summary: t("Members who completed each track: {tracks}.", { tracks: completed }),
      barClass: "c-bar-2",
      rows: tracks.map((track) => ({
        label: label.track(track.track),
        value: isNull(track.completed) ? null : track.completed,
        max,
        text: completedOf(track.completed ?? 0, view.members),
      })),
      table: {
        columns: [t("Track"), t("Members who completed it")],
        numeric: [false, true],
        rows: tracks.map((track) => [label.track(track.track), figure(track.completed)]),
      },
    }),
  );
}

function renderSkills(view, label) {
  replace(
    $("skills-chart"),
    skillHeatmap(view.skills, view.members, label, { group: GROUP }),
  );
}

function renderLeaders(view) {
  const leaders = view.leaders;
  const list = $("leaders");
  replace(
    list,
    stat("leaders", t("Leaders"), leaders.leaders, { className: "" }),
    stat("leaders_started", t("Leaders who started"), leaders.started, { className: "" }),
    stat("leaders_active_last_week", t("Leaders active last week"), leaders.active_last_week, {
      className: "",
    }),
    stat(
      "leaders_challenge_last_week",
      t("Leaders who did last week's challenge"),
      leaders.challenge_last_week,
      { className: "" },
    ),
  );
  const note = $("leaders-note");
  note.hidden = !isNull(leaders.leaders);
  note.textContent = isNull(leaders.leaders)
    ? tn(
        "Shown once the team has at least {n} leader (team owners and designated leaders), so no single leader is exposed.",
        "Shown once the team has at least {n} leaders (team owners and designated leaders), so no single leader is exposed.",
        view.threshold,
      )
    : "";
}

function renderPulse(view) {
  const trend = view.trend;
  replace($("pulse-charts"), pulseConfidenceChart(trend), minutesChart(trend), caughtChart(trend));
}

function render(view, labels, assignments) {
  const label = names(labels);
  renderHeadline(view);
  renderOverview(view);
  renderAssignments(assignments);
  renderParticipation(view);
  renderTracks(view, label);
  renderSkills(view, label);
  fillConfidence(view, GROUP, {
    badge: $("team-calibration"),
    text: $("calibration-text"),
    note: $("confidence-note"),
    chart: $("confidence-chart"),
    trend: $("calibration-trend"),
  });
  renderLeaders(view);
  renderPulse(view);
  // Leaders read a published snapshot (at most one a day) that runs to the last closed week.
  const footer = isNull(view.published_on)
    ? // TRANSLATORS: {week} is an ISO week such as "2026-W48".
      t(
        "Figures run to week {week}. They are group totals, updated at most once a day; the CSV holds the same figures. Nobody's individual answers are stored in them.",
        { week: view.week },
      )
    : // TRANSLATORS: {week} is an ISO week such as "2026-W48"; {date} is a date.
      t(
        "Figures run to week {week}, published on {date}. They are group totals, updated at most once a day; the CSV holds the same figures. Nobody's individual answers are stored in them.",
        { week: view.week },
      );
  replace(
    $("footer-note"),
    ...withNodes(footer, {
      date: isNull(view.published_on) ? null : dayElement(view.published_on),
    }),
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

const CONSENT_HINT = t(
  "If they still don't appear, ask your Microsoft 365 admin to grant AI Ready's Microsoft Graph consent, which lets it read the team's member list.",
);

/** The first roster sync is running: say so, with a way to look now. */
function showSyncing(checkNow) {
  if ($("syncing")) return; // already shown: don't announce it again at every look
  showNotice(
    "syncing",
    "info",
    t("Getting ready"),
    [
      t(
        "Collecting your team's figures: AI Ready is reading the team's member list. This usually takes less than a minute.",
      ),
      el(
        "p",
        { class: "loading-inline" },
        el("span", { class: "spinner", "aria-hidden": "true" }),
        t("This page checks again on its own."),
      ),
    ],
    [actionButton(t("Refresh"), checkNow)],
  );
}

/** The sync still hasn't finished after the last automatic look. */
function showSlowSync(checkNow) {
  showNotice(
    "sync-slow",
    "warning",
    t("This is taking longer than usual"),
    [
      t(
        "Your team's figures appear once AI Ready has read the team's member list, and that hasn't finished yet. Reopen this tab in a few minutes.",
      ),
      CONSENT_HINT,
    ],
    [actionButton(t("Check again"), checkNow)],
  );
}

/** No figures yet and no roster sync running (e.g. the member list could not be read). */
function showUnavailable(checkNow) {
  showNotice(
    "unavailable",
    "warning",
    t("Your team's figures aren't available yet"),
    [
      t(
        "They appear once AI Ready has read the team's member list, and it couldn't read it this time.",
      ),
      el(
        "ul",
        {},
        el("li", { text: t("Reopen this tab later.") }),
        el("li", { text: CONSENT_HINT }),
      ),
    ],
    [actionButton(t("Check again"), checkNow)],
  );
}

/** A member who doesn't lead the team: what this view is, and the way to their own page. */
function showNotLeader() {
  setLoading(false);
  const href = withPageParams(body.dataset.myLearningUrl);
  replace(
    $("alert"),
    el(
      "div",
      { class: "notice notice--info", id: "not-leader" },
      el(
        "div",
        {},
        el("h2", { text: t("This view is for the team's leaders") }),
        el("p", {
          text: t(
            "This view is for the team's owners and the leaders designated for this team. Your own progress, skills and data are in My learning.",
          ),
        }),
        el(
          "p",
          { class: "actions" },
          // TRANSLATORS: "My learning" is the name of the personal tab.
          el("a", { class: "button button--primary", href, text: t("Open My learning") }),
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
        el("p", {
          text: t("Add AI Ready as a tab in a team channel to see your team's figures."),
        }),
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
        render(answer.view, answer.labels, answer.assignments || []);
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
      if (err instanceof ApiError && err.status === 403) showNotLeader();
      else showError(err, load);
    }
  };
  const checkNow = () => {
    checks = 0;
    replace($("status"));
    setLoading(true, t("Loading your team's figures…"));
    load();
  };
  const form = $("team-challenge");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("team-challenge-result");
    const button = $("team-challenge-send");
    button.disabled = true;
    result.textContent = t("Sending…");
    try {
      const response = await tab.api(`${base}/challenge`, {
        method: "POST",
        json: { challenge: $("team-challenge-choice").value },
      });
      const answer = await response.json();
      // The server's status says the same in English; the page says it in its own language.
      result.textContent = answer.challenge
        ? // TRANSLATORS: {title} is the challenge's title.
          t(
            '"{title}" is on its way to the team\'s chats, within each person\'s working hours.',
            { title: answer.challenge.title },
          )
        : t("The team's challenge has already been sent this week.");
    } catch (err) {
      result.textContent =
        err.status === 403
          ? t("Only the team's owners and designated leaders can do this.")
          : t("That didn't work. Please try again in a minute.");
    } finally {
      button.disabled = false;
    }
  });
  await load();
}

/** A challenge to choose: its title, how long it takes, and whether it is this week's. */
function challengeOption(challenge) {
  const params = { title: challenge.title, minutes: formatNumber(challenge.minutes) };
  if (challenge.suggested) {
    // TRANSLATORS: a challenge to choose: its title, how long it takes, and that it is the
    // one suggested for this week.
    return t("{title} (about {minutes} min) · this week's suggestion", params);
  }
  // TRANSLATORS: a challenge to choose: its title and how long it takes.
  return t("{title} (about {minutes} min)", params);
}

function renderTeamChallenge(challenges) {
  const form = $("team-challenge");
  form.hidden = challenges.length === 0;
  const select = $("team-challenge-choice");
  const chosen = select.value;
  replace(
    select,
    ...challenges.map((c) =>
      el("option", { value: c.id, text: challengeOption(c) }),
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
        // TRANSLATORS: "Save" is the button of Teams' tab set-up dialog.
        text: t("Local demo mode: in Teams, Save adds the tab to the channel."),
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
        // Teams fills {locale} with each viewer's language, so the tab opens in it.
        contentUrl: `${url}?locale={locale}`,
        websiteUrl: url,
        // TRANSLATORS: the name of the team tab in the channel's tab bar.
        suggestedDisplayName: t("AI Ready team"),
      })
      .then(() => saveEvent.notifySuccess())
      .catch(() => saveEvent.notifyFailure(t("Couldn't save the tab. Try again.")));
  });
  config.setValidityState(true);
  // TRANSLATORS: "Save" is the button of Teams' tab set-up dialog.
  replace(status, el("p", { class: "fine-print", text: t("Select Save to add the tab.") }));
}

if (body.dataset.page === "team-config") {
  configPage();
} else {
  teamPage().catch((err) => showError(err instanceof ApiError ? err : new ApiError(-1)));
}
