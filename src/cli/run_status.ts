// How `sysmon run` tells the user what it is doing.
import { formatMicros } from "../store/csv_sink.ts";
import type { ProcessRecord, Row } from "../schema/columns.ts";
import { terminalSafe } from "../schema/safe_text.ts";
import { basename } from "node:path";
import { fitParts, plural } from "./live_line.ts";
import type { MonitorStatus, MonitorSummary } from "../tracer/monitor.ts";

export function formatBytes(n: number | null): string {
  if (n === null) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

const clock = (d: Date | null) => d ? d.toTimeString().slice(0, 8) : "never";

/**
 * The one live status line shown on a terminal, at most `width` columns: the unreadable
 * sources go first, then the output's directory, the last write's time, the file size and the
 * output's name; the samples and a write error stay (the error cut to fit).
 */
export function statusLine(s: MonitorStatus, width = Infinity): string {
  const output = terminalSafe(s.output);
  const samples = plural(s.samples, "sample");
  const rows = `${plural(s.rowsWritten, "row")} written`;
  const size = formatBytes(s.fileBytes);
  const last = `last write ${clock(s.lastWrite)}`;
  const unavailable = s.unavailable.length
    ? `unavailable: ${terminalSafe(s.unavailable.join(", "))}`
    : null;
  const error = s.error ? `ERROR: ${terminalSafe(s.error)}` : null;
  const full = `sysmon → ${output}`;
  const short = `sysmon → ${basename(output)}`;
  return fitParts([
    [full, samples, rows, size, last, unavailable, error],
    [full, samples, rows, size, last, error],
    [short, samples, rows, size, last, error],
    [short, samples, rows, size, error],
    [short, samples, rows, error],
    [samples, rows, error],
    [samples, error],
  ], width);
}

/** One log line per write, when the output is not a terminal. */
export function writeLogLine(s: MonitorStatus): string {
  const when = new Date().toISOString();
  if (s.error) {
    return `${when} write failed: ${s.error} (${plural(s.samples, "sample")} kept, retrying)`;
  }
  return `${when} wrote ${plural(s.rowsWritten, "row")} to ${s.output} (${
    formatBytes(s.fileBytes)
  })`;
}

export function summaryLine(s: MonitorSummary): string {
  const outcome = s.error ? `; last write FAILED: ${s.error}` : "";
  const took = `sysmon: ${plural(s.samples, "sample")} in ${s.seconds.toFixed(1)} s`;
  if (s.fileBytes === null) return `${took}; ${s.output} was not written${outcome}`;
  return `${took}; ${plural(s.rowsWritten, "row")} in ${s.output} (${
    formatBytes(s.fileBytes)
  })${outcome}`;
}

/** A row as JSON: timestamps as ISO text without a zone (as recorded). */
export function rowToJson(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = k === "timestamp" && typeof v === "number" ? formatMicros(v).replace(" ", "T") : v;
  }
  return out;
}

/** The `processes` field of a row as a table for the terminal (names escaped). */
export function processTable(list: ProcessRecord[]): string {
  const num = (v: number | null, digits = 1) => v === null ? "-" : v.toFixed(digits);
  const rate = (v: number | null) => v === null ? "-" : `${formatBytes(Math.round(v))}/s`;
  const rows = list.map((p) => [
    String(p.pid),
    num(p.cpu_percent),
    formatBytes(p.rss_bytes),
    p.threads === null ? "-" : String(p.threads),
    rate(p.read_bytes_per_sec),
    rate(p.write_bytes_per_sec),
    terminalSafe(p.user ?? "-"),
    terminalSafe(p.container ?? "-"),
    terminalSafe(p.name),
  ]);
  const head = ["pid", "cpu%", "rss", "threads", "read", "write", "user", "container", "name"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i < 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join("  ")
      .trimEnd() + "\n";
  return `processes (top by CPU and by memory, busiest first):\n${line(head)}${
    rows.map(line).join("")
  }`;
}
