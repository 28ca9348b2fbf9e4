/**
 * MemoryBackend: the `Backend` of tests and ephemeral members.
 *
 * Committed state is an immutable map of buckets, each a persistent B+tree (btree.ts). The open batch
 * starts a `BTreeBatch` per bucket it writes, which path-copies the nodes a write touches (each at
 * most once per batch) and reads its own writes as a plain tree. `commit()` persists those trees and
 * swaps in a new map: O(m log n) for m writes into a bucket of n keys, however large the bucket. A
 * read transaction holds the old map, whose trees no later batch changes, so it keeps its snapshot for
 * free; `rollback()` drops the batch's trees.
 *
 * Sizes are estimates: keys, values and bucket names plus a fixed overhead per entry and bucket.
 * `size()` is the high-water mark of `sizeInUse()` since the last defrag or restore, as a bbolt file
 * keeps its pages after deletes.
 */
import {
  type Backend,
  type BatchTx,
  type ForEachVisitor,
  type HashIgnores,
  type RangeResult,
  type ReadTx,
  type ReadView,
  compareBytes,
} from "./backend.js";
import { decodeBackendSnapshot, encodeBackendSnapshot } from "./backend-snapshot.js";
import { BTree, type BTreeBatch } from "./btree.js";
import { Crc32c } from "./crc32c.js";

/** Estimated bytes per entry beyond its key and value (bbolt's leaf element header is 16). */
export const EntryOverhead = 16;
/** Estimated bytes per bucket beyond its name (bbolt's bucket header plus a page). */
export const BucketOverhead = 64;

interface Bucket {
  readonly tree: BTree<Uint8Array>;
  /** Estimated bytes: name, overhead and entries. */
  readonly bytes: number;
}

type State = ReadonlyMap<string, Bucket>;

/** A bucket the open batch has created or written: its copy-on-write tree and running size. */
interface Pending {
  readonly tree: BTreeBatch<Uint8Array>;
  bytes: number;
}

/** What a read needs of a bucket: a committed tree or the batch's tree. */
type Readable = Pick<BTree<Uint8Array>, "forEach">;

const utf8 = new TextEncoder();

export class MemoryBackend implements Backend {
  private state: State = new Map();
  private batch: MemoryBatchTx | undefined;
  private restoring = false;
  private closed = false;
  private inUse = 0;
  private highWater = 0;

  batchTx(): BatchTx {
    this.checkOpen();
    if (this.batch) throw new Error("backend: a batch transaction is already open");
    if (this.restoring) throw new Error("backend: restore in progress");
    this.batch = new MemoryBatchTx(this.state, (pending) => this.finishBatch(pending));
    return this.batch;
  }

  readTx(): ReadTx {
    this.checkOpen();
    return new MemoryReadTx(this.state);
  }

  hash(ignores?: HashIgnores): number {
    this.checkOpen();
    const h = new Crc32c();
    for (const name of sortedNames(this.state)) {
      h.write(utf8.encode(name));
      this.state.get(name)!.tree.forEach((k, v) => {
        if (ignores?.(name, k)) return;
        h.write(k);
        h.write(v);
      });
    }
    return h.sum();
  }

  size(): number {
    this.checkOpen();
    return this.highWater;
  }

  sizeInUse(): number {
    this.checkOpen();
    return this.inUse;
  }

  snapshot(): AsyncIterable<Uint8Array> {
    this.checkOpen();
    const state = this.state; // captured now: later commits do not reach the stream
    return encodeBackendSnapshot(sortedNames(state).map((name) => ({ name, entries: state.get(name)!.tree.entries() })));
  }

  async restore(stream: AsyncIterable<Uint8Array>): Promise<void> {
    this.checkOpen();
    if (this.batch) throw new Error("backend: cannot restore while a batch transaction is open");
    if (this.restoring) throw new Error("backend: restore in progress");
    this.restoring = true;
    try {
      const staged = new Map<string, { keys: Uint8Array[]; values: Uint8Array[] }>();
      let current: { keys: Uint8Array[]; values: Uint8Array[] } | undefined;
      for await (const r of decodeBackendSnapshot(stream)) {
        if (r.kind === "bucket") {
          current = { keys: [], values: [] };
          staged.set(r.name, current);
        } else {
          current!.keys.push(r.key);
          current!.values.push(r.value);
        }
      }
      // The decoder refuses keys out of order, so each bucket is sorted: build its tree in O(n).
      const next = new Map<string, Bucket>();
      for (const [name, b] of staged) {
        let bytes = bucketBytes(name);
        for (let i = 0; i < b.keys.length; i++) bytes += entryBytes(b.keys[i]!, b.values[i]!);
        next.set(name, { tree: BTree.fromSorted(b.keys, b.values), bytes });
      }
      this.state = next;
      this.inUse = totalBytes(next);
      this.highWater = this.inUse;
    } finally {
      this.restoring = false;
    }
  }

  async defrag(): Promise<void> {
    this.checkOpen();
    this.highWater = this.inUse;
  }

  async close(): Promise<void> {
    this.checkOpen();
    if (this.batch) throw new Error("backend: cannot close while a batch transaction is open");
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("backend: closed");
  }

