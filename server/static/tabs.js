/**
 * Shared start-up of the AI Ready tabs.
 *
 * In a Microsoft 365 host (Teams, Outlook, the Microsoft 365 app): initialise the Teams JS SDK
 * (giving up after 3 s: then the page is in no host), note the host's name on
 * <body data-host> and Tab.host, follow the host's theme, and call our JSON API with the tab's
 * SSO token (the same token flow in every host).
 * In local demo mode (body[data-demo="true"], set by the server's dev switch) no Teams is
 * needed: the theme comes from ?theme= and the API is called without a token.
 *
 * Nothing here writes API strings as HTML: text goes through textContent / createElement.
 * Every text a reader sees comes from the page's message catalog (i18n.js: t() and tn()).
 */

import {
  formatNumber as formatLocaleNumber,
  hostLanguageChange,
  language,
  locale,
  t,
} from "./i18n.js";

// TRANSLATORS: shown instead of a group figure that too few people contributed to.
export const NOT_ENOUGH = t("not enough responses yet");
export const THEMES = Object.freeze(["default", "dark", "contrast"]);
// TeamsJS HostName values for Teams itself; any other host (Outlook, "Office" = the
// Microsoft 365 app, ...) shows the tab outside Teams, so Teams chats open in Teams.
const TEAMS_HOSTS = Object.freeze(["Teams", "TeamsModern"]);
const TEAMS_TIMEOUT_MS = 3000;
// The page's language as our API is asked for it: the page's tag ("de-AT"), or the catalog's
// code when the tag doesn't name it (the pseudo-locale "qps-ploc" is laid out as en-US).
const API_LANGUAGE = locale.toLowerCase().split("-")[0] === language ? locale : language;

/** An HTTP error from our API, with its status. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message || `request failed with status ${status}`);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Apply a Teams theme name to <html data-theme>; unknown names fall back to "default". */
export function applyTheme(theme) {
  const name = THEMES.includes(theme) ? theme : "default";
  document.documentElement.dataset.theme = name;
  return name;
}

