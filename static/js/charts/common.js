// @ts-check
// What the time charts share: their size, number labels, axes in the display zone, and the
// pointer (drag to zoom, double-click to reset, click for the processes at that time).
import uPlot from "/vendor/uplot.js";
import { ink } from "../theme.js";
import { zoneLabel } from "../time.js";
import { resetZoom, showProcesses, zoomTo } from "../zoom.js";

/** Height of a time chart (CSS px); a heatmap with many cores is taller. */
export const HEIGHT = 220;

/** @param {HTMLElement} plot */
export const widthOf = (plot) =>
  Math.max(120, Math.floor(plot.clientWidth || plot.parentElement?.clientWidth || 400));

/** Short number for axes and legends. @param {number | null} v */
export function fmtNum(v) {
  if (v == null || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Zoom by drag, reset by double-click, click for processes: the parts every time chart shares. */
export function timeChartOpts(/** @type {string | undefined} */ tz, /** @type {string} */ unit) {
  const { text, grid } = ink();
  return {
    ms: 1,
    tzDate: tz ? (/** @type {number} */ ts) => uPlot.tzDate(new Date(ts), tz) : undefined,
    cursor: {
      sync: { key: "sysmon", setSeries: false },
      drag: { x: true, y: false, setScale: false },
      bind: { dblclick: () => () => null },
    },
    axes: [
      {
        label: `Time (${zoneLabel(tz)})`,
        labelSize: 18,
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
      },
      {
        label: unit,
        labelSize: unit ? 18 : 0,
        size: 56,
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        values: (/** @type {any} */ _u, /** @type {number[]} */ splits) => splits.map(fmtNum),
      },
    ],
    hooks: {
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
