// `sysmon proctree PID`: the processes under PID, their threads, and a summary by command.
// Building reads a ProcFs (so tests run over fixture trees); rendering is pure.
import type { ProcFs } from "./proc/fs.ts";
import { parseCmdline, parseProcStat, parseStatusNsPids } from "./proc/parse.ts";
import { fullName } from "./processes.ts";
import { terminalSafe } from "../schema/safe_text.ts";
import { byCommand, flatten, type ProcTree, type TreeNode } from "../schema/proc_tree.ts";

/**
 * The tree, or why there is none: `notFound` as the command line says it; where another
 * process is meant (the process of a thread, a container's PID as seen here), `instead` names
 * it, with the reason alone (a page links to that process rather than naming a command).
 */
export type ProcTreeResult =
  | { tree: ProcTree }
  | { notFound: string; instead?: { pid: number; reason: string } };

/** The tree under `pid`, or why there is none (a message for the user). */
export function buildProcTree(fs: ProcFs, pid: number): ProcTreeResult {
  const rootStat = fs.procRead(`${pid}/stat`);
  if ("missing" in rootStat && rootStat.missing === "gone") return notFound(fs, pid);
  const thread = threadOf(fs, pid);
  if (thread !== null) return thread;

  const nodes = new Map<number, TreeNode>();
  const children = new Map<number, number[]>();
  let unplaced = 0;
  for (const p of fs.pids()) {
    const read = p === pid ? rootStat : fs.procRead(`${p}/stat`);
    if ("missing" in read) {
      if (read.missing === "denied" && p !== pid) unplaced++;
      continue; // gone: it exited during the scan
    }
    const st = parseProcStat(read.text);
    if (st === null) continue;
    nodes.set(p, {
      pid: p,
      ppid: st.ppid,
      name: st.name,
      threads: st.numThreads,
      cmdline: null,
      children: [],
    });
    if (p !== pid) {
      const siblings = children.get(st.ppid);
      if (siblings) siblings.push(p);
      else children.set(st.ppid, [p]);
    }
  }
  const root = nodes.get(pid) ??
    {
      pid,
      ppid: null,
      name: null,
      threads: null,
      cmdline: null,
      error: "permission denied",
      children: [],
    };
  nodes.set(pid, root);
  // Depth first from the root; a pid is visited once whatever the parent links say.
  const seen = new Set<number>([pid]);
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.error === undefined) describe(fs, node);
    for (const c of (children.get(node.pid) ?? []).sort((a, b) => a - b)) {
      if (seen.has(c)) continue;
      seen.add(c);
      const child = nodes.get(c)!;
      node.children.push(child);
      stack.push(child);
    }
  }
  return { tree: { root, unplaced } };
}

/** Completes a node with its command line (and the name argv[0] completes). */
function describe(fs: ProcFs, node: TreeNode) {
  const raw = fs.procRead(`${node.pid}/cmdline`);
  if ("text" in raw) {
    node.cmdline = parseCmdline(raw.text);
    node.name = fullName(node.name ?? "", raw.text);
  }
}

/** The process `instead` of `pid`, said as the command line says it. */
function seeInstead(pid: number, reason: string, cli: string): ProcTreeResult {
  return { notFound: `${reason}${cli}${pid}`, instead: { pid, reason } };
}

/** Why not, when `pid` names a thread rather than a process (/proc/TID exists too). */
function threadOf(fs: ProcFs, pid: number): ProcTreeResult | null {
  const status = fs.proc(`${pid}/status`);
  const tgid = Number(/^Tgid:\s*(\d+)/m.exec(status ?? "")?.[1]);
  if (!Number.isInteger(tgid) || tgid === pid || tgid === 0) return null;
  const name = parseProcStat(fs.proc(`${tgid}/stat`) ?? "")?.name ?? "?";
  return seeInstead(
    tgid,
    `${pid} is a thread of process ${tgid} (${terminalSafe(name)}), not a process`,
    "; try: sysmon proctree ",
  );
}

/**
 * Why no process `pid` is visible: none exists, or this PID namespace does not show it
 * (sysmon in a container sees only the container's processes; PIDs differ from the host's).
 */
