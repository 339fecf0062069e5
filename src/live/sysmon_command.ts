// How to start this sysmon again as a child process: a compiled binary runs itself (with its
// compiled-in V8 flags only: its runtime takes no DENO_V8_FLAGS); otherwise this Deno runs
// main.ts beside this module, with its deno.json (the npm imports) and the given flags.
import { fileSize } from "../store/sink.ts";

export interface SysmonCommand {
  cmd: string;
  args: string[];
}

/**
 * `v8Flags`: "--v8-flags=…" (src/tracer/v8_flags.ts). No V8 code cache: a child that runs
 * for hours gains little from it, and a new version's first start writes megabytes of it.
 */
export function sysmonCommand(v8Flags: string): SysmonCommand {
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: [] };
  const main = new URL("../../main.ts", import.meta.url);
  const args = ["run", "-A", "--no-code-cache", v8Flags];
  if (main.protocol === "file:") {
    const config = new URL("../../deno.json", import.meta.url);
    // Installed without its deno.json: the import map is in the lock or the cache.
    if (fileSize(config.pathname) !== null) args.push("--config", config.pathname);
    args.push(main.pathname);
  } else args.push(main.href);
  return { cmd: Deno.execPath(), args };
}
