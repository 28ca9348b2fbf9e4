// Ports of etcd server/storage/mvcc kv_test.go and kvstore_test.go, over the MemoryBackend.
import { describe, expect, it } from "vitest";
import { leaseItemOf } from "../../src/lease/lease-item.js";
import { ErrCompacted, ErrFutureRev, MvccError } from "../../src/mvcc/errors.js";
import type { KV, RangeOptions, RangeResult } from "../../src/mvcc/kv.js";
import { newStore, type KvStore } from "../../src/mvcc/kvstore.js";
import type { KeyValue } from "../../src/mvcc/mvccpb.js";
import { revToBytes } from "../../src/mvcc/revision.js";
import { unsafeSetScheduledCompact, unsafeReadFinishedCompact } from "../../src/mvcc/store.js";
import { KeyBucket, type Backend } from "../../src/storage/backend.js";
import { crc32c } from "../../src/storage/crc32c.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import { allFrom, b, FakeLessor, kv, noSleep, put3TestKVs, testStore } from "./kvstore-helpers.js";

type RangeFn = (s: KvStore, key: Uint8Array, end: Uint8Array | undefined, ro?: RangeOptions) => RangeResult | MvccError;

const rangeFns: [string, RangeFn][] = [
  ["store.range", (s, k, e, ro) => s.range(k, e, ro)],
  [
    "read txn",
    (s, k, e, ro) => {
      const t = s.read();
      try {
        return t.range(k, e, ro);
      } finally {
        t.end();
      }
    },
  ],
  [
    "write txn",
    (s, k, e, ro) => {
      const t = s.write();
      try {
        return t.range(k, e, ro);
      } finally {
        t.end();
      }
    },
  ],
];

function ok(r: RangeResult | MvccError): RangeResult {
  if (r instanceof MvccError) throw r;
  return r;
}

function keyCount(backend: Backend): number {
  const tx = backend.readTx();
  let n = 0;
  tx.unsafeForEach(KeyBucket, () => {
    n++;
  });
  tx.end();
  return n;
}

describe.each(rangeFns)("range through %s", (_name, f) => {
  it("returns the keys of single keys, ranges and the whole keyspace (etcd testKVRange)", () => {
    const { s } = testStore();
    const kvs = put3TestKVs(s);
    const cases: [string, Uint8Array | undefined, KeyValue[]][] = [
      ["doo", b("foo"), []],
      ["foo", b("foo"), []],
      ["doo", undefined, []],
      ["foo", b("foo3"), kvs],
      ["foo", b("foo1"), kvs.slice(0, 1)],
      ["foo", undefined, kvs.slice(0, 1)],
      ["foo", new Uint8Array(0), kvs.slice(0, 1)],
      ["\0", allFrom, kvs],
      ["foo1", allFrom, kvs.slice(1)],
    ];
    for (const [key, end, want] of cases) {
      const r = ok(f(s, b(key), end));
      expect(r.rev).toBe(4);
      expect(r.kvs).toEqual(want);
      expect(r.count).toBe(want.length);
    }
  });

  it("reads past revisions (etcd testKVRangeRev)", () => {
    const { s } = testStore();
    const kvs = put3TestKVs(s);
    const cases: [number, KeyValue[]][] = [
      [-1, kvs],
      [0, kvs],
      [1, []],
      [2, kvs.slice(0, 1)],
      [3, kvs.slice(0, 2)],
      [4, kvs],
    ];
    for (const [rev, want] of cases) {
      const r = ok(f(s, b("foo"), b("foo3"), { rev }));
      expect(r.rev).toBe(4);
      expect(r.kvs).toEqual(want);
    }
  });

  it("refuses compacted and future revisions (etcd testKVRangeBadRev)", async () => {
    const { s } = testStore();
    put3TestKVs(s);
    const p = s.compact(4);
    expect(p).toBeInstanceOf(Promise);
    await p;
    const cases: [number, MvccError | undefined][] = [
      [-1, undefined],
      [0, undefined],
      [1, ErrCompacted],
      [2, ErrCompacted],
      [4, undefined],
      [5, ErrFutureRev],
      [100, ErrFutureRev],
    ];
    for (const [rev, werr] of cases) {
      const r = f(s, b("foo"), b("foo3"), { rev });
      if (werr) expect(r).toBe(werr);
      else expect(r).not.toBeInstanceOf(Error);
    }
  });

  it("limits kvs but counts every key (etcd testKVRangeLimit)", () => {
    const { s } = testStore();
    const kvs = put3TestKVs(s);
    const cases: [number, KeyValue[]][] = [
      [0, kvs],
      [-1, kvs],
      [1, kvs.slice(0, 1)],
      [2, kvs.slice(0, 2)],
      [3, kvs],
      [100, kvs],
    ];
    for (const [limit, want] of cases) {
      const r = ok(f(s, b("foo"), b("foo3"), { limit }));
      expect(r.kvs).toEqual(want);
      expect(r.count).toBe(3);
      expect(r.rev).toBe(4);
    }
  });

  it("counts without reading values with countOnly", () => {
    const { s } = testStore();
    put3TestKVs(s);
    const r = ok(f(s, b("foo"), b("foo3"), { countOnly: true, rev: 3 }));
    expect(r).toEqual({ kvs: [], count: 2, rev: 4 });
  });
});

