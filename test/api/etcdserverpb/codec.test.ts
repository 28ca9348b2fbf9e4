/**
 * The etcdserverpb byte codec (src/api/etcdserverpb/codec.ts):
 *   (a) round trips over random messages of every type (nested txns included), and decoding with the
 *       top-level fields reordered;
 *   (b) against protobufjs's reflection codec of a schema written here from etcd's protos
 *       (rpc.schema.ts): our bytes decode equal with reflection, reflection's bytes (sparse, and with
 *       every zero written) decode equal with ours, and our bytes equal reflection's sparse bytes
 *       (protobufjs writes fields sorted by number, like gogoproto);
 *   (c) byte strings derived by hand from the protos, and malformed input.
 */
import fc from "fast-check";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import * as codec from "../../../src/api/etcdserverpb/codec.js";
import type { InternalRaftRequest } from "../../../src/api/etcdserverpb/raft-internal.js";
import {
  AlarmAction,
  AlarmType,
  CompareResult,
  CompareTarget,
  type Compare,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "../../../src/api/etcdserverpb/rpc.js";
import type { KeyValue } from "../../../src/mvcc/mvccpb.js";
import { etcdserverpbTypes, type MessageName, messageNames } from "./rpc.schema.js";

const types = etcdserverpbTypes();
const runs = { numRuns: 200 };

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
const unhex = (s: string): Uint8Array =>
  new Uint8Array(s.trim() === "" ? [] : s.trim().split(/\s+/).map((x) => parseInt(x, 16)));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// --- arbitraries -------------------------------------------------------------------------------

const bytes = fc.uint8Array({ maxLength: 6 });
const str = fc.string({ unit: "grapheme", maxLength: 5 });
const i64n = fc.oneof(fc.constant(0), fc.integer({ min: -300, max: 300 }), fc.maxSafeInteger());
const u64n = fc.oneof(fc.constant(0), fc.nat(300), fc.maxSafeNat());
const i64 = fc.oneof(fc.constant(0n), fc.bigInt(-300n, 300n), fc.bigInt(-(1n << 63n), (1n << 63n) - 1n));
const u64 = fc.oneof(fc.constant(0n), fc.bigInt(0n, 300n), fc.bigInt(0n, (1n << 64n) - 1n));
const bool = fc.boolean();
/** Known values mostly; sometimes any int32 (proto3 enums are open; negatives take 10 bytes). */
const enumOf = (max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max }) },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
  );
const list = <T>(a: fc.Arbitrary<T>) => fc.array(a, { maxLength: 3 });

const keyValue: fc.Arbitrary<KeyValue> = fc.record({
  key: bytes,
  createRevision: i64n,
  modRevision: i64n,
  version: i64n,
  value: bytes,
  lease: i64,
});
const responseHeader = fc.record({ clusterId: u64, memberId: u64, revision: i64n, raftTerm: u64n });
const rangeRequest = fc.record({
  key: bytes,
  rangeEnd: bytes,
  limit: i64n,
  revision: i64n,
  sortOrder: enumOf(2),
  sortTarget: enumOf(4),
  serializable: bool,
  keysOnly: bool,
  countOnly: bool,
  minModRevision: i64n,
  maxModRevision: i64n,
  minCreateRevision: i64n,
  maxCreateRevision: i64n,
});
const rangeResponse = fc.record({ header: responseHeader, kvs: list(keyValue), more: bool, count: i64n });
const putRequest = fc.record({
  key: bytes,
  value: bytes,
  lease: i64,
  prevKv: bool,
  ignoreValue: bool,
  ignoreLease: bool,
});
const putResponse = fc.record({ header: responseHeader, prevKv: keyValue }, { requiredKeys: ["header"] });
const deleteRangeRequest = fc.record({ key: bytes, rangeEnd: bytes, prevKv: bool });
const deleteRangeResponse = fc.record({ header: responseHeader, deleted: i64n, prevKvs: list(keyValue) });
const compare: fc.Arbitrary<Compare> = fc
  .tuple(
    fc.record({ result: enumOf(3), target: enumOf(4), key: bytes, rangeEnd: bytes }),
    fc.oneof(
      fc.constant({}),
      fc.record({ version: i64n }),
      fc.record({ createRevision: i64n }),
      fc.record({ modRevision: i64n }),
      fc.record({ value: bytes }),
      fc.record({ lease: i64 }),
    ),
  )
  .map(([base, union]) => ({ ...base, ...union }));

