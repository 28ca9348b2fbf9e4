/**
 * The Backend conformance suite (tinybase-persister style): every Backend implementation —
 * memory here, LMDB / Durable Object / IndexedDB in adapters/storage — runs these same tests:
 *
 *   runBackendConformance("MemoryBackend", () => new MemoryBackend());
 *
 * Each test opens a fresh backend from `makeBackend` and closes it afterwards. The contracts are the
 * doc comments of src/storage/backend.ts; each describe block names the one it checks.
 */
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import {
  AllBuckets,
  type Backend,
  type BatchTx,
  DefaultIgnores,
  KeyBucket,
  LeaseBucket,
  MembersBucket,
  MetaBucket,
  MetaConsistentIndexKeyName,
  type ReadView,
  compareBytes,
} from "../../src/storage/backend.js";
import { ErrSnapshotCorrupt } from "../../src/storage/backend-snapshot.js";
import { Crc32c, crc32c } from "../../src/storage/crc32c.js";

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);
const bytes = (...xs: number[]) => Uint8Array.from(xs);
const hex = (u: Uint8Array) => [...u].map((x) => x.toString(16).padStart(2, "0")).join("");

/** Every entry of the given buckets (or of etcd's buckets that exist), as hex pairs, for toEqual. */
export function dump(view: ReadView, buckets: readonly string[] = AllBuckets): Record<string, [string, string][]> {
  const out: Record<string, [string, string][]> = {};
  for (const name of buckets) {
    if (!view.hasBucket(name)) continue;
    const rows: [string, string][] = [];
    view.unsafeForEach(name, (k, v) => {
      rows.push([hex(k), hex(v)]);
    });
    out[name] = rows;
  }
  return out;
}

function keysOf(r: { keys: Uint8Array[] }): string[] {
  return r.keys.map(hex);
}