/** Create an element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

/** Append children: nodes as they are, strings and numbers as text, null skipped. */
export function append(parent, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/**
 * A translated message whose {name} placeholders stand for elements (a date, a figure, a
 * <kbd>): the children to append, text and ``nodes[name]`` in the message's order. Give it
 * the message from t() or tn() (with the text placeholders filled there), e.g.
 * ``withNodes(t("Due {date}"), { date: dayElement(due) })``.
 */
export function withNodes(message, nodes) {
  const parts = [];
  let last = 0;
  for (const found of message.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (!Object.hasOwn(nodes, found[1])) continue;
    parts.push(message.slice(last, found.index), nodes[found[1]]);
    last = found.index + found[0].length;
  }
  parts.push(message.slice(last));
  return parts.filter((part) => part !== "" && part !== null && part !== undefined);
}

/** Replace an element's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, ...children);
}

/** Format a figure that may be suppressed (null): the number, or "not enough responses yet". */
export function figure(value, suffix = "") {
  if (value === null || value === undefined) return NOT_ENOUGH;
  return formatNumber(value) + suffix;
}

/** A number with at most ``digits`` decimals (one by default), in the page's locale. */
export function formatNumber(value, digits = 1) {
  return formatLocaleNumber(value, digits);
}

/** A percentage (``value`` out of 100, at most one decimal) as the page's locale writes it. */
export function formatPercent(value) {
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(
    value / 100,
  );
}

/**
 * Items as a list in the page's language: "a, b, c" (``type`` "unit", for lists of figures),
 * "a, b or c" ("disjunction") or "a, b and c" ("conjunction").
 */
export function formatList(items, type = "unit") {
  const values = items.map(String);
  if (typeof Intl.ListFormat !== "function") return values.join(", ");
  const style = type === "unit" ? "short" : "long";
  return new Intl.ListFormat(locale, { type, style }).format(values);
}

/**
 * A link to another tab page that keeps this page's ?locale= (the language Teams asked for)
 * and, in demo mode, its ?theme= (in Teams the host sets the theme itself).
 */
export function withPageParams(url) {
  const here = new URLSearchParams(window.location.search);
  const kept = [];
  if (document.body.dataset.demo === "true" && here.get("theme")) {
    kept.push(["theme", here.get("theme")]);
  }
  if (here.get("locale")) kept.push(["locale", here.get("locale")]);
  let result = url;
  for (const [name, value] of kept) {
    result += `${result.includes("?") ? "&" : "?"}${name}=${encodeURIComponent(value)}`;
  }
  return result;
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function initialiseTeams() {
  const teams = window.microsoftTeams;
  if (!teams || !teams.app) throw new Error("Teams JS SDK not loaded");
  await teams.app.initialize();
  return teams.app.getContext();
}

/**
 * The page's connection to Teams and to our API. Create it with {@link startTab}.
 */
export class Tab {
  constructor({ demo, context = null }) {
    this.demo = demo;
    this.context = context;
    this.token = null;
    /** The TeamsJS host name ("Teams", "Outlook", "Office", ...); null outside a host. */
    this.host = demo ? null : context?.app?.host?.name || "Teams";
  }

  /** True in a Microsoft 365 host other than Teams (Outlook, the Microsoft 365 app, ...). */
  get outsideTeamsClient() {
    return this.host !== null && !TEAMS_HOSTS.includes(this.host);
  }

  /** The SSO token for our API (Teams caches and refreshes it). */
  async authToken(refresh = false) {
    if (this.demo) return null;
    if (!this.token || refresh) {
      this.token = await window.microsoftTeams.authentication.getAuthToken();
    }
    return this.token;
  }

  /**
   * Call our API. Adds the bearer token in Teams (none in demo mode); on a 401 fetches a fresh
   * token once and retries. Returns the Response; throws ApiError for any non-2xx answer.
   */
  async api(path, { method = "GET", json, accept = "application/json" } = {}) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      // Server-computed text (labels, hints) comes back in the page's language.
      const headers = { Accept: accept, "Accept-Language": API_LANGUAGE };
      let token = null;
      try {
        token = await this.authToken(attempt > 0);
      } catch (err) {
        throw new ApiError(401, "could not get a Teams sign-in token");
      }
      if (token) headers.Authorization = `Bearer ${token}`;
      const init = { method, headers, credentials: "same-origin", cache: "no-store" };
      if (json !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(json);
      }
      let response;
      try {
        response = await fetch(path, init);
      } catch (err) {
        throw new ApiError(0, "network error");
      }
      if (response.status === 401 && !this.demo && attempt === 0) continue;
      if (!response.ok) throw new ApiError(response.status);
      return response;
    }
    throw new ApiError(401);
  }

  /** GET JSON from our API. */
  async getJson(path) {
    const response = await this.api(path);
    return response.json();
  }

  /**
   * Download a file from our API (with the token) and hand it to the browser as a download.
   * A plain link cannot carry the bearer token, hence fetch → Blob → temporary link.
   */
  async download(path, fallbackName, accept = "*/*") {
    const response = await this.api(path, { accept });
    const blob = await response.blob();
    const name = filenameFrom(response.headers.get("Content-Disposition")) || fallbackName;
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return name;
  }

  /**
   * Open a Teams deep link through the host (a plain navigation inside the iframe fails; from
   * Outlook and the Microsoft 365 app the host hands it to Teams).
   */
  openLink(url) {
    if (!this.demo && window.microsoftTeams?.app?.openLink) {
      return window.microsoftTeams.app.openLink(url);
    }
    window.open(url, "_blank", "noopener");
    return Promise.resolve();
  }
}

function filenameFrom(disposition) {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through to the plain filename */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1].trim() : null;
}

