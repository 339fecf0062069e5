/// <reference lib="dom" />
// The charts' pure client modules under Deno (no browser): the palette against both themes'
// panels, axis ticks and dates, legend statistics, event label layout, live appends at a hole.
import assert from "node:assert/strict";
import {
  contrast,
  HEAT_DARK,
  HEAT_LIGHT,
  luminance,
  SERIES_DARK,
  SERIES_LIGHT,
} from "../static/js/palette.js";
import { fmtNum, fmtTicks, fmtTimeTicks, timeAxisDate } from "../static/js/format.js";
import { windowStats } from "../static/js/stats.js";
import { layoutLabels } from "../static/js/label_layout.js";
import { appendBlock, decodeBlock } from "../static/js/data.js";

/** The value of a CSS variable in the light (`:root`) and dark (`[data-theme="dark"]`) blocks. */
function cssVar(name: string): { light: string; dark: string } {
  const css = Deno.readTextFileSync(new URL("../static/app.css", import.meta.url));
  const block = (sel: string) => css.slice(css.indexOf(sel), css.indexOf("}", css.indexOf(sel)));
  const pick = (text: string) => new RegExp(`${name}:\\s*(#[0-9a-fA-F]{6})`).exec(text)![1]!;
  return { light: pick(block(":root {")), dark: pick(block(':root[data-theme="dark"] {')) };
}

Deno.test("series colours hold 3:1 against the panel in both themes, and differ", () => {
  const panel = cssVar("--bg-panel");
  assert.equal(SERIES_LIGHT.length, SERIES_DARK.length);
  for (const [colours, bg] of [[SERIES_LIGHT, panel.light], [SERIES_DARK, panel.dark]] as const) {
    for (const c of colours) assert.ok(contrast(c, bg) >= 3, `${c} on ${bg}: ${contrast(c, bg)}`);
    assert.equal(new Set(colours).size, colours.length);
  }
  // Okabe-Ito's orange stays lighter than its vermillion (told apart by lightness alone)
  assert.ok(luminance(SERIES_LIGHT[1]!) > luminance(SERIES_LIGHT[3]!));
  assert.ok(luminance(SERIES_DARK[1]!) > luminance(SERIES_DARK[3]!));
});

Deno.test("the heatmap's ramps run one way in lightness, from the panel's tone", () => {
  for (const [ramp, up] of [[HEAT_LIGHT, false], [HEAT_DARK, true]] as const) {
    const l = ramp.map(luminance);
    for (let i = 1; i < l.length; i++) {
      assert.ok(up ? l[i]! > l[i - 1]! : l[i]! < l[i - 1]!, `${ramp.join()} at ${i}`);
    }
  }
  // the scale under the heatmap (app.css) shows the same stops
  const css = Deno.readTextFileSync(new URL("../static/app.css", import.meta.url));
  assert.ok(css.includes(`linear-gradient(to right, ${HEAT_LIGHT.join(", ")})`));
  assert.ok(css.includes(`linear-gradient(to right, ${HEAT_DARK.join(", ")})`));
});

Deno.test("fmtTicks() writes distinct ticks at every scale, tiny ones included", () => {
  const cases: [number[], number, string[]][] = [
    [[0, 1e-14, 2e-14, 3e-14, 4e-14, 5e-14], 1e-14, [
      "0",
      "1e-14",
      "2e-14",
      "3e-14",
      "4e-14",
      "5e-14",
    ]],
    [[5.2e-14, 5.3e-14, 5.4e-14], 1e-15, ["5.2e-14", "5.3e-14", "5.4e-14"]],
    [[0, 0.25, 0.5, 0.75], 0.25, ["0", "0.25", "0.50", "0.75"]],
    [[0, 25, 50, 75, 100], 25, ["0", "25", "50", "75", "100"]],
    [[0, 20_000, 40_000], 20_000, ["0", "20k", "40k"]],
    [[1.5e9, 2e9, 2.5e9], 5e8, ["1.5G", "2.0G", "2.5G"]],
    [[-0.002, 0, 0.002], 0.002, ["-0.002", "0", "0.002"]],
  ];
  for (const [splits, incr, want] of cases) assert.deepEqual(fmtTicks(splits, incr), want);
  assert.equal(fmtNum(5.23e-14), "5.23e-14");
  assert.equal(fmtNum(5e-14), "5e-14");
  assert.equal(fmtNum(0.004), "0.0040");
  assert.equal(fmtNum(42.25), "42.3");
  assert.equal(fmtNum(null), "—");
});

