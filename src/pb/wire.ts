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

// ---------------------------------------------------------------------------------------------
// etcdserverpb additions: uint64, bool, enum and string fields, sub-messages, tags and unknown
// fields. Each writer keeps proto3's rule (a zero value is not written); readers throw RangeError.

export const I64 = 1;
export const I32 = 5;

const uint64Max = (1n << 64n) - 1n;

/** Writes uint64 field `field` unless `v` is 0n. Throws RangeError outside [0, 2^64). */
export function writeUint64(w: Writer, field: number, v: bigint, pkg: string): void {
  if (v === 0n) return;
  if (v < 0n || v > uint64Max) throw new RangeError(`${pkg}: uint64 out of range: ${v}`);
  writeInt64(w, field, BigInt.asIntN(64, v), pkg);
}

/** Writes uint64 field `field` from a non-negative safe integer unless it is 0. */
export function writeUint64Num(w: Writer, field: number, v: number, pkg: string): void {
  if (v === 0) return;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${pkg}: not a uint64 safe integer: ${v}`);
  writeInt64(w, field, BigInt(v), pkg);
}

/** Writes bool field `field` as the varint 1 when true; false is not written. */
export function writeBool(w: Writer, field: number, v: boolean): void {
  if (v) w.uint32((field << 3) | VARINT).uint32(1);
}

/**
 * Writes enum (or int32) field `field` unless `v` is 0. A negative value is sign-extended to a
 * 10-byte varint, as Go writes `uint64(int32)`. Throws RangeError outside int32.
 */
export function writeEnum(w: Writer, field: number, v: number, pkg: string): void {
  if (v === 0) return;
  if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) {
    throw new RangeError(`${pkg}: enum value out of int32 range: ${v}`);
  }
  w.uint32((field << 3) | VARINT).int32(v);
}

/** Writes string field `field` (UTF-8) unless `s` is empty. */
export function writeString(w: Writer, field: number, s: string): void {
  if (s.length > 0) w.uint32((field << 3) | LEN).string(s);
}

/**
 * Writes sub-message field `field` (even when empty: a present message is always written, as
 * gogoproto writes every non-nil pointer and every element of a repeated message field).
 */
export function writeMessage<T>(w: Writer, field: number, m: T, encodeTo: (w: Writer, m: T) => void): void {
  w.uint32((field << 3) | LEN).fork();
  encodeTo(w, m);
  w.ldelim();
}

/** Reads a varint as a uint64. */
export function readUint64(r: Reader, pkg: string): bigint {
  return BigInt.asUintN(64, readInt64(r, pkg));
}

/** Reads a uint64 that must be a safe integer. */
export function readUint64Num(r: Reader, pkg: string): number {
  const v = readUint64(r, pkg);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${pkg}: value ${v} outside the safe integer range`);
  }
  return Number(v);
}

/** Reads a bool: any non-zero varint (all 64 bits considered) is true. */
export function readBool(r: Reader, pkg: string): boolean {
  return readInt64(r, pkg) !== 0n;
}

/** Reads an enum (or int32): the varint's low 32 bits as a signed integer, as Go does. */
export function readEnum(r: Reader, pkg: string): number {
  return Number(BigInt.asIntN(32, readInt64(r, pkg)));
}

/** Reads a bytes field into a new array the caller owns. */
export function readBytes(r: Reader, pkg: string): Uint8Array {
  const end = readLength(r, pkg);
  // A copy into a plain Uint8Array (the reader may hand out a view into its input).
  const b = new Uint8Array(r.buf.subarray(r.pos, end));
  r.pos = end;
  return b;
}

const utf8 = new TextDecoder();

/** Reads a string field (UTF-8; invalid sequences become U+FFFD). */
export function readString(r: Reader, pkg: string): string {
  const end = readLength(r, pkg);
  const s = r.pos === end ? "" : utf8.decode(r.buf.subarray(r.pos, end));
  r.pos = end;
  return s;
}


/** Reads a varint of at most 32 bits (a tag or a length). */
function readVarint32(r: Reader, pkg: string): number {
  let v = 0;
  for (let i = 0; i < 5; i++) {
    if (r.pos >= r.len) throw new RangeError(`${pkg}: truncated varint`);
    const b = r.buf[r.pos++]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (v > 0xffff_ffff) break;
      return v;
    }
  }
  throw new RangeError(`${pkg}: varint exceeds 32 bits`);
}

/**
 * Reads a length prefix and returns the end of the length-delimited value, `[r.pos, end)`.
 * Throws RangeError when it runs past the buffer.
 */
export function readLength(r: Reader, pkg: string): number {
  const len = readVarint32(r, pkg);
  const end = r.pos + len;
  if (end > r.len) throw new RangeError(`${pkg}: length ${len} runs past the end of the buffer`);
  return end;
}

/** Reads a field tag: `[field number, wire type]`. Refuses field number 0. */
export function readTag(r: Reader, pkg: string): [number, number] {
  const tag = readVarint32(r, pkg);
  const field = Math.floor(tag / 8);
  if (field === 0) throw new RangeError(`${pkg}: field number 0`);
  return [field, tag & 7];
}

/** Skips the value of an unknown field `field` of wire type `wt` (groups included). */
export function skipField(r: Reader, field: number, wt: number, pkg: string): void {
  if (wt === 4 || wt > 5) throw new RangeError(`${pkg}: field ${field} has invalid wire type ${wt}`);
  try {
    r.skipType(wt, 0, field);
  } catch (e) {
    throw e instanceof RangeError ? e : new RangeError(`${pkg}: ${(e as Error).message}`);
  }
}

/** Throws RangeError unless known field `field` of message `msg` came with wire type `want`. */
export function expectWireType(pkg: string, msg: string, field: number, wt: number, want: number): void {
  if (wt !== want) throw new RangeError(`${pkg}: ${msg} field ${field} has wire type ${wt}, want ${want}`);
}

/** Throws RangeError unless a sub-message's last field ended exactly at its length, `end`. */
export function expectEnd(r: Reader, end: number, pkg: string, msg: string): void {
  if (r.pos !== end) throw new RangeError(`${pkg}: ${msg} overruns its length`);
}
