/**
 * Applying KV requests to the MVCC store (etcd server/etcdserver/txn: put.go, range.go, delete.go,
 * txn.go; 3.5's apply.go has the same rules). Each function runs synchronously in one store txn:
 * the caller applies committed requests one at a time, in log order.
 *
 * Errors are returned as values: ErrCompacted / ErrFutureRev (mvcc), ErrLeaseNotFound (lease),
 * ErrKeyNotFound (etcdserver). A request that fails writes nothing. An Error is thrown only where etcd
 * panics (a broken invariant in the middle of a write).
 */
import { compareBytes } from "../storage/backend.js";
import type { LeaseError } from "../lease/errors.js";
import { ErrLeaseNotFound } from "../lease/errors.js";
import { ErrCompacted, ErrFutureRev, MvccError } from "../mvcc/errors.js";
import type { KV, RangeOptions, RangeResult, ReadView, TxnRead, WriteView } from "../mvcc/kv.js";
import type { KeyValue } from "../mvcc/mvccpb.js";
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  newDeleteRangeResponse,
  newPutResponse,
  newRangeResponse,
  newTxnResponse,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "../api/etcdserverpb/rpc.js";
import { ErrKeyNotFound, type ServerError } from "./errors.js";

/** What applying needs from the lessor: whether a lease exists (etcd's Lessor.Lookup, nil when absent). */
export interface LeaseLookup {
  lookup(id: bigint): unknown;
}

/** The errors a KV request can be answered with. */
export type ApplyError = MvccError | LeaseError | ServerError;

/** A store txn that ops run in: a write txn, or a read txn posing as one (etcd's NewReadOnlyTxnWrite). */
interface OpTxn extends ReadView, WriteView {
  changes(): readonly KeyValue[];
}

function readOnlyTxnWrite(tr: TxnRead): OpTxn {
  return {
    firstRev: () => tr.firstRev(),
    rev: () => tr.rev(),
    range: (key, end, ro) => tr.range(key, end, ro),
    changes: () => [],
    put: () => {
      throw new Error("etcdserver: unexpected put in a read-only txn");
    },
    deleteRange: () => {
      throw new Error("etcdserver: unexpected deleteRange in a read-only txn");
    },
  };
}

const emptyBytes = new Uint8Array(0);


// ---------------------------------------------------------------------------------------------
// Put

/** Puts `p.key`. ErrLeaseNotFound for an unknown lease; ErrKeyNotFound for ignore_value/ignore_lease on an absent key. */
export function put(kv: KV, lessor: LeaseLookup, p: PutRequest): PutResponse | ApplyError {
  const lerr = checkLease(lessor, p);
  if (lerr) return lerr;
  const tw = kv.write();
  try {
    const prev = checkAndGetPrevKV(tw, p);
    if (prev instanceof Error) return prev;
    return applyPut(tw, p, prev);
  } finally {
    tw.end();
  }
}

function applyPut(tw: OpTxn, p: PutRequest, prev: RangeResult | undefined): PutResponse {
  let value = p.value;
  let lease = p.lease;
  const prevKv = prev?.kvs[0];
  if (p.ignoreValue || p.ignoreLease) {
    // etcd indexes prevKV.KVs[0] here and panics if the checks let an absent key through.
    if (prevKv === undefined) throw new Error("etcdserver: ignore_value/ignore_lease put found no previous key-value");
    if (p.ignoreValue) value = prevKv.value;
    if (p.ignoreLease) lease = prevKv.lease;
  }
  const resp = newPutResponse();
  if (p.prevKv && prevKv !== undefined) resp.prevKv = prevKv;
  resp.header.revision = tw.put(p.key, value, lease);
  return resp;
}

function checkPut(rv: ReadView, lessor: LeaseLookup, p: PutRequest): ApplyError | undefined {
  const lerr = checkLease(lessor, p);
  if (lerr) return lerr;
  const prev = checkAndGetPrevKV(rv, p);
  return prev instanceof Error ? prev : undefined;
}

function checkLease(lessor: LeaseLookup, p: PutRequest): LeaseError | undefined {
  if (p.lease === 0n) return undefined;
  const l = lessor.lookup(p.lease);
  return l === undefined || l === null ? ErrLeaseNotFound : undefined;
}

function checkAndGetPrevKV(rv: ReadView, p: PutRequest): RangeResult | undefined | ApplyError {
  const prev = getPrevKV(rv, p);
  if (prev instanceof Error) return prev;
  if ((p.ignoreValue || p.ignoreLease) && (prev === undefined || prev.kvs.length === 0)) return ErrKeyNotFound;
  return prev;
}

