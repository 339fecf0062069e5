// A tracer child that stops reading its commands (hung, or stopped with SIGSTOP): every request
// of serve's answers with a clear error within its timeout, and Stop still ends it.
import assert from "node:assert/strict";
import { LiveTracer } from "../src/live/tracer.ts";
import { Refusal } from "../src/schema/refusal.ts";
import { tempDir } from "./helpers.ts";

Deno.test("a tracer that reads no more commands: requests time out, Stop kills it", async () => {
  const dir = tempDir();
  // Says it started, then never reads its input: the pipe to it fills up.
  const fake = `${dir}/tracer.sh`;
  Deno.writeTextFileSync(
    fake,
    `#!/bin/bash\necho '{"type":"started","output":"${dir}/t.parquet","pid":'$$'}'\nexec sleep 120\n`,
  );
  Deno.chmodSync(fake, 0o755);
  const tracer = new LiveTracer({ command: { cmd: fake, args: [] }, stopTimeoutMs: 1000 });
  await tracer.start({
    output: `${dir}/t.parquet`,
    sampleInterval: 1,
    writeInterval: 1,
    enableGpu: false,
    enableDocker: false,
    useUtc: true,
  });
  assert.equal(tracer.status().state, "running");
  // More than a pipe holds (64 KiB): the later commands cannot even be written.
  const asked = Array.from({ length: 3000 }, () => tracer.metrics("prometheus", 300));
  const answers = await Promise.allSettled(asked);
  assert.ok(answers.every((a) => a.status === "rejected"));
  for (const a of answers) {
    const err = (a as PromiseRejectedResult).reason;
    assert.ok(err instanceof Refusal);
    assert.match(err.message, /the tracer did not answer within 300 ms/);
  }
  const st = await tracer.stop();
  assert.equal(st.state, "failed");
  assert.match(st.error ?? "", /exited/);
});
