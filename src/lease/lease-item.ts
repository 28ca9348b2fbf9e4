import { keyString, keyStringBytes } from "../storage/backend.js";

/**
 * What the lessor and MVCC share about a key attached to a lease (etcd server/lease: LeaseID,
 * NoLease, LeaseItem). MVCC imports this file; the lessor never imports MVCC.
 */

/** A lease id: etcd's int64 LeaseID. Granted ids are positive; 0n means "no lease". */
export type LeaseID = bigint;

/** etcd's NoLease. */
export const NoLease: LeaseID = 0n;

/**
 * A key attached to a lease. `key` is the key's bytes as a binary string (storage's keyString) so
 * it can key a Map; convert with {@link leaseItemOf} and {@link leaseItemKey}.
 */
export interface LeaseItem {
  key: string;
}

export function leaseItemOf(key: Uint8Array): LeaseItem {
  return { key: keyString(key) };
}

export function leaseItemKey(item: LeaseItem): Uint8Array {
  return keyStringBytes(item.key);
}

/** etcd's %016x rendering of a lease id, as it appears in logs. */
export function describeLeaseID(id: LeaseID): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, "0");
}
