/**
 * Inline SVG charts for the AI Ready tabs, drawn here (no chart library, no CDN).
 *
 * Every chart is a <figure> holding: a visible caption, the SVG (role="img" with an
 * aria-label that sums the chart up), and a visually-hidden <table> with every figure, so a
 * screen reader gets the numbers. Colours come from CSS classes (app.css), so a theme change
 * recolours the charts without redrawing. Charts are redrawn at their container's width (a
 * ResizeObserver), so text stays the same size in a narrow side panel and on a wide screen.
 * Suppressed figures (null) are drawn as empty, dashed slots (never as a shape of some size, so
 * they cannot be mistaken for a value), with the text "not enough responses yet" where it fits.
 */

import { t } from "./i18n.js";
import { NOT_ENOUGH, el, formatNumber, formatPercent } from "./tabs.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const FONT = '13px "Segoe UI", system-ui, -apple-system, sans-serif';
const NARROW = 440;
const HIDDEN_PX = 12; // "not enough responses yet": never smaller than other chart text
const LINE = 15; // line height of wrapped 12-13 px chart text
const STUB = 6; // height of the empty stub that marks a hidden week in a trend
let nextId = 0;

function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** An SVG element with attributes; string children become text. */
function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let measureContext = null;

/** The rendered width of ``text`` at ``px`` pixels (an estimate good enough for layout). */
function textWidth(text, px = 13, weight = "400") {
  if (!measureContext) measureContext = document.createElement("canvas").getContext("2d");
  if (!measureContext) return String(text).length * px * 0.55;
  measureContext.font = FONT.replace("13px", `${weight} ${px}px`);
  return measureContext.measureText(String(text)).width;
}

/** Split ``text`` into lines no wider than ``width``. */
function wrap(text, width, px = 11.5) {
  const words = String(text).split(/\s+/);
  const lines = [];
  let line = "";
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && textWidth(candidate, px) > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Shorten ``text`` with an ellipsis to fit ``width``. */
function fit(text, width, px = 13, weight = "400") {
  const value = String(text);
  if (textWidth(value, px, weight) <= width) return value;
  let cut = value.length;
  while (cut > 1 && textWidth(`${value.slice(0, cut)}…`, px, weight) > width) cut -= 1;
  return `${value.slice(0, cut)}…`;
}

/** Ticks from ``low`` to ``high``: the ends and a middle one (a whole number if asked). */
function ticks(low, high, integer) {
  const middle = (low + high) / 2;
  if (!integer) return [low, middle, high];
  if (high - low < 2) return [low, high];
  return [low, Math.round(middle), high];
}

/**
 * An empty slot standing for a hidden figure: a dashed outline (never a filled shape, so it
 * cannot be read as a value), optionally with "not enough responses yet" in it.
 */
function hiddenBox(x, y, width, height, withText = true) {
  const group = s("g", { class: "c-hidden" });
  group.append(
    s("rect", {
      x: x + 0.5,
      y: y + 0.5,
      width: Math.max(0, width - 1),
      height: Math.max(0, height - 1),
      rx: 3,
      class: "c-hidden-slot",
    }),
  );
  if (withText) {
    const lines = wrap(NOT_ENOUGH, width - 12, HIDDEN_PX);
    const top = y + height / 2 - ((lines.length - 1) * LINE) / 2;
    group.append(centredLines(lines, x + width / 2, top, "c-text--hidden"));
  }
  return group;
}

/** Lines of text centred on ``x``, the first one's middle at ``y``. */
function centredLines(lines, x, y, cls) {
  const text = s("text", {
    x,
    y,
    "text-anchor": "middle",
    "dominant-baseline": "middle",
    class: cls,
  });
  lines.forEach((line, i) => text.append(s("tspan", { x, dy: i ? LINE : 0 }, line)));
  return text;
}

/** An empty bar slot saying "not enough responses yet", from barX to the chart's width. */
function hiddenBar(svg, barX, y, width, barHeight, pad) {
  const slot = hiddenBox(barX, y - pad, width - barX, barHeight + 2 * pad, false);
  const at = {
    x: barX + 8,
    y: y + barHeight / 2,
    "dominant-baseline": "middle",
    class: "c-text--hidden",
  };
  slot.append(s("text", at, fit(NOT_ENOUGH, width - barX - 16, HIDDEN_PX)));
  svg.append(slot);
}

/** Vertical grid lines at 0, 50 and 100 % of a bar track, labelled under the chart. */
function percentGrid(svg, barX, trackWidth, height, axisHeight) {
  for (const pct of [0, 50, 100]) {
    const x = barX + (trackWidth * pct) / 100;
    svg.append(s("line", { x1: x, y1: 0, x2: x, y2: height - axisHeight + 2, class: "c-grid" }));
    const anchor = pct === 0 ? "start" : pct === 100 ? "end" : "middle";
    const label = { x, y: height - 6, "text-anchor": anchor, class: "c-text--muted c-text--small" };
    svg.append(s("text", label, formatPercent(pct)));
  }
}

function svgRoot(width, height, label) {
  return s("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    focusable: "false",
  });
}

