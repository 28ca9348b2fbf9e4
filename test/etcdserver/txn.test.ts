import { beforeEach, describe, expect, it } from "vitest";
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  newCompare,
  newDeleteRangeRequest,
  newPutRequest,
  newRangeRequest,
  newTxnRequest,
  type Compare,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type TxnRequest,
  type TxnResponse,
} from "../../src/api/etcdserverpb/rpc.js";
import { ErrKeyNotFound } from "../../src/etcdserver/errors.js";
import { deleteRange, isTxnReadonly, put, range, txn, type LeaseLookup } from "../../src/etcdserver/txn.js";
import { ErrLeaseNotFound } from "../../src/lease/errors.js";
import type { LeaseID, LeaseItem } from "../../src/lease/lease-item.js";
import { ErrCompacted, ErrFutureRev } from "../../src/mvcc/errors.js";
import type { KeyLessor, KV } from "../../src/mvcc/kv.js";
import { newStore } from "../../src/mvcc/kvstore.js";
import type { KeyValue } from "../../src/mvcc/mvccpb.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const keys = (kvs: KeyValue[]): string[] => kvs.map((kv) => str(kv.key));

/** A lessor that knows granted ids (etcd's FakeLessor with a lease set) and accepts attachments. */
class TestLessor implements LeaseLookup, KeyLessor {
  readonly granted = new Set<bigint>();
  private readonly attached = new Map<string, LeaseID>();
  lookup(id: bigint): object | undefined {
    return this.granted.has(id) ? { id } : undefined;
  }
  getLease(item: LeaseItem): LeaseID {
    return this.attached.get(item.key) ?? 0n;
  }
  attach(id: LeaseID, items: LeaseItem[]): Error | undefined {
    for (const it of items) this.attached.set(it.key, id);
    return undefined;
  }
  detach(_id: LeaseID, items: LeaseItem[]): Error | undefined {
    for (const it of items) this.attached.delete(it.key);
    return undefined;
  }
}

let kv: KV;
let lessor: TestLessor;
beforeEach(() => {
  lessor = new TestLessor();
  kv = newStore(new MemoryBackend(), lessor, { sleep: () => Promise.resolve() });
});

function ok<T>(v: T | Error): T {
  if (v instanceof Error) throw v;
  return v;
}
const putKV = (key: string, value = "bar", lease = 0n) =>
  ok(put(kv, lessor, newPutRequest({ key: b(key), value: b(value), lease })));
const get = (key: string, f: Partial<RangeRequest> = {}): RangeResponse =>
  ok(range(kv, newRangeRequest({ key: b(key), ...f })));
/** Every key-value in the store, as "key=value@mod". */
function dump(): string[] {
  return get("\0", { rangeEnd: new Uint8Array([0]) }).kvs.map((x) => `${str(x.key)}=${str(x.value)}@${x.modRevision}`);
}
const putOp = (key: string, value = "v", f = {}): RequestOp => ({ requestPut: newPutRequest({ key: b(key), value: b(value), ...f }) });
const rangeOp = (key: string, f: Partial<RangeRequest> = {}): RequestOp => ({ requestRange: newRangeRequest({ key: b(key), ...f }) });
const delOp = (key: string, end = "", prevKv = false): RequestOp => ({
  requestDeleteRange: newDeleteRangeRequest({ key: b(key), rangeEnd: b(end), prevKv }),
});
const txnOp = (t: Partial<TxnRequest>): RequestOp => ({ requestTxn: newTxnRequest(t) });
const cmp = (key: string, target: CompareTarget, result: CompareResult, operand: Partial<Compare> = {}, end = ""): Compare =>
  newCompare({ key: b(key), target, result, rangeEnd: b(end), ...operand });
const doTxn = (t: Partial<TxnRequest>): TxnResponse => ok(txn(kv, lessor, newTxnRequest(t)));

