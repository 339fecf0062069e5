// @ts-check
// Time navigation: zoom, pan and reset, and the process list. Each asks the server for a
// fragment (the view, or the process list at a time), whose URL the server keeps in the
// address bar. A zoom that reaches before the range's start comes back as All, zoomed
// (views/state.ts fitZoom), so the page only says which window it wants.
//
// On a time chart: drag to zoom in (charts/common.js), Ctrl (or ⌘) + wheel to zoom around the
// pointer, Shift + drag to move, double-click to reset. On the focused panel: ← and → click
// Earlier and Later, − clicks Zoom out 2× (links the server renders). The from–to picker reads
// its times in the display zone.
import { xWindow } from "./data.js";
import { flash } from "./messages.js";
import { built } from "./registry.js";
import { panelZone, wallTime, wallToEpoch } from "./time.js";

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

/** @param {string} params query to merge into the panel's view URL */
function goView(params) {
  const panel = document.getElementById("panel");
  if (!panel?.dataset.view) return;
  const url = new URL(panel.dataset.view, location.href);
  for (const [k, v] of new URLSearchParams(params)) url.searchParams.set(k, v);
  if (!params.includes("zoom=")) url.searchParams.delete("zoom");
  document.body.classList.add("loading");
  htmx.ajax("GET", url.pathname + url.search, { target: "#view", swap: "outerHTML" })
    .finally(() => document.body.classList.remove("loading"));
}

/** @param {number} a @param {number} b */
export function zoomTo(a, b) {
  if (!(b - a > 0)) return;
  goView(`zoom=${Math.floor(a)}-${Math.ceil(b)}`);
}

export function resetZoom() {
  const panel = document.getElementById("panel");
  if (panel?.dataset.zoom) goView("");
}

/** @param {number} t */
export function showProcesses(t) {
  const panel = document.getElementById("panel");
  if (!panel?.dataset.procs || !document.getElementById("procs")) return;
  const url = new URL(panel.dataset.procs, location.href);
  url.searchParams.set("at", String(Math.round(t)));
  htmx.ajax("GET", url.pathname + url.search, { target: "#procs", swap: "outerHTML" });
}

// ---- moving the window from the page: preview on the charts, then ask for the view

/** The shortest window a zoom gives, ms. */
const MIN_SPAN = 1000;
/** Wheel and drag are previewed on the charts; the view is asked for once they stop. */
const SETTLE_MS = 350;

/** The time charts of the panel holding `el` (uPlot charts with a time x scale). @param {Element} el */
function timeCharts(el) {
  const panel = el.closest("#panel");
  return [...built].filter(([fig, c]) => panel?.contains(fig) && c.u?.scales?.x?.time)
    .map(([, c]) => c);
}

/**
 * The window [start, end] kept inside the trace (the panel's first and last sample), at least
 * MIN_SPAN long. @param {HTMLElement} panel @param {number} start @param {number} end
 */
function inside(panel, start, end) {
  const first = Number(panel.dataset.first), last = Number(panel.dataset.last);
  let span = Math.max(MIN_SPAN, end - start);
  if (Number.isFinite(first) && Number.isFinite(last)) {
    span = Math.min(span, last - first);
    start = Math.max(first, Math.min(start, last - span));
  }
  return { start, end: start + span };
}

/** @type {{ panel: HTMLElement, start: number, end: number, timer: number } | null} */
let pending = null;

/** Shows `start`–`end` on the panel's charts now and asks for that view once moving stops. */
function preview(
  /** @type {HTMLElement} */ panel,
  /** @type {number} */ start,
  /** @type {number} */ end,
) {
  const w = inside(panel, start, end);
  const win = xWindow(panel);
  win.start = w.start;
  win.end = w.end;
  for (const c of timeCharts(panel)) c.u.setScale("x", { min: w.start, max: w.end });
  if (pending) clearTimeout(pending.timer);
  pending = { panel, ...w, timer: 0 };
  pending.timer = setTimeout(settle, SETTLE_MS);
}

function settle() {
  const p = pending;
  pending = null;
  if (p && p.panel.isConnected) zoomTo(p.start, p.end);
}

