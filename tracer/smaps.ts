// Which of a process's mappings can be handed back with MADV_DONTNEED without changing
// what the process sees: read-only mappings of a file that hold no private copy of any
// page. Dropping such a page only unmaps it; the next access maps the file's page again.
// A mapping with copied pages (RELRO data once relocated, say) would lose them: never.

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  /** Resident KiB. */
  rss: number;
  /** KiB of private copies (copy-on-write or anonymous pages) in this mapping. */
  anonymous: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ *(.*)$/;
const FIELD = /^(Rss|Anonymous):\s+(\d+) kB$/;

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
        rss: 0,
        anonymous: -1, // unknown until its line is seen
      };
      out.push(cur);
      continue;
    }
    const f = cur && FIELD.exec(line);
    if (f && cur) {
      if (f[1] === "Rss") cur.rss = Number(f[2]);
      else cur.anonymous = Number(f[2]);
    }
  }
  return out;
}

/** Resident, read-only mappings of regular files without a single private page. */
export function droppableMappings(smaps: string): Mapping[] {
  return parseSmaps(smaps).filter((m) =>
    m.rss > 0 && m.anonymous === 0 && !m.perms.includes("w") && m.path.startsWith("/") &&
    !m.path.startsWith("/dev/") // device memory is not the page cache's
  );
}
