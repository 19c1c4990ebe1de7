/**
 * Inline SVG charts for the AI Ready tabs, drawn here (no chart library, no CDN).
 *
 * Every chart is a <figure> holding: a visible caption, the SVG (role="img" with an
 * aria-label that sums the chart up), and a visually-hidden <table> with every figure, so a
 * screen reader gets the numbers. Colours come from CSS classes (app.css), so a theme change
 * recolours the charts without redrawing. Charts are redrawn at their container's width (a
 * ResizeObserver), so text stays the same size in a narrow side panel and on a wide screen.
 * Suppressed figures (null) are drawn hatched with the text "not enough responses yet".
 */

import { NOT_ENOUGH, el, formatNumber } from "./tabs.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const FONT = '13px "Segoe UI", system-ui, -apple-system, sans-serif';
const NARROW = 440;
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

/** A label centred on ``y``, wrapped to two lines (then shortened) to fit ``width``. */
function label(text, x, y, width, cls = "c-text c-text--strong", px = 13) {
  const lines = wrap(text, width, px);
  const shown = lines.length <= 2 ? lines : [lines[0], fit(lines.slice(1).join(" "), width, px)];
  const node = s("text", {
    x,
    y: y - ((shown.length - 1) * (px + 3)) / 2,
    "dominant-baseline": "middle",
    class: cls,
  });
  shown.forEach((line, i) =>
    node.append(s("tspan", { x, dy: i ? px + 3 : 0 }, fit(line, width, px))),
  );
  return node;
}

/** Ticks from ``low`` to ``high``: the ends and a middle one (a whole number if asked). */
function ticks(low, high, integer) {
  const middle = (low + high) / 2;
  if (!integer) return [low, middle, high];
  if (high - low < 2) return [low, high];
  return [low, Math.round(middle), high];
}

/** A hatch <pattern> in its own <defs>; returns [defs, "url(#id)"]. */
function hatch() {
  const id = uid("hatch");
  const defs = s(
    "defs",
    {},
    s(
      "pattern",
      {
        id,
        width: 7,
        height: 7,
        patternUnits: "userSpaceOnUse",
        patternTransform: "rotate(45)",
      },
      s("rect", { width: 7, height: 7, class: "c-hatch-bg" }),
      s("line", { x1: 0, y1: 0, x2: 0, y2: 7, class: "c-hatch-line" }),
    ),
  );
  return [defs, `url(#${id})`];
}

/** A hatched rectangle standing for a hidden figure, optionally with the text in it. */
function hiddenBox(fill, x, y, width, height, withText = true) {
  const group = s("g", { class: "c-hidden" });
  group.append(
    s("rect", { x, y, width, height, fill, rx: 3 }),
    s("rect", {
      x: x + 0.5,
      y: y + 0.5,
      width: width - 1,
      height: height - 1,
      rx: 3,
      class: "c-hatch-frame",
    }),
  );
  if (withText && width > 40) {
    const lines = wrap(NOT_ENOUGH, width - 12);
    const lineHeight = 14;
    if (lines.length * lineHeight <= height + 2) {
      const top = y + height / 2 - ((lines.length - 1) * lineHeight) / 2;
      const text = s("text", {
        x: x + width / 2,
        y: top,
        "text-anchor": "middle",
        "dominant-baseline": "middle",
        class: "c-text--hidden",
      });
      lines.forEach((line, i) =>
        text.append(s("tspan", { x: x + width / 2, dy: i ? lineHeight : 0 }, line)),
      );
      group.append(text);
    }
  }
  return group;
}

/** A hatched bar slot saying "not enough responses yet", from barX to the chart's width. */
function hiddenBar(svg, fill, barX, y, width, barHeight, pad) {
  svg.append(hiddenBox(fill, barX, y - pad, width - barX, barHeight + 2 * pad, false));
  const at = { x: barX + 8, y: y + barHeight / 2, "dominant-baseline": "middle", class: "c-text--hidden" };
  svg.append(s("text", at, fit(NOT_ENOUGH, width - barX - 16, 11.5)));
}

