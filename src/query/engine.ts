// The one DuckDB-WASM instance of the server (the node "blocking" bundle: queries run
// synchronously on the calling thread, so one query never interleaves with another).
//
// How files reach DuckDB. DuckDB-WASM keeps a registered file open, with what it learnt
// about it, from its first use until the name is dropped; a file replaced on disk must never
// be read again under its old name. So every version of a trace gets a fresh name:
// - `registerPinned(name, fd)`: a file the caller holds open is read in place through
//   /proc/self/fd/<fd> (Linux; /dev/fd elsewhere). The descriptor pins that version's inode:
//   a tracer renaming a new file over the path never changes what the name reads, and
//   nothing is copied (a 1,000,000-row trace with its process lists can be hundreds of MB).
// - `registerBuffer(name, bytes)`: a copy in DuckDB's memory (CSV, and where descriptors
//   cannot be named).
// DuckDB-WASM's node runtime opens every file read-write (and creating it); here a file it
// opens only to read is opened read-only, so a trace owned by another user (root's tracer)
// can be served and can never be written. DuckDB never downloads an extension (Parquet and
// CSV are built into the bundle; autoloading is off). External access stays on because
// registered files need it: no SQL here names a path on disk, only registered names, and
// column names from files are quoted (`ident`).
import * as duckdb from "@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

/** An Arrow table, as DuckDB answers. */
export type Table = ReturnType<duckdb.DuckDBConnection["query"]>;

/** What the rest of the server needs from DuckDB. */
export interface Engine {
  /** Runs one statement; throws with DuckDB's message. */
  query(sql: string): Table;
  /** Makes `bytes` readable as `name` (copied into DuckDB's memory). */
  registerBuffer(name: string, bytes: Uint8Array): void;
  /** Whether `registerPinned` can be used here. */
  readonly canPin: boolean;
  /** Makes the file open as node:fs descriptor `fd` readable as `name`, in place. */
  registerPinned(name: string, fd: number): void;
  /** Forgets a registered name (and closes DuckDB's handle or frees its copy). */
  drop(name: string): void;
  /** A registered name never used before in this process: `<prefix>-<n>.<ext>`. */
  freshName(prefix: string, ext: string): string;
  /**
   * Turns DuckDB's cache of parsed Parquet footers on or off for the next queries. It is
   * keyed by name and never evicts (about 13 MB for a 1,000,000-row footer), and a name is
   * one version: keep it on only for versions that last (see source.ts).
   */
  objectCache(on: boolean): void;
}

/** DuckDB's buffer pool; registered buffers are outside it (they are their own copies). */
const MEMORY_LIMIT = "192MB";

/** Where an open descriptor can be opened again by name. */
const FD_DIR = ["/proc/self/fd", "/dev/fd"].find((d) => {
  try {
    return Deno.statSync(d).isDirectory;
  } catch {
    return false;
  }
}) ?? null;

let shared: Promise<Engine> | null = null;

/** The shared engine, instantiated on first use. */
export function engine(): Promise<Engine> {
  shared ??= start().catch((err) => {
    shared = null; // a later call may try again
    throw err;
  });
  return shared;
}

/** A bundle asset, resolved like a module so that `deno compile --include` finds it. */
export function assetPath(file: string): string {
  return fileURLToPath(import.meta.resolve(`@duckdb/duckdb-wasm/dist/${file}`));
}

