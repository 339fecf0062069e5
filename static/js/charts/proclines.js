// @ts-check
// The Processes tab's charts: line charts (line.js) whose legend names the processes
// (`name (pid)`, as the server wrote them); each name becomes a link to that process's own
// history (a fragment request, as the tab bar's links are). A click on the name follows the
// link; a click on the colour swatch still hides or shows the line (uPlot's own).

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */
import { lineChart } from "./line.js";

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

/** @param {HTMLElement} fig @param {ChartConfig} cfg @returns {Built | null} */
export function processLinesChart(fig, cfg) {
  const c = lineChart(fig, { ...cfg, kind: "line" });
  if (!c) return null;
  // Each legend row is matched by its label (whether the time has a row of its own is the
  // line chart's choice): a name is one process of this chart.
  const byLabel = new Map(cfg.series.map((s) => [s.label, s]));
  for (const label of c.u.root.querySelectorAll(".u-legend tr.u-series .u-label")) {
    const s = byLabel.get(label.textContent ?? "");
    if (!s?.href) continue;
    byLabel.delete(s.label);
    const a = document.createElement("a");
    a.href = s.href;
    if (s.hx) {
      a.setAttribute("hx-get", s.hx);
      a.setAttribute("hx-target", "#view");
      a.setAttribute("hx-swap", "outerHTML");
    }
    a.className = "proc-link";
    a.title = "Show this process's own history";
    a.textContent = s.label;
    // not uPlot's toggle of the series (its listener is on the legend cell around the name)
    a.addEventListener("click", (e) => e.stopPropagation());
    label.replaceChildren(a);
    htmx?.process(a);
  }
  return { ...c, kind: cfg.kind };
}
