/**
 * LmdbBackend: the Node `Backend` (etcd's bbolt role) over lmdb-js 3.x. LMDB is the B+tree bbolt was
 * ported from: one writer, MVCC readers that never block it, atomic and durable write transactions.
 *
 * ## Files
 * `path` (the server passes `{data-dir}/member/snap/db`) is a directory holding one LMDB environment
 * per generation: `gen-00000001/{data.mdb,lock.mdb}`. `defrag` and `restore` build the next generation
 * in `gen-0000000N.tmp/`, fsync it and rename it to `gen-0000000N` — the atomic swap; on open the
 * highest complete generation wins and every other one (a retired generation, an unfinished `.tmp`) is
 * removed. A fresh path per generation also keeps lmdb-js from handing back its cached environment of
 * the old file (it shares one MDB_env per path string) and gives each file its own lock file, so read
 * transactions still open on the old generation finish on it; it is closed and deleted when the last
 * of them ends.
 *
 * ## Buckets
 * All buckets share one LMDB named database `data`, each key prefixed by its bucket:
 * `u16 nameLen (big-endian) ‖ name (UTF-8) ‖ key`. A fixed prefix keeps the bucket's keys contiguous
 * and in `compareBytes` order (LMDB's default key order is the same unsigned lexicographic one, a
 * prefix before its extensions). The named database `buckets` records which buckets exist (UTF-8 name →
 * empty), so `hasBucket` survives a restart, an empty bucket included. One database instead of one per
 * bucket means no `maxDbs` limit on bucket names and a restore that is one bulk load. LMDB caps a key at
 * 1978 bytes: `put` refuses a longer prefixed key at once rather than failing the flush.
 *
 * ## Commit, overlay, flush (etcd's batchTx / txReadBuffer)
 * `commit()` never touches LMDB. It publishes the batch into `pending`, an in-memory overlay of every
 * committed-but-unflushed write (per bucket a persistent B+tree from src/storage/btree.ts mapping key →
 * value, or `null` for a delete), so publication is O(m log n) and synchronous. Every read merges the
 * overlay layers (newest first) over an LMDB read transaction. Every `batchInterval` ms (default 100,
 * etcd's --backend-batch-interval), or as soon as `pending` holds `batchLimit` writes (default 10000,
 * --backend-batch-limit), the flush moves `pending` to `flushing` (still read by everyone), writes it in
 * ONE LMDB write transaction (lmdb-js's async `transaction`: the callback runs on this thread while
 * lmdb-js's writer thread holds the write lock, the commit and fsync happen off-thread), then drops
 * `flushing` and resolves the commit promises of every batch in it. One flush is in flight at a time;
 * what is committed meanwhile goes into the next. A crash loses whole unflushed batches only, always a
 * suffix: LMDB commits are atomic and flushes run in order. Durable by default: no `noSync`/`noMetaSync`,
 * and `overlappingSync` is off so lmdb-js resolves a transaction only after its fsync.
 *
 * ## Reads
 * A ReadTx holds the overlay layers as of `readTx()` (immutable trees: a snapshot for free) and an lmdb-js
 * read transaction (`useReadTransaction`, released by `end()`). Order of events makes the pair
 * consistent: a flushed layer is dropped only after its LMDB commit is visible, and an entry present both
 * in a layer and in LMDB holds the same value in both. Single-key reads look in the layers, then `get`;
 * ranges merge the layers' iterators with LMDB's `getRange` cursor (when no layer holds the bucket, the
 * cursor alone). Values returned by lmdb-js for `binary` encoding are copies, safe to keep.
 *
 * ## Sizes
 * `size()` is the size of the current data.mdb on disk (etcd's db size: what quota counts; LMDB grows the
 * file page by page here, no preallocation since `useWritemap` is off). LMDB has no cheap count of free
 * pages, and its page count barely moves when entries are deleted (a leaf is merged only below 25 %
 * fill), so `sizeInUse()` is kept as etcd's meaning — live data — by accounting: the pages in use
 * (meta pages plus every tree's branch, leaf and overflow pages) measured when the generation was opened
 * (right after a defrag this is exactly the file size), plus the bytes of entries written and minus those
 * deleted since (LMDB's node: key + value + 10 bytes), counted in the flush against the old values; never
 * above `size()`. Both follow LMDB, so they move when a batch is flushed, not when it is committed (as
 * etcd's follow bbolt's commits).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Database, type RootDatabase, type Transaction, open } from "lmdb";
import {
  type Backend,
  type BatchTx,
  type ForEachVisitor,
  type HashIgnores,
  type RangeResult,
  type ReadTx,
  type ReadView,
  compareBytes,
} from "../../../src/storage/backend.js";
import { type SnapshotRecord, decodeBackendSnapshot, encodeBackendSnapshot } from "../../../src/storage/backend-snapshot.js";
import { BTree, type BTreeBatch } from "../../../src/storage/btree.js";
import { Crc32c } from "../../../src/storage/crc32c.js";

export interface LmdbBackendOptions {
  /** Most milliseconds a committed batch waits before it is flushed (etcd's --backend-batch-interval). */
  batchInterval?: number;
  /** Flush as soon as the unflushed batches hold this many writes (etcd's --backend-batch-limit). */
  batchLimit?: number;
  /** LMDB's maximum concurrent read transactions (its lock file's reader table). */
  maxReaders?: number;
}