/** Vertical grid lines at 0, 50 and 100 % of a bar track, labelled under the chart. */
function percentGrid(svg, barX, trackWidth, height, axisHeight) {
  for (const pct of [0, 50, 100]) {
    const x = barX + (trackWidth * pct) / 100;
    svg.append(s("line", { x1: x, y1: 0, x2: x, y2: height - axisHeight + 2, class: "c-grid" }));
    const anchor = pct === 0 ? "start" : pct === 100 ? "end" : "middle";
    const label = { x, y: height - 6, "text-anchor": anchor, class: "c-text--muted c-text--small" };
    svg.append(s("text", label, `${pct}%`));
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
 * strings (already formatted). ``draw(width)`` returns the <svg>.
 */
export function chartFigure({ name, caption, sub, summary, legend, table, draw }) {
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
    figureNode.append(
      el(
        "ul",
        { class: "legend", "aria-hidden": "true" },
        legend.map(([swatch, text]) =>
          el("li", {}, el("span", { class: `swatch swatch--${swatch}` }), text),
        ),
      ),
    );
  }
  figureNode.append(dataTable(tableId, `${caption}: the figures`, table));

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
 * per track (done of total) and team completion per track (members of the team).
 */
export function barList({ name, caption, sub, summary, rows, table, barClass = "c-bar-1" }) {
  const draw = (width) => {
    const [defs, fill] = hatch();
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
    svg.append(defs);
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
        hiddenBar(svg, fill, barX, barY, width, barHeight, 3);
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
  return chartFigure({ name, caption, sub, summary, table, draw });
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
    const [defs, fill] = hatch();
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
    svg.append(defs);
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
        hiddenBar(svg, fill, barX, y, width, barHeight, 2);
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
 * dots), over the same weeks. Weeks where the main series is hidden are drawn hatched.
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
    const [defs, fill] = hatch();
    const values = [...(bars ? bars.values : []), ...(line ? line.values : [])].filter(
      (v) => v !== null,
    );
    let top = yMax ?? niceMax(Math.max(1, ...values));
    if (yMax === undefined && integer && top <= 10 && top % 2) top += 1; // a whole middle tick
    const marks = ticks(yMin, top, integer);
    const axisWidth = Math.max(...marks.map((t) => textWidth(format(t), 11))) + 8;
    const plotX = axisWidth;
    const plotW = width - plotX;
    const plotTop = 8;
    const xAxis = 22;
    const height = plotTop + plotHeight + xAxis;
    const svg = svgRoot(width, height, summary);
    svg.append(defs);
    const y = (v) => plotTop + plotHeight - ((v - yMin) / (top - yMin)) * plotHeight;
    for (const t of marks) {
      svg.append(
        s("line", {
          x1: plotX,
          y1: y(t),
          x2: width,
          y2: y(t),
          class: t === yMin ? "c-axis" : "c-grid",
        }),
      );
      svg.append(
        s(
          "text",
          {
            x: plotX - 6,
            y: y(t),
            "text-anchor": "end",
            "dominant-baseline": "middle",
            class: "c-text--muted c-text--small",
          },
          format(t),
        ),
      );
    }
    const step = plotW / weeks.length;
    const colW = Math.min(36, step * 0.62);
    const allHidden = main.values.every((v) => v === null);
    if (allHidden) {
      svg.append(hiddenBox(fill, plotX + 4, plotTop + 4, plotW - 8, plotHeight - 8, true));
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
        svg.append(hiddenBox(fill, cx - colW / 2, plotTop, colW, plotHeight, false));
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
  return found ? `W${Number(found[2])}` : String(week);
}

// ---------------------------------------------------------------------------- heatmap

/**
 * Rows × columns of counts, shaded by their share of ``total`` (members). Hidden cells (null)
 * are hatched with the text "not enough responses yet".
 * rows: {label, values: [number|null…]}; columns: [label…].
 */
export function heatmap({ name, caption, sub, summary, rows, columns, total, legend, table }) {
  const draw = (width) => {
    const [defs, fill] = hatch();
    const narrow = width < 520;
    const labelWidth = narrow
      ? 0
      : Math.min(width * 0.3, Math.max(...rows.map((r) => textWidth(r.label, 13, "600"))) + 16);
    const gridX = labelWidth;
    const cellW = (width - gridX) / columns.length;
    const headH = 34;
    const cellH = narrow ? 58 : 52;
    const rowLabelH = narrow ? 22 : 0;
    const rowH = rowLabelH + cellH;
    const height = headH + rows.length * rowH;
    const svg = svgRoot(width, height, summary);
    svg.append(defs);
    columns.forEach((column, j) => {
      const cx = gridX + cellW * j + cellW / 2;
      const lines = wrap(column, cellW - 6, 12);
      const text = s("text", {
        x: cx,
        y: lines.length > 1 ? 10 : 20,
        "text-anchor": "middle",
        class: "c-text--muted",
      });
      lines.slice(0, 2).forEach((l, k) => text.append(s("tspan", { x: cx, dy: k ? 14 : 0 }, l)));
      svg.append(text);
    });
    const max = Math.max(1, total || 0, ...rows.flatMap((r) => r.values.filter((v) => v !== null)));
    rows.forEach((row, i) => {
      const top = headH + i * rowH;
      if (narrow) {
        svg.append(
          s(
            "text",
            { x: 0, y: top + 11, "dominant-baseline": "middle", class: "c-text c-text--strong" },
            fit(row.label, width, 13, "600"),
          ),
        );
      } else {
        svg.append(label(row.label, 0, top + cellH / 2, labelWidth - 12));
      }
      row.values.forEach((value, j) => {
        const x = gridX + cellW * j;
        const y = top + rowLabelH;
        if (value === null) {
          svg.append(hiddenBox(fill, x + 2, y + 2, cellW - 4, cellH - 4, true));
          return;
        }
        const share = value / max;
        const opacity = value === 0 ? 0 : 0.12 + 0.88 * share;
        svg.append(
          s("rect", {
            x: x + 1,
            y: y + 1,
            width: cellW - 2,
            height: cellH - 2,
            rx: 4,
            class: "c-heat-empty",
          }),
        );
        if (opacity > 0) {
          svg.append(
            s("rect", {
              x: x + 1,
              y: y + 1,
              width: cellW - 2,
              height: cellH - 2,
              rx: 4,
              class: "c-heat",
              "fill-opacity": opacity.toFixed(2),
            }),
          );
        }
        svg.append(
          s("rect", {
            x: x + 1,
            y: y + 1,
            width: cellW - 2,
            height: cellH - 2,
            rx: 4,
            class: "c-heat-frame",
          }),
        );
        svg.append(
          s(
            "text",
            {
              x: x + cellW / 2,
              y: y + cellH / 2,
              "text-anchor": "middle",
              "dominant-baseline": "middle",
              class: `c-heat-text${opacity > 0.55 ? " c-heat-text--strong" : ""}`,
            },
            formatNumber(value),
          ),
        );
      });
    });
    return svg;
  };
  return chartFigure({ name, caption, sub, summary, legend, table, draw });
}