describe("put", () => {
  it("bumps version and mod revision, keeps create revision (etcd testKVPutMultipleTimes)", () => {
    const { s } = testStore();
    for (let i = 0; i < 10; i++) {
      const base = i + 1;
      const rev = s.put(b("foo"), b("bar"), BigInt(base));
      expect(rev).toBe(base + 1);
      const r = ok(s.range(b("foo"), undefined));
      expect(r.kvs).toEqual([kv("foo", "bar", 2, base + 1, base, BigInt(base))]);
    }
  });

  it("starts a new life with version 1 after a delete", () => {
    const { s } = testStore();
    s.put(b("foo"), b("a"), 0n);
    s.put(b("foo"), b("b"), 0n);
    s.deleteRange(b("foo"));
    s.put(b("foo"), b("c"), 0n);
    expect(ok(s.range(b("foo"), undefined)).kvs).toEqual([kv("foo", "c", 5, 5, 1)]);
    expect(ok(s.range(b("foo"), undefined, { rev: 3 })).kvs).toEqual([kv("foo", "b", 2, 3, 2)]);
    expect(ok(s.range(b("foo"), undefined, { rev: 4 })).kvs).toEqual([]);
  });

  it("stores copies: a caller reusing its arrays changes nothing", () => {
    const { s } = testStore();
    const key = b("foo");
    const val = b("bar");
    s.put(key, val, 0n);
    key[0] = 0x7a;
    val[0] = 0x7a;
    expect(ok(s.range(b("foo"), undefined)).kvs).toEqual([kv("foo", "bar", 2, 2, 1)]);
  });
});

describe("deleteRange", () => {
  it("deletes single keys and ranges, reporting the count and revision (etcd testKVDeleteRange)", () => {
    const cases: [string, Uint8Array | undefined, number, number][] = [
      ["foo", undefined, 5, 1],
      ["foo", b("foo1"), 5, 1],
      ["foo", b("foo2"), 5, 2],
      ["foo", b("foo3"), 5, 3],
      ["foo3", b("foo8"), 4, 0],
      ["foo3", undefined, 4, 0],
      ["foo", allFrom, 5, 3],
      ["\0", allFrom, 5, 3],
    ];
    for (const [key, end, wrev, wn] of cases) {
      const { s } = testStore();
      s.put(b("foo"), b("bar"), 0n);
      s.put(b("foo1"), b("bar1"), 0n);
      s.put(b("foo2"), b("bar2"), 0n);
      expect(s.deleteRange(b(key), end)).toEqual({ n: wn, rev: wrev });
      expect(s.rev()).toBe(wrev);
    }
  });

  it("deletes a key once; a second delete changes nothing (etcd testKVDeleteMultipleTimes)", () => {
    const { s } = testStore();
    s.put(b("foo"), b("bar"), 0n);
    expect(s.deleteRange(b("foo"))).toEqual({ n: 1, rev: 3 });
    for (let i = 0; i < 10; i++) expect(s.deleteRange(b("foo"))).toEqual({ n: 0, rev: 3 });
  });

  it("writes a tombstone revision to the backend and detaches the key's lease", () => {
    const le = new FakeLessor();
    const { s, backend } = testStore({}, new MemoryBackend(), le);
    s.put(b("foo"), b("bar"), 7n);
    expect(le.attached.get(leaseItemOf(b("foo")).key)).toBe(7n);
    s.deleteRange(b("foo"));
    expect(le.attached.size).toBe(0);
    const tx = backend.readTx();
    const { keys } = tx.unsafeRange(KeyBucket, revToBytes({ main: 0, sub: 0 }), allFrom.length ? new Uint8Array([0xff]) : undefined);
    tx.end();
    expect(keys.map((k) => k.length)).toEqual([17, 18]);
    expect(keys[1]![17]).toBe("t".charCodeAt(0));
  });
});