/**
 * The chart's frame: caption, canvas (drawn at the canvas width), legend, hidden table.
 *
 * ``table`` is {columns: [header…], rows: [[cell…]…], numeric: [bool per column]}; cells are
 * strings (already formatted). ``draw(width)`` returns the <svg>. The table is visually hidden,
 * or, with ``tableToggle`` (the toggle's words), shown to anyone who opens it.
 */
export function chartFigure({ name, caption, sub, summary, legend, table, draw, tableToggle }) {
  const canvas = el("div", { class: "chart-canvas" });
  const captionId = uid("chart-caption");
  const tableId = uid("chart-table");
  const figureNode = el(
    "figure",
    { class: "chart", "data-chart": name, "aria-labelledby": captionId },
    el(
      "figcaption",
      { id: captionId },
      caption,
      sub ? el("span", { class: "chart-sub", text: sub }) : null,
    ),
    canvas,
  );
  if (legend && legend.length) {
    figureNode.append(el("ul", { class: "legend", "aria-hidden": "true" }, legend.map(legendItem)));
  }
  // TRANSLATORS: the caption of the table with a chart's figures; {caption} is the chart's.
  const data = dataTable(tableId, t("{caption}: the figures", { caption }), table);
  if (tableToggle) {
    // The same table, for everyone who asks for it: a closed <details> hides it from all.
    data.className = "table-wrap";
    figureNode.append(
      el("details", { class: "chart-details" }, el("summary", { text: tableToggle }), data),
    );
  } else {
    figureNode.append(data);
  }

  let drawnWidth = 0;
  const render = (width) => {
    const rounded = Math.floor(width);
    if (rounded <= 0 || rounded === drawnWidth) return;
    drawnWidth = rounded;
    const svg = draw(rounded);
    svg.setAttribute("aria-label", summary);
    canvas.replaceChildren(svg);
  };
  if (typeof ResizeObserver === "function") {
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) render(entry.contentRect.width);
    });
    observer.observe(canvas);
  } else {
    requestAnimationFrame(() => render(canvas.clientWidth || 320));
  }
  return figureNode;
}

/**
 * One legend entry: ``[swatch, text]`` (a swatch class suffix from app.css), or
 * ``{scale: steps, low, high}``: the heatmap's colour steps from ``low`` to ``high``.
 */
function legendItem(item) {
  if (Array.isArray(item)) {
    const [swatch, text] = item;
    return el("li", {}, el("span", { class: `swatch swatch--${swatch}` }), text);
  }
  const steps = Array.from({ length: item.scale }, (_, i) =>
    el("span", { class: `swatch swatch--heat swatch--heat-${i + 1}`, "data-step": i + 1 }),
  );
  return el(
    "li",
    { class: "legend-scale" },
    el("span", { text: item.low }),
    el("span", { class: "scale" }, steps),
    el("span", { text: item.high }),
  );
}

/** A visually-hidden data table (wrapped: a table itself does not clip its cells). */
function dataTable(id, caption, { columns, rows, numeric = [] }) {
  const table = el(
    "table",
    { class: "data chart-data", id },
    el("caption", { text: caption }),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        columns.map((c, i) =>
          el("th", { scope: "col", class: numeric[i] ? "num" : null, text: c }),
        ),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((row) =>
        el(
          "tr",
          {},
          row.map((cell, i) =>
            i === 0
              ? el("th", { scope: "row", text: cell })
              : el("td", { class: numeric[i] ? "num" : null, text: cell }),
          ),
        ),
      ),
    ),
  );
  return el("div", { class: "visually-hidden" }, table);
}

