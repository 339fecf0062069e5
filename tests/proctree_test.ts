import assert from "node:assert/strict";
import { ProcFs, type ProcRead, type Roots } from "../src/collect/proc/fs.ts";
import { parseStatusNsPids } from "../src/collect/proc/parse.ts";
import { buildProcTree, procTreeJson, renderProcTree } from "../src/collect/proctree.ts";
import type { ProcTree } from "../src/schema/proc_tree.ts";
import { copySync } from "./copy.ts";
import { sysmon, tempDir, waitFor } from "./helpers.ts";

const FIXTURE_PROCS = new URL("./fixtures/procs", import.meta.url).pathname;

function fixture(): Roots & { root: string } {
  const root = tempDir();
  copySync(FIXTURE_PROCS, root);
  return { proc: `${root}/proc`, sys: `${root}/sys`, root };
}

function tree(fs: ProcFs, pid: number): ProcTree {
  const r = buildProcTree(fs, pid);
  if ("notFound" in r) throw new Error(r.notFound);
  return r.tree;
}

/** A /proc whose listed files answer "permission denied" (as hidepid or another user's). */
class DeniedFs extends ProcFs {
  readonly denied: Set<string>;
  constructor(roots: Roots, denied: string[]) {
    super(roots);
    this.denied = new Set(denied);
  }
  override procRead(rel: string): ProcRead {
    return this.denied.has(rel) ? { missing: "denied" } : super.procRead(rel);
  }
}

Deno.test("renderProcTree() draws the tree with guides, escaped names, totals and commands", () => {
  const fs = new ProcFs(fixture());
  assert.equal(
    renderProcTree(tree(fs, 200)),
    `bash(200) [threads=1]
├─ evil) (x\\ny(300) [threads=1]
├─ \\x1b[31mred\\x1b[0m(301) [threads=1]
├─ <script>(302) [threads=1]
├─ my worker(303) [threads=8]
└─ half-gone(305) [threads=1]

totals: 6 processes, 13 threads
by command:
  threads  processes  command
        8          1  my worker
        1          1  \\x1b[31mred\\x1b[0m
        1          1  <script>
        1          1  bash
        1          1  evil) (x\\ny
        1          1  half-gone
`,
  );
  const deep = renderProcTree(tree(fs, 1), { verbose: true }).split("\n");
  assert.deepEqual(deep.slice(0, 4), [
    "systemd(1) [threads=1]  /sbin/init splash",
    "├─ sshd(100) [threads=1]  sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
    "│  └─ bash(200) [threads=1]  -bash",
    "│     ├─ evil) (x\\ny(300) [threads=1]  ./evil) (x\\ny --flag",
  ]);
  assert.equal(
    deep[4],
    "│     ├─ \\x1b[31mred\\x1b[0m(301) [threads=1]  \\x1b[2J\\x1b[31mred \\u202eevil",
  );
  assert.ok(deep.includes("│     └─ half-gone(305) [threads=1]"), "no command line: none shown");
  assert.ok(deep.includes("│  └─ postgres(511) [threads=1]  postgres -c shared_buffers=1GB"));
  assert.ok(
    deep.includes(
      "└─ python-long-name-server(800) [threads=1]  /usr/bin/python-long-name-server --port 8080",
    ),
  );
  assert.ok(deep.includes("totals: 16 processes, 23 threads"));
  // The gone process (304) and the kernel's own threads (under 2) are not in 1's tree.
  assert.equal(deep.some((l) => /\((304|2|12)\)/.test(l)), false);
  // deno-lint-ignore no-control-regex
  for (const line of deep) assert.doesNotMatch(line, /[\x1b\u202e\n]/);
});

Deno.test("procTreeJson() has the original tool's shape plus command lines", () => {
  const j = procTreeJson(tree(new ProcFs(fixture()), 500));
  assert.deepEqual(j, {
    root_pid: 500,
    processes: [
      { pid: 500, ppid: 1, name: "dockerd", threads: 1, cmdline: "/usr/bin/dockerd -H fd://" },
      {
        pid: 510,
        ppid: 500,
        name: "nginx",
        threads: 1,
        cmdline: "nginx: master process nginx -g daemon off;",
      },
      {
        pid: 511,
        ppid: 500,
        name: "postgres",
        threads: 1,
        cmdline: "postgres -c shared_buffers=1GB",
      },
    ],
    totals: { total_processes: 3, total_threads: 3 },
    aggregated_by_command: [
      { command: "dockerd", processes: 1, total_threads: 1 },
      { command: "nginx", processes: 1, total_threads: 1 },
      { command: "postgres", processes: 1, total_threads: 1 },
    ],
    unreadable_processes: 0,
  });
  const all = procTreeJson(tree(new ProcFs(fixture()), 1));
  assert.deepEqual(all.aggregated_by_command[0], {
    command: "my worker",
    processes: 1,
    total_threads: 8,
  });
  const threads = all.aggregated_by_command.map((c) => c.total_threads);
  assert.deepEqual(threads, [...threads].sort((a, b) => b - a), "most threads first");
  // Parents come before their children.
  const order = all.processes.map((p) => p.pid);
  for (const p of all.processes.slice(1)) assert.ok(order.indexOf(p.ppid!) < order.indexOf(p.pid));
});

