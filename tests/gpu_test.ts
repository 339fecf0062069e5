// The GPU collector against a fake nvidia-smi that replays real captures, and its parsers.
import assert from "node:assert/strict";
import { NvidiaSmi, type NvidiaSmiOptions } from "../src/collect/gpu/nvidia_smi.ts";
import {
  backoffMs,
  exitFailure,
  GPU_FIELDS,
  isMissing,
  MIB,
  parseAppLine,
  parseGpuLine,
  parseMib,
  parseNumber,
  parsePstate,
} from "../src/collect/gpu/nvidia_smi_parse.ts";
import { gpuColumnKind, gpuColumnNames, gpuColumnUnit } from "../src/schema/gpu_columns.ts";
import { installFakeNvidiaSmi as installFake, waitFor } from "./helpers.ts";

const CAPTURES = new URL("./fixtures/captures/nvidia-smi/", import.meta.url).pathname;
const H100 = "linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt";
const H100_MIG = "linux-x86_64__nvidia-h100-mig__590.48.01.txt";
const RTX_2080 = "linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt";
const RTX_4080 = "linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt";

const MARKERS = [
  "[N/A]",
  "[Not Supported]",
  "N/A",
  "",
  "[Unknown Error]",
  "[GPU is lost]",
  "[Insufficient Permissions]",
];

// ---- pure parsers

Deno.test("parseNumber() reads every missing-value marker as null, never 0", () => {
  for (const m of MARKERS) {
    assert.equal(isMissing(m), true, m);
    assert.equal(parseNumber(m), null, m);
    assert.equal(parseNumber(` ${m} `), null, m);
  }
  assert.equal(parseNumber(" 35 "), 35);
  assert.equal(parseNumber("70.29"), 70.29);
  assert.equal(parseNumber("35 %"), 35);
  assert.equal(parseNumber("0"), 0);
  assert.equal(parseNumber("abc"), null);
  assert.equal(parseNumber("12abc34"), null);
  assert.equal(parseNumber(undefined), null);
});

Deno.test("parseMib() converts MiB to bytes", () => {
  assert.equal(parseMib("81559"), 81559 * 1048576);
  assert.equal(parseMib(" 0 "), 0);
  assert.equal(parseMib("81559 MiB"), 81559 * 1048576);
  assert.equal(parseMib("[N/A]"), null);
});

Deno.test("parsePstate() maps P0..P15 to 0..15 and anything else to null", () => {
  assert.equal(parsePstate("P0"), 0);
  assert.equal(parsePstate(" P8 "), 8);
  assert.equal(parsePstate("P15"), 15);
  for (const bad of ["P16", "P", "8", "p2", "P-1", "[N/A]", "", undefined]) {
    assert.equal(parsePstate(bad), null, String(bad));
  }
});

Deno.test("parseGpuLine() reads a line and keeps nulls apart from zeros", () => {
  const line = "1, GPU-abc, 0, [N/A], 81559, 0, 81081, 41, 69.85, 700.00, 345, 2619, " +
    "[Not Supported], P0, NVIDIA H100 80GB HBM3";
  assert.deepEqual(parseGpuLine(line), {
    index: 1,
    uuid: "GPU-abc",
    utilizationPercent: 0,
    memUtilizationPercent: null,
    totalBytes: 81559 * MIB,
    usedBytes: 0,
    freeBytes: 81081 * MIB,
    tempC: 41,
    powerW: 69.85,
    powerLimitW: 700,
    smClockMhz: 345,
    memClockMhz: 2619,
    fanPercent: null,
    pstate: 0,
    name: "NVIDIA H100 80GB HBM3",
  });
});

Deno.test("parseGpuLine() reads every marker in every field as null", () => {
  for (const m of MARKERS) {
    const fields = GPU_FIELDS.map((f) => f === "index" ? "3" : m);
    const r = parseGpuLine(fields.join(", "))!;
    assert.equal(r.index, 3);
    for (const [k, v] of Object.entries(r)) if (k !== "index") assert.equal(v, null, `${m} ${k}`);
  }
});

Deno.test("parseGpuLine() keeps a name with a comma whole", () => {
  const fields: string[] = GPU_FIELDS.map((f) => f === "index" ? "0" : "1");
  fields[fields.length - 1] = "Tesla X, rev 2";
  assert.equal(parseGpuLine(fields.join(", "))?.name, "Tesla X, rev 2");
});

