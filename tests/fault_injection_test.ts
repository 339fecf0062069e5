// The fault-injection suite: sysmon tried as a broken machine and a hostile user would.
// Each family counts what it tried and what was lost; the last test prints the table.
import assert from "node:assert/strict";
import { FakeDockerApi } from "./fixtures/fake_docker_api.ts";
import {
  fdCount,
  fillAndFree,
  get,
  mkfifo,
  smallTmpfs,
  smallTrace,
  smiPrinting,
  smiRunning,
  startLiveServe,
  startServe,
  unmount,
} from "./fault_kit.ts";
import {
  installFakeNvidiaSmi,
  readParquet,
  spawnSysmon,
  sysmon,
  tempDir,
  waitFor,
} from "./helpers.ts";
import { parquetWriteBuffer } from "hyparquet-writer";

const table: { fault: string; tried: number; lost: number; note: string }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function status(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return Number(m?.[1] ?? 0) * 1024;
}

/** RSS, PSS and private bytes of a process, as smaps_rollup gives them. */
function memory(pid: number) {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return {
    rss: kb("Rss") * 1024,
    pss: kb("Pss") * 1024,
    priv: (kb("Private_Clean") + kb("Private_Dirty")) * 1024,
  };
}
/** Descriptors that are not sockets: the clients' keep-alive connections are not leaks. */
function fileFds(pid: number): number {
  const dir = `/proc/${pid}/fd`;
  return [...Deno.readDirSync(dir)].filter((e) => {
    try {
      return !Deno.readLinkSync(`${dir}/${e.name}`).startsWith("socket:");
    } catch {
      return false;
    }
  }).length;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

Deno.test("faults: SIGKILL at random moments and inside folds loses no written row", async () => {
  const dir = tempDir();
  const out = `${dir}/t.parquet`;
  let seed = 11;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  let lost = 0, inFold = 0;
  const kills = 10;
  for (let i = 0; i < kills; i++) {
    const child = spawnSysmon(
      ["run", "-o", out, "--sample-interval", "0.1", "--write-interval", "0.1"].concat(
        ["--fold-interval", "0.25", "--no-gpu", "--no-docker"],
      ),
      { stdout: "piped" },
    );
    let written = 0;
    const reader = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        for (const m of chunk.matchAll(/wrote (\d+) rows/g)) written = Number(m[1]);
      }
    })();
    const firstBy = Date.now() + 20_000;
    while (written === 0 && Date.now() < firstBy) await sleep(5);
    if (i % 2 === 1) {
      // Inside a fold: the moment its temporary file (the trace's, or a piece's) exists.
      const tmp = new RegExp(`^\\.t(\\.\\d{4,})?\\.parquet\\.${child.pid}\\.tmp$`);
      const by = Date.now() + 5000;
      let seen = false;
      while (!seen && Date.now() < by) {
        seen = [...Deno.readDirSync(dir)].some((e) => tmp.test(e.name));
        if (!seen) await sleep(0);
      }
      if (seen) inFold++;
    } else {
      await sleep(100 + rand() * 900);
    }
    child.kill("SIGKILL");
    await child.status;
    await reader;
    const before = (await readParquet(out)).rows.length; // readable at every moment
    assert.ok(before > 0);
    const r = await sysmon(["recover", out]);
    assert.equal(r.code, 0, r.stderr);
    const after = (await readParquet(out)).rows;
    const ts = after.map((x) => (x.timestamp as Date).getTime());
    assert.equal(new Set(ts).size, ts.length, "no duplicated rows");
    // `written` counts this run's rows plus those of the runs before (it appends).
    lost += Math.max(0, written - after.length);
  }
  table.push({
    fault: "SIGKILL (random moments, inside folds)",
    tried: kills,
    lost,
    note: `${inFold} inside a fold; rows counted against "wrote N rows"`,
  });
  assert.equal(lost, 0);
  assert.ok(inFold >= 3, `only ${inFold} kills landed inside a fold`);
});