const { txnRequest, requestOp } = fc.letrec<{ txnRequest: TxnRequest; requestOp: RequestOp }>((tie) => ({
  txnRequest: fc.record({ compare: list(compare), success: list(tie("requestOp")), failure: list(tie("requestOp")) }),
  requestOp: fc.oneof(
    { maxDepth: 3, depthIdentifier: "txn" },
    fc.record({ requestPut: putRequest }),
    fc.constant({}),
    fc.record({ requestRange: rangeRequest }),
    fc.record({ requestDeleteRange: deleteRangeRequest }),
    fc.record({ requestTxn: tie("txnRequest") }),
  ),
}));

const { txnResponse, responseOp } = fc.letrec<{ txnResponse: TxnResponse; responseOp: ResponseOp }>((tie) => ({
  txnResponse: fc.record({ header: responseHeader, succeeded: bool, responses: list(tie("responseOp")) }),
  responseOp: fc.oneof(
    { maxDepth: 3, depthIdentifier: "txnResp" },
    fc.record({ responsePut: putResponse }),
    fc.constant({}),
    fc.record({ responseRange: rangeResponse }),
    fc.record({ responseDeleteRange: deleteRangeResponse }),
    fc.record({ responseTxn: tie("txnResponse") }),
  ),
}));

const compactionRequest = fc.record({ revision: i64n, physical: bool });
const headerOnly = fc.record({ header: responseHeader });
const leaseGrantRequest = fc.record({ TTL: i64n, ID: i64 });
const leaseGrantResponse = fc.record({ header: responseHeader, ID: i64, TTL: i64n, error: str });
const leaseRevokeRequest = fc.record({ ID: i64 });
const leaseCheckpoint = fc.record({ ID: i64, remainingTTL: i64n });
const leaseCheckpointRequest = fc.record({ checkpoints: list(leaseCheckpoint) });
const alarmRequest = fc.record({ action: enumOf(2), memberID: u64, alarm: enumOf(2) });
const alarmResponse = fc.record({
  header: responseHeader,
  alarms: list(fc.record({ memberID: u64, alarm: enumOf(2) })),
});
const requestHeader = fc.record({ ID: u64, username: str, authRevision: u64n });
const clusterVersionSetRequest = fc.record({ ver: str });
const clusterMemberAttrSetRequest = fc.record(
  { memberID: u64, memberAttributes: fc.record({ name: str, clientUrls: list(str) }) },
  { requiredKeys: ["memberID"] },
);
const internalRaftRequest: fc.Arbitrary<InternalRaftRequest> = fc.record(
  {
    header: requestHeader,
    ID: u64,
    range: rangeRequest,
    put: putRequest,
    deleteRange: deleteRangeRequest,
    txn: txnRequest,
    compaction: compactionRequest,
    leaseGrant: leaseGrantRequest,
    leaseRevoke: leaseRevokeRequest,
    alarm: alarmRequest,
    leaseCheckpoint: leaseCheckpointRequest,
    clusterVersionSet: clusterVersionSetRequest,
    clusterMemberAttrSet: clusterMemberAttrSetRequest,
  },
  { requiredKeys: ["ID"] },
);

type Any = any;

