// A new version of a trace file, registered in DuckDB. A Parquet version is read in place
// through the descriptor openVersion opened (trace_file.ts), or copied where descriptors
// cannot be named; a CSV version (sysmon's or the original tool's) is read whole and
// converted once into an in-memory Parquet, its numeric columns typed as such.
import { Refusal } from "../schema/refusal.ts";
import fs from "node:fs";
import { splitCsvLine } from "../store/csv_sink.ts";
import { readAt } from "../store/paths.ts";
import { parseSummaryIndex, SUMMARY_KEY } from "../store/summary_block.ts";
import { columnType, describe, describeSql } from "./describe.ts";
import { isNumericColumn } from "../schema/columns.ts";
import { renameLegacyColumn } from "../schema/docker_columns.ts";
import { ident, literal } from "./engine.ts";
import type { ReadAt } from "./file_summary.ts";
import { footerKeyValues } from "./footer_kv.ts";
import {
  clip,
  noTimestamp,
  type OpenedFile,
  openVersion,
  readSidecar,
  sidecarKey,
  startsWith,
  wrongType,
} from "./trace_file.ts";
import type { Trace, Version } from "./version.ts";
import { footerFacts } from "./footer_facts.ts";

const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

/**
 * Reads the file through one descriptor (checked unchanged while read) and registers it.
 * `afterRead`: called after the bytes are read and before they are checked unchanged (tests).
 */
export async function loadVersion(
  t: Trace,
  afterRead?: () => void | Promise<void>,
): Promise<Version> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const sidecar = sidecarKey(t.path);
    const opened = await openVersion(t.path, afterRead);
    if (opened === null) continue;
    const key = `${opened.key}|${sidecar}`;
    t.footerBytes = opened.kind === "text" ? Infinity : opened.bytes.length;
    if (opened.kind === "text") return parseCsv(t, key, opened.bytes, readSidecar(t.path));
    return parseParquet(t, key, opened);
  }
  throw new Refusal(
    "unreadable",
    `${t.path} changed while it was being read, three times in a row: a program is ` +
      `rewriting it in place. sysmon's tracer replaces its file atomically; wait for the ` +
      `writer to finish and reload`,
  );
}

/** A Parquet version: read in place through its descriptor where possible. */
function parseParquet(t: Trace, key: string, opened: OpenedFile): Version {
  let fd: number | null = opened.fd;
  const name = t.engine.freshName("trace", "parquet");
  try {
    let kv: Record<string, string>;
    try {
      kv = footerKeyValues(opened.bytes);
    } catch (err) {
      throw new Refusal(
        "unreadable",
        `${t.path} is not a readable Parquet file (its footer is damaged: ${
          (err as Error).message
        })`,
      );
    }
    const fileIndex = parseSummaryIndex(kv[SUMMARY_KEY]);
    let fileRead: ReadAt | null = null;
    if (t.engine.canPin) {
      t.engine.registerPinned(name, fd);
      const pinned = fd;
      fileRead = (offset, length) => readAt(pinned, length, offset);
    } else {
      const bytes = readAt(fd, opened.size, 0);
      t.engine.registerBuffer(name, bytes);
      fs.closeSync(fd);
      fd = null;
      // The blocks now, while the bytes are at hand (a few MB for a long trace).
      const kept = new Map(
        (fileIndex?.blocks ?? []).flatMap((b) =>
          b ? [[b[0], bytes.slice(b[0], b[0] + b[1])] as const] : []
        ),
      );
      fileRead = (offset) => kept.get(offset) ?? new Uint8Array(0);
    }
    try {
      const v = describe(t, key, name, "parquet", kv, false, footerFacts(opened.bytes));
      v.fd = fd;
      v.fileIndex = fileIndex;
      v.fileRead = fileRead;
      return v;
    } catch (err) {
      t.engine.drop(name);
      throw err;
    }
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    throw err;
  }
}

