// @ts-check
// A line chart over time: one line per series, smoothed as the panel asks; the series hidden
// from the legend are kept for the session (sessionStorage, per chart).
import uPlot from "/vendor/uplot.js";
import { blocksFor, smooth, xWindow } from "../data.js";
import { markersPlugin } from "../markers.js";
import { color } from "../theme.js";
import { fmtTime, zoneOf } from "../time.js";
import { bindPointer, fmtNum, HEIGHT, timeChartOpts, widthOf } from "./common.js";

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */

/** @param {string} id @returns {Set<string>} */
function hiddenOf(id) {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(`sysmon.hidden.${id}`) ?? "[]"));
  } catch (_err) {
    return new Set();
  }
}

/** @param {string} id @param {Set<string>} set */
function saveHidden(id, set) {
  try {
    sessionStorage.setItem(`sysmon.hidden.${id}`, JSON.stringify([...set]));
  } catch (_err) {
    // storage disabled: hidden series last until the next refresh
  }
}

/** @param {HTMLElement} fig @param {ChartConfig} cfg @returns {Built | null} */
export function lineChart(fig, cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  const b = blocksFor(fig)[cfg.block];
  if (!plot || !b || b.t.length === 0) return null;
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  const n = Number(panel?.dataset.smooth ?? 1);
  const tz = zoneOf(panel?.dataset.tz);
  const hidden = hiddenOf(cfg.id);
  const win = xWindow(fig);
  const unit = cfg.unit;
  const base = timeChartOpts(tz, unit);
  const opts = {
    ...base,
    width: widthOf(plot),
    height: HEIGHT,
    plugins: [markersPlugin(cfg.id)],
    scales: {
      x: { time: true, range: () => [win.start, win.end] },
      y: cfg.y
        ? {
          range: (
            /** @type {any} */ _u,
            /** @type {number} */ _min,
            /** @type {number} */ max,
          ) => [cfg.y?.[0] ?? 0, Math.max(cfg.y?.[1] ?? 100, max ?? 0)],
        }
        : {
          range: (
            /** @type {any} */ _u,
            /** @type {number} */ min,
            /** @type {number} */ max,
          ) => [Math.min(0, min ?? 0), max > 0 ? max * 1.05 : 1],
        },
    },
    series: [
      {
        label: "Time",
        value: (
          /** @type {any} */ _u,
          /** @type {number|null} */ v,
        ) => (v == null ? "—" : fmtTime(v, tz)),
      },
      ...cfg.series.map((s, k) => ({
        label: s.label,
        stroke: color(k),
        width: 1.5,
        show: !hidden.has(s.label),
        value: (
          /** @type {any} */ _u,
          /** @type {number|null} */ v,
        ) => (v == null ? "—" : `${fmtNum(v)}${unit ? " " + unit : ""}`),
      })),
    ],
    hooks: {
      ...base.hooks,
      setSeries: [(/** @type {any} */ u, /** @type {number|null} */ i, /** @type {any} */ o) => {
        if (i == null || o?.show === undefined) return;
        const label = u.series[i].label;
        const set = hiddenOf(cfg.id);
        if (o.show) set.delete(label);
        else set.add(label);
        saveHidden(cfg.id, set);
      }],
    },
  };
  const data = () => [b.t, ...cfg.series.map((s) => smooth(b.s[s.i] ?? [], n))];
  const u = new uPlot(opts, data(), plot);
  bindPointer(u);
  return {
    id: cfg.id,
    kind: cfg.kind,
    u,
    canvas: u.ctx.canvas,
    destroy: () => u.destroy(),
    resize: () => u.setSize({ width: widthOf(plot), height: HEIGHT }),
    update: () => u.setData(data()),
  };
}
