/**
 * The store's read and write transactions (etcd server/storage/mvcc/kvstore_txn.go).
 *
 * A write txn writes every change at revision `beginRev + 1`, with sub-revisions 0, 1, 2… in the
 * order of the changes; a txn that changes nothing leaves the revision alone. Ranges inside a write
 * txn see its own earlier changes.
 */
import { NoLease, leaseItemOf, type LeaseID } from "../lease/lease-item.js";
import { KeyBucket, type BatchTx, type ReadTx, type ReadView as BackendReadView } from "../storage/backend.js";
import { ErrCompacted, ErrFutureRev, type MvccError } from "./errors.js";
import type { KvStore } from "./kvstore.js";
import type { RangeOptions, RangeResult, TxnRead, TxnWrite } from "./kv.js";
import { decodeKeyValue, encodeKeyValue, newKeyValue, type KeyValue } from "./mvccpb.js";
import { appendMarkTombstone, describeRevision, revToBytes, type Revision } from "./revision.js";

/** Reads `[key, end)` (kv.ts range semantics) as of `ro.rev` over `tx`, with `curRev` the txn's revision. */
function rangeKeys(
  s: KvStore,
  tx: BackendReadView,
  key: Uint8Array,
  end: Uint8Array | undefined,
  curRev: number,
  ro: RangeOptions,
): RangeResult | MvccError {
  let rev = ro.rev ?? 0;
  if (rev > curRev) return ErrFutureRev;
  if (rev <= 0) rev = curRev;
  if (rev < s.compactMainRev) return ErrCompacted;
  if (ro.countOnly) {
    return { kvs: [], count: s.kvindex.countRevisions(key, end, rev), rev: curRev };
  }
  const limit = ro.limit ?? 0;
  const { revs, total } = s.kvindex.revisions(key, end, rev, limit);
  const n = limit > 0 && limit < revs.length ? limit : revs.length;
  const kvs: KeyValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { values } = tx.unsafeRange(KeyBucket, revToBytes(revs[i]!));
    if (values.length !== 1) {
      // etcd's lg.Fatal: the index names a revision the backend does not hold.
      throw new Error(`mvcc: range failed to find revision pair ${describeRevision(revs[i]!)} (current ${curRev})`);
    }
    kvs[i] = decodeKeyValue(values[0]!);
  }
  return { kvs, count: total, rev: curRev };
}

export class StoreTxnRead implements TxnRead {
  private readonly first: number;
  private readonly current: number;

  constructor(
    private readonly s: KvStore,
    private readonly tx: ReadTx,
  ) {
    this.first = s.compactMainRev;
    this.current = s.currentRev;
  }

  firstRev(): number {
    return this.first;
  }

  rev(): number {
    return this.current;
  }

  range(key: Uint8Array, end: Uint8Array | undefined, ro: RangeOptions = {}): RangeResult | MvccError {
    return rangeKeys(this.s, this.tx, key, end, this.current, ro);
  }

  end(): void {
    this.tx.end();
  }
}

export class StoreTxnWrite implements TxnWrite {
  /** The revision before this txn; it writes at `beginRev + 1`. */
  readonly beginRev: number;
  private readonly changed: KeyValue[] = [];
  private ended = false;

  constructor(
    private readonly s: KvStore,
    private readonly tx: BatchTx,
  ) {
    this.beginRev = s.currentRev;
  }

  firstRev(): number {
    return 0;
  }

  rev(): number {
    return this.beginRev;
  }

  range(key: Uint8Array, end: Uint8Array | undefined, ro: RangeOptions = {}): RangeResult | MvccError {
    const rev = this.changed.length > 0 ? this.beginRev + 1 : this.beginRev;
    return rangeKeys(this.s, this.tx, key, end, rev, ro);
  }

  deleteRange(key: Uint8Array, end?: Uint8Array): { n: number; rev: number } {
    const rrev = this.changed.length > 0 ? this.beginRev + 1 : this.beginRev;
    const { keys } = this.s.kvindex.range(key, end, rrev);
    for (const k of keys) this.delete(k);
    if (keys.length > 0 || this.changed.length > 0) return { n: keys.length, rev: this.beginRev + 1 };
    return { n: 0, rev: this.beginRev };
  }

  put(key: Uint8Array, value: Uint8Array, lease: LeaseID): number {
    const rev = this.beginRev + 1;
    const le = this.s.le;
    let created = rev;
    let ver = 0;
    let oldLease: LeaseID = NoLease;
    const prev = this.s.kvindex.get(key, rev);
    const item = leaseItemOf(key);
    if (!(prev instanceof Error)) {
      created = prev.created.main;
      ver = prev.ver;
      oldLease = le?.getLease(item) ?? NoLease;
    }
    const idxRev: Revision = { main: rev, sub: this.changed.length };
    // The store keeps the key (index, changes) and the encoded value; copy so callers may reuse theirs.
    const kv: KeyValue = {
      key: key.slice(),
      value: value.slice(),
      createRevision: created,
      modRevision: rev,
      version: ver + 1,
      lease,
    };
    this.tx.put(KeyBucket, revToBytes(idxRev), encodeKeyValue(kv));
    this.s.kvindex.put(kv.key, idxRev);
    this.changed.push(kv);

    if (oldLease === lease) return rev;
    if (oldLease !== NoLease) {
      const err = le!.detach(oldLease, [item]);
      if (err) this.s.logger.error(`mvcc: failed to detach old lease from a key: ${err.message}`);
    }
    if (lease !== NoLease) {
      if (le === undefined) throw new Error("mvcc: no lessor to attach lease");
      const err = le.attach(lease, [item]);
      if (err) throw new Error(`mvcc: unexpected error from lease attach: ${err.message}`);
    }
    return rev;
  }

  private delete(key: Uint8Array): void {
    const idxRev: Revision = { main: this.beginRev + 1, sub: this.changed.length };
    const kv = newKeyValue({ key });
    this.tx.put(KeyBucket, appendMarkTombstone(revToBytes(idxRev)), encodeKeyValue(kv));
    const err = this.s.kvindex.tombstone(key, idxRev);
    if (err) throw new Error(`mvcc: failed to tombstone an existing key: ${err.message}`);
    this.changed.push(kv);
    const le = this.s.le;
    if (le === undefined) return;
    const item = leaseItemOf(key);
    const id = le.getLease(item);
    if (id !== NoLease) {
      const derr = le.detach(id, [item]);
      if (derr) this.s.logger.error(`mvcc: failed to detach old lease from a key: ${derr.message}`);
    }
  }

  changes(): readonly KeyValue[] {
    return this.changed;
  }

  batchTx(): BatchTx {
    return this.tx;
  }

  /** Commits the batch; the store's revision advances if anything changed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.changed.length > 0) this.s.currentRev++;
    this.s.trackCommit(this.tx.commit());
  }
}