/** A CSV version: converted into an in-memory Parquet, its numeric columns cast to numbers. */
function parseCsv(
  t: Trace,
  key: string,
  raw: Uint8Array,
  sidecar: { kv: Record<string, string>; notice: string | null },
): Version {
  let bytes = startsWith(raw, BOM) ? raw.subarray(3) : raw;
  // A last line without its newline is a write cut short (sysmon appends whole lines).
  const lastNewline = bytes.lastIndexOf(0x0a);
  const firstNewline = bytes.indexOf(0x0a);
  if (lastNewline > firstNewline && lastNewline < bytes.length - 1) {
    bytes = bytes.subarray(0, lastNewline + 1);
  }
  const headerEnd = firstNewline === -1 ? bytes.length : firstNewline;
  const header = splitCsvLine(
    new TextDecoder().decode(bytes.subarray(0, headerEnd)).replace(/\r$/, ""),
  );
  if (!header.includes("timestamp")) throw noTimestamp(t.path, header);
  const firstRow = firstNewline === -1 ? null : new TextDecoder().decode(
    bytes.subarray(firstNewline + 1, Math.min(bytes.length, firstNewline + 1 + 65536)),
  ).split("\n")[0]!;
  const tsText = firstRow
    ? splitCsvLine(firstRow.replace(/\r$/, ""))[header.indexOf("timestamp")] ?? ""
    : "";
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(tsText.trim());

  const csvName = t.engine.freshName("trace", "csv");
  const name = t.engine.freshName("trace", "parquet");
  t.engine.registerBuffer(csvName, bytes.subarray(0)); // copied into DuckDB
  try {
    const read = `read_csv(${literal(csvName)}, header = true, auto_detect = true, ` +
      `sample_size = -1, delim = ',', quote = '"', escape = '"')`;
    const types = describeSql(t, `SELECT * FROM ${read}`);
    const present = new Set(types.map(([n]) => n));
    const casts: string[] = [];
    for (const [col, type] of types) {
      if (col === "timestamp") {
        if (columnType(type) !== "timestamp") badTimestamps(t, read, type);
        if (type !== "TIMESTAMP") casts.push(`CAST(${ident(col)} AS TIMESTAMP) AS ${ident(col)}`);
      } else if (type === "VARCHAR" && isNumericColumn(renameLegacyColumn(col, present))) {
        const bad = t.run(
          `SELECT ${ident(col)}::VARCHAR AS v FROM ${read}
             WHERE ${ident(col)} IS NOT NULL AND TRY_CAST(${ident(col)} AS DOUBLE) IS NULL LIMIT 1`,
        );
        if (bad.numRows > 0) {
          throw wrongType(t.path, col, String(bad.getChild("v")!.get(0)));
        }
        casts.push(`CAST(${ident(col)} AS DOUBLE) AS ${ident(col)}`); // empty: all gaps
      }
    }
    t.engine.registerBuffer(name, new Uint8Array(0));
    const select = casts.length ? `* REPLACE (${casts.join(", ")})` : "*";
    t.run(
      `COPY (SELECT ${select} FROM ${read}) TO ${literal(name)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
    );
  } catch (err) {
    t.engine.drop(name);
    throw err;
  } finally {
    t.engine.drop(csvName);
  }
  try {
    const v = describe(t, key, name, "csv", sidecar.kv, zoned);
    if (sidecar.notice) v.notices.push(sidecar.notice);
    return v;
  } catch (err) {
    t.engine.drop(name);
    throw err;
  }
}

/** Throws when the CSV's `timestamp` column holds something else than times. */
function badTimestamps(t: Trace, read: string, type: string) {
  const bad = t.run(
    `SELECT "timestamp"::VARCHAR AS v FROM ${read}
       WHERE "timestamp" IS NOT NULL AND TRY_CAST("timestamp" AS TIMESTAMP) IS NULL LIMIT 1`,
  );
  if (bad.numRows > 0) {
    throw new Refusal(
      "unreadable",
      `column 'timestamp' of ${t.path} holds '${clip(String(bad.getChild("v")!.get(0)))}', ` +
        `which is not a date and time (expected e.g. 2026-03-29 14:05:00.123456)`,
    );
  }
  if (type === "VARCHAR") return; // every value empty (or no rows): nothing to convert
  throw new Refusal("unreadable", `column 'timestamp' of ${t.path} is ${type}, not a time`);
}