describe("write txn", () => {
  it("writes every operation at one revision with increasing sub revisions (etcd TestKVTxnOperationInSequence)", () => {
    const { s, backend } = testStore();
    const txn = s.write();
    expect(txn.put(b("foo"), b("bar"), 0n)).toBe(2);
    expect(ok(txn.range(b("foo"), undefined)).kvs).toEqual([kv("foo", "bar", 2, 2, 1)]);
    expect(txn.put(b("foo1"), b("bar1"), 0n)).toBe(2);
    expect(txn.deleteRange(b("foo"))).toEqual({ n: 1, rev: 2 });
    expect(ok(txn.range(b("foo"), b("foo2"))).kvs).toEqual([kv("foo1", "bar1", 2, 2, 1)]);
    expect(txn.changes().length).toBe(3);
    txn.end();
    expect(s.rev()).toBe(2);
    const tx = backend.readTx();
    const { keys } = tx.unsafeRange(KeyBucket, revToBytes({ main: 2, sub: 0 }), revToBytes({ main: 3, sub: 0 }));
    tx.end();
    expect(keys.length).toBe(3);
    expect(keys.map((k) => k[16])).toEqual([0, 1, 2]);
  });

  it("a txn that changes nothing keeps the revision", () => {
    const { s } = testStore();
    s.put(b("foo"), b("bar"), 0n);
    const txn = s.write();
    expect(txn.deleteRange(b("nope"))).toEqual({ n: 0, rev: 2 });
    expect(ok(txn.range(b("foo"), undefined)).rev).toBe(2);
    txn.end();
    expect(s.rev()).toBe(2);
    expect(s.put(b("foo"), b("x"), 0n)).toBe(3);
  });

  it("is invisible to readers until it ends, then visible at once", () => {
    const { s } = testStore();
    const txn = s.write();
    txn.put(b("foo"), b("bar"), 0n);
    const before = s.read();
    expect(before.rev()).toBe(1);
    expect(ok(before.range(b("foo"), undefined)).kvs).toEqual([]);
    before.end();
    txn.end();
    expect(ok(s.range(b("foo"), undefined)).kvs).toEqual([kv("foo", "bar", 2, 2, 1)]);
  });
});

