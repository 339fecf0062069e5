// The Process Tree tab: the processes under a PID of this machine, found by PID or by name,
// as text or as a graph (laid out by src/views/tree_layout.ts), with totals, processes and
// threads by command, and a comparison with a snapshot taken earlier.
// Names and command lines are untrusted: they are text nodes and attribute values (escaped),
// with control and bidi characters shown as escapes (terminalSafe).
import { flatten, type TreeNode } from "../schema/proc_tree.ts";
import { terminalSafe } from "../schema/safe_text.ts";
import type { CompareModel, MatchesModel, PageModel } from "./model.ts";
import { pageUrl, stateQuery, type ViewState, viewUrl } from "./state.ts";
import { Time } from "./time.tsx";
import { layoutTree, nodeLabel } from "./tree_layout.ts";

const cut = (text: string, max: number) => text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** Shown text of a name or command line: control characters as escapes, cut to `max`. */
const shown = (
  text: string | null,
  max: number,
) => (text === null ? "" : cut(terminalSafe(text), max));

/** The view's state as hidden fields (all but what the form itself sets). */
function StateFields({ s, except }: { s: ViewState; except: string[] }) {
  const q = stateQuery({ ...s, tab: "proctree" });
  return (
    <>
      {[...q].filter(([k]) => !except.includes(k)).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
    </>
  );
}

export function ProcTreePanel({ m }: { m: PageModel }) {
  const s = m.state;
  const p = m.proctree!;
  const tree = "tree" in p.result ? p.result.tree : null;
  return (
    <div class="proctree">
      <div class="pt-controls">
        <form class="pt-form" action="/" method="get" hx-get="/tab/proctree" hx-target="#view">
          <StateFields s={s} except={["pid", "tab"]} />
          <label class="field inline">
            <span class="label">PID</span>
            <input type="number" name="pid" min="1" step="1" value={String(p.pid)} required />
          </label>
          <button type="submit" class="primary">Inspect</button>
          {m.errors.pid ? <p class="error">{m.errors.pid}</p> : null}
        </form>
        <label class="field pt-find">
          <span class="label">Find PID by name or command line</span>
          <input
            type="search"
            name="q"
            placeholder="e.g. python, nginx, my-job.sh"
            autocomplete="off"
            spellcheck={false}
            hx-get="/ui/proctree/find"
            hx-trigger="input changed delay:300ms, search"
            hx-target="#pt-matches"
            hx-swap="outerHTML"
            hx-include=".pt-form"
          />
        </label>
        <Matches m={null} />
      </div>
      {"notFound" in p.result
        ? (
          <div class="problem error" role="alert">
            <h2>PID {String(p.pid)} cannot be shown</h2>
            {p.result.instead
              ? (
                <>
                  <p class="message">{p.result.instead.reason}.</p>
                  <p>
                    <a
                      class="button"
                      href={pageUrl({ ...s, pid: p.result.instead.pid })}
                      hx-get={viewUrl({ ...s, pid: p.result.instead.pid })}
                      hx-target="#view"
                    >
                      Show the tree of process {String(p.result.instead.pid)}
                    </a>
                  </p>
                </>
              )
              : <p class="message">{p.result.notFound}</p>}
          </div>
        )
        : (
          <>
            <Totals nodes={flatten(p.result.tree)} unplaced={p.result.tree.unplaced} />
            <div class="pt-bars">
              <Bars
                title="Processes by command"
                rows={p.result.summary.map((c) => ({ label: c.command, value: c.processes }))}
              />
              <Bars
                title="Threads by command"
                rows={p.result.summary.map((c) => ({ label: c.command, value: c.total_threads }))}
              />
            </div>
            <nav class="segmented pt-views" aria-label="Tree view">
              {(["text", "graph"] as const).map((v) => (
                <a
                  href={pageUrl({ ...s, ptview: v })}
                  hx-get={viewUrl({ ...s, ptview: v })}
                  aria-current={s.ptview === v ? "page" : undefined}
                >
                  {v === "text" ? "Text view" : "Graph view"}
                </a>
              ))}
            </nav>
            {s.ptview === "graph" && tree ? <Graph root={tree.root} /> : null}
            {s.ptview === "text" && tree ? <TextTree root={tree.root} /> : null}
          </>
        )}
      <section class="pt-snap">
        <h3>Snapshot</h3>
        <p class="hint">
          Take a snapshot of this tree, then compare: processes added and removed, thread counts
          that changed.
        </p>
        <div class="buttons">
          <button
            type="button"
            hx-post="/ui/proctree/snapshot"
            name="pid"
            value={String(p.pid)}
            hx-target="#pt-compare"
            hx-swap="outerHTML"
            disabled={tree === null}
          >
            Take snapshot
          </button>
          <button
            type="button"
            hx-get={`/ui/proctree/compare?pid=${p.pid}`}
            hx-target="#pt-compare"
            hx-swap="outerHTML"
          >
            Compare to snapshot
          </button>
        </div>
        <Compare
          c={{ pid: p.pid, at: p.snapshot?.at ?? null, diff: null, message: null }}
          count={p.snapshot?.count}
        />
      </section>
    </div>
  );
}

function Totals({ nodes, unplaced }: { nodes: TreeNode[]; unplaced: number }) {
  const threads = nodes.reduce((s, n) => s + (n.threads ?? 0), 0);
  return (
    <p class="pt-totals">
      Total Processes: <strong>{nodes.length.toLocaleString("en-US")}</strong> • Total Threads:{" "}
      <strong>{threads.toLocaleString("en-US")}</strong>
      {unplaced > 0
        ? (
          <span class="hint">
            {` (${unplaced} processes could not be read: permission denied; they may belong here)`}
          </span>
        )
        : null}
    </p>
  );
}

/** Horizontal bars as SVG (no script, no inline style): the 15 largest. */
export function Bars({ title, rows }: { title: string; rows: { label: string; value: number }[] }) {
  const top = [...rows].sort((a, b) => b.value - a.value).slice(0, 15);
  const max = Math.max(1, ...top.map((r) => r.value));
  const W = 480, labelW = 180, rowH = 20, valueW = 56;
  const H = Math.max(24, top.length * rowH + 8);
  return (
    <figure class="pt-bars-fig">
      <figcaption>{title}</figcaption>
      <svg class="bars" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {top.map((r, i) => {
          const w = Math.max(1, ((W - labelW - valueW) * r.value) / max);
          const y = 4 + i * rowH;
          return (
            <g class="bar">
              <title>{`${terminalSafe(r.label)}: ${r.value}`}</title>
              <text
                class="bar-label"
                x={labelW - 6}
                y={y + rowH / 2}
                text-anchor="end"
                dominant-baseline="middle"
              >
                {shown(r.label, 26)}
              </text>
              <rect x={labelW} y={y + 3} width={w.toFixed(1)} height={rowH - 6} rx="2" />
              <text
                class="bar-value"
                x={(labelW + w + 4).toFixed(1)}
                y={y + rowH / 2}
                dominant-baseline="middle"
              >
                {r.value.toLocaleString("en-US")}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** `name(pid) [threads=N]` with ├─ └─ │ guides, and each command line. */
export function TextTree({ root }: { root: TreeNode }) {
  const lines: { guide: string; node: TreeNode }[] = [];
  const stack: { node: TreeNode; prefix: string; last: boolean; top: boolean }[] = [
    { node: root, prefix: "", last: true, top: true },
  ];
  while (stack.length > 0) {
    const { node, prefix, last, top } = stack.pop()!;
    lines.push({ node, guide: top ? "" : `${prefix}${last ? "└─ " : "├─ "}` });
    const inner = top ? "" : prefix + (last ? "   " : "│  ");
    for (let i = node.children.length - 1; i >= 0; i--) {
      stack.push({
        node: node.children[i]!,
        prefix: inner,
        last: i === node.children.length - 1,
        top: false,
      });
    }
  }
  return (
    <pre class="pt-text" aria-label="Process tree">
      {lines.map(({ guide, node }) => (
        <span class="pt-line" data-pid={String(node.pid)}>
          <span class="pt-guide">{guide}</span>
          {node.error !== undefined
            ? <span class="pt-name">?({String(node.pid)}) [unreadable: {node.error}]</span>
            : (
              <>
                <span class="pt-name">{shown(node.name ?? "?", 200)}</span>
                ({String(node.pid)}) [threads={String(node.threads ?? "?")}]
                {node.cmdline ? <span class="pt-cmd">{`  ${shown(node.cmdline, 160)}`}</span> : null}
              </>
            )}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}

/** The tree as an SVG laid out on the server; static/js/proctree.js shows a clicked node. */
export function Graph({ root }: { root: TreeNode }) {
  const l = layoutTree(root);
  return (
    <div class="pt-graph-box">
      <p class="hint">
        Nodes are sized by threads; click one (or focus it and press Enter) for its details.
        {l.omitted > 0
          ? ` The first ${l.nodes.length} processes are drawn; ${l.omitted} more are in the text view.`
          : ""}
      </p>
      <div class="pt-graph-wrap">
        <svg
          class="pt-graph"
          viewBox={`0 0 ${l.width} ${l.height}`}
          width={String(l.width)}
          height={String(l.height)}
          role="group"
          aria-label="Process tree graph"
        >
          <g class="pt-edges">
            {l.edges.map(({ from, to }) => {
              const mid = (from.x + to.x) / 2;
              return (
                <path d={`M${from.x},${from.y} C${mid},${from.y} ${mid},${to.y} ${to.x},${to.y}`} />
              );
            })}
          </g>
          <g class="pt-nodes">
            {l.nodes.map((n) => {
              const d = n.node;
              return (
                <g
                  class={`pt-node${d.error !== undefined ? " unreadable" : ""}`}
                  transform={`translate(${n.x},${n.y})`}
                  tabindex="0"
                  role="button"
                  data-pid={String(d.pid)}
                  data-ppid={d.ppid === null ? "?" : String(d.ppid)}
                  data-name={terminalSafe(d.name ?? "?")}
                  data-threads={d.threads === null ? "?" : String(d.threads)}
                  data-cmd={d.cmdline === null ? "" : terminalSafe(d.cmdline)}
                  data-error={d.error}
                >
                  <title>{terminalSafe(nodeLabel(d, 200))}</title>
                  <circle r={n.r.toFixed(1)} />
                  <text x={(n.r + 4).toFixed(1)} dy="0.35em">{terminalSafe(nodeLabel(d))}</text>
                </g>
              );
            })}
          </g>
        </svg>
      </div>
      <div id="pt-detail" class="pt-detail" role="status">Click a node for its details.</div>
    </div>
  );
}

/** Matches of the Find field (their links inspect the PID). */
export function Matches({ m }: { m: MatchesModel | null }) {
  return (
    <div id="pt-matches" class="pt-matches">
      {m && m.query.trim() !== "" && m.matches.length === 0
        ? <p class="hint">No process matches “{m.query}”.</p>
        : null}
      {m && m.matches.length > 0
        ? (
          <ul>
            {m.matches.map((p) => {
              const s = { ...m.state, tab: "proctree" as const, pid: p.pid };
              return (
                <li>
                  <a
                    href={pageUrl(s)}
                    hx-get={viewUrl(s)}
                    hx-target="#view"
                    data-pid={String(p.pid)}
                  >
                    {`${p.pid} • ${p.user ?? "?"} • thr=${p.threads ?? "?"} • ${shown(p.name, 80)}`}
                    {p.cmdline ? <span class="pt-cmd">{` — ${shown(p.cmdline, 160)}`}</span> : null}
                  </a>
                </li>
              );
            })}
          </ul>
        )
        : null}
      {m?.more
        ? <p class="hint">The first {m.matches.length} matches; type more to narrow.</p>
        : null}
    </div>
  );
}

const pidList = (list: { pid: number; name: string }[]) =>
  list.slice(0, 100).map((p) => `${terminalSafe(p.name)}(${p.pid})`).join(", ") +
  (list.length > 100 ? `, … ${list.length - 100} more` : "");

/** The snapshot's state, or what changed since it. */
export function Compare({ c, count }: { c: CompareModel; count?: number }) {
  const d = c.diff;
  return (
    <div id="pt-compare" class="pt-compare">
      {c.message
        ? <p class={c.message.kind === "error" ? "error" : "ok"}>{c.message.text}</p>
        : null}
      {c.at !== null && !d
        ? (
          <p>
            Snapshot of PID {String(c.pid)} taken at <Time ms={c.at} />
            {count !== undefined ? `: ${count} processes` : ""}.
          </p>
        )
        : null}
      {c.at === null && !c.message
        ? <p class="hint">No snapshot of PID {String(c.pid)} yet.</p>
        : null}
      {d && c.at !== null
        ? (
          <div class="pt-diff">
            <p>
              Since the snapshot at <Time ms={c.at} />: {String(d.before)} processes then,{" "}
              {String(d.after)} now.
            </p>
            <p class="added">
              <strong>Added ({String(d.added.length)}):</strong>{" "}
              {d.added.length ? pidList(d.added) : "none"}
            </p>
            <p class="removed">
              <strong>Removed ({String(d.removed.length)}):</strong>{" "}
              {d.removed.length ? pidList(d.removed) : "none"}
            </p>
            <p class="threads">
              <strong>Thread changes ({String(d.threads.length)}):</strong> {d.threads.length
                ? d.threads.slice(0, 100).map((t) =>
                  `${terminalSafe(t.name)}(${t.pid}) ${t.before ?? "?"} → ${t.after ?? "?"}`
                ).join(", ")
                : "none"}
            </p>
          </div>
        )
        : null}
    </div>
  );
}