Deno.test("faults: a disk filled to the last byte and freed", async () => {
  const mnt = await smallTmpfs("300k");
  if (mnt === null) {
    table.push({ fault: "disk full, then freed", tried: 0, lost: 0, note: "skipped: not root" });
    return;
  }
  try {
    const r = await fillAndFree(mnt);
    table.push({
      fault: "disk full, then freed",
      tried: r.samples,
      lost: r.samples - r.rows,
      note: `300 KB tmpfs; exit ${r.code}`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.rows, r.samples);
  } finally {
    await unmount(mnt);
  }
});

const GPU_LINE = "0, GPU-1, 10, 5, 81920, 1024, 80000, 40, 100, 300, 1500, 2600, 30, P0, FakeGPU";

/** Unix-socket HTTP servers that are not Docker: garbage, or a body that never ends. */
function hostileDocker(kind: "garbage" | "flood") {
  const path = `${tempDir()}/docker.sock`;
  const server = Deno.serve({ path, onListen: () => {} }, () => {
    if (kind === "garbage") return new Response("\u0000]]{not json", { status: 200 });
    const chunk = new TextEncoder().encode("[".repeat(65536));
    return new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }));
  });
  return { host: `unix://${path}`, stop: () => server.shutdown() };
}

interface Source {
  fault: string;
  setup: () => { env: Record<string, string>; flags: string[]; stop?: () => Promise<void> };
}

const withPath = (dir: string) => ({ PATH: `${dir}:${Deno.env.get("PATH")}` });
const SOURCES: Source[] = [
  {
    fault: "nvidia-smi hangs",
    setup: () => ({
      env: { ...withPath(installFakeNvidiaSmi()), FAKE_NVIDIA_SMI_HANG: "1" },
      flags: ["--no-docker"],
    }),
  },
  {
    fault: "nvidia-smi floods lines",
    setup: () => ({ env: withPath(smiRunning(`exec yes '${GPU_LINE}'`)), flags: ["--no-docker"] }),
  },
  {
    fault: "nvidia-smi prints one endless line",
    setup: () => ({
      env: withPath(smiRunning("exec tr '\\\\0' x < /dev/zero")),
      flags: ["--no-docker"],
    }),
  },
  {
    fault: "nvidia-smi prints random bytes",
    setup: () => ({ env: withPath(smiRunning("exec cat /dev/urandom")), flags: ["--no-docker"] }),
  },
  {
    fault: "nvidia-smi out of range (1e23)",
    setup: () => ({
      env: withPath(smiPrinting(GPU_LINE.replace("80000", "99999999999999999999999"))),
      flags: ["--no-docker"],
    }),
  },
  {
    fault: "Docker stats never answer",
    setup: () => {
      const api = FakeDockerApi.start({ containers: [{ name: "a", hang: true }, { name: "b" }] });
      return { env: { DOCKER_HOST: api.host }, flags: ["--no-gpu"], stop: () => api.stop() };
    },
  },
  {
    fault: "Docker stats out of range (1e30)",
    setup: () => {
      const api = FakeDockerApi.start({ containers: [{ name: "a", memUsage: 1e30 }] });
      return { env: { DOCKER_HOST: api.host }, flags: ["--no-gpu"], stop: () => api.stop() };
    },
  },
  {
    fault: "Docker socket answers garbage",
    setup: () => {
      const api = hostileDocker("garbage");
      return { env: { DOCKER_HOST: api.host }, flags: ["--no-gpu"], stop: api.stop };
    },
  },
  {
    fault: "Docker socket floods an endless body",
    setup: () => {
      const api = hostileDocker("flood");
      return { env: { DOCKER_HOST: api.host }, flags: ["--no-gpu"], stop: api.stop };
    },
  },
];

for (const source of SOURCES) {
  Deno.test({
    name: `faults: hostile source: ${source.fault}`,
    sanitizeResources: false,
    fn: async () => {
      const { env, flags, stop } = source.setup();
      try {
        const out = `${tempDir()}/t.parquet`;
        const child = spawnSysmon(
          ["run", "-o", out, "--sample-interval", "0.3", "--duration", "3", ...flags],
          { env, stdout: "piped", stderr: "piped" },
        );
        const texts = Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
        ]);
        let peak = 0;
        const watch = setInterval(() => {
          try {
            peak = Math.max(peak, status(child.pid, "VmHWM"));
          } catch { /* exited */ }
        }, 200);
        const st = await child.status;
        clearInterval(watch);
        const [stdout, stderr] = await texts;
        const samples = Number(/(\d+) samples/.exec(stdout)?.[1] ?? 0);
        const rows = (await readParquet(out)).rows.length;
        table.push({
          fault: source.fault,
          tried: samples,
          lost: samples - rows,
          note: `${samples} of 10 samples due; exit ${st.code}; peak RSS ${mib(peak)}`,
        });
        assert.equal(st.code, 0, stderr);
        assert.doesNotMatch(stderr, /Uncaught|^\s+at /m);
        assert.equal(rows, samples);
        assert.ok(samples >= 7, `a hostile source delayed sampling: ${samples} samples`);
        assert.ok(peak < 300 * 1048576, `peak RSS ${mib(peak)}`);
      } finally {
        await stop?.();
      }
    },
  });
}

