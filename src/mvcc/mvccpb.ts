/**
 * mvccpb (etcd api/mvccpb/kv.proto): the KeyValue every revision of a key is stored as, and the
 * Event a watcher receives. Revisions and versions are `number` (safe integers); the lease id is a
 * `bigint` (int64). The byte codec is etcd's: MVCC stores `encodeKeyValue(kv)` in the backend's
 * `key` bucket under the revision, so hashes over the backend are computed on the same bytes etcd
 * writes.
 */
import {
  LEN,
  Reader,
  readInt64 as readI64,
  readInt64Num,
  VARINT,
  writeBytes,
  writeInt64 as writeI64,
  writeInt64Num,
  Writer,
} from "../pb/wire.js";

export interface KeyValue {
  /** The key; never empty in a stored revision. */
  key: Uint8Array;
  /** Revision of the key's last creation; 0 for a deletion record. */
  createRevision: number;
  /** Revision of the key's last modification (for a deletion: the deletion's revision). */
  modRevision: number;
  /** 1 on creation, +1 per put; 0 in a deletion record. */
  version: number;
  value: Uint8Array;
  /** The attached lease, 0n for none. */
  lease: bigint;
}

export enum EventType {
  PUT = 0,
  DELETE = 1,
}

export interface Event {
  type: EventType;
  kv: KeyValue;
  /** The key-value before the event, when the watcher asked for it and one existed. */
  prevKv?: KeyValue;
}

const empty = new Uint8Array(0);

export function newKeyValue(fields: Partial<KeyValue> = {}): KeyValue {
  return {
    key: fields.key ?? empty,
    createRevision: fields.createRevision ?? 0,
    modRevision: fields.modRevision ?? 0,
    version: fields.version ?? 0,
    value: fields.value ?? empty,
    lease: fields.lease ?? 0n,
  };
}

const pkg = "mvccpb";
const writeInt64 = (w: Writer, field: number, v: bigint): void => writeI64(w, field, v, pkg);
const writeNum = (w: Writer, field: number, v: number): void => writeInt64Num(w, field, v, pkg);
const readInt64 = (r: Reader): bigint => readI64(r, pkg);
const readNum = (r: Reader): number => readInt64Num(r, pkg);

/** Writes the fields of `kv` (not a tag or length) to `w`, as {@link encodeKeyValue} does. */
export function encodeKeyValueTo(w: Writer, kv: KeyValue): void {
  writeBytes(w, 1, kv.key);
  writeNum(w, 2, kv.createRevision);
  writeNum(w, 3, kv.modRevision);
  writeNum(w, 4, kv.version);
  writeBytes(w, 5, kv.value);
  writeInt64(w, 6, kv.lease);
}

/** proto3 bytes of a KeyValue as etcd's gogoproto writes them (fields in order, zero values omitted). */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const w = Writer.create();
  encodeKeyValueTo(w, kv);
  return w.finish();
}

function decodeKeyValueFrom(r: Reader, end: number): KeyValue {
  const kv = newKeyValue();
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    const want = field === 1 || field === 5 ? LEN : field >= 2 && field <= 6 ? VARINT : -1;
    if (want !== -1 && wt !== want) throw new RangeError(`mvccpb: KeyValue field ${field} has wire type ${wt}`);
    switch (field) {
      case 1:
        kv.key = new Uint8Array(r.bytes());
        break;
      case 2:
        kv.createRevision = readNum(r);
        break;
      case 3:
        kv.modRevision = readNum(r);
        break;
      case 4:
        kv.version = readNum(r);
        break;
      case 5:
        kv.value = new Uint8Array(r.bytes());
        break;
      case 6:
        kv.lease = readInt64(r);
        break;
      default:
        r.skipType(wt);
    }
  }
  if (r.pos !== end) throw new RangeError("mvccpb: KeyValue overruns its length");
  return kv;
}

/** Decodes a KeyValue; throws RangeError on malformed bytes. The result owns its arrays. */
export function decodeKeyValue(b: Uint8Array): KeyValue {
  const r = Reader.create(b);
  return decodeKeyValueFrom(r, b.length);
}

export function encodeEvent(ev: Event): Uint8Array {
  const w = Writer.create();
  if (ev.type !== EventType.PUT) w.uint32((1 << 3) | VARINT).int32(ev.type);
  w.uint32((2 << 3) | LEN).fork();
  encodeKeyValueTo(w, ev.kv);
  w.ldelim();
  if (ev.prevKv !== undefined) {
    w.uint32((3 << 3) | LEN).fork();
    encodeKeyValueTo(w, ev.prevKv);
    w.ldelim();
  }
  return w.finish();
}

export function decodeEvent(b: Uint8Array): Event {
  const r = Reader.create(b);
  const ev: Event = { type: EventType.PUT, kv: newKeyValue() };
  while (r.pos < b.length) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === VARINT) ev.type = r.int32() as EventType;
    else if ((field === 2 || field === 3) && wt === LEN) {
      const len = r.uint32();
      const kv = decodeKeyValueFrom(r, r.pos + len);
      if (field === 2) ev.kv = kv;
      else ev.prevKv = kv;
    } else if (field >= 1 && field <= 3) throw new RangeError(`mvccpb: Event field ${field} has wire type ${wt}`);
    else r.skipType(wt);
  }
  return ev;
}

/** A deep copy, so a caller can hand out a KeyValue without sharing arrays with the store. */
export function cloneKeyValue(kv: KeyValue): KeyValue {
  return { ...kv, key: kv.key.slice(), value: kv.value.slice() };
}
