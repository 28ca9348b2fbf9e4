/**
 * The raftpb byte codec, over protobufjs/minimal's Writer and Reader.
 *
 * Encoding follows etcd 3.4's gogoproto output (`nullable=false` fields): fields in field-number order,
 * every scalar written even when zero, non-nullable sub-messages (Message.snapshot,
 * Snapshot.metadata, SnapshotMetadata.conf_state) always written, byte fields only when non-empty,
 * repeated uint64 unpacked. So our bytes are the bytes etcd 3.4 writes, and decode in etcd's schema.
 *
 * Decoding accepts any valid proto2 encoding of the schema: fields in any order, packed or unpacked
 * repeated uint64, repeated occurrences of a sub-message merged, unknown fields skipped. A known
 * field with the wrong wire type, and terms and indexes above Number.MAX_SAFE_INTEGER, are refused.
 */
// protobufjs/minimal, named by its file: the package has no exports map, and Node's ESM loader
// (unlike bundlers) resolves a bare subpath only with its extension.
import protobuf from "protobufjs/minimal.js";
import {
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
  newConfChange,
  newConfChangeV2,
  newConfState,
  newEntry,
  newHardState,
  newMessage,
  newSnapshot,
  MessageType,
} from "./raftpb.js";

type Writer = protobuf.Writer;
type Reader = protobuf.Reader;
const { Writer, Reader } = protobuf;

/** Wire types of protobuf keys. */
const VARINT = 0;
const LEN = 2;

function key(field: number, wireType: number): number {
  return ((field << 3) | wireType) >>> 0;
}

function writeU64(w: Writer, v: bigint): void {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`uint64 out of range: ${v}`);
  w.uint64({ low: Number(v & 0xffff_ffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true } as never);
}

