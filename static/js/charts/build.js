// @ts-check
// Builds the chart a figure's config asks for (kept in registry.js), follows its size, and
// destroys it when htmx removes the figure or the theme changes.
import { built, byId } from "../registry.js";
import { barChart } from "./bars.js";
import { heatmapChart } from "./heatmap.js";
import { lineChart } from "./line.js";
import { processLinesChart } from "./proclines.js";
import { sparkChart } from "./spark.js";

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */

/** @param {HTMLElement} fig */
function configOf(fig) {
  const script = fig.querySelector(":scope > script.chart-config");
  return /** @type {ChartConfig} */ (JSON.parse(script?.textContent ?? "null"));
}

const resizer = new ResizeObserver((entries) => {
  for (const e of entries) {
    const fig = e.target.closest("[data-chart]");
    const c = fig && built.get(fig);
    if (c) c.resize();
  }
});

/** Builds the chart of one figure (replacing any it had). @param {HTMLElement} fig */
export function build(fig) {
  destroy(fig);
  const cfg = configOf(fig);
  if (!cfg) return;
  /** @type {Built | null} */
  let c = null;
  try {
    c = cfg.kind === "heatmap"
      ? heatmapChart(fig, cfg)
      : cfg.kind === "bars"
      ? barChart(fig, cfg)
      : cfg.kind === "spark"
      ? sparkChart(fig, cfg)
      : cfg.kind === "proclines"
      ? processLinesChart(fig, cfg)
      : lineChart(fig, cfg);
  } catch (err) {
    console.error(`chart ${cfg.id}:`, err);
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = `This chart could not be drawn: ${err instanceof Error ? err.message : err}`;
    fig.append(p);
  }
  if (!c) return;
  built.set(fig, c);
  byId.set(c.id, c);
  const plot = fig.querySelector(".plot");
  if (plot) resizer.observe(plot);
}

/** @param {Element} fig */
export function destroy(fig) {
  const c = built.get(fig);
  if (!c) return;
  const plot = fig.querySelector(".plot");
  if (plot) resizer.unobserve(plot);
  c.destroy();
  built.delete(fig);
  if (byId.get(c.id) === c) byId.delete(c.id);
}

/** Builds every chart again (the theme changed). */
export function rebuildAll() {
  for (const fig of [...built.keys()]) build(/** @type {HTMLElement} */ (fig));
}
