/**
 * leasepb codec: pinned byte strings derived by hand from lease.proto (gogoproto writes fields in
 * order and omits zeros), a cross-check against protobufjs's reflection codec over a schema written
 * here from lease.proto, and the lease bucket key (etcd's leaseIDToBytes).
 */
import fc from "fast-check";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import {
  bytesToLeaseId,
  decodeLease,
  encodeLease,
  leaseIdToBytes,
  type LeasePb,
} from "../../src/lease/leasepb.js";

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
const unhex = (s: string): Uint8Array =>
  new Uint8Array(s.length === 0 ? [] : s.split(" ").map((x) => parseInt(x, 16)));

const pinned: [string, LeasePb, string][] = [
  ["all zero: empty", { id: 0n, ttl: 0, remainingTtl: 0 }, ""],
  ["id 1, ttl 10", { id: 1n, ttl: 10, remainingTtl: 0 }, "08 01 10 0a"],
  ["two-byte varints, remaining set", { id: 0x1234n, ttl: 60, remainingTtl: 30 }, "08 b4 24 10 3c 18 1e"],
  ["MaxLeaseTTL", { id: 2n, ttl: 9_000_000_000, remainingTtl: 0 }, "08 02 10 80 b4 c4 c3 21"],
  ["negative id: ten bytes", { id: -1n, ttl: 5, remainingTtl: 0 }, "08 ff ff ff ff ff ff ff ff ff 01 10 05"],
  ["max int64 id", { id: (1n << 63n) - 1n, ttl: 0, remainingTtl: 0 }, "08 ff ff ff ff ff ff ff ff 7f"],
  ["min int64 id", { id: -(1n << 63n), ttl: 0, remainingTtl: 0 }, "08 80 80 80 80 80 80 80 80 80 01"],
  ["only remaining ttl", { id: 0n, ttl: 0, remainingTtl: -5 }, "18 fb ff ff ff ff ff ff ff ff 01"],
];

describe("leasepb.Lease", () => {
  for (const [name, l, bytes] of pinned) {
    it(`encodes and decodes ${name}`, () => {
      expect(hex(encodeLease(l))).toBe(bytes);
      expect(decodeLease(unhex(bytes))).toEqual(l);
    });
  }

  it("skips unknown fields", () => {
    // field 4 varint 7, field 5 bytes "ab", then ID 3
    expect(decodeLease(unhex("20 07 2a 02 61 62 08 03"))).toEqual({ id: 3n, ttl: 0, remainingTtl: 0 });
  });

  it("refuses malformed input", () => {
    expect(() => decodeLease(unhex("08"))).toThrow(RangeError); // truncated varint
    expect(() => decodeLease(unhex("0a 01 00"))).toThrow(RangeError); // ID as bytes
    expect(() => decodeLease(unhex("10 ff ff ff ff ff ff ff ff ff ff 01"))).toThrow(RangeError); // 11-byte varint
    expect(() => decodeLease(unhex("10 80 80 80 80 80 80 80 10"))).toThrow(/safe integer/); // TTL 2^59
  });

  it("refuses a TTL that is not a safe integer", () => {
    expect(() => encodeLease({ id: 1n, ttl: 1.5, remainingTtl: 0 })).toThrow(RangeError);
    expect(() => encodeLease({ id: 1n << 64n, ttl: 1, remainingTtl: 0 })).toThrow(RangeError);
  });

  const root = protobuf.parse(
    `syntax = "proto3";
     package leasepb;
     message Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3; }`,
    { keepCase: true },
  ).root;
  const Reflect = root.lookupType("leasepb.Lease");
  const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  const safe = fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.maxSafeInteger(), fc.constant(0));

  it("agrees with protobufjs reflection on every Lease", () => {
    fc.assert(
      fc.property(int64, safe, safe, (id, ttl, remainingTtl) => {
        const ours = encodeLease({ id, ttl, remainingTtl });
        const msg = Reflect.fromObject({ ID: id.toString(), TTL: String(ttl), RemainingTTL: String(remainingTtl) });
        expect(hex(ours)).toBe(hex(Reflect.encode(msg).finish()));
        const back = Reflect.toObject(Reflect.decode(ours), { longs: String }) as Record<string, string>;
        expect(BigInt(back.ID ?? "0")).toBe(id);
        expect(Number(back.TTL ?? "0")).toBe(ttl);
        expect(decodeLease(ours)).toEqual({ id, ttl, remainingTtl });
      }),
    );
  });
});

describe("lease bucket key", () => {
  it("is 8 bytes big-endian of the id as uint64", () => {
    expect(hex(leaseIdToBytes(1n))).toBe("00 00 00 00 00 00 00 01");
    expect(hex(leaseIdToBytes(0x0102030405060708n))).toBe("01 02 03 04 05 06 07 08");
    expect(hex(leaseIdToBytes(-1n))).toBe("ff ff ff ff ff ff ff ff");
  });

  it("round-trips and refuses other lengths", () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (id) => {
      expect(bytesToLeaseId(leaseIdToBytes(id))).toBe(id);
    }));
    expect(() => bytesToLeaseId(new Uint8Array(7))).toThrow("lease ID must be 8-byte");
  });
});
