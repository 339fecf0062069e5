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
