/**
 * What the lessor and MVCC share about a key attached to a lease (etcd server/lease: LeaseID,
 * NoLease, LeaseItem). MVCC imports this file; the lessor never imports MVCC.
 */

/** A lease id: etcd's int64 LeaseID. Granted ids are positive; 0n means "no lease". */
export type LeaseID = bigint;

/** etcd's NoLease. */
export const NoLease: LeaseID = 0n;

/**
 * A key attached to a lease. `key` is the key's bytes as a binary string (one char per byte, code
 * 0–255) so it can key a Map; convert with {@link leaseItemOf} and {@link leaseItemKey}.
 */
export interface LeaseItem {
  key: string;
}

export function leaseItemOf(key: Uint8Array): LeaseItem {
  let s = "";
  for (let i = 0; i < key.length; i += 8192) {
    s += String.fromCharCode(...key.subarray(i, i + 8192));
  }
  return { key: s };
}

export function leaseItemKey(item: LeaseItem): Uint8Array {
  const out = new Uint8Array(item.key.length);
  for (let i = 0; i < out.length; i++) out[i] = item.key.charCodeAt(i);
  return out;
}

/** etcd's %016x rendering of a lease id, as it appears in logs. */
export function describeLeaseID(id: LeaseID): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, "0");
}