  /** Called by the batch on commit (with the buckets it wrote) or rollback (undefined). */
  private finishBatch(pending: Map<string, Pending> | undefined): void {
    this.batch = undefined;
    if (!pending || pending.size === 0) return;
    const next = new Map(this.state);
    for (const [name, p] of pending) next.set(name, { tree: p.tree.persist(), bytes: p.bytes });
    this.state = next;
    this.inUse = totalBytes(next);
    this.highWater = Math.max(this.highWater, this.inUse);
  }
}

class MemoryReadTx implements ReadTx {
  private ended = false;

  constructor(private readonly state: State) {}

  unsafeRange(bucket: string, key: Uint8Array, endKey?: Uint8Array, limit?: number): RangeResult {
    this.check();
    return range(mustBucket(this.state, bucket).tree, key, endKey, limit);
  }

  unsafeForEach(bucket: string, visitor: ForEachVisitor): void {
    this.check();
    mustBucket(this.state, bucket).tree.forEach(visitor);
  }

  hasBucket(bucket: string): boolean {
    this.check();
    return this.state.has(bucket);
  }

  end(): void {
    this.ended = true;
  }

  private check(): void {
    if (this.ended) throw new Error("backend: read transaction already ended");
  }
}

class MemoryBatchTx implements BatchTx, ReadView {
  /** Buckets created or written by this batch; undefined once it has ended. */
  private pending: Map<string, Pending> | undefined = new Map();

  constructor(
    private readonly base: State,
    private readonly finish: (pending: Map<string, Pending> | undefined) => void,
  ) {}

  hasBucket(bucket: string): boolean {
    return this.base.has(bucket) || this.live().has(bucket);
  }

  createBucket(bucket: string): void {
    if (!this.hasBucket(bucket)) {
      this.live().set(bucket, { tree: BTree.empty<Uint8Array>().batch(), bytes: bucketBytes(bucket) });
    }
  }

  put(bucket: string, key: Uint8Array, value: Uint8Array): void {
    if (key.length === 0) throw new Error("backend: key required");
    const p = this.writable(bucket);
    const k = key.slice();
    const v = value.slice();
    const old = p.tree.set(k, v);
    p.bytes += entryBytes(k, v) - (old ? entryBytes(k, old) : 0);
  }

  delete(bucket: string, key: Uint8Array): void {
    const p = this.writable(bucket);
    const old = p.tree.delete(key);
    if (old) p.bytes -= entryBytes(key, old);
  }

  unsafeRange(bucket: string, key: Uint8Array, endKey?: Uint8Array, limit?: number): RangeResult {
    return range(this.readable(bucket), key, endKey, limit);
  }

  unsafeForEach(bucket: string, visitor: ForEachVisitor): void {
    this.readable(bucket).forEach(visitor);
  }

  async commit(): Promise<void> {
    const p = this.live();
    this.pending = undefined;
    this.finish(p);
  }

  rollback(): void {
    this.live();
    this.pending = undefined;
    this.finish(undefined);
  }

  private live(): Map<string, Pending> {
    if (!this.pending) throw new Error("backend: batch transaction already ended");
    return this.pending;
  }

  private readable(bucket: string): Readable {
    const p = this.live().get(bucket);
    if (p) return p.tree;
    return mustBucket(this.base, bucket).tree;
  }

  /** The batch's tree of `bucket`, started from the committed tree on the first write. */
  private writable(bucket: string): Pending {
    const pending = this.live();
    let p = pending.get(bucket);
    if (!p) {
      const b = mustBucket(this.base, bucket);
      p = { tree: b.tree.batch(), bytes: b.bytes };
      pending.set(bucket, p);
    }
    return p;
  }
}

function mustBucket(state: State, bucket: string): Bucket {
  const b = state.get(bucket);
  if (!b) throw new Error(`backend: bucket ${JSON.stringify(bucket)} does not exist`);
  return b;
}

/** etcd's UnsafeRange over one tree; see `ReadView.unsafeRange`. */
function range(tree: Readable, key: Uint8Array, endKey: Uint8Array | undefined, limit: number | undefined): RangeResult {
  const out: RangeResult = { keys: [], values: [] };
  const max = limit !== undefined && limit > 0 ? limit : Infinity;
  const single = !endKey || endKey.length === 0;
  tree.forEach((k, v) => {
    if (single ? compareBytes(k, key) !== 0 : compareBytes(k, endKey) >= 0) return false;
    out.keys.push(k);
    out.values.push(v);
    return out.keys.length < max;
  }, key);
  return out;
}

function entryBytes(key: Uint8Array, value: Uint8Array): number {
  return EntryOverhead + key.length + value.length;
}

function bucketBytes(name: string): number {
  return BucketOverhead + utf8.encode(name).length;
}

function totalBytes(state: State): number {
  let n = 0;
  for (const b of state.values()) n += b.bytes;
  return n;
}

/** Bucket names in byte order of their UTF-8 encoding (bbolt's root cursor order). */
function sortedNames(state: State): string[] {
  return [...state.keys()]
    .map((name) => ({ name, bytes: utf8.encode(name) }))
    .sort((a, b) => compareBytes(a.bytes, b.bytes))
    .map((x) => x.name);
}
