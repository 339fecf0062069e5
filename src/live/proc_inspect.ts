// The Process Tree tab's reads of this machine's /proc (through a ProcFs, so tests can use a
// fixture tree): find processes by name or command line, the tree under a PID (built by
// src/collect/proctree.ts, whose messages say why a PID cannot be seen), snapshots to compare with.
import type { ProcFs } from "../collect/proc/fs.ts";
import { parseCmdline, parseProcStat, parseStatusUid } from "../collect/proc/parse.ts";
import { fullName, UserNames } from "../collect/processes.ts";
import { flatten, type ProcTree, type TreeNode } from "../schema/proc_tree.ts";
import type { ProcMatch, SnapProcess, TreeDiff } from "../views/model_types.ts";
export type { ProcMatch, SnapProcess, TreeDiff } from "../views/model_types.ts";

/** Matches listed at most. */
export const MAX_MATCHES = 50;

/** The processes whose name or command line holds `query` (case-insensitive), by PID. */
export function findProcesses(
  fs: ProcFs,
  users: UserNames,
  query: string,
  limit = MAX_MATCHES,
): { matches: ProcMatch[]; more: boolean } {
  const q = query.trim().toLowerCase();
  const matches: ProcMatch[] = [];
  if (q === "") return { matches, more: false };
  let more = false;
  for (const pid of fs.pids().sort((a, b) => a - b)) {
    const stat = fs.procRead(`${pid}/stat`);
    if (!("text" in stat)) continue; // exited, or not ours to read
    const st = parseProcStat(stat.text);
    if (st === null) continue;
    const raw = fs.procRead(`${pid}/cmdline`);
    const rawText = "text" in raw ? raw.text : null;
    const cmdline = rawText === null ? null : parseCmdline(rawText);
    const name = fullName(st.name, rawText);
    if (!name.toLowerCase().includes(q) && !(cmdline ?? "").toLowerCase().includes(q)) continue;
    if (matches.length >= limit) {
      more = true;
      break;
    }
    const uid = parseStatusUid(fs.proc(`${pid}/status`) ?? "");
    matches.push({
      pid,
      user: uid === null ? null : users.name(uid),
      threads: st.numThreads,
      name,
      cmdline,
    });
  }
  return { matches, more };
}

/** User names of a ProcFs's machine (its /etc/passwd). */
export function userNames(fs: ProcFs): UserNames {
  return new UserNames(() => fs.etc("passwd"), () => Date.now());
}

export interface TreeSnapshot {
  pid: number;
  /** Epoch ms. */
  at: number;
  processes: SnapProcess[];
}

export function snapshotOf(tree: ProcTree, at: number): TreeSnapshot {
  return {
    pid: tree.root.pid,
    at,
    processes: flatten(tree).map((n: TreeNode) => ({
      pid: n.pid,
      ppid: n.ppid,
      name: n.name ?? "?",
      threads: n.threads,
    })),
  };
}

/** What changed between a snapshot and now: processes added and removed, thread counts. */
export function diffSnapshots(before: TreeSnapshot, after: TreeSnapshot): TreeDiff {
  const old = new Map(before.processes.map((p) => [p.pid, p]));
  const now = new Map(after.processes.map((p) => [p.pid, p]));
  const out: TreeDiff = {
    added: [],
    removed: [],
    threads: [],
    before: before.processes.length,
    after: after.processes.length,
  };
  for (const p of after.processes) {
    const o = old.get(p.pid);
    // The same PID with another name is another process (the PID was reused).
    if (!o || o.name !== p.name) out.added.push(p);
    else if (o.threads !== p.threads) {
      out.threads.push({ pid: p.pid, name: p.name, before: o.threads, after: p.threads });
    }
  }
  for (const p of before.processes) {
    const n = now.get(p.pid);
    if (!n || n.name !== p.name) out.removed.push(p);
  }
  return out;
}

/** The last snapshot taken of each root PID (a few, the oldest forgotten first). */
export class TreeSnapshots {
  private map = new Map<number, TreeSnapshot>();

  constructor(private readonly max = 32) {}

  take(s: TreeSnapshot) {
    this.map.delete(s.pid);
    this.map.set(s.pid, s);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  get(pid: number): TreeSnapshot | null {
    return this.map.get(pid) ?? null;
  }
}
