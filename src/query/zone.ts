// This machine's time zone for the server: the tracer's reading of $TZ or /etc/localtime,
// else Intl's, else UTC; canonical, and always one Temporal knows.
import { Temporal } from "temporal-polyfill";
import { localZone } from "../store/metadata.ts";

let zone: string | null = null;

export function serverZone(): string {
  if (zone) return zone;
  for (const z of [localZone(), Intl.DateTimeFormat().resolvedOptions().timeZone]) {
    if (!z) continue;
    if (/^(UTC|Z)$/i.test(z)) return (zone = "UTC");
    try {
      return (zone = Temporal.Now.zonedDateTimeISO(z).timeZoneId);
    } catch { /* a name the zone database has and Temporal does not: the next */ }
  }
  return (zone = "UTC");
}
