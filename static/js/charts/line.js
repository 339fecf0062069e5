// @ts-check
// A line chart over time: one line per series, smoothed as the panel asks, each in its name's
// colour (colors.js); a hole in the data is a break in the line (a null, gaps.ts). The legend
// is a table: the value under the cursor, and the minimum, mean, maximum and last value of the
// window shown (of the samples, before smoothing), recomputed when the window or the data
// change. The series hidden from the legend are kept for the session (sessionStorage, per
// chart).
import uPlot from "/vendor/uplot.js";
import { colorsOf, traceShade } from "../colors.js";
import { blocksFor, smooth, xWindow } from "../data.js";
import { markersPlugin } from "../markers.js";
import { windowStats } from "../stats.js";
import { fmtTime, zoneOf } from "../time.js";
import { bindPointer, fmtNum, HEIGHT, timeChartOpts, widthOf } from "./common.js";

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */

/** Dashes of a trace's first, second, … series when several traces are compared. */
const DASHES = [undefined, [6, 4], [2, 3], [10, 3, 2, 3]];

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

/**
 * The y range: the chart's fixed one (percentages) widened to any value beyond it, else from
 * 0 (or the lowest value) to a little above the highest; always holding every value.
 * @param {[number, number] | null} fixed @param {number | null} min @param {number | null} max
 * @returns {[number, number]}
 */
export function yRange(fixed, min, max) {
  const lo0 = min ?? 0, hi0 = max ?? 0;
  if (fixed) return [Math.min(fixed[0], lo0), Math.max(fixed[1], hi0)];
  const lo = Math.min(0, lo0);
  const hi = hi0 > 0 ? hi0 + (hi0 - lo) * 0.05 : hi0 < 0 ? 0 : 1;
  return [lo, hi > lo ? hi : lo + 1];
}

/**
 * Each series' colour and dash. Several traces compared: the trace's colour, its series told
 * apart by their dashes (the same order on every trace) and, past the dashes, by shades of its
 * colour; else each series name's colour.
 * @param {ChartConfig["series"]} series
 */
function looksOf(series) {
  const byName = colorsOf(series.filter((s) => s.trace == null).map((s) => s.label));
  let named = 0;
  const nth = new Map();
  /** @type {string[]} */
  const colors = [];
  /** @type {(number[] | undefined)[]} */
  const dashes = [];
  for (const s of series) {
    if (s.trace == null) {
      colors.push(byName[named++]);
      dashes.push(undefined);
      continue;
    }
    const k = nth.get(s.trace) ?? 0;
    nth.set(s.trace, k + 1);
    colors.push(traceShade(s.trace, Math.floor(k / DASHES.length)));
    dashes.push(DASHES[k % DASHES.length]);
  }
  return { colors, dashes };
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
  const { colors, dashes } = looksOf(cfg.series);
  /** Statistics of each series over the window shown, computed when first asked after a change. */
  let stats = /** @type {(import("../stats.js").Stats | null)[] | null} */ (null);
  const statsOf = (/** @type {any} */ u) => {
    if (stats) return stats;
    const lo = u.scales?.x?.min ?? win.start, hi = u.scales?.x?.max ?? win.end;
    stats = cfg.series.map((s) => windowStats(b.t, b.s[s.i] ?? [], lo, hi));
    return stats;
  };
  const withUnit = (/** @type {number | null | undefined} */ v) =>
    v == null ? "—" : `${fmtNum(v)}${unit ? " " + unit : ""}`;
  /** The legend's columns for series `k`: under the cursor, then over the window. */
  const legendValues = (/** @type {any} */ u, /** @type {number} */ k, /** @type {any} */ idx) => {
    const st = statsOf(u)[k - 1];
    const v = idx == null ? null : u.data?.[k]?.[idx];
    return {
      Value: withUnit(v),
      Min: fmtNum(st?.min ?? null),
      Mean: fmtNum(st?.mean ?? null),
      Max: fmtNum(st?.max ?? null),
      Last: fmtNum(st?.last ?? null),
    };
  };
  // uPlot writes the legend again after new data or a new window (shouldSetLegend)
  const fresh = () => (stats = null);
  const opts = {
    ...base,
    width: widthOf(plot),
    height: HEIGHT,
    plugins: [markersPlugin(cfg.id)],
    scales: {
      x: { time: true, range: () => [win.start, win.end] },
      y: {
        range: (
          /** @type {any} */ _u,
          /** @type {number | null} */ min,
          /** @type {number | null} */ max,
        ) => yRange(cfg.y, min, max),
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
        stroke: colors[k],
        dash: dashes[k],
        width: 1.5,
        show: !hidden.has(s.label),
        value: (
          /** @type {any} */ _u,
          /** @type {number|null} */ v,
        ) => withUnit(v),
        values: legendValues,
      })),
    ],
    hooks: {
      ...base.hooks,
      setData: [fresh],
      setScale: [(/** @type {any} */ _u, /** @type {string} */ key) => key === "x" && fresh()],
      // the time under the cursor heads the legend's first column
      setLegend: [(/** @type {any} */ u) => {
        const th = u.root.querySelector(".u-legend thead th");
        const i = u.cursor.idx;
        if (th) th.textContent = i == null ? "" : fmtTime(u.data[0][i], tz);
      }],
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
    date: () => base.date.text,
    stats: () => statsOf(u),
  };
}