// ---------------------------------------------------------------------------- bar list

/**
 * Horizontal bars, one per row: {label, value (null = hidden), max, text}. Used for progress
 * per track (done of total), team completion per track and the organisation's adoption funnel.
 */
export function barList({
  name,
  caption,
  sub,
  summary,
  rows,
  table,
  tableToggle,
  barClass = "c-bar-1",
}) {
  const draw = (width) => {
    const narrow = width < NARROW;
    const valueWidth = Math.min(
      width * 0.35,
      Math.max(40, ...rows.map((r) => (r.value === null ? 0 : textWidth(r.text, 13, "600")))) + 8,
    );
    const labelWidth = narrow
      ? 0
      : Math.min(width * 0.34, Math.max(...rows.map((r) => textWidth(r.label))) + 14);
    const barX = labelWidth;
    const rowHeight = narrow ? 46 : 34;
    const barHeight = 14;
    const height = rows.length * rowHeight;
    const svg = svgRoot(width, height, summary);
    rows.forEach((row, i) => {
      const top = i * rowHeight;
      const barY = narrow ? top + 24 : top + (rowHeight - barHeight) / 2;
      const trackWidth = width - barX - (row.value === null ? 0 : valueWidth);
      const labelY = narrow ? top + 11 : top + rowHeight / 2;
      svg.append(
        s(
          "text",
          { x: 0, y: labelY, "dominant-baseline": "middle", class: "c-text" },
          fit(row.label, narrow ? width : labelWidth - 10),
        ),
      );
      if (row.value === null) {
        hiddenBar(svg, barX, barY, width, barHeight, 3);
        return;
      }
      const share = row.max > 0 ? Math.max(0, Math.min(1, row.value / row.max)) : 0;
      svg.append(
        s("rect", {
          x: barX,
          y: barY,
          width: trackWidth,
          height: barHeight,
          rx: barHeight / 2,
          class: "c-track",
        }),
      );
      if (share > 0) {
        svg.append(
          s("rect", {
            x: barX,
            y: barY,
            width: Math.max(barHeight, trackWidth * share),
            height: barHeight,
            rx: barHeight / 2,
            class: barClass,
          }),
        );
      }
      svg.append(
        s(
          "text",
          {
            x: width,
            y: barY + barHeight / 2,
            "text-anchor": "end",
            "dominant-baseline": "middle",
            class: "c-text c-text--strong",
          },
          row.text,
        ),
      );
    });
    return svg;
  };
  return chartFigure({ name, caption, sub, summary, table, draw, tableToggle });
}

// ---------------------------------------------------------------------------- paired bars

/**
 * Two bars per row on a 0-100 % scale (the personal skill profile: skills check vs now).
 * rows: {label, note, a: {pct, text} | null, b: {pct, text} | null, aEmpty, bEmpty}.
 */
