// @ts-check
// A sparkline for a card: one series in its name's colour (colors.js), or, several traces
// compared, one line per trace in its trace's colour (no fill); no axes, no cursor, no markers;
// a hole in the data (a null, gaps.ts) breaks the line and its fill.
import uPlot from "/vendor/uplot.js";
import { colorOf, traceColor } from "../colors.js";
import { blocksFor, smooth } from "../data.js";
import { widthOf } from "./common.js";

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */

/** @param {HTMLElement} fig @param {ChartConfig} cfg @returns {Built | null} */
export function sparkChart(fig, cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  const b = blocksFor(fig)[cfg.block];
  const series = cfg.series;
  if (!plot || !b || series.length === 0 || b.t.length === 0) return null;
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  const one = series.length === 1 && series[0].trace == null;
  const strokes = series.map((s) => (s.trace != null ? traceColor(s.trace) : colorOf(s.label)));
  const data = () => [
    b.t,
    ...series.map((s) => smooth(b.s[s.i] ?? [], Number(panel?.dataset.smooth ?? 1))),
  ];
  const opts = {
    width: widthOf(plot),
    height: 40,
    ms: 1,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: {
      x: { time: true },
      y: {
        range: (
          /** @type {any} */ _u,
          /** @type {number} */ min,
          /** @type {number} */ max,
        ) => {
          // a little room below: a series at 0 throughout is a visible line, not the edge
          const lo = Math.min(0, min ?? 0), hi = (max ?? 1) > 0 ? max * 1.1 : 1;
          return [lo - (hi - lo) * 0.06, hi];
        },
      },
    },
    series: [
      {},
      ...strokes.map((stroke) => ({ stroke, width: 1.25, fill: one ? `${stroke}2e` : undefined })),
    ],
  };
  const u = new uPlot(opts, data(), plot);
  return {
    id: cfg.id,
    kind: cfg.kind,
    u,
    canvas: u.ctx.canvas,
    destroy: () => u.destroy(),
    resize: () => u.setSize({ width: widthOf(plot), height: 40 }),
    update: () => u.setData(data()),
  };
}
