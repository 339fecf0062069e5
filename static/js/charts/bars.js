// @ts-check
// Horizontal bars (the newest sample per container), drawn on a plain canvas, each in its
// name's colour (colors.js: a container has one colour in every chart), or its trace's when
// several are compared; live.js hands it new values with setBars.
import { colorsOf, traceColor } from "../colors.js";
import { css, ink } from "../theme.js";
import { fmtNum, widthOf } from "./common.js";

/**
 * @typedef {import("../types.js").ChartConfig} ChartConfig
 * @typedef {import("../types.js").Built} Built
 */

/** @param {HTMLElement} fig @param {ChartConfig} cfg @returns {Built | null} */
export function barChart(fig, cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  if (!plot || !cfg.bars) return null;
  const canvas = document.createElement("canvas");
  plot.append(canvas);
  const draw = () => {
    const bars = /** @type {NonNullable<ChartConfig["bars"]>} */ (cfg.bars);
    const dpr = devicePixelRatio || 1;
    const w = widthOf(plot), rowH = 26, h = Math.max(40, bars.labels.length * rowH + 12);
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    ctx.scale(dpr, dpr);
    ctx.font = `12px ${css("--font") || "sans-serif"}`;
    ctx.textBaseline = "middle";
    const labelW = Math.min(200, w * 0.35);
    const max = Math.max(100, ...bars.values.map((v) => v ?? 0));
    const { text } = ink();
    // Several traces compared: each bar in its trace's colour.
    const colors = bars.traces ? bars.traces.map(traceColor) : colorsOf(bars.labels);
    bars.labels.forEach((label, k) => {
      const y = 6 + k * rowH, v = bars.values[k];
      ctx.fillStyle = text;
      ctx.textAlign = "right";
      const shown = label.length > 28 ? label.slice(0, 27) + "…" : label;
      ctx.fillText(shown, labelW - 8, y + rowH / 2);
      const bw = v == null ? 0 : ((w - labelW - 70) * v) / max;
      ctx.fillStyle = colors[k];
      ctx.fillRect(labelW, y + 4, Math.max(0, bw), rowH - 8);
      ctx.fillStyle = text;
      ctx.textAlign = "left";
      ctx.fillText(v == null ? "—" : `${fmtNum(v)} ${cfg.unit}`, labelW + bw + 6, y + rowH / 2);
    });
  };
  draw();
  return {
    id: cfg.id,
    kind: cfg.kind,
    u: null,
    canvas,
    destroy: () => canvas.remove(),
    resize: draw,
    setBars: (/** @type {NonNullable<ChartConfig["bars"]>} */ bars) => {
      cfg.bars = bars;
      draw();
    },
  };
}
