// A time label: UTC text for a page without script; static/js/time.js rewrites it in the display
// zone, always naming the zone.

import type { PageModel } from "./model.ts";

/** Traces compared from each one's start on this tab: its times are elapsed, not dates. */
export const fromStarts = (m: PageModel) => m.compare?.align === "start" && !!m.compare.drawn;

/** "2024-05-01 12:00:03 UTC". */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function Time({ ms }: { ms: number }) {
  return <time datetime={new Date(ms).toISOString()} data-t={String(ms)}>{utcText(ms)}</time>;
}

/** Time since a start, "+1:02:03" (traces compared from each one's start; not rewritten). */
export function Elapsed({ ms }: { ms: number }) {
  const a = Math.abs(Math.round(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  const text = `${ms < 0 ? "-" : "+"}${Math.floor(a / 3600)}:${pad(Math.floor(a / 60) % 60)}:${
    pad(a % 60)
  }`;
  return <span class="elapsed">{text}</span>;
}

/** A time of the page: elapsed when traces are compared from their starts, else a date. */
export function PageTime({ ms, elapsed }: { ms: number; elapsed: boolean }) {
  return elapsed ? <Elapsed ms={ms} /> : <Time ms={ms} />;
}
