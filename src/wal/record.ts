/**
 * walpb (etcd server/storage/wal/walpb/record.proto, proto2): the record every WAL frame holds and
 * the snapshot marker a snapshot record carries. Byte-exact with etcd 3.5's gogoproto output
 * (`nullable=false`): Record.type and .crc always written, .data only when non-empty;
 * Snapshot.index and .term always written, .conf_state only when present.
 *
 *   message Record   { optional int64 type = 1; optional uint32 crc = 2; optional bytes data = 3; }
 *   message Snapshot { optional uint64 index = 1; optional uint64 term = 2;
 *                      optional raftpb.ConfState conf_state = 3; }   // conf_state since etcd 3.5
 */
import { type ConfState, decodeConfState, encodeConfState } from "../raft/index.js";
import {
  LEN,
  Reader,
  VARINT,
  Writer,
  expectWireType,
  readBytes,
  readInt64Num,
  readLength,
  readTag,
  readUint64,
  readUint64Num,
  skipField,
} from "../pb/wire.js";

/** Record types (etcd's wal.MetadataType …). */
export const MetadataType = 1;
export const EntryType = 2;
export const StateType = 3;
export const CrcType = 4;
export const SnapshotType = 5;

export interface Record {
  type: number;
  /** CRC-32C chained over the data of every earlier non-crc record and this one's (encoder.ts). */
  crc: number;
  data: Uint8Array;
}

/** walpb.Snapshot: which raft snapshot the log continues from. */
export interface WalSnapshot {
  index: number;
  term: number;
  /** Written by etcd ≥ 3.5; required for index > 0 (etcd's ValidateSnapshotForWrite). */
  confState?: ConfState;
}

const pkg = "walpb";

export function encodeRecord(r: Record): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | VARINT);
  writeVarintNum(w, r.type);
  w.uint32((2 << 3) | VARINT).uint32(r.crc >>> 0);
  if (r.data.length > 0) w.uint32((3 << 3) | LEN).bytes(r.data);
  return w.finish();
}

export function decodeRecord(b: Uint8Array): Record {
  const r = Reader.create(b);
  const rec: Record = { type: 0, crc: 0, data: new Uint8Array(0) };
  while (r.pos < r.len) {
    const [f, wt] = readTag(r, pkg);
    if (f === 1) {
      expectWireType(pkg, "Record", f, wt, VARINT);
      rec.type = readInt64Num(r, pkg);
    } else if (f === 2) {
      expectWireType(pkg, "Record", f, wt, VARINT);
      // uint32 on the wire is a varint; Go truncates a longer one to its low 32 bits.
      rec.crc = Number(BigInt.asUintN(32, readUint64(r, pkg)));
    } else if (f === 3) {
      expectWireType(pkg, "Record", f, wt, LEN);
      rec.data = readBytes(r, pkg);
    } else skipField(r, f, wt, pkg);
  }
  return rec;
}

export function encodeWalSnapshot(s: WalSnapshot): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | VARINT);
  writeVarintNum(w, s.index);
  w.uint32((2 << 3) | VARINT);
  writeVarintNum(w, s.term);
  if (s.confState) w.uint32((3 << 3) | LEN).bytes(encodeConfState(s.confState));
  return w.finish();
}

export function decodeWalSnapshot(b: Uint8Array): WalSnapshot {
  const r = Reader.create(b);
  const s: WalSnapshot = { index: 0, term: 0 };
  while (r.pos < r.len) {
    const [f, wt] = readTag(r, pkg);
    if (f === 1) {
      expectWireType(pkg, "Snapshot", f, wt, VARINT);
      s.index = readUint64Num(r, pkg);
    } else if (f === 2) {
      expectWireType(pkg, "Snapshot", f, wt, VARINT);
      s.term = readUint64Num(r, pkg);
    } else if (f === 3) {
      expectWireType(pkg, "Snapshot", f, wt, LEN);
      const end = readLength(r, pkg);
      s.confState = decodeConfState(r.buf.subarray(r.pos, end));
      r.pos = end;
    } else skipField(r, f, wt, pkg);
  }
  return s;
}

/** etcd's ValidateSnapshotForWrite: a saved (non-initial) snapshot must carry its ConfState. */
export function validateSnapshotForWrite(s: WalSnapshot): void {
  if (!Number.isSafeInteger(s.index) || s.index < 0) throw new RangeError(`snapshot is missing index: ${describeWalSnapshot(s)}`);
  if (!Number.isSafeInteger(s.term) || s.term < 0) throw new RangeError(`snapshot is missing term: ${describeWalSnapshot(s)}`);
  if (s.confState === undefined && s.index > 0) {
    throw new RangeError(`Saved (not-initial) snapshot is missing ConfState: ${describeWalSnapshot(s)}`);
  }
}

export function describeWalSnapshot(s: WalSnapshot): string {
  return `index:${s.index} term:${s.term}${s.confState ? ` conf_state:{voters:[${s.confState.voters.join(",")}]}` : ""}`;
}

function writeVarintNum(w: Writer, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${pkg}: not a non-negative safe integer: ${v}`);
  if (v <= 0xffff_ffff) w.uint32(v);
  else {
    const u = BigInt(v);
    w.uint64({ low: Number(u & 0xffff_ffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true } as never);
  }
}
