/**
 * A naive reference model of etcd's KV API below the network, for apply.property.test.ts: the whole
 * keyspace kept per revision, the v3rpc request checks and the apply rules written out directly from
 * etcd (server/etcdserver/api/v3rpc/key.go, server/etcdserver/txn/{put,range,delete,txn}.go at
 * main; v3.6.9 where noted), never through src/etcdserver/txn.ts or src/api/v3rpc/key.ts.
 *
 * Keys and values are ASCII strings here (JS string order is then byte order); requests and
 * responses are the etcdserverpb shapes, so a response can be compared with the server's as a whole.
 */
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
  type RequestOp,
  type TxnRequest,
  type TxnResponse,
} from "../../src/api/etcdserverpb/rpc.js";
import {
  ErrGRPCDuplicateKey,
  ErrGRPCEmptyKey,
  ErrGRPCInvalidSortOption,
  ErrGRPCKeyNotFound,
  ErrGRPCLeaseProvided,
  ErrGRPCTooManyOps,
  ErrGRPCValueProvided,
} from "../../src/api/v3rpc/rpctypes.js";
import { ErrKeyNotFound } from "../../src/etcdserver/errors.js";
import { ErrLeaseExists, ErrLeaseNotFound } from "../../src/lease/errors.js";
import { ErrCompacted, ErrFutureRev } from "../../src/mvcc/errors.js";
import { EventType, type Event, type KeyValue } from "../../src/mvcc/mvccpb.js";

export const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const dec = (u: Uint8Array): string => String.fromCharCode(...u);

export interface MKv {
  key: string;
  create: number;
  mod: number;
  version: number;
  value: string;
  lease: bigint;
}
type State = ReadonlyMap<string, MKv>;

/** keys_only empties the value alone (v3.6.9 range; main's FastKeysOnly, unreleased, also drops the lease). */
export function toKeyValue(kv: MKv, keysOnly = false): KeyValue {
  return {
    key: enc(kv.key),
    createRevision: kv.create,
    modRevision: kv.mod,
    version: kv.version,
    value: enc(keysOnly ? "" : kv.value),
    lease: kv.lease,
  };
}

/** etcd's ranges: end "" is the key alone, "\0" every key ≥ key, else [key, end). */
export function inRange(k: string, key: string, end: string): boolean {
  if (end === "") return k === key;
  if (end === "\0") return k >= key;
  return key <= k && k < end;
}

/** The kvs of `s` in the range, in key order. */
function select(s: State, key: string, end: string): MKv[] {
  return [...s.values()].filter((kv) => inRange(kv.key, key, end)).sort((a, b) => (a.key < b.key ? -1 : 1));
}

