// One row stream in serve: while it traces live, the header's meta, the CSV export and the
// processes at "now" come from rows at most one write interval old (the journal's), not from
// the Parquet file, which a fold brings up to date only every fold interval (300 s here).
import assert from "node:assert/strict";
import { startLiveServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";

const WRITE_MS = 1000; // startLiveServe: 0.2 s samples, 1 s writes

Deno.test({
  name: "serve tracing live answers meta, export and processes from rows one write old at most",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const serve = await startLiveServe(tempDir());
    const get = async (path: string) => {
      const res = await fetch(`${serve.url}${path}`);
      assert.equal(res.status, 200, path);
      return res;
    };
    try {
      // Well past the first write's fold: everything since is only in the journal.
      const deadline = Date.now() + 30_000;
      while ((await (await get("api/trace/status")).json()).samples < 40) {
        assert.ok(Date.now() < deadline, "no 40 samples in 30 s");
        await new Promise((r) => setTimeout(r, 200));
      }
      const written = (await (await get("api/trace/status")).json()).rowsWritten as number;
      const now = Date.now();
      const meta = await (await get("api/meta")).json();
      assert.ok(meta.rows >= written, `meta has ${meta.rows} rows; the tracer wrote ${written}`);
      assert.ok(now - meta.last <= WRITE_MS + 2000, `meta.last is ${now - meta.last} ms old`);

      const csv = (await (await get("api/export.csv?columns=cpu_busy_percent")).text()).trim();
      const lines = csv.split("\n");
      assert.ok(lines.length - 1 >= written, `${lines.length - 1} rows exported`);
      const lastAt = Date.parse(lines.at(-1)!.split(",")[0]!);
      assert.ok(now - lastAt <= WRITE_MS + 2000, `the export's last row is ${now - lastAt} ms old`);
      const stamps = lines.slice(1).map((l) => l.split(",")[0]);
      assert.equal(new Set(stamps).size, stamps.length, "no row twice");

      const p = await (await get(`api/processes?at=${Date.now()}`)).json();
      assert.ok(
        p.at !== null && now - p.at <= WRITE_MS + 2000,
        `processes at ${now - p.at} ms ago`,
      );
      assert.ok(p.processes.length > 0);
    } finally {
      const r = await serve.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  },
});