export function pairedBars({ name, caption, sub, summary, rows, legend, table }) {
  const draw = (width) => {
    const narrow = width < NARROW;
    const labelWidth = narrow
      ? 0
      : Math.min(width * 0.32, Math.max(...rows.map((r) => textWidth(r.label, 13, "600"))) + 16);
    const valueWidth = 44;
    const barX = labelWidth;
    const trackWidth = width - barX - valueWidth;
    const barHeight = 10;
    const head = narrow ? 20 : 0;
    const rowHeight = head + 48;
    const axisHeight = 20;
    const height = rows.length * rowHeight + axisHeight;
    const svg = svgRoot(width, height, summary);
    percentGrid(svg, barX, trackWidth, height, axisHeight);
    rows.forEach((row, i) => {
      const top = i * rowHeight;
      if (narrow) {
        svg.append(
          s(
            "text",
            { x: 0, y: top + 12, "dominant-baseline": "middle", class: "c-text c-text--strong" },
            fit(row.label, width),
          ),
        );
      } else {
        svg.append(
          s(
            "text",
            { x: 0, y: top + 16, "dominant-baseline": "middle", class: "c-text c-text--strong" },
            fit(row.label, labelWidth - 12, 13, "600"),
          ),
        );
        if (row.note) {
          svg.append(
            s(
              "text",
              { x: 0, y: top + 34, "dominant-baseline": "middle", class: "c-text--muted" },
              fit(row.note, labelWidth - 12, 12),
            ),
          );
        }
      }
      [
        [row.a, row.aEmpty, "c-bar-1", head + 10],
        [row.b, row.bEmpty, "c-bar-2", head + 28],
      ].forEach(([bar, empty, cls, offset]) => {
        const y = top + offset;
        svg.append(
          s("rect", {
            x: barX,
            y,
            width: trackWidth,
            height: barHeight,
            rx: barHeight / 2,
            class: "c-track",
          }),
        );
        if (bar) {
          if (bar.pct > 0) {
            svg.append(
              s("rect", {
                x: barX,
                y,
                width: Math.max(barHeight, (trackWidth * bar.pct) / 100),
                height: barHeight,
                rx: barHeight / 2,
                class: cls,
              }),
            );
          }
          svg.append(
            s(
              "text",
              {
                x: width,
                y: y + barHeight / 2,
                "text-anchor": "end",
                "dominant-baseline": "middle",
                class: "c-text c-text--strong",
              },
              bar.text,
            ),
          );
        } else {
          svg.append(
            s(
              "text",
              {
                x: barX + 8,
                y: y + barHeight / 2 + 0.5,
                "dominant-baseline": "middle",
                class: "c-text--muted c-text--small",
              },
              empty,
            ),
          );
        }
      });
    });
    return svg;
  };
  return chartFigure({ name, caption, sub, summary, legend, table, draw });
}

// ---------------------------------------------------------------------------- level bands

/**
 * Accuracy per confidence level against the band in which that level is the right call under
 * certainty-based marking. rows: {label, pct (null = hidden), band: [lo, hi], text}.
 */
export function bandBars({ name, caption, sub, summary, rows, legend, table }) {
  const draw = (width) => {
    const narrow = width < NARROW;
    const labelWidth = narrow
      ? 0
      : Math.min(width * 0.28, Math.max(...rows.map((r) => textWidth(r.label, 13, "600"))) + 16);
    const valueWidth = Math.min(
      width * 0.4,
      Math.max(48, ...rows.map((r) => (r.pct === null ? 0 : textWidth(r.text, 13, "600")))) + 10,
    );
    const barX = labelWidth;
    const trackWidth = width - barX - valueWidth;
    const barHeight = 18;
    const rowHeight = narrow ? 52 : 38;
    const axisHeight = 20;
    const height = rows.length * rowHeight + axisHeight;
    const svg = svgRoot(width, height, summary);
    percentGrid(svg, barX, trackWidth, height, axisHeight);
    rows.forEach((row, i) => {
      const top = i * rowHeight;
      const y = narrow ? top + 24 : top + (rowHeight - barHeight) / 2;
      svg.append(
        s(
          "text",
          {
            x: 0,
            y: narrow ? top + 11 : y + barHeight / 2,
            "dominant-baseline": "middle",
            class: "c-text c-text--strong",
          },
          fit(row.label, narrow ? width : labelWidth - 12, 13, "600"),
        ),
      );
      if (row.pct === null) {
        hiddenBar(svg, barX, y, width, barHeight, 2);
        return;
      }
      svg.append(
        s("rect", { x: barX, y, width: trackWidth, height: barHeight, rx: 3, class: "c-track" }),
      );
      const [lo, hi] = row.band;
      const bandX = barX + trackWidth * lo;
      const bandW = trackWidth * (hi - lo);
      svg.append(
        s("rect", { x: bandX, y: y - 4, width: bandW, height: barHeight + 8, class: "c-band" }),
      );
      svg.append(
        s("line", { x1: bandX, y1: y - 4, x2: bandX, y2: y + barHeight + 4, class: "c-band-edge" }),
      );
      svg.append(
        s("line", {
          x1: bandX + bandW,
          y1: y - 4,
          x2: bandX + bandW,
          y2: y + barHeight + 4,
          class: "c-band-edge",
        }),
      );
      const barW = (trackWidth * Math.max(0, Math.min(100, row.pct))) / 100;
      if (barW > 0)
        svg.append(
          s("rect", {
            x: barX,
            y: y + 4,
            width: barW,
            height: barHeight - 8,
            rx: 2,
            class: "c-bar-1",
          }),
        );
      svg.append(s("circle", { cx: barX + barW, cy: y + barHeight / 2, r: 5, class: "c-dot-1" }));
      svg.append(
        s(
          "text",
          {
            x: width,
            y: y + barHeight / 2,
            "text-anchor": "end",
            "dominant-baseline": "middle",
            class: "c-text c-text--strong",
          },
          row.text,
        ),
      );
    });
    return svg;
  };
  return chartFigure({ name, caption, sub, summary, legend, table, draw });
}

