// Several traces in one tab: each trace's tab (built from the same plan, over its own
// answers, its times already aligned) merged into one, so that every chart has one series per
// series and trace (`metric · host`), in the trace's colour. The traces' x axes differ (two
// hosts do not sample at the same instants): each block's x is the union of theirs, and a
// trace's value at an x it did not sample is read off its line (linear between its two
// samples around it, null across a hole or outside it). Pure: no Deno, no SQL.
import type { CardModel, ChartModel, DataBlock, SeriesModel, TabModel } from "./charts.ts";

export interface ComparedTab {
  tab: TabModel;
  /** How the legends name the trace (its host, or host and start where hosts repeat). */
  name: string;
  /** The trace's colour slot. */
  slot: number;
}

/** A block's x values, epoch ms. */
function blockTimes(b: DataBlock): number[] {
  if (b.s.length === 0 && b.dt.length === 0) return [];
  const t = [b.t0];
  for (const d of b.dt) t.push(t[t.length - 1]! + d);
  return t;
}

/**
 * `v` (sampled at `t`, ascending) at each x of `xs` (ascending): its own value where it has
 * a sample, linear between two samples no more than `gap` apart, else null.
 */
export function resample(
  t: number[],
  v: (number | null)[],
  xs: number[],
  gap: number | null,
): (number | null)[] {
  const out = new Array<number | null>(xs.length);
  let i = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k]!;
    while (i + 1 < t.length && t[i + 1]! <= x) i++;
    if (t[i] === x) {
      out[k] = v[i] ?? null;
      continue;
    }
    const a = v[i], b = v[i + 1];
    const t0 = t[i], t1 = t[i + 1];
    if (
      t0 === undefined || t1 === undefined || a == null || b == null || !(t0 < x && x < t1) ||
      (gap !== null && t1 - t0 > gap)
    ) {
      out[k] = null;
      continue;
    }
    const y = a + ((b - a) * (x - t0)) / (t1 - t0);
    out[k] = Number(y.toPrecision(4));
  }
  return out;
}

/** One block of several traces: the union of their x, each trace's series after the last's. */
function mergeBlocks(blocks: (DataBlock | undefined)[]): { block: DataBlock; offsets: number[] } {
  const times = blocks.map((b) => (b ? blockTimes(b) : []));
  const xs = [...new Set(times.flat())].sort((a, b) => a - b);
  const s: (number | null)[][] = [];
  const offsets: number[] = [];
  blocks.forEach((b, p) => {
    offsets.push(s.length);
    for (const v of b?.s ?? []) s.push(resample(times[p]!, v, xs, b?.gap ?? null));
  });
  const gaps = blocks.map((b) => b?.gap ?? null);
  const dt = xs.slice(1).map((x, k) => x - xs[k]!);
  return {
    block: {
      t0: xs[0] ?? blocks.find((b) => b)?.t0 ?? 0,
      dt,
      s,
      rows: blocks.reduce((n, b) => n + (b?.rows ?? 0), 0),
      reduced: blocks.some((b) => b?.reduced),
      gap: gaps.includes(null) ? null : Math.max(...(gaps as number[])),
    },
    offsets,
  };
}

/**
 * A bar chart of several traces: each bar once per trace (`name · host`, in the trace's
 * colour), in the order of the first trace's bars.
 */
function mergeBars(base: ChartModel, drawn: (ComparedTab & { c: ChartModel })[]): ChartModel {
  const labels: string[] = [], values: (number | null)[] = [], traces: number[] = [];
  const names = [...new Set(drawn.flatMap((d) => d.c.bars?.labels ?? []))];
  for (const n of names) {
    for (const d of drawn) {
      const k = d.c.bars?.labels.indexOf(n) ?? -1;
      if (k < 0) continue;
      labels.push(`${n} · ${d.name}`);
      values.push(d.c.bars!.values[k] ?? null);
      traces.push(d.slot);
    }
  }
  return { ...base, hidden: undefined, bars: { labels, values, traces } };
}

