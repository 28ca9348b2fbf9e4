/**
 * Backend: etcd's bbolt role (mvcc/backend in etcd 3.4/3.5) — a transactional store of ordered byte
 * keys in named buckets, written in batches and read concurrently. MVCC keeps its revisions in the
 * `key` bucket and the applied raft index (consistent_index) in `meta`, written in the same batch as
 * the data it covers, so a restart replays only the entries the backend has not seen.
 *
 * ## Sync and async
 * Everything inside a transaction (range, forEach, put, delete) and `hash`, `size`, `sizeInUse` are
 * synchronous; only `commit`, `snapshot`, `restore`, `defrag` and `close` return promises. MVCC applies
 * a raft entry in one synchronous step, as etcd does under the batch tx lock, and every backend we
 * target can serve that: LMDB (lmdb-js `getRange`, sync writes in a transaction), Durable Object
 * storage (`ctx.storage.sql` and `transactionSync` are synchronous) and memory. A backend whose medium
 * is async only (IndexedDB) keeps the committed state in memory and persists it behind `commit`'s
 * promise. Durability is the one thing that has to wait, so it is the one thing that is async.
 *
 * ## Visibility (what a reader sees)
 * - At most one batch is open at a time (`batchTx()` throws while one is). The batch sees its own
 *   writes; nobody else does.
 * - `commit()` publishes the whole batch atomically at the moment it is called: a read transaction
 *   opened after the call sees every write of the batch, one opened before sees none of them. The
 *   returned promise resolves once the batch is durable (immediately for memory); batches become
 *   durable in commit order. A crash before it resolves may lose the batch but never part of it — the
 *   WAL replays it from the consistent index.
 * - A read transaction is a snapshot: it sees the committed state as of `readTx()`, unchanged by later
 *   commits, until `end()` (etcd's ConcurrentReadTx; a bbolt or LMDB read txn). Readers never block the
 *   writer and never see an open batch.
 *
 * ## Bytes
 * Keys are ordered by `compareBytes` (unsigned lexicographic, a prefix before its extensions; bbolt's
 * and LMDB's default order). Keys must be non-empty. A backend may keep the arrays passed to `put`
 * (the caller must not mutate them afterwards); arrays returned by reads are shared and must not be
 * mutated by the caller.
 */

/** etcd's bucket names (server/storage/schema/bucket.go in 3.5). */
export const KeyBucket = "key";
export const MetaBucket = "meta";
export const LeaseBucket = "lease";
export const AlarmBucket = "alarm";
export const MembersBucket = "members";
export const MembersRemovedBucket = "members_removed";
export const ClusterBucket = "cluster";
export const AuthBucket = "auth";
export const AuthUsersBucket = "authUsers";
export const AuthRolesBucket = "authRoles";

/** Every bucket etcd creates, in the order etcd's schema lists them. */
export const AllBuckets: readonly string[] = [
  KeyBucket,
  MetaBucket,
  LeaseBucket,
  AlarmBucket,
  ClusterBucket,
  MembersBucket,
  MembersRemovedBucket,
  AuthBucket,
  AuthUsersBucket,
  AuthRolesBucket,
];

/** Keys of the meta bucket (etcd's MetaConsistentIndexKeyName, MetaTermKeyName). */
export const MetaConsistentIndexKeyName: Uint8Array = new TextEncoder().encode("consistent_index");
export const MetaTermKeyName: Uint8Array = new TextEncoder().encode("term");

/** Decides which entries `Backend.hash` leaves out: true means skip `key` of `bucket`. */
export type HashIgnores = (bucket: string, key: Uint8Array) => boolean;

/**
 * etcd's schema.DefaultIgnores: the consistent index and term in `meta` differ between members that
 * hold the same data, so a corruption check leaves them out.
 */
export const DefaultIgnores: HashIgnores = (bucket, key) =>
  bucket === MetaBucket &&
  (compareBytes(key, MetaConsistentIndexKeyName) === 0 || compareBytes(key, MetaTermKeyName) === 0);

/** Result of a range: `keys[i]` holds `values[i]`, in key order. */
export interface RangeResult {
  keys: Uint8Array[];
  values: Uint8Array[];
}

/** Return `false` to stop the iteration early; anything else continues. */
export type ForEachVisitor = (key: Uint8Array, value: Uint8Array) => boolean | void;

