/**
 * The watchable store's write txn (etcd server/storage/mvcc/watchable_store_txn.go): a store
 * write txn whose `end()` also hands the txn's changes, as events, to the synced watchers.
 */
import type { BatchTx } from "../storage/backend.js";
import type { MvccError } from "./errors.js";
import type { LeaseID } from "../lease/lease-item.js";
import type { RangeOptions, RangeResult, TxnWrite } from "./kv.js";
import { EventType, type Event, type KeyValue } from "./mvccpb.js";

/** What the txn needs from the store: delivery of one committed revision's events. */
export interface Notifier {
  notify(rev: number, evs: Event[]): void;
}

/**
 * etcd's changes-to-events step: a change with `createRevision` 0 is a deletion (`{key}` alone),
 * which becomes a DELETE event whose KeyValue carries `modRevision = rev` (a copy; the store's
 * change is left alone). Other changes become PUT events sharing the change's KeyValue.
 */
export function changesToEvents(rev: number, changes: readonly KeyValue[]): Event[] {
  return changes.map((kv) =>
    kv.createRevision === 0
      ? { type: EventType.DELETE, kv: { ...kv, modRevision: rev } }
      : { type: EventType.PUT, kv },
  );
}

export class WatchableStoreTxnWrite implements TxnWrite {
  private ended = false;

  constructor(
    private readonly tw: TxnWrite,
    private readonly s: Notifier,
  ) {}

  firstRev(): number {
    return this.tw.firstRev();
  }
  rev(): number {
    return this.tw.rev();
  }
  range(key: Uint8Array, end: Uint8Array | undefined, ro?: RangeOptions): RangeResult | MvccError {
    return this.tw.range(key, end, ro);
  }
  deleteRange(key: Uint8Array, end?: Uint8Array): { n: number; rev: number } {
    return this.tw.deleteRange(key, end);
  }
  put(key: Uint8Array, value: Uint8Array, lease: LeaseID): number {
    return this.tw.put(key, value, lease);
  }
  changes(): readonly KeyValue[] {
    return this.tw.changes();
  }
  batchTx(): BatchTx {
    return this.tw.batchTx();
  }

  /**
   * Commits the txn, then sends all of its events, as one response per watcher at the txn's
   * revision, to the synced watchers (etcd notifies under the store lock before ending the txn;
   * in one JS turn the order is invisible, and notifying after lets prev_kv reads see committed
   * state).
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const changes = this.tw.changes();
    if (changes.length === 0) {
      this.tw.end();
      return;
    }
    const rev = this.tw.rev() + 1;
    const evs = changesToEvents(rev, changes);
    this.tw.end();
    this.s.notify(rev, evs);
  }
}
