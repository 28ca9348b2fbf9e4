/**
 * The protobuf messages of etcd's lease forwarding over the peer port (lease/leasehttp): the
 * etcdserverpb LeaseKeepAlive and LeaseTimeToLive messages and leasepb's Internal wrappers.
 *
 * ```
 * etcdserverpb.LeaseKeepAliveRequest   { int64 ID = 1; }
 * etcdserverpb.LeaseKeepAliveResponse  { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; }
 * etcdserverpb.LeaseTimeToLiveRequest  { int64 ID = 1; bool keys = 2; }
 * etcdserverpb.LeaseTimeToLiveResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3;
 *                                        int64 grantedTTL = 4; repeated bytes keys = 5; }
 * leasepb.LeaseInternalRequest  { etcdserverpb.LeaseTimeToLiveRequest  LeaseTimeToLiveRequest = 1; }
 * leasepb.LeaseInternalResponse { etcdserverpb.LeaseTimeToLiveResponse LeaseTimeToLiveResponse = 1; }
 * ```
 *
 * Bytes are gogoproto's: fields in order, zero scalars not written, negative int64s as 10-byte
 * varints. The response header is never filled on this path (etcd's "TODO: fill out
 * ResponseHeader"): a KeepAlive response has none, a TimeToLive response an empty one (`0a 00`),
 * and decoding skips it, leaving zeros — the caller fills the header it answers its client with.
 * The types are structurally those of src/api/etcdserverpb/rpc.ts; src/lease does not import the
 * API layer.
 */
import {
  expectWireType,
  LEN,
  Reader,
  readBool,
  readBytes,
  readInt64,
  readInt64Num,
  readLength,
  readTag,
  skipField,
  VARINT,
  writeBool,
  writeInt64,
  writeInt64Num,
  Writer,
} from "../pb/wire.js";

const pkg = "etcdserverpb";

