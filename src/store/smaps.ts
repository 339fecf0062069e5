// Which of the executable's mappings can be handed back with MADV_DONTNEED without changing
// what the process sees: read-only mappings that never held a private copy of a page.
// Dropping such a page only unmaps it; the next access maps the file's page again. A
// mapping with a copied page (relocated RELRO data, a breakpoint), in memory or swapped
// out, would lose it: never. The executable's mappings never move while it runs, so the
// addresses read here stay right.

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  /** Resident KiB; -1 where the line is missing (then the mapping is never dropped). */
  rss: number;
  /** KiB of private copies (copy-on-write or anonymous pages) in memory. */
  anonymous: number;
  /** KiB of private copies swapped out. */
  swap: number;
  /** VmFlags: "ac" (accountable) marks a mapping that was once writable; "lo": locked. */
  flags: string[] | null;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ *(.*)$/;
const FIELD = /^(Rss|Anonymous|Swap):\s+(\d+) kB$/;

/** Parses /proc/PID/smaps; only the fields droppableMappings needs. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | null = null;
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      cur = {
        start: BigInt(`0x${h[1]}`),
        end: BigInt(`0x${h[2]}`),
        perms: h[3]!,
        path: h[4]!,
        rss: -1,
        anonymous: -1,
        swap: -1,
        flags: null,
      };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.startsWith("VmFlags:")) {
      cur.flags = line.slice(8).trim().split(/\s+/);
      continue;
    }
    const f = FIELD.exec(line);
    if (f?.[1] === "Rss") cur.rss = Number(f[2]);
    else if (f?.[1] === "Anonymous") cur.anonymous = Number(f[2]);
    else if (f?.[1] === "Swap") cur.swap = Number(f[2]);
  }
  return out;
}

/** The resident mappings of `file` that are read-only and never held a private page. */
export function droppableMappings(smaps: string, file: string): Mapping[] {
  return parseSmaps(smaps).filter((m) =>
    (m.path === file || m.path === `${file} (deleted)`) &&
    m.rss > 0 && m.anonymous === 0 && m.swap === 0 && !m.perms.includes("w") &&
    m.flags !== null && !m.flags.includes("ac") && !m.flags.includes("lo")
  );
}
