// The footer writer on its own: sealed row groups spliced in as Thrift bytes must decode, with
// hyparquet's reader, exactly as if written in one piece; list headers at 0, 1, 14, 15 and
// over 127 groups (the short form, the long form, a two-byte count). And a followed file that
// is not Parquet, said as such.
import assert from "node:assert/strict";
import { parquetMetadata, type RowGroup, type SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer";
import { rowGroupBytes, writeFooter } from "../src/store/footer.ts";
import { FollowedFiles } from "../src/live/followed_files.ts";

const SCHEMA: SchemaElement[] = [
  { name: "root", num_children: 1 },
  { name: "x", type: "INT64", repetition_type: "OPTIONAL" },
];

function group(i: number): RowGroup {
  return {
    columns: [{
      file_offset: 4n,
      meta_data: {
        type: "INT64",
        encodings: ["PLAIN"],
        path_in_schema: ["x"],
        codec: "UNCOMPRESSED",
        num_values: BigInt(i + 1),
        total_uncompressed_size: 10n,
        total_compressed_size: 10n,
        data_page_offset: 4n,
      },
    }],
    total_byte_size: 10n,
    num_rows: BigInt(i + 1),
  };
}

for (const n of [0, 1, 14, 15, 200]) {
  Deno.test(`writeFooter() with ${n} sealed row groups decodes with hyparquet`, () => {
    const groups = Array.from({ length: n }, (_, i) => group(i));
    // Sealed in two batches, as folds seal them: the bytes are concatenated, never re-encoded.
    const half = n >> 1;
    const parts = [groups.slice(0, half), groups.slice(half)].filter((g) => g.length > 0)
      .map((g) => ({ bytes: rowGroupBytes(SCHEMA, g), count: g.length }));
    const w = new ByteWriter(1 << 16);
    w.appendUint32(0x31524150); // "PAR1"
    const numRows = BigInt(groups.reduce((s, g) => s + Number(g.num_rows), 0));
    writeFooter(w, {
      schema: SCHEMA,
      numRows,
      kv: [{ key: "sysmon.test", value: '<ok & "quoted">' }],
      createdBy: "sysmon test",
    }, parts);
    const bytes = w.getBytes();
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + w.index));
    assert.equal(meta.row_groups.length, n);
    assert.deepEqual(meta.row_groups.map((g) => Number(g.num_rows)), groups.map((_, i) => i + 1));
    assert.equal(meta.num_rows, numRows);
    assert.equal(meta.created_by, "sysmon test");
    assert.deepEqual(meta.key_value_metadata, [{ key: "sysmon.test", value: '<ok & "quoted">' }]);
    assert.deepEqual(meta.schema.map((s) => s.name), ["root", "x"]);
  });
}

Deno.test("a followed trace whose file is not Parquet says so (too short, no PAR1, footer too long)", () => {
  const dir = Deno.makeTempDirSync({ prefix: "sysmon-footer-" });
  try {
    const path = `${dir}/trace.parquet`;
    const files = new FollowedFiles(path);
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode("PAR1"), /is not a Parquet file \(4 bytes\)/],
      [new TextEncoder().encode("timestamp,cpu\n1,2\n3,4\n"), /no PAR1 footer/],
      [
        Uint8Array.of(80, 65, 82, 49, 0, 0, 0, 0, 255, 255, 0, 0, 80, 65, 82, 49),
        /exceeds the file/,
      ],
    ];
    for (const [bytes, why] of cases) {
      Deno.writeFileSync(path, bytes);
      assert.throws(() => files.list(), why);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
