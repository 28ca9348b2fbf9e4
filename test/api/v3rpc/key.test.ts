import { describe, expect, it } from "vitest";
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
  type RequestOp,
  type TxnRequest,
} from "../../../src/api/etcdserverpb/rpc.js";
import {
  DefaultMaxTxnOps,
  checkDeleteRequest,
  checkIntervals,
  checkPutRequest,
  checkRangeRequest,
  checkRequestOp,
  checkTxn,
  checkTxnRequest,
} from "../../../src/api/v3rpc/key.js";
import {
  ErrGRPCDuplicateKey,
  ErrGRPCEmptyKey,
  ErrGRPCInvalidSortOption,
  ErrGRPCKeyNotFound,
  ErrGRPCLeaseProvided,
  ErrGRPCTooManyOps,
  ErrGRPCValueProvided,
} from "../../../src/api/v3rpc/rpctypes.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("checkRangeRequest (etcd key_test TestCheckRangeRequest)", () => {
  it.each([
    ["ascend create", SortOrder.ASCEND, SortTarget.CREATE, undefined],
    ["unknown target", SortOrder.ASCEND, 100 as SortTarget, ErrGRPCInvalidSortOption],
    ["unknown order", 200 as SortOrder, SortTarget.MOD, ErrGRPCInvalidSortOption],
  ])("%s", (_name, sortOrder, sortTarget, want) => {
    expect(checkRangeRequest(newRangeRequest({ key: new Uint8Array([1, 2, 3]), sortOrder, sortTarget }))).toBe(want);
  });

  it("refuses an empty key", () => {
    expect(checkRangeRequest(newRangeRequest())).toBe(ErrGRPCEmptyKey);
    expect(checkRangeRequest(newRangeRequest({ rangeEnd: b("z") }))).toBe(ErrGRPCEmptyKey);
  });
});

describe("checkPutRequest", () => {
  it.each([
    ["ok", newPutRequest({ key: b("k"), value: b("v"), lease: 5n }), undefined],
    ["empty key", newPutRequest({ value: b("v") }), ErrGRPCEmptyKey],
    ["ignore_value with a value", newPutRequest({ key: b("k"), value: b("v"), ignoreValue: true }), ErrGRPCValueProvided],
    ["ignore_value without a value", newPutRequest({ key: b("k"), ignoreValue: true }), undefined],
    ["ignore_lease with a lease", newPutRequest({ key: b("k"), lease: 1n, ignoreLease: true }), ErrGRPCLeaseProvided],
    ["ignore_lease without a lease", newPutRequest({ key: b("k"), ignoreLease: true }), undefined],
    // The key is checked first, then the value, then the lease.
    ["empty key wins", newPutRequest({ value: b("v"), ignoreValue: true }), ErrGRPCEmptyKey],
    ["value before lease", newPutRequest({ key: b("k"), value: b("v"), lease: 1n, ignoreValue: true, ignoreLease: true }), ErrGRPCValueProvided],
  ])("%s", (_name, req, want) => {
    expect(checkPutRequest(req)).toBe(want);
  });
});

describe("checkDeleteRequest", () => {
  it("refuses an empty key only", () => {
    expect(checkDeleteRequest(newDeleteRangeRequest())).toBe(ErrGRPCEmptyKey);
    expect(checkDeleteRequest(newDeleteRangeRequest({ key: b("a"), rangeEnd: b("b") }))).toBeUndefined();
  });
});

describe("checkRequestOp", () => {
  it("an empty op is ErrGRPCKeyNotFound", () => {
    expect(checkRequestOp({}, DefaultMaxTxnOps)).toBe(ErrGRPCKeyNotFound);
  });
  it("checks the op that is set", () => {
    expect(checkRequestOp({ requestRange: newRangeRequest() }, 128)).toBe(ErrGRPCEmptyKey);
    expect(checkRequestOp({ requestPut: newPutRequest() }, 128)).toBe(ErrGRPCEmptyKey);
    expect(checkRequestOp({ requestDeleteRange: newDeleteRangeRequest() }, 128)).toBe(ErrGRPCEmptyKey);
    expect(checkRequestOp({ requestTxn: newTxnRequest({ success: [{}] }) }, 128)).toBe(ErrGRPCKeyNotFound);
  });
});

let keyN = 0;
const uniq = (): Uint8Array => b(`key-${++keyN}`);
const putOp = (k: string | Uint8Array): RequestOp => ({
  requestPut: newPutRequest({ key: typeof k === "string" ? b(k) : k, value: b("bar") }),
});
const delOp = (k: string, end = ""): RequestOp => ({ requestDeleteRange: newDeleteRangeRequest({ key: b(k), rangeEnd: b(end) }) });
const txnOp = (t: Partial<TxnRequest>): RequestOp => ({ requestTxn: newTxnRequest(t) });