describe("compaction", () => {
  it("keeps the latest value of each key at the compacted revision (etcd TestKVCompactReserveLastValue)", async () => {
    const { s } = testStore();
    s.put(b("foo"), b("bar0"), 1n);
    s.put(b("foo"), b("bar1"), 2n);
    s.deleteRange(b("foo"));
    s.put(b("foo"), b("bar2"), 3n);
    const cases: [number, KeyValue[]][] = [
      [1, [kv("foo", "bar0", 2, 2, 1, 1n)]],
      [2, [kv("foo", "bar1", 2, 3, 2, 2n)]],
      [3, []],
      [4, [kv("foo", "bar2", 5, 5, 1, 3n)]],
    ];
    for (const [rev, want] of cases) {
      await s.compact(rev);
      expect(ok(s.range(b("foo"), undefined, { rev: rev + 1 })).kvs).toEqual(want);
    }
  });

  it("refuses compacted and future revisions (etcd TestKVCompactBad)", async () => {
    const { s } = testStore();
    s.put(b("foo"), b("bar0"), 0n);
    s.put(b("foo"), b("bar1"), 0n);
    s.put(b("foo"), b("bar2"), 0n);
    const cases: [number, MvccError | undefined][] = [
      [0, undefined],
      [1, undefined],
      [1, ErrCompacted],
      [4, undefined],
      [5, ErrFutureRev],
      [100, ErrFutureRev],
    ];
    for (const [rev, werr] of cases) {
      const r = s.compact(rev);
      if (werr) expect(r).toBe(werr);
      else await r;
    }
  });

  it("removes superseded revisions from the backend and keeps a tombstone at the compacted revision", async () => {
    const { s, backend } = testStore();
    s.put(b("a"), b("1"), 0n); // 2
    s.put(b("a"), b("2"), 0n); // 3
    s.put(b("b"), b("1"), 0n); // 4
    s.deleteRange(b("b")); // 5
    s.put(b("c"), b("1"), 0n); // 6
    expect(keyCount(backend)).toBe(5);
    await s.compact(5);
    // a@3 (live), b's tombstone @5 (a watcher from 5 must still see the delete), c@6.
    expect(keyCount(backend)).toBe(3);
    expect(s.kvindex.rangeSince(b("b"), undefined, 5)).toEqual([{ main: 5, sub: 0 }]);
    await s.compact(6);
    expect(keyCount(backend)).toBe(2);
    const r = ok(s.range(b("\0"), allFrom));
    expect(r.kvs).toEqual([kv("a", "2", 2, 3, 2), kv("c", "1", 6, 6, 1)]);
  });

  it("runs in bounded batches while writes and reads go on", async () => {
    const releases: (() => void)[] = [];
    const sleep = (): Promise<void> => new Promise((resolve) => releases.push(resolve));
    const { s, backend } = testStore({ compactionBatchLimit: 10, sleep });
    for (let i = 0; i < 100; i++) s.put(b("k"), b(String(i)), 0n); // revisions 2..101
    const done = s.compact(101) as Promise<void>;
    let finished = false;
    void done.then(() => (finished = true));
    const counts: number[] = [];
    for (let step = 0; step < 20 && !finished; step++) {
      await new Promise((r) => setTimeout(r, 0));
      counts.push(keyCount(backend));
      // A write and a read between batches.
      s.put(b(`other${step}`), b("v"), 0n);
      expect(ok(s.range(b("k"), undefined)).kvs[0]!.version).toBe(100);
      releases.shift()?.();
    }
    await done;
    expect(finished).toBe(true);
    // Each batch removed at most 10 revisions: the count fell gradually, never all at once.
    for (let i = 1; i < counts.length; i++) expect(counts[i - 1]! - counts[i]! + 1).toBeLessThanOrEqual(10);
    expect(counts.length).toBeGreaterThanOrEqual(9);
    const tx = backend.readTx();
    expect(unsafeReadFinishedCompact(tx)).toBe(101);
    tx.end();
    expect(ok(s.range(b("k"), undefined)).kvs).toEqual([kv("k", "99", 2, 101, 100)]);
  });
});

