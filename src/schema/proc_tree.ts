// A process tree as collect/proctree.ts builds it and the views draw it, and its walks.

export interface TreeNode {
  pid: number;
  /** Null only for a root that could not be read. */
  ppid: number | null;
  name: string | null;
  threads: number | null;
  /** Null for a kernel thread, a zombie, or a command line that could not be read. */
  cmdline: string | null;
  /** Why the process could not be read ("permission denied"); absent when it could. */
  error?: string;
  /** Sorted by pid. */
  children: TreeNode[];
}

export interface ProcTree {
  root: TreeNode;
  /** Processes whose stat could not be read: their parents, so their places, are unknown. */
  unplaced: number;
}

/** The tree's processes, root first, depth first (parents before children). */
export function flatten(tree: ProcTree): TreeNode[] {
  const out: TreeNode[] = [];
  const walk = (n: TreeNode) => {
    out.push(n);
    for (const c of n.children) walk(c);
  };
  walk(tree.root);
  return out;
}

export interface CommandSummary {
  command: string;
  processes: number;
  total_threads: number;
}

/** Processes and threads by command name, most threads first (unreadable ones left out). */
export function byCommand(tree: ProcTree): CommandSummary[] {
  const by = new Map<string, CommandSummary>();
  for (const n of flatten(tree)) {
    if (n.name === null) continue;
    const s = by.get(n.name) ?? { command: n.name, processes: 0, total_threads: 0 };
    s.processes++;
    s.total_threads += n.threads ?? 0;
    by.set(n.name, s);
  }
  return [...by.values()].sort((a, b) =>
    b.total_threads - a.total_threads || b.processes - a.processes ||
    (a.command < b.command ? -1 : a.command > b.command ? 1 : 0)
  );
}
