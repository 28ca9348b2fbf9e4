/**
 * The backend snapshot format (src/storage/backend-snapshot.ts): the worked example's exact bytes,
 * and each malformation refused on its own — streams built with a correct checksum, so only the
 * check under test can catch them.
 */
import { describe, expect, test } from "vitest";
import {
  ErrSnapshotCorrupt,
  type SnapshotRecord,
  SnapshotMagic,
  decodeBackendSnapshot,
  encodeBackendSnapshot,
} from "../../src/storage/backend-snapshot.js";
import { crc32c } from "../../src/storage/crc32c.js";

const b = (s: string) => new TextEncoder().encode(s);
const u32 = (n: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
};
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const bucket = (name: string) => cat(Uint8Array.of(1), u32(b(name).length), b(name));
const entry = (k: Uint8Array, v: Uint8Array) => cat(Uint8Array.of(2), u32(k.length), k, u32(v.length), v);
/** Body followed by a correct end record. */
const seal = (...body: Uint8Array[]) => {
  const all = cat(...body);
  return cat(all, Uint8Array.of(0), u32(crc32c(all)));
};

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function decodeAll(bytes: Uint8Array): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for await (const r of decodeBackendSnapshot(once(bytes))) out.push(r);
  return out;
}

async function encodeAll(buckets: { name: string; entries: [Uint8Array, Uint8Array][] }[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of encodeBackendSnapshot(buckets)) parts.push(c);
  return cat(...parts);
}

describe("backend snapshot format", () => {
  test("the worked example: one bucket 'key' holding a→b", async () => {
    const bytes = await encodeAll([{ name: "key", entries: [[b("a"), b("b")]] }]);
    const body = cat(b("EDGECDB1"), Uint8Array.of(1, 0, 0, 0, 3), b("key"), Uint8Array.of(2, 0, 0, 0, 1), b("a"), Uint8Array.of(0, 0, 0, 1), b("b"));
    expect([...bytes]).toEqual([...body, 0, ...u32(crc32c(body))]);
    expect(await decodeAll(bytes)).toEqual([
      { kind: "bucket", name: "key" },
      { kind: "entry", key: b("a"), value: b("b") },
    ]);
  });

  test("empty buckets and empty values round-trip", async () => {
    const bytes = await encodeAll([
      { name: "a", entries: [] },
      { name: "b", entries: [[Uint8Array.of(0), new Uint8Array(0)]] },
    ]);
    expect(await decodeAll(bytes)).toEqual([
      { kind: "bucket", name: "a" },
      { kind: "bucket", name: "b" },
      { kind: "entry", key: Uint8Array.of(0), value: new Uint8Array(0) },
    ]);
  });

  test.each([
    ["bad magic", seal(b("EDGECDB2"), bucket("key"))],
    ["buckets out of order", seal(SnapshotMagic, bucket("meta"), bucket("key"))],
    ["duplicate bucket", seal(SnapshotMagic, bucket("key"), bucket("key"))],
    ["keys out of order", seal(SnapshotMagic, bucket("key"), entry(b("b"), b("1")), entry(b("a"), b("1")))],
    ["duplicate key", seal(SnapshotMagic, bucket("key"), entry(b("a"), b("1")), entry(b("a"), b("2")))],
    ["empty key", seal(SnapshotMagic, bucket("key"), entry(new Uint8Array(0), b("1")))],
    ["entry before any bucket", seal(SnapshotMagic, entry(b("a"), b("1")))],
    ["unknown tag", seal(SnapshotMagic, Uint8Array.of(7, 0, 0, 0, 0))],
    ["bucket name not UTF-8", seal(SnapshotMagic, Uint8Array.of(1, 0, 0, 0, 1, 0xff))],
    ["no end record", cat(SnapshotMagic, bucket("key"))],
    ["wrong checksum", cat(SnapshotMagic, bucket("key"), Uint8Array.of(0), u32(crc32c(cat(SnapshotMagic, bucket("kez")))))],
  ])("refuses %s", async (_name, bytes) => {
    await expect(decodeAll(bytes)).rejects.toBeInstanceOf(ErrSnapshotCorrupt);
  });

  test("the same bytes with a correct layout decode (the refusals above are not the checksum's doing)", async () => {
    expect(await decodeAll(seal(SnapshotMagic, bucket("key"), bucket("meta"), entry(b("a"), b("1"))))).toHaveLength(3);
  });
});