describe("checkTxnRequest: too many ops (etcd TestV3TxnTooManyOps)", () => {
  const max = 128;
  const adders: [string, (t: TxnRequest) => void][] = [
    ["compares", (t) => t.compare.push(newCompare({ result: CompareResult.GREATER, target: CompareTarget.CREATE, key: uniq() }))],
    ["success", (t) => t.success.push(putOp(uniq()))],
    ["failure", (t) => t.failure.push(putOp(uniq()))],
    ["nested txns", (t) => t.success.push(txnOp({ success: [putOp(uniq())] }))],
  ];
  it.each(adders)("max+1 %s", (_name, add) => {
    const t = newTxnRequest();
    for (let i = 0; i < max + 1; i++) add(t);
    expect(checkTxnRequest(t, max)).toBe(ErrGRPCTooManyOps);
    expect(checkTxn(t, max)).toBe(ErrGRPCTooManyOps);
  });
  it.each(adders.slice(0, 3))("exactly max %s passes", (_name, add) => {
    const t = newTxnRequest();
    for (let i = 0; i < max; i++) add(t);
    expect(checkTxnRequest(t, max)).toBeUndefined();
  });
  it("max nested txns leave their ops no budget", () => {
    const t = newTxnRequest();
    for (let i = 0; i < max; i++) adders[3]![1](t);
    expect(checkTxnRequest(t, max)).toBe(ErrGRPCTooManyOps);
    t.success.length = max - 1;
    expect(checkTxnRequest(t, max)).toBeUndefined();
  });

  it("counts compares, success and failure separately (the largest decides)", () => {
    const t = newTxnRequest();
    for (let i = 0; i < 3; i++) {
      t.compare.push(newCompare({ key: uniq() }));
      t.success.push(putOp(uniq()));
      t.failure.push(putOp(uniq()));
    }
    expect(checkTxnRequest(t, 3)).toBeUndefined();
    t.failure.push(putOp(uniq()));
    expect(checkTxnRequest(t, 3)).toBe(ErrGRPCTooManyOps);
  });

  it("a nested txn gets the budget its parent leaves", () => {
    // Parent uses 2 of 4: the child may use 2.
    const child = (n: number) => txnOp({ success: Array.from({ length: n }, () => putOp(uniq())) });
    expect(checkTxnRequest(newTxnRequest({ success: [child(2), putOp(uniq())] }), 4)).toBeUndefined();
    expect(checkTxnRequest(newTxnRequest({ success: [child(3), putOp(uniq())] }), 4)).toBe(ErrGRPCTooManyOps);
    // The failure branch's children too.
    expect(checkTxnRequest(newTxnRequest({ failure: [child(3), putOp(uniq())] }), 4)).toBe(ErrGRPCTooManyOps);
  });

  it("refuses an empty compare key and empty ops, success first", () => {
    expect(checkTxnRequest(newTxnRequest({ compare: [newCompare()] }), max)).toBe(ErrGRPCEmptyKey);
    expect(checkTxnRequest(newTxnRequest({ success: [{}], failure: [{ requestPut: newPutRequest() }] }), max)).toBe(
      ErrGRPCKeyNotFound,
    );
    expect(checkTxnRequest(newTxnRequest({ failure: [{ requestPut: newPutRequest() }] }), max)).toBe(ErrGRPCEmptyKey);
  });
});