/**
 * Start the page: in demo mode at once; otherwise initialise Teams within 3 s. Resolves to a
 * {@link Tab}, or to null after showing the "Open AI Ready in Microsoft Teams" message.
 */
export async function startTab() {
  const body = document.body;
  if (body.dataset.demo === "true") {
    applyTheme(new URLSearchParams(window.location.search).get("theme"));
    return new Tab({ demo: true });
  }
  let context;
  try {
    context = await withTimeout(initialiseTeams(), TEAMS_TIMEOUT_MS);
  } catch (err) {
    showOutsideTeams();
    return null;
  }
  // The host's language, when the server has it and the page is in another: reload in it.
  const hostLocale = hostLanguageChange(context?.app?.locale);
  if (hostLocale) {
    const url = new URL(window.location.href);
    url.searchParams.set("locale", hostLocale);
    window.location.replace(url.toString());
    return null;
  }
  applyTheme(context?.app?.theme);
  const tab = new Tab({ demo: false, context });
  body.dataset.host = tab.host;
  try {
    window.microsoftTeams.app.registerOnThemeChangeHandler(applyTheme);
    window.microsoftTeams.app.notifySuccess?.();
  } catch (err) {
    /* older hosts without these: the page still works in the starting theme */
  }
  return tab;
}

/** Replace the page with the "open it in Teams" message. */
export function showOutsideTeams() {
  // TRANSLATORS: where to find the tab in Teams: the Apps menu, then AI Ready, then the tab.
  const hint = document.body.dataset.outsideHint || t("Apps → AI Ready → My learning");
  const main = document.getElementById("main");
  const box = el(
    "div",
    { class: "message-page", id: "outside-teams" },
    el(
      "div",
      { class: "notice notice--info", role: "alert" },
      el(
        "div",
        {},
        el("h1", { class: "notice-title", text: t("This page lives in Microsoft Teams") }),
        el("p", {
          // TRANSLATORS: {hint} says where the tab is, e.g. "Apps → AI Ready → My learning".
          text: t("Open AI Ready in Microsoft Teams to see this page ({hint}).", { hint }),
        }),
      ),
    ),
  );
  replace(main, box);
}

/** The sentence to show for an API error. */
export function errorMessage(err) {
  const status = err instanceof ApiError ? err.status : -1;
  if (status === 401) return t("Please sign in again: close this tab and open it again.");
  if (status === 403) return t("Only team owners and designated leaders can see this view.");
  if (status === 404) return t("AI Ready couldn't find this. It may have been removed.");
  if (status === 0)
    return t("AI Ready can't be reached right now. Check your connection and try again.");
  return t("Something went wrong loading this page. Try again in a minute.");
}

/**
 * Show an error in the page's alert region (and stop the loading indicator). ``retry``, when
 * given, adds a "Try again" button.
 */
export function showError(err, retry) {
  setLoading(false);
  const region = document.getElementById("alert");
  const status = err instanceof ApiError ? err.status : -1;
  const title =
    status === 403
      ? t("No access")
      : status === 401
        ? t("Signed out")
        : t("Couldn't load this page");
  const parts = [el("h2", { text: title }), el("p", { text: errorMessage(err) })];
  if (retry && status !== 403) {
    const button = el("button", { type: "button", class: "button", text: t("Try again") });
    button.addEventListener("click", () => {
      replace(region);
      setLoading(true);
      retry();
    });
    parts.push(el("p", { class: "actions" }, button));
  }
  replace(region, el("div", { class: "notice notice--error" }, el("div", {}, ...parts)));
}

/** Show or hide the loading indicator in #status. */
export function setLoading(loading, text) {
  const status = document.getElementById("status");
  if (!status) return;
  if (loading) {
    replace(
      status,
      el(
        "p",
        { class: "loading" },
        el("span", { class: "spinner", "aria-hidden": "true" }),
        text || t("Loading…"),
      ),
    );
  } else {
    replace(status);
  }
  document.getElementById("main")?.setAttribute("aria-busy", loading ? "true" : "false");
}
