/**
 * etcd's gateway JSON (grpc-gateway's JSONPb{OrigName: true} over golang/protobuf jsonpb) for every
 * etcdserverpb request and response, as pure functions driven by a small schema per message (field
 * names, numbers, kinds in .proto declaration order; no code generation).
 *
 * Responses (encode): proto field names; int64/uint64 as decimal strings; int32/uint32 as numbers;
 * bytes as standard base64; enums by name (a number when the value has no name); zero scalars and
 * empty lists omitted; a set oneof member always emitted, even when zero; a set sub-message always
 * emitted, `{}` when empty (so `"header":{"revision":"3"}` in a nested txn response).
 *
 * Requests (decode): one JSON value read as json.Decoder does (an empty body is the empty message,
 * text after the value is ignored); proto names and lowerCamel JSON names (the JSON name wins when
 * both are given); int64 as a number or a string; bytes as standard base64 (or a JSON array of
 * byte values, as Go allows); enums by name or number; `null` and unknown fields ignored. A bad body
 * is an InvalidArgument {@link EtcdError} with the message etcd 3.5's gateway gives (Go's
 * encoding/json and jsonpb texts, see go-json.ts).
 *
 * TypeScript shapes are those of rpc.ts / mvccpb.ts: a field's TS key is its protoc JSON name; a
 * 64-bit field is a `bigint` for ids (`big`) and a `number` otherwise (a value beyond 2^53 loses
 * precision but keeps its magnitude, so a huge revision stays a future revision).
 */
import type * as pb from "../etcdserverpb/rpc.js";
import type { Event, KeyValue } from "../../mvcc/mvccpb.js";
import {
  decodeGoBase64,
  encodeBase64,
  goJSONString,
  goQuote,
  GoJSONError,
  kindName,
  parseGoInt,
  parseGoJSON,
  typeError,
  unmarshalGoJSON,
  type JValue,
} from "../../pkg/go-json.js";
import { Code, EtcdError } from "./rpctypes.js";

// ---------------------------------------------------------------------------------------------
// Schema

type IntKind = "int64" | "int64big" | "uint64" | "uint64big" | "int32" | "uint32";
type ScalarKind = IntKind | "bool" | "string" | "bytes";

export interface EnumSpec {
  /** The enum's protobuf full name, as jsonpb names it in errors. */
  fullName: string;
  names: readonly string[];
}

export interface FieldSpec {
  /** The .proto name (the JSON output name with OrigName). */
  proto: string;
  /** protoc's JSON name: also the TypeScript key. */
  json: string;
  no: number;
  kind: ScalarKind | EnumSpec | (() => MessageSpec);
  repeated: boolean;
  oneof: boolean;
}

export interface MessageSpec {
  fullName: string;
  fields: readonly FieldSpec[];
}

