/**
 * MVCC's records in the backend's `meta` bucket (etcd server/storage/mvcc/store.go): the compaction
 * that was scheduled and the one that finished, each stored as a 17-byte revision key of
 * `{main: rev, sub: 0}`. When they differ at start, a compaction was interrupted and is resumed.
 */
import { KeyBucket, MetaBucket, type BatchTx, type ReadView } from "../storage/backend.js";
import { bytesToRev, revToBytes } from "./revision.js";

const utf8 = new TextEncoder();
export const ScheduledCompactKeyName: Uint8Array = utf8.encode("scheduledCompactRev");
export const FinishedCompactKeyName: Uint8Array = utf8.encode("finishedCompactRev");

function readRev(tx: ReadView, name: Uint8Array): number | undefined {
  if (!tx.hasBucket(MetaBucket)) return undefined;
  const { values } = tx.unsafeRange(MetaBucket, name);
  return values.length === 0 ? undefined : bytesToRev(values[0]!).main;
}

/** The revision of the last compaction scheduled, if any. */
export function unsafeReadScheduledCompact(tx: ReadView): number | undefined {
  return readRev(tx, ScheduledCompactKeyName);
}

/** The revision of the last compaction finished, if any. */
export function unsafeReadFinishedCompact(tx: ReadView): number | undefined {
  return readRev(tx, FinishedCompactKeyName);
}

export function unsafeSetScheduledCompact(tx: BatchTx, rev: number): void {
  tx.put(MetaBucket, ScheduledCompactKeyName, revToBytes({ main: rev, sub: 0 }));
}

export function unsafeSetFinishedCompact(tx: BatchTx, rev: number): void {
  tx.put(MetaBucket, FinishedCompactKeyName, revToBytes({ main: rev, sub: 0 }));
}

/** Creates the buckets MVCC writes to (etcd: schema.Key and the meta bucket). */
export function unsafeCreateBuckets(tx: BatchTx): void {
  tx.createBucket(KeyBucket);
  tx.createBucket(MetaBucket);
}