/** Bad things put in the served file's place, each as bytes or a way to make it. */
function badFiles(dir: string): [string, (path: string, final: string) => void][] {
  const good = Deno.readFileSync(`${dir}/good.parquet`);
  const bytes = (b: Uint8Array) => (p: string) => Deno.writeFileSync(p, b);
  const noise = new Uint8Array(100_000).map((_, i) => (i * 7919 + 13) % 251);
  const damaged = good.slice();
  damaged.fill(0xff, good.length - 200, good.length - 8);
  const hugeFooter = good.slice();
  new DataView(hugeFooter.buffer).setUint32(good.length - 8, 0x7fffffff, true);
  const parquet = (columnData: Parameters<typeof parquetWriteBuffer>[0]["columnData"]) =>
    bytes(new Uint8Array(parquetWriteBuffer({ columnData })));
  return [
    ["empty", bytes(new Uint8Array(0))],
    ["one byte", bytes(new Uint8Array([0x50]))],
    ["magic only", bytes(new TextEncoder().encode("PAR1PAR1"))],
    ["noise", bytes(noise)],
    ["truncated", bytes(good.subarray(0, good.length >> 1))],
    ["damaged footer", bytes(damaged)],
    ["footer length 2 GiB", bytes(hugeFooter)],
    ["no timestamp", parquet([{ name: "when", data: [1], type: "DOUBLE" }])],
    [
      "metric as text",
      parquet([
        { name: "timestamp", data: [new Date(0)], type: "TIMESTAMP" },
        { name: "sys_used", data: ["<script>alert(1)</script>"], type: "STRING" },
      ]),
    ],
    ["1 GiB of zeros", (p) => {
      const f = Deno.openSync(p, { write: true, create: true });
      f.truncateSync(1 << 30);
      f.close();
    }],
    ["FIFO", mkfifo],
    ["symbolic link loop", (p, final) => Deno.symlinkSync(final, p)],
    ["link to /dev/zero", (p) => Deno.symlinkSync("/dev/zero", p)],
    ["directory", (p) => Deno.mkdirSync(p)],
    ["dangling link", (p) => Deno.symlinkSync(`${dir}/nowhere`, p)],
  ];
}

Deno.test({
  name: "faults: bad files in the served file's place: an error each, then the trace again",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    Deno.copyFileSync(await smallTrace(), `${dir}/good.parquet`);
    const file = `${dir}/t.parquet`;
    Deno.copyFileSync(`${dir}/good.parquet`, file);
    const s = await startServe([file, "--port", "0"]);
    assert.equal((await get(`${s.url}api/meta`)).status, 200);
    const fds = fdCount(s.child.pid);
    const failed: string[] = [];
    const kinds = badFiles(dir);
    for (const [name, make] of kinds) {
      const staged = `${dir}/staged`;
      Deno.removeSync(file, { recursive: true });
      make(staged, file);
      Deno.renameSync(staged, file);
      const meta = await get(`${s.url}api/meta`).catch((e) => ({ status: 0, text: String(e) }));
      const page = await get(s.url).catch((e) => ({ status: 0, text: String(e) }));
      // 404 for a link to nothing (the file is not there), 422 for anything else.
      const said = (meta.status === 422 ||
        (name === "dangling link" && meta.status === 404 && /link to .*nowhere/.test(meta.text))) &&
        /"error":/.test(meta.text) &&
        !/\n\s+at |Uncaught/.test(meta.text + page.text) && page.status === 200;
      if (!said) {
        failed.push(
          `${name}: ${meta.status} ${meta.text.slice(0, 200)}; page ${page.status} ${
            page.text.slice(0, 200)
          }`,
        );
      }
    }
    Deno.removeSync(file, { recursive: true });
    Deno.copyFileSync(`${dir}/good.parquet`, file);
    const back = await get(`${s.url}api/meta`);
    const after = fdCount(s.child.pid);
    const end = await s.stop();
    table.push({
      fault: "bad files to serve",
      tried: kinds.length,
      lost: failed.length + (back.status === 200 ? 0 : 1),
      note: `descriptors ${fds} -> ${after}; exit ${end.code}`,
    });
    assert.deepEqual(failed, []);
    assert.equal(back.status, 200, back.text);
    assert.ok(after - fds <= 10, `descriptors ${fds} -> ${after}`);
    assert.equal(end.code, 0);
  },
});

