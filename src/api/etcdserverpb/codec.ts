/**
 * The etcdserverpb byte codec: the InternalRaftRequest written into raft log entries and the KV,
 * lease and alarm messages it carries, with their responses (rpc.proto and raft_internal.proto,
 * etcd 3.5). One `encodeX(m): Uint8Array` and `decodeX(b): X` per message.
 *
 * Encoding is byte-identical to etcd's gogoproto marshalers: fields in field-number order
 * (InternalRaftRequest: ID = 1, the requests 3–11, header = 100, the membership requests 1300–1301);
 * zero scalars, empty bytes and strings, and empty lists are not written; int64 and enums as varints
 * (negative ones in 10 bytes); bool true as 1. A present sub-message is always written, empty or not,
 * and so is a set oneof member (Compare `version: 0` is `20 00`, `value: []` is `3a 00`). Response
 * headers are always present in our types and therefore always written (etcd always sets them).
 * Encoding throws RangeError on a value its field cannot hold and on a oneof with two members set.
 *
 * Decoding accepts any proto3 encoding: fields in any order, unknown fields (including the auth
 * requests and the reserved v2 field of InternalRaftRequest) skipped, the last value of a scalar wins,
 * a repeated sub-message field is merged (as gogoproto's Unmarshal does) while a repeated oneof
 * member replaces the earlier one (also gogoproto's behaviour). It throws RangeError on a known field
 * with the wrong wire type, on truncated or overrunning input, and on int64/uint64 values that our
 * `number` fields cannot hold exactly. Decoded messages own their arrays.
 */