Deno.test("parseGpuLine() returns null for short, garbled and error lines", () => {
  const bad = [
    "",
    "0",
    "0, GPU-abc, 35",
    "garbage",
    "x, GPU-abc, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, P0, name",
    "-1, GPU-abc, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, P0, name",
    "[N/A], GPU-abc, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, P0, name",
    "Failed to initialize NVML: Driver/library version mismatch",
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. " +
    "Make sure that the latest NVIDIA driver is installed and running.",
  ];
  for (const line of bad) assert.equal(parseGpuLine(line), null, line);
});

Deno.test("parseAppLine() reads pid, name and MiB; a name may hold commas", () => {
  assert.deepEqual(parseAppLine("11345, ./gpu_burn, 15690"), {
    pid: 11345,
    name: "./gpu_burn",
    usedMemoryBytes: 15690 * MIB,
  });
  assert.deepEqual(parseAppLine("7, python a,b.py, [N/A]"), {
    pid: 7,
    name: "python a,b.py",
    usedMemoryBytes: null,
  });
  for (const line of ["", "7", "7, x", "x, y, 1", "7, x, lots", "No running processes found"]) {
    assert.equal(parseAppLine(line), null, line);
  }
});

Deno.test("exitFailure() explains nvidia-smi's exit codes", () => {
  assert.match(exitFailure(9, null, "").message, /NVIDIA driver.*driver not loaded/);
  assert.match(exitFailure(12, null, "").message, /NVML library not found/);
  assert.match(exitFailure(15, null, "GPU is lost").message, /fell off the bus.*GPU is lost/);
  assert.match(exitFailure(18, null, "").message, /driver\/library version mismatch/);
  assert.match(exitFailure(255, null, "No supported GPUs were found").message, /255: No supp/);
  assert.match(exitFailure(143, "SIGTERM", "").message, /killed by SIGTERM/);
  assert.notEqual(exitFailure(9, null, "a").key, exitFailure(18, null, "a").key);
  assert.equal(exitFailure(255, null, "a").key, exitFailure(255, null, "b").key);
});

