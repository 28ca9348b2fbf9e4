/**
 * CRC-32C (src/storage/crc32c.ts) against published vectors (RFC 3720 §B.4 iSCSI test patterns,
 * the "123456789" check value) and a bit-at-a-time reference for the incremental forms.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Castagnoli, Crc32c, crc32c, crc32cUpdate } from "../../src/storage/crc32c.js";

const ascii = (s: string) => new TextEncoder().encode(s);

/** Bit-at-a-time CRC-32C: obviously the definition, slow. */
function naive(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ Castagnoli : c >>> 1;
  }
  return ~c >>> 0;
}

describe("crc32c", () => {
  test.each([
    ["empty", new Uint8Array(0), 0x00000000],
    ["check value 123456789", ascii("123456789"), 0xe3069283],
    ["a", ascii("a"), 0xc1d04330],
    ["RFC 3720 32 zero bytes", new Uint8Array(32), 0x8a9136aa],
    ["RFC 3720 32 0xff bytes", new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ["RFC 3720 incrementing 0..31", Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ["RFC 3720 decrementing 31..0", Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ])("%s", (_name, data, want) => {
    expect(crc32c(data)).toBe(want);
  });

  test("agrees with the bit-at-a-time definition on every length 0..40 and random input", () => {
    for (let n = 0; n <= 40; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(crc32c(data)).toBe(naive(data));
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => crc32c(data) === naive(data)));
  });

  test("update over a split equals the checksum of the whole; the hasher chains the same way", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const whole = new Uint8Array([...a, ...b]);
        expect(crc32cUpdate(crc32cUpdate(0, a), b)).toBe(crc32c(whole));
        expect(new Crc32c().write(a).write(b).sum()).toBe(crc32c(whole));
      }),
    );
  });

  test("results are unsigned 32-bit", () => {
    const v = crc32c(ascii("123456789"));
    expect(v).toBeGreaterThan(0x7fffffff);
    expect(Number.isInteger(v) && v < 2 ** 32).toBe(true);
  });
});