describe("range (etcd TestV3RangeRequest)", () => {
  const all = new Uint8Array([0]);
  type Case = [Partial<RangeRequest> & { key: Uint8Array }, string[], boolean, number];
  const tables: [string, string[], Case[]][] = [
    [
      "single key",
      ["foo", "bar"],
      [
        [{ key: b("foo") }, ["foo"], false, 1],
        [{ key: b("baz") }, [], false, 0],
      ],
    ],
    [
      "multi-key",
      ["a", "b", "c", "d", "e"],
      [
        [{ key: b("a"), rangeEnd: b("z") }, ["a", "b", "c", "d", "e"], false, 5],
        [{ key: b("b"), rangeEnd: b("d") }, ["b", "c"], false, 2],
        [{ key: b("f"), rangeEnd: b("z") }, [], false, 0],
        [{ key: b("c"), rangeEnd: b("c") }, [], false, 0],
        [{ key: b("d"), rangeEnd: b("b") }, [], false, 0],
        [{ key: all, rangeEnd: all }, ["a", "b", "c", "d", "e"], false, 5],
      ],
    ],
    [
      "revision",
      ["a", "b", "c", "d", "e"],
      [
        [{ key: b("a"), rangeEnd: b("z"), revision: 0 }, ["a", "b", "c", "d", "e"], false, 5],
        [{ key: b("a"), rangeEnd: b("z"), revision: 1 }, [], false, 0],
        [{ key: b("a"), rangeEnd: b("z"), revision: 2 }, ["a"], false, 1],
        [{ key: b("a"), rangeEnd: b("z"), revision: 3 }, ["a", "b"], false, 2],
      ],
    ],
    [
      "limit",
      ["a", "b", "c"],
      [
        [{ key: b("a"), rangeEnd: b("z"), limit: 1 }, ["a"], true, 3],
        [{ key: b("a"), rangeEnd: b("z"), limit: 2 }, ["a", "b"], true, 3],
        [{ key: b("a"), rangeEnd: b("z"), limit: 3 }, ["a", "b", "c"], false, 3],
        [{ key: b("a"), rangeEnd: b("z"), limit: 4 }, ["a", "b", "c"], false, 3],
      ],
    ],
    [
      "count only",
      ["a", "b", "c"],
      [
        [{ key: b("a"), rangeEnd: b("z"), countOnly: true }, [], false, 3],
        [{ key: b("b"), rangeEnd: b("c"), countOnly: true }, [], false, 1],
        [{ key: b("x"), rangeEnd: b("z"), countOnly: true }, [], false, 0],
        [{ key: b("a"), rangeEnd: b("z"), limit: 1, countOnly: true }, [], false, 3],
      ],
    ],
    [
      "sort",
      ["b", "a", "c", "d", "c"],
      [
        [{ key: b("a"), rangeEnd: b("z"), limit: 1, sortOrder: SortOrder.ASCEND, sortTarget: SortTarget.KEY }, ["a"], true, 4],
        [{ key: b("a"), rangeEnd: b("z"), limit: 1, sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.KEY }, ["d"], true, 4],
        [{ key: b("a"), rangeEnd: b("z"), limit: 1, sortOrder: SortOrder.ASCEND, sortTarget: SortTarget.CREATE }, ["b"], true, 4],
        [{ key: b("a"), rangeEnd: b("z"), limit: 1, sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.MOD }, ["c"], true, 4],
        [{ key: b("z"), rangeEnd: b("z"), limit: 1, sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.CREATE }, [], false, 0],
        // A target other than KEY with order NONE sorts ascending.
        [{ key: b("a"), rangeEnd: b("z"), limit: 10, sortOrder: SortOrder.NONE, sortTarget: SortTarget.CREATE }, ["b", "a", "c", "d"], false, 4],
        // Our own: version, value, and descending create.
        [{ key: b("a"), rangeEnd: b("z"), sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.VERSION, limit: 1 }, ["c"], true, 4],
        [{ key: b("a"), rangeEnd: b("z"), sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.CREATE }, ["d", "c", "a", "b"], false, 4],
      ],
    ],
    [
      "min/max mod rev",
      ["rev2", "rev3", "rev4", "rev5", "rev6"],
      [
        [{ key: all, rangeEnd: all, minModRevision: 3 }, ["rev3", "rev4", "rev5", "rev6"], false, 5],
        [{ key: all, rangeEnd: all, maxModRevision: 3 }, ["rev2", "rev3"], false, 5],
        [{ key: all, rangeEnd: all, minModRevision: 3, maxModRevision: 5 }, ["rev3", "rev4", "rev5"], false, 5],
        [{ key: all, rangeEnd: all, maxModRevision: 10 }, ["rev2", "rev3", "rev4", "rev5", "rev6"], false, 5],
        // Our own: the limit applies after the filter, so more is told from the filtered kvs.
        [{ key: all, rangeEnd: all, minModRevision: 3, limit: 2 }, ["rev3", "rev4"], true, 5],
        [{ key: all, rangeEnd: all, minModRevision: 5, limit: 2 }, ["rev5", "rev6"], false, 5],
      ],
    ],
    [
      "min/max create rev",
      ["rev2", "rev3", "rev2", "rev2", "rev6", "rev3"],
      [
        [{ key: all, rangeEnd: all, minCreateRevision: 3 }, ["rev3", "rev6"], false, 3],
        [{ key: all, rangeEnd: all, maxCreateRevision: 3 }, ["rev2", "rev3"], false, 3],
        [{ key: all, rangeEnd: all, minCreateRevision: 3, maxCreateRevision: 5 }, ["rev3"], false, 3],
        [{ key: all, rangeEnd: all, maxCreateRevision: 10 }, ["rev2", "rev3", "rev6"], false, 3],
      ],
    ],
  ];
  for (const [name, putKeys, cases] of tables) {
    it(name, () => {
      for (const k of putKeys) putKV(k);
      cases.forEach(([req, wkeys, wmore, wcount], j) => {
        const resp = get("", req);
        expect([j, keys(resp.kvs), resp.more, resp.count]).toEqual([j, wkeys, wmore, wcount]);
        expect(resp.header.revision).toBe(putKeys.length + 1);
      });
    });
  }

  it("sorts by value, with ties in key order", () => {
    putKV("a", "2");
    putKV("b", "1");
    putKV("c", "2");
    const r = get("a", { rangeEnd: b("z"), sortTarget: SortTarget.VALUE, sortOrder: SortOrder.ASCEND });
    expect(keys(r.kvs)).toEqual(["b", "a", "c"]);
  });

  it("keys_only blanks values and leaves the store's kvs alone", () => {
    putKV("a", "x");
    const r = get("a", { keysOnly: true });
    expect(r.kvs.map((x) => [str(x.key), x.value.length, x.version])).toEqual([["a", 0, 1]]);
    expect(str(get("a").kvs[0]!.value)).toBe("x");
  });

  it("answers ErrFutureRev and ErrCompacted (etcd TestCheckRange)", async () => {
    for (let i = 0; i < 10; i++) putKV("a", "b");
    expect(range(kv, newRangeRequest({ key: b("a"), revision: 100 }))).toBe(ErrFutureRev);
    const p = kv.compact(10);
    if (p instanceof Error) throw p;
    await p;
    expect(range(kv, newRangeRequest({ key: b("a"), revision: 9 }))).toBe(ErrCompacted);
    expect(keys(get("a", { revision: 10 }).kvs)).toEqual(["a"]);
  });
});

