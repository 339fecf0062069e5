// The V8 flags sysmon runs with.
//
// V8_FLAGS, every command a user runs (`deno task start`, `deno task demo`, the install
// command, the compiled binary): a small young generation (1 MiB semi-spaces: less memory,
// more frequent scavenges) and gc().
//
// TRACER_V8_FLAGS, the tracer child `serve` starts for live tracing: the same, and V8's
// baseline compiler only (no Maglev, no
// TurboFan). Sampling once a second never pays back TurboFan; Maglev costs memory: side by side
// over 5 minutes, 0.20 CPU-s/min and 41 MiB at most against 0.23 and 52 MiB with both
// optimizing tiers (lite mode, with no compiler at all: 0.28 CPU-s/min).
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--expose-gc";
export const TRACER_V8_FLAGS =
  "--v8-flags=--max-semi-space-size=1,--expose-gc,--no-opt,--no-maglev";