import { decodeKeyValue, encodeKeyValue, encodeKeyValueTo, type KeyValue } from "../../mvcc/mvccpb.js";
import {
  expectEnd,
  expectWireType,
  LEN,
  Reader,
  readBool,
  readBytes,
  readEnum,
  readInt64,
  readInt64Num,
  readLength,
  readString,
  readTag,
  readUint64,
  readUint64Num,
  skipField,
  VARINT,
  writeBool,
  writeBytes,
  writeEnum,
  writeInt64,
  writeInt64Num,
  writeMessage,
  writeString,
  writeUint64,
  writeUint64Num,
  Writer,
} from "../../pb/wire.js";
import {
  type Attributes,
  type ClusterMemberAttrSetRequest,
  type ClusterVersionSetRequest,
  type InternalRaftRequest,
  type LeaseCheckpoint,
  type LeaseCheckpointRequest,
  newAttributes,
  newClusterMemberAttrSetRequest,
  newClusterVersionSetRequest,
  newInternalRaftRequest,
  newLeaseCheckpoint,
  newLeaseCheckpointRequest,
  newRequestHeader,
  type RequestHeader,
} from "./raft-internal.js";
import {
  type AlarmMember,
  type AlarmRequest,
  type AlarmResponse,
  type Compare,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
  newAlarmRequest,
  newAlarmResponse,
  newCompactionRequest,
  newCompactionResponse,
  newCompare,
  newDeleteRangeRequest,
  newDeleteRangeResponse,
  newLeaseGrantRequest,
  newLeaseGrantResponse,
  newLeaseRevokeRequest,
  newLeaseRevokeResponse,
  newPutRequest,
  newPutResponse,
  newRangeRequest,
  newRangeResponse,
  newResponseHeader,
  newTxnRequest,
  newTxnResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "./rpc.js";

const pkg = "etcdserverpb";

// --- scalar shorthands -------------------------------------------------------------------------

const i64 = (w: Writer, f: number, v: bigint): void => writeInt64(w, f, v, pkg);
const i64n = (w: Writer, f: number, v: number): void => writeInt64Num(w, f, v, pkg);
const u64 = (w: Writer, f: number, v: bigint): void => writeUint64(w, f, v, pkg);
const u64n = (w: Writer, f: number, v: number): void => writeUint64Num(w, f, v, pkg);
const enm = (w: Writer, f: number, v: number): void => writeEnum(w, f, v, pkg);
const rI64 = (r: Reader): bigint => readInt64(r, pkg);
const rI64n = (r: Reader): number => readInt64Num(r, pkg);
const rU64 = (r: Reader): bigint => readUint64(r, pkg);
const rU64n = (r: Reader): number => readUint64Num(r, pkg);
const rBool = (r: Reader): boolean => readBool(r, pkg);
const rEnum = (r: Reader): number => readEnum(r, pkg);
const rBytes = (r: Reader): Uint8Array => readBytes(r, pkg);
const rString = (r: Reader): string => readString(r, pkg);

/** A message's known fields: field number → wire type. */
type FieldTypes = Readonly<Record<number, number>>;

/**
 * Reads the fields of message `msg` in `[r.pos, end)`, handing each known field (wire type checked)
 * to `onField`, which must consume its value; unknown fields are skipped.
 */
function readFields(r: Reader, end: number, msg: string, types: FieldTypes, onField: (field: number) => void): void {
  while (r.pos < end) {
    const [field, wt] = readTag(r, pkg);
    const want = types[field];
    if (want === undefined) {
      skipField(r, field, wt, pkg);
      continue;
    }
    expectWireType(pkg, msg, field, wt, want);
    onField(field);
  }
  expectEnd(r, end, pkg, msg);
}

/** A sub-message reader: the fields in `[r.pos, end)` merged into `into` (or a new message). */
type ReadTo<T> = (r: Reader, end: number, into?: T) => T;

/** Reads a length-delimited sub-message, merging it into `into` when given. */
function readSub<T>(r: Reader, read: ReadTo<T>, into?: T): T {
  const end = readLength(r, pkg);
  return read(r, end, into);
}

function encodeWith<T>(write: (w: Writer, m: T) => void, m: T): Uint8Array {
  const w = Writer.create();
  write(w, m);
  return w.finish();
}

function decodeWith<T>(read: ReadTo<T>, b: Uint8Array): T {
  return read(Reader.create(b), b.length);
}

/** Throws RangeError when more than one member of oneof `name` of `msg` is set. */
function checkOneof(msg: string, name: string, ...members: unknown[]): void {
  if (members.filter((m) => m !== undefined).length > 1) {
    throw new RangeError(`${pkg}: ${msg} has more than one member of oneof ${name} set`);
  }
}

// --- mvccpb.KeyValue -----------------------------------------------------------------------------

/** A KeyValue through mvccpb's codec; a repeated (non-list) field is merged by decoding the two encodings back to back. */
const readKeyValue: ReadTo<KeyValue> = (r, end, into) => {
  const sub = r.buf.subarray(r.pos, end);
  let b = sub;
  if (into !== undefined) {
    const prev = encodeKeyValue(into);
    b = new Uint8Array(prev.length + sub.length);
    b.set(prev);
    b.set(sub, prev.length);
  }
  let kv: KeyValue;
  try {
    kv = decodeKeyValue(b);
  } catch (e) {
    throw e instanceof RangeError ? e : new RangeError(`${pkg}: KeyValue: ${(e as Error).message}`);
  }
  r.pos = end;
  return kv;
};

// --- ResponseHeader ------------------------------------------------------------------------------

function writeResponseHeader(w: Writer, m: ResponseHeader): void {
  u64(w, 1, m.clusterId);
  u64(w, 2, m.memberId);
  i64n(w, 3, m.revision);
  u64n(w, 4, m.raftTerm);
}

const responseHeaderFields: FieldTypes = { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT };

const readResponseHeader: ReadTo<ResponseHeader> = (r, end, m = newResponseHeader()) => {
  readFields(r, end, "ResponseHeader", responseHeaderFields, (f) => {
    if (f === 1) m.clusterId = rU64(r);
    else if (f === 2) m.memberId = rU64(r);
    else if (f === 3) m.revision = rI64n(r);
    else m.raftTerm = rU64n(r);
  });
  return m;
};

export const encodeResponseHeader = (m: ResponseHeader): Uint8Array => encodeWith(writeResponseHeader, m);
export const decodeResponseHeader = (b: Uint8Array): ResponseHeader => decodeWith(readResponseHeader, b);

// --- RangeRequest / RangeResponse ----------------------------------------------------------------

function writeRangeRequest(w: Writer, m: RangeRequest): void {
  writeBytes(w, 1, m.key);
  writeBytes(w, 2, m.rangeEnd);
  i64n(w, 3, m.limit);
  i64n(w, 4, m.revision);
  enm(w, 5, m.sortOrder);
  enm(w, 6, m.sortTarget);
  writeBool(w, 7, m.serializable);
  writeBool(w, 8, m.keysOnly);
  writeBool(w, 9, m.countOnly);
  i64n(w, 10, m.minModRevision);
  i64n(w, 11, m.maxModRevision);
  i64n(w, 12, m.minCreateRevision);
  i64n(w, 13, m.maxCreateRevision);
}

const rangeRequestFields: FieldTypes = {
  1: LEN,
  2: LEN,
  3: VARINT,
  4: VARINT,
  5: VARINT,
  6: VARINT,
  7: VARINT,
  8: VARINT,
  9: VARINT,
  10: VARINT,
  11: VARINT,
  12: VARINT,
  13: VARINT,
};

const readRangeRequest: ReadTo<RangeRequest> = (r, end, m = newRangeRequest()) => {
  readFields(r, end, "RangeRequest", rangeRequestFields, (f) => {
    switch (f) {
      case 1:
        m.key = rBytes(r);
        break;
      case 2:
        m.rangeEnd = rBytes(r);
        break;
      case 3:
        m.limit = rI64n(r);
        break;
      case 4:
        m.revision = rI64n(r);
        break;
      case 5:
        m.sortOrder = rEnum(r);
        break;
      case 6:
        m.sortTarget = rEnum(r);
        break;
      case 7:
        m.serializable = rBool(r);
        break;
      case 8:
        m.keysOnly = rBool(r);
        break;
      case 9:
        m.countOnly = rBool(r);
        break;
      case 10:
        m.minModRevision = rI64n(r);
        break;
      case 11:
        m.maxModRevision = rI64n(r);
        break;
      case 12:
        m.minCreateRevision = rI64n(r);
        break;
      default:
        m.maxCreateRevision = rI64n(r);
    }
  });
  return m;
};

export const encodeRangeRequest = (m: RangeRequest): Uint8Array => encodeWith(writeRangeRequest, m);
export const decodeRangeRequest = (b: Uint8Array): RangeRequest => decodeWith(readRangeRequest, b);

function writeRangeResponse(w: Writer, m: RangeResponse): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
  for (const kv of m.kvs) writeMessage(w, 2, kv, encodeKeyValueTo);
  writeBool(w, 3, m.more);
  i64n(w, 4, m.count);
}