describe("put (etcd TestCheckPut, TestV3PutIgnoreValue/IgnoreLease, TestV3PutMissingLease)", () => {
  it("puts and answers the revision, prev_kv only when asked", () => {
    expect(putKV("foo").header.revision).toBe(2);
    const r = ok(put(kv, lessor, newPutRequest({ key: b("foo"), value: b("baz"), prevKv: true })));
    expect(r.header.revision).toBe(3);
    expect([str(r.prevKv!.value), r.prevKv!.modRevision]).toEqual(["bar", 2]);
    expect(putKV("foo").prevKv).toBeUndefined();
    expect(ok(put(kv, lessor, newPutRequest({ key: b("new"), prevKv: true }))).prevKv).toBeUndefined();
  });

  it("refuses an unknown lease and writes nothing", () => {
    expect(put(kv, lessor, newPutRequest({ key: b("foo"), value: b("bar"), lease: 123n }))).toBe(ErrLeaseNotFound);
    expect(dump()).toEqual([]);
    expect(get("x").header.revision).toBe(1);
    lessor.granted.add(123n);
    expect(putKV("foo", "bar", 123n).header.revision).toBe(2);
    expect(get("foo").kvs[0]!.lease).toBe(123n);
  });

  it("ignore_value / ignore_lease need the key to exist", () => {
    expect(put(kv, lessor, newPutRequest({ key: b("foo"), ignoreValue: true }))).toBe(ErrKeyNotFound);
    expect(put(kv, lessor, newPutRequest({ key: b("foo"), ignoreLease: true }))).toBe(ErrKeyNotFound);
    expect(get("x").header.revision).toBe(1);
  });

  it("ignore_value keeps the value and takes the new lease; ignore_lease keeps the lease", () => {
    lessor.granted.add(7n);
    putKV("foo", "bar");
    ok(put(kv, lessor, newPutRequest({ key: b("foo"), ignoreValue: true, lease: 7n })));
    let kv0 = get("foo").kvs[0]!;
    expect([str(kv0.value), kv0.lease, kv0.version]).toEqual(["bar", 7n, 2]);
    ok(put(kv, lessor, newPutRequest({ key: b("foo"), value: b("baz"), ignoreLease: true })));
    kv0 = get("foo").kvs[0]!;
    expect([str(kv0.value), kv0.lease, kv0.version]).toEqual(["baz", 7n, 3]);
    // ignore_value without a lease drops the lease, as etcd does.
    ok(put(kv, lessor, newPutRequest({ key: b("foo"), ignoreValue: true })));
    kv0 = get("foo").kvs[0]!;
    expect([str(kv0.value), kv0.lease]).toEqual(["baz", 0n]);
  });

  it("the lease is checked before the key", () => {
    expect(put(kv, lessor, newPutRequest({ key: b("foo"), ignoreValue: true, lease: 9n }))).toBe(ErrLeaseNotFound);
  });
});

