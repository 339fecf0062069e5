// @ts-check
// What the time charts share: their size, number labels, axes in the display zone, and the
// pointer (drag to zoom, double-click to reset, click for the processes at that time).
import uPlot from "/vendor/uplot.js";
import { ink } from "../theme.js";
import { zoneLabel } from "../time.js";
import { resetZoom, showProcesses, zoomTo } from "../zoom.js";
import { fmtElapsed, fmtNum, fmtTicks, fmtTimeTicks, timeAxisDate } from "../format.js";

export { fmtNum };

/** Height of a time chart (CSS px); a heatmap with many cores is taller. */
export const HEIGHT = 220;

/** @param {HTMLElement} plot */
export const widthOf = (plot) =>
  Math.max(120, Math.floor(plot.clientWidth || plot.parentElement?.clientWidth || 400));

/**
 * Draws the window's date under the time axis's ticks, at the left end of its label's line
 * (left out where it would run into the centred label on a narrow chart).
 * @param {any} u
 * @param {string | undefined} tz
 * @param {(text: string) => void} shown what was drawn (tests)
 */
function drawDate(u, tz, shown) {
  const min = u.scales.x.min, max = u.scales.x.max;
  const axis = u.axes[0];
  if (min == null || max == null || axis._lpos == null) return;
  const text = timeAxisDate(min, max, tz);
  const ctx = u.ctx;
  const pr = uPlot.pxRatio || 1;
  ctx.save();
  ctx.font = axis.font[0];
  const w = ctx.measureText(text).width;
  ctx.font = axis.labelFont[0];
  const label = typeof axis.label === "string" ? ctx.measureText(axis.label).width : 0;
  const { left, width } = u.bbox;
  if (w + 12 * pr < width / 2 - label / 2) {
    ctx.font = axis.font[0];
    ctx.fillStyle = axis.stroke(u, 0);
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(text, left, Math.round((axis._lpos + axis.labelGap) * pr));
    shown(text);
  } else shown("");
  ctx.restore();
}

/** Zoom by drag, reset by double-click, click for processes: the parts every time chart shares. */
export function timeChartOpts(/** @type {string | undefined} */ tz, /** @type {string} */ unit) {
  const { text, grid } = ink();
  // Traces compared from each one's start: times are elapsed ms, not dates.
  const elapsed = document.getElementById("panel")?.dataset.align === "start";
  /** The date drawn beside the time axis (tests). */
  const date = { text: "" };
  return {
    date,
    ms: 1,
    tzDate: tz ? (/** @type {number} */ ts) => uPlot.tzDate(new Date(ts), tz) : undefined,
    cursor: {
      sync: { key: "sysmon", setSeries: false },
      drag: { x: true, y: false, setScale: false },
      bind: { dblclick: () => () => null },
    },
    axes: [
      {
        label: elapsed ? "Time since each trace's start" : `Time (${zoneLabel(tz)})`,
        labelSize: 18,
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        values: (
          /** @type {any} */ _u,
          /** @type {number[]} */ splits,
          /** @type {number} */ _i,
          /** @type {number} */ _space,
          /** @type {number} */ incr,
        ) => elapsed ? splits.map(fmtElapsed) : fmtTimeTicks(splits, incr, tz),
      },
      {
        label: unit,
        labelSize: unit ? 18 : 0,
        size: 56,
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        values: (
          /** @type {any} */ _u,
          /** @type {number[]} */ splits,
          /** @type {number} */ _i,
          /** @type {number} */ _space,
          /** @type {number} */ incr,
        ) => fmtTicks(splits, incr),
      },
    ],
    hooks: {
      draw: [(/** @type {any} */ u) => elapsed || drawDate(u, tz, (t) => (date.text = t))],
      setSelect: [(/** @type {any} */ u) => {
        if (u.select.width < 3) return;
        const a = u.posToVal(u.select.left, "x");
        const b = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        zoomTo(a, b);
      }],
    },
  };
}

/** Wires double-click (reset zoom) and click (processes at that time) on a chart. @param {any} u */
export function bindPointer(u) {
  let downX = 0;
  u.over.addEventListener("mousedown", (/** @type {MouseEvent} */ e) => (downX = e.clientX));
  u.over.addEventListener("click", (/** @type {MouseEvent} */ e) => {
    if (Math.abs(e.clientX - downX) > 3 || u.cursor.left == null || u.cursor.left < 0) return;
    showProcesses(u.posToVal(u.cursor.left, "x"));
  });
  u.over.addEventListener("dblclick", resetZoom);
}