const rangeResponseFields: FieldTypes = { 1: LEN, 2: LEN, 3: VARINT, 4: VARINT };

const readRangeResponse: ReadTo<RangeResponse> = (r, end, m = newRangeResponse()) => {
  readFields(r, end, "RangeResponse", rangeResponseFields, (f) => {
    if (f === 1) m.header = readSub(r, readResponseHeader, m.header);
    else if (f === 2) m.kvs.push(readSub(r, readKeyValue));
    else if (f === 3) m.more = rBool(r);
    else m.count = rI64n(r);
  });
  return m;
};

export const encodeRangeResponse = (m: RangeResponse): Uint8Array => encodeWith(writeRangeResponse, m);
export const decodeRangeResponse = (b: Uint8Array): RangeResponse => decodeWith(readRangeResponse, b);

// --- PutRequest / PutResponse --------------------------------------------------------------------

function writePutRequest(w: Writer, m: PutRequest): void {
  writeBytes(w, 1, m.key);
  writeBytes(w, 2, m.value);
  i64(w, 3, m.lease);
  writeBool(w, 4, m.prevKv);
  writeBool(w, 5, m.ignoreValue);
  writeBool(w, 6, m.ignoreLease);
}

const putRequestFields: FieldTypes = { 1: LEN, 2: LEN, 3: VARINT, 4: VARINT, 5: VARINT, 6: VARINT };

const readPutRequest: ReadTo<PutRequest> = (r, end, m = newPutRequest()) => {
  readFields(r, end, "PutRequest", putRequestFields, (f) => {
    if (f === 1) m.key = rBytes(r);
    else if (f === 2) m.value = rBytes(r);
    else if (f === 3) m.lease = rI64(r);
    else if (f === 4) m.prevKv = rBool(r);
    else if (f === 5) m.ignoreValue = rBool(r);
    else m.ignoreLease = rBool(r);
  });
  return m;
};

export const encodePutRequest = (m: PutRequest): Uint8Array => encodeWith(writePutRequest, m);
export const decodePutRequest = (b: Uint8Array): PutRequest => decodeWith(readPutRequest, b);

function writePutResponse(w: Writer, m: PutResponse): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
  if (m.prevKv !== undefined) writeMessage(w, 2, m.prevKv, encodeKeyValueTo);
}

const putResponseFields: FieldTypes = { 1: LEN, 2: LEN };

const readPutResponse: ReadTo<PutResponse> = (r, end, m = newPutResponse()) => {
  readFields(r, end, "PutResponse", putResponseFields, (f) => {
    if (f === 1) m.header = readSub(r, readResponseHeader, m.header);
    else m.prevKv = readSub(r, readKeyValue, m.prevKv);
  });
  return m;
};

export const encodePutResponse = (m: PutResponse): Uint8Array => encodeWith(writePutResponse, m);
export const decodePutResponse = (b: Uint8Array): PutResponse => decodeWith(readPutResponse, b);

// --- DeleteRangeRequest / DeleteRangeResponse ----------------------------------------------------

function writeDeleteRangeRequest(w: Writer, m: DeleteRangeRequest): void {
  writeBytes(w, 1, m.key);
  writeBytes(w, 2, m.rangeEnd);
  writeBool(w, 3, m.prevKv);
}

const deleteRangeRequestFields: FieldTypes = { 1: LEN, 2: LEN, 3: VARINT };

const readDeleteRangeRequest: ReadTo<DeleteRangeRequest> = (r, end, m = newDeleteRangeRequest()) => {
  readFields(r, end, "DeleteRangeRequest", deleteRangeRequestFields, (f) => {
    if (f === 1) m.key = rBytes(r);
    else if (f === 2) m.rangeEnd = rBytes(r);
    else m.prevKv = rBool(r);
  });
  return m;
};

export const encodeDeleteRangeRequest = (m: DeleteRangeRequest): Uint8Array => encodeWith(writeDeleteRangeRequest, m);
export const decodeDeleteRangeRequest = (b: Uint8Array): DeleteRangeRequest => decodeWith(readDeleteRangeRequest, b);

function writeDeleteRangeResponse(w: Writer, m: DeleteRangeResponse): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
  i64n(w, 2, m.deleted);
  for (const kv of m.prevKvs) writeMessage(w, 3, kv, encodeKeyValueTo);
}

const deleteRangeResponseFields: FieldTypes = { 1: LEN, 2: VARINT, 3: LEN };

