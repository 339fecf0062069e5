// deno task bench [--quick] [name…]: the numbers the issues name, each against a baseline
// run in the same process. Names: write, store, overhead, soak, processes, docker, serve,
// proctab, browser, live, liveload, metrics, many; and hour (62 minutes: only when named).
import { hourBench, overheadBench } from "./overhead.ts";
import { writeCostBench } from "./write_cost.ts";

const quick = Deno.args.includes("--quick");
const picked = Deno.args.filter((a) => !a.startsWith("--"));
const want = (name: string) => picked.length === 0 || picked.includes(name);

if (want("write")) await writeCostBench();
if (want("store")) await (await import("./store_bytes.ts")).storeBytesBench();
if (want("overhead")) await overheadBench(quick ? 60 : 300, 30);
if (want("processes")) await (await import("./processes.ts")).processesBench(quick ? 20 : 60);
if (want("docker")) await (await import("./docker_pool.ts")).dockerPoolBench(quick ? 10 : 30);
if (want("serve")) await (await import("./serve_query.ts")).serveQueryBench();
if (want("many")) await (await import("./many_files.ts")).manyFilesBench();
if (want("proctab")) await (await import("./process_tab.ts")).processTabBench();
if (want("browser")) await (await import("./browser_render.ts")).browserRenderBench();
if (want("live")) await (await import("./live_jitter.ts")).liveJitterBench(quick ? 15 : 30);
if (want("liveload")) await (await import("./live_load.ts")).liveLoadBench(quick ? 20 : 60);
if (want("metrics")) await (await import("./metrics.ts")).metricsBench(quick ? 2 : 5);
if (want("soak")) await (await import("./serve_soak.ts")).serveSoakBench(quick ? 60 : 180);
if (picked.includes("hour")) await hourBench();
