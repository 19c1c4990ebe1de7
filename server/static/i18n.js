/**
 * The page's text in the reader's language.
 *
 * The server renders each page in one language (from ?locale=, which the manifest fills with
 * Teams' {locale}, or Accept-Language) and embeds the messages this page's scripts use as
 * JSON in <script id="ai-ready-i18n">, already translated. t() and tn() read them; a message
 * missing from the catalog stays in English. Message ids are the English text, with named
 * {placeholders}, and are extracted for the catalogs by Babel (see teams_app/i18n.py).
 *
 * Plurals: the catalog gives every form of a plural message and which form each CLDR plural
 * category takes; Intl.PluralRules picks the category, so French 0 is singular and Japanese
 * has one form, as in the Python catalogs.
 */

function readCatalog() {
  const node = document.getElementById("ai-ready-i18n");
  if (!node) return {};
  try {
    return JSON.parse(node.textContent || "{}");
  } catch {
    return {};
  }
}

const catalog = readCatalog();
const messages = catalog.messages || {};
const categories = catalog.plural || { one: 0, other: 1 };

/** The BCP 47 tag the page was rendered in (dates and numbers follow it). */
export const locale = document.documentElement.lang || "en-US";
/** The catalog's language code ("en", "de", ...). */
export const language = catalog.language || "en";
/** The languages the server has catalogs for. */
export const languages = Object.freeze(catalog.languages || ["en"]);

const pluralRules = (() => {
  try {
    return new Intl.PluralRules(locale);
  } catch {
    return new Intl.PluralRules("en-US");
  }
})();

function fill(text, params) {
  return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/** The message in the page's language, with {name} placeholders filled from params. */
export function t(message, params = {}) {
  const found = messages[message];
  return fill(typeof found === "string" ? found : message, params);
}

/** The plural form for n ({n} is filled with n, formatted); other placeholders from params. */
export function tn(singular, plural, n, params = {}) {
  const forms = messages[singular];
  let text = n === 1 ? singular : plural;
  if (Array.isArray(forms) && forms.length) {
    const index = categories[pluralRules.select(n)] ?? categories.other ?? 0;
    text = forms[Math.min(index, forms.length - 1)];
  }
  return fill(text, { n: formatNumber(n), ...params });
}

/** A number with at most `digits` decimals, grouped as the page's locale groups them. */
export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

/** A date (a Date or "YYYY-MM-DD", read as a calendar day) in the page's locale. */
export function formatDate(value, options = { dateStyle: "medium" }) {
  const date =
    typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)
      ? new Date(`${value}T12:00:00`)
      : new Date(value);
  return new Intl.DateTimeFormat(locale, options).format(date);
}

/**
 * The language a Microsoft 365 host asks for (its context's app.locale) when the server has
 * a catalog for it and the page is in another one; null otherwise. The page reloads itself
 * once with ?locale= set to it.
 */
export function hostLanguageChange(hostLocale) {
  if (!hostLocale) return null;
  const code = String(hostLocale).split(/[-_]/)[0].toLowerCase();
  if (code === language || !languages.includes(code)) return null;
  const params = new URLSearchParams(window.location.search);
  if (params.get("locale") === hostLocale) return null; // asked once already: keep this page
  return hostLocale;
}