/** Reads over one consistent state: committed state for a ReadTx, plus its own writes for a BatchTx. */
export interface ReadView {
  /**
   * etcd's UnsafeRange. With `endKey` empty or absent: the entry of `key` alone (zero or one).
   * Otherwise every entry in `[key, endKey)`, in key order. `limit > 0` caps the number of entries
   * returned; `limit ≤ 0` or absent means no cap. Throws if the bucket does not exist.
   */
  unsafeRange(bucket: string, key: Uint8Array, endKey?: Uint8Array, limit?: number): RangeResult;
  /** Visits every entry of the bucket in key order. Throws if the bucket does not exist. */
  unsafeForEach(bucket: string, visitor: ForEachVisitor): void;
  /** Whether the bucket exists (etcd: `tx.Bucket(name) != nil`). */
  hasBucket(bucket: string): boolean;
}

/** A snapshot of committed state; see "Visibility". Call `end()` when done (LMDB holds pages for it). */
export interface ReadTx extends ReadView {
  /** Releases the snapshot; the tx must not be used afterwards. Idempotent. */
  end(): void;
}

/** The one open write transaction (etcd's batchTx); see "Visibility". */
export interface BatchTx extends ReadView {
  /** etcd's UnsafeCreateBucket; a no-op when the bucket exists. */
  createBucket(bucket: string): void;
  /** etcd's UnsafePut: sets `key` to `value`. Throws if the bucket does not exist or `key` is empty. */
  put(bucket: string, key: Uint8Array, value: Uint8Array): void;
  /** etcd's UnsafeDelete: removes `key`; a no-op when absent. Throws if the bucket does not exist. */
  delete(bucket: string, key: Uint8Array): void;
  /**
   * Ends the batch and publishes all of its writes at once (synchronously, at the call); the promise
   * resolves when they are durable. The batch must not be used afterwards; a new `batchTx()` may be
   * opened at once, before the promise resolves.
   */
  commit(): Promise<void>;
  /** Ends the batch discarding every write in it (bbolt's Rollback). */
  rollback(): void;
}

export interface Backend {
  /** Opens the write batch. Throws if one is already open or the backend is closed. */
  batchTx(): BatchTx;
  /** Opens a read snapshot of the committed state. Throws if the backend is closed. */
  readTx(): ReadTx;
  /**
   * etcd's backend.Hash: CRC-32C over the committed state — for each existing bucket in byte order of
   * its name: the name, then key and value of each entry not ignored, in key order. Unlike etcd, a
   * missing `ignores` hashes everything (etcd hashes nothing but bucket names then).
   */
  hash(ignores?: HashIgnores): number;
  /**
   * Bytes the store occupies (etcd's Size, the db file size; an estimate for memory). Never less than
   * `sizeInUse()`; may stay above it after deletes until `defrag`.
   */
  size(): number;
  /** Bytes holding live data (etcd's SizeInUse: file size minus free pages). */
  sizeInUse(): number;
  /**
   * The committed state as of the call, as a stream of chunks in the backend snapshot format
   * (backend-snapshot.ts), so a snapshot taken from one kind of backend restores into any other.
   * Later commits do not change the stream. The chunks belong to the consumer.
   */
  snapshot(): AsyncIterable<Uint8Array>;
  /**
   * Replaces the whole contents (every bucket) with a snapshot stream. Atomic: when the stream is
   * malformed or its checksum wrong the promise rejects and the contents are unchanged. Throws if a
   * batch is open. Read transactions already open keep their old snapshot.
   */
  restore(stream: AsyncIterable<Uint8Array>): Promise<void>;
  /** Rewrites the store to reclaim free space; contents are unchanged and `size() === sizeInUse()` after. */
  defrag(): Promise<void>;
  /** Releases the store. Throws (rejects) if a batch is open; every later call throws. */
  close(): Promise<void>;
}

/**
 * A byte key as a binary string, one char (code 0–255) per byte, so it can key a Map or Set; string
 * order (`<`) of two such strings is {@link compareBytes} order of the keys.
 */
export function keyString(key: Uint8Array): string {
  let s = "";
  for (let i = 0; i < key.length; i += 8192) s += String.fromCharCode(...key.subarray(i, i + 8192));
  return s;
}

/** The bytes of a {@link keyString}. */
export function keyStringBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < out.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Unsigned lexicographic order of bytes, a prefix first: <0, 0, >0 like Go's bytes.Compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