const sgn = (a: number | bigint | string, b: number | bigint | string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// v3rpc checks (key.go), in etcd's order.

function checkRange(r: RangeRequest): Error | undefined {
  if (r.key.length === 0) return ErrGRPCEmptyKey;
  if (![0, 1, 2].includes(r.sortOrder) || ![0, 1, 2, 3, 4].includes(r.sortTarget)) return ErrGRPCInvalidSortOption;
  return undefined;
}

function checkPut(p: PutRequest): Error | undefined {
  if (p.key.length === 0) return ErrGRPCEmptyKey;
  if (p.ignoreValue && p.value.length !== 0) return ErrGRPCValueProvided;
  if (p.ignoreLease && p.lease !== 0n) return ErrGRPCLeaseProvided;
  return undefined;
}

function checkDelete(d: DeleteRangeRequest): Error | undefined {
  return d.key.length === 0 ? ErrGRPCEmptyKey : undefined;
}

/** key.go checkTxnRequest: each list ≤ max; nested txns get the budget left, max − the longest list. */
function checkTxnRequest(t: TxnRequest, max: number): Error | undefined {
  const opc = Math.max(t.compare.length, t.success.length, t.failure.length);
  if (opc > max) return ErrGRPCTooManyOps;
  if (t.compare.some((c) => c.key.length === 0)) return ErrGRPCEmptyKey;
  for (const op of [...t.success, ...t.failure]) {
    const err = op.requestRange
      ? checkRange(op.requestRange)
      : op.requestPut
        ? checkPut(op.requestPut)
        : op.requestDeleteRange
          ? checkDelete(op.requestDeleteRange)
          : op.requestTxn
            ? checkTxnRequest(op.requestTxn, max - opc)
            : ErrGRPCKeyNotFound; // an empty RequestOp
    if (err) return err;
  }
  return undefined;
}

/** [begin, end) in string order; a deleted single key k is [k, k + "\0"), as adt.NewStringAffinePoint. */
interface Iv {
  begin: string;
  end: string;
}
// A delete ending in "\0" is [key, "\0"): empty, as adt compares the end as a plain string.
const hits = (dels: Iv[], k: string): boolean => dels.some((d) => d.begin <= k && k < d.end);

/**
 * key.go checkIntervals: in one list of ops, a key put twice, or put and deleted, is a duplicate.
 * This level's deletes are known first; each nested txn's puts (its two branches may share a key)
 * are checked against them and the earlier nested txns; its deletes then join this level's; this
 * level's puts come last.
 */
function checkIntervals(reqs: RequestOp[]): { puts: Set<string>; dels: Iv[] } | Error {
  const dels: Iv[] = [];
  for (const r of reqs) {
    const d = r.requestDeleteRange;
    if (d) dels.push({ begin: dec(d.key), end: d.rangeEnd.length === 0 ? dec(d.key) + "\0" : dec(d.rangeEnd) });
  }
  const puts = new Set<string>();
  for (const r of reqs) {
    if (!r.requestTxn) continue;
    const then = checkIntervals(r.requestTxn.success);
    if (then instanceof Error) return then;
    const els = checkIntervals(r.requestTxn.failure);
    if (els instanceof Error) return els;
    for (const k of then.puts) {
      if (puts.has(k) || hits(dels, k)) return ErrGRPCDuplicateKey;
      puts.add(k);
    }
    for (const k of els.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || hits(dels, k)) return ErrGRPCDuplicateKey;
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }
  for (const r of reqs) {
    if (!r.requestPut) continue;
    const k = dec(r.requestPut.key);
    if (puts.has(k) || hits(dels, k)) return ErrGRPCDuplicateKey;
    puts.add(k);
  }
  return { puts, dels };
}

// ---------------------------------------------------------------------------------------------
// Range (range.go), on one keyspace.

function rangeOf(s: State, r: RangeRequest, headerRev: number): RangeResponse {
  let kvs = select(s, dec(r.key), dec(r.rangeEnd));
  const resp = newRangeResponse();
  // asembleRangeResponse: the header carries the store's revision, not the revision read at.
  resp.header.revision = headerRev;
  // Count is the store's: every key in the range, before the revision filters and the limit.
  resp.count = kvs.length;
  // count_only: the store returns no kvs, so nothing is filtered or cut and `more` stays false.
  if (r.countOnly) return resp;
  const filtered = r.minModRevision !== 0 || r.maxModRevision !== 0 || r.minCreateRevision !== 0 || r.maxCreateRevision !== 0;
  // rangeLimit: with the request's own order NONE (IsDefaultOrdering) and no filters the store is
  // asked for limit+1 keys in key order, so a non-KEY target with order NONE, sorted ascending
  // below, sorts only those: the first `limit` keys by key, not the `limit` smallest.
  if (r.sortOrder === SortOrder.NONE && !filtered && r.limit > 0) kvs = kvs.slice(0, r.limit + 1);
  kvs = kvs.filter(
    (kv) =>
      !(r.maxModRevision !== 0 && kv.mod > r.maxModRevision) &&
      !(r.minModRevision !== 0 && kv.mod < r.minModRevision) &&
      !(r.maxCreateRevision !== 0 && kv.create > r.maxCreateRevision) &&
      !(r.minCreateRevision !== 0 && kv.create < r.minCreateRevision),
  );
  // sortRangeResults: a target other than KEY with order NONE sorts ascending. etcd's sort.Sort is
  // not stable, so its order among ties is unspecified; edgecd keeps key order (txn.ts), tested here.
  let order = r.sortOrder;
  if (r.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (order !== SortOrder.NONE) {
    const field = (kv: MKv): number | string =>
      [kv.key, kv.version, kv.create, kv.mod, kv.value][r.sortTarget]!;
    const dir = order === SortOrder.DESCEND ? -1 : 1;
    kvs = kvs.slice().sort((a, b) => dir * sgn(field(a), field(b)));
  }
  // The limit cuts after filtering and sorting; `more` says something was cut.
  if (r.limit > 0 && kvs.length > r.limit) {
    kvs = kvs.slice(0, r.limit);
    resp.more = true;
  }
  resp.kvs = kvs.map((kv) => toKeyValue(kv, r.keysOnly));
  return resp;
}

// ---------------------------------------------------------------------------------------------
// Compares (txn.go applyCompare / compareKV).

function compareHolds(s: State, c: Compare): boolean {
  const kvs = select(s, dec(c.key), dec(c.rangeEnd));
  if (kvs.length === 0) {
    // No key: a VALUE compare fails ("nil == empty string in grpc; no way to represent missing
    // value"); every other target compares the zero KeyValue.
    if (c.target === CompareTarget.VALUE) return false;
    return holds(c, { key: "", create: 0, mod: 0, version: 0, value: "", lease: 0n });
  }
  return kvs.every((kv) => holds(c, kv));
}

/** The operand is the oneof field of the target; any other field set (or none) means zero. */
function holds(c: Compare, kv: MKv): boolean {
  const d = [
    () => sgn(kv.version, c.version ?? 0),
    () => sgn(kv.create, c.createRevision ?? 0),
    () => sgn(kv.mod, c.modRevision ?? 0),
    () => sgn(kv.value, dec(c.value ?? new Uint8Array())),
    () => sgn(kv.lease, c.lease ?? 0n),
  ][c.target]!();
  return [d === 0, d > 0, d < 0, d !== 0][c.result as CompareResult]!;
}

// ---------------------------------------------------------------------------------------------
// The store.

/** A write txn: reads and compares see `before`; ops change `w`; all changes share revision begin+1. */
class WriteTxn {
  readonly begin: number;
  readonly before: State;
  readonly w: Map<string, MKv>;
  readonly evs: Event[] = [];
  constructor(m: Model) {
    this.begin = m.rev;
    this.before = m.stateAt(m.rev);
    this.w = new Map(this.before);
  }
  /** storeTxnWrite.Rev plus one once something changed: what ranges and deletes answer in the txn. */
  cur(): number {
    return this.begin + (this.evs.length > 0 ? 1 : 0);
  }
  put(key: string, value: string, lease: bigint): void {
    const old = this.w.get(key);
    const kv = { key, create: old?.create ?? this.begin + 1, mod: this.begin + 1, version: (old?.version ?? 0) + 1, value, lease };
    this.w.set(key, kv);
    this.evs.push({ type: EventType.PUT, kv: toKeyValue(kv) });
  }
  /** A DELETE event's KeyValue is the key and the delete's revision alone. */
  del(key: string, end: string): MKv[] {
    const gone = select(this.w, key, end);
    for (const kv of gone) {
      this.w.delete(kv.key);
      const tomb = { key: kv.key, create: 0, mod: this.begin + 1, version: 0, value: "", lease: 0n };
      this.evs.push({ type: EventType.DELETE, kv: toKeyValue(tomb) });
    }
    return gone;
  }
}

export class Model {
  rev = 1;
  /** etcd's compactMainRev: -1 before any compaction. */
  compacted = -1;
  readonly leases = new Set<bigint>();
  /** Every event, in order. */
  readonly events: Event[] = [];
  /** states[r]: the keyspace at revision r (revision 1 is the empty store). */
  private readonly states: State[] = [new Map(), new Map()];

  constructor(readonly maxTxnOps: number) {}

  stateAt(r: number): State {
    return this.states[r]!;
  }

  private commit(tx: WriteTxn): void {
    if (tx.evs.length === 0) return;
    this.rev++;
    this.states[this.rev] = tx.w;
    this.events.push(...tx.evs);
  }

  range(r: RangeRequest): RangeResponse | Error {
    const err = checkRange(r);
    if (err) return err;
    // mvcc rangeKeys: above the current revision is future; ≤ 0 is the latest; below compacted is compacted.
    if (r.revision > this.rev) return ErrFutureRev;
    const at = r.revision <= 0 ? this.rev : r.revision;
    if (at < this.compacted) return ErrCompacted;
    return rangeOf(this.stateAt(at), r, this.rev);
  }

  put(p: PutRequest): PutResponse | Error {
    const err = checkPut(p);
    if (err) return err;
    // put.go Put: the lease is looked up before anything else.
    if (p.lease !== 0n && !this.leases.has(p.lease)) return ErrLeaseNotFound;
    const tx = new WriteTxn(this);
    const resp = this.applyPut(tx, p);
    if (resp instanceof Error) return resp;
    this.commit(tx);
    return resp;
  }

  /** put.go put: ignore_value/ignore_lease need the key; prev_kv is the key before the put. */
  private applyPut(tx: WriteTxn, p: PutRequest): PutResponse | Error {
    const prev = tx.w.get(dec(p.key));
    if ((p.ignoreValue || p.ignoreLease) && prev === undefined) return ErrKeyNotFound;
    const resp = newPutResponse();
    if (p.prevKv && prev) resp.prevKv = toKeyValue(prev);
    tx.put(dec(p.key), p.ignoreValue ? prev!.value : dec(p.value), p.ignoreLease ? prev!.lease : p.lease);
    resp.header.revision = tx.begin + 1;
    return resp;
  }

  deleteRange(d: DeleteRangeRequest): DeleteRangeResponse | Error {
    const err = checkDelete(d);
    if (err) return err;
    const tx = new WriteTxn(this);
    const resp = this.applyDelete(tx, d);
    this.commit(tx);
    return resp;
  }

  /** delete.go: the header revision moves only if this txn changed something. */
  private applyDelete(tx: WriteTxn, d: DeleteRangeRequest): DeleteRangeResponse {
    const gone = tx.del(dec(d.key), dec(d.rangeEnd));
    const resp = newDeleteRangeResponse({ deleted: gone.length });
    if (d.prevKv) resp.prevKvs = gone.map((kv) => toKeyValue(kv));
    resp.header.revision = tx.cur();
    return resp;
  }

  txn(t: TxnRequest): TxnResponse | Error {
    // kvServer.Txn: checkTxnRequest, then duplicate keys in success, then in failure.
    const err = checkTxnRequest(t, this.maxTxnOps);
    if (err) return err;
    for (const ops of [t.success, t.failure]) {
      const iv = checkIntervals(ops);
      if (iv instanceof Error) return iv;
    }
    const checkErr = this.checkTxn(t);
    if (checkErr) return checkErr;
    const tx = new WriteTxn(this);
    const resp = this.applyTxn(tx, t);
    if (resp instanceof Error) return resp; // nothing is written
    // txn.go txn: the store's revision, plus one if anything changed. A txn of ranges only (or of
    // writes that changed nothing) leaves the revision alone.
    resp.header.revision = tx.cur();
    this.commit(tx);
    return resp;
  }

  /**
   * etcd's checkRequests over the path the compares pick: every put first (write txns only), then
   * every range, each pass in op order; the first error refuses the txn. A put needing a key that an
   * earlier delete on the path removed is refused in the put pass too (edgecd's rule where etcd
   * panics), so the deletes run on a scratch txn.
   */
  private checkTxn(t: TxnRequest): Error | undefined {
    const isWrite = (x: TxnRequest): boolean =>
      [...x.success, ...x.failure].some((op) => op.requestPut !== undefined || op.requestDeleteRange !== undefined || (op.requestTxn !== undefined && isWrite(op.requestTxn)));
    return (isWrite(t) ? this.checkPath(new WriteTxn(this), t, "put") : undefined) ?? this.checkPath(new WriteTxn(this), t, "range");
  }

  private checkPath(scratch: WriteTxn, t: TxnRequest, pass: "put" | "range"): Error | undefined {
    const ok = t.compare.every((c) => compareHolds(scratch.before, c));
    for (const op of ok ? t.success : t.failure) {
      let err: Error | undefined;
      if (op.requestRange && pass === "range") {
        const r = op.requestRange;
        // txn.go checkRange: 0 is the latest; else above the store's revision is future and below
        // FirstRev (compactMainRev, -1 before any compaction) compacted, so a negative revision is
        // compacted once anything was compacted, while a plain Range reads it as the latest.
        if (r.revision !== 0 && r.revision > scratch.begin) err = ErrFutureRev;
        else if (r.revision !== 0 && r.revision < this.compacted) err = ErrCompacted;
      } else if (op.requestPut && pass === "put") {
        const p = op.requestPut;
        // main's checkPut: the lease, then the key ignore_* needs (v3.6.9 checks the key first).
        if (p.lease !== 0n && !this.leases.has(p.lease)) err = ErrLeaseNotFound;
        else if ((p.ignoreValue || p.ignoreLease) && !scratch.w.has(dec(p.key))) err = ErrKeyNotFound;
      } else if (op.requestDeleteRange) {
        scratch.del(dec(op.requestDeleteRange.key), dec(op.requestDeleteRange.rangeEnd));
      } else if (op.requestTxn) {
        err = this.checkPath(scratch, op.requestTxn, pass);
      }
      if (err) return err;
    }
    return undefined;
  }

  /**
   * Runs the branch the compares pick, after {@link checkTxn}. A nested txn's header revision stays
   * 0 (newTxnResp sets only the top). A nested txn's header revision stays 0 (newTxnResp sets only the top).
   */
  private applyTxn(tx: WriteTxn, t: TxnRequest): TxnResponse | Error {
    // compareToPath: every compare, nested ones too, reads the store before the txn.
    const ok = t.compare.every((c) => compareHolds(tx.before, c));
    const resp = newTxnResponse({ succeeded: ok });
    for (const op of ok ? t.success : t.failure) {
      if (op.requestRange) {
        const r = op.requestRange;
        resp.responses.push({ responseRange: rangeOf(r.revision > 0 ? this.stateAt(r.revision) : tx.w, r, tx.cur()) });
      } else if (op.requestPut) {
        const resp1 = this.applyPut(tx, op.requestPut);
        if (resp1 instanceof Error) return resp1;
        resp.responses.push({ responsePut: resp1 });
      } else if (op.requestDeleteRange) {
        resp.responses.push({ responseDeleteRange: this.applyDelete(tx, op.requestDeleteRange) });
      } else if (op.requestTxn) {
        const nested = this.applyTxn(tx, op.requestTxn);
        if (nested instanceof Error) return nested;
        resp.responses.push({ responseTxn: nested });
      }
    }
    return resp;
  }

  compact(rev: number): Error | undefined {
    if (rev <= this.compacted) return ErrCompacted;
    if (rev > this.rev) return ErrFutureRev;
    this.compacted = rev;
    return undefined;
  }

  grant(id: bigint): Error | undefined {
    if (this.leases.has(id)) return ErrLeaseExists;
    this.leases.add(id);
    return undefined;
  }

  /** lessor.go Revoke: the lease's keys are deleted in one txn, in key order (no revision if none). */
  revoke(id: bigint): Error | undefined {
    if (!this.leases.delete(id)) return ErrLeaseNotFound;
    const tx = new WriteTxn(this);
    for (const kv of select(tx.before, "\0", "\0")) if (kv.lease === id) tx.del(kv.key, "");
    this.commit(tx);
    return undefined;
  }

  /** The keys attached to lease `id` now. */
  keysOf(id: bigint): string[] {
    return select(this.stateAt(this.rev), "\0", "\0")
      .filter((kv) => kv.lease === id)
      .map((kv) => kv.key);
  }
}