/** The key's current key-value, read only when the put needs it. */
function getPrevKV(rv: ReadView, p: PutRequest): RangeResult | undefined | MvccError {
  if (!(p.ignoreValue || p.ignoreLease || p.prevKv)) return undefined;
  return rv.range(p.key, undefined, {});
}

// ---------------------------------------------------------------------------------------------
// Range

/** Reads as `r` asks. ErrCompacted / ErrFutureRev when `r.revision` is out of the store's range. */
export function range(kv: KV, r: RangeRequest): RangeResponse | MvccError {
  const tr = kv.read();
  try {
    return executeRange(tr, r);
  } finally {
    tr.end();
  }
}

/** Sorting by key ascending is the store's own order: nothing to sort, and `limit` can go to the store. */
export function isDefaultOrdering(target: SortTarget, order: SortOrder): boolean {
  return order === SortOrder.NONE || (target === SortTarget.KEY && order === SortOrder.ASCEND);
}

export function hasRevisionFilters(r: RangeRequest): boolean {
  return r.minModRevision !== 0 || r.maxModRevision !== 0 || r.minCreateRevision !== 0 || r.maxCreateRevision !== 0;
}

/**
 * The limit handed to the store: none when the result is sorted or filtered afterwards (every key is
 * needed before truncating), else one more than asked so `more` can be told.
 */
function rangeLimit(r: RangeRequest): number {
  let limit = r.limit;
  if (!isDefaultOrdering(r.sortTarget, r.sortOrder) || hasRevisionFilters(r)) limit = 0;
  if (limit > 0 && limit < Number.MAX_SAFE_INTEGER) limit++;
  return limit;
}

function executeRange(rv: ReadView, r: RangeRequest): RangeResponse | MvccError {
  const ro: RangeOptions = { limit: rangeLimit(r), rev: r.revision, countOnly: r.countOnly };
  const rr = rv.range(r.key, r.rangeEnd, ro);
  if (rr instanceof Error) return rr;
  let kvs = filterRangeResults(rr.kvs, r);
  kvs = sortRangeResults(kvs, r);

  const resp = newRangeResponse();
  if (r.limit > 0 && kvs.length > r.limit) {
    kvs = kvs.slice(0, r.limit);
    resp.more = true;
  }
  resp.header.revision = rr.rev;
  // The count is the store's: every key in the range, before the filters and the limit.
  resp.count = rr.count;
  resp.kvs = r.keysOnly ? kvs.map((kv) => ({ ...kv, value: emptyBytes })) : kvs;
  return resp;
}

/** Drops the kvs outside the min/max mod and create revisions (each bound off when 0). */
function filterRangeResults(kvs: KeyValue[], r: RangeRequest): KeyValue[] {
  if (!hasRevisionFilters(r)) return kvs;
  return kvs.filter(
    (kv) =>
      !(r.maxModRevision !== 0 && kv.modRevision > r.maxModRevision) &&
      !(r.minModRevision !== 0 && kv.modRevision < r.minModRevision) &&
      !(r.maxCreateRevision !== 0 && kv.createRevision > r.maxCreateRevision) &&
      !(r.minCreateRevision !== 0 && kv.createRevision < r.minCreateRevision),
  );
}

const sorters: Record<SortTarget, (a: KeyValue, b: KeyValue) => number> = {
  [SortTarget.KEY]: (a, b) => compareBytes(a.key, b.key),
  [SortTarget.VERSION]: (a, b) => a.version - b.version,
  [SortTarget.CREATE]: (a, b) => a.createRevision - b.createRevision,
  [SortTarget.MOD]: (a, b) => a.modRevision - b.modRevision,
  [SortTarget.VALUE]: (a, b) => compareBytes(a.value, b.value),
};

/**
 * Sorts as asked; a target other than KEY with order NONE sorts ascending. Ties keep key order (Go's
 * sort is not stable, so etcd's order among ties is unspecified).
 */
