/**
 * walpb records and WAL framing against fixed bytes derived by hand from etcd's format
 * (encoder.go: length word | record | padding; crc = CRC-32C chained over the data).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { newConfState, newEntry, encodeEntry } from "../../src/raft/index.js";
import {
  Decoder,
  Encoder,
  EntryType,
  MetadataType,
  decodeFrameSize,
  decodeRecord,
  decodeWalSnapshot,
  encodeFrameSize,
  encodeRecord,
  encodeWalSnapshot,
  parseWALName,
  walName,
} from "../../src/wal/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const te = new TextEncoder();

describe("frame sizes (etcd's TestEncodeFrameSize)", () => {
  test.each([
    [0, 0n, 0],
    [1, (0x87n << 56n) | 1n, 7],
    [7, (0x81n << 56n) | 7n, 1],
    [8, 8n, 0],
    [12, (0x84n << 56n) | 12n, 4],
    [0xffffffff, (0x81n << 56n) | 0xffffffffn, 1],
  ])("%d bytes → length word %s, %d bytes of padding", (n, lenField, pad) => {
    expect(encodeFrameSize(n)).toEqual({ lenField, padBytes: pad });
    expect(decodeFrameSize(lenField)).toEqual({ recBytes: n, padBytes: pad });
  });
});

describe("walpb codec", () => {
  test("Record always carries type and crc, data only when non-empty (gogoproto nullable=false)", () => {
    expect(hex(encodeRecord({ type: 4, crc: 0, data: new Uint8Array(0) }))).toBe("08041000");
    expect(hex(encodeRecord({ type: 1, crc: 0xe2a22936, data: te.encode("ab") }))).toBe("080110b6d288950e1a026162");
  });

  test("Snapshot: index and term always, conf_state when present", () => {
    expect(hex(encodeWalSnapshot({ index: 0, term: 0 }))).toBe("08001000");
    const cs = newConfState({ voters: [1n, 2n] });
    const b = encodeWalSnapshot({ index: 300, term: 5, confState: cs });
    // 08 ac02 (index 300) | 10 05 (term 5) | 1a 06 ConfState{voters 1, voters 2, auto_leave false}
    expect(hex(b)).toBe("08ac021005" + "1a06" + "0801" + "0802" + "2800");
    expect(decodeWalSnapshot(b)).toEqual({ index: 300, term: 5, confState: cs });
  });

  test("round trips", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.nat({ max: 0xffffffff }), fc.uint8Array({ minLength: 1, maxLength: 64 }), (type, crc, data) => {
        expect(decodeRecord(encodeRecord({ type, crc, data }))).toEqual({ type, crc, data });
      }),
    );
  });
});

describe("byte-exact fixture: one metadata and one entry record", () => {
  // Derived by hand:
  //   metadata "ab": crc1 = crc32c("ab") = 0xe2a22936 → varint b6 d2 88 95 0e
  //     record 08 01 | 10 b6d288950e | 1a 02 61 62 = 12 bytes → pad 4 → word 0x84000000_0000000c
  //   entry {type 0, term 1, index 1, data "x"} = 08 00 10 01 18 01 22 01 78 (9 bytes)
  //     crc2 = crc32c.Update(crc1, entry bytes) = 0x5f37c820 → varint a0 90 df f9 05
  //     record 08 02 | 10 a090dff905 | 1a 09 <entry> = 19 bytes → pad 5 → word 0x85000000_00000013
  const fixture =
    "0c00000000000084" + "080110b6d288950e1a026162" + "00000000" +
    "1300000000000085" + "080210a090dff9051a09080010011801220178" + "0000000000";

  test("the encoder produces it", () => {
    const e = new Encoder(0);
    const entry = encodeEntry(newEntry({ term: 1, index: 1, data: te.encode("x") }));
    expect(hex(entry)).toBe("080010011801220178");
    const got = hex(e.encode(MetadataType, te.encode("ab"))) + hex(e.encode(EntryType, entry));
    expect(got).toBe(fixture);
    expect(e.lastCRC()).toBe(0x5f37c820);
  });

  test("the decoder reads it back, checking the chain", () => {
    const d = new Decoder([{ name: "f.wal", data: Uint8Array.from(Buffer.from(fixture, "hex")) }]);
    const a = d.decode()!;
    expect(a).toEqual({ type: MetadataType, crc: 0xe2a22936, data: te.encode("ab") });
    const b = d.decode()!;
    expect(b.type).toBe(EntryType);
    expect(b.crc).toBe(0x5f37c820);
    expect(d.decode()).toBeUndefined();
    expect(d.lastOffset()).toBe(fixture.length / 2);
  });
});

describe("segment names (etcd's TestParseWALName / TestWALName)", () => {
  test("%016x-%016x.wal", () => {
    expect(walName(0, 0)).toBe("0000000000000000-0000000000000000.wal");
    expect(walName(1, 0x1234)).toBe("0000000000000001-0000000000001234.wal");
    expect(parseWALName("0000000000000001-0000000000001234.wal")).toEqual({ seq: 1, index: 0x1234 });
    for (const bad of ["0000000000000001-0000000000001234.wal.broken", "0.tmp", "1-2.wal", "000000000000000g-0000000000000000.wal"]) {
      expect(parseWALName(bad)).toBeUndefined();
    }
  });
});
