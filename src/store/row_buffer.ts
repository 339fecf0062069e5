// Rows kept column by column in typed arrays: about 9 bytes a value instead of a
// JS object per row (the open row group can hold an hour of samples). The one nested
// column (`processes`) is kept field by field too (ProcessColumn).
import { type ColumnDef, fitsKind, type Row, type Value } from "../schema/columns.ts";
import { ProcessColumn } from "./parquet_processes.ts";

interface Column {
  def: ColumnDef;
  /** Numbers (int64 and timestamps are exact below 2^53); unused for strings and lists. */
  nums: Float64Array;
  strs: (string | null)[] | null;
  procs: ProcessColumn | null;
  /** 1 where the value is null. */
  nulls: Uint8Array;
}

type WriterValue = bigint | number | string | null;

export class RowBuffer {
  private cols = new Map<string, Column>();
  private cap = 64;
  length = 0;

  /** Appends a row; a column it has not seen is added, null for earlier rows. */
  push(row: Row, defOf: (name: string) => ColumnDef) {
    if (this.length === this.cap) this.grow(this.cap * 2);
    const i = this.length++;
    for (const name in row) {
      if (!this.cols.has(name)) this.cols.set(name, this.newColumn(defOf(name), i));
    }
    for (const c of this.cols.values()) {
      const v = row[c.def.name];
      if (c.procs) {
        c.procs.push(Array.isArray(v) ? v : null);
        c.nulls[i] = Array.isArray(v) ? 0 : 1;
      } else if (v === undefined || v === null || Array.isArray(v)) {
        c.nulls[i] = 1;
      } else if (c.strs) (c.strs[i] = String(v)), (c.nulls[i] = 0);
      else if (typeof v === "number" && fitsKind(c.def.kind, v)) {
        (c.nums[i] = v), (c.nulls[i] = 0);
      } else c.nulls[i] = 1; // text, NaN or out of range where a number belongs: no value
    }
  }

  /** The rows of the `processes` column (null rows where it had no value). */
  processes(def: ColumnDef): ProcessColumn {
    const c = this.cols.get(def.name)?.procs;
    if (c) return c;
    const empty = new ProcessColumn();
    for (let i = 0; i < this.length; i++) empty.push(null);
    return empty;
  }

  /** Values of one scalar column, converted for the Parquet writer. */
  column(def: ColumnDef): WriterValue[] {
    const c = this.cols.get(def.name);
    const out = new Array<WriterValue>(this.length);
    const int = def.kind === "int64" || def.kind === "timestamp";
    for (let i = 0; i < this.length; i++) {
      if (!c || c.nulls[i]) out[i] = def.kind === "timestamp" ? 0n : null;
      else if (c.procs) out[i] = null; // written by ProcessColumn.writeChunks
      else if (c.strs) out[i] = c.strs[i] ?? null;
      else out[i] = int ? BigInt(Math.round(c.nums[i]!)) : c.nums[i]!;
    }
    return out;
  }

  /** A numeric column's values and null flags (views, valid until the next push), or null. */
  numbers(name: string): { nums: Float64Array; nulls: Uint8Array } | null {
    const c = this.cols.get(name);
    if (!c || c.strs || c.procs) return null;
    return { nums: c.nums.subarray(0, this.length), nulls: c.nulls.subarray(0, this.length) };
  }

  /** Row i as a record (for the journal). */
  row(i: number): Row {
    const out: Row = {};
    for (const c of this.cols.values()) {
      let v: Value = null;
      if (!c.nulls[i]) v = c.procs ? c.procs.get(i) : c.strs ? c.strs[i] ?? null : c.nums[i]!;
      out[c.def.name] = v;
    }
    return out;
  }

  /** Drops the first n rows. */
  dropFirst(n: number) {
    n = Math.min(n, this.length);
    for (const c of this.cols.values()) {
      c.nums.copyWithin(0, n, this.length);
      c.nulls.copyWithin(0, n, this.length);
      c.nulls.fill(0, this.length - n, this.length);
      c.strs?.splice(0, n);
      c.procs?.dropFirst(n);
    }
    this.length -= n;
  }

  clear() {
    this.cols.clear();
    this.length = 0;
    this.cap = 64;
  }

  /** A column first seen at row `rows`: null before it. */
  private newColumn(def: ColumnDef, rows: number): Column {
    const nulls = new Uint8Array(this.cap);
    nulls.fill(1, 0, this.length);
    const scalar = def.kind !== "string" && def.kind !== "processes";
    let procs: ProcessColumn | null = null;
    if (def.kind === "processes") {
      procs = new ProcessColumn();
      for (let i = 0; i < rows; i++) procs.push(null);
    }
    return {
      def,
      nums: new Float64Array(scalar ? this.cap : 0),
      strs: def.kind === "string" ? [] : null,
      procs,
      nulls,
    };
  }

  private grow(cap: number) {
    for (const c of this.cols.values()) {
      if (c.nums.length > 0) {
        const nums = new Float64Array(cap);
        nums.set(c.nums);
        c.nums = nums;
      }
      const nulls = new Uint8Array(cap);
      nulls.set(c.nulls);
      c.nulls = nulls;
    }
    this.cap = cap;
  }
}
