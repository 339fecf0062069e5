// What a trace file says about itself, so that a reader never guesses.
import denoJson from "../../deno.json" with { type: "json" };
import type { ColumnDef } from "../schema/columns.ts";

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

let zone: string | null = null;

/**
 * The recording machine's IANA zone ("UTC" where none is configured): $TZ or the target of
 * /etc/localtime, as the C library reads them; Intl only where neither names one (Intl
 * loads ICU's zone and locale data: about 6 MiB of resident memory for one string).
 */
export function localZone(): string {
  zone ??= zoneFromSystem() ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  return zone;
}

function zoneFromSystem(): string | null {
  const tz = Deno.env.get("TZ");
  let name: string;
  if (tz !== undefined) {
    name = tz.replace(/^:/, "");
    if (!name) return "UTC"; // TZ set but empty: UTC, as the C library reads it
  } else {
    try {
      name = Deno.readLinkSync("/etc/localtime");
    } catch {
      return null;
    }
  }
  // A path into the zone database ("…/zoneinfo/Europe/Berlin", its posix/ and right/
  // copies too) names the zone after it; anything else (a POSIX rule) is Intl's to read.
  const at = name.lastIndexOf("zoneinfo/");
  if (at >= 0) name = name.slice(at + "zoneinfo/".length);
  name = name.replace(/^(posix|right)\//, "");
  if (!isZoneFile(name)) return null;
  return /^(Etc\/)?(UTC|UCT|Universal|Zulu)$/.test(name) ? "UTC" : name;
}

/** An IANA zone name with a file in the zone database (not one of its special files). */
function isZoneFile(name: string): boolean {
  if (!/^[A-Za-z0-9_+\-]+(\/[A-Za-z0-9_+\-]+)*$/.test(name)) return false;
  if (/^(localtime|posixrules|Factory|leapseconds|leap-seconds\.list)$/.test(name)) return false;
  try {
    return Deno.statSync(`/usr/share/zoneinfo/${name}`).isFile;
  } catch {
    return false;
  }
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown"; // no --allow-sys: the name is optional
  }
}
