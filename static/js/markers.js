// @ts-check
// Event markers: a uPlot plugin draws the trace's events on every time chart, close ones merged
// ("×12"). The events come from #events-data, which the sidebar keeps current; whether they
// are shown ("Show event markers") is kept in localStorage.
import uPlot from "/vendor/uplot.js";
import { layoutLabels } from "./label_layout.js";
import { built } from "./registry.js";
import { css } from "./theme.js";

/**
 * @typedef {import("./types.js").TraceEvent} TraceEvent
 * @typedef {import("./types.js").MarkerInfo} MarkerInfo
 */

/** What the plugin drew last on each chart (tests, debugging). @type {Map<string, MarkerInfo>} */
export const markerInfo = new Map();

/** The trace's events, oldest first. @type {TraceEvent[]} */
let events = [];
const MARKERS_KEY = "sysmon.markers";
let showMarkers = true;
try {
  showMarkers = localStorage.getItem(MARKERS_KEY) !== "0";
} catch (_err) {
  // storage disabled: markers shown
}
/** Markers closer than this (CSS px) are drawn as one, labelled with how many. */
const MERGE_PX = 8;

export function markersShown() {
  return showMarkers;
}

/** Shows or hides the markers, keeps the choice and redraws. @param {boolean} on */
export function setShowMarkers(on) {
  showMarkers = on;
  try {
    localStorage.setItem(MARKERS_KEY, showMarkers ? "1" : "0");
  } catch (_err) {
    // storage disabled: the choice lasts until the page is left
  }
  redrawMarkers();
}

/** The first event at or after `t`. @param {number} t */
function firstEventAt(t) {
  let lo = 0, hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid].at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows of labels at the top of a chart at most (fewer on a short chart). */
const LABEL_ROWS = 3;
/** A label's longest name (characters), then "…": the whole name is in the tooltip. */
const LABEL_CHARS = 28;
/** Names a marker's tooltip lists at most. */
const TOOLTIP_NAMES = 12;

/**
 * @typedef {{ x: number, n: number, first: TraceEvent, names: string[], autoOnly: boolean }} Group
 */

/**
 * Dashed vertical lines with labels at the events in view, drawn after the series. Work is
 * proportional to the events in view (found by binary search); events closer than MERGE_PX
 * merge into one marker labelled "×N". Labels are laid out in up to LABEL_ROWS rows without
 * overlapping and inside the plot (layoutLabels); one that finds no room is left out, and every
 * marker's names show as a tooltip when the pointer is near its line. Lines have a halo and
 * labels an opaque box in the panel's colour, so they read over any series or heatmap cell.
 * Names are drawn with fillText and shown with the title attribute: text, never markup.
 * @param {string} id
 */