async function* streamOf(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

async function collect(s: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of s) out.push(c);
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export function runBackendConformance(name: string, makeBackend: () => Backend | Promise<Backend>): void {
  describe(`Backend conformance: ${name}`, () => {
    const open: Backend[] = [];
    afterEach(async () => {
      for (const be of open.splice(0)) {
        try {
          await be.close();
        } catch {
          // already closed by the test
        }
      }
    });
    const fresh = async (): Promise<Backend> => {
      const be = await makeBackend();
      open.push(be);
      return be;
    };
    /** A backend with etcd's buckets created and `writes` applied in one committed batch. */
    const withData = async (writes: (tx: BatchTx) => void = () => {}): Promise<Backend> => {
      const be = await fresh();
      const tx = be.batchTx();
      for (const bucket of AllBuckets) tx.createBucket(bucket);
      writes(tx);
      await tx.commit();
      return be;
    };
    const read = <T>(be: Backend, fn: (tx: ReadView) => T): T => {
      const tx = be.readTx();
      try {
        return fn(tx);
      } finally {
        tx.end();
      }
    };

    describe("buckets", () => {
      test("a fresh backend has no buckets; reading or writing a missing bucket throws", async () => {
        const be = await fresh();
        read(be, (tx) => {
          expect(tx.hasBucket(KeyBucket)).toBe(false);
          expect(() => tx.unsafeRange(KeyBucket, b("a"))).toThrow();
          expect(() => tx.unsafeForEach(KeyBucket, () => {})).toThrow();
        });
        const tx = be.batchTx();
        expect(() => tx.put(KeyBucket, b("a"), b("1"))).toThrow();
        expect(() => tx.delete(KeyBucket, b("a"))).toThrow();
        tx.rollback();
      });

      test("createBucket is idempotent and keeps the bucket's contents; an empty bucket survives commit", async () => {
        const be = await fresh();
        let tx = be.batchTx();
        tx.createBucket(KeyBucket);
        tx.createBucket(MetaBucket);
        expect(tx.hasBucket(KeyBucket)).toBe(true);
        tx.put(KeyBucket, b("a"), b("1"));
        tx.createBucket(KeyBucket);
        await tx.commit();
        tx = be.batchTx();
        tx.createBucket(KeyBucket);
        await tx.commit();
        read(be, (r) => {
          expect(r.hasBucket(MetaBucket)).toBe(true);
          expect(r.hasBucket(LeaseBucket)).toBe(false);
          expect(dump(r)).toEqual({ [KeyBucket]: [[hex(b("a")), hex(b("1"))]], [MetaBucket]: [] });
        });
      });

      test("buckets are isolated: the same key holds its own value in each, and deletes stay in their bucket", async () => {
        const be = await withData((tx) => {
          tx.put(KeyBucket, b("k"), b("in key"));
          tx.put(LeaseBucket, b("k"), b("in lease"));
          tx.put(MetaBucket, b("m"), b("only meta"));
        });
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, b("k")).values).toEqual([b("in key")]);
          expect(r.unsafeRange(LeaseBucket, b("k")).values).toEqual([b("in lease")]);
          expect(r.unsafeRange(KeyBucket, b("m")).keys).toEqual([]);
        });
        const tx = be.batchTx();
        tx.delete(KeyBucket, b("k"));
        await tx.commit();
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, b("k")).keys).toEqual([]);
          expect(r.unsafeRange(LeaseBucket, b("k")).values).toEqual([b("in lease")]);
        });
      });
    });

    describe("byte order", () => {
      // Expected order, by unsigned bytes with a prefix first; inserted shuffled.
      const ordered = [
        bytes(0x00),
        bytes(0x00, 0x00),
        bytes(0x01),
        bytes(0x61),
        bytes(0x61, 0x00),
        bytes(0x61, 0x00, 0x00),
        bytes(0x61, 0x00, 0x01),
        bytes(0x61, 0x01),
        bytes(0x61, 0x62),
        bytes(0x62),
        bytes(0x7f),
        bytes(0x80),
        b("é"), // c3 a9
        b("€"), // e2 82 ac
        bytes(0xff),
        bytes(0xff, 0x00),
        bytes(0xff, 0xff),
      ];

      test("forEach and range return keys in unsigned lexicographic byte order, a prefix first", async () => {
        const shuffled = [...ordered].reverse();
        shuffled.push(shuffled.splice(3, 1)[0]!);
        const be = await withData((tx) => {
          for (const k of shuffled) tx.put(KeyBucket, k, k);
        });
        read(be, (r) => {
          const seen: string[] = [];
          r.unsafeForEach(KeyBucket, (k) => {
            seen.push(hex(k));
          });
          expect(seen).toEqual(ordered.map(hex));
          expect(keysOf(r.unsafeRange(KeyBucket, bytes(0x00), bytes(0xff, 0xff, 0xff)))).toEqual(ordered.map(hex));
        });
      });

      test("keys that differ only after a 0x00 byte are distinct keys", async () => {
        const be = await withData((tx) => {
          tx.put(KeyBucket, bytes(0x61, 0x00, 0x01), b("x"));
          tx.put(KeyBucket, bytes(0x61, 0x00, 0x02), b("y"));
          tx.put(KeyBucket, bytes(0x61), b("z"));
        });
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, bytes(0x61, 0x00, 0x01)).values).toEqual([b("x")]);
          expect(r.unsafeRange(KeyBucket, bytes(0x61, 0x00, 0x02)).values).toEqual([b("y")]);
          expect(r.unsafeRange(KeyBucket, bytes(0x61, 0x00)).keys).toEqual([]);
          expect(keysOf(r.unsafeRange(KeyBucket, bytes(0x61, 0x00), bytes(0x61, 0x00, 0x02)))).toEqual(["610001"]);
        });
      });

      test("compareBytes is Go's bytes.Compare", () => {
        for (let i = 0; i < ordered.length; i++) {
          for (let j = 0; j < ordered.length; j++) {
            expect(Math.sign(compareBytes(ordered[i]!, ordered[j]!))).toBe(Math.sign(i - j));
          }
        }
      });
    });

    describe("unsafeRange", () => {
      const keys = ["a", "b", "c", "d", "e"];
      const withLetters = () =>
        withData((tx) => {
          for (const k of keys) tx.put(KeyBucket, b(k), b(k.toUpperCase()));
        });

      test("without an end: the one key, or nothing; an empty end means the same", async () => {
        const be = await withLetters();
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, b("c"))).toEqual({ keys: [b("c")], values: [b("C")] });
          expect(r.unsafeRange(KeyBucket, b("c"), new Uint8Array(0))).toEqual({ keys: [b("c")], values: [b("C")] });
          expect(r.unsafeRange(KeyBucket, b("cc"))).toEqual({ keys: [], values: [] });
          expect(r.unsafeRange(KeyBucket, b("c"), undefined, 5).keys).toEqual([b("c")]);
        });
      });

      test("with an end: [key, endKey), half-open; end ≤ key is empty", async () => {
        const be = await withLetters();
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, b("b"), b("d"))).toEqual({ keys: [b("b"), b("c")], values: [b("B"), b("C")] });
          expect(keysOf(r.unsafeRange(KeyBucket, b("bb"), b("dd")))).toEqual(["c", "d"].map((k) => hex(b(k))));
          expect(keysOf(r.unsafeRange(KeyBucket, b("a"), b("z")))).toEqual(keys.map((k) => hex(b(k))));
          expect(r.unsafeRange(KeyBucket, b("c"), b("c")).keys).toEqual([]);
          expect(r.unsafeRange(KeyBucket, b("d"), b("b")).keys).toEqual([]);
          expect(r.unsafeRange(KeyBucket, b("f"), b("z")).keys).toEqual([]);
        });
      });

      test("limit caps the count from the start of the range; limit ≤ 0 means no limit", async () => {
        const be = await withLetters();
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, b("b"), b("z"), 2).keys).toEqual([b("b"), b("c")]);
          expect(r.unsafeRange(KeyBucket, b("b"), b("z"), 1).keys).toEqual([b("b")]);
          expect(r.unsafeRange(KeyBucket, b("b"), b("z"), 10).keys).toHaveLength(4);
          expect(r.unsafeRange(KeyBucket, b("b"), b("z"), 0).keys).toHaveLength(4);
          expect(r.unsafeRange(KeyBucket, b("b"), b("z"), -1).keys).toHaveLength(4);
        });
      });

      test("forEach stops when the visitor returns false", async () => {
        const be = await withLetters();
        const seen: string[] = [];
        read(be, (r) =>
          r.unsafeForEach(KeyBucket, (k) => {
            seen.push(new TextDecoder().decode(k));
            return seen.length < 3;
          }),
        );
        expect(seen).toEqual(["a", "b", "c"]);
      });
    });

    describe("batch transaction", () => {
      test("put overwrites; delete removes; deleting a missing key is a no-op; an empty key is refused", async () => {
        const be = await withData((tx) => {
          tx.put(KeyBucket, b("a"), b("1"));
          tx.put(KeyBucket, b("b"), b("2"));
        });
        const tx = be.batchTx();
        tx.put(KeyBucket, b("a"), b("one"));
        tx.delete(KeyBucket, b("b"));
        tx.delete(KeyBucket, b("nope"));
        expect(() => tx.put(KeyBucket, new Uint8Array(0), b("x"))).toThrow();
        await tx.commit();
        read(be, (r) => expect(dump(r, [KeyBucket])).toEqual({ [KeyBucket]: [[hex(b("a")), hex(b("one"))]] }));
      });

      test("the batch reads its own writes merged over committed state, including deletes", async () => {
        const be = await withData((tx) => {
          for (const k of ["a", "c", "e"]) tx.put(KeyBucket, b(k), b("old"));
        });
        const tx = be.batchTx();
        tx.put(KeyBucket, b("b"), b("new"));
        tx.put(KeyBucket, b("c"), b("new"));
        tx.delete(KeyBucket, b("e"));
        tx.put(KeyBucket, b("f"), b("new"));
        tx.delete(KeyBucket, b("f"));
        expect(tx.unsafeRange(KeyBucket, b("a"), b("z"))).toEqual({
          keys: [b("a"), b("b"), b("c")],
          values: [b("old"), b("new"), b("new")],
        });
        expect(tx.unsafeRange(KeyBucket, b("a"), b("z"), 2).keys).toEqual([b("a"), b("b")]);
        expect(tx.unsafeRange(KeyBucket, b("e")).keys).toEqual([]);
        expect(tx.unsafeRange(KeyBucket, b("b")).values).toEqual([b("new")]);
        tx.rollback();
      });

      test("only one batch at a time; a new one may open as soon as commit() is called", async () => {
        const be = await withData();
        const tx = be.batchTx();
        expect(() => be.batchTx()).toThrow();
        tx.put(KeyBucket, b("a"), b("1"));
        const durable = tx.commit();
        const tx2 = be.batchTx();
        expect(tx2.unsafeRange(KeyBucket, b("a")).values).toEqual([b("1")]);
        await durable;
        await tx2.commit();
      });

      test("a batch cannot be used after commit or rollback", async () => {
        const be = await withData();
        const tx = be.batchTx();
        await tx.commit();
        expect(() => tx.put(KeyBucket, b("a"), b("1"))).toThrow();
        await expect(tx.commit()).rejects.toThrow();
        const tx2 = be.batchTx();
        tx2.rollback();
        expect(() => tx2.unsafeRange(KeyBucket, b("a"))).toThrow();
      });

      test("rollback discards every write, including bucket creation", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        const before = read(be, (r) => dump(r));
        const tx = be.batchTx();
        tx.put(KeyBucket, b("a"), b("2"));
        tx.put(KeyBucket, b("b"), b("2"));
        tx.createBucket("test");
        tx.rollback();
        read(be, (r) => {
          expect(dump(r)).toEqual(before);
          expect(r.hasBucket("test")).toBe(false);
        });
      });
    });

    describe("visibility: readers see committed state only", () => {
      test("writes of an open batch are invisible to readers until commit, then visible at once", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("old")));
        const tx = be.batchTx();
        tx.put(KeyBucket, b("a"), b("new"));
        tx.put(KeyBucket, b("b"), b("new"));
        tx.createBucket("test");
        read(be, (r) => {
          expect(dump(r, [KeyBucket])).toEqual({ [KeyBucket]: [[hex(b("a")), hex(b("old"))]] });
          expect(r.hasBucket("test")).toBe(false);
        });
        const durable = tx.commit();
        read(be, (r) => {
          expect(r.unsafeRange(KeyBucket, b("a"), b("z")).values).toEqual([b("new"), b("new")]);
          expect(r.hasBucket("test")).toBe(true);
        });
        await durable;
      });

      test("a delete in an open batch is invisible until commit", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        const tx = be.batchTx();
        tx.delete(KeyBucket, b("a"));
        read(be, (r) => expect(r.unsafeRange(KeyBucket, b("a")).keys).toEqual([b("a")]));
        await tx.commit();
        read(be, (r) => expect(r.unsafeRange(KeyBucket, b("a")).keys).toEqual([]));
      });

      test("a read transaction is a snapshot: commits after it opened do not change what it sees", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        const early = be.readTx();
        const tx = be.batchTx();
        tx.put(KeyBucket, b("a"), b("2"));
        tx.put(KeyBucket, b("b"), b("2"));
        await tx.commit();
        const tx2 = be.batchTx();
        tx2.delete(KeyBucket, b("a"));
        await tx2.commit();
        expect(dump(early, [KeyBucket])).toEqual({ [KeyBucket]: [[hex(b("a")), hex(b("1"))]] });
        early.end();
        expect(() => early.unsafeRange(KeyBucket, b("a"))).toThrow();
        read(be, (r) => expect(dump(r, [KeyBucket])).toEqual({ [KeyBucket]: [[hex(b("b")), hex(b("2"))]] }));
      });

      test("hash, size and snapshot cover committed state only", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        const hash = be.hash();
        const size = be.sizeInUse();
        const snap = be.snapshot();
        const tx = be.batchTx();
        tx.put(KeyBucket, b("b"), b("x".repeat(1000)));
        expect(be.hash()).toBe(hash);
        expect(be.sizeInUse()).toBe(size);
        const other = await fresh();
        await other.restore(snap);
        expect(other.hash()).toBe(hash);
        tx.rollback();
      });
    });

    describe("hash", () => {
      test("is etcd's definition: CRC-32C over each bucket's name then its keys and values, buckets in byte order", async () => {
        const be = await fresh();
        expect(be.hash()).toBe(0);
        const tx = be.batchTx();
        tx.createBucket("key");
        tx.createBucket("alarm");
        tx.put("key", b("b"), b("2"));
        tx.put("key", b("a"), b("1"));
        await tx.commit();
        expect(be.hash()).toBe(crc32c(b("alarmkeya1b2")));
      });

      test("changes when a value, a key or a bucket changes; returns when they are restored", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        const h0 = be.hash();
        const step = async (fn: (tx: BatchTx) => void) => {
          const tx = be.batchTx();
          fn(tx);
          await tx.commit();
          return be.hash();
        };
        const h1 = await step((tx) => tx.put(KeyBucket, b("a"), b("2")));
        expect(h1).not.toBe(h0);
        const h2 = await step((tx) => {
          tx.delete(KeyBucket, b("a"));
          tx.put(KeyBucket, b("A"), b("2"));
        });
        expect(h2).not.toBe(h1);
        const h3 = await step((tx) => tx.put(LeaseBucket, b("A"), b("2")));
        expect(h3).not.toBe(h2);
        const h4 = await step((tx) => {
          tx.delete(LeaseBucket, b("A"));
          tx.delete(KeyBucket, b("A"));
          tx.put(KeyBucket, b("a"), b("1"));
        });
        expect(h4).toBe(h0);
      });

      test("ignores: DefaultIgnores leaves out meta's consistent_index and term, nothing else", async () => {
        const be = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        const h = be.hash(DefaultIgnores);
        let tx = be.batchTx();
        tx.put(MetaBucket, MetaConsistentIndexKeyName, bytes(0, 0, 0, 0, 0, 0, 0, 7));
        tx.put(MetaBucket, b("term"), bytes(0, 0, 0, 0, 0, 0, 0, 2));
        await tx.commit();
        expect(be.hash(DefaultIgnores)).toBe(h);
        expect(be.hash()).not.toBe(h);
        tx = be.batchTx();
        tx.put(MetaBucket, b("other"), b("x"));
        await tx.commit();
        expect(be.hash(DefaultIgnores)).not.toBe(h);
        // Everything ignored but the key bucket: the names of every bucket, then key's entries.
        const names = [...AllBuckets].sort((x, y) => compareBytes(b(x), b(y)));
        const want = new Crc32c();
        for (const n of names) {
          want.write(b(n));
          if (n === KeyBucket) want.write(b("a")).write(b("1"));
        }
        expect(be.hash((bucket) => bucket !== KeyBucket)).toBe(want.sum());
      });
    });

    describe("snapshot and restore", () => {
      const load = () =>
        withData((tx) => {
          for (let i = 0; i < 500; i++) tx.put(KeyBucket, b(`key/${i.toString().padStart(4, "0")}`), b(`v${i}`.repeat(40)));
          tx.put(KeyBucket, bytes(0x00), bytes());
          tx.put(KeyBucket, bytes(0xff, 0x00), bytes(0xff));
          tx.put(MetaBucket, MetaConsistentIndexKeyName, bytes(0, 0, 0, 0, 0, 0, 1, 0));
          tx.put(MembersBucket, b("8e9e05c52164694d"), b('{"id":1}'));
        });

      test("restore into a fresh backend gives identical contents, buckets and hash", async () => {
        const src = await load();
        const chunks = await collect(src.snapshot());
        expect(chunks.length).toBeGreaterThan(1); // 500 entries of ~200 B is more than one 64 KiB chunk
        const dst = await fresh();
        await dst.restore(streamOf(chunks));
        expect(read(dst, (r) => dump(r))).toEqual(read(src, (r) => dump(r)));
        expect(dst.hash()).toBe(src.hash());
        for (const bucket of AllBuckets) expect(read(dst, (r) => r.hasBucket(bucket))).toBe(true);
        expect(dst.sizeInUse()).toBeGreaterThan(0);
      });

      test("an empty backend round-trips; a snapshot of empty buckets keeps them", async () => {
        const empty = await fresh();
        const dst = await withData((tx) => tx.put(KeyBucket, b("a"), b("1")));
        await dst.restore(empty.snapshot());
        expect(dst.hash()).toBe(0);
        expect(read(dst, (r) => r.hasBucket(KeyBucket))).toBe(false);
        const buckets = await withData();
        const dst2 = await fresh();
        await dst2.restore(buckets.snapshot());
        expect(dst2.hash()).toBe(buckets.hash());
        expect(read(dst2, (r) => dump(r))).toEqual(Object.fromEntries(AllBuckets.map((n) => [n, []])));
      });

      test("the stream is the state when snapshot() was called; commits during streaming do not reach it", async () => {
        const src = await load();
        const before = read(src, (r) => dump(r));
        const hash = src.hash();
        const stream = src.snapshot();
        const tx = src.batchTx();
        tx.put(KeyBucket, b("late"), b("x"));
        tx.delete(KeyBucket, b("key/0001"));
        await tx.commit();
        const dst = await fresh();
        await dst.restore(stream);
        expect(read(dst, (r) => dump(r))).toEqual(before);
        expect(dst.hash()).toBe(hash);
      });

      test("restore replaces every bucket of a backend that had data", async () => {
        const src = await withData((tx) => tx.put(KeyBucket, b("new"), b("1")));
        const dst = await fresh();
        let tx = dst.batchTx();
        tx.createBucket("test");
        tx.createBucket(KeyBucket);
        tx.put(KeyBucket, b("old"), b("1"));
        await tx.commit();
        await dst.restore(src.snapshot());
        expect(read(dst, (r) => dump(r, [...AllBuckets, "test"]))).toEqual(read(src, (r) => dump(r)));
        tx = dst.batchTx(); // writable after restore
        tx.put(KeyBucket, b("after"), b("1"));
        await tx.commit();
      });

      test("a read transaction open across a restore keeps its old snapshot", async () => {
        const src = await withData((tx) => tx.put(KeyBucket, b("new"), b("1")));
        const dst = await withData((tx) => tx.put(KeyBucket, b("old"), b("1")));
        const r = dst.readTx();
        await dst.restore(src.snapshot());
        expect(keysOf(r.unsafeRange(KeyBucket, b("a"), b("z")))).toEqual([hex(b("old"))]);
        r.end();
        read(dst, (r2) => expect(keysOf(r2.unsafeRange(KeyBucket, b("a"), b("z")))).toEqual([hex(b("new"))]));
      });

      test("a corrupt or truncated stream is refused and the contents stay as they were", async () => {
        const src = await load();
        const whole = concat(await collect(src.snapshot()));
        const dst = await withData((tx) => tx.put(KeyBucket, b("mine"), b("1")));
        const before = read(dst, (r) => dump(r));
        const hash = dst.hash();
        const flipped = whole.slice();
        flipped[Math.floor(whole.length / 2)]! ^= 0x01;
        const cases: [string, Uint8Array[]][] = [
          ["flipped byte", [flipped]],
          ["truncated", [whole.subarray(0, whole.length - 3)]],
          ["cut at a record boundary", [whole.subarray(0, 100)]],
          ["trailing garbage", [whole, bytes(0)]],
          ["empty", []],
          ["not a snapshot", [b("hello, world, this is not a snapshot")]],
        ];
        for (const [, chunks] of cases) {
          await expect(dst.restore(streamOf(chunks))).rejects.toBeInstanceOf(ErrSnapshotCorrupt);
          expect(read(dst, (r) => dump(r))).toEqual(before);
          expect(dst.hash()).toBe(hash);
        }
      });

      test("chunk boundaries do not matter: the stream re-cut into 1..7-byte pieces restores the same", async () => {
        const src = await withData((tx) => {
          for (let i = 0; i < 20; i++) tx.put(KeyBucket, b(`k${i}`), b(`value ${i}`));
        });
        const whole = concat(await collect(src.snapshot()));
        const pieces: Uint8Array[] = [];
        for (let off = 0, n = 1; off < whole.length; off += n, n = (n % 7) + 1) pieces.push(whole.slice(off, off + n));
        const dst = await fresh();
        await dst.restore(streamOf(pieces));
        expect(dst.hash()).toBe(src.hash());
      });

      test("restore is refused while a batch is open", async () => {
        const src = await withData();
        const dst = await withData();
        const tx = dst.batchTx();
        await expect(Promise.resolve().then(() => dst.restore(src.snapshot()))).rejects.toThrow();
        tx.rollback();
      });
    });

    describe("size and defrag", () => {
      test("size grows with data; sizeInUse ≤ size always", async () => {
        const be = await withData();
        const s0 = be.size();
        const u0 = be.sizeInUse();
        expect(u0).toBeLessThanOrEqual(s0);
        const tx = be.batchTx();
        for (let i = 0; i < 1000; i++) tx.put(KeyBucket, b(`key${i}`), new Uint8Array(1024));
        await tx.commit();
        expect(be.sizeInUse()).toBeGreaterThanOrEqual(u0 + 1000 * 1024);
        expect(be.size()).toBeGreaterThanOrEqual(be.sizeInUse());
        expect(be.size()).toBeGreaterThan(s0);
      });

      test("deletes lower sizeInUse; defrag keeps every entry and the hash, and brings size down to sizeInUse", async () => {
        const be = await withData((tx) => {
          for (let i = 0; i < 1000; i++) tx.put(KeyBucket, b(`key${i}`), new Uint8Array(512).fill(i & 0xff));
        });
        const full = be.sizeInUse();
        const tx = be.batchTx();
        for (let i = 0; i < 1000; i += 2) tx.delete(KeyBucket, b(`key${i}`));
        await tx.commit();
        expect(be.sizeInUse()).toBeLessThan(full);
        expect(be.size()).toBeGreaterThanOrEqual(be.sizeInUse());
        const before = read(be, (r) => dump(r));
        const hash = be.hash();
        await be.defrag();
        expect(read(be, (r) => dump(r))).toEqual(before);
        expect(be.hash()).toBe(hash);
        expect(be.size()).toBe(be.sizeInUse());
        expect(be.size()).toBeLessThan(full);
      });
    });

    describe("close", () => {
      test("every call after close throws; close with an open batch is refused", async () => {
        const be = await withData();
        const tx = be.batchTx();
        await expect(Promise.resolve().then(() => be.close())).rejects.toThrow();
        tx.rollback();
        await be.close();
        expect(() => be.readTx()).toThrow();
        expect(() => be.batchTx()).toThrow();
        expect(() => be.hash()).toThrow();
      });
    });

    describe("property: random put/delete/commit/rollback/range against a Map model", () => {
      type Op =
        | { op: "put"; bucket: string; key: Uint8Array; value: Uint8Array }
        | { op: "delete"; bucket: string; key: Uint8Array }
        | { op: "commit" }
        | { op: "rollback" }
        | { op: "range"; bucket: string; key: Uint8Array; end: Uint8Array | undefined; limit: number; view: "batch" | "reader" }
        | { op: "openReader" };
      const key = fc.array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0x80, 0xff), { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a));
      const bucket = fc.constantFrom(KeyBucket, MetaBucket);
      const op: fc.Arbitrary<Op> = fc.oneof(
        { weight: 6, arbitrary: fc.record({ op: fc.constant("put" as const), bucket, key, value: fc.uint8Array({ maxLength: 4 }) }) },
        { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), bucket, key }) },
        { weight: 2, arbitrary: fc.record({ op: fc.constant("commit" as const) }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant("rollback" as const) }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant("openReader" as const) }) },
        {
          weight: 4,
          arbitrary: fc.record({
            op: fc.constant("range" as const),
            bucket,
            key,
            end: fc.option(fc.oneof(key, fc.constant(new Uint8Array(0))), { nil: undefined }),
            limit: fc.integer({ min: -1, max: 4 }),
            view: fc.constantFrom("batch" as const, "reader" as const),
          }),
        },
      );

      /** bucket → hex key → [key, value]. */
      type Model = Map<string, Map<string, [Uint8Array, Uint8Array]>>;
      const clone = (m: Model): Model => new Map([...m].map(([n, kv]) => [n, new Map(kv)]));
      const modelRange = (m: Model, bucket: string, key: Uint8Array, end: Uint8Array | undefined, limit: number) => {
        const rows = [...m.get(bucket)!.values()]
          .sort((x, y) => compareBytes(x[0], y[0]))
          .filter(([k]) => (end && end.length > 0 ? compareBytes(k, key) >= 0 && compareBytes(k, end) < 0 : compareBytes(k, key) === 0))
          .slice(0, limit > 0 ? limit : undefined);
        return { keys: rows.map((r) => r[0]), values: rows.map((r) => r[1]) };
      };
      const modelDump = (m: Model) =>
        Object.fromEntries(
          [...m].map(([n, kv]) => [n, [...kv.values()].sort((x, y) => compareBytes(x[0], y[0])).map(([k, v]) => [hex(k), hex(v)])]),
        );
      const modelHash = (m: Model) => {
        const h = new Crc32c();
        for (const n of [...m.keys()].sort((x, y) => compareBytes(b(x), b(y)))) {
          h.write(b(n));
          for (const [k, v] of [...m.get(n)!.values()].sort((x, y) => compareBytes(x[0], y[0]))) h.write(k).write(v);
        }
        return h.sum();
      };

      test("every range, every reader snapshot, the hash and a snapshot round-trip agree with the model", async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
            const be = await makeBackend();
            try {
              const init = be.batchTx();
              init.createBucket(KeyBucket);
              init.createBucket(MetaBucket);
              await init.commit();
              let committed: Model = new Map([[KeyBucket, new Map()], [MetaBucket, new Map()]]);
              let pending = clone(committed);
              let tx = be.batchTx();
              const readers: { tx: ReturnType<Backend["readTx"]>; model: Model }[] = [];
              for (const o of ops) {
                switch (o.op) {
                  case "put":
                    tx.put(o.bucket, o.key, o.value);
                    pending.get(o.bucket)!.set(hex(o.key), [o.key, o.value]);
                    break;
                  case "delete":
                    tx.delete(o.bucket, o.key);
                    pending.get(o.bucket)!.delete(hex(o.key));
                    break;
                  case "commit":
                    await tx.commit();
                    committed = pending;
                    pending = clone(committed);
                    tx = be.batchTx();
                    break;
                  case "rollback":
                    tx.rollback();
                    pending = clone(committed);
                    tx = be.batchTx();
                    break;
                  case "openReader":
                    readers.push({ tx: be.readTx(), model: committed });
                    break;
                  case "range": {
                    if (o.view === "batch") {
                      expect(tx.unsafeRange(o.bucket, o.key, o.end, o.limit)).toEqual(modelRange(pending, o.bucket, o.key, o.end, o.limit));
                    } else {
                      const r = be.readTx();
                      expect(r.unsafeRange(o.bucket, o.key, o.end, o.limit)).toEqual(modelRange(committed, o.bucket, o.key, o.end, o.limit));
                      r.end();
                    }
                    break;
                  }
                }
              }
              for (const r of readers) {
                expect(dump(r.tx, [KeyBucket, MetaBucket])).toEqual(modelDump(r.model));
                r.tx.end();
              }
              expect(be.hash()).toBe(modelHash(committed));
              tx.rollback();
              const copy = await makeBackend();
              try {
                await copy.restore(be.snapshot());
                expect(copy.hash()).toBe(modelHash(committed));
              } finally {
                await copy.close();
              }
            } finally {
              await be.close();
            }
          }),
          { numRuns: 200 },
        );
      });
    });
  });
}
