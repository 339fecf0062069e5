// @ts-check
// Event markers: a uPlot plugin draws the trace's events on every time chart, close ones merged
// ("×12"). The events come from #events-data, which the sidebar keeps current; whether they
// are shown ("Show event markers") is kept in localStorage.
import uPlot from "/vendor/uplot.js";
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

/**
 * Dashed vertical lines with labels at the events in view, drawn after the series. Work is
 * proportional to the events in view (found by binary search); events closer than MERGE_PX
 * merge into one marker labelled "×N", and a label that would overlap the previous one is
 * left out, so thousands of events stay cheap and readable.
 * @param {string} id
 */
export function markersPlugin(id) {
  return {
    hooks: {
      draw: [(/** @type {any} */ u) => {
        /** @type {MarkerInfo} */
        const info = { drawn: 0, labels: [] };
        markerInfo.set(id, info);
        const min = u.scales.x.min, max = u.scales.x.max;
        if (!showMarkers || events.length === 0 || min == null || max == null) return;
        const ctx = u.ctx;
        const pr = uPlot.pxRatio || 1;
        const { left, top, width, height } = u.bbox;
        const auto = css("--marker-auto") || "#d9822b";
        const manual = css("--marker") || "#b04fc9";
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        ctx.font = `${11 * pr}px ${css("--font") || "sans-serif"}`;
        ctx.textBaseline = "top";
        let labelEnd = -Infinity;
        /** @type {{x: number, n: number, first: TraceEvent, autoOnly: boolean} | null} */
        let group = null;
        const flush = (/** @type {NonNullable<typeof group>} */ g) => {
          const x = Math.round(g.x) + 0.5;
          const stroke = g.autoOnly ? auto : manual;
          ctx.strokeStyle = stroke;
          ctx.lineWidth = (g.n > 1 ? 2 : 1) * pr;
          ctx.setLineDash([4 * pr, 3 * pr]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          const name = g.first.name;
          const label = g.n > 1 ? `×${g.n}` : name.length > 28 ? name.slice(0, 27) + "…" : name;
          const w = ctx.measureText(label).width;
          info.drawn++;
          // right of the line, or left of it near the right edge
          const lx = x + w + 8 * pr > left + width ? x - w - 6 * pr : x + 2 * pr;
          if (lx > labelEnd) {
            ctx.fillStyle = css("--bg-panel") || "#fff";
            ctx.globalAlpha = 0.8;
            ctx.fillRect(lx, top + 2 * pr, w + 4 * pr, 14 * pr);
            ctx.globalAlpha = 1;
            ctx.fillStyle = stroke;
            ctx.fillText(label, lx + 2 * pr, top + 3 * pr);
            labelEnd = lx + w + 8 * pr;
            info.labels.push(label);
          }
        };
        for (let i = firstEventAt(min); i < events.length && events[i].at <= max; i++) {
          const e = events[i];
          const x = u.valToPos(e.at, "x", true);
          if (group && x - group.x < MERGE_PX * pr) {
            group.n++;
            group.autoOnly &&= e.kind === "auto";
            continue;
          }
          if (group) flush(group);
          group = { x, n: 1, first: e, autoOnly: e.kind === "auto" };
        }
        if (group) flush(group);
        ctx.restore();
      }],
    },
  };
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