export const DefaultBatchInterval = 100;
export const DefaultBatchLimit = 10_000;
/** LMDB's largest key with the default 4 KiB pages; bucket prefix included. */
export const MaxKeySize = 1978;
/** Bytes LMDB spends per entry beyond key and value: an 8-byte node header and a 2-byte page pointer. */
export const EntryOverhead = 10;

/** A write in the overlay: the new value, or `null` for a delete (a tombstone over LMDB). */
type Entry = Uint8Array | null;
/** Unflushed writes of committed batches, per bucket; a bucket present here exists. */
type Layer = ReadonlyMap<string, BTree<Entry>>;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();
const EMPTY = new Uint8Array(0);
const GenPattern = /^gen-(\d{8})$/;

/** One LMDB environment (a generation of the files) and the readers still using it. */
class Generation {
  readers = 0;
  retired = false;
  closed = false;
  /** While staging a rebuild: the greatest key written so far (for MDB_APPEND). */
  lastKey: Uint8Array | undefined;

  constructor(
    readonly n: number,
    readonly dir: string,
    readonly env: RootDatabase<Uint8Array, Uint8Array>,
    readonly data: Database<Uint8Array, Uint8Array>,
    readonly buckets: Database<Uint8Array, Uint8Array>,
    /** `sizeInUse` as measured at open; see "Sizes". */
    readonly baseInUse: number,
  ) {}

  static open(n: number, dir: string, opts: { maxReaders: number; noSync?: boolean }): Generation {
    const env = open<Uint8Array, Uint8Array>({
      path: dir,
      // Always a directory (lmdb-js guesses a file for a path with an extension, as "gen-N.tmp").
      noSubdir: false,
      maxDbs: 4,
      maxReaders: opts.maxReaders,
      // Resolve a write transaction only once it is fsynced, so "flushed" means durable.
      overlappingSync: false,
      noSync: opts.noSync ?? false,
      keyEncoding: "binary",
      encoding: "binary",
    });
    const data = env.openDB<Uint8Array, Uint8Array>({ name: "data", keyEncoding: "binary", encoding: "binary" });
    const buckets = env.openDB<Uint8Array, Uint8Array>({ name: "buckets", keyEncoding: "binary", encoding: "binary" });
    const g = new Generation(n, dir, env, data, buckets, 0);
    (g as { baseInUse: number }).baseInUse = g.pagesInUse();
    return g;
  }