function writeNum(w: Writer, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uint64 out of safe range: ${v}`);
  if (v <= 0xffff_ffff) w.uint32(v);
  else writeU64(w, BigInt(v));
}

/** Reads a varint of up to 64 bits as a bigint. */
function readU64(r: Reader): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.len) throw new RangeError("raftpb: truncated varint");
    const b = r.buf[r.pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return result & 0xffff_ffff_ffff_ffffn;
    shift += 7n;
  }
  throw new RangeError("raftpb: varint too long");
}

/**
 * Reads a varint as a number. Up to 7 bytes (49 bits) it is summed exactly in a double without
 * BigInt — the common case for terms, indexes and enums; longer ones go through readU64.
 */
function readNum(r: Reader): number {
  const start = r.pos;
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 7 && r.pos < r.len; i++) {
    const b = r.buf[r.pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  r.pos = start;
  const v = readU64(r);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`raftpb: value ${v} above Number.MAX_SAFE_INTEGER`);
  return Number(v);
}

function readBool(r: Reader): boolean {
  return readU64(r) !== 0n;
}

/** Reads a repeated uint64 occurrence: one varint, or a packed run of them. */
function readRepeatedU64(r: Reader, wireType: number, into: bigint[]): void {
  if (wireType === LEN) {
    const end = r.uint32() + r.pos;
    while (r.pos < end) into.push(readU64(r));
  } else {
    into.push(readU64(r));
  }
}

function sub(w: Writer, field: number, encode: (w: Writer) => void): void {
  w.uint32(key(field, LEN)).fork();
  encode(w);
  w.ldelim();
}

function bytesField(w: Writer, field: number, b: Uint8Array): void {
  if (b.length > 0) w.uint32(key(field, LEN)).bytes(b);
}

function copyBytes(r: Reader): Uint8Array {
  // Reader.bytes() may return a view into the input; callers own their messages, so copy.
  return new Uint8Array(r.bytes());
}

/** The wire type a known field must have; PACKABLE is a repeated varint (one varint, or a packed run). */
const PACKABLE = -1;
type WireTypes = Readonly<Record<number, number>>;

/**
 * Runs `field` for every field of a message ending at `end`. Unknown fields are skipped; a known
 * field with the wrong wire type is refused, as gogoproto refuses it.
 */
function readFields(r: Reader, end: number, wireTypes: WireTypes, field: (num: number, wireType: number) => void): void {
  while (r.pos < end) {
    const k = r.uint32();
    const num = k >>> 3;
    const wt = k & 7;
    const want = wireTypes[num];
    if (want === undefined) {
      r.skipType(wt);
      continue;
    }
    if (want === PACKABLE ? wt !== VARINT && wt !== LEN : wt !== want) {
      throw new RangeError(`raftpb: field ${num} has wire type ${wt}`);
    }
    field(num, wt);
  }
  if (r.pos !== end) throw new RangeError("raftpb: field overran its message");
}

function subEnd(r: Reader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new RangeError("raftpb: truncated sub-message");
  return end;
}

// --- Entry ---

function writeEntry(w: Writer, e: Entry): void {
  w.uint32(key(1, VARINT)).uint32(e.type);
  w.uint32(key(2, VARINT));
  writeNum(w, e.term);
  w.uint32(key(3, VARINT));
  writeNum(w, e.index);
  bytesField(w, 4, e.data);
}

const entryWire: WireTypes = { 1: VARINT, 2: VARINT, 3: VARINT, 4: LEN };

function readEntry(r: Reader, end: number): Entry {
  const e = newEntry();
  readFields(r, end, entryWire, (n) => {
    if (n === 1) e.type = readNum(r);
    else if (n === 2) e.term = readNum(r);
    else if (n === 3) e.index = readNum(r);
    else if (n === 4) e.data = copyBytes(r);
  });
  return e;
}

// --- ConfState, SnapshotMetadata, Snapshot ---

function writeConfState(w: Writer, c: ConfState): void {
  for (const id of c.voters) writeU64(w.uint32(key(1, VARINT)), id);
  for (const id of c.learners) writeU64(w.uint32(key(2, VARINT)), id);
  for (const id of c.votersOutgoing) writeU64(w.uint32(key(3, VARINT)), id);
  for (const id of c.learnersNext) writeU64(w.uint32(key(4, VARINT)), id);
  w.uint32(key(5, VARINT)).bool(c.autoLeave);
}

const confStateWire: WireTypes = { 1: PACKABLE, 2: PACKABLE, 3: PACKABLE, 4: PACKABLE, 5: VARINT };

/** Reads a ConfState into c (proto2 merges a repeated occurrence of a sub-message into the first). */
function readConfState(r: Reader, end: number, c: ConfState = newConfState()): ConfState {
  readFields(r, end, confStateWire, (n, wt) => {
    if (n === 1) readRepeatedU64(r, wt, c.voters);
    else if (n === 2) readRepeatedU64(r, wt, c.learners);
    else if (n === 3) readRepeatedU64(r, wt, c.votersOutgoing);
    else if (n === 4) readRepeatedU64(r, wt, c.learnersNext);
    else if (n === 5) c.autoLeave = readBool(r);
  });
  return c;
}

function writeSnapshotMetadata(w: Writer, m: SnapshotMetadata): void {
  sub(w, 1, (w) => writeConfState(w, m.confState));
  w.uint32(key(2, VARINT));
  writeNum(w, m.index);
  w.uint32(key(3, VARINT));
  writeNum(w, m.term);
}

const snapshotMetadataWire: WireTypes = { 1: LEN, 2: VARINT, 3: VARINT };

function readSnapshotMetadata(r: Reader, end: number, m: SnapshotMetadata): SnapshotMetadata {
  readFields(r, end, snapshotMetadataWire, (n) => {
    if (n === 1) m.confState = readConfState(r, subEnd(r), m.confState);
    else if (n === 2) m.index = readNum(r);
    else if (n === 3) m.term = readNum(r);
  });
  return m;
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  bytesField(w, 1, s.data);
  sub(w, 2, (w) => writeSnapshotMetadata(w, s.metadata));
}

const snapshotWire: WireTypes = { 1: LEN, 2: LEN };

function readSnapshot(r: Reader, end: number, s: Snapshot = newSnapshot()): Snapshot {
  readFields(r, end, snapshotWire, (n) => {
    if (n === 1) s.data = copyBytes(r);
    else if (n === 2) s.metadata = readSnapshotMetadata(r, subEnd(r), s.metadata);
  });
  return s;
}

// --- Message ---

function writeMessage(w: Writer, m: Message): void {
  w.uint32(key(1, VARINT)).uint32(m.type);
  writeU64(w.uint32(key(2, VARINT)), m.to);
  writeU64(w.uint32(key(3, VARINT)), m.from);
  writeNum(w.uint32(key(4, VARINT)), m.term);
  writeNum(w.uint32(key(5, VARINT)), m.logTerm);
  writeNum(w.uint32(key(6, VARINT)), m.index);
  for (const e of m.entries) sub(w, 7, (w) => writeEntry(w, e));
  writeNum(w.uint32(key(8, VARINT)), m.commit);
  sub(w, 9, (w) => writeSnapshot(w, m.snapshot ?? newSnapshot()));
  w.uint32(key(10, VARINT)).bool(m.reject);
  writeNum(w.uint32(key(11, VARINT)), m.rejectHint);
  bytesField(w, 12, m.context);
}

const messageWire: WireTypes = { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT, 5: VARINT, 6: VARINT, 7: LEN, 8: VARINT, 9: LEN, 10: VARINT, 11: VARINT, 12: LEN };

function readMessage(r: Reader, end: number): Message {
  const m = newMessage({ type: MessageType.MsgHup });
  let snapshot: Snapshot | undefined;
  readFields(r, end, messageWire, (n) => {
    switch (n) {
      case 1:
        m.type = readNum(r);
        break;
      case 2:
        m.to = readU64(r);
        break;
      case 3:
        m.from = readU64(r);
        break;
      case 4:
        m.term = readNum(r);
        break;
      case 5:
        m.logTerm = readNum(r);
        break;
      case 6:
        m.index = readNum(r);
        break;
      case 7:
        m.entries.push(readEntry(r, subEnd(r)));
        break;
      case 8:
        m.commit = readNum(r);
        break;
      case 9:
        snapshot = readSnapshot(r, subEnd(r), snapshot);
        break;
      case 10:
        m.reject = readBool(r);
        break;
      case 11:
        m.rejectHint = readNum(r);
        break;
      case 12:
        m.context = copyBytes(r);
        break;
    }
  });
  // The wire always carries a snapshot; only a real one (an index or data) is kept.
  if (snapshot !== undefined && (snapshot.metadata.index > 0 || snapshot.data.length > 0)) m.snapshot = snapshot;
  return m;
}

// --- HardState, ConfChange, ConfChangeV2 ---

function writeHardState(w: Writer, h: HardState): void {
  writeNum(w.uint32(key(1, VARINT)), h.term);
  writeU64(w.uint32(key(2, VARINT)), h.vote);
  writeNum(w.uint32(key(3, VARINT)), h.commit);
}

const hardStateWire: WireTypes = { 1: VARINT, 2: VARINT, 3: VARINT };

function readHardState(r: Reader, end: number): HardState {
  const h = newHardState();
  readFields(r, end, hardStateWire, (n) => {
    if (n === 1) h.term = readNum(r);
    else if (n === 2) h.vote = readU64(r);
    else if (n === 3) h.commit = readNum(r);
  });
  return h;
}

function writeConfChange(w: Writer, c: ConfChange): void {
  writeU64(w.uint32(key(1, VARINT)), c.id);
  w.uint32(key(2, VARINT)).uint32(c.type);
  writeU64(w.uint32(key(3, VARINT)), c.nodeId);
  bytesField(w, 4, c.context);
}

const confChangeWire: WireTypes = { 1: VARINT, 2: VARINT, 3: VARINT, 4: LEN };

function readConfChange(r: Reader, end: number): ConfChange {
  const c = newConfChange();
  readFields(r, end, confChangeWire, (n) => {
    if (n === 1) c.id = readU64(r);
    else if (n === 2) c.type = readNum(r);
    else if (n === 3) c.nodeId = readU64(r);
    else if (n === 4) c.context = copyBytes(r);
  });
  return c;
}

function writeConfChangeSingle(w: Writer, c: ConfChangeSingle): void {
  w.uint32(key(1, VARINT)).uint32(c.type);
  writeU64(w.uint32(key(2, VARINT)), c.nodeId);
}

const confChangeSingleWire: WireTypes = { 1: VARINT, 2: VARINT };

function readConfChangeSingle(r: Reader, end: number): ConfChangeSingle {
  const c: ConfChangeSingle = { type: 0, nodeId: 0n };
  readFields(r, end, confChangeSingleWire, (n) => {
    if (n === 1) c.type = readNum(r);
    else if (n === 2) c.nodeId = readU64(r);
  });
  return c;
}

function writeConfChangeV2(w: Writer, c: ConfChangeV2): void {
  w.uint32(key(1, VARINT)).uint32(c.transition);
  for (const ch of c.changes) sub(w, 2, (w) => writeConfChangeSingle(w, ch));
  bytesField(w, 3, c.context);
}

const confChangeV2Wire: WireTypes = { 1: VARINT, 2: LEN, 3: LEN };

function readConfChangeV2(r: Reader, end: number): ConfChangeV2 {
  const c = newConfChangeV2();
  readFields(r, end, confChangeV2Wire, (n) => {
    if (n === 1) c.transition = readNum(r);
    else if (n === 2) c.changes.push(readConfChangeSingle(r, subEnd(r)));
    else if (n === 3) c.context = copyBytes(r);
  });
  return c;
}

// --- public encode/decode pairs ---

function encoder<T>(write: (w: Writer, v: T) => void): (v: T) => Uint8Array {
  return (v) => {
    const w = Writer.create();
    write(w, v);
    return w.finish();
  };
}

function decoder<T>(read: (r: Reader, end: number) => T): (b: Uint8Array) => T {
  return (b) => {
    const r = Reader.create(b);
    return read(r, r.len);
  };
}

export const encodeEntry = encoder(writeEntry);
export const decodeEntry = decoder(readEntry);
export const encodeConfState = encoder(writeConfState);
export const decodeConfState = decoder((r, end) => readConfState(r, end));
export const encodeSnapshot = encoder(writeSnapshot);
export const decodeSnapshot = decoder((r, end) => readSnapshot(r, end));
export const encodeMessage = encoder(writeMessage);
export const decodeMessage = decoder(readMessage);
export const encodeHardState = encoder(writeHardState);
export const decodeHardState = decoder(readHardState);
export const encodeConfChange = encoder(writeConfChange);
export const decodeConfChange = decoder(readConfChange);
export const encodeConfChangeV2 = encoder(writeConfChangeV2);
export const decodeConfChangeV2 = decoder(readConfChangeV2);

/** Size in bytes of an entry's encoding (etcd's Entry.Size), used for maxSizePerMsg batching. */
export function entrySize(e: Entry): number {
  const data = e.data.length > 0 ? 1 + varintSize(e.data.length) + e.data.length : 0;
  return 3 + varintSize(e.type) + varintSize(e.term) + varintSize(e.index) + data;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Size of an entry's payload (etcd's PayloadSize): what counts against the uncommitted-size limit. */
export function payloadSize(e: Entry): number {
  return e.data.length;
}
