/** src/lease: etcd's server/lease — the lessor, its leases and their persisted form. */
export * from "./errors.js";
export * from "./lease.js";
export * from "./lease-item.js";
export * from "./lease-queue.js";
export * from "./leasepb.js";
export * from "./lessor.js";
export type { RangeDeleter, TxnDelete } from "./txn-delete.js";
