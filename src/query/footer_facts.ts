// What a small Parquet footer tells without asking DuckDB: the key its schema gives to DuckDB's
// column types (the files of one trace share it, so it is described once), and its rows and
// timestamp bounds from the row groups' statistics. An hour's segment of 113 columns has a
// 17 KB footer that parses in well under a millisecond; the DESCRIBE and count queries it
// saves took 8 ms a file, 2.3 s of the 3.8 s it took to open 278 hourly files.
import { type FileMetaData, parquetMetadata } from "hyparquet";

/** Footers at most this long are parsed here (a longer one is DuckDB's alone to read). */
export const SMALL_FOOTER_BYTES = 256 * 1024;

export interface FooterFacts {
  /** The same for two files whose columns DuckDB types alike (the schema as written). */
  schemaKey: string;
  /** Rows, smallest and largest `timestamp` in epoch ms as stored; null: not in the stats. */
  counts: { rows: number; lo: number | null; hi: number | null } | null;
}

/** The facts of `footer` (the file's last bytes: metadata, length, magic); null if long. */
export function footerFacts(footer: Uint8Array): FooterFacts | null {
  if (footer.length > SMALL_FOOTER_BYTES) return null;
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(footer.slice().buffer);
  } catch {
    return null; // DuckDB reads it, and says what is wrong
  }
  const schemaKey = JSON.stringify(
    meta.schema,
    (_k, v) => (typeof v === "bigint" ? String(v) : v),
  );
  return { schemaKey, counts: statsCounts(meta) };
}

/** Rows and timestamp bounds from every row group's statistics; null when one lacks them. */
function statsCounts(meta: FileMetaData): FooterFacts["counts"] {
  const ts = meta.schema.find((e) => e.name === "timestamp" && !e.num_children);
  const unit = ts?.logical_type?.type === "TIMESTAMP" ? ts.logical_type.unit : null;
  if (unit !== "MILLIS" && unit !== "MICROS") return null; // nanoseconds: DuckDB's to say
  let rows = 0, lo: number | null = null, hi: number | null = null;
  for (const g of meta.row_groups) {
    const col = g.columns.find((c) => c.meta_data?.path_in_schema.join(".") === "timestamp");
    const s = col?.meta_data?.statistics;
    if (!s || s.null_count === undefined) return null;
    const nulls = Number(s.null_count), n = Number(g.num_rows);
    rows += n - nulls;
    if (n === nulls) continue; // no timestamp in the group
    if (!(s.min_value instanceof Date) || !(s.max_value instanceof Date)) return null;
    lo = Math.min(lo ?? Infinity, s.min_value.getTime());
    hi = Math.max(hi ?? -Infinity, s.max_value.getTime());
  }
  return { rows, lo, hi };
}