  /** Bytes of the pages reachable from the meta pages: every tree's branch, leaf and overflow pages. */
  pagesInUse(): number {
    type Stat = { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    const pages = (s: Stat) => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    const root = this.env.getStats() as Stat & { root: Stat; free: Stat };
    const n = 2 + pages(root.root) + pages(root.free) + pages(this.data.getStats() as Stat) + pages(this.buckets.getStats() as Stat);
    return n * root.pageSize;
  }

  /**
   * The data file's size. LMDB grows the file only in write transactions, so the size is read once
   * after each flush ({@link sizeChanged}) rather than on every call: the quota check asks on every
   * put (etcd keeps the size in memory too, updated at each commit).
   */
  fileSize(): number {
    this.size ??= statSync(join(this.dir, "data.mdb")).size;
    return this.size;
  }

  /** A write transaction finished: the next {@link fileSize} reads the file again. */
  sizeChanged(): void {
    this.size = undefined;
  }

  private size: number | undefined;

  /** Closes the environment once it is retired and no reader holds it. */
  async release(force = false): Promise<void> {
    if (this.closed || !(force || (this.retired && this.readers === 0))) return;
    this.closed = true;
    await this.env.close();
    if (this.retired) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A consistent view of committed state: overlay layers (newest first) over an LMDB read txn. */
interface View {
  readonly layers: readonly Layer[];
  readonly gen: Generation;
  readonly txn: Transaction;
}

/** A flush's batches: their commit promises, settled together. */
interface Waiters {
  resolve: (() => void)[];
  reject: ((e: unknown) => void)[];
}

export function openLmdbBackend(path: string, opts: LmdbBackendOptions = {}): LmdbBackend {
  return new LmdbBackend(path, opts);
}

export class LmdbBackend implements Backend {
  private gen: Generation;
  private readonly gens = new Set<Generation>();
  private readonly readers = new Set<LmdbReadTx>();
  private readonly batchInterval: number;
  private readonly batchLimit: number;
  private readonly maxReaders: number;

  /** Committed, unflushed batches (newest layer). */
  private pending: Map<string, BTree<Entry>> = new Map();
  private pendingWrites = 0;
  private pendingWaiters: Waiters = { resolve: [], reject: [] };
  /** The layer being written to LMDB, still read by everyone until its commit is visible. */
  private flushing: Layer | undefined;
  private flushingWaiters: Waiters | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Flushes are held while defrag copies the file. */
  private paused = false;
  /** Bytes of entries written minus deleted since the generation opened; see "Sizes". */
  private liveDelta = 0;
  /** A failed flush: LMDB can no longer be trusted to hold what was published (etcd panics here). */
  private failure: unknown;

  private batch: LmdbBatchTx | undefined;
  private restoring = false;
  private closed = false;
  private readonly prefixes = new Map<string, Uint8Array>();

  constructor(
    private readonly path: string,
    opts: LmdbBackendOptions = {},
  ) {
    this.batchInterval = opts.batchInterval ?? DefaultBatchInterval;
    this.batchLimit = opts.batchLimit ?? DefaultBatchLimit;
    this.maxReaders = opts.maxReaders ?? 1024;
    mkdirSync(path, { recursive: true });
    let latest = 0;
    for (const name of readdirSync(path)) {
      const m = GenPattern.exec(name);
      if (m) latest = Math.max(latest, Number(m[1]));
    }
    // Anything but the newest complete generation is a retired one or an unfinished rebuild.
    for (const name of readdirSync(path)) {
      if (name.startsWith("gen-") && name !== genName(latest)) rmSync(join(path, name), { recursive: true, force: true });
    }
    this.gen = this.adopt(Generation.open(Math.max(latest, 1), join(path, genName(Math.max(latest, 1))), { maxReaders: this.maxReaders }));
  }

  batchTx(): BatchTx {
    this.checkOpen();
    if (this.batch) throw new Error("backend: a batch transaction is already open");
    if (this.restoring) throw new Error("backend: restore in progress");
    if (this.failure) throw this.failure;
    this.batch = new LmdbBatchTx(this, this.pending, this.view());
    return this.batch;
  }

  readTx(): ReadTx {
    this.checkOpen();
    const r = new LmdbReadTx(this, this.view());
    this.readers.add(r);
    return r;
  }

  hash(ignores?: HashIgnores): number {
    this.checkOpen();
    const v = this.view();
    try {
      const h = new Crc32c();
      for (const name of this.bucketNames(v)) {
        h.write(utf8.encode(name));
        for (const [k, val] of this.entries(v, name)) {
          if (ignores?.(name, k)) continue;
          h.write(k);
          h.write(val);
        }
      }
      return h.sum();
    } finally {
      this.endView(v);
    }
  }

  size(): number {
    this.checkOpen();
    return this.gen.fileSize();
  }

  sizeInUse(): number {
    this.checkOpen();
    return Math.max(0, Math.min(this.gen.fileSize(), this.gen.baseInUse + this.liveDelta));
  }

  snapshot(): AsyncIterable<Uint8Array> {
    this.checkOpen();
    const v = this.view(); // captured now: later commits do not reach the stream
    const names = this.bucketNames(v);
    const buckets = names.map((name) => ({ name, entries: { [Symbol.iterator]: () => this.entries(v, name) } }));
    // The view ends when the stream ends, fails or is given up (return()), also before its first
    // chunk: a generator's `finally` would not run for a stream returned unread.
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.endView(v);
    };
    const chunks = encodeBackendSnapshot(buckets)[Symbol.asyncIterator]();
    const it: AsyncIterableIterator<Uint8Array> = {
      [Symbol.asyncIterator]: () => it,
      async next() {
        if (ended) return { done: true, value: undefined };
        try {
          const r = await chunks.next();
          if (r.done) end();
          return r;
        } catch (e) {
          end();
          throw e;
        }
      },
      async return(value?: unknown) {
        end();
        await chunks.return?.(undefined);
        return { done: true, value };
      },
    };
    return it;
  }

  async restore(stream: AsyncIterable<Uint8Array>): Promise<void> {
    this.checkOpen();
    if (this.batch) throw new Error("backend: cannot restore while a batch transaction is open");
    if (this.restoring) throw new Error("backend: restore in progress");
    this.restoring = true;
    try {
      await this.drain();
      await this.rebuild((next) => this.load(next, decodeBackendSnapshot(stream)));
    } finally {
      this.restoring = false;
    }
  }

  async defrag(): Promise<void> {
    this.checkOpen();
    if (this.restoring) throw new Error("backend: restore in progress");
    await this.drain();
    this.paused = true; // commits go on into `pending`; the copy is of LMDB as flushed
    try {
      // LMDB's own compacting copy keeps half-empty leaves as they are; bbolt's defrag re-inserts every
      // key into a new file, and so do we, appending in key order so every page is filled.
      // The view holds the old generation open until the copy is read (its layers are not copied:
      // what was committed since the drain stays in the overlay, over the new generation).
      const v = this.view();
      try {
        await this.rebuild(async (next) => {
          for (const k of v.gen.buckets.getKeys({ transaction: v.txn })) next.buckets.putSync(k as Uint8Array, EMPTY);
          await appendAll(next, v.gen.data.getRange({ transaction: v.txn }) as Iterable<{ key: Uint8Array; value: Uint8Array }>);
        });
      } finally {
        this.endView(v);
      }
    } finally {
      this.paused = false;
      if (this.pendingWrites > 0 || this.pending.size > 0) this.requestFlush(true);
    }
  }

  async close(): Promise<void> {
    this.checkOpen();
    if (this.batch) throw new Error("backend: cannot close while a batch transaction is open");
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.flushAll();
    } finally {
      for (const r of [...this.readers]) r.end();
      for (const g of [...this.gens]) await g.release(true);
    }
  }

  // ---- internals used by the transactions ----

  /** Publishes a committed batch (commit() of LmdbBatchTx); the promise resolves once it is durable. */
  publish(trees: Map<string, BTreeBatch<Entry>>, writes: number): Promise<void> {
    this.batch = undefined;
    if (this.failure) return Promise.reject(this.failure);
    if (trees.size > 0) {
      const next = new Map(this.pending);
      for (const [name, t] of trees) next.set(name, t.persist());
      this.pending = next;
      this.pendingWrites += writes;
    }
    if (this.pending.size === 0) {
      // Nothing of this batch to flush: durable once the flush in flight (if any) is.
      if (!this.flushingWaiters) return Promise.resolve();
      const w = this.flushingWaiters;
      return new Promise((resolve, reject) => {
        w.resolve.push(resolve);
        w.reject.push(reject);
      });
    }
    const w = this.pendingWaiters;
    const p = new Promise<void>((resolve, reject) => {
      w.resolve.push(resolve);
      w.reject.push(reject);
    });
    this.requestFlush(this.pendingWrites >= this.batchLimit);
    return p;
  }

  rolledBack(): void {
    this.batch = undefined;
  }

  endReader(r: LmdbReadTx, v: View): void {
    this.readers.delete(r);
    this.endView(v);
  }

  view(): View {
    const layers: Layer[] = [this.pending];
    if (this.flushing) layers.push(this.flushing);
    const gen = this.gen;
    const txn = gen.env.useReadTransaction();
    gen.readers++;
    return { layers, gen, txn };
  }

  endView(v: View): void {
    v.txn.done();
    v.gen.readers--;
    void v.gen.release();
  }

  /** The LMDB key of `key` in `bucket`. */
  lmdbKey(bucket: string, key: Uint8Array): Uint8Array {
    const p = this.prefix(bucket);
    const out = new Uint8Array(p.length + key.length);
    out.set(p);
    out.set(key, p.length);
    return out;
  }

  checkKey(bucket: string, key: Uint8Array): void {
    if (key.length === 0) throw new Error("backend: key required");
    if (this.prefix(bucket).length + key.length > MaxKeySize) {
      throw new Error(`backend: key of ${key.length} bytes too long for bucket ${JSON.stringify(bucket)} (LMDB's limit is ${MaxKeySize} with the bucket prefix)`);
    }
  }

  hasBucket(v: View, bucket: string, own?: ReadonlyMap<string, unknown>): boolean {
    if (own?.has(bucket)) return true;
    for (const l of v.layers) if (l.has(bucket)) return true;
    if (bucket.length === 0) return false;
    return v.gen.buckets.get(utf8.encode(bucket), { transaction: v.txn }) !== undefined;
  }

  /** Existing bucket names in byte order of their UTF-8 (bbolt's root cursor order). */
  bucketNames(v: View): string[] {
    const names = new Set<string>();
    for (const k of v.gen.buckets.getKeys({ transaction: v.txn })) names.add(utf8d.decode(k as Uint8Array));
    for (const l of v.layers) for (const n of l.keys()) names.add(n);
    return [...names]
      .map((name) => ({ name, bytes: utf8.encode(name) }))
      .sort((a, b) => compareBytes(a.bytes, b.bytes))
      .map((x) => x.name);
  }

  /**
   * The live entries of `bucket` in `[from, to)` (to the end when `to` is absent), layers over LMDB.
   * `top` is the batch's own tree, newest of all.
   */
  *entries(v: View, bucket: string, from?: Uint8Array, to?: Uint8Array, top?: BTreeBatch<Entry>): Generator<readonly [Uint8Array, Uint8Array]> {
    const trees: { entries(from?: Uint8Array): Iterator<readonly [Uint8Array, Entry]> }[] = [];
    if (top) trees.push(top);
    for (const l of top ? v.layers.slice(1) : v.layers) {
      const t = l.get(bucket);
      if (t && t.size > 0) trees.push(t);
    }
    const p = this.prefix(bucket);
    const start = from ? this.lmdbKey(bucket, from) : p;
    const end = to ? this.lmdbKey(bucket, to) : successor(p);
    const lmdb = v.gen.data.getRange({ start, end, transaction: v.txn })[Symbol.iterator]() as Iterator<{ key: Uint8Array; value: Uint8Array }>;
    const strip = (k: Uint8Array) => new Uint8Array(k.buffer, k.byteOffset + p.length, k.length - p.length);
    const plain = (u: Uint8Array) => new Uint8Array(u.buffer, u.byteOffset, u.length);
    try {
      if (trees.length === 0) {
        for (let r = lmdb.next(); !r.done; r = lmdb.next()) yield [strip(r.value.key), plain(r.value.value)];
        return;
      }
      // Merge: sources[0..] are trees newest first, the last is LMDB; the newest source at a key wins.
      const sources: Iterator<readonly [Uint8Array, Entry]>[] = trees.map((t) => t.entries(from));
      sources.push({
        next: () => {
          const r = lmdb.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: [strip(r.value.key), plain(r.value.value)] as const };
        },
      });
      const heads: (readonly [Uint8Array, Entry] | undefined)[] = sources.map((s) => advance(s, to));
      for (;;) {
        let min = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h && (min < 0 || compareBytes(h[0], heads[min]![0]) < 0)) min = i;
        }
        if (min < 0) return;
        const [key, value] = heads[min]!;
        for (let i = min; i < heads.length; i++) {
          if (heads[i] && compareBytes(heads[i]![0], key) === 0) heads[i] = advance(sources[i]!, to);
        }
        if (value !== null) yield [key, value];
      }
    } finally {
      lmdb.return?.();
    }
  }

  /** The value of one key, layers over LMDB; undefined when absent. */
  get(v: View, bucket: string, key: Uint8Array, top?: BTreeBatch<Entry>): Uint8Array | undefined {
    if (top) {
      const e = top.get(key);
      if (e !== undefined) return e ?? undefined;
    }
    for (const l of top ? v.layers.slice(1) : v.layers) {
      const e = l.get(bucket)?.get(key);
      if (e !== undefined) return e ?? undefined;
    }
    const val = v.gen.data.get(this.lmdbKey(bucket, key), { transaction: v.txn });
    return val === undefined ? undefined : new Uint8Array(val.buffer, val.byteOffset, val.length);
  }

  private prefix(bucket: string): Uint8Array {
    let p = this.prefixes.get(bucket);
    if (!p) {
      const name = utf8.encode(bucket);
      if (name.length > 0xffff) throw new Error("backend: bucket name too long");
      p = new Uint8Array(2 + name.length);
      new DataView(p.buffer).setUint16(0, name.length);
      p.set(name, 2);
      this.prefixes.set(bucket, p);
    }
    return p;
  }

  private adopt(g: Generation): Generation {
    this.gens.add(g);
    this.liveDelta = 0;
    return g;
  }

  /**
   * Builds the next generation: `fill` writes the new contents into a staging environment, whose
   * compacting copy (no free pages: `size() === sizeInUse()` after) goes to a temporary directory that is
   * fsynced and renamed into place (the atomic swap); the current generation is then retired. On failure
   * the staging and temporary directories are removed and nothing changes.
   */
  private async rebuild(fill: (next: Generation) => Promise<void>): Promise<void> {
    const n = this.gen.n + 1;
    const stage = join(this.path, `${genName(n)}.stage`);
    const tmp = join(this.path, `${genName(n)}.tmp`);
    for (const d of [stage, tmp]) rmSync(d, { recursive: true, force: true });
    mkdirSync(stage);
    mkdirSync(tmp);
    try {
      // The staging copy need not be durable: the compacted copy is fsynced before the swap.
      const next = Generation.open(n, stage, { maxReaders: this.maxReaders, noSync: true });
      try {
        await fill(next);
        await next.env.backup(tmp, true);
      } finally {
        await next.release(true);
      }
      fsyncPath(join(tmp, "data.mdb"));
      fsyncPath(tmp);
      renameSync(tmp, join(this.path, genName(n)));
      fsyncPath(this.path);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
    const old = this.gen;
    this.gen = this.adopt(Generation.open(n, join(this.path, genName(n)), { maxReaders: this.maxReaders }));
    old.retired = true;
    await old.release(); // or, while read transactions still use it, when the last of them ends
    for (const g of this.gens) if (g.closed) this.gens.delete(g);
  }

  /** Writes a snapshot stream into an empty generation; throws (ErrSnapshotCorrupt) on a bad stream. */
  private async load(next: Generation, records: AsyncIterable<SnapshotRecord>): Promise<void> {
    let bucket = "";
    let batch: { key: Uint8Array; value: Uint8Array }[] = [];
    for await (const r of records) {
      if (r.kind === "bucket") {
        bucket = r.name;
        checkBucketName(bucket);
        next.buckets.putSync(utf8.encode(bucket), EMPTY);
      } else {
        batch.push({ key: this.lmdbKey(bucket, r.key), value: r.value });
        if (batch.length >= 10_000) {
          await appendAll(next, batch);
          batch = [];
        }
      }
    }
    await appendAll(next, batch);
  }

  /** Waits until everything committed so far is flushed (and no flush is in flight). */
  private async drain(): Promise<void> {
    await this.flushAll();
  }

  private async flushAll(): Promise<void> {
    while (this.inFlight || this.pending.size > 0) {
      if (this.inFlight) await this.inFlight.catch(() => {});
      else if (this.paused) return;
      else this.startFlush();
      if (this.failure) throw this.failure;
    }
  }

  /** Arms the batch timer, or flushes now when `now` (the batch limit is reached). */
  private requestFlush(now: boolean): void {
    if (now) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (!this.inFlight && !this.paused) this.startFlush();
      else this.flushSoon = true;
      return;
    }
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.inFlight && !this.paused && !this.closed) this.startFlush();
    }, this.batchInterval);
  }

  private flushSoon = false;

  /** Moves `pending` to `flushing` and writes it in one LMDB transaction; see "Commit, overlay, flush". */
  private startFlush(): void {
    if (this.pending.size === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushSoon = false;
    const layer = this.pending;
    const waiters = this.pendingWaiters;
    const gen = this.gen;
    this.flushing = layer;
    this.flushingWaiters = waiters;
    this.pending = new Map();
    this.pendingWrites = 0;
    this.pendingWaiters = { resolve: [], reject: [] };
    let delta = 0;
    this.inFlight = gen.data
      .transaction(() => {
        for (const [name, tree] of layer) {
          const nameBytes = utf8.encode(name);
          if (gen.buckets.getBinaryFast(nameBytes) === undefined) gen.buckets.putSync(nameBytes, EMPTY);
          for (const [k, val] of tree.entries()) {
            const lk = this.lmdbKey(name, k);
            const old = gen.data.getBinaryFast(lk);
            if (old !== undefined) delta -= lk.length + old.length + EntryOverhead;
            if (val === null) {
              if (old !== undefined) gen.data.removeSync(lk);
            } else {
              gen.data.putSync(lk, val);
              delta += lk.length + val.length + EntryOverhead;
            }
          }
        }
      })
      .then(
        () => {
          // The commit is visible to read transactions opened from now on: the layer may go.
          gen.sizeChanged();
          if (this.gen === gen) this.liveDelta += delta;
          this.flushing = undefined;
          this.flushingWaiters = undefined;
          for (const r of waiters.resolve) r();
        },
        (e: unknown) => {
          this.failure = e;
          this.flushingWaiters = undefined;
          for (const r of waiters.reject) r(e);
          for (const r of this.pendingWaiters.reject) r(e);
          this.pendingWaiters = { resolve: [], reject: [] };
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.failure || this.closed || this.paused || this.pending.size === 0) return;
        if (this.flushSoon || this.pendingWrites >= this.batchLimit) this.startFlush();
        else this.requestFlush(false);
      });
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("backend: closed");
  }
}

