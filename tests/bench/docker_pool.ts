// How late a sample gets while the container collector polls 20 containers whose stats take
// 50-150 ms each (a fake Engine API in its own process): a sampling loop's lateness (end of
// collect() minus its scheduled time) with the collector, against the same loop without it.
import { DockerCollector } from "../../src/collect/docker/docker.ts";
import type { Row } from "../../src/schema/columns.ts";

const FAKE = new URL("../fixtures/fake_docker_api.ts", import.meta.url).pathname;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** Lateness (ms) of each tick of a loop every `intervalMs` for `seconds`, running `tick`. */
async function lateness(seconds: number, intervalMs: number, tick: () => void) {
  const late: number[] = [];
  const start = performance.now() + intervalMs;
  const n = Math.floor(seconds * 1000 / intervalMs);
  for (let k = 0; k < n; k++) {
    const due = start + k * intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    tick();
    late.push(performance.now() - due);
  }
  return late.sort((a, b) => a - b);
}

function summary(late: number[]) {
  return { p50: percentile(late, 0.5), p99: percentile(late, 0.99), max: late.at(-1) ?? NaN };
}

export async function dockerPoolBench(seconds = 20, intervalMs = 250) {
  const containers = Array.from({ length: 20 }, (_, i) => ({
    name: `svc-${i}`,
    cpus: 0.05,
    netRxPerSec: 1000,
    statsDelayMs: [50, 150],
  }));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FAKE, JSON.stringify({ containers })],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let host = "";
  while (!host.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the fake Docker API exited before it listened");
    host += value;
  }
  await reader.cancel();

  const baseline = summary(
    await lateness(seconds, intervalMs, () => {
      const row: Row = {};
      row.x = 1;
    }),
  );

  const collector = new DockerCollector({ host: host.trim(), intervalMs, concurrency: 8 });
  collector.start();
  let fresh = 0;
  let ticks = 0;
  const withDocker = summary(
    await lateness(seconds, intervalMs, () => {
      const row: Row = {};
      collector.collect(row);
      ticks++;
      const values = containers.filter((c) => row[`docker_${c.name}_mem_used_bytes`] != null);
      if (values.length === containers.length) fresh++;
    }),
  );
  await collector.close();
  await child.stdin.close();
  await child.status;

  const f = (v: number) => v.toFixed(1);
  console.log(
    `docker pool: 20 containers, stats 50-150 ms each, pool 8, sample every ${intervalMs} ms ` +
      `for ${seconds} s: collect() done late by p50 ${f(withDocker.p50)} ms, ` +
      `p99 ${f(withDocker.p99)} ms, max ${f(withDocker.max)} ms ` +
      `(target: within 200 ms; ${fresh}/${ticks} samples had all 20 containers fresh)`,
  );
  console.log(
    `  baseline loop without the collector: p50 ${f(baseline.p50)} ms, p99 ${
      f(baseline.p99)
    } ms, ` +
      `max ${f(baseline.max)} ms; ratio p99 ${f(withDocker.p99 / Math.max(baseline.p99, 0.1))}x, ` +
      `max ${f(withDocker.max / Math.max(baseline.max, 0.1))}x`,
  );
  return { baseline, withDocker, fresh, ticks };
}

if (import.meta.main) await dockerPoolBench();
