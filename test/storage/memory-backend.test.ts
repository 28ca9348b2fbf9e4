/**
 * MemoryBackend (src/storage/memory-backend.ts): the shared Backend conformance suite, plus what is
 * particular to memory — its size estimate, the high-water mark that only defrag lowers, and the cost of
 * a commit (the B+tree path it copies, not the bucket).
 */
import { describe, expect, test } from "vitest";
import { KeyBucket, compareBytes } from "../../src/storage/backend.js";
import { MinEntries, btreeNodesCopied } from "../../src/storage/btree.js";
import { BucketOverhead, EntryOverhead, MemoryBackend } from "../../src/storage/memory-backend.js";
import { runBackendConformance } from "./backend-conformance.js";

runBackendConformance("MemoryBackend", () => new MemoryBackend());

const b = (s: string) => new TextEncoder().encode(s);

describe("MemoryBackend sizes", () => {
  test("sizeInUse counts names, keys and values plus the fixed overheads", async () => {
    const be = new MemoryBackend();
    expect([be.size(), be.sizeInUse()]).toEqual([0, 0]);
    const tx = be.batchTx();
    tx.createBucket(KeyBucket);
    tx.put(KeyBucket, b("a"), b("bc"));
    await tx.commit();
    const want = BucketOverhead + 3 + EntryOverhead + 1 + 2;
    expect([be.size(), be.sizeInUse()]).toEqual([want, want]);
  });

  test("size keeps its high-water mark after deletes, as a bbolt file keeps its pages, until defrag", async () => {
    const be = new MemoryBackend();
    let tx = be.batchTx();
    tx.createBucket(KeyBucket);
    tx.put(KeyBucket, b("a"), new Uint8Array(1000));
    await tx.commit();
    const high = be.size();
    tx = be.batchTx();
    tx.delete(KeyBucket, b("a"));
    await tx.commit();
    expect(be.size()).toBe(high);
    expect(be.sizeInUse()).toBe(BucketOverhead + 3);
    await be.defrag();
    expect(be.size()).toBe(BucketOverhead + 3);
  });

  test("a hundred thousand keys in etcd-sized batches, with a reader holding the first snapshot", async () => {
    const be = new MemoryBackend();
    let tx = be.batchTx();
    tx.createBucket(KeyBucket);
    await tx.commit();
    const first = be.readTx();
    for (let batch = 0; batch < 10; batch++) {
      tx = be.batchTx();
      for (let i = 0; i < 10_000; i++) tx.put(KeyBucket, b(`k${((i * 7919 + batch) % 100_000).toString().padStart(6, "0")}/${batch}`), b("v"));
      await tx.commit();
    }
    const r = be.readTx();
    let n = 0;
    let ordered = true;
    let prev: Uint8Array = new Uint8Array(0);
    r.unsafeForEach(KeyBucket, (k) => {
      ordered &&= compareBytes(prev, k) < 0;
      prev = k;
      n++;
    });
    expect(n).toBe(100_000);
    expect(ordered).toBe(true);
    expect(first.unsafeRange(KeyBucket, b("k"), b("l")).keys).toHaveLength(0);
    first.end();
    r.end();
  });
});

describe("MemoryBackend commit cost", () => {
  test("a commit of one write into a 200k-key bucket copies O(log n) tree nodes, while an older reader keeps its view", async () => {
    const be = new MemoryBackend();
    const key = (i: number) => b(`k${i.toString().padStart(7, "0")}`);
    let tx = be.batchTx();
    tx.createBucket(KeyBucket);
    await tx.commit();
    for (let batch = 0; batch < 20; batch++) {
      tx = be.batchTx();
      for (let i = 0; i < 10_000; i++) tx.put(KeyBucket, key(batch * 10_000 + i), b("v"));
      await tx.commit();
    }
    const reader = be.readTx();
    const inUse = be.sizeInUse();

    const before = btreeNodesCopied();
    tx = be.batchTx();
    tx.put(KeyBucket, key(123_456), b("new"));
    await tx.commit();
    const copied = btreeNodesCopied() - before;

    // One root-to-leaf path: the height of a tree whose non-root nodes hold ≥ MinEntries each.
    const bound = 1 + Math.ceil(Math.log(200_000 / MinEntries) / Math.log(MinEntries));
    expect(copied).toBeGreaterThanOrEqual(1);
    expect(copied).toBeLessThanOrEqual(bound);
    expect(be.sizeInUse()).toBe(inUse + 2);
    expect(be.readTx().unsafeRange(KeyBucket, key(123_456)).values).toEqual([b("new")]);
    expect(reader.unsafeRange(KeyBucket, key(123_456)).values).toEqual([b("v")]);
    reader.end();
  });
});