/** Every message: its arbitrary and our codec's functions, by the schema's message name. */
const messages: Record<MessageName, { arb: fc.Arbitrary<Any>; enc: (m: Any) => Uint8Array; dec: (b: Uint8Array) => Any }> =
  {
    ResponseHeader: { arb: responseHeader, enc: codec.encodeResponseHeader, dec: codec.decodeResponseHeader },
    RangeRequest: { arb: rangeRequest, enc: codec.encodeRangeRequest, dec: codec.decodeRangeRequest },
    RangeResponse: { arb: rangeResponse, enc: codec.encodeRangeResponse, dec: codec.decodeRangeResponse },
    PutRequest: { arb: putRequest, enc: codec.encodePutRequest, dec: codec.decodePutRequest },
    PutResponse: { arb: putResponse, enc: codec.encodePutResponse, dec: codec.decodePutResponse },
    DeleteRangeRequest: {
      arb: deleteRangeRequest,
      enc: codec.encodeDeleteRangeRequest,
      dec: codec.decodeDeleteRangeRequest,
    },
    DeleteRangeResponse: {
      arb: deleteRangeResponse,
      enc: codec.encodeDeleteRangeResponse,
      dec: codec.decodeDeleteRangeResponse,
    },
    RequestOp: { arb: requestOp, enc: codec.encodeRequestOp, dec: codec.decodeRequestOp },
    ResponseOp: { arb: responseOp, enc: codec.encodeResponseOp, dec: codec.decodeResponseOp },
    Compare: { arb: compare, enc: codec.encodeCompare, dec: codec.decodeCompare },
    TxnRequest: { arb: txnRequest, enc: codec.encodeTxnRequest, dec: codec.decodeTxnRequest },
    TxnResponse: { arb: txnResponse, enc: codec.encodeTxnResponse, dec: codec.decodeTxnResponse },
    CompactionRequest: { arb: compactionRequest, enc: codec.encodeCompactionRequest, dec: codec.decodeCompactionRequest },
    CompactionResponse: { arb: headerOnly, enc: codec.encodeCompactionResponse, dec: codec.decodeCompactionResponse },
    LeaseGrantRequest: { arb: leaseGrantRequest, enc: codec.encodeLeaseGrantRequest, dec: codec.decodeLeaseGrantRequest },
    LeaseGrantResponse: {
      arb: leaseGrantResponse,
      enc: codec.encodeLeaseGrantResponse,
      dec: codec.decodeLeaseGrantResponse,
    },
    LeaseRevokeRequest: {
      arb: leaseRevokeRequest,
      enc: codec.encodeLeaseRevokeRequest,
      dec: codec.decodeLeaseRevokeRequest,
    },
    LeaseRevokeResponse: { arb: headerOnly, enc: codec.encodeLeaseRevokeResponse, dec: codec.decodeLeaseRevokeResponse },
    LeaseCheckpoint: { arb: leaseCheckpoint, enc: codec.encodeLeaseCheckpoint, dec: codec.decodeLeaseCheckpoint },
    LeaseCheckpointRequest: {
      arb: leaseCheckpointRequest,
      enc: codec.encodeLeaseCheckpointRequest,
      dec: codec.decodeLeaseCheckpointRequest,
    },
    AlarmRequest: { arb: alarmRequest, enc: codec.encodeAlarmRequest, dec: codec.decodeAlarmRequest },
    AlarmResponse: { arb: alarmResponse, enc: codec.encodeAlarmResponse, dec: codec.decodeAlarmResponse },
    RequestHeader: { arb: requestHeader, enc: codec.encodeRequestHeader, dec: codec.decodeRequestHeader },
    InternalRaftRequest: {
      arb: internalRaftRequest,
      enc: codec.encodeInternalRaftRequest,
      dec: codec.decodeInternalRaftRequest,
    },
    ClusterVersionSetRequest: {
      arb: clusterVersionSetRequest,
      enc: codec.encodeClusterVersionSetRequest,
      dec: codec.decodeClusterVersionSetRequest,
    },
    ClusterMemberAttrSetRequest: {
      arb: clusterMemberAttrSetRequest,
      enc: codec.encodeClusterMemberAttrSetRequest,
      dec: codec.decodeClusterMemberAttrSetRequest,
    },
  };

// --- reflection <-> our types --------------------------------------------------------------------

/** Our field name for a proto field name: lowerCamel with the letters after `_` upper-cased. */
const camel = (name: string): string => name.replace(/_(.)/g, (_, c: string) => c.toUpperCase());

/** The int64/uint64 fields our types hold as bigint (ids and leases); the others are numbers. */
const bigintFields = new Set(["ID", "lease", "cluster_id", "member_id", "memberID", "member_ID"]);