// ---------------------------------------------------------------------------- trend

/**
 * A weekly trend: ``bars`` (one series as columns) and/or ``line`` (one series as a line with
 * dots), over the same weeks. A week where the main series is hidden gets a short, dashed,
 * empty stub on the baseline (titled "not enough responses yet"): no height, so no value.
 * ``yMin``/``yMax`` fix the scale (else 0 to a rounded maximum); ``format`` formats ticks.
 */
export function trendChart({
  name,
  caption,
  sub,
  summary,
  weeks,
  bars,
  line,
  yMin = 0,
  yMax,
  integer = true,
  format = formatNumber,
  legend,
  table,
  height: plotHeight = 150,
}) {
  const main = bars || line;
  const draw = (width) => {
    const values = [...(bars ? bars.values : []), ...(line ? line.values : [])].filter(
      (v) => v !== null,
    );
    let top = yMax ?? niceMax(Math.max(1, ...values));
    if (yMax === undefined && integer && top <= 10 && top % 2) top += 1; // a whole middle tick
    const marks = ticks(yMin, top, integer);
    const axisWidth = Math.max(...marks.map((mark) => textWidth(format(mark), 11))) + 8;
    const plotX = axisWidth;
    const plotW = width - plotX;
    const plotTop = 8;
    const xAxis = 22;
    const height = plotTop + plotHeight + xAxis;
    const svg = svgRoot(width, height, summary);
    const y = (v) => plotTop + plotHeight - ((v - yMin) / (top - yMin)) * plotHeight;
    for (const mark of marks) {
      svg.append(
        s("line", {
          x1: plotX,
          y1: y(mark),
          x2: width,
          y2: y(mark),
          class: mark === yMin ? "c-axis" : "c-grid",
        }),
      );
      svg.append(
        s(
          "text",
          {
            x: plotX - 6,
            y: y(mark),
            "text-anchor": "end",
            "dominant-baseline": "middle",
            class: "c-text--muted c-text--small",
          },
          format(mark),
        ),
      );
    }
    const step = plotW / weeks.length;
    const colW = Math.min(36, step * 0.62);
    const allHidden = main.values.every((v) => v === null);
    if (allHidden) {
      svg.append(hiddenBox(plotX + 4, plotTop + 4, plotW - 8, plotHeight - 8, true));
    }
    const everyOther = step < 34;
    weeks.forEach((week, i) => {
      const cx = plotX + step * i + step / 2;
      if (!everyOther || i % 2 === weeks.length % 2 || i === weeks.length - 1) {
        svg.append(
          s(
            "text",
            { x: cx, y: height - 6, "text-anchor": "middle", class: "c-text--muted c-text--small" },
            shortWeek(week),
          ),
        );
      }
      if (allHidden) return;
      const value = main.values[i];
      if (value === null) {
        const stub = hiddenBox(cx - colW / 2, y(yMin) - STUB, colW, STUB, false);
        stub.setAttribute("data-week", week);
        // TRANSLATORS: the tooltip of a week without a figure: "W7: not enough responses yet".
        const title = t("{week}: {hidden}", { week: shortWeek(week), hidden: NOT_ENOUGH });
        stub.prepend(s("title", {}, title));
        svg.append(stub);
      } else if (bars) {
        const barTop = y(value);
        const h = Math.max(value > yMin ? 2 : 0, y(yMin) - barTop);
        if (h > 0)
          svg.append(
            s("rect", {
              x: cx - colW / 2,
              y: y(yMin) - h,
              width: colW,
              height: h,
              rx: 2,
              class: bars.className || "c-bar-1",
            }),
          );
      }
    });
    if (line && !allHidden) {
      let path = "";
      let pen = false;
      line.values.forEach((value, i) => {
        const cx = plotX + step * i + step / 2;
        if (value === null) {
          pen = false;
          return;
        }
        path += `${pen ? "L" : "M"}${cx.toFixed(1)},${y(value).toFixed(1)}`;
        pen = true;
      });
      if (path) svg.append(s("path", { d: path, class: line.className || "c-line-2" }));
      line.values.forEach((value, i) => {
        if (value === null) return;
        const cx = plotX + step * i + step / 2;
        svg.append(s("circle", { cx, cy: y(value), r: 4, class: line.dotClass || "c-dot-2" }));
      });
    }
    return svg;
  };
  return chartFigure({ name, caption, sub, summary, legend, table, draw });
}

