import assert from "node:assert/strict";
import { crc32hex, crc32Loop, Journal, JournalTail, readJournal } from "../src/store/journal.ts";
import { ParquetSink, recoverJournal } from "../src/store/parquet_sink.ts";
import { readParquet, tempDir } from "./helpers.ts";

const header = { sysmon_journal: 1 as const, trace_id: "abc", utc: true, sample_interval_s: 1 };
const T0 = 1_795_000_000_000_000;
const row = (i: number) => ({ timestamp: T0 + i * 1e6, sys_total: 1000 + i, load_1m: i / 4 });

Deno.test("crc32hex() is CRC-32 (IEEE) of the UTF-8 bytes, the same with or without zlib", () => {
  const known: [string, string][] = [
    ["123456789", "cbf43926"], // the standard check value
    ["", "00000000"],
    ["\u00e9", "0e048d3e"], // c3 a9 (a Latin-1 or UTF-16 reading gives another sum)
    ["\u{1F642}", "f258e529"], // f0 9f 99 82: one code point, not two halves
    ["\ud800", "8b7233c9"], // a lone surrogate is U+FFFD, as TextEncoder writes it
    ["a\udc00b", "d0b99122"],
  ];
  for (const [text, sum] of known) {
    assert.equal(crc32hex(text), sum, JSON.stringify(text));
    assert.equal((crc32Loop(text) >>> 0).toString(16).padStart(8, "0"), sum);
  }
});

Deno.test("readJournal() stops at a torn or corrupt entry: it was never written", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const j = new Journal(path);
  j.reset(header);
  j.append([{ seq: 0, row: row(0) }]);
  j.append([{ seq: 1, row: row(1) }]);
  const good = Deno.readFileSync(path);
  // A crash mid-write leaves half an entry.
  Deno.writeFileSync(path, new TextEncoder().encode("0badc0de [2,17"), { append: true });
  let c = readJournal(path)!;
  assert.equal(c.rows.length, 2);
  assert.equal(c.tornBytes, 14);
  assert.deepEqual(c.rows[1]!.row, row(1));
  // A flipped byte inside the last entry fails its checksum: its row is dropped.
  const flipped = good.slice();
  flipped[flipped.length - 3]! ^= 1;
  Deno.writeFileSync(path, flipped);
  c = readJournal(path)!;
  assert.equal(c.rows.length, 1);
});

Deno.test("a batch whose rows differ in columns keeps each row's own values", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const j = new Journal(path);
  j.reset(header);
  const rows = [
    { seq: 0, row: row(0) },
    { seq: 1, row: { ...row(1), gpu_0_power: 70 } },
    { seq: 2, row: { ...row(2), gpu_0_power: 71, gpu_0_temp: 40 } },
  ];
  j.append(rows);
  j.append([{ seq: 3, row: row(3) }]); // back to fewer columns
  const c = readJournal(path)!;
  assert.deepEqual(c.rows.map((r) => r.row), [
    { ...row(0), gpu_0_power: null, gpu_0_temp: null },
    { ...row(1), gpu_0_power: 70, gpu_0_temp: null },
    { ...row(2), gpu_0_power: 71, gpu_0_temp: 40 },
    row(3),
  ]);
});

Deno.test("a journal in the line format of older sysmon is still read and recovered", async () => {
  const dir = tempDir();
  const path = `${dir}/t.parquet`;
  const line = (v: unknown) => `${crc32hex(JSON.stringify(v))} ${JSON.stringify(v)}\n`;
  const names = Object.keys(row(0));
  Deno.writeTextFileSync(
    `${path}.journal`,
    line(header) + line({ columns: names }) +
      [0, 1, 2].map((i) => line([i, ...Object.values(row(i))])).join("") + "0badc0de [3,",
  );
  const c = readJournal(`${path}.journal`)!;
  assert.equal(c.header?.trace_id, "abc");
  assert.deepEqual(c.rows.map((r) => r.row), [row(0), row(1), row(2)]);
  assert.equal(c.tornBytes, 12);
  recoverJournal(path);
  assert.deepEqual((await readParquet(path)).rows.map((r) => Number(r.sys_total)), [
    1000,
    1001,
    1002,
  ]);
});

Deno.test("Journal.append after a failed append leaves no garbage behind", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const j = new Journal(path);
  j.reset(header);
  j.append([{ seq: 0, row: row(0) }]);
  Deno.writeFileSync(path, new TextEncoder().encode("partial garbage"), { append: true });
  j.append([{ seq: 1, row: row(1) }]);
  const c = readJournal(path)!;
  assert.deepEqual(c.rows.map((r) => r.seq), [0, 1]);
  assert.equal(c.tornBytes, 0);
});

Deno.test("recoverJournal() folds the rows a killed run journaled, once", async () => {
  const dir = tempDir();
  const path = `${dir}/t.parquet`;
  let now = 0;
  const sink = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 60_000,
    now: () => now,
  });
  for (let i = 0; i < 5; i++) sink.add(row(i));
  sink.write(); // first write: journal and fold
  for (let i = 5; i < 12; i++) {
    sink.add(row(i));
    now += 1000;
    sink.write(); // journal only: the fold is not due
  }
  assert.equal((await readParquet(path)).rows.length, 5, "the Parquet file lags the journal");
  // The process dies here (no close): the journal holds rows 5..11.
  const notices = recoverJournal(path);
  assert.match(notices.join("\n"), /recovered 7 samples/);
  const { rows } = await readParquet(path);
  assert.deepEqual(
    rows.map((r) => r.sys_total),
    Array.from({ length: 12 }, (_, i) => BigInt(1000 + i)),
  );
  assert.deepEqual(recoverJournal(path), [], "nothing left to recover");
});

