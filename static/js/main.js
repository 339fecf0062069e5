// @ts-check
// The dashboard's client, entry module: builds a uPlot chart for every figure htmx brings in
// (its config and the panel's data are JSON in the fragment), destroys it when htmx removes
// the figure, writes times in the display zone, starts live updates, and sends zoom, clicks
// and the theme where they belong.
// State lives in the URL (the server renders it); hidden series in sessionStorage, the theme,
// "Show event markers" and the folded sidebar sections in localStorage. The keyboard (skip
// links, tabs, focus kept across swaps) is keys.js; the Time & display form, controls.js.
import { build, destroy, rebuildAll } from "./charts/build.js";
import { paintTraces } from "./colors.js";
import "./controls.js";
import { savePng } from "./export.js";
import { applyFolds } from "./folds.js";
import "./keys.js";
import { checkLive, liveStats, refreshView, startLive } from "./live.js";
import { loadEvents, markerInfo, markersShown, setShowMarkers } from "./markers.js";
import { errorText, flash } from "./messages.js";
import { showNode } from "./proctree.js";
import { built, byId } from "./registry.js";
import { currentTheme, darkQuery, setTheme } from "./theme.js";
import { relabel } from "./time.js";
import { fillFromTo } from "./zoom.js";

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

// Built charts by id, what the markers drew and live counts (tests, debugging).
/** @type {any} */ (globalThis).sysmon = { charts: byId, markers: markerInfo, live: liveStats };

/** Everything new under `el`: charts, time labels, events, live updates. @param {Element} el */
function init(el) {
  relabel(document.body);
  applyFolds(el);
  paintTraces(el);
  fillFromTo(el);
  loadEvents(el);
  const figs = [...el.querySelectorAll("[data-chart]")];
  if (el.matches("[data-chart]")) figs.unshift(el);
  for (const fig of figs) build(/** @type {HTMLElement} */ (fig));
  const panel = el.id === "panel" ? el : el.querySelector("#panel");
  if (panel) startLive(/** @type {HTMLElement} */ (panel));
  const status = el.id === "trace-status" ? el : el.querySelector("#trace-status");
  if (status) checkLive(/** @type {HTMLElement} */ (status));
  const markers = /** @type {HTMLInputElement | null} */ (document.getElementById("show-markers"));
  if (markers) markers.checked = markersShown();
}

htmx.onLoad((/** @type {Element} */ el) => init(el));

htmx.on("htmx:beforeCleanupElement", (/** @type {CustomEvent} */ e) => {
  const el = /** @type {Element} */ (e.detail.elt);
  if (built.has(el)) destroy(el);
});

htmx.on("htmx:responseError", (/** @type {CustomEvent} */ e) => {
  const xhr = e.detail.xhr;
  errorText(xhr).then((t) => flash(`${xhr.status}: ${t}`));
});
// A request the server refused outside its section (errors.ts): nothing swapped, the reason flashed.
htmx.on("sysmon-error", (/** @type {CustomEvent} */ e) => flash(String(e.detail.value)));
htmx.on("htmx:sendError", () => flash("The server cannot be reached; is sysmon serve running?"));
// Tracing started, stopped or reset: the view may show another file, or go live or not.
document.body.addEventListener("sysmon-refresh", () => refreshView());

document.addEventListener("click", (e) => {
  const target = /** @type {Element} */ (e.target);
  const btn = target.closest?.("button[data-png]");
  if (btn) savePng(/** @type {HTMLElement} */ (btn).dataset.png ?? "");
  const node = target.closest?.(".pt-node");
  if (node) showNode(node);
});

document.addEventListener("keydown", (e) => {
  const node = /** @type {Element} */ (e.target).closest?.(".pt-node");
  if (node && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    showNode(node);
  }
});

document.addEventListener("change", (e) => {
  const el = /** @type {HTMLInputElement} */ (e.target);
  if (el.id === "show-markers") setShowMarkers(el.checked);
});

const themeSelect = /** @type {HTMLSelectElement | null} */ (document.getElementById("theme"));
if (themeSelect) {
  themeSelect.value = currentTheme();
  themeSelect.addEventListener("change", () => {
    setTheme(themeSelect.value);
    rebuildAll();
  });
}
darkQuery.addEventListener("change", () => {
  if (currentTheme() === "system") rebuildAll();
});
