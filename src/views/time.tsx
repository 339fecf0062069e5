// A time label: UTC text for a page without script; static/js/time.js rewrites it in the display
// zone, always naming the zone.

/** "2024-05-01 12:00:03 UTC". */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function Time({ ms }: { ms: number }) {
  return <time datetime={new Date(ms).toISOString()} data-t={String(ms)}>{utcText(ms)}</time>;
}
