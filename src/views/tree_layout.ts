// Where each process of a tree goes in the Process Tree tab's graph: a pure function of the
// tree (the server draws the SVG; the page only shows it). Left to right by depth, one row
// per leaf in depth-first order, a parent centred on its children; nodes sized by threads.
import type { TreeNode } from "../schema/proc_tree.ts";

export interface LaidNode {
  node: TreeNode;
  x: number;
  y: number;
  /** Radius: grows with the square root of the threads (1 thread: 5 px; at most 16). */
  r: number;
  depth: number;
}

export interface TreeLayout {
  nodes: LaidNode[];
  edges: { from: LaidNode; to: LaidNode }[];
  width: number;
  height: number;
  /** Processes left out (beyond maxNodes). */
  omitted: number;
}

export interface LayoutOptions {
  /** Nodes drawn at most (depth first from the root); default 400. */
  maxNodes?: number;
  /** Distance between depths, px (room for the labels); default 260. */
  column?: number;
  /** Distance between rows, px; default 26. */
  row?: number;
  /** Room left of the root and right of the deepest label, px. */
  margin?: number;
}

export function nodeRadius(threads: number | null): number {
  return Math.min(16, 4 + Math.sqrt(Math.max(1, threads ?? 1)));
}

export function layoutTree(root: TreeNode, opts: LayoutOptions = {}): TreeLayout {
  const maxNodes = opts.maxNodes ?? 400;
  const column = opts.column ?? 260;
  const row = opts.row ?? 26;
  const margin = opts.margin ?? 20;
  const nodes: LaidNode[] = [];
  const edges: TreeLayout["edges"] = [];
  let leaves = 0;
  let total = 0;
  let maxDepth = 0;
  const count = (n: TreeNode): number => 1 + n.children.reduce((s, c) => s + count(c), 0);
  total = count(root);
  // Depth first, iteratively (a deep chain must not overflow the stack): place a leaf on the
  // next row; a parent, once its children are placed, between its first and last child.
  type Frame = { node: TreeNode; depth: number; laid: LaidNode; kids: LaidNode[]; next: number };
  const place = (node: TreeNode, depth: number): Frame => {
    const laid: LaidNode = {
      node,
      x: margin + depth * column,
      y: 0,
      r: nodeRadius(node.threads),
      depth,
    };
    nodes.push(laid);
    maxDepth = Math.max(maxDepth, depth);
    return { node, depth, laid, kids: [], next: 0 };
  };
  const stack: Frame[] = [place(root, 0)];
  while (stack.length > 0) {
    const f = stack.at(-1)!;
    if (f.next < f.node.children.length && nodes.length < maxNodes) {
      const child = place(f.node.children[f.next++]!, f.depth + 1);
      f.kids.push(child.laid);
      edges.push({ from: f.laid, to: child.laid });
      stack.push(child);
      continue;
    }
    stack.pop();
    if (f.kids.length === 0) f.laid.y = margin + row * leaves++;
    else f.laid.y = (f.kids[0]!.y + f.kids.at(-1)!.y) / 2;
  }
  return {
    nodes,
    edges,
    width: margin * 2 + maxDepth * column + column,
    height: margin * 2 + Math.max(0, leaves - 1) * row,
    omitted: total - nodes.length,
  };
}

/** The label of a node: `name(pid) t=N`, the name cut to `max` characters. */
export function nodeLabel(n: TreeNode, max = 24): string {
  if (n.error !== undefined) return `?(${n.pid}) unreadable`;
  const name = n.name ?? "?";
  const cut = name.length > max ? `${name.slice(0, max - 1)}…` : name;
  return `${cut}(${n.pid}) t=${n.threads ?? "?"}`;
}