describe("deleteRange (etcd TestV3DeleteRange)", () => {
  it.each<[string, string[], string, string, boolean, string[], number]>([
    ["delete middle", ["foo", "foo/abc", "fop"], "foo/", "fop", false, ["foo", "fop"], 1],
    ["no delete", ["foo", "foo/abc", "fop"], "foo/", "foo/", false, ["foo", "foo/abc", "fop"], 0],
    ["delete first", ["foo", "foo/abc", "fop"], "fo", "fop", false, ["fop"], 2],
    ["delete tail", ["foo", "foo/abc", "fop"], "foo/", "fos", false, ["foo"], 2],
    ["delete exact", ["foo", "foo/abc", "fop"], "foo/abc", "", false, ["foo", "fop"], 1],
    ["delete none [x,x)", ["foo"], "foo", "foo", false, ["foo"], 0],
    ["delete middle with prev_kv", ["foo", "foo/abc", "fop"], "foo/", "fop", true, ["foo", "fop"], 1],
    ["delete every key ≥ key", ["foo", "foo/abc", "fop"], "foo/", "\0", true, ["foo"], 2],
  ])("%s", (_name, keySet, begin, end, prevKv, want, deleted) => {
    for (const k of keySet) putKV(k, "");
    const resp = deleteRange(kv, newDeleteRangeRequest({ key: b(begin), rangeEnd: b(end), prevKv }));
    expect(resp.deleted).toBe(deleted);
    expect(resp.prevKvs.length).toBe(prevKv ? deleted : 0);
    const all = get("\0", { rangeEnd: b("\xff") });
    expect(resp.header.revision).toBe(all.header.revision);
    expect(resp.header.revision).toBe(keySet.length + 1 + (deleted > 0 ? 1 : 0));
    expect(keys(get("\0", { rangeEnd: new Uint8Array([0]) }).kvs)).toEqual(want);
  });

  it("prev_kvs are the key-values before the delete", () => {
    putKV("a", "1");
    putKV("b", "2");
    const resp = deleteRange(kv, newDeleteRangeRequest({ key: b("a"), rangeEnd: b("c"), prevKv: true }));
    expect(resp.prevKvs.map((x) => `${str(x.key)}=${str(x.value)}`)).toEqual(["a=1", "b=2"]);
  });
});

