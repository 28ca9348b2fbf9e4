/**
 * The multi-version key-value store (etcd server/storage/mvcc/kvstore.go): an in-memory index of
 * every key's revisions over a {@link Backend} that holds each revision's KeyValue in the `key`
 * bucket under its 17-byte revision key (a deletion under the key marked with a tombstone 't').
 *
 * Revisions: the store starts at revision 1 (etcd's first revision is empty); each write txn that
 * changes something writes at the next main revision. `compactMainRev` is -1 until the first
 * compaction.
 *
 * Everything here is synchronous except compaction's backend clean-up, which runs in batches of
 * `compactionBatchLimit` revisions with a pause of `compactionSleepInterval` between them, so writes
 * and reads go on meanwhile (they never see a half-compacted state: the index is compacted first,
 * and reads below the compacted revision are refused).
 */
import { leaseItemOf, NoLease, type LeaseID } from "../lease/lease-item.js";
import { discardLogger, type Logger } from "../raft/logger.js";
import { DefaultIgnores, KeyBucket, type Backend } from "../storage/backend.js";
import { ErrCompacted, ErrFutureRev, type MvccError } from "./errors.js";
import { HashStorage, KvHasher, unsafeHashByRev } from "./hash.js";
import { newTreeIndex, type TreeIndex } from "./index.js";
import type { KeyLessor, KeyValueHash, KV, RangeOptions, RangeResult, TxnRead, TxnWrite } from "./kv.js";
import { StoreTxnRead, StoreTxnWrite } from "./kvstore-txn.js";
import { decodeKeyValue } from "./mvccpb.js";
import { bytesToRev, isTombstone, revisionKey, revToBytes } from "./revision.js";
import {
  unsafeCreateBuckets,
  unsafeReadFinishedCompact,
  unsafeReadScheduledCompact,
  unsafeSetFinishedCompact,
  unsafeSetScheduledCompact,
} from "./store.js";

/** etcd's defaults: revisions deleted per compaction batch, and the pause between batches (ms). */
export const defaultCompactionBatchLimit = 1000;
export const defaultCompactionSleepInterval = 10;
/** Backend entries read per chunk when rebuilding the index. */
export const restoreChunkKeys = 10000;

