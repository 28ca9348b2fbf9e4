/**
 * Test doubles for the lessor: a fake clock, and a tiny key store standing in for MVCC — keys live
 * in the backend's `key` bucket (key → value, no revisions), and its write txn deletes keys and
 * detaches them from their lease as MVCC's does, all in one backend batch committed by `end()`.
 */
import { type LeaseID, leaseItemOf } from "../../src/lease/lease-item.js";
import type { KeyLessor } from "../../src/lease/lessor.js";
import type { TxnDelete } from "../../src/lease/txn-delete.js";
import { type Backend, type BatchTx, KeyBucket, LeaseBucket } from "../../src/storage/backend.js";
import { bytesToLeaseId, decodeLease, type LeasePb } from "../../src/lease/leasepb.js";

export class FakeClock {
  constructor(public t = 1_000_000) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

const utf8 = new TextEncoder();
const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);

export const bytes = (s: string): Uint8Array => utf8.encode(s);

/** A txn that records what it deletes (as `key_end`, like etcd's fakeDeleter) and deletes it from the key bucket. */
export class RecordingTxn implements TxnDelete {
  readonly deleted: string[] = [];
  ended = false;
  /** `onDelete` runs after each key delete (MVCC detaches there), `onEnd` just before the commit. */
  constructor(
    private readonly tx: BatchTx,
    private readonly onDelete?: (key: Uint8Array) => void,
    private readonly onEnd?: (tx: BatchTx) => void,
  ) {
    tx.createBucket(KeyBucket);
  }

  deleteRange(key: Uint8Array, end?: Uint8Array): { n: number; rev: number } {
    if (this.ended) throw new Error("txn already ended");
    this.deleted.push(latin1(key) + "_" + latin1(end ?? new Uint8Array(0)));
    const had = this.tx.unsafeRange(KeyBucket, key).keys.length;
    this.tx.delete(KeyBucket, key);
    this.onDelete?.(key);
    return { n: had, rev: 0 };
  }

  batchTx(): BatchTx {
    return this.tx;
  }

  end(): void {
    this.onEnd?.(this.tx);
    this.ended = true;
    void this.tx.commit();
  }
}

/** MVCC stand-in: put with a lease attaches, a txn delete detaches, like mvcc's storeTxnWrite. */
export class KeyStore {
  readonly txns: RecordingTxn[] = [];
  onEnd?: (tx: BatchTx) => void;

  constructor(
    readonly be: Backend,
    private readonly le: () => KeyLessor,
  ) {
    const tx = be.batchTx();
    tx.createBucket(KeyBucket);
    void tx.commit();
  }

  put(key: string, lease: LeaseID): void {
    const tx = this.be.batchTx();
    tx.put(KeyBucket, bytes(key), bytes("v"));
    void tx.commit();
    const item = leaseItemOf(bytes(key));
    const old = this.le().getLease(item);
    if (old !== 0n) this.le().detach(old, [item]);
    if (lease !== 0n) {
      const err = this.le().attach(lease, [item]);
      if (err) throw err;
    }
  }

  /** The range deleter to hand the lessor. */
  readonly rd = (): TxnDelete => {
    const txn = new RecordingTxn(
      this.be.batchTx(),
      (key) => {
        const item = leaseItemOf(key);
        const id = this.le().getLease(item);
        if (id !== 0n) this.le().detach(id, [item]);
      },
      this.onEnd,
    );
    this.txns.push(txn);
    return txn;
  };

  /** Committed keys of the key bucket, in order. */
  keys(): string[] {
    const r = this.be.readTx();
    const out: string[] = [];
    r.unsafeForEach(KeyBucket, (k) => {
      out.push(latin1(k));
    });
    r.end();
    return out;
  }
}

/** Committed records of the lease bucket, by id. */
export function storedLeases(be: Backend): Map<LeaseID, LeasePb> {
  const r = be.readTx();
  const out = new Map<LeaseID, LeasePb>();
  r.unsafeForEach(LeaseBucket, (k, v) => {
    out.set(bytesToLeaseId(k), decodeLease(v));
  });
  r.end();
  return out;
}

/** A backend that counts commits (to check that a revoke is one batch). */
export function countCommits(be: Backend): { count: number } {
  const c = { count: 0 };
  const open = be.batchTx.bind(be);
  be.batchTx = () => {
    const tx = open();
    const commit = tx.commit.bind(tx);
    tx.commit = () => {
      c.count++;
      return commit();
    };
    return tx;
  };
  return c;
}