/** The built time chart whose plot area `target` is in, with that area. @param {EventTarget | null} target */
function chartAt(target) {
  const over = /** @type {Element | null} */ (target)?.closest?.(".u-over");
  const fig = over?.closest("[data-chart]");
  const c = fig ? built.get(fig) : undefined;
  if (!over || !c?.u?.scales?.x?.time || !fig?.closest("#panel")) return null;
  return { c, over, panel: /** @type {HTMLElement} */ (fig.closest("#panel")) };
}

// Ctrl (⌘) + wheel, or a pinch on a touchpad (Chromium sends it as Ctrl + wheel): zoom around
// the pointer. A plain wheel scrolls the page.
document.addEventListener("wheel", (e) => {
  if (!(e.ctrlKey || e.metaKey)) return;
  const at = chartAt(e.target);
  if (!at) return;
  e.preventDefault();
  const rect = at.over.getBoundingClientRect();
  const t = at.c.u.posToVal(e.clientX - rect.left, "x");
  const w = pending?.panel === at.panel ? pending : xWindow(at.panel);
  const f = Math.exp(Math.max(-2, Math.min(2, e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.002))));
  preview(at.panel, t - (t - w.start) * f, t + (w.end - t) * f);
}, { passive: false });

// Shift + drag: move the window (the chart's own drag, a zoom, does not start).
document.addEventListener("mousedown", (e) => {
  if (!e.shiftKey || e.button !== 0) return;
  const at = chartAt(e.target);
  if (!at) return;
  e.preventDefault();
  e.stopPropagation();
  const x0 = e.clientX;
  const w0 = { ...xWindow(at.panel) };
  const width = at.over.getBoundingClientRect().width || 1;
  let moved = false;
  const move = (/** @type {MouseEvent} */ m) => {
    const dt = ((x0 - m.clientX) / width) * (w0.end - w0.start);
    if (Math.abs(m.clientX - x0) > 2) moved = true;
    if (moved) preview(at.panel, w0.start + dt, w0.end + dt);
  };
  const up = () => {
    document.removeEventListener("mousemove", move, true);
    document.removeEventListener("mouseup", up, true);
    if (!moved) return;
    // the click that ends the drag is not a click on the chart (processes at a time)
    const eat = (/** @type {Event} */ c) => c.stopPropagation();
    document.addEventListener("click", eat, true);
    setTimeout(() => document.removeEventListener("click", eat, true), 0);
    if (pending) {
      clearTimeout(pending.timer);
      settle();
    }
  };
  document.addEventListener("mousemove", move, true);
  document.addEventListener("mouseup", up, true);
}, true);

// On the focused panel (tabbed to, or clicked): ← → move, − zooms out.
document.addEventListener("keydown", (e) => {
  const target = /** @type {Element} */ (e.target);
  if (e.ctrlKey || e.metaKey || e.altKey || !target.closest?.("#panel")) return;
  if (target.closest("input, select, textarea, button, a, [contenteditable], .pt-node")) return;
  const id = e.key === "ArrowLeft"
    ? "nav-earlier"
    : e.key === "ArrowRight"
    ? "nav-later"
    : e.key === "-" || e.key === "Subtract"
    ? "nav-out"
    : null;
  const link = id ? document.getElementById(id) : null;
  if (!link) return;
  e.preventDefault();
  if (link.hasAttribute("href")) link.click();
});

// ---- the from–to picker

/** Fills the picker with the window shown, in the display zone. @param {Element} el */
export function fillFromTo(el) {
  const form = /** @type {HTMLFormElement | null} */ (el.querySelector?.("#from-to") ??
    (el.id === "from-to" ? el : null));
  const panel = document.getElementById("panel");
  if (!form || !panel) return;
  const start = Number(panel.dataset.start), end = Number(panel.dataset.end);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return;
  const tz = panelZone();
  form.elements.namedItem("from")?.setAttribute("value", wallTime(start, tz));
  form.elements.namedItem("to")?.setAttribute("value", wallTime(end, tz));
}

document.addEventListener("submit", (e) => {
  const form = /** @type {HTMLFormElement} */ (e.target);
  if (form.id !== "from-to") return;
  e.preventDefault();
  const tz = panelZone();
  const value = (/** @type {string} */ name) =>
    /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;
  const a = wallToEpoch(value("from"), tz), b = wallToEpoch(value("to"), tz);
  if (!(Number.isFinite(a) && Number.isFinite(b))) flash("From and To need a date and a time.");
  else if (!(b > a)) flash("From must be before To.");
  else zoomTo(a, b);
});