function notFound(fs: ProcFs, pid: number): ProcTreeResult {
  const self = parseStatusNsPids(fs.proc("self/status") ?? "");
  if (self !== null && self.length > 1) {
    return {
      notFound: `no process ${pid} is visible: sysmon runs in a nested PID namespace (a ` +
        `container: its PID is ${self.at(-1)} here, ${self[0]} outside) and sees only that ` +
        `namespace's processes; PID ${pid} may exist on the host or in another container. ` +
        `Run sysmon there, or give a PID as seen here`,
    };
  }
  // Seen from the root namespace: perhaps the PID a containerized process has inside.
  for (const p of fs.pids()) {
    const ns = parseStatusNsPids(fs.proc(`${p}/status`) ?? "");
    if (ns !== null && ns.length > 1 && ns.at(-1) === pid) {
      const name = parseProcStat(fs.proc(`${p}/stat`) ?? "")?.name ?? "?";
      return seeInstead(
        p,
        `no process ${pid}; process ${p} (${terminalSafe(name)}) is PID ${pid} inside its ` +
          `own PID namespace (a container)`,
        ": try sysmon proctree ",
      );
    }
  }
  return {
    notFound: self === null
      ? `no process ${pid} (the PID namespace cannot be told: no NSpid in /proc/self/status)`
      : `no process ${pid}`,
  };
}

function totals(tree: ProcTree) {
  const all = flatten(tree);
  return {
    total_processes: all.length,
    total_threads: all.reduce((s, n) => s + (n.threads ?? 0), 0),
  };
}

/**
 * The original tool's JSON (root_pid, processes [{pid, ppid, name, threads}], totals,
 * aggregated_by_command), processes with their command lines, and `unreadable_processes`.
 */
export function procTreeJson(tree: ProcTree) {
  return {
    root_pid: tree.root.pid,
    processes: flatten(tree).map((n) => ({
      pid: n.pid,
      ppid: n.ppid,
      name: n.name,
      threads: n.threads,
      cmdline: n.cmdline,
      ...(n.error ? { error: n.error } : {}),
    })),
    totals: totals(tree),
    aggregated_by_command: byCommand(tree),
    unreadable_processes: tree.unplaced,
  };
}

/**
 * The tree as text: `name(pid) [threads=N]` with guides, then totals and the summary by
 * command. Names and command lines are escaped (`\n`, `\x1b`): they are untrusted text.
 */
export function renderProcTree(tree: ProcTree, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const label = (n: TreeNode) => {
    if (n.error !== undefined) return `?(${n.pid}) [unreadable: ${n.error}]`;
    const text = `${terminalSafe(n.name ?? "?")}(${n.pid}) [threads=${n.threads ?? "?"}]`;
    return opts.verbose && n.cmdline !== null ? `${text}  ${terminalSafe(n.cmdline)}` : text;
  };
  const walk = (n: TreeNode, prefix: string, last: boolean, top: boolean) => {
    lines.push(top ? label(n) : `${prefix}${last ? "└─ " : "├─ "}${label(n)}`);
    const inner = top ? "" : prefix + (last ? "   " : "│  ");
    n.children.forEach((c, i) => walk(c, inner, i === n.children.length - 1, false));
  };
  walk(tree.root, "", true, true);
  const t = totals(tree);
  lines.push(
    "",
    `totals: ${plural(t.total_processes, "process")}, ${plural(t.total_threads, "thread")}`,
  );
  if (tree.unplaced > 0) {
    lines.push(
      `${plural(tree.unplaced, "process")} could not be read (permission denied); ` +
        `they may belong under ${tree.root.pid}`,
    );
  }
  const summary = byCommand(tree);
  if (summary.length > 0) {
    lines.push("by command:", "  threads  processes  command");
    for (const s of summary) {
      lines.push(
        `  ${String(s.total_threads).padStart(7)}  ${String(s.processes).padStart(9)}  ${
          terminalSafe(s.command)
        }`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  return `${n} ${word}${word.endsWith("s") ? "es" : "s"}`;
}
