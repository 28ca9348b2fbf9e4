import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  appendMarkTombstone,
  bytesToRev,
  compareRevision,
  isTombstone,
  revToBytes,
  revision,
  revisionGreaterThan,
} from "../../src/mvcc/revision.js";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("revision", () => {
  it("orders by main, then sub (etcd TestRevision)", () => {
    const ordered = [revision(0, 0), revision(0, 1), revision(1, 0), revision(1, 1), revision(2 ** 40, 0), revision(2 ** 40, 1)];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareRevision(ordered[i]!, ordered[j]!))).toBe(Math.sign(i - j));
        expect(revisionGreaterThan(ordered[i]!, ordered[j]!)).toBe(i > j);
      }
    }
  });

  it("encodes as main(8 BE) '_' sub(8 BE), 17 bytes", () => {
    expect(hex(revToBytes(revision(1, 0)))).toBe("0000000000000001" + "5f" + "0000000000000000");
    expect(hex(revToBytes(revision(0x0102030405, 7)))).toBe("0000000102030405" + "5f" + "0000000000000007");
    expect(hex(revToBytes(revision(Number.MAX_SAFE_INTEGER, 1)))).toBe("001fffffffffffff" + "5f" + "0000000000000001");
  });

  it("byte order of encoded revisions is revision order, and decoding inverts encoding", () => {
    const rev = fc.record({ main: fc.maxSafeNat(), sub: fc.maxSafeNat() });
    fc.assert(
      fc.property(rev, rev, (a, b) => {
        const ea = revToBytes(a);
        expect(bytesToRev(ea)).toEqual(a);
        expect(bytesToRev(appendMarkTombstone(ea))).toEqual(a);
        const byBytes = Math.sign(hex(ea).localeCompare(hex(revToBytes(b))));
        expect(byBytes).toBe(Math.sign(compareRevision(a, b)));
      }),
    );
  });

  it("marks and recognises tombstones", () => {
    const b = revToBytes(revision(5, 2));
    expect(isTombstone(b)).toBe(false);
    const t = appendMarkTombstone(b);
    expect(t.length).toBe(18);
    expect(t[17]).toBe(0x74);
    expect(isTombstone(t)).toBe(true);
    expect(b.length).toBe(17); // the input is not changed
    const wrongMark = t.slice();
    wrongMark[17] = 0x75;
    expect(isTombstone(wrongMark)).toBe(false);
    expect(() => appendMarkTombstone(t)).toThrow();
  });

  it("decodes from a view into a larger buffer", () => {
    const buf = new Uint8Array(40);
    buf.set(revToBytes(revision(9, 3)), 11);
    expect(bytesToRev(buf.subarray(11, 28))).toEqual(revision(9, 3));
  });

  it("refuses unsafe or malformed revisions", () => {
    expect(() => revToBytes(revision(Number.MAX_SAFE_INTEGER + 1, 0))).toThrow();
    expect(() => revToBytes(revision(-1, 0))).toThrow();
    expect(() => revToBytes(revision(1.5, 0))).toThrow();
    const big = revToBytes(revision(0, 0));
    big[1] = 0x20; // main = 2^53
    expect(() => bytesToRev(big)).toThrow(/MAX_SAFE_INTEGER/);
    const neg = revToBytes(revision(0, 0));
    neg[9] = 0x80; // sub negative as int64
    expect(() => bytesToRev(neg)).toThrow(/MAX_SAFE_INTEGER/);
    expect(() => bytesToRev(new Uint8Array(16))).toThrow();
  });
});