const readDeleteRangeResponse: ReadTo<DeleteRangeResponse> = (r, end, m = newDeleteRangeResponse()) => {
  readFields(r, end, "DeleteRangeResponse", deleteRangeResponseFields, (f) => {
    if (f === 1) m.header = readSub(r, readResponseHeader, m.header);
    else if (f === 2) m.deleted = rI64n(r);
    else m.prevKvs.push(readSub(r, readKeyValue));
  });
  return m;
};

export const encodeDeleteRangeResponse = (m: DeleteRangeResponse): Uint8Array =>
  encodeWith(writeDeleteRangeResponse, m);
export const decodeDeleteRangeResponse = (b: Uint8Array): DeleteRangeResponse =>
  decodeWith(readDeleteRangeResponse, b);

// --- RequestOp / ResponseOp ----------------------------------------------------------------------

function writeRequestOp(w: Writer, m: RequestOp): void {
  checkOneof("RequestOp", "request", m.requestRange, m.requestPut, m.requestDeleteRange, m.requestTxn);
  if (m.requestRange !== undefined) writeMessage(w, 1, m.requestRange, writeRangeRequest);
  if (m.requestPut !== undefined) writeMessage(w, 2, m.requestPut, writePutRequest);
  if (m.requestDeleteRange !== undefined) writeMessage(w, 3, m.requestDeleteRange, writeDeleteRangeRequest);
  if (m.requestTxn !== undefined) writeMessage(w, 4, m.requestTxn, writeTxnRequest);
}

const opFields: FieldTypes = { 1: LEN, 2: LEN, 3: LEN, 4: LEN };

/** Reads a RequestOp; a later oneof member replaces the earlier one, so `into` is replaced, not merged. */
const readRequestOp: ReadTo<RequestOp> = (r, end) => {
  let m: RequestOp = {};
  readFields(r, end, "RequestOp", opFields, (f) => {
    if (f === 1) m = { requestRange: readSub(r, readRangeRequest) };
    else if (f === 2) m = { requestPut: readSub(r, readPutRequest) };
    else if (f === 3) m = { requestDeleteRange: readSub(r, readDeleteRangeRequest) };
    else m = { requestTxn: readSub(r, readTxnRequest) };
  });
  return m;
};

export const encodeRequestOp = (m: RequestOp): Uint8Array => encodeWith(writeRequestOp, m);
export const decodeRequestOp = (b: Uint8Array): RequestOp => decodeWith(readRequestOp, b);

function writeResponseOp(w: Writer, m: ResponseOp): void {
  checkOneof("ResponseOp", "response", m.responseRange, m.responsePut, m.responseDeleteRange, m.responseTxn);
  if (m.responseRange !== undefined) writeMessage(w, 1, m.responseRange, writeRangeResponse);
  if (m.responsePut !== undefined) writeMessage(w, 2, m.responsePut, writePutResponse);
  if (m.responseDeleteRange !== undefined) writeMessage(w, 3, m.responseDeleteRange, writeDeleteRangeResponse);
  if (m.responseTxn !== undefined) writeMessage(w, 4, m.responseTxn, writeTxnResponse);
}

/** Reads a ResponseOp; as {@link readRequestOp}, a later member replaces the earlier one. */
const readResponseOp: ReadTo<ResponseOp> = (r, end) => {
  let m: ResponseOp = {};
  readFields(r, end, "ResponseOp", opFields, (f) => {
    if (f === 1) m = { responseRange: readSub(r, readRangeResponse) };
    else if (f === 2) m = { responsePut: readSub(r, readPutResponse) };
    else if (f === 3) m = { responseDeleteRange: readSub(r, readDeleteRangeResponse) };
    else m = { responseTxn: readSub(r, readTxnResponse) };
  });
  return m;
};

export const encodeResponseOp = (m: ResponseOp): Uint8Array => encodeWith(writeResponseOp, m);
export const decodeResponseOp = (b: Uint8Array): ResponseOp => decodeWith(readResponseOp, b);

// --- Compare -------------------------------------------------------------------------------------

/** Writes a set oneof member of type int64 even when it is zero (gogoproto writes every set member). */
function writeInt64Member(w: Writer, field: number, v: bigint): void {
  if (v === 0n) w.uint32(field << 3).uint32(0);
  else i64(w, field, v);
}

