// @ts-check
// Where the event markers' labels go (markers.js draws them). Pure: tests/chart_format_test.ts
// runs it under Deno.

/**
 * Where each label goes: right of its line (left of it near the right edge), kept inside the
 * plot [left, right], in the first of `rows` rows where it overlaps no label before it; null
 * where no row has room (its marker is drawn, its names are in the tooltip).
 * @param {{ x: number, w: number }[]} labels in x order (device px)
 * @param {number} left @param {number} right @param {number} rows @param {number} gap
 * @returns {({ x: number, row: number } | null)[]}
 */
export function layoutLabels(labels, left, right, rows, gap) {
  const ends = new Array(rows).fill(-Infinity);
  return labels.map(({ x, w }) => {
    let lx = x + gap;
    if (lx + w > right) lx = x - gap - w;
    lx = Math.max(left, Math.min(lx, right - w));
    const row = ends.findIndex((end) => lx >= end + gap);
    if (row < 0 || w > right - left) return null;
    ends[row] = lx + w;
    return { x: lx, row };
  });
}