describe("hash", () => {
  function history(s: KV): void {
    s.put(b("foo"), b("bar0"), 0n);
    s.put(b("foo1"), b("bar1"), 0n);
    s.put(b("foo"), b("bar2"), 0n);
    s.deleteRange(b("foo1"));
    s.put(b("foo2"), b("bar3"), 0n);
  }

  it("is equal for equal histories and differs after a write", () => {
    const x = testStore().s;
    const y = testStore().s;
    history(x);
    history(y);
    expect(x.hash()).toEqual(y.hash());
    expect(x.hashByRev(0)).toEqual(y.hashByRev(0));
    y.put(b("z"), b("z"), 0n);
    expect(x.hash().hash).not.toBe(y.hash().hash);
    expect(x.hashByRev(0)).not.toEqual(y.hashByRev(0));
    // Up to revision 6 they still agree.
    const hx = x.hashByRev(6);
    const hy = y.hashByRev(6);
    expect(hx).not.toBeInstanceOf(Error);
    expect((hx as { hash: unknown }).hash).toEqual((hy as { hash: unknown }).hash);
  });

  it("a compaction's hash equals hashByRev at that revision taken just before it (etcd TestCompactionHash)", async () => {
    const { s } = testStore();
    history(s);
    s.deleteRange(b("foo2")); // a tombstone at exactly the compaction revision 7
    for (let i = 0; i < 5; i++) s.put(b(`k${i}`), b(`v${i}`), 0n);
    await s.compact(3);
    for (const rev of [5, 7, 9]) {
      const before = s.hashByRev(rev) as { hash: unknown };
      await s.compact(rev);
      expect(s.hashes.hashes().at(-1)).toEqual(before.hash);
    }
    expect(s.hashByRev(6)).toBe(ErrCompacted);
    expect(s.hashByRev(100)).toBe(ErrFutureRev);
  });

  it("skips a tombstone at the compacted revision, so versions that deleted it hash the same", async () => {
    // etcd ≤ 3.5.15 removed a tombstone at the compaction revision; newer ones keep it (#18089) and
    // leave it out of the hash. Here the backend holds nothing but that tombstone afterwards.
    const { s, backend } = testStore();
    s.put(b("a"), b("1"), 0n);
    s.deleteRange(b("a"));
    await s.compact(3);
    expect(keyCount(backend)).toBe(1);
    const h = s.hashByRev(0) as { hash: { hash: number } };
    expect(h.hash.hash).toBe(crc32c(b(KeyBucket)));
  });

  it("remembers the hash a compaction computed (etcd hashStorage)", async () => {
    const { s } = testStore();
    history(s);
    await s.compact(2);
    await s.compact(4);
    const stored = s.hashes.hashes();
    expect(stored.map((h) => [h.compactRevision, h.revision])).toEqual([
      [-1, 2],
      [2, 4],
    ]);
    expect(s.hashByRev(4)).toEqual({ hash: stored[1], currentRev: 6 });
  });

  it("matches a compacted store whose history is the same after the compaction", async () => {
    // A member that compacted at 4 and one that compacted at 4 later must agree on hashByRev(6).
    const x = testStore().s;
    const y = testStore().s;
    history(x);
    await x.compact(4);
    history(y);
    await y.compact(4);
    expect(x.hashByRev(6)).toEqual(y.hashByRev(6));
  });
});