export interface ResponseHeaderFields {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export interface LeaseKeepAliveRequest {
  ID: bigint;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeaderFields;
  ID: bigint;
  /** Seconds. */
  TTL: number;
}

export interface LeaseTimeToLiveRequest {
  ID: bigint;
  keys: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeaderFields;
  ID: bigint;
  /** Seconds left. */
  TTL: number;
  /** Seconds, as granted. */
  grantedTTL: number;
  keys: Uint8Array[];
}

const emptyHeader = (): ResponseHeaderFields => ({ clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 });

/** Calls `onField(field, wireType)` for each field in `[r.pos, end)`; it must consume the value or return false to skip it. */
function eachField(r: Reader, end: number, onField: (field: number, wt: number) => boolean): void {
  while (r.pos < end) {
    const [field, wt] = readTag(r, pkg);
    if (!onField(field, wt)) skipField(r, field, wt, pkg);
  }
  if (r.pos !== end) throw new RangeError(`${pkg}: message overruns its length`);
}

function finish(w: Writer): Uint8Array {
  return w.finish();
}

// --- LeaseKeepAlive ------------------------------------------------------------------------------

export function encodeLeaseKeepAliveRequest(m: LeaseKeepAliveRequest): Uint8Array {
  const w = Writer.create();
  writeInt64(w, 1, m.ID, pkg);
  return finish(w);
}

export function decodeLeaseKeepAliveRequest(b: Uint8Array): LeaseKeepAliveRequest {
  const r = Reader.create(b);
  const m: LeaseKeepAliveRequest = { ID: 0n };
  eachField(r, b.length, (f, wt) => {
    if (f !== 1) return false;
    expectWireType(pkg, "LeaseKeepAliveRequest", f, wt, VARINT);
    m.ID = readInt64(r, pkg);
    return true;
  });
  return m;
}

/** The response as etcd's lease handler writes it: no header, then ID and TTL. */
export function encodeLeaseKeepAliveResponse(m: LeaseKeepAliveResponse): Uint8Array {
  const w = Writer.create();
  writeInt64(w, 2, m.ID, pkg);
  writeInt64Num(w, 3, m.TTL, pkg);
  return finish(w);
}

export function decodeLeaseKeepAliveResponse(b: Uint8Array): LeaseKeepAliveResponse {
  const r = Reader.create(b);
  const m: LeaseKeepAliveResponse = { header: emptyHeader(), ID: 0n, TTL: 0 };
  eachField(r, b.length, (f, wt) => {
    if (f === 1) {
      expectWireType(pkg, "LeaseKeepAliveResponse", f, wt, LEN);
      r.pos = readLength(r, pkg);
    } else if (f === 2 || f === 3) {
      expectWireType(pkg, "LeaseKeepAliveResponse", f, wt, VARINT);
      if (f === 2) m.ID = readInt64(r, pkg);
      else m.TTL = readInt64Num(r, pkg);
    } else return false;
    return true;
  });
  return m;
}

// --- LeaseTimeToLive inside leasepb's LeaseInternalRequest / LeaseInternalResponse ----------------

function writeTimeToLiveRequest(w: Writer, m: LeaseTimeToLiveRequest): void {
  writeInt64(w, 1, m.ID, pkg);
  writeBool(w, 2, m.keys);
}

function readTimeToLiveRequest(r: Reader, end: number, m: LeaseTimeToLiveRequest): void {
  eachField(r, end, (f, wt) => {
    if (f !== 1 && f !== 2) return false;
    expectWireType(pkg, "LeaseTimeToLiveRequest", f, wt, VARINT);
    if (f === 1) m.ID = readInt64(r, pkg);
    else m.keys = readBool(r, pkg);
    return true;
  });
}

/** Writes the response with an empty header (etcd's `Header: &pb.ResponseHeader{}`). */
function writeTimeToLiveResponse(w: Writer, m: LeaseTimeToLiveResponse): void {
  w.uint32((1 << 3) | LEN).uint32(0);
  writeInt64(w, 2, m.ID, pkg);
  writeInt64Num(w, 3, m.TTL, pkg);
  writeInt64Num(w, 4, m.grantedTTL, pkg);
  // Every element of a repeated bytes field is written, empty ones too.
  for (const k of m.keys) w.uint32((5 << 3) | LEN).bytes(k);
}

function readTimeToLiveResponse(r: Reader, end: number, m: LeaseTimeToLiveResponse): void {
  eachField(r, end, (f, wt) => {
    const msg = "LeaseTimeToLiveResponse";
    if (f === 1) {
      expectWireType(pkg, msg, f, wt, LEN);
      r.pos = readLength(r, pkg);
    } else if (f >= 2 && f <= 4) {
      expectWireType(pkg, msg, f, wt, VARINT);
      if (f === 2) m.ID = readInt64(r, pkg);
      else if (f === 3) m.TTL = readInt64Num(r, pkg);
      else m.grantedTTL = readInt64Num(r, pkg);
    } else if (f === 5) {
      expectWireType(pkg, msg, f, wt, LEN);
      m.keys.push(readBytes(r, pkg));
    } else return false;
    return true;
  });
}

/** leasepb.LeaseInternalRequest carrying `m`. */
export function encodeLeaseInternalRequest(m: LeaseTimeToLiveRequest): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | LEN).fork();
  writeTimeToLiveRequest(w, m);
  w.ldelim();
  return finish(w);
}

/**
 * The LeaseTimeToLiveRequest inside a leasepb.LeaseInternalRequest; undefined when the field is
 * absent (etcd's handler would dereference nil there; ours answers 400).
 */
export function decodeLeaseInternalRequest(b: Uint8Array): LeaseTimeToLiveRequest | undefined {
  const r = Reader.create(b);
  let m: LeaseTimeToLiveRequest | undefined;
  eachField(r, b.length, (f, wt) => {
    if (f !== 1) return false;
    expectWireType("leasepb", "LeaseInternalRequest", f, wt, LEN);
    const end = readLength(r, pkg);
    m ??= { ID: 0n, keys: false };
    readTimeToLiveRequest(r, end, m);
    return true;
  });
  return m;
}

/** leasepb.LeaseInternalResponse carrying `m` (its header written empty). */
export function encodeLeaseInternalResponse(m: LeaseTimeToLiveResponse): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | LEN).fork();
  writeTimeToLiveResponse(w, m);
  w.ldelim();
  return finish(w);
}

/** The LeaseTimeToLiveResponse inside a leasepb.LeaseInternalResponse; undefined when absent. */
export function decodeLeaseInternalResponse(b: Uint8Array): LeaseTimeToLiveResponse | undefined {
  const r = Reader.create(b);
  let m: LeaseTimeToLiveResponse | undefined;
  eachField(r, b.length, (f, wt) => {
    if (f !== 1) return false;
    expectWireType("leasepb", "LeaseInternalResponse", f, wt, LEN);
    const end = readLength(r, pkg);
    m ??= { header: emptyHeader(), ID: 0n, TTL: 0, grantedTTL: 0, keys: [] };
    readTimeToLiveResponse(r, end, m);
    return true;
  });
  return m;
}