class LmdbReadTx implements ReadTx {
  private ended = false;

  constructor(
    private readonly be: LmdbBackend,
    private readonly v: View,
  ) {}

  unsafeRange(bucket: string, key: Uint8Array, endKey?: Uint8Array, limit?: number): RangeResult {
    this.check();
    mustBucket(this.be, this.v, bucket);
    return range(this.be, this.v, bucket, key, endKey, limit);
  }

  unsafeForEach(bucket: string, visitor: ForEachVisitor): void {
    this.check();
    mustBucket(this.be, this.v, bucket);
    for (const [k, val] of this.be.entries(this.v, bucket)) if (visitor(k, val) === false) return;
  }

  hasBucket(bucket: string): boolean {
    this.check();
    return this.be.hasBucket(this.v, bucket);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.be.endReader(this, this.v);
  }

  private check(): void {
    if (this.ended) throw new Error("backend: read transaction already ended");
  }
}

class LmdbBatchTx implements BatchTx, ReadView {
  /** Trees of the buckets this batch created or wrote, started from `pending`'s; undefined once ended. */
  private trees: Map<string, BTreeBatch<Entry>> | undefined = new Map();
  private writes = 0;

  constructor(
    private readonly be: LmdbBackend,
    /** The overlay's newest layer when the batch opened (also `base.layers[0]`). */
    private readonly pending: Layer,
    /** Committed state when the batch opened; its LMDB read txn ends with the batch. */
    private readonly base: View,
  ) {}