function niceMax(value) {
  if (value <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * magnitude >= value) return m * magnitude;
  }
  return 10 * magnitude;
}

/** "2026-W07" → "W7". */
export function shortWeek(week) {
  const found = /^(\d{4})-W(\d{2})$/.exec(week || "");
  // TRANSLATORS: a short week label on a chart's axis: "W" for week, then its ISO week number.
  return found ? t("W{number}", { number: Number(found[2]) }) : String(week);
}

// ---------------------------------------------------------------------------- heatmap

/** How many colour steps the heatmap has above "none" (app.css defines --heat-0 … --heat-5). */
export const HEAT_STEPS = 5;
const HEAT_WIDE = 520; // narrower than this, each cell names its column itself
const CELL_PAD = 8;

/** The colour step of ``value`` out of ``max``: 0 for none, else 1 … HEAT_STEPS by share. */
function heatStep(value, max) {
  if (value <= 0) return 0;
  return Math.min(HEAT_STEPS, Math.max(1, Math.ceil((value / max) * HEAT_STEPS)));
}

/** What a cell holds, wrapped to ``width``: its column's name (if ``named``) and its figure. */
function cellText(column, value, width, named) {
  return {
    name: named ? wrap(column, width, 12) : [],
    hidden: value === null ? wrap(NOT_ENOUGH, width, HIDDEN_PX) : [],
  };
}

/** The height a cell needs for ``text`` (see {@link cellText}). */
function cellHeight(text) {
  const name = text.name.length ? text.name.length * LINE + 3 : 0;
  const body = text.hidden.length ? text.hidden.length * LINE : LINE + 3;
  return 2 * CELL_PAD + name + body;
}

/**
 * One cell: a box in its step's colour (an empty dashed slot when hidden), its column's name
 * when ``named``, and its figure, all in the step's ink so that the text keeps its contrast.
 */
function heatCell({ x, y, width, height, row, column, value, max, named }) {
  const text = cellText(column, value, width - 2 * CELL_PAD, named);
  const step = value === null ? null : heatStep(value, max);
  const ink = step === null ? "c-ink-hidden" : `c-ink-${step}`;
  const cell = s("g", {
    class: "c-cell",
    "data-row": row,
    "data-level": column,
    "data-step": step,
  });
  const cx = x + width / 2;
  const used = cellHeight(text) - 2 * CELL_PAD;
  let line = y + (height - used) / 2 + LINE / 2;
  let hidden = null;
  if (step === null) {
    hidden = hiddenBox(x + 1, y + 1, width - 2, height - 2, false);
    cell.append(hidden);
  } else {
    const box = { x: x + 1, y: y + 1, width: width - 2, height: height - 2, rx: 4 };
    cell.append(s("rect", { ...box, class: `c-heat c-heat-${step}` }));
  }
  if (text.name.length) {
    cell.append(centredLines(text.name, cx, line, `c-heat-name ${ink}`));
    line += text.name.length * LINE + 3;
  }
  if (hidden) {
    hidden.append(centredLines(text.hidden, cx, line, "c-text--hidden"));
  } else {
    cell.append(centredLines([formatNumber(value)], cx, line + 1, `c-heat-text ${ink}`));
  }
  return cell;
}

/** A row's label, wrapped (never shortened), first line's middle at ``y``. */
function rowLabel(lines, x, y) {
  const text = s("text", { x, y, "dominant-baseline": "middle", class: "c-text c-text--strong" });
  lines.forEach((line, i) => text.append(s("tspan", { x, dy: i ? LINE : 0 }, line)));
  return text;
}