Deno.test("backoffMs() doubles from the first delay up to the cap", () => {
  const delays = [0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffMs(n, 1000, 60_000));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

Deno.test("gpuColumnKind() and gpuColumnUnit() describe every GPU column", () => {
  const expected: Record<string, [string, string]> = {
    total: ["int64", "bytes"],
    used: ["int64", "bytes"],
    free: ["int64", "bytes"],
    utilization: ["double", "percent"],
    temp: ["int64", "celsius"],
    mem_utilization_percent: ["double", "percent"],
    power_w: ["double", "W"],
    power_limit_w: ["double", "W"],
    sm_clock_mhz: ["int64", "MHz"],
    mem_clock_mhz: ["int64", "MHz"],
    fan_percent: ["double", "percent"],
    pstate: ["int64", ""],
  };
  const names = gpuColumnNames(12);
  assert.deepEqual(names, Object.keys(expected).map((s) => `gpu_12_${s}`));
  for (const [suffix, [kind, unit]] of Object.entries(expected)) {
    assert.equal(gpuColumnKind(`gpu_12_${suffix}`), kind, suffix);
    assert.equal(gpuColumnUnit(`gpu_12_${suffix}`), unit, suffix);
  }
  for (const other of ["gpu_x_total", "gpu_0_bogus", "cpu_0_utilization", "gpu_0"]) {
    assert.equal(gpuColumnKind(other), null, other);
    assert.equal(gpuColumnUnit(other), "", other);
  }
});

// ---- the collector against the fake nvidia-smi

/** The captured values of one run (load by default, the last) read straight from the file. */
function captured(file: string, phase = "load") {
  const lines = Deno.readTextFileSync(CAPTURES + file).split("\n");
  const section = (flag: string) => {
    const at = lines.findIndex((l, i) =>
      l.startsWith(`# $ nvidia-smi ${flag}`) && lines[i - 1]!.startsWith(`# ${phase} ::`)
    );
    assert.ok(at > 0, `no ${phase} ${flag} section in ${file}`);
    const header = lines[at + 2]!.split(", ").map((h) => h.replace(/ \[.*\]$/, ""));
    const rows: Map<string, string>[] = [];
    for (let i = at + 3; lines[i]?.trim(); i++) {
      const values = lines[i]!.split(", ");
      rows.push(new Map(header.map((h, k) => [h, values[k]!])));
    }
    return rows;
  };
  const gpu = section("--query-gpu=")[0]!;
  const get = (field: string) => gpu.get(field)!;
  const unitless = (field: string) => get(field).replace(/ (MiB|%|W|MHz)$/, "");
  return {
    get,
    number: (field: string) => Number(unitless(field)),
    apps: section("--query-compute-apps=").map((r) => ({
      pid: Number(r.get("pid")),
      name: r.get("process_name")!,
      usedMemoryBytes: Number(r.get("used_gpu_memory")!.replace(/ MiB$/, "")) * MIB,
    })),
  };
}

interface Run {
  gpu: NvidiaSmi;
  notices: string[];
  row: () => Record<string, number | string | null>;
}

/** Runs `fn` with a started collector whose PATH finds the fake first; always closes it. */
async function withFake(
  env: Record<string, string>,
  opts: NvidiaSmiOptions,
  fn: (run: Run) => Promise<void>,
  path?: string,
) {
  const dir = installFake();
  const notices: string[] = [];
  const gpu = new NvidiaSmi({
    intervalMs: 50,
    backoff: { firstMs: 20, maxMs: 80 },
    ...opts,
    env: { PATH: path ?? `${dir}:${Deno.env.get("PATH") ?? ""}`, ...env },
    onNotice: (m) => notices.push(m),
  }).start();
  const row = () => {
    const r: Record<string, number | string | null> = {};
    gpu.collect(r);
    return r;
  };
  try {
    await fn({ gpu, notices, row });
  } finally {
    await gpu.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

const capture = (file: string, more: Record<string, string> = {}) => ({
  FAKE_NVIDIA_SMI_CAPTURE: CAPTURES + file,
  ...more,
});

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("NvidiaSmi reads an H100's memory, utilization and identity from nvidia-smi", async () => {
  const cap = captured(H100);
  await withFake(capture(H100), {}, async ({ gpu, notices, row }) => {
    await waitFor(() => gpu.info().length > 0, 10_000, "a first batch");
    const r = row();
    assert.equal(r.gpu_0_total, cap.number("memory.total") * 1048576);
    assert.equal(r.gpu_0_used, cap.number("memory.used") * 1048576);
    assert.equal(r.gpu_0_free, cap.number("memory.free") * 1048576);
    assert.equal(typeof r.gpu_0_utilization, "number");
    assert.equal(r.gpu_0_utilization, cap.number("utilization.gpu"));
    assert.equal(r.gpu_0_mem_utilization_percent, cap.number("utilization.memory"));
    assert.equal(r.gpu_0_temp, cap.number("temperature.gpu"));
    assert.equal(r.gpu_0_power_w, cap.number("power.draw"));
    assert.equal(r.gpu_0_power_limit_w, cap.number("power.limit"));
    assert.equal(r.gpu_0_sm_clock_mhz, cap.number("clocks.current.sm"));
    assert.equal(r.gpu_0_mem_clock_mhz, cap.number("clocks.current.memory"));
    assert.equal(r.gpu_0_fan_percent, null); // the capture says [N/A]: passively cooled
    assert.equal(r.gpu_0_pstate, Number(cap.get("pstate").slice(1)));
    assert.deepEqual(Object.keys(r), gpuColumnNames(0));
    for (const [name, v] of Object.entries(r)) {
      if (gpuColumnKind(name) === "int64" && v !== null) assert.ok(Number.isInteger(v), name);
    }
    assert.deepEqual(gpu.info(), [{ index: 0, uuid: cap.get("uuid"), name: cap.get("name") }]);
    assert.equal(gpu.notice, null);
    assert.deepEqual(notices, []);
  });
});

Deno.test("NvidiaSmi reads a MIG GPU's utilization as null, not 0", async () => {
  const cap = captured(H100_MIG);
  assert.equal(cap.get("utilization.gpu"), "[N/A]");
  await withFake(capture(H100_MIG), {}, async ({ gpu, row }) => {
    await waitFor(() => gpu.info().length > 0, 10_000, "a first batch");
    const r = row();
    assert.equal(r.gpu_0_utilization, null);
    assert.equal(r.gpu_0_mem_utilization_percent, null);
    assert.equal(r.gpu_0_total, cap.number("memory.total") * MIB);
    assert.equal(r.gpu_0_power_w, cap.number("power.draw"));
  });
});

for (const file of [RTX_2080, RTX_4080]) {
  for (const phase of ["idle", "load"]) {
    Deno.test(`NvidiaSmi reads the ${phase} run of ${file}`, async () => {
      const cap = captured(file, phase);
      const env = capture(file, { FAKE_NVIDIA_SMI_PHASE: phase });
      await withFake(env, {}, async ({ gpu, row }) => {
        await waitFor(() => gpu.info().length > 0, 10_000, "a first batch");
        const r = row();
        assert.equal(r.gpu_0_total, cap.number("memory.total") * MIB);
        assert.equal(r.gpu_0_used, cap.number("memory.used") * MIB);
        assert.equal(r.gpu_0_utilization, cap.number("utilization.gpu"));
        assert.equal(r.gpu_0_temp, cap.number("temperature.gpu"));
        assert.equal(r.gpu_0_fan_percent, cap.number("fan.speed"));
        assert.equal(r.gpu_0_sm_clock_mhz, cap.number("clocks.current.sm"));
        assert.equal(r.gpu_0_pstate, Number(cap.get("pstate").slice(1)));
        assert.equal(gpu.info()[0]?.name, cap.get("name"));
      });
    });
  }
}

Deno.test("NvidiaSmi gives each of several GPUs its own columns", async () => {
  const cap = captured(H100);
  await withFake(capture(H100, { FAKE_NVIDIA_SMI_GPUS: "2" }), {}, async ({ gpu, row }) => {
    await waitFor(() => gpu.info().length === 2, 10_000, "two GPUs");
    const info = gpu.info();
    assert.deepEqual(info.map((g) => g.index), [0, 1]);
    assert.notEqual(info[0]!.uuid, info[1]!.uuid);
    const r = row();
    assert.deepEqual(Object.keys(r), [...gpuColumnNames(0), ...gpuColumnNames(1)]);
    assert.equal(r.gpu_1_total, cap.number("memory.total") * MIB);
    assert.equal(r.gpu_1_utilization, cap.number("utilization.gpu"));
  });
});

Deno.test("NvidiaSmi without nvidia-smi on PATH: one notice, no columns, retries", async () => {
  const empty = Deno.makeTempDirSync({ prefix: "sysmon-empty-path-" });
  try {
    await withFake({}, {}, async ({ gpu, notices, row }) => {
      await waitFor(() => gpu.attempts >= 4, 10_000, "several attempts");
      assert.deepEqual(notices, ["nvidia-smi not found; GPU columns will be empty"]);
      assert.equal(gpu.notice, notices[0]);
      assert.deepEqual(row(), {});
      assert.deepEqual(gpu.info(), []);
      assert.deepEqual(gpu.processes(), []);
    }, empty);
  } finally {
    Deno.removeSync(empty, { recursive: true });
  }
});

for (
  const [code, pattern] of [
    ["9", /NVIDIA driver.*driver not loaded/],
    ["18", /version mismatch/],
  ] as const
) {
  Deno.test(`NvidiaSmi exiting ${code} gives one notice and keeps retrying`, async () => {
    await withFake({ FAKE_NVIDIA_SMI_EXIT: code }, {}, async ({ gpu, notices, row }) => {
      await waitFor(() => gpu.attempts >= 3, 10_000, "three attempts");
      assert.equal(notices.length, 1, notices.join("\n"));
      assert.match(notices[0]!, pattern);
      assert.match(gpu.notice ?? "", pattern);
      assert.deepEqual(row(), {});
    });
  });
}

Deno.test("NvidiaSmi passes on nvidia-smi's own words for other exit codes", async () => {
  const env = { FAKE_NVIDIA_SMI_EXIT: "255", FAKE_NVIDIA_SMI_STDERR: "1" };
  await withFake(env, {}, async ({ gpu, notices }) => {
    await waitFor(() => gpu.attempts >= 2, 10_000, "two attempts");
    assert.deepEqual(notices, ["nvidia-smi exited with code 255: No supported GPUs were found"]);
  });
});

Deno.test("NvidiaSmi kills a hung nvidia-smi, tells once, and restarts it", async () => {
  const env = { FAKE_NVIDIA_SMI_HANG: "1" };
  await withFake(env, { hangMs: 300, processes: false }, async ({ gpu, notices }) => {
    await waitFor(() => gpu.childPids().length === 1, 10_000, "a running child");
    const first = gpu.childPids()[0]!;
    await waitFor(() => notices.length > 0, 10_000, "a notice");
    assert.match(notices[0]!, /nvidia-smi stopped answering/);
    await waitFor(() => !alive(first), 5_000, `pid ${first} to be gone`);
    await waitFor(() => gpu.attempts >= 3, 10_000, "restarts");
    assert.equal(notices.length, 1, notices.join("\n"));
  });
});

Deno.test("NvidiaSmi nulls a GPU that fell off the bus once its reading is stale", async () => {
  const env = capture(H100, { FAKE_NVIDIA_SMI_DIE_AFTER: "2" });
  const opts = { staleMs: 300, backoff: { firstMs: 60_000, maxMs: 60_000 }, processes: false };
  await withFake(env, opts, async ({ gpu, notices, row }) => {
    await waitFor(() => gpu.info().length > 0, 10_000, "a first batch");
    await waitFor(() => notices.length > 0, 10_000, "a notice");
    assert.match(notices[0]!, /fell off the bus/);
    assert.match(notices[0]!, /GPU is lost/);
    await waitFor(() => row().gpu_0_total === null, 5_000, "stale values");
    const r = row();
    assert.deepEqual(Object.keys(r), gpuColumnNames(0));
    for (const [name, v] of Object.entries(r)) assert.equal(v, null, name);
    assert.equal(gpu.info().length, 1); // still listed in the metadata
  });
});

for (const [file, phase] of [[H100, "load"], [RTX_4080, "idle"], [RTX_4080, "load"]] as const) {
  Deno.test(`NvidiaSmi lists the GPU processes of the ${phase} run of ${file}`, async () => {
    const apps = captured(file, phase).apps;
    assert.ok(apps.length > 0);
    const env = capture(file, { FAKE_NVIDIA_SMI_PHASE: phase });
    await withFake(env, {}, async ({ gpu }) => {
      await waitFor(() => gpu.processes().length === apps.length, 10_000, "the processes");
      assert.deepEqual(gpu.processes(), apps);
    });
  });
}

Deno.test("NvidiaSmi.close() leaves no nvidia-smi running", async () => {
  const pids = Deno.makeTempFileSync({ prefix: "sysmon-fake-pids-" });
  try {
    await withFake(capture(H100, { FAKE_NVIDIA_SMI_PIDS: pids }), {}, async ({ gpu }) => {
      await waitFor(() => gpu.childPids().length === 2, 10_000, "both children");
      // Both have written their pid once both have answered.
      await waitFor(() => gpu.info().length > 0, 10_000, "the GPUs");
      await waitFor(() => gpu.processes().length > 0, 10_000, "the processes");
      await gpu.close();
      assert.deepEqual(gpu.childPids(), []);
    });
    const started = Deno.readTextFileSync(pids).trim().split("\n").map(Number);
    assert.ok(started.length >= 2, `pids: ${started}`);
    for (const pid of started) assert.equal(alive(pid), false, `pid ${pid} still exists`);
  } finally {
    Deno.removeSync(pids);
  }
});

Deno.test("NvidiaSmi.close() kills an nvidia-smi that ignores SIGTERM", async () => {
  const pids = Deno.makeTempFileSync({ prefix: "sysmon-fake-pids-" });
  const env = { FAKE_NVIDIA_SMI_HANG: "1", FAKE_NVIDIA_SMI_IGNORE_TERM: "1" };
  try {
    await withFake(
      { ...env, FAKE_NVIDIA_SMI_PIDS: pids },
      { processes: false },
      async ({ gpu }) => {
        await waitFor(() => Deno.readTextFileSync(pids) !== "", 10_000, "the child's pid");
        const pid = Number(Deno.readTextFileSync(pids).trim());
        const t0 = performance.now();
        await gpu.close();
        assert.ok(performance.now() - t0 >= 900, "closed before the SIGKILL deadline");
        assert.equal(alive(pid), false, `pid ${pid} still exists`);
      },
    );
  } finally {
    Deno.removeSync(pids);
  }
});