async function start(): Promise<Engine> {
  const db = await duckdb.createDuckDB(
    {
      mvp: {
        mainModule: assetPath("duckdb-mvp.wasm"),
        mainWorker: assetPath("duckdb-node-mvp.worker.cjs"),
      },
      eh: {
        mainModule: assetPath("duckdb-eh.wasm"),
        mainWorker: assetPath("duckdb-node-eh.worker.cjs"),
      },
    },
    new duckdb.VoidLogger(),
    readOnlyRuntime(),
  );
  await db.instantiate(() => {});
  const conn = db.connect();
  for (
    const setting of [
      "SET autoinstall_known_extensions = false",
      "SET autoload_known_extensions = false",
      `SET memory_limit = '${MEMORY_LIMIT}'`,
      "SET enable_object_cache = true",
    ]
  ) conn.query(setting);
  let counter = 0;
  let cacheOn = true;
  return {
    query: (sql) => conn.query(sql),
    registerBuffer: (name, bytes) => db.registerFileBuffer(name, bytes),
    canPin: FD_DIR !== null,
    registerPinned: (name, fd) => {
      if (FD_DIR === null) throw new Error("open files cannot be named on this system");
      // directIO: no page buffer in DuckDB-WASM's file system. With it, every column read
      // stays cached in the WASM heap (which never shrinks): +175 MB after 50 columns of a
      // 1,000,000-row trace. Without it a full scan is about 30% slower; summaries
      // (reduce.ts) make full scans rare.
      db.registerFileURL(name, `${FD_DIR}/${fd}`, duckdb.DuckDBDataProtocol.NODE_FS, true);
    },
    drop: (name) => db.dropFile(name),
    freshName: (prefix, ext) => `${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}-${++counter}.${ext}`,
    objectCache: (on) => {
      if (on !== cacheOn) conn.query(`SET enable_object_cache = ${on}`);
      cacheOn = on;
    },
  };
}

/** DuckDB's file flag for writing (duckdb/common/file_system.hpp, FILE_FLAGS_WRITE). */
const FILE_FLAGS_WRITE = 1 << 1;

interface NodeRuntimeInternals {
  _fileInfoCache: Map<number, unknown>;
  _filesById: Map<number, number>;
  resolveFileInfo(
    mod: unknown,
    fileId: number,
  ): { fileId: number; dataProtocol: number; dataUrl: string } | null;
  openFile(mod: unknown, fileId: number, flags: number): number;
}

interface WasmModule {
  _malloc(bytes: number): number;
  HEAPF64: Float64Array;
}

/**
 * The node runtime, except for local files DuckDB opens without the write flag:
 * - opened read-only;
 * - opened once per registered name. DuckDB-WASM calls openFile for every handle (two per
 *   query) and closeFile only when the name is dropped; the runtime's own openFile opens a
 *   new descriptor each time and keeps only the last, leaking the rest (4 per request).
 * The rest (reads, closes, stats) is the runtime's own, on the same descriptor table.
 */
function readOnlyRuntime(): duckdb.DuckDBRuntime {
  const base = duckdb.NODE_RUNTIME as unknown as NodeRuntimeInternals;
  return {
    ...duckdb.NODE_RUNTIME,
    openFile(mod: WasmModule, fileId: number, flags: number): number {
      base._fileInfoCache.delete(fileId);
      const info = base.resolveFileInfo(mod, fileId);
      if (info?.dataProtocol !== duckdb.DuckDBDataProtocol.NODE_FS || flags & FILE_FLAGS_WRITE) {
        return base.openFile(mod, fileId, flags);
      }
      const open = base._filesById.get(info.fileId);
      if (open !== undefined) return sizeResult(mod, open);
      let fd: number;
      try {
        fd = fs.openSync(info.dataUrl, "r");
      } catch {
        return base.openFile(mod, fileId, flags); // it reports the error its own way
      }
      base._filesById.set(info.fileId, fd);
      return sizeResult(mod, fd);
    },
  } as unknown as duckdb.DuckDBRuntime;
}

/** What the runtime's openFile answers: the file's size and 0, as two doubles. */
function sizeResult(mod: WasmModule, fd: number): number {
  const result = mod._malloc(2 * 8);
  mod.HEAPF64[result >> 3] = fs.fstatSync(fd).size;
  mod.HEAPF64[(result >> 3) + 1] = 0;
  return result;
}

/** Quotes an identifier (a column name taken from a file) for SQL. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