/** protoc's ToJsonName: drop each `_` and upper-case the letter after it. */
export function jsonName(proto: string): string {
  let out = "";
  let upper = false;
  for (const c of proto) {
    if (c === "_") upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

type FieldDef = [proto: string, no: number, kind: FieldSpec["kind"], flag?: "repeated" | "oneof"];

function message(fullName: string, defs: FieldDef[]): MessageSpec {
  return {
    fullName,
    fields: defs.map(([proto, no, kind, flag]) => ({
      proto,
      json: jsonName(proto),
      no,
      kind,
      repeated: flag === "repeated",
      oneof: flag === "oneof",
    })),
  };
}

const enumSpec = (fullName: string, names: string[]): EnumSpec => ({ fullName, names });

const SortOrderEnum = enumSpec("etcdserverpb.RangeRequest.SortOrder", ["NONE", "ASCEND", "DESCEND"]);
const SortTargetEnum = enumSpec("etcdserverpb.RangeRequest.SortTarget", ["KEY", "VERSION", "CREATE", "MOD", "VALUE"]);
const CompareResultEnum = enumSpec("etcdserverpb.Compare.CompareResult", ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"]);
const CompareTargetEnum = enumSpec("etcdserverpb.Compare.CompareTarget", ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"]);
const FilterTypeEnum = enumSpec("etcdserverpb.WatchCreateRequest.FilterType", ["NOPUT", "NODELETE"]);
const AlarmActionEnum = enumSpec("etcdserverpb.AlarmRequest.AlarmAction", ["GET", "ACTIVATE", "DEACTIVATE"]);
const AlarmTypeEnum = enumSpec("etcdserverpb.AlarmType", ["NONE", "NOSPACE", "CORRUPT"]);
const EventTypeEnum = enumSpec("mvccpb.Event.EventType", ["PUT", "DELETE"]);

export const ResponseHeaderSpec = message("etcdserverpb.ResponseHeader", [
  ["cluster_id", 1, "uint64big"],
  ["member_id", 2, "uint64big"],
  ["revision", 3, "int64"],
  ["raft_term", 4, "uint64"],
]);
const header = (): MessageSpec => ResponseHeaderSpec;

export const KeyValueSpec = message("mvccpb.KeyValue", [
  ["key", 1, "bytes"],
  ["create_revision", 2, "int64"],
  ["mod_revision", 3, "int64"],
  ["version", 4, "int64"],
  ["value", 5, "bytes"],
  ["lease", 6, "int64big"],
]);
const kv = (): MessageSpec => KeyValueSpec;

export const EventSpec = message("mvccpb.Event", [
  ["type", 1, EventTypeEnum],
  ["kv", 2, kv],
  ["prev_kv", 3, kv],
]);

export const RangeRequestSpec = message("etcdserverpb.RangeRequest", [
  ["key", 1, "bytes"],
  ["range_end", 2, "bytes"],
  ["limit", 3, "int64"],
  ["revision", 4, "int64"],
  ["sort_order", 5, SortOrderEnum],
  ["sort_target", 6, SortTargetEnum],
  ["serializable", 7, "bool"],
  ["keys_only", 8, "bool"],
  ["count_only", 9, "bool"],
  ["min_mod_revision", 10, "int64"],
  ["max_mod_revision", 11, "int64"],
  ["min_create_revision", 12, "int64"],
  ["max_create_revision", 13, "int64"],
]);
export const RangeResponseSpec = message("etcdserverpb.RangeResponse", [
  ["header", 1, header],
  ["kvs", 2, kv, "repeated"],
  ["more", 3, "bool"],
  ["count", 4, "int64"],
]);
export const PutRequestSpec = message("etcdserverpb.PutRequest", [
  ["key", 1, "bytes"],
  ["value", 2, "bytes"],
  ["lease", 3, "int64big"],
  ["prev_kv", 4, "bool"],
  ["ignore_value", 5, "bool"],
  ["ignore_lease", 6, "bool"],
]);
export const PutResponseSpec = message("etcdserverpb.PutResponse", [
  ["header", 1, header],
  ["prev_kv", 2, kv],
]);
export const DeleteRangeRequestSpec = message("etcdserverpb.DeleteRangeRequest", [
  ["key", 1, "bytes"],
  ["range_end", 2, "bytes"],
  ["prev_kv", 3, "bool"],
]);
export const DeleteRangeResponseSpec = message("etcdserverpb.DeleteRangeResponse", [
  ["header", 1, header],
  ["deleted", 2, "int64"],
  ["prev_kvs", 3, kv, "repeated"],
]);
export const RequestOpSpec: MessageSpec = message("etcdserverpb.RequestOp", [
  ["request_range", 1, () => RangeRequestSpec, "oneof"],
  ["request_put", 2, () => PutRequestSpec, "oneof"],
  ["request_delete_range", 3, () => DeleteRangeRequestSpec, "oneof"],
  ["request_txn", 4, () => TxnRequestSpec, "oneof"],
]);
export const ResponseOpSpec: MessageSpec = message("etcdserverpb.ResponseOp", [
  ["response_range", 1, () => RangeResponseSpec, "oneof"],
  ["response_put", 2, () => PutResponseSpec, "oneof"],
  ["response_delete_range", 3, () => DeleteRangeResponseSpec, "oneof"],
  ["response_txn", 4, () => TxnResponseSpec, "oneof"],
]);
export const CompareSpec = message("etcdserverpb.Compare", [
  ["result", 1, CompareResultEnum],
  ["target", 2, CompareTargetEnum],
  ["key", 3, "bytes"],
  ["version", 4, "int64", "oneof"],
  ["create_revision", 5, "int64", "oneof"],
  ["mod_revision", 6, "int64", "oneof"],
  ["value", 7, "bytes", "oneof"],
  ["lease", 8, "int64big", "oneof"],
  ["range_end", 64, "bytes"],
]);
export const TxnRequestSpec: MessageSpec = message("etcdserverpb.TxnRequest", [
  ["compare", 1, () => CompareSpec, "repeated"],
  ["success", 2, () => RequestOpSpec, "repeated"],
  ["failure", 3, () => RequestOpSpec, "repeated"],
]);
export const TxnResponseSpec: MessageSpec = message("etcdserverpb.TxnResponse", [
  ["header", 1, header],
  ["succeeded", 2, "bool"],
  ["responses", 3, () => ResponseOpSpec, "repeated"],
]);
export const CompactionRequestSpec = message("etcdserverpb.CompactionRequest", [
  ["revision", 1, "int64"],
  ["physical", 2, "bool"],
]);
const headerOnly = (name: string): MessageSpec => message(`etcdserverpb.${name}`, [["header", 1, header]]);
const empty = (name: string): MessageSpec => message(`etcdserverpb.${name}`, []);
export const CompactionResponseSpec = headerOnly("CompactionResponse");

export const HashRequestSpec = empty("HashRequest");
export const HashResponseSpec = message("etcdserverpb.HashResponse", [
  ["header", 1, header],
  ["hash", 2, "uint32"],
]);
export const HashKVRequestSpec = message("etcdserverpb.HashKVRequest", [["revision", 1, "int64"]]);
export const HashKVResponseSpec = message("etcdserverpb.HashKVResponse", [
  ["header", 1, header],
  ["hash", 2, "uint32"],
  ["compact_revision", 3, "int64"],
  // 3.6; zero (omitted) from a 3.5 server.
  ["hash_revision", 4, "int64"],
]);
export const SnapshotRequestSpec = empty("SnapshotRequest");
export const SnapshotResponseSpec = message("etcdserverpb.SnapshotResponse", [
  ["header", 1, header],
  ["remaining_bytes", 2, "uint64"],
  ["blob", 3, "bytes"],
]);

export const WatchCreateRequestSpec = message("etcdserverpb.WatchCreateRequest", [
  ["key", 1, "bytes"],
  ["range_end", 2, "bytes"],
  ["start_revision", 3, "int64"],
  ["progress_notify", 4, "bool"],
  ["filters", 5, FilterTypeEnum, "repeated"],
  ["prev_kv", 6, "bool"],
  ["watch_id", 7, "int64"],
  ["fragment", 8, "bool"],
]);
export const WatchCancelRequestSpec = message("etcdserverpb.WatchCancelRequest", [["watch_id", 1, "int64"]]);
export const WatchProgressRequestSpec = empty("WatchProgressRequest");
export const WatchRequestSpec = message("etcdserverpb.WatchRequest", [
  ["create_request", 1, () => WatchCreateRequestSpec, "oneof"],
  ["cancel_request", 2, () => WatchCancelRequestSpec, "oneof"],
  ["progress_request", 3, () => WatchProgressRequestSpec, "oneof"],
]);
export const WatchResponseSpec = message("etcdserverpb.WatchResponse", [
  ["header", 1, header],
  ["watch_id", 2, "int64"],
  ["created", 3, "bool"],
  ["canceled", 4, "bool"],
  ["compact_revision", 5, "int64"],
  ["cancel_reason", 6, "string"],
  ["fragment", 7, "bool"],
  ["events", 11, () => EventSpec, "repeated"],
]);

export const LeaseGrantRequestSpec = message("etcdserverpb.LeaseGrantRequest", [
  ["TTL", 1, "int64"],
  ["ID", 2, "int64big"],
]);
export const LeaseGrantResponseSpec = message("etcdserverpb.LeaseGrantResponse", [
  ["header", 1, header],
  ["ID", 2, "int64big"],
  ["TTL", 3, "int64"],
  ["error", 4, "string"],
]);
export const LeaseRevokeRequestSpec = message("etcdserverpb.LeaseRevokeRequest", [["ID", 1, "int64big"]]);
export const LeaseRevokeResponseSpec = headerOnly("LeaseRevokeResponse");
export const LeaseKeepAliveRequestSpec = message("etcdserverpb.LeaseKeepAliveRequest", [["ID", 1, "int64big"]]);
export const LeaseKeepAliveResponseSpec = message("etcdserverpb.LeaseKeepAliveResponse", [
  ["header", 1, header],
  ["ID", 2, "int64big"],
  ["TTL", 3, "int64"],
]);
export const LeaseTimeToLiveRequestSpec = message("etcdserverpb.LeaseTimeToLiveRequest", [
  ["ID", 1, "int64big"],
  ["keys", 2, "bool"],
]);
export const LeaseTimeToLiveResponseSpec = message("etcdserverpb.LeaseTimeToLiveResponse", [
  ["header", 1, header],
  ["ID", 2, "int64big"],
  ["TTL", 3, "int64"],
  ["grantedTTL", 4, "int64"],
  ["keys", 5, "bytes", "repeated"],
]);
export const LeaseLeasesRequestSpec = empty("LeaseLeasesRequest");
export const LeaseStatusSpec = message("etcdserverpb.LeaseStatus", [["ID", 1, "int64big"]]);
export const LeaseLeasesResponseSpec = message("etcdserverpb.LeaseLeasesResponse", [
  ["header", 1, header],
  ["leases", 2, () => LeaseStatusSpec, "repeated"],
]);

export const MemberSpec = message("etcdserverpb.Member", [
  ["ID", 1, "uint64big"],
  ["name", 2, "string"],
  ["peerURLs", 3, "string", "repeated"],
  ["clientURLs", 4, "string", "repeated"],
  ["isLearner", 5, "bool"],
]);
const member = (): MessageSpec => MemberSpec;
export const MemberAddRequestSpec = message("etcdserverpb.MemberAddRequest", [
  ["peerURLs", 1, "string", "repeated"],
  ["isLearner", 2, "bool"],
]);
export const MemberAddResponseSpec = message("etcdserverpb.MemberAddResponse", [
  ["header", 1, header],
  ["member", 2, member],
  ["members", 3, member, "repeated"],
]);
export const MemberRemoveRequestSpec = message("etcdserverpb.MemberRemoveRequest", [["ID", 1, "uint64big"]]);
export const MemberUpdateRequestSpec = message("etcdserverpb.MemberUpdateRequest", [
  ["ID", 1, "uint64big"],
  ["peerURLs", 2, "string", "repeated"],
]);
export const MemberListRequestSpec = message("etcdserverpb.MemberListRequest", [["linearizable", 1, "bool"]]);
export const MemberPromoteRequestSpec = message("etcdserverpb.MemberPromoteRequest", [["ID", 1, "uint64big"]]);
/** MemberList, MemberRemove, MemberUpdate and MemberPromote responses share this shape. */
export const MemberListResponseSpec = message("etcdserverpb.MemberListResponse", [
  ["header", 1, header],
  ["members", 2, member, "repeated"],
]);

export const DefragmentRequestSpec = empty("DefragmentRequest");
export const DefragmentResponseSpec = headerOnly("DefragmentResponse");
export const MoveLeaderRequestSpec = message("etcdserverpb.MoveLeaderRequest", [["targetID", 1, "uint64big"]]);
export const MoveLeaderResponseSpec = headerOnly("MoveLeaderResponse");
export const AlarmRequestSpec = message("etcdserverpb.AlarmRequest", [
  ["action", 1, AlarmActionEnum],
  ["memberID", 2, "uint64big"],
  ["alarm", 3, AlarmTypeEnum],
]);
export const AlarmMemberSpec = message("etcdserverpb.AlarmMember", [
  ["memberID", 1, "uint64big"],
  ["alarm", 2, AlarmTypeEnum],
]);
export const AlarmResponseSpec = message("etcdserverpb.AlarmResponse", [
  ["header", 1, header],
  ["alarms", 2, () => AlarmMemberSpec, "repeated"],
]);
export const StatusRequestSpec = empty("StatusRequest");
export const StatusResponseSpec = message("etcdserverpb.StatusResponse", [
  ["header", 1, header],
  ["version", 2, "string"],
  ["dbSize", 3, "int64"],
  ["leader", 4, "uint64big"],
  ["raftIndex", 5, "uint64"],
  ["raftTerm", 6, "uint64"],
  ["raftAppliedIndex", 7, "uint64"],
  ["errors", 8, "string", "repeated"],
  ["dbSizeInUse", 9, "int64"],
  ["isLearner", 10, "bool"],
]);

// ---------------------------------------------------------------------------------------------
// Encoding (responses)

type Obj = Record<string, unknown>;

const isEnum = (k: FieldSpec["kind"]): k is EnumSpec => typeof k === "object";
const isMessage = (k: FieldSpec["kind"]): k is () => MessageSpec => typeof k === "function";

function isZero(kind: FieldSpec["kind"], v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (isMessage(kind)) return false;
  if (v instanceof Uint8Array) return v.length === 0;
  return v === 0 || v === 0n || v === "" || v === false;
}

function encodeScalar(kind: ScalarKind | EnumSpec, v: unknown): string {
  if (isEnum(kind)) {
    const n = Number(v);
    const name = kind.names[n];
    return name !== undefined ? `"${name}"` : String(Math.trunc(n) | 0);
  }
  switch (kind) {
    case "int64":
    case "uint64":
    case "int64big":
    case "uint64big":
      return `"${typeof v === "bigint" ? v.toString() : Math.trunc(Number(v)).toString()}"`;
    case "int32":
    case "uint32":
      return String(Math.trunc(Number(v)));
    case "bool":
      return v ? "true" : "false";
    case "string":
      return goJSONString(String(v));
    case "bytes":
      return `"${encodeBase64(v as Uint8Array)}"`;
  }
}

function encodeValue(kind: FieldSpec["kind"], v: unknown): string {
  if (isMessage(kind)) return encodeMessage(kind(), v as Obj);
  return encodeScalar(kind, v);
}

/** jsonpb's OrigName encoding of `obj` as message `spec` (see the file comment). */
export function encodeMessage(spec: MessageSpec, obj: Obj): string {
  const parts: string[] = [];
  for (const f of spec.fields) {
    const v = obj[f.json];
    if (f.repeated) {
      if (!Array.isArray(v) || v.length === 0) continue;
      parts.push(`"${f.proto}":[${v.map((e) => encodeValue(f.kind, e)).join(",")}]`);
      continue;
    }
    if (f.oneof ? v === undefined || v === null : isZero(f.kind, v)) continue;
    parts.push(`"${f.proto}":${encodeValue(f.kind, v)}`);
  }
  return `{${parts.join(",")}}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding (requests)

const goIntType: Record<IntKind, string> = {
  int64: "int64",
  int64big: "int64",
  uint64: "uint64",
  uint64big: "uint64",
  int32: "int32",
  uint32: "uint32",
};

/** jsonpb's trimQuote then json.Unmarshal into an integer type. */
function decodeInt(v: JValue, goType: string): bigint {
  const raw = v.t === "string" ? v.raw.slice(1, -1) : v.raw;
  const inner = v.t === "number" ? v : unmarshalGoJSON(raw);
  if (inner.t === "null") return 0n;
  if (inner.t !== "number") throw typeError(kindName(inner), goType);
  return parseGoInt(inner.raw, goType);
}

function decodeBytes(v: JValue): Uint8Array {
  switch (v.t) {
    case "string":
      return decodeGoBase64(v.v);
    case "null":
      return new Uint8Array(0);
    case "array":
      return Uint8Array.from(
        v.items.map((e) => {
          if (e.t === "null") return 0;
          if (e.t !== "number") throw typeError(kindName(e), "uint8");
          return Number(parseGoInt(e.raw, "uint8"));
        }),
      );
    default:
      throw typeError(kindName(v), "[]uint8");
  }
}

function decodeScalar(kind: ScalarKind | EnumSpec, v: JValue): unknown {
  if (isEnum(kind)) {
    if (v.t === "string") {
      const name = v.raw.slice(1, -1);
      const n = kind.names.indexOf(name);
      if (n < 0) throw new GoJSONError(`unknown value ${goQuote(v.raw)} for enum ${kind.fullName}`);
      return n;
    }
    if (v.t === "null") return 0;
    if (v.t !== "number") throw typeError(kindName(v), "protoreflect.EnumNumber");
    return Number(parseGoInt(v.raw, "protoreflect.EnumNumber"));
  }
  switch (kind) {
    case "int64big":
    case "uint64big":
      return decodeInt(v, goIntType[kind]);
    case "int64":
    case "uint64":
    case "int32":
    case "uint32":
      return Number(decodeInt(v, goIntType[kind]));
    case "bool":
      if (v.t === "bool") return v.v;
      if (v.t === "null") return false;
      throw typeError(kindName(v), "bool");
    case "string":
      if (v.t === "string") return v.v;
      if (v.t === "null") return "";
      throw typeError(kindName(v), "string");
    case "bytes":
      return decodeBytes(v);
  }
}

function zeroOf(kind: FieldSpec["kind"]): unknown {
  if (isEnum(kind)) return 0;
  if (isMessage(kind)) return undefined;
  switch (kind) {
    case "int64big":
    case "uint64big":
      return 0n;
    case "bool":
      return false;
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    default:
      return 0;
  }
}

function decodeSingular(kind: FieldSpec["kind"], v: JValue, depth: number): unknown {
  if (isMessage(kind)) return decodeMessage(kind(), v, depth + 1);
  return decodeScalar(kind, v);
}

/**
 * jsonpb's unmarshalMessage: `v` as message `spec`, with proto3 defaults for absent fields (a
 * oneof member or singular sub-message that is absent stays absent). Throws {@link GoJSONError}.
 */
export function decodeMessage(spec: MessageSpec, v: JValue, depth = 0): Obj {
  if (depth > 100) throw new GoJSONError("exceeded max depth");
  const out: Obj = {};
  for (const f of spec.fields) {
    if (!f.oneof && !isMessage(f.kind)) out[f.json] = f.repeated ? [] : zeroOf(f.kind);
    else if (f.repeated) out[f.json] = [];
  }
  if (v.t === "null") return out;
  if (v.t !== "object") throw typeError(kindName(v), "map[string]json.RawMessage");
  for (const f of spec.fields) {
    let raw = v.entries.get(f.proto);
    const byJSON = v.entries.get(f.json);
    if (byJSON !== undefined) raw = byJSON;
    if (raw === undefined || raw.t === "null") continue;
    if (f.repeated) {
      if (raw.t !== "array") throw typeError(kindName(raw), "[]json.RawMessage");
      out[f.json] = raw.items.map((e) => (e.t === "null" && !isMessage(f.kind) ? zeroOf(f.kind) : decodeSingular(f.kind, e, depth)));
    } else {
      // Setting a oneof member clears the one set before (each message here has one oneof), so of
      // several members in one object the last in field order wins, as jsonpb's m.Set leaves it.
      if (f.oneof) for (const g of spec.fields) if (g.oneof && g !== f) delete out[g.json];
      out[f.json] = decodeSingular(f.kind, raw, depth);
    }
  }
  return out;
}

/** The gateway's answer to a body it cannot decode: InvalidArgument with Go's message. */
export function invalidArgument(message: string): EtcdError {
  return new EtcdError("ErrGRPCInvalidArgument", Code.InvalidArgument, message);
}

/**
 * Decodes the first JSON value of `text` as message `spec` (json.Decoder: whitespace only is the
 * empty message; what follows the value is ignored). Throws an InvalidArgument EtcdError.
 */
export function decodeRequest(spec: MessageSpec, text: string): Obj {
  try {
    const parsed = parseGoJSON(text, "decoder");
    return decodeMessage(spec, parsed === undefined ? { t: "null", raw: "null" } : parsed.value);
  } catch (err) {
    if (err instanceof GoJSONError) throw invalidArgument(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Protobuf size (etcd's request size limit; fragmenting watch responses)

function varintLen(v: bigint): number {
  if (v < 0n) return 10;
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}
const numLen = (v: unknown): number => varintLen(typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v))));
const tagLen = (no: number): number => varintLen(BigInt(no << 3));
const utf8Len = (s: string): number => new TextEncoder().encode(s).length;

function scalarBodyLen(kind: ScalarKind | EnumSpec, v: unknown): number {
  if (isEnum(kind)) return numLen(v);
  switch (kind) {
    case "bool":
      return 1;
    case "string":
      return utf8Len(String(v));
    case "bytes":
      return (v as Uint8Array).length;
    default:
      return numLen(v);
  }
}

const isLenDelimited = (kind: FieldSpec["kind"]): boolean => isMessage(kind) || kind === "string" || kind === "bytes";

/** Bytes of `obj` encoded as protobuf message `spec` (proto3: zero scalars omitted, packed repeated scalars). */
export function protoSize(spec: MessageSpec, obj: Obj): number {
  let n = 0;
  for (const f of spec.fields) {
    const v = obj[f.json];
    const body = (e: unknown): number => (isMessage(f.kind) ? protoSize(f.kind(), e as Obj) : scalarBodyLen(f.kind as ScalarKind, e));
    if (f.repeated) {
      if (!Array.isArray(v) || v.length === 0) continue;
      if (isLenDelimited(f.kind)) {
        for (const e of v) {
          const b = body(e);
          n += tagLen(f.no) + varintLen(BigInt(b)) + b;
        }
      } else {
        const b = v.reduce((s: number, e) => s + body(e), 0);
        n += tagLen(f.no) + varintLen(BigInt(b)) + b;
      }
      continue;
    }
    if (f.oneof ? v === undefined || v === null : isZero(f.kind, v)) continue;
    const b = body(v);
    n += tagLen(f.no) + (isLenDelimited(f.kind) ? varintLen(BigInt(b)) : 0) + b;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Typed codecs

export interface Codec<T> {
  readonly spec: MessageSpec;
  /** JSON text of `m` (no trailing newline). */
  encode(m: T): string;
  /** The message in the first JSON value of a request body; throws an InvalidArgument EtcdError. */
  decode(text: string): T;
  /** Its protobuf size in bytes. */
  size(m: T): number;
}

function codec<T>(spec: MessageSpec): Codec<T> {
  return {
    spec,
    encode: (m) => encodeMessage(spec, m as Obj),
    decode: (text) => decodeRequest(spec, text) as T,
    size: (m) => protoSize(spec, m as Obj),
  };
}

export const ResponseHeaderJSON = codec<pb.ResponseHeader>(ResponseHeaderSpec);
export const KeyValueJSON = codec<KeyValue>(KeyValueSpec);
export const EventJSON = codec<Event>(EventSpec);

export const RangeRequestJSON = codec<pb.RangeRequest>(RangeRequestSpec);
export const RangeResponseJSON = codec<pb.RangeResponse>(RangeResponseSpec);
export const PutRequestJSON = codec<pb.PutRequest>(PutRequestSpec);
export const PutResponseJSON = codec<pb.PutResponse>(PutResponseSpec);
export const DeleteRangeRequestJSON = codec<pb.DeleteRangeRequest>(DeleteRangeRequestSpec);
export const DeleteRangeResponseJSON = codec<pb.DeleteRangeResponse>(DeleteRangeResponseSpec);
export const TxnRequestJSON = codec<pb.TxnRequest>(TxnRequestSpec);
export const TxnResponseJSON = codec<pb.TxnResponse>(TxnResponseSpec);
export const CompactionRequestJSON = codec<pb.CompactionRequest>(CompactionRequestSpec);
export const CompactionResponseJSON = codec<pb.CompactionResponse>(CompactionResponseSpec);

export const WatchRequestJSON = codec<pb.WatchRequest>(WatchRequestSpec);
export const WatchResponseJSON = codec<pb.WatchResponse>(WatchResponseSpec);

export const LeaseGrantRequestJSON = codec<pb.LeaseGrantRequest>(LeaseGrantRequestSpec);
export const LeaseGrantResponseJSON = codec<pb.LeaseGrantResponse>(LeaseGrantResponseSpec);
export const LeaseRevokeRequestJSON = codec<pb.LeaseRevokeRequest>(LeaseRevokeRequestSpec);
export const LeaseRevokeResponseJSON = codec<pb.LeaseRevokeResponse>(LeaseRevokeResponseSpec);
export const LeaseKeepAliveRequestJSON = codec<pb.LeaseKeepAliveRequest>(LeaseKeepAliveRequestSpec);
export const LeaseKeepAliveResponseJSON = codec<pb.LeaseKeepAliveResponse>(LeaseKeepAliveResponseSpec);
export const LeaseTimeToLiveRequestJSON = codec<pb.LeaseTimeToLiveRequest>(LeaseTimeToLiveRequestSpec);
export const LeaseTimeToLiveResponseJSON = codec<pb.LeaseTimeToLiveResponse>(LeaseTimeToLiveResponseSpec);
export const LeaseLeasesRequestJSON = codec<pb.LeaseLeasesRequest>(LeaseLeasesRequestSpec);
export const LeaseLeasesResponseJSON = codec<pb.LeaseLeasesResponse>(LeaseLeasesResponseSpec);

export const MemberAddRequestJSON = codec<pb.MemberAddRequest>(MemberAddRequestSpec);
export const MemberAddResponseJSON = codec<pb.MemberAddResponse>(MemberAddResponseSpec);
export const MemberRemoveRequestJSON = codec<pb.MemberRemoveRequest>(MemberRemoveRequestSpec);
export const MemberUpdateRequestJSON = codec<pb.MemberUpdateRequest>(MemberUpdateRequestSpec);
export const MemberListRequestJSON = codec<pb.MemberListRequest>(MemberListRequestSpec);
export const MemberPromoteRequestJSON = codec<pb.MemberPromoteRequest>(MemberPromoteRequestSpec);
export const MemberListResponseJSON = codec<pb.MemberListResponse>(MemberListResponseSpec);
/** MemberRemove, MemberUpdate and MemberPromote answer MemberListResponse's shape (same fields and numbers). */
export const MemberRemoveResponseJSON = codec<pb.MemberRemoveResponse>(MemberListResponseSpec);
export const MemberUpdateResponseJSON = codec<pb.MemberUpdateResponse>(MemberListResponseSpec);
export const MemberPromoteResponseJSON = codec<pb.MemberPromoteResponse>(MemberListResponseSpec);

export const StatusRequestJSON = codec<pb.StatusRequest>(StatusRequestSpec);
export const StatusResponseJSON = codec<pb.StatusResponse>(StatusResponseSpec);
export const HashRequestJSON = codec<pb.HashRequest>(HashRequestSpec);
export const HashResponseJSON = codec<pb.HashResponse>(HashResponseSpec);
export const HashKVRequestJSON = codec<pb.HashKVRequest>(HashKVRequestSpec);
export const HashKVResponseJSON = codec<pb.HashKVResponse>(HashKVResponseSpec);
export const AlarmRequestJSON = codec<pb.AlarmRequest>(AlarmRequestSpec);
export const AlarmResponseJSON = codec<pb.AlarmResponse>(AlarmResponseSpec);
export const DefragmentRequestJSON = codec<pb.DefragmentRequest>(DefragmentRequestSpec);
export const DefragmentResponseJSON = codec<pb.DefragmentResponse>(DefragmentResponseSpec);
export const SnapshotRequestJSON = codec<pb.SnapshotRequest>(SnapshotRequestSpec);
export const SnapshotResponseJSON = codec<pb.SnapshotResponse>(SnapshotResponseSpec);
export const MoveLeaderRequestJSON = codec<pb.MoveLeaderRequest>(MoveLeaderRequestSpec);
export const MoveLeaderResponseJSON = codec<pb.MoveLeaderResponse>(MoveLeaderResponseSpec);

// ---------------------------------------------------------------------------------------------
// Gateway envelopes

/** grpc-gateway's unary error body (etcd 3.5: `{"error":m,"code":c,"message":m}`, empty fields omitted). */
export function encodeErrorBody(err: EtcdError): string {
  const parts: string[] = [];
  if (err.message !== "") parts.push(`"error":${goJSONString(err.message)}`);
  if (err.code !== 0) parts.push(`"code":${err.code}`);
  if (err.message !== "") parts.push(`"message":${goJSONString(err.message)}`);
  return `{${parts.join(",")}}`;
}

/** One message of a gateway stream: `{"result":<msg>}` (the caller adds the newline delimiter). */
export function encodeStreamResult(msgJSON: string): string {
  return `{"result":${msgJSON}}`;
}

/**
 * The final chunk of a gateway stream that ends in an error:
 * `{"error":{"grpc_code":c,"http_code":h,"message":m,"http_status":"<text>"}}`, empty fields omitted.
 */
export function encodeStreamError(err: EtcdError, httpCode: number, httpStatus: string): string {
  const parts: string[] = [];
  if (err.code !== 0) parts.push(`"grpc_code":${err.code}`);
  if (httpCode !== 0) parts.push(`"http_code":${httpCode}`);
  if (err.message !== "") parts.push(`"message":${goJSONString(err.message)}`);
  if (httpStatus !== "") parts.push(`"http_status":${goJSONString(httpStatus)}`);
  return `{"error":{${parts.join(",")}}}`;
}
