// Does serve's memory level off under load? `sysmon serve` tracing live at 5 samples/s while
// N clients ask in a loop for what the fault suite asks (series, tab panels, the CSV export,
// the page, meta, status); PSS and USS every 15 s. The baseline is the same server with one
// client, measured first in the same process.
//
//   deno run -A tests/bench/serve_soak.ts [seconds, default 180] [clients, default 30]
import { spawnSysmon, tempDir } from "../helpers.ts";
import { residentMiB } from "./memory.ts";
import { V8_FLAGS } from "../../src/tracer/v8_flags.ts";

/** `sysmon serve` tracing live (no time limit: the tests' helper kills it after 60 s). */
async function serve() {
  const child = spawnSysmon(
    ["serve", "--port", "0", "--sample-interval", "0.2", "--write-interval", "1"],
    { cwd: tempDir(), stdout: "piped", stderr: "null", stdin: "null", v8Flags: V8_FLAGS },
  );
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/data file: .*\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${out}`);
    out += value;
  }
  const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
  const drain = (async () => {
    while (!(await reader.read()).done) { /* its last lines */ }
  })();
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await drain;
    },
  };
}

const PATHS = [
  "api/series?columns=cpu_busy_percent",
  "tab/cpu/panel",
  "api/export.csv",
  "",
  "tab/overview/panel",
  "api/meta",
  "api/trace/status",
];

async function phase(clients: number, seconds: number) {
  const s = await serve();
  const pid = s.pid;
  const curve: string[] = [];
  let requests = 0, errors = 0;
  try {
    await new Promise((r) => setTimeout(r, 3000)); // the first write
    const end = Date.now() + seconds * 1000;
    const sampler = (async () => {
      const t0 = Date.now();
      while (Date.now() < end) {
        const m = residentMiB(pid);
        curve.push(`${Math.round((Date.now() - t0) / 1000)} s: PSS ${m.pss.toFixed(0)}`);
        await new Promise((r) => setTimeout(r, 15_000));
      }
    })();
    await Promise.all(Array.from({ length: clients }, async () => {
      while (Date.now() < end) {
        for (const p of PATHS) {
          const res = await fetch(`${s.url}${p}`).catch(() => null);
          requests++;
          if (res?.status !== 200) errors++;
          await res?.body?.cancel();
        }
      }
    }));
    await sampler;
    const last = residentMiB(pid);
    return { curve, requests, errors, last };
  } finally {
    await s.stop();
  }
}

export async function serveSoakBench(seconds = 180, clients = 30) {
  const one = await phase(1, Math.min(60, seconds));
  const many = await phase(clients, seconds);
  const line = (n: number, p: Awaited<ReturnType<typeof phase>>) =>
    `  ${n} client${n === 1 ? "" : "s"}: ${p.requests} requests, ${p.errors} errors; ` +
    `${p.curve.join(", ")} MiB; at the end USS ${p.last.uss.toFixed(0)} MiB`;
  console.log(`serve under load (tracing live at 0.2 s, ${seconds} s, PSS every 15 s):`);
  console.log(line(1, one));
  console.log(line(clients, many));
}

if (import.meta.main) {
  await serveSoakBench(Number(Deno.args[0] ?? 180), Number(Deno.args[1] ?? 30));
}