/** Schema fields our codec does not model (the reserved v2 field, the auth requests). */
const unmodelled = new Set(["v2", "auth_enable"]);

function scalarFromPb(f: protobuf.Field, v: Any): Any {
  if (f.resolvedType instanceof protobuf.Type) return fromPb(f.resolvedType, v);
  if (f.type === "int64" || f.type === "uint64") {
    const b = BigInt(v as string);
    if (bigintFields.has(f.name)) return b;
    if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`unsafe ${b}`);
    return Number(b);
  }
  if (f.type === "bytes") return new Uint8Array(v as Uint8Array);
  return v;
}

/** A protobufjs toObject result (longs as strings, defaults on) as our type. */
function fromPb(t: protobuf.Type, o: Any): Any {
  const out: Any = {};
  for (const f of t.fieldsArray) {
    const v = o[f.name];
    if (v === undefined || v === null || unmodelled.has(f.name)) continue;
    out[camel(f.name)] = f.repeated ? (v as Any[]).map((x) => scalarFromPb(f, x)) : scalarFromPb(f, v);
  }
  return out;
}

function isZero(v: unknown): boolean {
  if (v === 0 || v === 0n || v === false || v === "") return true;
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length === 0;
  return false;
}

/**
 * Our message as a protobufjs plain object. `sparse`: zero scalars and empty lists left out (oneof
 * members and sub-messages kept), as gogoproto writes; otherwise every field, zeros included.
 */
function toPb(t: protobuf.Type, m: Any, sparse: boolean): Any {
  const out: Any = {};
  for (const f of t.fieldsArray) {
    const v = m[camel(f.name)];
    if (v === undefined || (sparse && !f.partOf && isZero(v))) continue;
    const conv = (x: Any): Any =>
      f.resolvedType instanceof protobuf.Type
        ? toPb(f.resolvedType, x, sparse)
        : typeof x === "bigint" || f.type === "int64" || f.type === "uint64"
          ? String(x)
          : x;
    out[f.name] = f.repeated ? (v as Any[]).map(conv) : conv(v);
  }
  return out;
}

const reflectDecode = (t: protobuf.Type, b: Uint8Array): Any =>
  fromPb(t, t.toObject(t.decode(b), { defaults: true, arrays: true, longs: String }));
const reflectEncode = (t: protobuf.Type, m: Any, sparse: boolean): Uint8Array =>
  t.encode(t.fromObject(toPb(t, m, sparse))).finish();

// --- top-level field splitting (for reordering) ------------------------------------------------

function readVarint(b: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const x = b[at++]!;
    v |= BigInt(x & 0x7f) << shift;
    if (x < 0x80) return [v, at];
    shift += 7n;
  }
}

/** The top-level fields of an encoding (varint and length-delimited only, as our encoder writes). */
function splitFields(b: Uint8Array): { field: number; raw: Uint8Array }[] {
  const out: { field: number; raw: Uint8Array }[] = [];
  let at = 0;
  while (at < b.length) {
    const start = at;
    const [tag, afterTag] = readVarint(b, at);
    at = afterTag;
    if ((tag & 7n) === 0n) at = readVarint(b, at)[1];
    else {
      const [len, afterLen] = readVarint(b, at);
      at = afterLen + Number(len);
    }
    out.push({ field: Number(tag >> 3n), raw: b.subarray(start, at) });
  }
  return out;
}

// --- (a) round trips and (b) reflection --------------------------------------------------------

