import assert from "node:assert/strict";
import { ProcFs } from "../src/collect/proc/fs.ts";
import { type Clock, SystemSampler } from "../src/collect/system.ts";
import { fixtureCopy } from "./helpers.ts";

/** A clock the test moves by hand: rates are exact. */
function manualClock(): Clock & { advance(ms: number): void } {
  let t = 1_795_000_000_000;
  let mono = 0;
  return {
    wallMs: () => t,
    monoMs: () => mono,
    advance(ms) {
      t += ms;
      mono += ms;
    },
  };
}

function setup() {
  const tree = fixtureCopy();
  const clock = manualClock();
  const sampler = new SystemSampler({ fs: new ProcFs(tree), clock, useUtc: true });
  return { tree, clock, sampler };
}

/** Rewrites one /proc/stat cpu line by adding jiffies (user, system, idle). */
function addCpuJiffies(proc: string, cpu: string, user: number, system: number, idle: number) {
  const path = `${proc}/stat`;
  const lines = Deno.readTextFileSync(path).split("\n").map((l) => {
    const f = l.split(/\s+/);
    if (f[0] !== cpu) return l;
    f[1] = String(Number(f[1]) + user);
    f[3] = String(Number(f[3]) + system);
    f[4] = String(Number(f[4]) + idle);
    return f.join(" ");
  });
  Deno.writeTextFileSync(path, lines.join("\n"));
}

Deno.test("SystemSampler reads memory exactly as /proc/meminfo says", () => {
  const { sampler } = setup();
  const row = sampler.sample();
  // The fixture's /proc/meminfo, in kB: MemTotal 24684092, MemFree 24390060,
  // MemAvailable 24374076, Buffers 1316, Cached 131748, SReclaimable 83656.
  assert.equal(row.sys_total, 25_276_510_208); // 24684092 × 1024
  assert.equal(row.sys_free, 24_975_421_440); // 24390060 × 1024
  // used = total − free − buffers − (cached + SReclaimable)
  //      = 24684092 − 24390060 − 1316 − (131748 + 83656) = 77312 kB; × 1024
  assert.equal(row.sys_used, 79_167_488);
  assert.equal(row.mem_available_bytes, 24_959_053_824); // 24374076 × 1024
});

Deno.test("SystemSampler computes per-core busy percent from jiffy deltas", () => {
  const { tree, clock, sampler } = setup();
  const first = sampler.sample();
  assert.equal(first.cpu_0_utilization, null, "no percentage without a previous reading");
  addCpuJiffies(tree.proc, "cpu0", 30, 10, 60); // 40% busy
  addCpuJiffies(tree.proc, "cpu1", 0, 0, 100); // idle
  addCpuJiffies(tree.proc, "cpu", 30, 10, 160);
  clock.advance(1000);
  const row = sampler.sample();
  assert.equal(row.cpu_0_utilization, 40);
  assert.equal(row.cpu_1_utilization, 0);
  assert.equal(row.cpu_busy_percent, 20);
  assert.equal(row.cpu_user_percent, 15);
  assert.equal(row.cpu_system_percent, 5);
  assert.equal(row.cpu_idle_percent, 80);
});

Deno.test("SystemSampler keeps an offline CPU's column as null and survives its return", () => {
  const { tree, clock, sampler } = setup();
  sampler.sample();
  const stat = Deno.readTextFileSync(`${tree.proc}/stat`);
  const cpu1 = stat.split("\n").find((l) => l.startsWith("cpu1 "))!;
  Deno.writeTextFileSync(`${tree.proc}/stat`, stat.replace(cpu1 + "\n", ""));
  clock.advance(1000);
  const offline = sampler.sample();
  assert.ok("cpu_1_utilization" in offline);
  assert.equal(offline.cpu_1_utilization, null);
  assert.equal(typeof offline.cpu_0_utilization, "number");
  Deno.writeTextFileSync(`${tree.proc}/stat`, stat);
  clock.advance(1000);
  const back = sampler.sample();
  assert.equal(back.cpu_1_utilization, null, "first reading after coming online has no delta");
  clock.advance(1000);
  assert.equal(typeof sampler.sample().cpu_1_utilization, "number");
});

Deno.test("SystemSampler never reports a negative rate when a counter goes backwards", () => {
  const { tree, clock, sampler } = setup();
  sampler.sample();
  const dev = Deno.readTextFileSync(`${tree.proc}/net/dev`);
  // Every interface's counters drop to small numbers (driver reload, reboot).
  const reset = dev.replace(
    /^(\s*[^:|]+:)(.*)$/gm,
    (_m, name) => `${name} 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0`,
  );
  Deno.writeTextFileSync(`${tree.proc}/net/dev`, reset);
  clock.advance(1000);
  const row = sampler.sample();
  assert.equal(row.net_bytes_recv_per_sec, null);
  assert.equal(row.net_bytes_sent_per_sec, null);
  clock.advance(2000);
  const grow = reset.replace(/^(\s*eth0:) 1 /m, "$1 2049 ");
  Deno.writeTextFileSync(`${tree.proc}/net/dev`, grow);
  const next = sampler.sample();
  assert.equal(next.net_bytes_recv_per_sec, 1024);
});