export function markersPlugin(id) {
  /** Markers drawn last: their x (CSS px in the plot) and names, for the tooltip. */
  let drawnGroups = /** @type {{ x: number, names: string[], n: number }[]} */ ([]);
  return {
    hooks: {
      init: [(/** @type {any} */ u) => {
        u.over.addEventListener("mousemove", (/** @type {MouseEvent} */ e) => {
          const x = e.clientX - u.over.getBoundingClientRect().left;
          let best = null, dist = 5;
          for (const g of drawnGroups) {
            const d = Math.abs(g.x - x);
            if (d <= dist) (best = g), (dist = d);
          }
          const title = best ? tooltipOf(best) : "";
          if (u.over.title !== title) u.over.title = title;
        });
      }],
      draw: [(/** @type {any} */ u) => {
        /** @type {MarkerInfo} */
        const info = { drawn: 0, labels: [], boxes: [], plot: null, hidden: 0 };
        markerInfo.set(id, info);
        drawnGroups = [];
        const min = u.scales.x.min, max = u.scales.x.max;
        if (!showMarkers || events.length === 0 || min == null || max == null) return;
        const ctx = u.ctx;
        const pr = uPlot.pxRatio || 1;
        const { left, top, width, height } = u.bbox;
        info.plot = { left: left / pr, top: top / pr, width: width / pr, height: height / pr };
        const auto = css("--marker-auto") || "#d9822b";
        const manual = css("--marker") || "#b04fc9";
        const panel = css("--bg-panel") || "#fff";
        const text = css("--fg") || "#111";
        /** @type {Group[]} */
        const groups = [];
        for (let i = firstEventAt(min); i < events.length && events[i].at <= max; i++) {
          const e = events[i];
          const x = u.valToPos(e.at, "x", true);
          const g = groups[groups.length - 1];
          if (g && x - g.x < MERGE_PX * pr) {
            g.n++;
            if (g.names.length < TOOLTIP_NAMES) g.names.push(e.name);
            g.autoOnly &&= e.kind === "auto";
            continue;
          }
          groups.push({ x, n: 1, first: e, names: [e.name], autoOnly: e.kind === "auto" });
        }
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        for (const g of groups) {
          const x = Math.round(g.x) + 0.5;
          // a halo in the panel's colour, then the dashed line
          ctx.setLineDash([]);
          ctx.strokeStyle = panel;
          ctx.globalAlpha = 0.7;
          ctx.lineWidth = (g.n > 1 ? 5 : 4) * pr;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.globalAlpha = 1;
          ctx.strokeStyle = g.autoOnly ? auto : manual;
          ctx.lineWidth = (g.n > 1 ? 2 : 1.5) * pr;
          ctx.setLineDash([4 * pr, 3 * pr]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          info.drawn++;
          drawnGroups.push({ x: (g.x - left) / pr, names: g.names, n: g.n });
        }
        ctx.setLineDash([]);
        ctx.font = `${11 * pr}px ${css("--font") || "sans-serif"}`;
        ctx.textBaseline = "middle";
        ctx.textAlign = "left";
        const rowH = 16 * pr, pad = 3 * pr;
        const texts = groups.map((g) =>
          g.n > 1
            ? `×${g.n}`
            : g.first.name.length > LABEL_CHARS
            ? g.first.name.slice(0, LABEL_CHARS - 1) + "…"
            : g.first.name
        );
        const rows = Math.max(1, Math.min(LABEL_ROWS, Math.floor(height / rowH / 2.5)));
        const places = layoutLabels(
          texts.map((t, k) => ({ x: groups[k].x, w: ctx.measureText(t).width + 2 * pad })),
          left + pr,
          left + width - pr,
          rows,
          3 * pr,
        );
        places.forEach((p, k) => {
          if (!p) {
            info.hidden++;
            return;
          }
          const g = groups[k], label = texts[k];
          const w = ctx.measureText(label).width + 2 * pad;
          const y = top + 2 * pr + p.row * rowH;
          ctx.fillStyle = panel;
          ctx.fillRect(p.x, y, w, rowH - 2 * pr);
          ctx.strokeStyle = g.autoOnly ? auto : manual;
          ctx.lineWidth = pr;
          ctx.strokeRect(p.x + pr / 2, y + pr / 2, w - pr, rowH - 3 * pr);
          ctx.fillStyle = text;
          ctx.fillText(label, p.x + pad, y + (rowH - 2 * pr) / 2);
          info.labels.push(label);
          info.boxes.push({ x: p.x / pr, y: y / pr, w: w / pr, h: (rowH - 2 * pr) / pr });
        });
        ctx.restore();
      }],
    },
  };
}

/** A marker's tooltip: its names, one a line. @param {{ names: string[], n: number }} g */
function tooltipOf(g) {
  const more = g.n - g.names.length;
  return g.names.join("\n") + (more > 0 ? `\n… and ${more} more` : "");
}

/** Reads the events the sidebar carries and redraws the markers. @param {Element} el */
export function loadEvents(el) {
  const script = el.id === "events-data" ? el : el.querySelector("#events-data");
  if (!script) return;
  try {
    /** @type {TraceEvent[]} */
    const list = JSON.parse(script.textContent ?? "[]");
    events = list.sort((a, b) => a.at - b.at);
  } catch (err) {
    console.error("events:", err);
    return;
  }
  const card = document.querySelector("#card-events .card-value");
  if (card) card.textContent = events.length.toLocaleString("en-US");
  redrawMarkers();
}

/** Redraws every time chart (sparklines carry no markers). */
export function redrawMarkers() {
  for (const c of built.values()) if (c.u && c.kind !== "spark") c.u.redraw(false);
}