describe.each(messageNames.map((n) => [n]))("%s", (name) => {
  const { arb, enc, dec } = messages[name];
  const t = types[name];

  it("round-trips, and re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(arb, (m) => {
        const b = enc(m);
        const back = dec(b);
        expect(back).toEqual(m);
        expect(hex(enc(back))).toBe(hex(b));
      }),
      runs,
    );
  });

  it("decodes its fields in any order (repeated fields keep their relative order)", () => {
    fc.assert(
      fc.property(arb, fc.infiniteStream(fc.double({ noNaN: true })), (m, prio) => {
        const fields = splitFields(enc(m));
        const rank = new Map<number, number>();
        for (const f of fields) if (!rank.has(f.field)) rank.set(f.field, prio.next().value);
        const shuffled = [...fields].sort((x, y) => rank.get(x.field)! - rank.get(y.field)!);
        const b = new Uint8Array(shuffled.reduce((n, f) => n + f.raw.length, 0));
        let at = 0;
        for (const f of shuffled) {
          b.set(f.raw, at);
          at += f.raw.length;
        }
        expect(dec(b)).toEqual(m);
      }),
      runs,
    );
  });

  it("writes the bytes reflection writes from the non-zero fields, and reflection decodes them", () => {
    fc.assert(
      fc.property(arb, (m) => {
        const ours = enc(m);
        expect(hex(ours)).toBe(hex(reflectEncode(t, m, true)));
        expect(reflectDecode(t, ours)).toEqual(m);
      }),
      runs,
    );
  });

  it("decodes reflection's bytes with every zero field written", () => {
    fc.assert(
      fc.property(arb, (m) => {
        expect(dec(reflectEncode(t, m, false))).toEqual(m);
      }),
      runs,
    );
  });
});

// --- (c) fixed bytes ---------------------------------------------------------------------------

const kv1: KeyValue = { key: utf8("a"), createRevision: 1, modRevision: 1, version: 1, value: utf8("b"), lease: 0n };
const hdr0 = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };

