import { overheadBench } from "./tests/bench/overhead.ts";
await overheadBench(30);
