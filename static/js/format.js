// @ts-check
// Numbers and times as the charts write them on axes, legends and readouts. Pure (no DOM, no
// uPlot): tests/chart_format_test.ts runs it under Deno.
import { zoneParts } from "./time.js";

/** Short number for legends and readouts: 3 significant digits, k/M/G/T, tiny ones as 5e-14. @param {number | null} v */
export function fmtNum(v) {
  if (v == null || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1e12) return (v / 1e12).toFixed(2) + "T";
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01 || a === 0) return v.toFixed(2);
  if (a >= 1e-3) return v.toFixed(4);
  return trimExp(v.toExponential(2));
}

/** "5.00e-14" as "5e-14", "1.50e-9" as "1.5e-9". @param {string} s */
const trimExp = (s) => s.replace(/\.?0+e/, "e").replace("e+", "e");

/** Fewest decimals (0-12) that write every value of `vals` within a thousandth of `step`. @param {number[]} vals @param {number} step */
function decimalsFor(vals, step) {
  let d = 0;
  while (d < 12 && vals.some((v) => Math.abs(Number(v.toFixed(d)) - v) > Math.abs(step) * 1e-3)) {
    d++;
  }
  return d;
}

/**
 * Tick labels of a value axis: every tick distinct, with as many decimals as the tick step
 * needs; thousands and up as k, M, G, T; a range below 0.001 as 2e-14, 4e-14, ….
 * @param {number[]} splits @param {number} incr the step between ticks
 */
export function fmtTicks(splits, incr) {
  const mag = Math.max(0, ...splits.map((v) => Math.abs(v)));
  if (!(incr > 0) || mag === 0) return splits.map((v) => (v === 0 ? "0" : fmtNum(v)));
  if (mag < 1e-3) {
    const e = Math.floor(Math.log10(mag)), s = 10 ** e;
    const d = decimalsFor(splits.map((v) => v / s), incr / s);
    return splits.map((v) => (v === 0 ? "0" : `${(v / s).toFixed(d)}e${e}`));
  }
  const [s, suffix] = mag >= 1e12
    ? [1e12, "T"]
    : mag >= 1e9
    ? [1e9, "G"]
    : mag >= 1e6
    ? [1e6, "M"]
    : mag >= 1e4
    ? [1e3, "k"]
    : [1, ""];
  const d = decimalsFor(splits.map((v) => v / s), incr / s);
  return splits.map((v) => (v === 0 ? "0" : (v / s).toFixed(d) + suffix));
}

/** The parts of a time in a zone (undefined: the browser's). @param {number} ms @param {string | undefined} tz */
const partsOf = (ms, tz) =>
  zoneParts(ms, tz, "en-GB", {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });

const DAY = 86_400_000;

/**
 * Tick labels of the time axis in `tz`: times only ("14:05", "14:05:30", "14:05:30.5"), the
 * date where the day changes from the tick before ("6 Dec"), dates only for steps of a day and
 * more. The date of the window is written once, beside the axis (timeAxisDate).
 * @param {number[]} splits @param {number} incr ms between ticks @param {string | undefined} tz
 */
export function fmtTimeTicks(splits, incr, tz) {
  let prevDay = "";
  return splits.map((ms, i) => {
    const p = partsOf(ms, tz);
    const day = `${p.day} ${p.month}`;
    const newDay = i > 0 && day !== prevDay;
    prevDay = day;
    if (incr >= 28 * DAY) return `${p.month} ${p.year}`;
    if (incr >= DAY || newDay) return day;
    if (incr >= 60_000) return `${p.hour}:${p.minute}`;
    const hms = `${p.hour}:${p.minute}:${p.second}`;
    if (incr >= 1000) return hms;
    const frac = ((ms % 1000) + 1000) % 1000 / 1000;
    const d = incr >= 100 ? 1 : incr >= 10 ? 2 : 3;
    return hms + frac.toFixed(d).slice(1);
  });
}

/**
 * Time since a start: "+0:05:00", "+26:00:05", "+0:00:01.5" (ms; a tick of a comparison from
 * each trace's start).
 * @param {number} ms
 */
export function fmtElapsed(ms) {
  const sign = ms < 0 ? "-" : "+";
  const a = Math.abs(ms);
  const h = Math.floor(a / 3_600_000), m = Math.floor(a / 60_000) % 60, sec = (a % 60_000) / 1000;
  const ss = Number.isInteger(sec) ? String(sec).padStart(2, "0") : sec.toFixed(1).padStart(4, "0");
  return `${sign}${h}:${String(m).padStart(2, "0")}:${ss}`;
}

/**
 * The date (or dates) of a window, written once beside the time axis: "Fri 5 Dec 2026", or
 * "5 Dec – 7 Dec 2026" when it spans days.
 * @param {number} start @param {number} end @param {string | undefined} tz
 */
export function timeAxisDate(start, end, tz) {
  const a = partsOf(start, tz), b = partsOf(end, tz);
  if (a.year === b.year && a.month === b.month && a.day === b.day) {
    return `${a.weekday} ${a.day} ${a.month} ${a.year}`;
  }
  const from = a.year === b.year ? `${a.day} ${a.month}` : `${a.day} ${a.month} ${a.year}`;
  return `${from} – ${b.day} ${b.month} ${b.year}`;
}