export interface StoreConfig {
  compactionBatchLimit?: number;
  /** Milliseconds between compaction batches. */
  compactionSleepInterval?: number;
  /** Waits `ms` milliseconds; defaults to `setTimeout`. Tests inject their own. */
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class KvStore implements KV {
  /** The backend; replaced by {@link restore}. Package-internal (watch reads it). */
  b: Backend;
  /** Package-internal: the key index. */
  kvindex: TreeIndex = newTreeIndex();
  /** The revision of the last committed change (1 when empty). */
  currentRev = 1;
  /** The compacted revision; -1 before any compaction. */
  compactMainRev = -1;
  readonly le: KeyLessor | undefined;
  readonly logger: Logger;
  readonly hashes = new HashStorage();

  private readonly batchLimit: number;
  private readonly sleepInterval: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Compactions run one after another (etcd's FIFO scheduler). */
  private compactions: Promise<void> = Promise.resolve();
  /** Bumped by restore/close: a running compaction of an older generation stops. */
  private generation = 0;
  private closed = false;
  private lastCommit: Promise<void> = Promise.resolve();

  constructor(b: Backend, le?: KeyLessor, cfg: StoreConfig = {}) {
    this.b = b;
    this.le = le;
    this.logger = cfg.logger ?? discardLogger;
    this.batchLimit = cfg.compactionBatchLimit || defaultCompactionBatchLimit;
    this.sleepInterval = cfg.compactionSleepInterval ?? defaultCompactionSleepInterval;
    this.sleep = cfg.sleep ?? defaultSleep;
    // Lease revokes delete through our write txn (a subclass's, for watch events), as etcd's NewStore sets.
    le?.setRangeDeleter?.(() => this.write());
    const tx = b.batchTx();
    unsafeCreateBuckets(tx);
    this.trackCommit(tx.commit());
    this.restoreIndex();
  }

  read(): TxnRead {
    this.checkOpen();
    return new StoreTxnRead(this, this.b.readTx());
  }

  write(): TxnWrite {
    this.checkOpen();
    return new StoreTxnWrite(this, this.b.batchTx());
  }

  firstRev(): number {
    return this.compactMainRev;
  }

  rev(): number {
    return this.currentRev;
  }

  range(key: Uint8Array, end: Uint8Array | undefined, ro: RangeOptions = {}): RangeResult | MvccError {
    const txn = this.read();
    try {
      return txn.range(key, end, ro);
    } finally {
      txn.end();
    }
  }

  deleteRange(key: Uint8Array, end?: Uint8Array): { n: number; rev: number } {
    const txn = this.write();
    try {
      return txn.deleteRange(key, end);
    } finally {
      txn.end();
    }
  }

  put(key: Uint8Array, value: Uint8Array, lease: LeaseID): number {
    const txn = this.write();
    try {
      return txn.put(key, value, lease);
    } finally {
      txn.end();
    }
  }

  /** Package-internal: remembers a batch's durability promise for {@link commit}. */
  trackCommit(p: Promise<void>): void {
    // A failed commit is reported by commit(); don't let it surface as an unhandled rejection here.
    p.catch(() => {});
    this.lastCommit = p;
  }

  commit(): Promise<void> {
    return this.lastCommit;
  }

  compact(rev: number): Promise<void> | MvccError {
    this.checkOpen();
    const prevCompactionCompleted = this.prevCompactionCompleted();
    if (rev <= this.compactMainRev) return ErrCompacted;
    if (rev > this.currentRev) return ErrFutureRev;
    const prevCompactRev = this.compactMainRev;
    this.compactMainRev = rev;
    const tx = this.b.batchTx();
    unsafeSetScheduledCompact(tx, rev);
    this.trackCommit(tx.commit());
    return this.scheduleCompaction(rev, prevCompactRev, prevCompactionCompleted);
  }

  private prevCompactionCompleted(): boolean {
    const tx = this.b.readTx();
    try {
      return unsafeReadScheduledCompact(tx) === unsafeReadFinishedCompact(tx);
    } finally {
      tx.end();
    }
  }

  private scheduleCompaction(rev: number, prevCompactRev: number, storeHash: boolean): Promise<void> {
    const gen = this.generation;
    const job = this.compactions.then(async () => {
      if (gen !== this.generation) return;
      const hash = await this.runCompaction(rev, prevCompactRev, gen);
      if (hash === undefined) return;
      if (storeHash) this.hashes.store(hash);
      else this.logger.info("previous compaction was interrupted, skip storing compaction hash value");
    });
    this.compactions = job.catch((err: unknown) => {
      this.logger.warn(`mvcc: compaction at ${rev} failed: ${String(err)}`);
    });
    return job;
  }

  /**
   * etcd's scheduleCompaction: compacts the index at `rev`, then deletes from the backend, one
   * bounded batch at a time, every revision ≤ `rev` the index no longer needs, hashing what stays.
   * Returns undefined if a restore or close interrupted it.
   */
  private async runCompaction(rev: number, prevCompactRev: number, gen: number): Promise<KeyValueHash | undefined> {
    const keep = this.kvindex.compact(rev);
    const h = new KvHasher(prevCompactRev, rev, keep);
    const end = revToBytes({ main: rev + 1, sub: 0 });
    let last = revToBytes({ main: 0, sub: 0 });
    let deleted = 0;
    for (;;) {
      const tx = this.b.batchTx();
      const { keys, values } = tx.unsafeRange(KeyBucket, last, end, this.batchLimit);
      for (let i = 0; i < keys.length; i++) {
        if (!keep.has(revisionKey(bytesToRev(keys[i]!)))) {
          tx.delete(KeyBucket, keys[i]!);
          deleted++;
        }
        h.writeKeyValue(keys[i]!, values[i]!);
      }
      if (keys.length < this.batchLimit) {
        unsafeSetFinishedCompact(tx, rev);
        this.trackCommit(tx.commit());
        this.logger.info(`mvcc: finished scheduled compaction at ${rev}, ${deleted} revisions compacted`);
        return h.hash();
      }
      this.trackCommit(tx.commit());
      const lastRev = bytesToRev(keys[keys.length - 1]!);
      last = revToBytes({ main: lastRev.main, sub: lastRev.sub + 1 });
      await this.sleep(this.sleepInterval);
      if (gen !== this.generation) return undefined;
    }
  }

  /** Resolves when every compaction scheduled so far has finished (or stopped). */
  compactionsDone(): Promise<void> {
    return this.compactions;
  }

  hash(): { hash: number; revision: number } {
    return { hash: this.b.hash(DefaultIgnores) >>> 0, revision: this.currentRev };
  }

  hashByRev(rev: number): { hash: KeyValueHash; currentRev: number } | MvccError {
    const cached = this.hashes.find(rev);
    if (cached !== undefined) return { hash: cached, currentRev: this.currentRev };
    const compactRev = this.compactMainRev;
    const currentRev = this.currentRev;
    if (rev > 0 && rev < compactRev) return ErrCompacted;
    if (rev > 0 && rev > currentRev) return ErrFutureRev;
    const at = rev === 0 ? currentRev : rev;
    const keep = this.kvindex.keep(at);
    const tx = this.b.readTx();
    try {
      return { hash: unsafeHashByRev(tx, compactRev, at, keep), currentRev };
    } finally {
      tx.end();
    }
  }

  /**
   * Rebuilds the store from `b` (default: the current backend, after its contents were replaced by
   * a snapshot). A running compaction stops; one the backend records as scheduled but unfinished is
   * resumed.
   */
  restore(b: Backend = this.b): void {
    this.checkOpen();
    this.generation++;
    this.compactions = Promise.resolve();
    this.b = b;
    const tx = b.batchTx();
    unsafeCreateBuckets(tx);
    this.trackCommit(tx.commit());
    this.kvindex = newTreeIndex();
    this.currentRev = 1;
    this.compactMainRev = -1;
    this.restoreIndex();
  }

  /** etcd's store.restore: reads every revision of the key bucket in order into the index. */
  private restoreIndex(): void {
    const tx = this.b.readTx();
    let scheduledCompact: number;
    const keyToLease = new Map<string, LeaseID>();
    try {
      const finished = unsafeReadFinishedCompact(tx);
      if (finished !== undefined) {
        this.compactMainRev = finished;
        this.logger.info(`mvcc: restored last compact revision ${finished}`);
      }
      scheduledCompact = unsafeReadScheduledCompact(tx) ?? 0;
      const seen = new Set<string>();
      let min = revToBytes({ main: 1, sub: 0 });
      const max = revToBytes({ main: Number.MAX_SAFE_INTEGER, sub: Number.MAX_SAFE_INTEGER });
      let currentRev = 1;
      for (;;) {
        const { keys, values } = tx.unsafeRange(KeyBucket, min, max, restoreChunkKeys);
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!;
          const kv = decodeKeyValue(values[i]!);
          const rev = bytesToRev(k);
          if (rev.main < currentRev) throw new Error(`mvcc: revision ${rev.main} below the previous ${currentRev}`);
          currentRev = rev.main;
          const ks = leaseItemOf(kv.key).key;
          const known = seen.has(ks);
          if (isTombstone(k)) {
            keyToLease.delete(ks);
            if (!known) this.kvindex.restoreTombstone(kv.key, rev);
            else {
              const err = this.kvindex.tombstone(kv.key, rev);
              if (err) this.logger.warn(`mvcc: tombstone encountered error: ${err.message}`);
            }
          } else {
            if (kv.lease !== NoLease) keyToLease.set(ks, kv.lease);
            else keyToLease.delete(ks);
            this.kvindex.restore(kv.key, { main: kv.createRevision, sub: 0 }, rev, kv.version);
          }
          seen.add(ks);
        }
        if (keys.length < restoreChunkKeys) break;
        const lastRev = bytesToRev(keys[keys.length - 1]!);
        min = revToBytes({ main: lastRev.main, sub: lastRev.sub + 1 });
      }
      this.currentRev = Math.max(currentRev, this.compactMainRev, scheduledCompact);
    } finally {
      tx.end();
    }
    if (scheduledCompact <= this.compactMainRev) scheduledCompact = 0;
    for (const [key, id] of keyToLease) {
      if (this.le === undefined) throw new Error("mvcc: no lessor to attach lease");
      const err = this.le.attach(id, [{ key }]);
      if (err) this.logger.error(`mvcc: failed to attach lease ${id} on restore: ${err.message}`);
    }
    this.logger.info(`mvcc: kvstore restored, current revision ${this.currentRev}`);
    if (scheduledCompact !== 0) {
      // etcd's compactLockfree: resume the interrupted compaction.
      const prevCompactRev = this.compactMainRev;
      this.compactMainRev = scheduledCompact;
      this.scheduleCompaction(scheduledCompact, prevCompactRev, false).catch(() => {});
      this.logger.info(`mvcc: resume scheduled compaction at ${scheduledCompact}`);
    }
  }

  close(): void {
    this.closed = true;
    this.generation++;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("mvcc: store is closed");
  }
}

/** etcd's NewStore. */
export function newStore(b: Backend, le?: KeyLessor, cfg?: StoreConfig): KvStore {
  return new KvStore(b, le, cfg);
}
