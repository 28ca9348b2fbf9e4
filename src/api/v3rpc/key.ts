/**
 * The request checks of etcd's KV service (server/etcdserver/api/v3rpc/key.go): what a request must
 * satisfy before it is proposed. Each returns the rpctypes error to answer with, or undefined.
 */
import { compareBytes, keyString } from "../../storage/backend.js";
import {
  SortOrder,
  SortTarget,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from "../etcdserverpb/rpc.js";
import {
  ErrGRPCDuplicateKey,
  ErrGRPCEmptyKey,
  ErrGRPCInvalidSortOption,
  ErrGRPCKeyNotFound,
  ErrGRPCLeaseProvided,
  ErrGRPCTooManyOps,
  ErrGRPCValueProvided,
  type EtcdError,
} from "./rpctypes.js";

/** etcd's default --max-txn-ops. */
export const DefaultMaxTxnOps = 128;

/** An empty key, or (3.6) a sort order or target outside its enum. */
export function checkRangeRequest(r: RangeRequest): EtcdError | undefined {
  if (r.key.length === 0) return ErrGRPCEmptyKey;
  if (SortOrder[r.sortOrder] === undefined) return ErrGRPCInvalidSortOption;
  if (SortTarget[r.sortTarget] === undefined) return ErrGRPCInvalidSortOption;
  return undefined;
}

export function checkPutRequest(r: PutRequest): EtcdError | undefined {
  if (r.key.length === 0) return ErrGRPCEmptyKey;
  if (r.ignoreValue && r.value.length !== 0) return ErrGRPCValueProvided;
  if (r.ignoreLease && r.lease !== 0n) return ErrGRPCLeaseProvided;
  return undefined;
}

export function checkDeleteRequest(r: DeleteRangeRequest): EtcdError | undefined {
  if (r.key.length === 0) return ErrGRPCEmptyKey;
  return undefined;
}

/**
 * ErrGRPCTooManyOps when the compares, the success ops or the failure ops — each counted on its
 * own — exceed `maxTxnOps`; a nested txn is held to the budget left, `maxTxnOps` minus the largest
 * of those three counts. Then every compare key and every op is checked, success before failure.
 * Duplicate keys are a separate check ({@link checkIntervals}), run after this one as etcd does.
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): EtcdError | undefined {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) return ErrGRPCTooManyOps;
  for (const c of r.compare) {
    if (c.key.length === 0) return ErrGRPCEmptyKey;
  }
  for (const u of r.success) {
    const err = checkRequestOp(u, maxTxnOps - opc);
    if (err) return err;
  }
  for (const u of r.failure) {
    const err = checkRequestOp(u, maxTxnOps - opc);
    if (err) return err;
  }
  return undefined;
}

/** Checks the op that is set; an empty op is ErrGRPCKeyNotFound (etcd's answer to an empty oneof). */
export function checkRequestOp(u: RequestOp, maxTxnOps: number): EtcdError | undefined {
  if (u.requestRange) return checkRangeRequest(u.requestRange);
  if (u.requestPut) return checkPutRequest(u.requestPut);
  if (u.requestDeleteRange) return checkDeleteRequest(u.requestDeleteRange);
  if (u.requestTxn) return checkTxnRequest(u.requestTxn, maxTxnOps);
  return ErrGRPCKeyNotFound;
}

/** A deleted interval `[begin, end)`; `end` undefined is the single key `begin`. */
interface Interval {
  begin: Uint8Array;
  end: Uint8Array | undefined;
}

/**
 * Whether `key` lies in a deleted interval. As etcd's interval tree compares the range end as a plain
 * string, a delete whose range end is `[0]` ("every key ≥ key") is the empty interval `[key, "\0")`
 * and overlaps nothing: etcd lets such a delete share a txn with puts, and so do we.
 */
function deleted(dels: readonly Interval[], key: Uint8Array): boolean {
  for (const iv of dels) {
    if (iv.end === undefined) {
      if (compareBytes(iv.begin, key) === 0) return true;
    } else if (compareBytes(iv.begin, key) <= 0 && compareBytes(key, iv.end) < 0) return true;
  }
  return false;
}

export interface Intervals {
  /** Keys put by the ops (as {@link keyString} binary strings). */
  puts: Set<string>;
  dels: Interval[];
}

/**
 * etcd's checkIntervals: ErrGRPCDuplicateKey when, within one list of ops (a txn branch, including
 * the branches of the txns nested in it), a key is put twice or put and deleted. The two branches of
 * one nested txn exclude each other, so a key put in both its success and its failure is fine; a key
 * put by two nested txns, or by a nested txn and its parent, is not. Deletes may overlap each other.
 * Returns the keys put and the intervals deleted, for the parent's check.
 */
export function checkIntervals(reqs: readonly RequestOp[]): Intervals | EtcdError {
  const dels: Interval[] = [];
  // This level's deletes first, so puts of nested txns are checked against them.
  for (const req of reqs) {
    const d = req.requestDeleteRange;
    if (d === undefined) continue;
    dels.push({ begin: d.key, end: d.rangeEnd.length !== 0 ? d.rangeEnd : undefined });
  }

  const puts = new Set<string>();
  for (const req of reqs) {
    const t = req.requestTxn;
    if (t === undefined) continue;
    const then = checkIntervals(t.success);
    if (!("puts" in then)) return then;
    const els = checkIntervals(t.failure);
    if (!("puts" in els)) return els;
    for (const k of then.puts) {
      if (puts.has(k) || deleted(dels, bytesOf(k))) return ErrGRPCDuplicateKey;
      puts.add(k);
    }
    for (const k of els.puts) {
      // A key from this txn's success branch may recur in its failure branch.
      if (puts.has(k) && !then.puts.has(k)) return ErrGRPCDuplicateKey;
      if (deleted(dels, bytesOf(k))) return ErrGRPCDuplicateKey;
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }

  for (const req of reqs) {
    const p = req.requestPut;
    if (p === undefined) continue;
    const k = keyString(p.key);
    if (puts.has(k) || deleted(dels, p.key)) return ErrGRPCDuplicateKey;
    puts.add(k);
  }
  return { puts, dels };
}

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < out.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * All of a Txn request's checks in etcd's order: {@link checkTxnRequest}, then duplicate keys in the
 * success ops, then in the failure ops.
 */
export function checkTxn(r: TxnRequest, maxTxnOps: number): EtcdError | undefined {
  const err = checkTxnRequest(r, maxTxnOps);
  if (err) return err;
  const s = checkIntervals(r.success);
  if (!("puts" in s)) return s;
  const f = checkIntervals(r.failure);
  if (!("puts" in f)) return f;
  return undefined;
}