/**
 * The traces' tabs (built from one plan) as one: the first trace's layout (a chart only some
 * traces have comes where the first of them has it), every trace's data. A heatmap's rows are
 * one trace's (its cores): one heatmap per trace (`id-t<slot>`, titled `… · host`), each over
 * that trace's own block (appended after the merged ones), so that it draws the trace's own
 * samples only.
 */
export function mergeTabs(parts: ComparedTab[]): TabModel {
  const first = parts[0]!.tab;
  const nBlocks = Math.max(...parts.map((p) => p.tab.blocks.length));
  const merged = Array.from(
    { length: nBlocks },
    (_, j) => mergeBlocks(parts.map((p) => p.tab.blocks[j])),
  );
  const blocks = merged.map((m) => m.block);
  const at = (p: number, block: number, i: number) => merged[block]!.offsets[p]! + i;
  const ids = [...new Set(parts.flatMap((p) => p.tab.charts.map((c) => c.id)))];
  const charts = ids.flatMap((id): ChartModel[] => {
    const own = parts.map((p) => p.tab.charts.find((c) => c.id === id));
    const drawn = own.map((c, p) => ({ c, p })).filter((x) => x.c && !x.c.hidden);
    if (drawn.length === 0) return [own.find((c) => c)!];
    const base = drawn[0]!.c!;
    if (base.kind === "bars") {
      return [mergeBars(base, drawn.map(({ c, p }) => ({ c: c!, ...parts[p]! })))];
    }
    if (base.kind === "heatmap") {
      return drawn.map(({ c, p }) => ({
        ...c!,
        id: `${c!.id}-t${parts[p]!.slot}`,
        // its own count of cores ("Per-core CPU (8 cores)"): the plan's is of all traces'
        title: `${c!.title.replace(/\(\d+ cores\)/, `(${c!.series.length} cores)`)} · ${
          parts[p]!.name
        }`,
        block: blocks.push(parts[p]!.tab.blocks[c!.block]!) - 1,
      }));
    }
    const series: SeriesModel[] = drawn.flatMap(({ c, p }) =>
      c!.series.map((s) => ({
        ...s,
        label: `${s.label} · ${parts[p]!.name}`,
        i: at(p, c!.block, s.i),
        trace: parts[p]!.slot,
      }))
    );
    return [{
      ...base,
      series,
      hidden: undefined,
      empty: drawn.every(({ c }) => c!.empty) || undefined,
    }];
  });
  const cards = first.cards.map((c0): CardModel => {
    const own = parts.map((p) => p.tab.cards.find((c) => c.id === c0.id));
    const sparkFrom = own.findIndex((c) => c?.spark != null);
    const spark = sparkFrom < 0 ? null : at(sparkFrom, 0, own[sparkFrom]!.spark!);
    const sparks = own.flatMap((c, k) =>
      c?.spark != null
        ? [{
          i: at(k, 0, c.spark),
          trace: parts[k]!.slot,
          label: `${c.sparkLabel ?? c.label} · ${parts[k]!.name}`,
        }]
        : []
    );
    return {
      ...c0,
      spark,
      sparkLabel: sparkFrom < 0 ? undefined : own[sparkFrom]!.sparkLabel,
      sparks: sparks.length > 0 ? sparks : undefined,
      perTrace: parts.map((p, k) => ({ name: p.name, value: own[k]?.value ?? "—", trace: p.slot })),
    };
  });
  // A merged block no chart draws (the cores' when only heatmaps use them) is left empty.
  const used = new Set([0, ...charts.filter((c) => !c.hidden).map((c) => c.block)]);
  return {
    ...first,
    charts,
    cards,
    blocks: blocks.map((b, j) => (used.has(j) ? b : { ...b, dt: [], s: [] })),
    rows: parts.reduce((n, p) => n + p.tab.rows, 0),
  };
}