describe("checkIntervals: duplicate keys (etcd TestV3TxnDuplicateKeys)", () => {
  const putreq = putOp("abc");
  const delKeyReq = delOp("abc");
  const delInRangeReq = delOp("a", "b");
  const delOutOfRangeReq = delOp("abb", "abc");
  const txnDelReq = txnOp({ success: [delInRangeReq] });
  const txnDelReqTwoSide = txnOp({ success: [delInRangeReq], failure: [delInRangeReq] });
  const txnPutReq = txnOp({ success: [putreq] });
  const txnPutReqTwoSide = txnOp({ success: [putreq], failure: [putreq] });

  it.each<[string, RequestOp[], typeof ErrGRPCDuplicateKey | undefined]>([
    ["put, put", [putreq, putreq], ErrGRPCDuplicateKey],
    ["put, del key", [putreq, delKeyReq], ErrGRPCDuplicateKey],
    ["put, del range", [putreq, delInRangeReq], ErrGRPCDuplicateKey],
    ["Then(Put(a), Then(Del(a)))", [putreq, txnDelReq], ErrGRPCDuplicateKey],
    ["Then(Del(a), Then(Put(a)))", [delInRangeReq, txnPutReq], ErrGRPCDuplicateKey],
    ["two two-sided nested puts", [txnPutReqTwoSide, txnPutReqTwoSide], ErrGRPCDuplicateKey],
    ["Then(Del(x), (Then(Put(a)), Else(Put(a))))", [delOutOfRangeReq, txnPutReqTwoSide], undefined],
    ["Then(Then(Del(a)), (Then(Del(a)), Else(Del(a))))", [txnDelReq, txnDelReqTwoSide], undefined],
    ["deletes may overlap", [delKeyReq, delInRangeReq, delKeyReq, delInRangeReq], undefined],
    ["put, del of an interval ending at the key", [putreq, delOutOfRangeReq], undefined],
    // Our own cases.
    ["del before put at one level", [delKeyReq, putreq], ErrGRPCDuplicateKey],
    ["put in a nested txn and its parent", [txnPutReq, putreq], ErrGRPCDuplicateKey],
    ["puts of different keys", [putOp("a"), putOp("b"), txnOp({ success: [putOp("c")], failure: [putOp("d")] })], undefined],
    ["a put in else, another nested txn puts it", [txnOp({ failure: [putreq] }), txnPutReq], ErrGRPCDuplicateKey],
    ["nested else put of a key the parent deletes", [delInRangeReq, txnOp({ failure: [putreq] })], ErrGRPCDuplicateKey],
    ["a nested txn's deletes reach a sibling's puts", [txnOp({ failure: [delKeyReq] }), putreq], ErrGRPCDuplicateKey],
    ["deeply nested delete, then put", [txnOp({ failure: [txnOp({ success: [delKeyReq] })] }), txnOp({ success: [txnOp({ success: [putreq] })] })], ErrGRPCDuplicateKey],
    // etcd checks a nested txn's puts against the deletes of this level and of earlier siblings
    // only, so a later sibling's delete of an earlier sibling's put passes.
    ["nested put, then nested delete (etcd lets it pass)", [txnOp({ success: [txnOp({ success: [putreq] })] }), txnOp({ failure: [txnOp({ success: [delKeyReq] })] })], undefined],
    ["a nested txn with put and delete of one key", [txnOp({ success: [putreq, delKeyReq] })], ErrGRPCDuplicateKey],
    ["range end is exclusive", [delOp("a", "abc"), putreq], undefined],
    ["range begin is inclusive", [delOp("abc", "abd"), putreq], ErrGRPCDuplicateKey],
    ["an inverted delete range covers nothing", [delOp("b", "a"), putOp("abc"), putOp("b")], undefined],
    ["ranges are not checked", [putreq, { requestRange: newRangeRequest({ key: b("abc") }) }], undefined],
    // etcd's interval tree compares the "\0" range end as a plain string, so [key, "\0") is empty.
    ["a delete of every key ≥ key is not seen (etcd quirk)", [delOp("a", "\0"), putreq], undefined],
  ])("%s", (_name, ops, want) => {
    const got = checkIntervals(ops);
    if (want === undefined) expect(got).not.toBeInstanceOf(Error);
    else expect(got).toBe(want);
    expect(checkTxn(newTxnRequest({ success: ops }), DefaultMaxTxnOps)).toBe(want);
    expect(checkTxn(newTxnRequest({ failure: ops }), DefaultMaxTxnOps)).toBe(want);
  });

  it("success and failure of the request itself are checked separately", () => {
    expect(checkTxn(newTxnRequest({ success: [putreq], failure: [putreq, putOp("x")] }), 128)).toBeUndefined();
    expect(checkTxn(newTxnRequest({ success: [putreq], failure: [delKeyReq] }), 128)).toBeUndefined();
  });

  it("returns the keys put and the intervals deleted", () => {
    const got = checkIntervals([putOp("x"), delOp("a", "b"), txnOp({ success: [putOp("y")], failure: [delOp("q")] })]);
    if (got instanceof Error) throw got;
    expect([...got.puts].sort()).toEqual(["x", "y"]);
    expect(got.dels.map((d) => [new TextDecoder().decode(d.begin), d.end && new TextDecoder().decode(d.end)])).toEqual([
      ["a", "b"],
      ["q", undefined],
    ]);
  });

  it("too many ops is reported before duplicate keys", () => {
    expect(checkTxn(newTxnRequest({ success: [putreq, putreq, putreq] }), 2)).toBe(ErrGRPCTooManyOps);
  });
});