describe("txn compares", () => {
  it("range compares: every key in the range must hold (etcd TestV3TxnRangeCompare)", () => {
    for (const k of ["/a/2", "/a/3", "/a/4", "/f/5"]) putKV(k, "x");
    const C = CompareTarget;
    const R = CompareResult;
    const table: [Compare, boolean][] = [
      [cmp("/a/", C.CREATE, R.LESS, { createRevision: 6 }, "\0"), true],
      [cmp("/a/", C.CREATE, R.LESS, { createRevision: 5 }, "\0"), false],
      [cmp("/a/", C.CREATE, R.LESS, { createRevision: 5 }, "/a0"), true],
      [cmp("/a/", C.CREATE, R.LESS, { createRevision: 4 }, "/a0"), false],
      [cmp("/b/", C.VALUE, R.EQUAL, { value: b("x") }, "/b0"), false],
      [cmp("/a/", C.LEASE, R.GREATER, { lease: 0n }, "/a0"), false],
      [cmp("/a/", C.LEASE, R.EQUAL, { lease: 0n }, "/a0"), true],
    ];
    table.forEach(([c, want], i) => {
      expect([i, doTxn({ compare: [c] }).succeeded]).toEqual([i, want]);
    });
  });

  it("each target and result on a present key", () => {
    lessor.granted.add(5n);
    putKV("k", "m");
    putKV("k", "m", 5n); // create 2, mod 3, version 2, lease 5
    const C = CompareTarget;
    const R = CompareResult;
    const cases: [Compare, boolean][] = [
      [cmp("k", C.VERSION, R.EQUAL, { version: 2 }), true],
      [cmp("k", C.VERSION, R.NOT_EQUAL, { version: 2 }), false],
      [cmp("k", C.VERSION, R.GREATER, { version: 1 }), true],
      [cmp("k", C.VERSION, R.LESS, { version: 2 }), false],
      [cmp("k", C.CREATE, R.EQUAL, { createRevision: 2 }), true],
      [cmp("k", C.CREATE, R.GREATER, { createRevision: 2 }), false],
      [cmp("k", C.MOD, R.EQUAL, { modRevision: 3 }), true],
      [cmp("k", C.MOD, R.LESS, { modRevision: 4 }), true],
      [cmp("k", C.VALUE, R.EQUAL, { value: b("m") }), true],
      [cmp("k", C.VALUE, R.GREATER, { value: b("l") }), true],
      [cmp("k", C.VALUE, R.LESS, { value: b("ma") }), true],
      [cmp("k", C.VALUE, R.NOT_EQUAL, { value: b("m") }), false],
      [cmp("k", C.LEASE, R.EQUAL, { lease: 5n }), true],
      [cmp("k", C.LEASE, R.GREATER, { lease: 4n }), true],
      // The operand is the union member matching the target; another member counts as zero.
      [cmp("k", C.VERSION, R.GREATER, { modRevision: 100 }), true],
      [cmp("k", C.VALUE, R.GREATER, {}), true],
      // An unknown result holds, as in etcd.
      [cmp("k", C.VERSION, 9 as CompareResult, { version: 100 }), true],
    ];
    cases.forEach(([c, want], i) => expect([i, doTxn({ compare: [c] }).succeeded]).toEqual([i, want]));
  });

  it("compares on an absent key: VALUE fails, the others compare with 0", () => {
    const C = CompareTarget;
    const R = CompareResult;
    expect(doTxn({ compare: [cmp("nope", C.VALUE, R.EQUAL, { value: new Uint8Array(0) })] }).succeeded).toBe(false);
    expect(doTxn({ compare: [cmp("nope", C.VALUE, R.NOT_EQUAL, { value: b("x") })] }).succeeded).toBe(false);
    expect(doTxn({ compare: [cmp("nope", C.VERSION, R.EQUAL, { version: 0 })] }).succeeded).toBe(true);
    expect(doTxn({ compare: [cmp("nope", C.CREATE, R.EQUAL, { createRevision: 0 })] }).succeeded).toBe(true);
    expect(doTxn({ compare: [cmp("nope", C.MOD, R.LESS, { modRevision: 1 })] }).succeeded).toBe(true);
    expect(doTxn({ compare: [cmp("nope", C.LEASE, R.EQUAL, { lease: 0n })] }).succeeded).toBe(true);
  });

  it("all compares must hold; none is success", () => {
    putKV("a");
    const t = cmp("a", CompareTarget.VERSION, CompareResult.EQUAL, { version: 1 });
    const f = cmp("a", CompareTarget.VERSION, CompareResult.EQUAL, { version: 2 });
    expect(doTxn({ compare: [t, t] }).succeeded).toBe(true);
    expect(doTxn({ compare: [t, f] }).succeeded).toBe(false);
    expect(doTxn({}).succeeded).toBe(true);
  });
});

