// Holes in a trace: tracing stopped for a while, the machine slept, a tracer was restarted. Where
// two successive samples are more than HOLE_STEPS sample intervals apart, an answer holds one
// more x position between them with every series null, so that a chart breaks its line there
// (uPlot draws no segment to or from a null) instead of drawing straight across the hole, and a
// heatmap leaves the hole empty. The position is one sample interval after the sample before
// the hole: inside the hole, and the last cell before it keeps its width.
//
// Only pairs of real samples are compared: raw rows with each other, a reduced answer's
// buckets by the last sample of one and the first of the next (reduce.ts), and the places
// where answers are joined (a trace's files, its journal, the live feed).

/** A step longer than this many sample intervals is a hole. */
export const HOLE_STEPS = 3;

/** The median of the positive steps between successive times (the last 1,000), or null. */
export function medianStep(t: ArrayLike<number>): number | null {
  const steps: number[] = [];
  for (let i = Math.max(1, t.length - 1000); i < t.length; i++) {
    const d = t[i]! - t[i - 1]!;
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return null;
  steps.sort((a, b) => a - b);
  return steps[steps.length >> 1]!;
}

/**
 * The longest step (ms) drawn as a line: HOLE_STEPS sample intervals (`intervalSec`, seconds),
 * or HOLE_STEPS median steps of `t` when the interval is unknown; null when neither is known
 * (then nothing counts as a hole).
 */
export function holeLimit(
  intervalSec: number | null | undefined,
  t?: ArrayLike<number>,
): number | null {
  if (intervalSec && intervalSec > 0) return HOLE_STEPS * intervalSec * 1000;
  const step = t && t.length >= 3 ? medianStep(t) : null;
  return step === null ? null : HOLE_STEPS * step;
}

/** The x position of the null that marks a hole between `before` and `after`. */
export function holeAt(before: number, after: number, limit: number): number {
  return Math.min(before + limit / HOLE_STEPS, (before + after) / 2);
}

/**
 * Columns (x `t`, `values` aligned with it) with a null position inside each hole between
 * positions `from - 1` and `to - 1` (each compared with the one before it). Returns the same
 * arrays when there is no hole.
 */
export function breakColumns(
  t: number[],
  values: (number | null)[][],
  limit: number | null,
  from = 1,
  to = t.length,
): { t: number[]; values: (number | null)[][]; holes: number } {
  if (limit === null || !(limit > 0)) return { t, values, holes: 0 };
  const at: number[] = [];
  for (let i = Math.max(1, from); i < Math.min(to, t.length); i++) {
    if (t[i]! - t[i - 1]! > limit) at.push(i);
  }
  if (at.length === 0) return { t, values, holes: 0 };
  const splice = <T>(a: T[], fill: (i: number) => T): T[] => {
    const out: T[] = [];
    let prev = 0;
    for (const i of at) {
      for (let j = prev; j < i; j++) out.push(a[j]!);
      out.push(fill(i));
      prev = i;
    }
    for (let j = prev; j < a.length; j++) out.push(a[j]!);
    return out;
  };
  return {
    t: splice(t, (i) => holeAt(t[i - 1]!, t[i]!, limit)),
    values: values.map((v) => splice(v, () => null)),
    holes: at.length,
  };
}

/** An answer (x `t`, series by name) with its holes broken; see breakColumns. */
export function breakHoles<R extends { t: number[]; series: Record<string, (number | null)[]> }>(
  r: R,
  limit: number | null,
  from = 1,
  to = r.t.length,
): R {
  const names = Object.keys(r.series);
  const b = breakColumns(r.t, names.map((n) => r.series[n]!), limit, from, to);
  if (b.holes === 0) return r;
  const series: Record<string, (number | null)[]> = {};
  names.forEach((n, i) => (series[n] = b.values[i]!));
  return { ...r, t: b.t, series };
}
