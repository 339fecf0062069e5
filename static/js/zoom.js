// @ts-check
// Zoom, reset and the process list: each asks the server for a fragment (the view, or the
// process list at a time), whose URL the server keeps in the address bar.

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
