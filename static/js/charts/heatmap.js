// @ts-check
// Per-core CPU as a heatmap: one row per core (natural order), time across, a readout of the
// cell under the cursor below it. Colours run one way in lightness (palette.js), readable with
// any colour vision; a hole in the data (a position null in every row, gaps.ts) is hatched,
// not covered by the cell before it.
import uPlot from "/vendor/uplot.js";
import { blocksFor, xWindow } from "../data.js";
import { markersPlugin } from "../markers.js";
import { HEAT_DARK, HEAT_LIGHT, rampColor } from "../palette.js";
import { ink, isDark } from "../theme.js";
import { fmtTime, zoneOf } from "../time.js";
import { bindPointer, fmtNum, HEIGHT, timeChartOpts, widthOf } from "./common.js";

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */

/** Colour of a percentage in the heatmap (LUT of 101 steps per theme). */
const heatLut = { dark: /** @type {string[]} */ ([]), light: /** @type {string[]} */ ([]) };
function heatColor(/** @type {number} */ v) {
  const key = isDark() ? "dark" : "light";
  const lut = heatLut[key];
  if (lut.length === 0) {
    const stops = key === "dark" ? HEAT_DARK : HEAT_LIGHT;
    for (let i = 0; i <= 100; i++) lut.push(rampColor(stops, i / 100));
  }
  return lut[Math.max(0, Math.min(100, Math.round(v)))];
}

/** Diagonal hatching for a hole (no samples) in the grid's colour. @param {CanvasRenderingContext2D} ctx */
function holePattern(ctx) {
  const pr = uPlot.pxRatio || 1;
  const size = Math.round(6 * pr);
  const c = document.createElement("canvas");
  c.width = c.height = size;
  const g = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
  g.strokeStyle = ink().text;
  g.globalAlpha = 0.35;
  g.lineWidth = pr;
  g.beginPath();
  g.moveTo(0, size);
  g.lineTo(size, 0);
  g.stroke();
  return ctx.createPattern(c, "repeat");
}

/** @param {HTMLElement} fig @param {ChartConfig} cfg @returns {Built | null} */
export function heatmapChart(fig, cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  const b = blocksFor(fig)[cfg.block];
  if (!plot || !b || b.t.length === 0) return null;
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  const tz = zoneOf(panel?.dataset.tz);
  const rows = cfg.series.map((s) => (b.s[s.i] ??= []));
  const n = rows.length;
  const height = Math.max(HEIGHT, Math.min(640, n * 6 + 60));
  const win = xWindow(fig);
  const base = timeChartOpts(tz, "");
  const readout = fig.querySelector("output.heat-readout");
  const every = Math.max(1, Math.ceil(n / 16));
  const opts = {
    ...base,
    width: widthOf(plot),
    height,
    legend: { show: false },
    plugins: [markersPlugin(cfg.id)],
    scales: { x: { time: true, range: () => [win.start, win.end] }, y: { range: () => [0, n] } },
    axes: [
      base.axes[0],
      {
        ...base.axes[1],
        label: "core",
        labelSize: 18,
        // one tick per row (every k-th when many), row 0 at the top
        splits: () => rows.map((_, k) => n - k - 0.5).filter((_, k) => k % every === 0),
        values: (/** @type {any} */ _u, /** @type {number[]} */ splits) =>
          splits.map((v) =>
            cfg.series[Math.round(n - v - 0.5)]?.label.replace(/^cpu[_ ]/, "") ?? ""
          ),
        grid: { show: false },
      },
    ],
    series: [{}, { label: "cores", paths: () => null, points: { show: false } }],
    hooks: {
      ...base.hooks,
      draw: [...base.hooks.draw, (/** @type {any} */ u) => {
        const ctx = u.ctx;
        const { left, top, width, height } = u.bbox;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        const rowH = height / n;
        const t = b.t;
        const hatch = holePattern(ctx);
        for (let i = 0; i < t.length; i++) {
          const xa = u.valToPos(t[i], "x", true);
          const xb = i + 1 < t.length ? u.valToPos(t[i + 1], "x", true) : xa + 2;
          const w = Math.max(1, xb - xa + 0.5);
          if (hatch && i + 1 < t.length && rows.every((r) => r[i] == null)) {
            ctx.fillStyle = hatch; // a hole: from its null to the next sample
            ctx.fillRect(xa, top, xb - xa, height);
            continue;
          }
          for (let k = 0; k < n; k++) {
            const v = rows[k][i];
            if (v == null) continue;
            ctx.fillStyle = heatColor(v);
            ctx.fillRect(xa, top + k * rowH, w, rowH + 0.5);
          }
        }
        ctx.restore();
      }],
      setCursor: [(/** @type {any} */ u) => {
        if (!readout) return;
        const i = u.cursor.idx, top = u.cursor.top;
        if (i == null || top == null || top < 0) {
          readout.textContent = "";
          return;
        }
        const k = Math.min(n - 1, Math.floor(top / (u.over.clientHeight / n)));
        const v = rows[k]?.[i];
        readout.textContent = `${cfg.series[k]?.label}: ${v == null ? "—" : fmtNum(v) + " %"} at ${
          fmtTime(b.t[i], tz)
        }`;
      }],
    },
  };
  const u = new uPlot(opts, [b.t, b.t.map(() => null)], plot);
  bindPointer(u);
  return {
    id: cfg.id,
    kind: cfg.kind,
    u,
    canvas: u.ctx.canvas,
    destroy: () => u.destroy(),
    resize: () => u.setSize({ width: widthOf(plot), height }),
    // `rows` are the block's own arrays: appended to in place.
    update: () => u.setData([b.t, b.t.map(() => null)]),
  };
}
