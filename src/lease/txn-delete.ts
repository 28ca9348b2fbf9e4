import type { BatchTx } from "../storage/backend.js";

/**
 * The write transaction a lessor revokes a lease through (etcd's lease.TxnDelete): MVCC's write
 * txn satisfies it, so the lessor deletes keys without importing MVCC. Every delete of one txn
 * gets the same revision; `end()` commits them.
 */
export interface TxnDelete {
  /**
   * Deletes `key` alone (`end` absent or empty), `[key, end)`, or every key ≥ `key` (`end` = [0]).
   * Returns the number of keys deleted and the store revision after the txn.
   */
  deleteRange(key: Uint8Array, end?: Uint8Array): { n: number; rev: number };
  /**
   * The backend batch the txn writes to, for writes that must commit with the deletes (the lease
   * bucket entry of a revoked lease). Valid until `end()`.
   */
  batchTx(): BatchTx;
  /** Ends the txn, committing its writes. */
  end(): void;
}

/** Opens a TxnDelete (etcd's RangeDeleter); MVCC hands one to the lessor. */
export type RangeDeleter = () => TxnDelete;