Deno.test("SystemSampler rates are per second of real elapsed time", () => {
  const { tree, clock, sampler } = setup();
  sampler.sample();
  const stat = Deno.readTextFileSync(`${tree.proc}/stat`);
  Deno.writeTextFileSync(
    `${tree.proc}/stat`,
    stat.replace(/^ctxt (\d+)$/m, (_m, n) => `ctxt ${Number(n) + 5000}`),
  );
  clock.advance(2500);
  assert.equal(sampler.sample().context_switches_per_sec, 2000);
});

Deno.test("SystemSampler without /proc/pressure writes nulls and names the source once", () => {
  const { tree, sampler } = setup();
  Deno.removeSync(`${tree.proc}/pressure`, { recursive: true });
  const row = sampler.sample();
  assert.equal(row.psi_cpu_some_avg10_percent, null);
  assert.equal(row.psi_io_full_avg10_percent, null);
  assert.match(sampler.unavailable.get("pressure") ?? "", /no \/proc\/pressure/);
  // MemTotal 24684092 kB × 1024
  assert.equal(row.sys_total, 25_276_510_208, "the rest of the row is intact");
});

Deno.test("SystemSampler counts processes, threads and open files; names the busiest", () => {
  const { tree, sampler } = setup();
  // A hostile process name with parentheses, spaces and a newline.
  const pid = 99999;
  Deno.mkdirSync(`${tree.proc}/${pid}/task/${pid}`, { recursive: true });
  Deno.mkdirSync(`${tree.proc}/${pid}/task/${pid + 1}`, { recursive: true });
  Deno.mkdirSync(`${tree.proc}/${pid}/fd`, { recursive: true });
  for (let i = 0; i < 400; i++) Deno.writeTextFileSync(`${tree.proc}/${pid}/fd/${i}`, "");
  Deno.writeTextFileSync(
    `${tree.proc}/${pid}/stat`,
    `${pid} (evil) (x\ny) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 2 0 100 1000 10 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`,
  );
  const before = new SystemSampler({ fs: new ProcFs(tree) });
  const row = sampler.sample();
  assert.equal(row.max_files_process, `evil) (x\ny(${pid})`);
  assert.equal(row.max_files_count, 400);
  // The fixture has processes 1 to 12; with 99999, 13.
  assert.equal(row.system_process_count, 13);
  // Threads (entries of task/): 13 for pid 1, 1 each for pids 2 to 12, 2 for 99999.
  assert.equal(row.system_thread_count, 13 + 11 + 2);
  // Open files (entries of fd/): 250 for pid 1 (0 to 251 but 244 and 245), none for
  // pids 2 to 12, 400 for 99999.
  assert.equal(row.total_open_files, 250 + 400);
  // A process that exits between the directory listing and its reads is skipped.
  Deno.removeSync(`${tree.proc}/${pid}`, { recursive: true });
  const after = before.sample();
  assert.equal(after.system_process_count, 12);
  assert.equal(after.system_thread_count, 13 + 11);
  assert.equal(after.total_open_files, 250);
});

Deno.test("SystemSampler disk counters sum whole disks only, not partitions", () => {
  const { tree, sampler } = setup();
  Deno.writeTextFileSync(
    `${tree.proc}/diskstats`,
    " 8 0 sda 10 0 100 0 20 0 200 0 0 30 0 0 0 0 0 0 0\n" +
      " 8 1 sda1 10 0 100 0 20 0 200 0 0 30 0 0 0 0 0 0 0\n",
  );
  Deno.mkdirSync(`${tree.sys}/block/sda`, { recursive: true });
  const row = sampler.sample();
  assert.equal(row.disk_read_bytes, 100 * 512);
  assert.equal(row.disk_write_count, 20);
  assert.equal(row.disk_busy_time, 30);
});

Deno.test("SystemSampler in the root PID namespace takes the thread total from /proc/loadavg", () => {
  const tree = fixtureCopy();
  Deno.mkdirSync(`${tree.proc}/self`, { recursive: true });
  Deno.writeTextFileSync(`${tree.proc}/self/status`, "Name:\tsysmon\nNSpid:\t4242\n");
  Deno.writeTextFileSync(`${tree.proc}/loadavg`, "0.50 0.40 0.30 3/777 4242\n");
  const row = new SystemSampler({ fs: new ProcFs(tree) }).sample();
  assert.equal(row.system_thread_count, 777);
  assert.equal(row.load_1m, 0.5);
  assert.equal(row.procs_running, 1); // "procs_running 1" in the fixture's /proc/stat
  // In a container (nested namespace) the global total would be wrong: threads are counted.
  Deno.writeTextFileSync(`${tree.proc}/self/status`, "Name:\tsysmon\nNSpid:\t4242\t7\n");
  const nested = new SystemSampler({ fs: new ProcFs(tree) }).sample();
  assert.notEqual(nested.system_thread_count, 777);
  // Entries of task/: 13 for pid 1, 1 each for pids 2 to 12.
  assert.equal(nested.system_thread_count, 13 + 11);
});