describe("txn execution", () => {
  it("one revision for all writes; responses in order with their own header revisions", () => {
    putKV("a", "0"); // rev 2
    const resp = doTxn({
      success: [rangeOp("a"), putOp("a", "1"), rangeOp("a"), putOp("b", "2", { prevKv: true }), delOp("c"), delOp("a", "", true), rangeOp("a", { rangeEnd: b("z") })],
    });
    expect(resp.header.revision).toBe(3);
    const [r0, p1, r2, p3, d4, d5, r6] = resp.responses;
    expect(r0!.responseRange!.header.revision).toBe(2);
    expect(keys(r0!.responseRange!.kvs)).toEqual(["a"]);
    expect(p1!.responsePut!.header.revision).toBe(3);
    // A range after a write in the same txn sees it, at the txn's revision.
    expect(r2!.responseRange!.header.revision).toBe(3);
    expect(str(r2!.responseRange!.kvs[0]!.value)).toBe("1");
    expect(p3!.responsePut!.prevKv).toBeUndefined();
    expect([d4!.responseDeleteRange!.deleted, d4!.responseDeleteRange!.header.revision]).toEqual([0, 3]);
    expect(d5!.responseDeleteRange!.deleted).toBe(1);
    expect(str(d5!.responseDeleteRange!.prevKvs[0]!.value)).toBe("1");
    expect(keys(r6!.responseRange!.kvs)).toEqual(["b"]);
    expect(dump()).toEqual(["b=2@3"]);
    // Every change is at revision 3: a's put and delete, b's put.
    expect(get("a", { revision: 2 }).kvs.map((x) => str(x.value))).toEqual(["0"]);
    expect(get("x").header.revision).toBe(3);
  });

  it("a read-only txn, or one whose writes change nothing, keeps the revision (etcd TestV3TxnRevision)", () => {
    const pr = putKV("abc", "def");
    expect(doTxn({ success: [rangeOp("abc")] }).header.revision).toBe(pr.header.revision);
    expect(doTxn({ success: [delOp("def")] }).header.revision).toBe(pr.header.revision);
    expect(doTxn({ success: [putOp("abc", "123")] }).header.revision).toBe(pr.header.revision + 1);
  });

  it("the failure branch runs when a compare fails", () => {
    const resp = doTxn({
      compare: [cmp("k", CompareTarget.VERSION, CompareResult.GREATER, { version: 0 })],
      success: [putOp("s")],
      failure: [putOp("f"), rangeOp("f")],
    });
    expect(resp.succeeded).toBe(false);
    expect(resp.responses.map((r) => Object.keys(r)[0])).toEqual(["responsePut", "responseRange"]);
    expect(dump()).toEqual(["f=v@2"]);
  });

  it("nested txns follow their own paths (etcd TestV3TxnNestedPath)", () => {
    const cmpTrue = cmp("k", CompareTarget.VERSION, CompareResult.EQUAL, { version: 0 });
    const cmpFalse = cmp("k", CompareTarget.VERSION, CompareResult.EQUAL, { version: 1 });
    for (const seed of [0b1010011010, 0b0101100101, 0, 0b1111111111]) {
      const path = Array.from({ length: 10 }, (_, i) => ((seed >> i) & 1) === 1);
      const top = newTxnRequest();
      let t = top;
      for (const p of path) {
        const next = newTxnRequest();
        const op = { requestTxn: next };
        if (p) {
          t.compare.push(cmpTrue);
          t.success.push(op);
        } else {
          t.compare.push(cmpFalse);
          t.failure.push(op);
        }
        t = next;
      }
      let resp = ok(txn(kv, lessor, top));
      for (const p of path) {
        expect(resp.succeeded).toBe(p);
        resp = resp.responses[0]!.responseTxn!;
      }
    }
  });

  it("puts and deletes in nested txns, compares evaluated before any write", () => {
    putKV("k", "0"); // rev 2
    const resp = doTxn({
      success: [
        putOp("a"),
        txnOp({
          // Evaluated against the store before the txn: k's version is still 1 even though
          // a later op of the outer txn rewrites it.
          compare: [cmp("k", CompareTarget.VERSION, CompareResult.EQUAL, { version: 1 })],
          success: [delOp("k"), putOp("b")],
          failure: [putOp("c")],
        }),
        txnOp({ compare: [cmp("a", CompareTarget.VERSION, CompareResult.EQUAL, { version: 0 })], success: [putOp("d")], failure: [rangeOp("a")] }),
      ],
    });
    const nested = resp.responses[1]!.responseTxn!;
    expect(nested.succeeded).toBe(true);
    expect(nested.responses[0]!.responseDeleteRange!.deleted).toBe(1);
    expect(nested.responses[1]!.responsePut!.header.revision).toBe(3);
    // etcd leaves a nested txn's header revision unset.
    expect(nested.header.revision).toBe(0);
    // a was absent when the compares ran, so the second nested txn took its success branch.
    const nested2 = resp.responses[2]!.responseTxn!;
    expect(nested2.succeeded).toBe(true);
    expect(resp.header.revision).toBe(3);
    expect(dump()).toEqual(["a=v@3", "b=v@3", "d=v@3"]);
  });

  it("a nested txn whose ops are all ranges still makes the txn a write txn", () => {
    putKV("a");
    const t = newTxnRequest({ success: [txnOp({ success: [rangeOp("a")] })] });
    expect(isTxnReadonly(t)).toBe(false);
    expect(isTxnReadonly(newTxnRequest({ success: [rangeOp("a")], failure: [rangeOp("b")] }))).toBe(true);
    const resp = ok(txn(kv, lessor, t));
    expect(resp.header.revision).toBe(2);
    expect(keys(resp.responses[0]!.responseTxn!.responses[0]!.responseRange!.kvs)).toEqual(["a"]);
  });

  it("put with ignore_value in a txn (etcd TestV3PutIgnoreValue txn cases)", () => {
    expect(txn(kv, lessor, newTxnRequest({ success: [putOp("foo", "", { ignoreValue: true })] }))).toBe(ErrKeyNotFound);
    putKV("foo", "bar");
    lessor.granted.add(42n);
    doTxn({ success: [putOp("foo", "", { ignoreValue: true, lease: 42n })] });
    const x = get("foo").kvs[0]!;
    expect([str(x.value), x.lease]).toEqual(["bar", 42n]);
  });
});