  hasBucket(bucket: string): boolean {
    return this.be.hasBucket(this.base, bucket, this.live());
  }

  createBucket(bucket: string): void {
    checkBucketName(bucket);
    if (!this.hasBucket(bucket)) {
      this.live().set(bucket, BTree.empty<Entry>().batch());
      this.writes++;
    }
  }

  put(bucket: string, key: Uint8Array, value: Uint8Array): void {
    this.be.checkKey(bucket, key);
    this.writable(bucket).set(key.slice(), value.slice());
    this.writes++;
  }

  delete(bucket: string, key: Uint8Array): void {
    // A tombstone even when the key is absent: the flush then removes nothing (no lookup here).
    this.writable(bucket).set(key.slice(), null);
    this.writes++;
  }

  unsafeRange(bucket: string, key: Uint8Array, endKey?: Uint8Array, limit?: number): RangeResult {
    const top = this.readable(bucket);
    return range(this.be, this.base, bucket, key, endKey, limit, top);
  }

  unsafeForEach(bucket: string, visitor: ForEachVisitor): void {
    const top = this.readable(bucket);
    for (const [k, val] of this.be.entries(this.base, bucket, undefined, undefined, top)) if (visitor(k, val) === false) return;
  }

  commit(): Promise<void> {
    let trees: Map<string, BTreeBatch<Entry>>;
    try {
      trees = this.live();
    } catch (e) {
      return Promise.reject(e);
    }
    this.trees = undefined;
    this.be.endView(this.base);
    return this.be.publish(trees, this.writes);
  }

