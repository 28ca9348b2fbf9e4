/**
 * MemoryBackend: the `Backend` of tests and ephemeral members.
 *
 * Committed state is an immutable map of buckets, each a pair of parallel sorted arrays (binary search
 * for lookups). The open batch writes into an overlay per bucket (sorted, `null` for a delete) that its
 * own reads merge over the committed arrays. `commit()` merges each touched bucket into new arrays and
 * swaps in a new map, so a read transaction holding the old map keeps its snapshot for free. A commit
 * costs O(n + m) per touched bucket of n keys and m writes — fine at etcd's batch sizes (≤ 10000 writes)
 * for stores of up to about a million keys; a persistent B-tree would make it O(m log n).
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
import { Crc32c } from "./crc32c.js";

/** Estimated bytes per entry beyond its key and value (bbolt's leaf element header is 16). */
export const EntryOverhead = 16;
/** Estimated bytes per bucket beyond its name (bbolt's bucket header plus a page). */
export const BucketOverhead = 64;

interface Bucket {
  readonly keys: readonly Uint8Array[];
  readonly values: readonly Uint8Array[];
  /** Estimated bytes: name, overhead and entries. */
  readonly bytes: number;
}

type State = ReadonlyMap<string, Bucket>;

interface Overlay {
  keys: Uint8Array[];
  /** null: deleted in this batch. */
  values: (Uint8Array | null)[];
}

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
    this.batch = new MemoryBatchTx(this.state, (overlays) => this.finishBatch(overlays));
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
      const b = this.state.get(name)!;
      h.write(utf8.encode(name));
      for (let i = 0; i < b.keys.length; i++) {
        if (ignores?.(name, b.keys[i]!)) continue;
        h.write(b.keys[i]!);
        h.write(b.values[i]!);
      }
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
    return encodeBackendSnapshot(
      sortedNames(state).map((name) => ({ name, entries: entries(state.get(name)!) })),
    );
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
      const next = new Map<string, Bucket>();
      for (const [name, b] of staged) next.set(name, makeBucket(name, b.keys, b.values));
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

  /** Called by the batch on commit (with its overlays) or rollback (undefined). */
  private finishBatch(overlays: Map<string, Overlay> | undefined): void {
    this.batch = undefined;
    if (!overlays || overlays.size === 0) return;
    const next = new Map(this.state);
    for (const [name, o] of overlays) {
      const old = this.state.get(name);
      next.set(name, merge(name, old, o));
    }
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
    return rangeMerged(mustBucket(this.state, bucket), undefined, key, endKey, limit);
  }

  unsafeForEach(bucket: string, visitor: ForEachVisitor): void {
    this.check();
    forEachMerged(mustBucket(this.state, bucket), undefined, visitor);
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
  private overlays: Map<string, Overlay> | undefined = new Map();

  constructor(
    private readonly base: State,
    private readonly finish: (overlays: Map<string, Overlay> | undefined) => void,
  ) {}

  hasBucket(bucket: string): boolean {
    return this.base.has(bucket) || this.live().has(bucket);
  }

  createBucket(bucket: string): void {
    if (!this.hasBucket(bucket)) this.live().set(bucket, { keys: [], values: [] });
  }

  put(bucket: string, key: Uint8Array, value: Uint8Array): void {
    if (key.length === 0) throw new Error("backend: key required");
    this.write(bucket, key.slice(), value.slice());
  }

  delete(bucket: string, key: Uint8Array): void {
    this.write(bucket, key.slice(), null);
  }

  unsafeRange(bucket: string, key: Uint8Array, endKey?: Uint8Array, limit?: number): RangeResult {
    this.checkBucket(bucket);
    return rangeMerged(this.base.get(bucket), this.live().get(bucket), key, endKey, limit);
  }

  unsafeForEach(bucket: string, visitor: ForEachVisitor): void {
    this.checkBucket(bucket);
    forEachMerged(this.base.get(bucket), this.live().get(bucket), visitor);
  }

  async commit(): Promise<void> {
    const o = this.live();
    this.overlays = undefined;
    this.finish(o);
  }

  rollback(): void {
    this.live();
    this.overlays = undefined;
    this.finish(undefined);
  }

  private live(): Map<string, Overlay> {
    if (!this.overlays) throw new Error("backend: batch transaction already ended");
    return this.overlays;
  }

  private checkBucket(bucket: string): void {
    if (!this.hasBucket(bucket)) throw new Error(`backend: bucket ${JSON.stringify(bucket)} does not exist`);
  }

  private write(bucket: string, key: Uint8Array, value: Uint8Array | null): void {
    this.checkBucket(bucket);
    const overlays = this.live();
    let o = overlays.get(bucket);
    if (!o) {
      o = { keys: [], values: [] };
      overlays.set(bucket, o);
    }
    const n = o.keys.length;
    // MVCC writes revisions in increasing order: appending is the common case.
    const i = n === 0 || compareBytes(o.keys[n - 1]!, key) < 0 ? n : lowerBound(o.keys, key);
    if (i < o.keys.length && compareBytes(o.keys[i]!, key) === 0) {
      o.values[i] = value;
    } else {
      o.keys.splice(i, 0, key);
      o.values.splice(i, 0, value);
    }
  }
}