describe("txn errors leave the store unchanged (etcd TestCheckTxn, TestV3TxnInvalidRange)", () => {
  async function setupCompacted(): Promise<void> {
    for (let i = 0; i < 3; i++) putKV("foo", "bar"); // revs 2..4
    const p = kv.compact(2);
    if (p instanceof Error) throw p;
    await p;
  }

  it("a future or compacted range anywhere in the branch fails the txn before its put", async () => {
    await setupCompacted();
    const before = dump();
    const futureTxn = newTxnRequest({ success: [putOp("foo", "new"), rangeOp("foo", { revision: 100 })] });
    expect(txn(kv, lessor, futureTxn)).toBe(ErrFutureRev);
    futureTxn.success[1]!.requestRange!.revision = 1;
    expect(txn(kv, lessor, futureTxn)).toBe(ErrCompacted);
    expect(dump()).toEqual(before);
    expect(get("x").header.revision).toBe(4);
  });

  it("every put on the path is checked before any range, nested txns too (etcd's checkRequests order)", async () => {
    await setupCompacted();
    const before = dump();
    // A compacted range before an ignore_value put of a missing key: the put's error wins.
    const t1 = newTxnRequest({ success: [rangeOp("foo", { revision: 1 }), putOp("none", "", { ignoreValue: true })] });
    expect(txn(kv, lessor, t1)).toBe(ErrKeyNotFound);
    // A future range before a put with an unknown lease, the put inside a nested txn.
    const t2 = newTxnRequest({
      success: [rangeOp("foo", { revision: 100 }), { requestTxn: newTxnRequest({ success: [putOp("k", "v", { lease: 4242n })] }) }],
    });
    expect(txn(kv, lessor, t2)).toBe(ErrLeaseNotFound);
    // A read-only txn has only its ranges checked.
    expect(txn(kv, lessor, newTxnRequest({ success: [rangeOp("foo", { revision: 1 })] }))).toBe(ErrCompacted);
    expect(dump()).toEqual(before);
  });

  it("range revisions: 0 is latest, the current revision is fine, one above is future", () => {
    putKV("a");
    expect(doTxn({ success: [rangeOp("a", { revision: 2 })] }).succeeded).toBe(true);
    expect(txn(kv, lessor, newTxnRequest({ success: [rangeOp("a", { revision: 3 })] }))).toBe(ErrFutureRev);
    // Checked against the store before the txn, even though the txn's own put makes revision 3.
    expect(txn(kv, lessor, newTxnRequest({ success: [putOp("b"), rangeOp("a", { revision: 3 })] }))).toBe(ErrFutureRev);
    expect(dump()).toEqual(["a=bar@2"]);
  });

  it("an unknown lease or a missing key for ignore_lease fails the whole txn", () => {
    putKV("a", "1");
    expect(txn(kv, lessor, newTxnRequest({ success: [putOp("b"), delOp("a"), putOp("c", "x", { lease: 77n })] }))).toBe(
      ErrLeaseNotFound,
    );
    expect(txn(kv, lessor, newTxnRequest({ success: [putOp("b"), putOp("zz", "", { ignoreLease: true })] }))).toBe(
      ErrKeyNotFound,
    );
    expect(dump()).toEqual(["a=1@2"]);
  });

  it("only the branch taken is checked; nested branches are checked", () => {
    const future = rangeOp("a", { revision: 1000 });
    // Invalid op on the failure path of a succeeding txn: fine.
    expect(doTxn({ failure: [future] }).succeeded).toBe(true);
    expect(doTxn({ compare: [cmp("a", CompareTarget.VALUE, CompareResult.EQUAL, { value: b("x") })], success: [future] }).succeeded).toBe(false);
    // Invalid op in a nested txn on the path: the txn fails.
    expect(txn(kv, lessor, newTxnRequest({ success: [putOp("p"), txnOp({ success: [future] })] }))).toBe(ErrFutureRev);
    expect(
      txn(kv, lessor, newTxnRequest({ success: [putOp("p"), txnOp({ compare: [cmp("p", CompareTarget.VERSION, CompareResult.GREATER, { version: 0 })], failure: [putOp("q", "", { lease: 3n })] })] })),
    ).toBe(ErrLeaseNotFound);
    expect(dump()).toEqual([]);
  });

  it("a failed txn releases its read txn (the store still takes writes and reads)", () => {
    expect(txn(kv, lessor, newTxnRequest({ success: [rangeOp("a", { revision: 5 })] }))).toBe(ErrFutureRev);
    putKV("a");
    expect(keys(get("a").kvs)).toEqual(["a"]);
  });

  it("refuses, writing nothing, an ignore_value put of a key an earlier op of the txn deleted (etcd panics)", () => {
    // The v3rpc duplicate-key check lets a delete of every key ≥ "a" (range end "\0") share a txn
    // with puts (etcd quirk); etcd's apply checks see "b" before the txn and then panic when the put
    // finds it gone. We answer as for a put with ignore_value on an absent key.
    putKV("b", "1");
    const before = dump();
    for (const t of [
      newTxnRequest({ success: [delOp("a", "\0"), putOp("b", "", { ignoreValue: true })] }),
      newTxnRequest({ success: [delOp("b"), txnOp({ success: [putOp("b", "", { ignoreLease: true })] })] }),
      newTxnRequest({ success: [txnOp({ success: [delOp("a", "c")] }), putOp("b", "", { ignoreValue: true })] }),
    ]) {
      expect(txn(kv, lessor, t)).toBe(ErrKeyNotFound);
    }
    expect(dump()).toEqual(before);
    // A delete after the put, or of another range, does not matter.
    const ok = txn(kv, lessor, newTxnRequest({ success: [putOp("b", "", { ignoreValue: true }), delOp("c", "d")] }));
    expect(ok).not.toBeInstanceOf(Error);
  });
});
