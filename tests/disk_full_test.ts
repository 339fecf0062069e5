// A full disk, then freed, as a user meets it: a small tmpfs (mounted here when run as root),
// the real tracer writing to it, a filler taking the last byte, the filler deleted.
import assert from "node:assert/strict";
import { readParquet, spawnSysmon, sysmon, tempDir, waitFor } from "./helpers.ts";
import { Journal } from "../tracer/journal.ts";

/** Mounts a tmpfs of `size` on a new dir, or null when this process may not (not root). */
export async function smallTmpfs(size: string): Promise<string | null> {
  const dir = tempDir();
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "null",
    stdout: "null",
  }).output().catch(() => null);
  return r?.success ? dir : null;
}

export async function unmount(dir: string) {
  await new Deno.Command("umount", { args: ["-l", dir] }).output();
}

/** Writes `path` until the disk is full; returns the bytes written. */
export function fillDisk(path: string): number {
  const f = Deno.openSync(path, { write: true, create: true });
  let n = 0;
  try {
    for (const size of [64 << 10, 4 << 10, 512, 1]) {
      try {
        while (true) n += f.writeSync(new Uint8Array(size));
      } catch (err) {
        if (!/os error 28|No space/.test((err as Error).message)) throw err;
      }
    }
  } finally {
    f.close();
  }
  return n;
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const dec = new TextDecoder();
  for await (const chunk of stream) into.push(dec.decode(chunk, { stream: true }));
}

Deno.test("a 300 KB tmpfs filled and freed: every sample reaches the file, exit 0", async (t) => {
  const mnt = await smallTmpfs("300k");
  if (mnt === null) {
    await t.step({ name: "skipped: mounting a tmpfs needs root", ignore: true, fn: () => {} });
    return;
  }
  try {
    const out = `${mnt}/t.parquet`;
    const child = spawnSysmon(
      ["run", "-o", out, "--sample-interval", "0.2", "--write-interval", "1", "--no-gpu"],
      { stdout: "piped", stderr: "piped", env: { DOCKER_HOST: `unix://${mnt}/none.sock` } },
    );
    const stdout: string[] = [], stderr: string[] = [];
    const reading = Promise.all([collect(child.stdout, stdout), collect(child.stderr, stderr)]);
    await waitFor(() => stdout.join("").includes("wrote"), 20_000, "a first write");
    fillDisk(`${mnt}/filler`);
    await waitFor(() => stderr.join("").includes("disk full"), 10_000, "a disk-full notice");
    await new Promise((r) => setTimeout(r, 3000)); // samples pile up while the disk is full
    Deno.removeSync(`${mnt}/filler`);
    await waitFor(() => stderr.join("").includes("writing again"), 10_000, "writes resuming");
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0, stderr.join(""));
    const samples = Number(/(\d+) samples/.exec(stdout.join(""))![1]);
    const { rows } = await readParquet(out);
    assert.ok(samples >= 25, `${samples} samples`);
    assert.equal(rows.length, samples, "every sample, those taken while the disk was full too");
    // No journal left behind, nothing else on the disk: the space came back.
    assert.deepEqual([...Deno.readDirSync(mnt)].map((e) => e.name), ["t.parquet"]);
  } finally {
    await unmount(mnt);
  }
});

Deno.test("sysmon recover on a full disk: a message, the journal kept, and it works once freed", async (t) => {
  const mnt = await smallTmpfs("200k");
  if (mnt === null) {
    await t.step({ name: "skipped: mounting a tmpfs needs root", ignore: true, fn: () => {} });
    return;
  }
  try {
    const out = `${mnt}/t.parquet`;
    const j = new Journal(`${out}.journal`);
    j.reset({ sysmon_journal: 1, trace_id: "t-1", utc: true, sample_interval_s: 1 });
    const t0 = Date.UTC(2026, 0, 1) * 1000;
    j.append(
      Array.from({ length: 50 }, (_, i) => ({ seq: i, row: { timestamp: t0 + i * 1e6, x: i } })),
    );
    fillDisk(`${mnt}/filler`);
    const r = await sysmon(["recover", out]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `sysmon: recover failed: disk full writing ${out}; the journal is kept\n`,
    );
    assert.ok(Deno.statSync(`${out}.journal`).size > 0);
    Deno.removeSync(`${mnt}/filler`);
    const again = await sysmon(["recover", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /recovered 50 samples/);
    assert.equal((await readParquet(out)).rows.length, 50);
  } finally {
    await unmount(mnt);
  }
});