describe("restore", () => {
  const histories: [string, (s: KvStore) => Promise<void> | void][] = [
    [
      "puts with leases",
      (s) => {
        s.put(b("foo"), b("bar0"), 1n);
        s.put(b("foo"), b("bar1"), 2n);
        s.put(b("foo"), b("bar2"), 3n);
        s.put(b("foo2"), b("bar0"), 1n);
      },
    ],
    [
      "delete and put again",
      (s) => {
        s.put(b("foo"), b("bar0"), 1n);
        s.deleteRange(b("foo"));
        s.put(b("foo"), b("bar1"), 2n);
      },
    ],
    [
      "compacted",
      async (s) => {
        s.put(b("foo"), b("bar0"), 1n);
        s.put(b("foo"), b("bar1"), 2n);
        await s.compact(1);
      },
    ],
    [
      "a key left with only its tombstone (etcd TestKVRestore #3)",
      async (s) => {
        for (let i = 1; i <= 5; i++) s.put(b(`foo${i}`), b(`bar${i}`), 0n);
        const { rev } = s.deleteRange(b("foo1"));
        expect(rev).toBe(7);
        await s.compact(rev);
      },
    ],
  ];

  it.each(histories)("rebuilds the same history from the backend: %s", async (_name, h) => {
    const backend = new MemoryBackend();
    const s = newStore(backend, new FakeLessor(), { compactionBatchLimit: 5, sleep: noSleep });
    await h(s);
    const read = (st: KvStore): unknown[] => {
      const out: unknown[] = [];
      for (let k = 0; k < 10; k++) out.push(st.range(b("a"), b("z"), { rev: k }));
      return out;
    };
    const want = read(s);
    s.close();
    const ns = newStore(backend, new FakeLessor(), { compactionBatchLimit: 5, sleep: noSleep });
    await ns.compactionsDone();
    expect(read(ns)).toEqual(want);
    expect(ns.rev()).toBe(s.rev());
    expect(ns.firstRev()).toBe(s.firstRev());
    expect(ns.hashByRev(0)).toEqual(s.hashByRev(0));
  });

  it("re-attaches each live key's latest lease, not deleted keys' (etcd TestStoreRestore)", () => {
    const backend = new MemoryBackend();
    const s = newStore(backend, new FakeLessor());
    s.put(b("a"), b("1"), 5n);
    s.put(b("a"), b("2"), 6n);
    s.put(b("b"), b("1"), 7n);
    s.deleteRange(b("b"));
    s.put(b("c"), b("1"), 0n);
    const le = new FakeLessor();
    newStore(backend, le);
    expect([...le.attached]).toEqual([[leaseItemOf(b("a")).key, 6n]]);
  });

  it("resumes a compaction that was scheduled but not finished (etcd TestRestoreContinueUnfinishedCompaction)", async () => {
    const backend = new MemoryBackend();
    const s = newStore(backend, new FakeLessor());
    s.put(b("foo"), b("bar0"), 0n);
    s.put(b("foo"), b("bar1"), 0n);
    s.put(b("foo"), b("bar2"), 0n);
    // Crash right after scheduling a compaction at 3: the meta bucket says scheduled, not finished.
    const tx = backend.batchTx();
    unsafeSetScheduledCompact(tx, 3);
    await tx.commit();
    s.close();
    expect(keyCount(backend)).toBe(3);
    const ns = newStore(backend, new FakeLessor(), { sleep: noSleep });
    expect(ns.firstRev()).toBe(3);
    expect(ns.range(b("foo"), undefined, { rev: 2 })).toBe(ErrCompacted);
    await ns.compactionsDone();
    expect(keyCount(backend)).toBe(2);
    const rtx = backend.readTx();
    expect(unsafeReadFinishedCompact(rtx)).toBe(3);
    rtx.end();
    // A resumed compaction's hash is not stored: its predecessor is unknown.
    expect(ns.hashes.hashes()).toEqual([]);
  });

  it("moves a whole store through the backend's snapshot stream", async () => {
    const { s, backend } = testStore();
    for (let i = 0; i < 50; i++) s.put(b(`key${i % 7}`), b(`v${i}`), BigInt(i % 3));
    s.deleteRange(b("key3"));
    await s.compact(20);
    const target = new MemoryBackend();
    await target.restore(backend.snapshot());
    const ns = newStore(target, new FakeLessor());
    expect(ns.rev()).toBe(s.rev());
    expect(ns.firstRev()).toBe(20);
    for (let rev = 20; rev <= s.rev(); rev++) expect(ns.range(b("\0"), allFrom, { rev })).toEqual(s.range(b("\0"), allFrom, { rev }));
    expect(ns.hashByRev(0)).toEqual(s.hashByRev(0));
    expect(ns.hash().hash).toBe(s.hash().hash);
  });

  it("restore() rebuilds in place after the backend's contents are replaced", async () => {
    const a = testStore();
    a.s.put(b("x"), b("1"), 0n);
    a.s.put(b("y"), b("2"), 0n);
    const c = testStore();
    c.s.put(b("z"), b("3"), 0n);
    await c.backend.restore(a.backend.snapshot());
    c.s.restore();
    expect(ok(c.s.range(b("\0"), allFrom)).kvs).toEqual([kv("x", "1", 2, 2, 1), kv("y", "2", 3, 3, 1)]);
    expect(c.s.rev()).toBe(3);
  });
});