  rollback(): void {
    this.live();
    this.trees = undefined;
    this.be.endView(this.base);
    this.be.rolledBack();
  }

  private live(): Map<string, BTreeBatch<Entry>> {
    if (!this.trees) throw new Error("backend: batch transaction already ended");
    return this.trees;
  }

  /** The batch's tree of `bucket` if it has one (reads then need no other overlay layer). */
  private readable(bucket: string): BTreeBatch<Entry> | undefined {
    const t = this.live().get(bucket);
    if (t) return t;
    mustBucket(this.be, this.base, bucket);
    // No write of this batch: the newest overlay layer acts as the top tree.
    return (this.pending.get(bucket) ?? BTree.empty<Entry>()).batch();
  }

  /** The batch's tree of `bucket`, started from the overlay's on the first write. */
  private writable(bucket: string): BTreeBatch<Entry> {
    const trees = this.live();
    let t = trees.get(bucket);
    if (!t) {
      mustBucket(this.be, this.base, bucket);
      t = (this.pending.get(bucket) ?? BTree.empty<Entry>()).batch();
      trees.set(bucket, t);
    }
    return t;
  }
}

function mustBucket(be: LmdbBackend, v: View, bucket: string): void {
  if (!be.hasBucket(v, bucket)) throw new Error(`backend: bucket ${JSON.stringify(bucket)} does not exist`);
}

