// What a trace file says about itself, so that a reader never guesses.
import denoJson from "../deno.json" with { type: "json" };
import type { ColumnDef } from "./columns.ts";

export const VERSION: string = denoJson.version;

export interface TraceInfo {
  utc: boolean;
  sampleInterval: number;
  traceId: string;
}

/** Key-value metadata of a trace (Parquet footer; the CSV sidecar). */
export function traceMetadata(
  info: TraceInfo,
  columns: ColumnDef[],
  extra: Record<string, string> = {},
): Record<string, string> {
  const units: Record<string, string> = {};
  for (const c of columns) if (c.unit) units[c.name] = c.unit;
  return {
    "sysmon.version": VERSION,
    "sysmon.timezone": info.utc ? "UTC" : "local",
    "sysmon.tz_name": localZone(),
    "sysmon.host": hostname(),
    "sysmon.sample_interval_s": String(info.sampleInterval),
    "sysmon.trace_id": info.traceId,
    "sysmon.units": JSON.stringify(units),
    ...extra,
  };
}

export function newTraceId(): string {
  return crypto.randomUUID();
}

/** The recording machine's IANA zone ("UTC" where none is configured). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown"; // no --allow-sys: the name is optional
  }
}