function safeBig(v: number): bigint {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${pkg}: not a safe integer: ${v}`);
  return BigInt(v);
}

function writeCompare(w: Writer, m: Compare): void {
  checkOneof("Compare", "target_union", m.version, m.createRevision, m.modRevision, m.value, m.lease);
  enm(w, 1, m.result);
  enm(w, 2, m.target);
  writeBytes(w, 3, m.key);
  if (m.version !== undefined) writeInt64Member(w, 4, safeBig(m.version));
  if (m.createRevision !== undefined) writeInt64Member(w, 5, safeBig(m.createRevision));
  if (m.modRevision !== undefined) writeInt64Member(w, 6, safeBig(m.modRevision));
  if (m.value !== undefined) w.uint32((7 << 3) | LEN).bytes(m.value);
  if (m.lease !== undefined) writeInt64Member(w, 8, m.lease);
  writeBytes(w, 64, m.rangeEnd);
}

const compareFields: FieldTypes = {
  1: VARINT,
  2: VARINT,
  3: LEN,
  4: VARINT,
  5: VARINT,
  6: VARINT,
  7: LEN,
  8: VARINT,
  64: LEN,
};

function clearTargetUnion(m: Compare): void {
  delete m.version;
  delete m.createRevision;
  delete m.modRevision;
  delete m.value;
  delete m.lease;
}

const readCompare: ReadTo<Compare> = (r, end, m = newCompare()) => {
  readFields(r, end, "Compare", compareFields, (f) => {
    if (f >= 4 && f <= 8) clearTargetUnion(m);
    switch (f) {
      case 1:
        m.result = rEnum(r);
        break;
      case 2:
        m.target = rEnum(r);
        break;
      case 3:
        m.key = rBytes(r);
        break;
      case 4:
        m.version = rI64n(r);
        break;
      case 5:
        m.createRevision = rI64n(r);
        break;
      case 6:
        m.modRevision = rI64n(r);
        break;
      case 7:
        m.value = rBytes(r);
        break;
      case 8:
        m.lease = rI64(r);
        break;
      default:
        m.rangeEnd = rBytes(r);
    }
  });
  return m;
};

export const encodeCompare = (m: Compare): Uint8Array => encodeWith(writeCompare, m);
export const decodeCompare = (b: Uint8Array): Compare => decodeWith(readCompare, b);

// --- TxnRequest / TxnResponse --------------------------------------------------------------------

function writeTxnRequest(w: Writer, m: TxnRequest): void {
  for (const c of m.compare) writeMessage(w, 1, c, writeCompare);
  for (const op of m.success) writeMessage(w, 2, op, writeRequestOp);
  for (const op of m.failure) writeMessage(w, 3, op, writeRequestOp);
}

const txnRequestFields: FieldTypes = { 1: LEN, 2: LEN, 3: LEN };

function readTxnRequest(r: Reader, end: number, m: TxnRequest = newTxnRequest()): TxnRequest {
  readFields(r, end, "TxnRequest", txnRequestFields, (f) => {
    if (f === 1) m.compare.push(readSub(r, readCompare));
    else if (f === 2) m.success.push(readSub(r, readRequestOp));
    else m.failure.push(readSub(r, readRequestOp));
  });
  return m;
}

export const encodeTxnRequest = (m: TxnRequest): Uint8Array => encodeWith(writeTxnRequest, m);
export const decodeTxnRequest = (b: Uint8Array): TxnRequest => decodeWith(readTxnRequest, b);

function writeTxnResponse(w: Writer, m: TxnResponse): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
  writeBool(w, 2, m.succeeded);
  for (const op of m.responses) writeMessage(w, 3, op, writeResponseOp);
}

const txnResponseFields: FieldTypes = { 1: LEN, 2: VARINT, 3: LEN };

function readTxnResponse(r: Reader, end: number, m: TxnResponse = newTxnResponse()): TxnResponse {
  readFields(r, end, "TxnResponse", txnResponseFields, (f) => {
    if (f === 1) m.header = readSub(r, readResponseHeader, m.header);
    else if (f === 2) m.succeeded = rBool(r);
    else m.responses.push(readSub(r, readResponseOp));
  });
  return m;
}

export const encodeTxnResponse = (m: TxnResponse): Uint8Array => encodeWith(writeTxnResponse, m);
export const decodeTxnResponse = (b: Uint8Array): TxnResponse => decodeWith(readTxnResponse, b);

// --- CompactionRequest / CompactionResponse ------------------------------------------------------

function writeCompactionRequest(w: Writer, m: CompactionRequest): void {
  i64n(w, 1, m.revision);
  writeBool(w, 2, m.physical);
}

const compactionRequestFields: FieldTypes = { 1: VARINT, 2: VARINT };

const readCompactionRequest: ReadTo<CompactionRequest> = (r, end, m = newCompactionRequest()) => {
  readFields(r, end, "CompactionRequest", compactionRequestFields, (f) => {
    if (f === 1) m.revision = rI64n(r);
    else m.physical = rBool(r);
  });
  return m;
};

export const encodeCompactionRequest = (m: CompactionRequest): Uint8Array => encodeWith(writeCompactionRequest, m);
export const decodeCompactionRequest = (b: Uint8Array): CompactionRequest => decodeWith(readCompactionRequest, b);

/** The fields of a response that is only a header (CompactionResponse, LeaseRevokeResponse). */
const headerOnlyFields: FieldTypes = { 1: LEN };

function writeHeaderOnly(w: Writer, m: { header: ResponseHeader }): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
}

const readCompactionResponse: ReadTo<CompactionResponse> = (r, end, m = newCompactionResponse()) => {
  readFields(r, end, "CompactionResponse", headerOnlyFields, () => {
    m.header = readSub(r, readResponseHeader, m.header);
  });
  return m;
};

export const encodeCompactionResponse = (m: CompactionResponse): Uint8Array => encodeWith(writeHeaderOnly, m);
export const decodeCompactionResponse = (b: Uint8Array): CompactionResponse => decodeWith(readCompactionResponse, b);

// --- Lease ---------------------------------------------------------------------------------------

function writeLeaseGrantRequest(w: Writer, m: LeaseGrantRequest): void {
  i64n(w, 1, m.TTL);
  i64(w, 2, m.ID);
}

const twoVarints: FieldTypes = { 1: VARINT, 2: VARINT };

const readLeaseGrantRequest: ReadTo<LeaseGrantRequest> = (r, end, m = newLeaseGrantRequest()) => {
  readFields(r, end, "LeaseGrantRequest", twoVarints, (f) => {
    if (f === 1) m.TTL = rI64n(r);
    else m.ID = rI64(r);
  });
  return m;
};

export const encodeLeaseGrantRequest = (m: LeaseGrantRequest): Uint8Array => encodeWith(writeLeaseGrantRequest, m);
export const decodeLeaseGrantRequest = (b: Uint8Array): LeaseGrantRequest => decodeWith(readLeaseGrantRequest, b);

function writeLeaseGrantResponse(w: Writer, m: LeaseGrantResponse): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
  i64(w, 2, m.ID);
  i64n(w, 3, m.TTL);
  writeString(w, 4, m.error);
}

const leaseGrantResponseFields: FieldTypes = { 1: LEN, 2: VARINT, 3: VARINT, 4: LEN };

const readLeaseGrantResponse: ReadTo<LeaseGrantResponse> = (r, end, m = newLeaseGrantResponse()) => {
  readFields(r, end, "LeaseGrantResponse", leaseGrantResponseFields, (f) => {
    if (f === 1) m.header = readSub(r, readResponseHeader, m.header);
    else if (f === 2) m.ID = rI64(r);
    else if (f === 3) m.TTL = rI64n(r);
    else m.error = rString(r);
  });
  return m;
};

export const encodeLeaseGrantResponse = (m: LeaseGrantResponse): Uint8Array => encodeWith(writeLeaseGrantResponse, m);
export const decodeLeaseGrantResponse = (b: Uint8Array): LeaseGrantResponse => decodeWith(readLeaseGrantResponse, b);

function writeLeaseRevokeRequest(w: Writer, m: LeaseRevokeRequest): void {
  i64(w, 1, m.ID);
}

const oneVarint: FieldTypes = { 1: VARINT };

const readLeaseRevokeRequest: ReadTo<LeaseRevokeRequest> = (r, end, m = newLeaseRevokeRequest()) => {
  readFields(r, end, "LeaseRevokeRequest", oneVarint, () => {
    m.ID = rI64(r);
  });
  return m;
};

export const encodeLeaseRevokeRequest = (m: LeaseRevokeRequest): Uint8Array => encodeWith(writeLeaseRevokeRequest, m);
export const decodeLeaseRevokeRequest = (b: Uint8Array): LeaseRevokeRequest => decodeWith(readLeaseRevokeRequest, b);

const readLeaseRevokeResponse: ReadTo<LeaseRevokeResponse> = (r, end, m = newLeaseRevokeResponse()) => {
  readFields(r, end, "LeaseRevokeResponse", headerOnlyFields, () => {
    m.header = readSub(r, readResponseHeader, m.header);
  });
  return m;
};

export const encodeLeaseRevokeResponse = (m: LeaseRevokeResponse): Uint8Array => encodeWith(writeHeaderOnly, m);
export const decodeLeaseRevokeResponse = (b: Uint8Array): LeaseRevokeResponse =>
  decodeWith(readLeaseRevokeResponse, b);

function writeLeaseCheckpoint(w: Writer, m: LeaseCheckpoint): void {
  i64(w, 1, m.ID);
  i64n(w, 2, m.remainingTTL);
}

const readLeaseCheckpoint: ReadTo<LeaseCheckpoint> = (r, end, m = newLeaseCheckpoint()) => {
  readFields(r, end, "LeaseCheckpoint", twoVarints, (f) => {
    if (f === 1) m.ID = rI64(r);
    else m.remainingTTL = rI64n(r);
  });
  return m;
};

export const encodeLeaseCheckpoint = (m: LeaseCheckpoint): Uint8Array => encodeWith(writeLeaseCheckpoint, m);
export const decodeLeaseCheckpoint = (b: Uint8Array): LeaseCheckpoint => decodeWith(readLeaseCheckpoint, b);

function writeLeaseCheckpointRequest(w: Writer, m: LeaseCheckpointRequest): void {
  for (const c of m.checkpoints) writeMessage(w, 1, c, writeLeaseCheckpoint);
}

const oneLen: FieldTypes = { 1: LEN };

const readLeaseCheckpointRequest: ReadTo<LeaseCheckpointRequest> = (r, end, m = newLeaseCheckpointRequest()) => {
  readFields(r, end, "LeaseCheckpointRequest", oneLen, () => {
    m.checkpoints.push(readSub(r, readLeaseCheckpoint));
  });
  return m;
};

export const encodeLeaseCheckpointRequest = (m: LeaseCheckpointRequest): Uint8Array =>
  encodeWith(writeLeaseCheckpointRequest, m);
export const decodeLeaseCheckpointRequest = (b: Uint8Array): LeaseCheckpointRequest =>
  decodeWith(readLeaseCheckpointRequest, b);

// --- Alarm ---------------------------------------------------------------------------------------

function writeAlarmRequest(w: Writer, m: AlarmRequest): void {
  enm(w, 1, m.action);
  u64(w, 2, m.memberID);
  enm(w, 3, m.alarm);
}

const threeVarints: FieldTypes = { 1: VARINT, 2: VARINT, 3: VARINT };

const readAlarmRequest: ReadTo<AlarmRequest> = (r, end, m = newAlarmRequest()) => {
  readFields(r, end, "AlarmRequest", threeVarints, (f) => {
    if (f === 1) m.action = rEnum(r);
    else if (f === 2) m.memberID = rU64(r);
    else m.alarm = rEnum(r);
  });
  return m;
};

export const encodeAlarmRequest = (m: AlarmRequest): Uint8Array => encodeWith(writeAlarmRequest, m);
export const decodeAlarmRequest = (b: Uint8Array): AlarmRequest => decodeWith(readAlarmRequest, b);

function writeAlarmMember(w: Writer, m: AlarmMember): void {
  u64(w, 1, m.memberID);
  enm(w, 2, m.alarm);
}

const readAlarmMember: ReadTo<AlarmMember> = (r, end, m = { memberID: 0n, alarm: 0 }) => {
  readFields(r, end, "AlarmMember", twoVarints, (f) => {
    if (f === 1) m.memberID = rU64(r);
    else m.alarm = rEnum(r);
  });
  return m;
};

function writeAlarmResponse(w: Writer, m: AlarmResponse): void {
  writeMessage(w, 1, m.header, writeResponseHeader);
  for (const a of m.alarms) writeMessage(w, 2, a, writeAlarmMember);
}

const alarmResponseFields: FieldTypes = { 1: LEN, 2: LEN };

const readAlarmResponse: ReadTo<AlarmResponse> = (r, end, m = newAlarmResponse()) => {
  readFields(r, end, "AlarmResponse", alarmResponseFields, (f) => {
    if (f === 1) m.header = readSub(r, readResponseHeader, m.header);
    else m.alarms.push(readSub(r, readAlarmMember));
  });
  return m;
};

export const encodeAlarmResponse = (m: AlarmResponse): Uint8Array => encodeWith(writeAlarmResponse, m);
export const decodeAlarmResponse = (b: Uint8Array): AlarmResponse => decodeWith(readAlarmResponse, b);

// --- membershippb --------------------------------------------------------------------------------

function writeAttributes(w: Writer, m: Attributes): void {
  writeString(w, 1, m.name);
  for (const u of m.clientUrls) w.uint32((2 << 3) | LEN).string(u);
}

const attributesFields: FieldTypes = { 1: LEN, 2: LEN };

const readAttributes: ReadTo<Attributes> = (r, end, m = newAttributes()) => {
  readFields(r, end, "Attributes", attributesFields, (f) => {
    if (f === 1) m.name = rString(r);
    else m.clientUrls.push(rString(r));
  });
  return m;
};

function writeClusterMemberAttrSetRequest(w: Writer, m: ClusterMemberAttrSetRequest): void {
  u64(w, 1, m.memberID);
  if (m.memberAttributes !== undefined) writeMessage(w, 2, m.memberAttributes, writeAttributes);
}

const clusterMemberAttrSetFields: FieldTypes = { 1: VARINT, 2: LEN };

const readClusterMemberAttrSetRequest: ReadTo<ClusterMemberAttrSetRequest> = (
  r,
  end,
  m = newClusterMemberAttrSetRequest(),
) => {
  readFields(r, end, "ClusterMemberAttrSetRequest", clusterMemberAttrSetFields, (f) => {
    if (f === 1) m.memberID = rU64(r);
    else m.memberAttributes = readSub(r, readAttributes, m.memberAttributes);
  });
  return m;
};

export const encodeClusterMemberAttrSetRequest = (m: ClusterMemberAttrSetRequest): Uint8Array =>
  encodeWith(writeClusterMemberAttrSetRequest, m);
export const decodeClusterMemberAttrSetRequest = (b: Uint8Array): ClusterMemberAttrSetRequest =>
  decodeWith(readClusterMemberAttrSetRequest, b);

function writeClusterVersionSetRequest(w: Writer, m: ClusterVersionSetRequest): void {
  writeString(w, 1, m.ver);
}

const readClusterVersionSetRequest: ReadTo<ClusterVersionSetRequest> = (
  r,
  end,
  m = newClusterVersionSetRequest(),
) => {
  readFields(r, end, "ClusterVersionSetRequest", oneLen, () => {
    m.ver = rString(r);
  });
  return m;
};

export const encodeClusterVersionSetRequest = (m: ClusterVersionSetRequest): Uint8Array =>
  encodeWith(writeClusterVersionSetRequest, m);
export const decodeClusterVersionSetRequest = (b: Uint8Array): ClusterVersionSetRequest =>
  decodeWith(readClusterVersionSetRequest, b);

// --- RequestHeader / InternalRaftRequest ---------------------------------------------------------

function writeRequestHeader(w: Writer, m: RequestHeader): void {
  u64(w, 1, m.ID);
  writeString(w, 2, m.username);
  u64n(w, 3, m.authRevision);
}

const requestHeaderFields: FieldTypes = { 1: VARINT, 2: LEN, 3: VARINT };

const readRequestHeader: ReadTo<RequestHeader> = (r, end, m = newRequestHeader()) => {
  readFields(r, end, "RequestHeader", requestHeaderFields, (f) => {
    if (f === 1) m.ID = rU64(r);
    else if (f === 2) m.username = rString(r);
    else m.authRevision = rU64n(r);
  });
  return m;
};

export const encodeRequestHeader = (m: RequestHeader): Uint8Array => encodeWith(writeRequestHeader, m);
export const decodeRequestHeader = (b: Uint8Array): RequestHeader => decodeWith(readRequestHeader, b);

function writeInternalRaftRequest(w: Writer, m: InternalRaftRequest): void {
  u64(w, 1, m.ID);
  if (m.range !== undefined) writeMessage(w, 3, m.range, writeRangeRequest);
  if (m.put !== undefined) writeMessage(w, 4, m.put, writePutRequest);
  if (m.deleteRange !== undefined) writeMessage(w, 5, m.deleteRange, writeDeleteRangeRequest);
  if (m.txn !== undefined) writeMessage(w, 6, m.txn, writeTxnRequest);
  if (m.compaction !== undefined) writeMessage(w, 7, m.compaction, writeCompactionRequest);
  if (m.leaseGrant !== undefined) writeMessage(w, 8, m.leaseGrant, writeLeaseGrantRequest);
  if (m.leaseRevoke !== undefined) writeMessage(w, 9, m.leaseRevoke, writeLeaseRevokeRequest);
  if (m.alarm !== undefined) writeMessage(w, 10, m.alarm, writeAlarmRequest);
  if (m.leaseCheckpoint !== undefined) writeMessage(w, 11, m.leaseCheckpoint, writeLeaseCheckpointRequest);
  if (m.header !== undefined) writeMessage(w, 100, m.header, writeRequestHeader);
  if (m.clusterVersionSet !== undefined) writeMessage(w, 1300, m.clusterVersionSet, writeClusterVersionSetRequest);
  if (m.clusterMemberAttrSet !== undefined) {
    writeMessage(w, 1301, m.clusterMemberAttrSet, writeClusterMemberAttrSetRequest);
  }
}

const internalRaftRequestFields: FieldTypes = {
  1: VARINT,
  3: LEN,
  4: LEN,
  5: LEN,
  6: LEN,
  7: LEN,
  8: LEN,
  9: LEN,
  10: LEN,
  11: LEN,
  100: LEN,
  1300: LEN,
  1301: LEN,
};

const readInternalRaftRequest: ReadTo<InternalRaftRequest> = (r, end, m = newInternalRaftRequest()) => {
  readFields(r, end, "InternalRaftRequest", internalRaftRequestFields, (f) => {
    switch (f) {
      case 1:
        m.ID = rU64(r);
        break;
      case 3:
        m.range = readSub(r, readRangeRequest, m.range);
        break;
      case 4:
        m.put = readSub(r, readPutRequest, m.put);
        break;
      case 5:
        m.deleteRange = readSub(r, readDeleteRangeRequest, m.deleteRange);
        break;
      case 6:
        m.txn = readSub(r, readTxnRequest, m.txn);
        break;
      case 7:
        m.compaction = readSub(r, readCompactionRequest, m.compaction);
        break;
      case 8:
        m.leaseGrant = readSub(r, readLeaseGrantRequest, m.leaseGrant);
        break;
      case 9:
        m.leaseRevoke = readSub(r, readLeaseRevokeRequest, m.leaseRevoke);
        break;
      case 10:
        m.alarm = readSub(r, readAlarmRequest, m.alarm);
        break;
      case 11:
        m.leaseCheckpoint = readSub(r, readLeaseCheckpointRequest, m.leaseCheckpoint);
        break;
      case 100:
        m.header = readSub(r, readRequestHeader, m.header);
        break;
      case 1300:
        m.clusterVersionSet = readSub(r, readClusterVersionSetRequest, m.clusterVersionSet);
        break;
      default:
        m.clusterMemberAttrSet = readSub(r, readClusterMemberAttrSetRequest, m.clusterMemberAttrSet);
    }
  });
  return m;
};

/** The bytes etcd stores as the data of a normal raft entry. */
export const encodeInternalRaftRequest = (m: InternalRaftRequest): Uint8Array =>
  encodeWith(writeInternalRaftRequest, m);
/** Decodes a normal raft entry's data; fields this codec does not model (auth, v2) are dropped. */
export const decodeInternalRaftRequest = (b: Uint8Array): InternalRaftRequest =>
  decodeWith(readInternalRaftRequest, b);
