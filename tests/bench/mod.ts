// deno task bench [--quick]: the numbers the issues name, each against a baseline.
import { overheadBench } from "./overhead.ts";
import { writeCostBench } from "./write_cost.ts";

const quick = Deno.args.includes("--quick");
await writeCostBench();
await overheadBench(quick ? 30 : 60, quick ? 30 : 60);
