// Naive wall times of a zone as instants. DuckDB holds the stored timestamps; every answer is
// epoch ms UTC. Naive wall times are converted by one SQL CASE over the zone's offset
// transitions within the trace (computed once per version and zone with Temporal), not a
// Temporal object per row:
// - a wall time that occurs twice (the hour after daylight saving time ends) is read as its
//   first occurrence (Temporal's "compatible", i.e. the earlier instant);
// - a wall time that never occurs (the hour skipped when it starts; no clock shows one) is
//   read with the offset before the change, i.e. shifted forward by the gap, also
//   "compatible": 02:30 on 2026-03-29 in Europe/Berlin is 01:30Z, as 03:30 CEST is.
import { Temporal } from "temporal-polyfill";

interface Segment {
  /** Wall time (naive ms) up to which `offset` applies, exclusive. */
  until: number;
  /** Zone offset, ms (wall - instant). */
  offset: number;
}

const DAY_MS = 86_400_000;

/** Naive wall times of one zone to instants, over a span of wall times. */
export class WallClock {
  readonly zone: string;
  readonly segments: Segment[];
  /** Wall time ranges that occur twice (daylight saving time ended). */
  readonly repeated: { from: number; to: number }[];

  private constructor(zone: string, segments: Segment[], repeated: { from: number; to: number }[]) {
    this.zone = zone;
    this.segments = segments;
    this.repeated = repeated;
  }

  /** The offsets of `zone` for wall times from `wMin` to `wMax` (naive ms). */
  static of(zone: string, wMin: number, wMax: number): WallClock {
    if (zone === "UTC") return new WallClock(zone, [{ until: Infinity, offset: 0 }], []);
    const end = wMax + 2 * DAY_MS;
    let at = Temporal.Instant.fromEpochMilliseconds(wMin - 2 * DAY_MS).toZonedDateTimeISO(zone);
    let offset = at.offsetNanoseconds / 1e6;
    const segments: Segment[] = [];
    const repeated: { from: number; to: number }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const next = at.getTimeZoneTransition("next");
      if (!next || next.epochMilliseconds > end) break;
      const after = next.offsetNanoseconds / 1e6;
      const t = next.epochMilliseconds;
      // Wall times before T + max(before, after) keep the old offset: in a repeated hour
      // that is the first occurrence, in a skipped hour a shift forward (both "compatible").
      segments.push({ until: t + Math.max(offset, after), offset });
      if (after < offset) repeated.push({ from: t + after, to: t + offset });
      offset = after;
      at = next;
    }
    segments.push({ until: Infinity, offset });
    return new WallClock(zone, segments, repeated);
  }

  /** The instant (epoch ms) of wall time `w` (naive ms). */
  toInstant(w: number): number {
    for (const s of this.segments) if (w < s.until) return w - s.offset;
    return w; // unreachable: the last segment is unbounded
  }

  /** SQL for the offset (ms) of the wall time in column `w`. */
  offsetSql(w: string): string {
    if (this.segments.length === 1) return String(this.segments[0]!.offset);
    const whens = this.segments.slice(0, -1).map((s) => `WHEN ${w} < ${s.until} THEN ${s.offset}`);
    return `(CASE ${whens.join(" ")} ELSE ${this.segments.at(-1)!.offset} END)`;
  }

  get minOffset(): number {
    return Math.min(...this.segments.map((s) => s.offset));
  }

  get maxOffset(): number {
    return Math.max(...this.segments.map((s) => s.offset));
  }
}
