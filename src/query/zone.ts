// Time zone names: this machine's (the server's), and one a user gives, made canonical. Both
// are always names Temporal knows.
import { Refusal } from "../schema/refusal.ts";
import { Temporal } from "temporal-polyfill";
import { localZone } from "../store/metadata.ts";

let machine: string | null = null;

/** This machine's zone: the tracer's reading of $TZ or /etc/localtime, else Intl's, else UTC. */
export function serverZone(): string {
  if (machine) return machine;
  for (const z of [localZone(), Intl.DateTimeFormat().resolvedOptions().timeZone]) {
    if (!z) continue;
    if (/^(UTC|Z)$/i.test(z)) return (machine = "UTC");
    try {
      return (machine = Temporal.Now.zonedDateTimeISO(z).timeZoneId);
    } catch { /* a name the zone database has and Temporal does not: the next */ }
  }
  return (machine = "UTC");
}

/** A zone as given by a user ("UTC", "local" for this server's, an IANA name), canonical. */
export function resolveZone(zone: string): string {
  const z = zone.trim();
  if (z.toLowerCase() === "local") return serverZone();
  if (z.toUpperCase() === "UTC" || z === "Z") return "UTC";
  try {
    return Temporal.Now.zonedDateTimeISO(z).timeZoneId;
  } catch {
    throw new Refusal(
      "bad_input",
      `unknown time zone '${zone}': use UTC, local, or an IANA name such as Europe/Berlin`,
    );
  }
}

/**
 * A row's instant, epoch ms: UTC micros, or naive wall micros in the recording zone (or a
 * Date). Whole milliseconds, cut as the data layer cuts them (epoch_ms), so that a sample
 * read live and the same sample read from the file later have the same time.
 */
export function instant(ts: unknown, utc: boolean, zone: string): number {
  let wallMs: number;
  if (ts instanceof Date) wallMs = ts.getTime();
  else if (typeof ts === "bigint") wallMs = Number(ts / 1000n - (ts % 1000n < 0n ? 1n : 0n));
  else if (typeof ts === "number") wallMs = Math.floor(ts / 1000);
  else return Date.now();
  if (utc) return wallMs;
  try {
    const pdt = Temporal.Instant.fromEpochMilliseconds(wallMs)
      .toZonedDateTimeISO("UTC").toPlainDateTime();
    return pdt.toZonedDateTime(zone).epochMilliseconds;
  } catch {
    return wallMs;
  }
}