/** Wide: column names over the grid, each row's label at its left. */
function heatWide(width, { rows, columns, max, summary }) {
  const labelWidth = Math.min(
    width * 0.3,
    Math.max(...rows.map((r) => textWidth(r.label, 13, "600"))) + 16,
  );
  const cellW = (width - labelWidth) / columns.length;
  const heads = columns.map((column) => wrap(column, cellW - 8, 12));
  const headH = 10 + Math.max(...heads.map((lines) => lines.length)) * LINE;
  const cellH = Math.max(
    52,
    ...rows.flatMap((r) =>
      r.values.map((v, j) => cellHeight(cellText(columns[j], v, cellW - 2 * CELL_PAD, false))),
    ),
  );
  const labels = rows.map((r) => wrap(r.label, labelWidth - 12, 13));
  const rowHs = labels.map((lines) => Math.max(cellH, lines.length * LINE + 8));
  const height = headH + rowHs.reduce((a, b) => a + b, 0);
  const svg = svgRoot(width, height, summary);
  heads.forEach((lines, j) => {
    const cx = labelWidth + cellW * j + cellW / 2;
    const first = headH - 6 - lines.length * LINE + LINE / 2;
    const head = centredLines(lines, cx, first, "c-text--muted c-heat-head");
    head.setAttribute("data-level", columns[j]);
    svg.append(head);
  });
  let top = headH;
  rows.forEach((row, i) => {
    const rowH = rowHs[i];
    svg.append(rowLabel(labels[i], 0, top + rowH / 2 - ((labels[i].length - 1) * LINE) / 2));
    row.values.forEach((value, j) => {
      const at = { x: labelWidth + cellW * j, y: top + (rowH - cellH) / 2, width: cellW };
      svg.append(
        heatCell({
          ...at,
          height: cellH,
          row: row.label,
          column: columns[j],
          value,
          max,
          named: false,
        }),
      );
    });
    top += rowH;
  });
  return svg;
}

/** Narrow: per row its label, then its cells two to a line, each naming its column. */
function heatNarrow(width, { rows, columns, max, summary }) {
  const perLine = width >= 300 ? 2 : 1;
  const gap = 4;
  const cellW = (width - gap * (perLine - 1)) / perLine;
  const cellH = Math.max(
    48,
    ...rows.flatMap((r) =>
      r.values.map((v, j) => cellHeight(cellText(columns[j], v, cellW - 2 * CELL_PAD, true))),
    ),
  );
  const lines = Math.ceil(columns.length / perLine);
  const labels = rows.map((r) => wrap(r.label, width, 13));
  const blockH = (label) => label.length * LINE + 6 + lines * (cellH + gap) + 8;
  const height = labels.reduce((sum, label) => sum + blockH(label), 0);
  const svg = svgRoot(width, height, summary);
  let top = 0;
  rows.forEach((row, i) => {
    svg.append(rowLabel(labels[i], 0, top + LINE / 2));
    const gridTop = top + labels[i].length * LINE + 6;
    row.values.forEach((value, j) => {
      const at = {
        x: (j % perLine) * (cellW + gap),
        y: gridTop + Math.floor(j / perLine) * (cellH + gap),
        width: cellW,
        height: cellH,
      };
      svg.append(heatCell({ ...at, row: row.label, column: columns[j], value, max, named: true }));
    });
    top += blockH(labels[i]);
  });
  return svg;
}

/**
 * Rows × columns of counts, coloured in HEAT_STEPS steps by their share of ``total``
 * (members); each step has its own ink (app.css) so every figure keeps 4.5:1 contrast in
 * every theme. Hidden cells (null) are empty dashed slots saying "not enough responses yet".
 * Text wraps and cells grow to fit it: no column name or figure is dropped or shortened.
 * rows: {label, values: [number|null…]}; columns: [label…].
 */
export function heatmap({ name, caption, sub, summary, rows, columns, total, legend, table }) {
  const values = rows.flatMap((r) => r.values.filter((v) => v !== null));
  const max = Math.max(1, total || 0, ...values);
  const draw = (width) =>
    (width < HEAT_WIDE ? heatNarrow : heatWide)(width, { rows, columns, max, summary });
  return chartFigure({ name, caption, sub, summary, legend, table, draw });
}