function checkBucketName(bucket: string): void {
  if (bucket.length === 0) throw new Error("backend: bucket name required");
}

/** etcd's UnsafeRange over a view; see `ReadView.unsafeRange`. */
function range(
  be: LmdbBackend,
  v: View,
  bucket: string,
  key: Uint8Array,
  endKey: Uint8Array | undefined,
  limit: number | undefined,
  top?: BTreeBatch<Entry>,
): RangeResult {
  const out: RangeResult = { keys: [], values: [] };
  if (!endKey || endKey.length === 0) {
    const val = be.get(v, bucket, key, top);
    if (val !== undefined) {
      out.keys.push(key);
      out.values.push(val);
    }
    return out;
  }
  if (compareBytes(key, endKey) >= 0) return out;
  const max = limit !== undefined && limit > 0 ? limit : Infinity;
  for (const [k, val] of be.entries(v, bucket, key, endKey, top)) {
    out.keys.push(k);
    out.values.push(val);
    if (out.keys.length >= max) break;
  }
  return out;
}

/** The next entry of a source below `to`, or undefined when it is exhausted. */
function advance(s: Iterator<readonly [Uint8Array, Entry]>, to: Uint8Array | undefined): readonly [Uint8Array, Entry] | undefined {
  const r = s.next();
  if (r.done) return undefined;
  if (to && compareBytes(r.value[0], to) >= 0) return undefined;
  return r.value;
}

/** The least key greater than every key starting with `p`, or undefined when there is none. */
function successor(p: Uint8Array): Uint8Array | undefined {
  let n = p.length;
  while (n > 0 && p[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const out = p.slice(0, n);
  out[n - 1]!++;
  return out;
}

/**
 * Writes entries into a staging generation in transactions of 10 000, with MDB_APPEND (pages filled, not
 * split in half) whenever a key sorts after the last one written.
 */
async function appendAll(g: Generation, entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): Promise<void> {
  const it = entries[Symbol.iterator]();
  let last = g.lastKey;
  for (let done = false; !done; ) {
    await g.data.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        const r = it.next();
        if (r.done) {
          done = true;
          return;
        }
        const { key, value } = r.value;
        const append = last === undefined || compareBytes(last, key) < 0;
        g.data.putSync(key, value, { append });
        if (append) last = key;
      }
    });
  }
  g.lastKey = last;
}

function genName(n: number): string {
  return `gen-${n.toString().padStart(8, "0")}`;
}

/** fsync a file or directory (a rename is durable once its directory is synced). */
function fsyncPath(p: string): void {
  const fd = openSync(p, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
