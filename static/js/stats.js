// @ts-check
// Legend statistics of a series over the x window a chart shows (pure: tests/palette_test.ts
// runs it under Deno too). Nulls (gaps, holes) are left out; a reduced series holds each
// bucket's minimum and maximum, so min and max are exact and the mean is that of the points.

/**
 * @typedef {{ min: number, mean: number, max: number, last: number, n: number }} Stats
 */

/** The first index of sorted `t` at or after `x`. @param {number[]} t @param {number} x */
export function firstAtOrAfter(t, x) {
  let lo = 0, hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (/** @type {number} */ (t[mid]) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Minimum, mean, maximum and last value of `v` where `t` lies in [start, end]; null when the
 * window holds no value.
 * @param {number[]} t @param {(number | null | undefined)[]} v
 * @param {number} start @param {number} end
 * @returns {Stats | null}
 */
export function windowStats(t, v, start, end) {
  let min = Infinity, max = -Infinity, sum = 0, n = 0, last = NaN;
  for (let i = firstAtOrAfter(t, start); i < t.length && /** @type {number} */ (t[i]) <= end; i++) {
    const x = v[i];
    if (x == null || !Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    n++;
    last = x;
  }
  return n === 0 ? null : { min, mean: sum / n, max, last, n };
}