/** [name, message, our encode, our decode, bytes derived by hand from the proto field numbers]. */
const pinned: [string, Any, (m: Any) => Uint8Array, (b: Uint8Array) => Any, string][] = [
  [
    "PutRequest {key foo, value bar}",
    { key: utf8("foo"), value: utf8("bar"), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
    codec.encodePutRequest,
    codec.decodePutRequest,
    "0a 03 66 6f 6f 12 03 62 61 72",
  ],
  [
    "PutRequest: lease -1 in ten bytes, prev_kv, ignore_lease",
    { key: utf8("a"), value: new Uint8Array(), lease: -1n, prevKv: true, ignoreValue: false, ignoreLease: true },
    codec.encodePutRequest,
    codec.decodePutRequest,
    "0a 01 61 18 ff ff ff ff ff ff ff ff ff 01 20 01 30 01",
  ],
  [
    "RangeRequest: range_end \\0, limit 10, serializable, max_create_revision 2, sort DESCEND by MOD",
    {
      key: utf8("a"),
      rangeEnd: new Uint8Array([0]),
      limit: 10,
      revision: 0,
      sortOrder: 2,
      sortTarget: 3,
      serializable: true,
      keysOnly: false,
      countOnly: false,
      minModRevision: 0,
      maxModRevision: 0,
      minCreateRevision: 0,
      maxCreateRevision: 2,
    },
    codec.encodeRangeRequest,
    codec.decodeRangeRequest,
    "0a 01 61 12 01 00 18 0a 28 02 30 03 38 01 68 02",
  ],
  [
    "Compare: version 0 is a set oneof member (written), range_end is field 64",
    { result: CompareResult.EQUAL, target: CompareTarget.VERSION, key: utf8("a"), version: 0, rangeEnd: utf8("b") },
    codec.encodeCompare,
    codec.decodeCompare,
    "1a 01 61 20 00 82 04 01 62",
  ],
  [
    "Compare: an empty value is written",
    {
      result: CompareResult.GREATER,
      target: CompareTarget.VALUE,
      key: utf8("k"),
      value: new Uint8Array(),
      rangeEnd: new Uint8Array(),
    },
    codec.encodeCompare,
    codec.decodeCompare,
    "08 01 10 03 1a 01 6b 3a 00",
  ],
  [
    "Compare: no operand set",
    { result: CompareResult.NOT_EQUAL, target: CompareTarget.LEASE, key: utf8("k"), rangeEnd: new Uint8Array() },
    codec.encodeCompare,
    codec.decodeCompare,
    "08 03 10 04 1a 01 6b",
  ],
  [
    "TxnRequest: mod(a) < 5 ? put a : range a",
    {
      compare: [
        { result: CompareResult.LESS, target: CompareTarget.MOD, key: utf8("a"), modRevision: 5, rangeEnd: new Uint8Array() },
      ],
      success: [{ requestPut: { ...put0(), key: utf8("a") } }],
      failure: [
        {
          requestRange: {
            key: utf8("a"),
            rangeEnd: new Uint8Array(),
            limit: 0,
            revision: 0,
            sortOrder: 0,
            sortTarget: 0,
            serializable: false,
            keysOnly: false,
            countOnly: false,
            minModRevision: 0,
            maxModRevision: 0,
            minCreateRevision: 0,
            maxCreateRevision: 0,
          },
        },
      ],
    },
    codec.encodeTxnRequest,
    codec.decodeTxnRequest,
    "0a 09 08 02 10 02 1a 01 61 30 05  12 05 12 03 0a 01 61  1a 05 0a 03 0a 01 61",
  ],
  [
    "TxnRequest: an empty nested txn and an empty op",
    { compare: [], success: [{ requestTxn: { compare: [], success: [], failure: [] } }, {}], failure: [] },
    codec.encodeTxnRequest,
    codec.decodeTxnRequest,
    "12 02 22 00 12 00",
  ],
  [
    "ResponseHeader: cluster id 2^64-1",
    { clusterId: (1n << 64n) - 1n, memberId: 1n, revision: 3, raftTerm: 4 },
    codec.encodeResponseHeader,
    codec.decodeResponseHeader,
    "08 ff ff ff ff ff ff ff ff ff 01 10 01 18 03 20 04",
  ],
  [
    "RangeResponse: one kv, count 1",
    { header: { ...hdr0, revision: 1 }, kvs: [kv1], more: false, count: 1 },
    codec.encodeRangeResponse,
    codec.decodeRangeResponse,
    "0a 02 18 01 12 0c 0a 01 61 10 01 18 01 20 01 2a 01 62 20 01",
  ],
  [
    "CompactionResponse: the empty header is written",
    { header: hdr0 },
    codec.encodeCompactionResponse,
    codec.decodeCompactionResponse,
    "0a 00",
  ],
  [
    "TxnResponse: succeeded with one put response",
    { header: hdr0, succeeded: true, responses: [{ responsePut: { header: hdr0 } }] },
    codec.encodeTxnResponse,
    codec.decodeTxnResponse,
    "0a 00 10 01 1a 04 12 02 0a 00",
  ],
  [
    "LeaseGrantResponse: error string",
    { header: hdr0, ID: 7n, TTL: 60, error: "x" },
    codec.encodeLeaseGrantResponse,
    codec.decodeLeaseGrantResponse,
    "0a 00 10 07 18 3c 22 01 78",
  ],
  [
    "LeaseCheckpointRequest: one checkpoint",
    { checkpoints: [{ ID: 1n, remainingTTL: 30 }] },
    codec.encodeLeaseCheckpointRequest,
    codec.decodeLeaseCheckpointRequest,
    "0a 04 08 01 10 1e",
  ],
  [
    "AlarmRequest: ACTIVATE NOSPACE for member 7",
    { action: AlarmAction.ACTIVATE, memberID: 7n, alarm: AlarmType.NOSPACE },
    codec.encodeAlarmRequest,
    codec.decodeAlarmRequest,
    "08 01 10 07 18 01",
  ],
  [
    "InternalRaftRequest: put, then header at field 100",
    {
      ID: 0n,
      header: { ID: 5n, username: "", authRevision: 0 },
      put: { key: utf8("a"), value: utf8("b"), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
    },
    codec.encodeInternalRaftRequest,
    codec.decodeInternalRaftRequest,
    "22 06 0a 01 61 12 01 62  a2 06 02 08 05",
  ],
  [
    "InternalRaftRequest: pre-3.1 ID and an empty range",
    {
      ID: 9n,
      range: {
        key: new Uint8Array(),
        rangeEnd: new Uint8Array(),
        limit: 0,
        revision: 0,
        sortOrder: 0,
        sortTarget: 0,
        serializable: false,
        keysOnly: false,
        countOnly: false,
        minModRevision: 0,
        maxModRevision: 0,
        minCreateRevision: 0,
        maxCreateRevision: 0,
      },
    },
    codec.encodeInternalRaftRequest,
    codec.decodeInternalRaftRequest,
    "08 09 1a 00",
  ],
  [
    "InternalRaftRequest: compaction, lease grant, revoke, alarm, checkpoint in field order",
    {
      ID: 0n,
      compaction: { revision: 3, physical: true },
      leaseGrant: { TTL: 5, ID: 0n },
      leaseRevoke: { ID: 2n },
      alarm: { action: 0, memberID: 0n, alarm: 0 },
      leaseCheckpoint: { checkpoints: [] },
    },
    codec.encodeInternalRaftRequest,
    codec.decodeInternalRaftRequest,
    "3a 04 08 03 10 01  42 02 08 05  4a 02 08 02  52 00  5a 00",
  ],
  [
    "InternalRaftRequest: cluster_version_set (1300) and cluster_member_attr_set (1301)",
    {
      ID: 0n,
      header: { ID: 1n, username: "u", authRevision: 2 },
      clusterVersionSet: { ver: "3.5.0" },
      clusterMemberAttrSet: { memberID: 1n, memberAttributes: { name: "n", clientUrls: ["u"] } },
    },
    codec.encodeInternalRaftRequest,
    codec.decodeInternalRaftRequest,
    "a2 06 07 08 01 12 01 75 18 02  a2 51 07 0a 05 33 2e 35 2e 30  aa 51 0a 08 01 12 06 0a 01 6e 12 01 75",
  ],
];

describe("fixed bytes derived from the protos", () => {
  for (const [name, m, enc, dec, bytes] of pinned) {
    it(name, () => {
      expect(hex(enc(m))).toBe(hex(unhex(bytes)));
      expect(dec(unhex(bytes))).toEqual(m);
    });
  }
});

describe("decoding any valid proto3", () => {
  const put = (key: string, value: string) => ({
    key: utf8(key),
    value: utf8(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  });

  it("takes the last value of a repeated scalar", () => {
    expect(codec.decodePutRequest(unhex("0a 01 61 0a 01 62 18 05 18 06"))).toEqual({ ...put("b", ""), lease: 6n });
  });

  it("reads a bool from any non-zero varint, all 64 bits", () => {
    expect(codec.decodePutRequest(unhex("20 80 80 80 80 10")).prevKv).toBe(true);
    expect(codec.decodePutRequest(unhex("20 00")).prevKv).toBe(false);
  });

  it("reads an enum from a 10-byte negative varint", () => {
    expect(codec.decodeAlarmRequest(unhex("08 ff ff ff ff ff ff ff ff ff 01")).action).toBe(-1);
  });

  it("skips unknown fields of every wire type, groups included", () => {
    // field 15 varint; field 16 bytes; field 17 fixed64; field 18 fixed32; field 19 group { field 1 varint }
    const unknown = "78 07  82 01 02 61 62  89 01 01 02 03 04 05 06 07 08  95 01 01 02 03 04  9b 01 08 01 9c 01";
    expect(codec.decodePutRequest(unhex(`${unknown} 0a 03 66 6f 6f ${unknown} 12 03 62 61 72`))).toEqual(put("foo", "bar"));
  });

  it("drops the requests it does not model (v2 = 2, auth_enable = 1000)", () => {
    expect(codec.decodeInternalRaftRequest(unhex("12 01 00  c2 3e 00  22 02 0a 00"))).toEqual({
      ID: 0n,
      put: { ...put("", "") },
    });
  });

  it("merges a repeated sub-message field, as gogoproto's Unmarshal does", () => {
    // put {key a}, then put {value b}; header {ID 1}, then header {username u}
    const merged = unhex("22 03 0a 01 61  a2 06 02 08 01  22 03 12 01 62  a2 06 03 12 01 75");
    expect(codec.decodeInternalRaftRequest(merged)).toEqual({
      ID: 0n,
      put: put("a", "b"),
      header: { ID: 1n, username: "u", authRevision: 0 },
    });
    // PutResponse.prev_kv {key a, version 2}, then {value b}
    expect(codec.decodePutResponse(unhex("12 05 0a 01 61 20 02  12 03 2a 01 62")).prevKv).toEqual({
      ...kv1,
      createRevision: 0,
      modRevision: 0,
      version: 2,
    });
  });

  it("keeps only the last member of a oneof", () => {
    // request_put {key a}, then request_range {} → only the range
    const op = codec.decodeRequestOp(unhex("12 03 0a 01 61  0a 00"));
    expect(Object.keys(op)).toEqual(["requestRange"]);
    // version 3, then value "x" → only the value
    const c = codec.decodeCompare(unhex("20 03 3a 01 78"));
    expect(c.version).toBeUndefined();
    expect(c.value).toEqual(utf8("x"));
  });
});

describe("refusing malformed input and unencodable values", () => {
  it("refuses a known field with the wrong wire type", () => {
    expect(() => codec.decodePutRequest(unhex("0d 00 00 00 00"))).toThrow(RangeError); // key as fixed32
    expect(() => codec.decodePutRequest(unhex("18 01 1a 00"))).toThrow(RangeError); // lease as bytes
    expect(() => codec.decodeInternalRaftRequest(unhex("a0 06 00"))).toThrow(RangeError); // header as varint
    expect(() => codec.decodeCompare(unhex("82 04 00 80 04 00"))).toThrow(RangeError); // range_end as varint
  });

  it("refuses truncated and overrunning input", () => {
    expect(() => codec.decodePutRequest(unhex("0a 05 61"))).toThrow(RangeError);
    expect(() => codec.decodePutRequest(unhex("18"))).toThrow(RangeError);
    // a sub-message whose last field runs past its length
    expect(() => codec.decodeInternalRaftRequest(unhex("22 02 0a 02 61 62"))).toThrow(RangeError);
    expect(() => codec.decodeTxnRequest(unhex("12 04 12 03 0a 01"))).toThrow(RangeError);
  });

  it("refuses field number 0 and invalid wire types", () => {
    expect(() => codec.decodePutRequest(unhex("00 00"))).toThrow(RangeError);
    expect(() => codec.decodePutRequest(unhex("7e 00"))).toThrow(RangeError); // field 15, wire type 6
    expect(() => codec.decodePutRequest(unhex("7c"))).toThrow(RangeError); // end group without start
  });

  it("refuses int64 and uint64 values our number fields cannot hold", () => {
    expect(() => codec.decodeRangeRequest(unhex("18 80 80 80 80 80 80 80 10"))).toThrow(/safe integer/); // limit 2^53
    expect(() => codec.decodeResponseHeader(unhex("20 ff ff ff ff ff ff ff ff ff 01"))).toThrow(/safe integer/); // raft_term 2^64-1
    expect(codec.decodeResponseHeader(unhex("18 ff ff ff ff ff ff ff ff ff 01")).revision).toBe(-1);
  });

  it("refuses to encode a oneof with two members, or a value its field cannot hold", () => {
    const del = { key: new Uint8Array(), rangeEnd: new Uint8Array(), prevKv: false };
    expect(() => codec.encodeRequestOp({ requestPut: put0(), requestDeleteRange: del })).toThrow(RangeError);
    const cmp = { result: 0, target: 0, key: new Uint8Array(), rangeEnd: new Uint8Array() };
    expect(() => codec.encodeCompare({ ...cmp, version: 1, lease: 1n })).toThrow(RangeError);
    expect(() => codec.encodeCompactionRequest({ revision: 2 ** 53, physical: false })).toThrow(RangeError);
    expect(() => codec.encodeResponseHeader({ ...hdr0, clusterId: -1n })).toThrow(RangeError);
    expect(() => codec.encodeResponseHeader({ ...hdr0, raftTerm: -1 })).toThrow(RangeError);
    expect(() => codec.encodePutRequest({ ...put0(), lease: 1n << 63n })).toThrow(RangeError);
    expect(() => codec.encodeAlarmRequest({ action: 2 ** 31, memberID: 0n, alarm: 0 })).toThrow(RangeError);
  });
});

function put0() {
  return { key: new Uint8Array(), value: new Uint8Array(), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false };
}
