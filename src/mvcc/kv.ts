/**
 * The MVCC store's interfaces (etcd server/mvcc/kv.go).
 *
 * Ranges follow etcd: `end` absent or empty is the single key `key`; otherwise `[key, end)`, except
 * that `end = [0]` ("\0") is every key ≥ `key` (so `key = end = "\0"` is every key).
 *
 * Transactions are synchronous: open, operate and `end()` in one JavaScript turn (never across an
 * `await`). A write txn holds the backend's single batch until `end()`, which commits it; readers
 * opened afterwards see it at once.
 */
import type { LeaseID } from "../lease/lease-item.js";
import type { BatchTx } from "../storage/backend.js";
import type { MvccError } from "./errors.js";
import type { KeyValue } from "./mvccpb.js";

export interface RangeOptions {
  /** At most this many kvs (≤ 0 or absent: no limit). `count` still counts every key. */
  limit?: number;
  /** Read as of this revision (≤ 0 or absent: the txn's revision). */
  rev?: number;
  /** Only count the keys; `kvs` is empty. */
  countOnly?: boolean;
}

export interface RangeResult {
  /** In key order; at most `limit`. The caller may keep them but must not mutate them. */
  kvs: KeyValue[];
  /** The store's revision when the range ran (not the revision read at). */
  rev: number;
  /** Every key in the range at the revision read, whatever the limit. */
  count: number;
}

export interface ReadView {
  /** The compacted revision when the txn opened (etcd: -1 before any compaction). */
  firstRev(): number;
  /** The store's revision when the txn opened. */
  rev(): number;
  /** {@link ErrFutureRev} above the current revision, {@link ErrCompacted} below the compacted one. */
  range(key: Uint8Array, end: Uint8Array | undefined, ro?: RangeOptions): RangeResult | MvccError;
}

export interface TxnRead extends ReadView {
  end(): void;
}

export interface WriteView {
  /**
   * Deletes the keys in the range; each deleted key is one change (one event). Returns the count and
   * the revision after the txn (unchanged when nothing was or will be written).
   */
  deleteRange(key: Uint8Array, end?: Uint8Array): { n: number; rev: number };
  /** Puts `key`; returns the revision the txn writes at. The lease is not validated here. */
  put(key: Uint8Array, value: Uint8Array, lease: LeaseID): number;
}

export interface TxnWrite extends TxnRead, WriteView {
  /** Every key-value written so far, in order; a deletion is `{key}` alone. Read-only for callers. */
  changes(): readonly KeyValue[];
  /** The backend batch this txn writes to, for writes that must commit with it. Valid until `end()`. */
  batchTx(): BatchTx;
}

/** What MVCC needs from the lessor: who holds a key, attaching/detaching keys, the range deleter. */
export type { KeyLessor } from "../lease/lessor.js";

/** etcd's KeyValueHash: the hash of the key bucket's revisions in (compactRevision, revision]. */
export interface KeyValueHash {
  /** CRC-32C, unsigned. */
  hash: number;
  compactRevision: number;
  revision: number;
}

export interface KV extends ReadView, WriteView {
  read(): TxnRead;
  write(): TxnWrite;
  /**
   * Compacts away every revision below `rev` except the latest of each key. The compacted revision
   * takes effect at once; the backend is cleaned up in bounded batches afterwards, and the promise
   * resolves when that is done. {@link ErrCompacted} if `rev` ≤ the compacted revision,
   * {@link ErrFutureRev} if above the current one.
   */
  compact(rev: number): Promise<void> | MvccError;
  /** etcd's Hash (whole backend, default ignores) and the current revision. */
  hash(): { hash: number; revision: number };
  /** etcd's HashByRev: the hash of revisions ≤ `rev` (0: current) and the current revision. */
  hashByRev(rev: number): { hash: KeyValueHash; currentRev: number } | MvccError;
  /** Resolves when every committed txn is durable. */
  commit(): Promise<void>;
  /** Rebuilds the store from another backend's contents (after a snapshot is installed). */
  restore(): void;
  close(): void;
}
