// The tracer names the machine's zone from $TZ or /etc/localtime without Intl (whose ICU
// data costs memory); each case runs in a process of its own (the answer is cached).
import assert from "node:assert/strict";

async function zoneWith(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { localZone } from "${new URL("../src/store/metadata.ts", import.meta.url)}";` +
      `console.log(localZone())`,
    ],
    env,
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("localZone() reads $TZ as the C library does, and never returns a file's name", async () => {
  const cases: [string, string][] = [
    ["Europe/Berlin", "Europe/Berlin"],
    [":America/New_York", "America/New_York"],
    ["/usr/share/zoneinfo/Asia/Kolkata", "Asia/Kolkata"],
    ["posix/Europe/Berlin", "Europe/Berlin"],
    ["right/UTC", "UTC"],
    ["Etc/UTC", "UTC"],
    ["", "UTC"],
  ];
  const have = Deno.statSync("/usr/share/zoneinfo/Europe/Berlin").isFile;
  for (const [tz, want] of have ? cases : []) assert.equal(await zoneWith({ TZ: tz }), want, tz);
  // Not zone names: Intl decides (this machine's answer, never the text given).
  for (const tz of ["posixrules", "localtime", "CET-1CEST", "Foo/Bar"]) {
    const z = await zoneWith({ TZ: tz });
    assert.notEqual(z, tz);
    assert.ok(z.length > 0);
  }
});