function sortRangeResults(kvs: KeyValue[], r: RangeRequest): KeyValue[] {
  let order = r.sortOrder;
  if (r.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (isDefaultOrdering(r.sortTarget, order)) return kvs;
  const cmp = sorters[r.sortTarget];
  // etcd panics on an unknown target; the request checks refuse it first (ErrGRPCInvalidSortOption).
  if (cmp === undefined) throw new Error(`etcdserver: unexpected sort target ${r.sortTarget}`);
  const sorted = kvs.slice();
  if (order === SortOrder.ASCEND) sorted.sort(cmp);
  else if (order === SortOrder.DESCEND) sorted.sort((a, b) => cmp(b, a));
  return sorted;
}

/** A txn's range: `revision` 0 is the latest, above the store's is future, below the compacted one compacted. */
function checkRange(rv: ReadView, r: RangeRequest): MvccError | undefined {
  if (r.revision === 0) return undefined;
  if (r.revision > rv.rev()) return ErrFutureRev;
  if (r.revision < rv.firstRev()) return ErrCompacted;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// DeleteRange

/** Deletes the keys in the range; the header revision is unchanged when nothing was deleted. */
export function deleteRange(kv: KV, dr: DeleteRangeRequest): DeleteRangeResponse {
  const tw = kv.write();
  try {
    return applyDeleteRange(tw, dr);
  } finally {
    tw.end();
  }
}

function applyDeleteRange(tw: OpTxn, dr: DeleteRangeRequest): DeleteRangeResponse {
  const resp = newDeleteRangeResponse();
  if (dr.prevKv) {
    const rr = tw.range(dr.key, dr.rangeEnd, {});
    // A range at the txn's own revision cannot be compacted or in the future.
    if (rr instanceof Error) throw new Error(`etcdserver: deleteRange failed to read prev_kvs: ${rr.message}`);
    resp.prevKvs = rr.kvs.slice();
  }
  const { n, rev } = tw.deleteRange(dr.key, dr.rangeEnd);
  resp.deleted = n;
  resp.header.revision = rev;
  return resp;
}

// ---------------------------------------------------------------------------------------------
// Txn

/** Only ranges among the top-level ops (a nested txn counts as a write, as in etcd). */
export function isTxnReadonly(r: TxnRequest): boolean {
  return [...r.success, ...r.failure].every((u) => u.requestRange !== undefined);
}

/** Only serializable ranges among the top-level ops. */
export function isTxnSerializable(r: TxnRequest): boolean {
  return [...r.success, ...r.failure].every((u) => u.requestRange !== undefined && u.requestRange.serializable);
}

/** The branch a txn takes, and the paths of the txns nested in that branch, in op order. */
interface TxnPath {
  succeeded: boolean;
  nested: TxnPath[];
}

/**
 * Applies a txn: every compare (nested ones included) is evaluated and every op of the chosen
 * branches checked against the store as it is before the txn; on an error nothing is written.
 * Otherwise the ops run in order in one store txn, so all writes share one revision; a txn whose
 * ops are all ranges runs in a read txn and leaves the revision alone. The header revision is the
 * store's after the txn; each op's response carries its own header revision (a nested txn's is 0,
 * as etcd leaves it).
 */
export function txn(kv: KV, lessor: LeaseLookup, rt: TxnRequest): TxnResponse | ApplyError {
  const isWrite = !isTxnReadonly(rt);
  const tr = kv.read();
  let path: TxnPath;
  let err: ApplyError | undefined;
  let checked = false;
  try {
    path = compareToPath(tr, rt);
    // etcd checks every put on the path first (write txns only), then every range.
    err = (isWrite ? checkTxn(tr, rt, lessor, path, "put") : undefined) ?? checkTxn(tr, rt, lessor, path, "range");
    checked = true;
  } finally {
    // A write txn reads again in its own store txn; a read-only one goes on in this one.
    if (!checked || err !== undefined || isWrite) tr.end();
  }
  if (err !== undefined) return err;
  let tw: OpTxn & { end(): void };
  if (isWrite) {
    tw = kv.write();
  } else {
    tw = Object.assign(readOnlyTxnWrite(tr), { end: () => tr.end() });
  }
  try {
    const resp = newTxnResponse();
    executeTxn(tw, rt, path, resp);
    resp.header.revision = tw.changes().length > 0 ? tw.rev() + 1 : tw.rev();
    return resp;
  } finally {
    tw.end();
  }
}

function branch(rt: TxnRequest, path: TxnPath) {
  return path.succeeded ? rt.success : rt.failure;
}

function compareToPath(rv: ReadView, rt: TxnRequest): TxnPath {
  const succeeded = applyCompares(rv, rt.compare);
  const nested: TxnPath[] = [];
  for (const op of succeeded ? rt.success : rt.failure) {
    if (op.requestTxn) nested.push(compareToPath(rv, op.requestTxn));
  }
  return { succeeded, nested };
}

/**
 * Checks the ops of one kind (`pass`) in the chosen branches against the store before the txn, in
 * execution order, nested txns included (etcd's checkRequests with checkPut or checkRange).
 * `deleted` collects the ranges deleted by earlier ops: an ignore_value/ignore_lease put of a key
 * one of them removed gets ErrKeyNotFound here. etcd misses this case (its duplicate-key check lets
 * a delete ending in "\0" share a txn with puts) and panics while applying, taking the member down;
 * we refuse the txn with the error the same put gets on an absent key, and write nothing.
 */
function checkTxn(
  rv: ReadView,
  rt: TxnRequest,
  lessor: LeaseLookup,
  path: TxnPath,
  pass: "put" | "range",
  deleted: { key: Uint8Array; end: Uint8Array | undefined }[] = [],
): ApplyError | undefined {
  let n = 0;
  for (const op of branch(rt, path)) {
    let err: ApplyError | undefined;
    if (op.requestRange) {
      if (pass === "range") err = checkRange(rv, op.requestRange);
    } else if (op.requestPut) {
      const p = op.requestPut;
      if (pass === "put") err = checkPut(rv, lessor, p);
      if (!err && pass === "put" && (p.ignoreValue || p.ignoreLease) && deleted.some((d) => rangeHolds(d.key, d.end, p.key))) {
        err = ErrKeyNotFound;
      }
    } else if (op.requestDeleteRange) {
      deleted.push({ key: op.requestDeleteRange.key, end: op.requestDeleteRange.rangeEnd });
    } else if (op.requestTxn) err = checkTxn(rv, op.requestTxn, lessor, path.nested[n++]!, pass, deleted);
    if (err) return err;
  }
  return undefined;
}

/** Whether `[key, end)` in kv.ts semantics (end absent/empty: `key` alone; "\0": every key ≥ `key`) holds `k`. */
function rangeHolds(key: Uint8Array, end: Uint8Array | undefined, k: Uint8Array): boolean {
  if (end === undefined || end.length === 0) return compareBytes(key, k) === 0;
  if (compareBytes(k, key) < 0) return false;
  return (end.length === 1 && end[0] === 0) || compareBytes(k, end) < 0;
}

function executeTxn(tw: OpTxn, rt: TxnRequest, path: TxnPath, resp: TxnResponse): void {
  resp.succeeded = path.succeeded;
  let n = 0;
  for (const op of branch(rt, path)) {
    let r: ResponseOp;
    if (op.requestRange) {
      const rr = executeRange(tw, op.requestRange);
      // etcd panics: the checks admitted a range the store refuses.
      if (rr instanceof Error) throw new Error(`etcdserver: applyTxn: failed Range: ${rr.message}`);
      r = { responseRange: rr };
    } else if (op.requestPut) {
      const prev = getPrevKV(tw, op.requestPut);
      if (prev instanceof Error) throw new Error(`etcdserver: applyTxn: failed to get prevKV on put: ${prev.message}`);
      r = { responsePut: applyPut(tw, op.requestPut, prev) };
    } else if (op.requestDeleteRange) {
      r = { responseDeleteRange: applyDeleteRange(tw, op.requestDeleteRange) };
    } else if (op.requestTxn) {
      const nested = newTxnResponse();
      executeTxn(tw, op.requestTxn, path.nested[n++]!, nested);
      r = { responseTxn: nested };
    } else {
      // An empty op (refused by the request checks): etcd answers it with an empty ResponseOp.
      r = {};
    }
    resp.responses.push(r);
  }
}

function applyCompares(rv: ReadView, cmps: readonly Compare[]): boolean {
  return cmps.every((c) => applyCompare(rv, c));
}

/**
 * Every key in `[c.key, c.rangeEnd)` must satisfy the compare. No key: a VALUE compare fails (no way
 * to tell a missing value from an empty one); other targets compare the operand with 0. A range the
 * store refuses fails the compare.
 */
function applyCompare(rv: ReadView, c: Compare): boolean {
  const rr = rv.range(c.key, c.rangeEnd, {});
  if (rr instanceof Error) return false;
  if (rr.kvs.length === 0) {
    if (c.target === CompareTarget.VALUE) return false;
    return compareKV(c, { key: c.key, createRevision: 0, modRevision: 0, version: 0, value: emptyBytes, lease: 0n });
  }
  return rr.kvs.every((kv) => compareKV(c, kv));
}

function sign(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKV(c: Compare, kv: KeyValue): boolean {
  let result = 0;
  switch (c.target) {
    case CompareTarget.VALUE:
      result = Math.sign(compareBytes(kv.value, c.value ?? emptyBytes));
      break;
    case CompareTarget.CREATE:
      result = sign(kv.createRevision, c.createRevision ?? 0);
      break;
    case CompareTarget.MOD:
      result = sign(kv.modRevision, c.modRevision ?? 0);
      break;
    case CompareTarget.VERSION:
      result = sign(kv.version, c.version ?? 0);
      break;
    case CompareTarget.LEASE:
      result = sign(kv.lease, c.lease ?? 0n);
      break;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
  }
  // etcd: an unknown result holds.
  return true;
}