Deno.test("time ticks are times alone; the day's change is a date alone; the date is said once", () => {
  const d = Date.UTC(2026, 11, 5, 4, 29, 0);
  assert.deepEqual(
    fmtTimeTicks([0, 1, 2].map((m) => d + m * 60_000), 60_000, "UTC"),
    ["04:29", "04:30", "04:31"],
  );
  assert.deepEqual(fmtTimeTicks([d, d + 10_000], 10_000, "UTC"), ["04:29:00", "04:29:10"]);
  assert.deepEqual(fmtTimeTicks([d, d + 500], 500, "UTC"), ["04:29:00.0", "04:29:00.5"]);
  assert.deepEqual(
    fmtTimeTicks([0, 6, 12].map((h) => d + h * 3_600_000), 6 * 3_600_000, "Asia/Tokyo"),
    ["13:29", "19:29", "6 Dec"],
  );
  assert.deepEqual(fmtTimeTicks([d, d + 86_400_000], 86_400_000, "UTC"), ["5 Dec", "6 Dec"]);
  assert.equal(timeAxisDate(d, d + 60_000, "UTC"), "Sat 5 Dec 2026");
  assert.equal(timeAxisDate(d, d + 2 * 86_400_000, "UTC"), "5 Dec – 7 Dec 2026");
  assert.equal(timeAxisDate(d, d + 40 * 86_400_000, "UTC"), "5 Dec 2026 – 14 Jan 2027");
});

Deno.test("windowStats() gives min, mean, max and last of the window, gaps left out", () => {
  const t = [0, 1, 2, 3, 4, 5];
  const v = [5, 1, null, 9, 3, 7];
  assert.deepEqual(windowStats(t, v, 0, 5), { min: 1, mean: 5, max: 9, last: 7, n: 5 });
  assert.deepEqual(windowStats(t, v, 1, 3), { min: 1, mean: 5, max: 9, last: 9, n: 2 });
  assert.equal(windowStats(t, v, 2, 2), null);
  assert.equal(windowStats(t, v, 10, 20), null);
});

Deno.test("layoutLabels() keeps labels apart and inside the plot, in rows, leaving out the rest", () => {
  const labels = Array.from({ length: 12 }, (_, k) => ({ x: k < 10 ? 100 + k * 15 : 990, w: 80 }));
  labels.unshift({ x: 2, w: 120 }); // at the left edge
  const left = 10, right = 1000;
  const places = layoutLabels(labels, left, right, 3, 3);
  const boxes = places.flatMap((p, k) => (p ? [{ ...p, w: labels[k]!.w }] : []));
  assert.ok(boxes.length >= 4 && boxes.length < labels.length, `${boxes.length} placed`);
  for (const [i, a] of boxes.entries()) {
    assert.ok(a.x >= left && a.x + a.w <= right, JSON.stringify(a));
    assert.ok(a.row >= 0 && a.row < 3);
    for (const b of boxes.slice(i + 1)) {
      assert.ok(a.row !== b.row || a.x + a.w <= b.x || b.x + b.w <= a.x, JSON.stringify([a, b]));
    }
  }
  assert.equal(places[0]!.x, left, "pushed right of the edge, not clipped");
  const last = places.at(-1);
  assert.ok(!last || last.x + 80 <= right, "left of its line at the right edge");
});

Deno.test("a live page's appended samples break at a hole (appendBlock)", () => {
  const b = decodeBlock({
    t0: 0,
    dt: [1000, 1000],
    s: [[1, 2, 3], [4, 5, 6]],
    rows: 3,
    reduced: false,
    gap: 3000,
  });
  appendBlock(
    b,
    decodeBlock({ t0: 3000, dt: [1000], s: [[7, 8], [9, 10]], rows: 2, reduced: false }),
  );
  assert.deepEqual(b.t, [0, 1000, 2000, 3000, 4000], "a step of 1 s: as it is");
  appendBlock(b, decodeBlock({ t0: 24_000, dt: [], s: [[11], [12]], rows: 1, reduced: false }));
  assert.deepEqual(b.t, [0, 1000, 2000, 3000, 4000, 5000, 24_000], "20 s: a null 1 s after");
  assert.deepEqual(b.s, [[1, 2, 3, 7, 8, null, 11], [4, 5, 6, 9, 10, null, 12]]);
  const unknown = decodeBlock({ t0: 0, dt: [1000], s: [[1, 2]], rows: 2, reduced: false });
  appendBlock(unknown, decodeBlock({ t0: 60_000, dt: [], s: [[3]], rows: 1, reduced: false }));
  assert.deepEqual(unknown.s, [[1, 2, 3]], "no gap known: nothing inserted");
});