Deno.test("buildProcTree() shows an unreadable process as such and counts the unplaceable", () => {
  const roots = fixture();
  const fs = new DeniedFs(roots, ["303/stat", "301/stat", "302/cmdline"]);
  const text = renderProcTree(tree(fs, 303));
  assert.equal(
    text,
    "?(303) [unreadable: permission denied]\n\ntotals: 1 process, 0 threads\n" +
      "1 process could not be read (permission denied); they may belong under 303\n",
  );
  const j = procTreeJson(tree(fs, 200));
  assert.deepEqual(j.processes.map((p) => p.pid), [200, 300, 302, 305]);
  assert.equal(j.unreadable_processes, 2, "301 and 303: their parents are unknown");
  assert.equal(j.processes[2]!.cmdline, null);
  assert.equal(j.processes[2]!.name, "<script>");
  const root = procTreeJson(tree(fs, 303)).processes[0]!;
  assert.deepEqual(root, {
    pid: 303,
    ppid: null,
    name: null,
    threads: null,
    cmdline: null,
    error: "permission denied",
  });
});

Deno.test("buildProcTree() says whether a missing PID does not exist or is not visible", () => {
  const roots = fixture();
  const fs = new ProcFs(roots);
  assert.deepEqual(buildProcTree(fs, 99), { notFound: "no process 99" });
  // From the root namespace: a PID that only exists inside a container.
  assert.deepEqual(buildProcTree(fs, 7), {
    notFound: "no process 7; process 511 (postgres) is PID 7 inside its own PID namespace " +
      "(a container): try sysmon proctree 511",
    instead: {
      pid: 511,
      reason: "no process 7; process 511 (postgres) is PID 7 inside its own PID namespace " +
        "(a container)",
    },
  });
  // From inside a container (a nested PID namespace), the host's processes are invisible.
  Deno.writeTextFileSync(`${roots.proc}/self/status`, "Name:\tsysmon\nNSpid:\t4242\t3\n");
  const nested = buildProcTree(new ProcFs(roots), 99);
  assert.ok("notFound" in nested);
  assert.match(nested.notFound, /^no process 99 is visible: sysmon runs in a nested PID namespace/);
  assert.match(nested.notFound, /its PID is 3 here, 4242 outside/);
  // A thread id has a /proc entry too, but it is not a process.
  Deno.mkdirSync(`${roots.proc}/9001`);
  Deno.writeTextFileSync(`${roots.proc}/9001/status`, "Name:\tworker\nTgid:\t303\nPid:\t9001\n");
  Deno.writeTextFileSync(
    `${roots.proc}/9001/stat`,
    Deno.readTextFileSync(`${roots.proc}/303/stat`).replace(/^303 /, "9001 "),
  );
  assert.deepEqual(buildProcTree(fs, 9001), {
    notFound:
      "9001 is a thread of process 303 (my worker), not a process; try: sysmon proctree 303",
    instead: { pid: 303, reason: "9001 is a thread of process 303 (my worker), not a process" },
  });
});

Deno.test("sysmon proctree PID prints a real tree of sleep processes, as text and as JSON", async () => {
  const sh = new Deno.Command("sh", { args: ["-c", "sleep 30 & sleep 30 & wait"] }).spawn();
  try {
    const fs = new ProcFs();
    let kids: number[] = [];
    await waitFor(
      () => {
        const t = tree(fs, sh.pid);
        kids = t.root.children.filter((c) => c.name === "sleep").map((c) => c.pid);
        return kids.length === 2;
      },
      10_000,
      "two sleep children",
    );
    const [a, b] = kids;
    const r = await sysmon(["proctree", String(sh.pid)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `sh(${sh.pid}) [threads=1]
├─ sleep(${a}) [threads=1]
└─ sleep(${b}) [threads=1]

totals: 3 processes, 3 threads
by command:
  threads  processes  command
        2          2  sleep
        1          1  sh
`,
    );
    const j = await sysmon(["proctree", "--json", String(sh.pid)]);
    assert.equal(j.code, 0, j.stderr);
    const json = JSON.parse(j.stdout);
    assert.equal(json.root_pid, sh.pid);
    assert.deepEqual(json.processes.map((p: { pid: number }) => p.pid), [sh.pid, a, b]);
    assert.match(json.processes[0].cmdline, /(^|\/)sh -c sleep 30 & sleep 30 & wait$/);
    assert.equal(json.processes[1].cmdline, "sleep 30");
    assert.equal(json.processes[1].ppid, sh.pid);
    assert.deepEqual(json.totals, { total_processes: 3, total_threads: 3 });
    assert.deepEqual(json.aggregated_by_command, [
      { command: "sleep", processes: 2, total_threads: 2 },
      { command: "sh", processes: 1, total_threads: 1 },
    ]);
  } finally {
    sh.kill("SIGKILL");
    await sh.status;
  }
});

Deno.test("sysmon proctree exits 1 for a PID it cannot see and 2 for one that is not a number", async () => {
  // pid_max is at most 2^22: this PID cannot exist.
  const missing = 4_194_305;
  const r = await sysmon(["proctree", String(missing)]);
  assert.equal(r.code, 1);
  const self = parseStatusNsPids(Deno.readTextFileSync("/proc/self/status"));
  if (self !== null && self.length > 1) {
    assert.match(r.stderr, /^sysmon: no process 4194305 is visible: sysmon runs in a nested/);
  } else {
    assert.equal(r.stderr, `sysmon: no process ${missing}\n`);
  }
  // One of this test's own threads: /proc/TID exists, but it is not a process.
  const tid = [...Deno.readDirSync(`/proc/${Deno.pid}/task`)].map((e) => Number(e.name))
    .find((t) => t !== Deno.pid)!;
  const t = await sysmon(["proctree", String(tid)]);
  assert.equal(t.code, 1);
  assert.match(t.stderr, new RegExp(`^sysmon: ${tid} is a thread of process ${Deno.pid} `));
  for (const bad of ["abc", "0", "-3", "1.5", ""]) {
    const b = await sysmon(["proctree", bad]);
    assert.equal(b.code, 2, `'${bad}': ${b.stderr}`);
    assert.match(b.stderr, /PID must be a whole number from 1/);
    assert.equal(b.stdout, "");
  }
});