Deno.test("recoverJournal() sets aside a journal of another trace instead of applying it", () => {
  const dir = tempDir();
  const path = `${dir}/t.parquet`;
  const sink = ParquetSink.open({ path, utc: true, sampleInterval: 1 });
  sink.add(row(0));
  sink.close();
  const j = new Journal(`${path}.journal`);
  j.reset({ ...header, trace_id: "someone-else" });
  j.append([{ seq: 1, row: row(1) }]);
  const notices = recoverJournal(path);
  assert.match(notices[0]!, /belongs to another trace/);
  const aside = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".orphaned-"));
  assert.equal(aside.length, 1);
});

Deno.test("ParquetSink.close leaves one file and no journal or temporary file", async () => {
  const dir = tempDir();
  const path = `${dir}/t.parquet`;
  const sink = ParquetSink.open({ path, utc: false, sampleInterval: 1 });
  for (let i = 0; i < 3; i++) sink.add(row(i));
  sink.write();
  sink.add(row(3));
  assert.equal(sink.close().error, null);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["t.parquet"]);
  assert.equal((await readParquet(path)).rows.length, 4);
});

Deno.test("JournalTail reads only the bytes appended since its last read", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const tail = new JournalTail(path);
  assert.deepEqual(tail.read(), { rows: [], restarted: false }); // no journal yet
  const j = new Journal(path);
  j.reset(header);
  j.append([{ seq: 0, row: row(0) }, { seq: 1, row: row(1) }]);
  let r = tail.read();
  assert.equal(r.restarted, true);
  assert.deepEqual(r.rows.map((x) => x.seq), [0, 1]);
  assert.deepEqual(r.rows[1]!.row, row(1));
  assert.equal(tail.header?.trace_id, header.trace_id);
  const first = tail.bytesRead;
  assert.equal(first, Deno.statSync(path).size);
  assert.deepEqual(tail.read(), { rows: [], restarted: false }); // nothing new: nothing read
  assert.equal(tail.bytesRead, first);
  j.append([{ seq: 2, row: row(2) }]);
  r = tail.read();
  assert.deepEqual(r.rows.map((x) => x.seq), [2]);
  assert.deepEqual(r.rows[0]!.row, row(2)); // the column names carried over from before
  assert.equal(tail.bytesRead, Deno.statSync(path).size, "only the new entry was read");
});

Deno.test("JournalTail leaves an entry that is not whole yet for its next read", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const j = new Journal(path);
  j.reset(header);
  j.append([{ seq: 0, row: row(0) }]);
  const before = Deno.readFileSync(path);
  j.append([{ seq: 1, row: row(1) }]);
  const whole = Deno.readFileSync(path);
  // The writer is in the middle of its second entry.
  Deno.writeFileSync(path, whole.subarray(0, whole.length - 5));
  const tail = new JournalTail(path);
  assert.deepEqual(tail.read().rows.map((x) => x.seq), [0]);
  assert.equal(tail.read().rows.length, 0);
  Deno.writeFileSync(path, whole.subarray(whole.length - 5), { append: true });
  const r = tail.read();
  assert.deepEqual(r.rows.map((x) => x.seq), [1]);
  assert.equal(r.restarted, false);
  assert.ok(before.length < whole.length);
});

Deno.test("JournalTail starts over on a journal that was replaced or cut shorter", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const j = new Journal(path);
  j.reset(header);
  j.append([{ seq: 0, row: row(0) }, { seq: 1, row: row(1) }]);
  const tail = new JournalTail(path);
  assert.equal(tail.read().rows.length, 2);
  j.reset(header); // a fold starts the journal over (a new file, renamed into place)
  j.append([{ seq: 2, row: row(2) }]);
  const r = tail.read();
  assert.equal(r.restarted, true);
  assert.deepEqual(r.rows.map((x) => x.seq), [2]);
  Deno.removeSync(path); // the run ended: the journal is gone
  assert.deepEqual(tail.read(), { rows: [], restarted: true });
});

Deno.test("JournalTail tells a journal replaced in place (the same inode) by its last entry", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const j = new Journal(path);
  j.reset(header);
  j.append([{ seq: 0, row: row(0) }]);
  const tail = new JournalTail(path);
  assert.equal(tail.read().rows.length, 1);
  // Another journal, longer, written over the same file: same inode, same birth time.
  const other = `${tempDir()}/other.journal`;
  const k = new Journal(other);
  k.reset({ ...header, trace_id: "def" });
  k.append([{ seq: 5, row: row(5) }, { seq: 6, row: row(6) }]);
  k.append([{ seq: 7, row: row(7) }]);
  Deno.writeFileSync(path, Deno.readFileSync(other));
  const r = tail.read();
  assert.equal(r.restarted, true);
  assert.deepEqual(r.rows.map((x) => x.seq), [5, 6, 7]);
  assert.equal(tail.header?.trace_id, "def");
});

Deno.test("JournalTail reads an older line-format journal whole each time, as started over", () => {
  const path = `${tempDir()}/t.parquet.journal`;
  const line = (v: unknown) => {
    const json = JSON.stringify(v);
    return `${crc32hex(json)} ${json}\n`;
  };
  Deno.writeTextFileSync(
    path,
    line(header) + line({ columns: ["timestamp", "sys_total"] }) + line([0, T0, 1000]) +
      line([1, T0 + 1e6, 1001]),
  );
  const tail = new JournalTail(path);
  for (let i = 0; i < 3; i++) {
    const r = tail.read();
    assert.equal(r.restarted, true, "so that a reader replaces what it holds");
    assert.deepEqual(r.rows.map((x) => x.row.sys_total), [1000, 1001]);
  }
});
