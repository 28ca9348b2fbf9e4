/**
 * Protobuf wire primitives for etcd's proto3 messages (mvccpb, leasepb, etcdserverpb), over
 * protobufjs/minimal's Writer and Reader: int64 fields as bigint or as safe-integer numbers, bytes
 * fields, and gogoproto's proto3 rule that a zero value is not written. `pkg` names the message's
 * package in error messages ("mvccpb: truncated varint"). src/raft keeps its own codec (it imports
 * nothing outside itself).
 */
// protobufjs/minimal, named by its file: the package has no exports map (see src/raft/codec.ts).
import protobuf from "protobufjs/minimal.js";

export const { Writer, Reader } = protobuf;
export type Writer = protobuf.Writer;
export type Reader = protobuf.Reader;

export const VARINT = 0;
export const LEN = 2;

const int64Min = -(1n << 63n);
const int64Max = (1n << 63n) - 1n;

/** Writes int64 field `field` unless `v` is 0. Throws RangeError outside int64. */
export function writeInt64(w: Writer, field: number, v: bigint, pkg: string): void {
  if (v === 0n) return;
  if (v < int64Min || v > int64Max) throw new RangeError(`${pkg}: int64 out of range: ${v}`);
  const u = BigInt.asUintN(64, v);
  w.uint32((field << 3) | VARINT).uint64({
    low: Number(u & 0xffff_ffffn) | 0,
    high: Number(u >> 32n) | 0,
    unsigned: true,
  } as never);
}

/** Writes int64 field `field` from a safe integer unless it is 0. */
export function writeInt64Num(w: Writer, field: number, v: number, pkg: string): void {
  if (v === 0) return;
  if (!Number.isSafeInteger(v)) throw new RangeError(`${pkg}: not a safe integer: ${v}`);
  writeInt64(w, field, BigInt(v), pkg);
}

/** Writes bytes field `field` unless `b` is empty. */
export function writeBytes(w: Writer, field: number, b: Uint8Array): void {
  if (b.length > 0) w.uint32((field << 3) | LEN).bytes(b);
}

/** Reads a varint as a signed int64. */
export function readInt64(r: Reader, pkg: string): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.len) throw new RangeError(`${pkg}: truncated varint`);
    const b = r.buf[r.pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, result);
    shift += 7n;
  }
  throw new RangeError(`${pkg}: varint too long`);
}

/** Reads a signed int64 that must be a safe integer. */
export function readInt64Num(r: Reader, pkg: string): number {
  const v = readInt64(r, pkg);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${pkg}: value ${v} outside the safe integer range`);
  }
  return Number(v);
}
