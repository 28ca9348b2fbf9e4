/**
 * The backend quota (etcd server/etcdserver/quota.go): a write is refused, and the NOSPACE alarm
 * raised, when the backend would grow past `--quota-backend-bytes`. Only puts, txns with puts and
 * lease grants cost anything.
 */
import type { LeaseGrantRequest, PutRequest, RequestOp, TxnRequest } from "../api/etcdserverpb/rpc.js";

/** etcd's estimated overheads, bytes. */
export const leaseOverhead = 64;
export const kvOverhead = 256;

export type QuotaRequest = { put: PutRequest } | { txn: TxnRequest } | { leaseGrant: LeaseGrantRequest };

function costPut(r: PutRequest): number {
  return kvOverhead + r.key.length + r.value.length;
}

function costOp(u: RequestOp): number {
  if (u.requestPut) return costPut(u.requestPut);
  if (u.requestTxn) return costTxn(u.requestTxn);
  return 0;
}

function costTxn(r: TxnRequest): number {
  const s = r.success.reduce((n, u) => n + costOp(u), 0);
  const f = r.failure.reduce((n, u) => n + costOp(u), 0);
  return Math.max(s, f);
}

export function cost(r: QuotaRequest): number {
  if ("put" in r) return costPut(r.put);
  if ("txn" in r) return costTxn(r.txn);
  return leaseOverhead;
}

export class BackendQuota {
  constructor(
    private readonly size: () => number,
    readonly maxBackendBytes: number,
  ) {}

  /** etcd's Available: whether the request fits under the quota. */
  available(r: QuotaRequest): boolean {
    const c = cost(r);
    if (c === 0) return true;
    return this.size() + c < this.maxBackendBytes;
  }
}