function mustBucket(state: State, bucket: string): Bucket {
  const b = state.get(bucket);
  if (!b) throw new Error(`backend: bucket ${JSON.stringify(bucket)} does not exist`);
  return b;
}

/** First index i with keys[i] ≥ key. */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks committed entries and overlay entries from index `bi`/`oi` in key order, the overlay winning
 * on equal keys and its deletes hiding committed entries. Stops when `visit` returns false.
 */
function walk(
  base: Bucket | undefined,
  overlay: Overlay | undefined,
  bi: number,
  oi: number,
  visit: (k: Uint8Array, v: Uint8Array) => boolean,
): void {
  const bk = base?.keys ?? [];
  const bv = base?.values ?? [];
  const ok = overlay?.keys ?? [];
  const ov = overlay?.values ?? [];
  while (bi < bk.length || oi < ok.length) {
    const c = bi >= bk.length ? 1 : oi >= ok.length ? -1 : compareBytes(bk[bi]!, ok[oi]!);
    let k: Uint8Array;
    let v: Uint8Array | null;
    if (c < 0) {
      k = bk[bi]!;
      v = bv[bi++]!;
    } else {
      if (c === 0) bi++;
      k = ok[oi]!;
      v = ov[oi++]!;
    }
    if (v !== null && !visit(k, v)) return;
  }
}

function rangeMerged(
  base: Bucket | undefined,
  overlay: Overlay | undefined,
  key: Uint8Array,
  endKey: Uint8Array | undefined,
  limit: number | undefined,
): RangeResult {
  const out: RangeResult = { keys: [], values: [] };
  const max = limit !== undefined && limit > 0 ? limit : Infinity;
  const single = !endKey || endKey.length === 0;
  walk(base, overlay, lowerBound(base?.keys ?? [], key), lowerBound(overlay?.keys ?? [], key), (k, v) => {
    if (single ? compareBytes(k, key) !== 0 : compareBytes(k, endKey) >= 0) return false;
    out.keys.push(k);
    out.values.push(v);
    return out.keys.length < max;
  });
  return out;
}

function forEachMerged(base: Bucket | undefined, overlay: Overlay | undefined, visitor: ForEachVisitor): void {
  walk(base, overlay, 0, 0, (k, v) => visitor(k, v) !== false);
}

function merge(name: string, base: Bucket | undefined, o: Overlay): Bucket {
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  walk(base, o, 0, 0, (k, v) => {
    keys.push(k);
    values.push(v);
    return true;
  });
  return makeBucket(name, keys, values);
}

function makeBucket(name: string, keys: Uint8Array[], values: Uint8Array[]): Bucket {
  let bytes = BucketOverhead + utf8.encode(name).length;
  for (let i = 0; i < keys.length; i++) bytes += EntryOverhead + keys[i]!.length + values[i]!.length;
  return { keys, values, bytes };
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

function* entries(b: Bucket): Generator<readonly [Uint8Array, Uint8Array]> {
  for (let i = 0; i < b.keys.length; i++) yield [b.keys[i]!, b.values[i]!];
}
