// The V8 flags sysmon runs with: its tasks, the install command, the compiled binary and the
// tracer that `serve` starts. A small young generation (1 MiB semi-spaces: less memory, more
// frequent scavenges) and gc() for the tracer's collection once a minute. Not --lite-mode:
// it saves about 9 MiB but costs a quarter more CPU, and turns WebAssembly (serve) off.
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--expose-gc";