Deno.test({
  name: "faults: 30 clients for 25 s while serve traces live",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    // Two load phases of 15 s and 10 s, whose last rounds run over under 30 clients: more
    // than the kit's 60 s guard against a hang on a loaded machine.
    const s = await startLiveServe(dir, 150_000);
    const paths = [
      "api/series?columns=cpu_busy_percent",
      "tab/cpu/panel",
      "api/export.csv",
      "",
      "tab/overview/panel",
      "api/meta",
      "api/trace/status",
    ];
    const round = async () => {
      for (const p of paths) {
        const r = await get(`${s.url}${p}`).catch(() => ({ status: 0, text: "" }));
        if (r.status !== 200) bad.push(`${r.status} ${p} ${r.text.slice(0, 300)}`);
        requests++;
      }
    };
    const bad: string[] = [];
    let requests = 0;
    // Until the tracer's first write the file does not exist: a 404 that says so is right.
    await waitFor(() => exists(`${dir}/system_monitor.parquet`), 20_000, "the first write");
    for (let i = 0; i < 3; i++) await round(); // warm: DuckDB loaded, caches filled
    const pid = s.child.pid;
    const fd0 = fileFds(pid), mem0 = memory(pid);
    const load = async (ms: number) => {
      const end = Date.now() + ms;
      await Promise.all(Array.from({ length: 30 }, async () => {
        while (Date.now() < end) await round();
      }));
      await sleep(1000);
      return memory(pid);
    };
    // DuckDB-WASM's heap grows to what the most queries at once need and keeps it (wasm
    // memory is never handed back). Alone here the second phase adds a few MiB; in the
    // parallel suite on 2 cores it went on growing (+53 MiB); over 3 minutes it levels off at
    // 250-300 MiB, for 1 client as for 30 (`deno task bench soak`). The bound is for a leak
    // of a size that matters; the table shows both phases.
    const memA = await load(15_000);
    const mem1 = await load(10_000);
    const fd1 = fileFds(pid);
    const stopped = await s.stop();
    const samples = Number(/tracing stopped: (\d+) samples/.exec(stopped.out)?.[1] ?? 0);
    const rows = (await readParquet(`${dir}/system_monitor.parquet`)).rows.length;
    table.push({
      fault: "30 clients x 25 s while tracing",
      tried: requests,
      lost: bad.length + (samples - rows),
      note: `descriptors ${fd0} -> ${fd1}; PSS ${mib(mem0.pss)} -> ${mib(memA.pss)} (15 s) -> ` +
        `${mib(mem1.pss)} (25 s), ` +
        `private ${mib(mem0.priv)} -> ${mib(mem1.priv)}; ${samples} samples, ${rows} rows`,
    });
    assert.deepEqual(bad.slice(0, 5), []);
    assert.ok(fd1 - fd0 <= 10, `descriptors ${fd0} -> ${fd1}`);
    const pss = `PSS ${mib(mem0.pss)} -> ${mib(memA.pss)} -> ${mib(mem1.pss)}`;
    assert.ok(mem1.pss - mem0.pss < 256 * 1048576, pss);
    assert.equal(stopped.code, 0);
    assert.equal(rows, samples);
  },
});

Deno.test("faults: the table of what was tried and what was lost", () => {
  const w = Math.max(...table.map((r) => r.fault.length));
  const lines = [
    `${"fault".padEnd(w)}  ${"tried".padStart(6)}  ${"lost".padStart(4)}  note`,
    ...table.map((r) =>
      `${r.fault.padEnd(w)}  ${String(r.tried).padStart(6)}  ${
        String(r.lost).padStart(4)
      }  ${r.note}`
    ),
  ];
  console.log("\n" + lines.join("\n"));
  assert.ok(table.length >= 12, "every family ran");
  assert.deepEqual(table.filter((r) => r.lost > 0), []);
});
