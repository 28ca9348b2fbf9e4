/**
 * The raftpb byte codec (src/raft/codec.ts) against an independent protobufjs reflection codec of a
 * schema written from etcd's raft.proto (raftpb.schema.ts), and against byte strings pinned by hand
 * from etcd 3.4's gogoproto output rules:
 *   - fields in field-number order, every scalar written even when zero;
 *   - non-nullable sub-messages (Message.snapshot, Snapshot.metadata, SnapshotMetadata.conf_state)
 *     always written, so an empty snapshot is `4a 0a 12 08 0a 02 28 00 10 00 18 00` inside a Message;
 *   - byte fields only when non-empty; repeated uint64 unpacked (proto2).
 */
import fc from "fast-check";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import {
  decodeConfChange,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChange,
  encodeConfChangeV2,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  entrySize,
  payloadSize,
} from "../../src/raft/codec.js";
import {
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  newConfChange,
  newConfChangeV2,
  newConfState,
  newEntry,
  newHardState,
  newMessage,
  newSnapshot,
} from "../../src/raft/raftpb.js";
import { type RaftpbTypes, raftpbRoot } from "./raftpb.schema.js";
import { mulberry32 as prng } from "../prng.js";

const U64_MAX = 2n ** 64n - 1n;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const etcd = raftpbRoot();
const packedSchema = raftpbRoot({ packed: true });

/** More runs than fast-check's default of 100: the generators are cheap and the edge cases many. */
const runs = { numRuns: 300 };

// --- bytes, varints, Longs ---

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function unhex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function varint(v: bigint): Uint8Array {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}

/** A uint64 as protobufjs takes it (a Long-shaped object: no precision lost above 2^53). */
function long(v: bigint | number): LongLike {
  const b = BigInt(v);
  return { low: Number(b & 0xffff_ffffn) | 0, high: Number(b >> 32n) | 0, unsigned: true };
}

/** A uint64 as protobufjs returns it (a Long, or a number when small) as a bigint. */
function big(x: unknown): bigint {
  if (typeof x === "number") return BigInt(x);
  const l = x as LongLike;
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
}

function safe(x: unknown): number {
  const b = big(x);
  if (b > BigInt(MAX_SAFE)) throw new Error(`reflection value ${b} is not a safe integer`);
  return Number(b);
}

function bytesOf(x: unknown): Uint8Array {
  return new Uint8Array(x as ArrayLike<number>);
}

// --- the reflection side: decode to our types, encode from our types ---

/** A protobufjs plain object (toObject output, or encoder input). */
type Obj = Record<string, any>;

function reflectDecode(t: protobuf.Type, b: Uint8Array): Obj {
  return t.toObject(t.decode(b), { defaults: true, arrays: true });
}

const fromPb = {
  entry: (o: Obj): Entry => ({ term: safe(o.Term), index: safe(o.Index), type: o.Type, data: bytesOf(o.Data) }),
  confState: (o: Obj): ConfState => ({
    voters: o.voters.map(big),
    learners: o.learners.map(big),
    votersOutgoing: o.voters_outgoing.map(big),
    learnersNext: o.learners_next.map(big),
    autoLeave: o.auto_leave,
  }),
  snapshot: (o: Obj): Snapshot => ({
    data: bytesOf(o.data),
    metadata: {
      confState: fromPb.confState(o.metadata?.conf_state ?? reflectDecode(etcd.ConfState, new Uint8Array())),
      index: safe(o.metadata?.index ?? 0),
      term: safe(o.metadata?.term ?? 0),
    },
  }),
  /** The snapshot is returned as the wire has it (etcd always writes one). */
  message: (o: Obj): Omit<Message, "snapshot"> & { snapshot: Snapshot | null } => ({
    type: o.type,
    to: big(o.to),
    from: big(o.from),
    term: safe(o.term),
    logTerm: safe(o.logTerm),
    index: safe(o.index),
    entries: o.entries.map(fromPb.entry),
    commit: safe(o.commit),
    snapshot: o.snapshot === null ? null : fromPb.snapshot(o.snapshot),
    reject: o.reject,
    rejectHint: safe(o.rejectHint),
    context: bytesOf(o.context),
  }),
  hardState: (o: Obj): HardState => ({ term: safe(o.term), vote: big(o.vote), commit: safe(o.commit) }),
  confChange: (o: Obj): ConfChange => ({ id: big(o.id), type: o.type, nodeId: big(o.node_id), context: bytesOf(o.context) }),
  confChangeV2: (o: Obj): ConfChangeV2 => ({
    transition: o.transition,
    changes: o.changes.map((c: Obj): ConfChangeSingle => ({ type: c.type, nodeId: big(c.node_id) })),
    context: bytesOf(o.context),
  }),
};

/**
 * Our types as plain objects for protobufjs's encoder. `etcdFields`: the fields etcd 3.4 writes (every
 * scalar, the non-nullable sub-messages, non-empty bytes). `sparse`: only non-zero fields, as a proto3-ish
 * or hand-rolled peer might write them; a decoder must fill in the zero values.
 */
type Presence = "etcdFields" | "sparse";

function put(o: Obj, name: string, v: unknown, present: boolean): void {
  if (present) o[name] = v;
}

function scalar(p: Presence, v: number | bigint | boolean): boolean {
  return p === "etcdFields" || (v !== 0 && v !== 0n && v !== false);
}

function nonEmpty(b: Uint8Array): boolean {
  return b.length > 0;
}

const toPb = {
  entry(e: Entry, p: Presence): Obj {
    const o: Obj = {};
    put(o, "Type", e.type, scalar(p, e.type));
    put(o, "Term", long(e.term), scalar(p, e.term));
    put(o, "Index", long(e.index), scalar(p, e.index));
    put(o, "Data", e.data, nonEmpty(e.data));
    return o;
  },
  confState(c: ConfState, p: Presence): Obj {
    const o: Obj = {
      voters: c.voters.map(long),
      learners: c.learners.map(long),
      voters_outgoing: c.votersOutgoing.map(long),
      learners_next: c.learnersNext.map(long),
    };
    put(o, "auto_leave", c.autoLeave, scalar(p, c.autoLeave));
    return o;
  },
  snapshot(s: Snapshot, p: Presence): Obj {
    const o: Obj = {};
    put(o, "data", s.data, nonEmpty(s.data));
    const m = s.metadata;
    const cs = m.confState;
    const csEmpty =
      cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length === 0 && !cs.autoLeave;
    if (p === "etcdFields" || !csEmpty || m.index !== 0 || m.term !== 0) {
      const md: Obj = {};
      put(md, "conf_state", toPb.confState(cs, p), p === "etcdFields" || !csEmpty);
      put(md, "index", long(m.index), scalar(p, m.index));
      put(md, "term", long(m.term), scalar(p, m.term));
      o.metadata = md;
    }
    return o;
  },
  message(m: Message, p: Presence): Obj {
    const o: Obj = { entries: m.entries.map((e) => toPb.entry(e, p)) };
    put(o, "type", m.type, scalar(p, m.type));
    put(o, "to", long(m.to), scalar(p, m.to));
    put(o, "from", long(m.from), scalar(p, m.from));
    put(o, "term", long(m.term), scalar(p, m.term));
    put(o, "logTerm", long(m.logTerm), scalar(p, m.logTerm));
    put(o, "index", long(m.index), scalar(p, m.index));
    put(o, "commit", long(m.commit), scalar(p, m.commit));
    if (m.snapshot !== undefined) o.snapshot = toPb.snapshot(m.snapshot, p);
    else if (p === "etcdFields") o.snapshot = toPb.snapshot(newSnapshot(), p);
    put(o, "reject", m.reject, scalar(p, m.reject));
    put(o, "rejectHint", long(m.rejectHint), scalar(p, m.rejectHint));
    put(o, "context", m.context, nonEmpty(m.context));
    return o;
  },
  hardState(h: HardState, p: Presence): Obj {
    const o: Obj = {};
    put(o, "term", long(h.term), scalar(p, h.term));
    put(o, "vote", long(h.vote), scalar(p, h.vote));
    put(o, "commit", long(h.commit), scalar(p, h.commit));
    return o;
  },
  confChange(c: ConfChange, p: Presence): Obj {
    const o: Obj = {};
    put(o, "id", long(c.id), scalar(p, c.id));
    put(o, "type", c.type, scalar(p, c.type));
    put(o, "node_id", long(c.nodeId), scalar(p, c.nodeId));
    put(o, "context", c.context, nonEmpty(c.context));
    return o;
  },
  confChangeV2(c: ConfChangeV2, p: Presence): Obj {
    const o: Obj = {
      changes: c.changes.map((ch) => {
        const s: Obj = {};
        put(s, "type", ch.type, scalar(p, ch.type));
        put(s, "node_id", long(ch.nodeId), scalar(p, ch.nodeId));
        return s;
      }),
    };
    put(o, "transition", c.transition, scalar(p, c.transition));
    put(o, "context", c.context, nonEmpty(c.context));
    return o;
  },
};

function reflectEncode(t: protobuf.Type, o: Obj): Uint8Array {
  const problem = t.verify(o);
  if (problem !== null) throw new Error(`test bug: ${t.name} object does not verify: ${problem}`);
  return t.encode(o).finish();
}

/** Names of the singular fields a reflection-decoded message had on the wire (proto2 keeps presence). */
function wireFields(t: protobuf.Type, b: Uint8Array): string[] {
  const m = t.decode(b) as unknown as Obj;
  return t.fieldsArray.filter((f) => !f.repeated && Object.prototype.hasOwnProperty.call(m, f.name)).map((f) => f.name);
}

// --- field-order shuffling ---


interface RawField {
  num: number;
  wireType: number;
  start: number;
  bodyStart: number;
  end: number;
}

/** The top-level fields of an encoding: key at `start`, value in `[bodyStart, end)`. */
function splitFields(b: Uint8Array): RawField[] {
  const r = protobuf.Reader.create(b);
  const out: RawField[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const k = r.uint32();
    const bodyStart = r.pos;
    r.skipType(k & 7);
    out.push({ num: k >>> 3, wireType: k & 7, start, bodyStart, end: r.pos });
  }
  return out;
}

/**
 * The same message with its fields (and, recursively, its sub-messages' fields) in a random order.
 * Occurrences of one field number keep their relative order, so repeated fields keep their element
 * order: the result means exactly what the input meant.
 */
function shuffleFields(b: Uint8Array, t: protobuf.Type, rand: () => number): Uint8Array {
  const chunks = splitFields(b).map((f) => {
    const field = t.fieldsById[f.num];
    if (f.wireType === 2 && field?.resolvedType instanceof protobuf.Type) {
      const r = protobuf.Reader.create(b.subarray(f.bodyStart, f.end));
      r.uint32();
      const inner = shuffleFields(b.subarray(f.bodyStart + r.pos, f.end), field.resolvedType, rand);
      return { num: f.num, bytes: concat(b.subarray(f.start, f.bodyStart), varint(BigInt(inner.length)), inner) };
    }
    return { num: f.num, bytes: b.subarray(f.start, f.end) };
  });
  const order = chunks.map((c) => c.num);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const queues = new Map<number, Uint8Array[]>();
  for (const c of chunks) queues.set(c.num, [...(queues.get(c.num) ?? []), c.bytes]);
  return concat(...order.map((n) => queues.get(n)!.shift()!));
}

// --- arbitraries ---

/** fc.record, but with ordinary objects (fast-check 4 defaults to null-prototype ones, which toStrictEqual tells apart). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}

/** Node ids: the whole uint64 range, with its edges. */
const idArb = fc.oneof(
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.constantFrom(0n, 1n, 2n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, U64_MAX),
);
const idsArb = fc.array(idArb, { maxLength: 5 });
/** Terms and indexes: [0, Number.MAX_SAFE_INTEGER], with the varint-length edges. */
const numArb = fc.oneof(
  fc.maxSafeNat(),
  fc.nat(300),
  fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1, 2 ** 32, MAX_SAFE),
);
const bytesArb = fc.uint8Array({ maxLength: 40 });
const entryTypeArb = fc.constantFrom(EntryType.EntryNormal, EntryType.EntryConfChange, EntryType.EntryConfChangeV2);
const msgTypeArb = fc.integer({ min: MessageType.MsgHup, max: MessageType.MsgPreVoteResp }).map((n) => n as MessageType);
const ccTypeArb = fc.constantFrom(
  ConfChangeType.ConfChangeAddNode,
  ConfChangeType.ConfChangeRemoveNode,
  ConfChangeType.ConfChangeUpdateNode,
  ConfChangeType.ConfChangeAddLearnerNode,
);
const transitionArb = fc.constantFrom(
  ConfChangeTransition.ConfChangeTransitionAuto,
  ConfChangeTransition.ConfChangeTransitionJointImplicit,
  ConfChangeTransition.ConfChangeTransitionJointExplicit,
);

const entryArb: fc.Arbitrary<Entry> = rec({ term: numArb, index: numArb, type: entryTypeArb, data: bytesArb });
const confStateArb: fc.Arbitrary<ConfState> = rec({
  voters: idsArb,
  learners: idsArb,
  votersOutgoing: idsArb,
  learnersNext: idsArb,
  autoLeave: fc.boolean(),
});
function snapshotArb(minIndex: number): fc.Arbitrary<Snapshot> {
  return rec({
    data: bytesArb,
    metadata: rec({
      confState: confStateArb,
      index: fc.oneof(fc.integer({ min: minIndex, max: MAX_SAFE }), fc.integer({ min: minIndex, max: minIndex + 300 })),
      term: numArb,
    }),
  });
}
/** A message's snapshot is absent, or a real one (index ≥ 1): an index-0 snapshot reads as "none". */
const messageArb: fc.Arbitrary<Message> = fc
  .record({
    type: msgTypeArb,
    to: idArb,
    from: idArb,
    term: numArb,
    logTerm: numArb,
    index: numArb,
    entries: fc.array(entryArb, { maxLength: 4 }),
    commit: numArb,
    snapshot: fc.option(snapshotArb(1), { nil: undefined }),
    reject: fc.boolean(),
    rejectHint: numArb,
    context: bytesArb,
  })
  .map((m) => newMessage(m));
const hardStateArb: fc.Arbitrary<HardState> = rec({ term: numArb, vote: idArb, commit: numArb });
const confChangeArb: fc.Arbitrary<ConfChange> = rec({ id: idArb, type: ccTypeArb, nodeId: idArb, context: bytesArb });
const confChangeV2Arb: fc.Arbitrary<ConfChangeV2> = rec({
  transition: transitionArb,
  changes: fc.array(rec({ type: ccTypeArb, nodeId: idArb }), { maxLength: 5 }),
  context: bytesArb,
});

// --- the codecs, by name, for the properties every message shares ---

interface Case<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode: (v: T) => Uint8Array;
  decode: (b: Uint8Array) => T;
  type: (s: RaftpbTypes) => protobuf.Type;
  toPb: (v: T, p: Presence) => Obj;
  /** Our value as etcd's reflection decoder sees it (Message: the snapshot etcd always writes). */
  fromPb: (o: Obj) => unknown;
  expectedFromPb: (v: T) => unknown;
}

function kase<T>(c: Case<T>): Case<unknown> {
  return c as unknown as Case<unknown>;
}

const cases: Case<unknown>[] = [
  kase<Entry>({
    name: "Entry",
    arb: entryArb,
    encode: encodeEntry,
    decode: decodeEntry,
    type: (s) => s.Entry,
    toPb: toPb.entry,
    fromPb: fromPb.entry,
    expectedFromPb: (v) => v,
  }),
  kase<ConfState>({
    name: "ConfState",
    arb: confStateArb,
    encode: encodeConfState,
    decode: decodeConfState,
    type: (s) => s.ConfState,
    toPb: toPb.confState,
    fromPb: fromPb.confState,
    expectedFromPb: (v) => v,
  }),
  kase<Snapshot>({
    name: "Snapshot",
    arb: snapshotArb(0),
    encode: encodeSnapshot,
    decode: decodeSnapshot,
    type: (s) => s.Snapshot,
    toPb: toPb.snapshot,
    fromPb: fromPb.snapshot,
    expectedFromPb: (v) => v,
  }),
  kase<Message>({
    name: "Message",
    arb: messageArb,
    encode: encodeMessage,
    decode: decodeMessage,
    type: (s) => s.Message,
    toPb: toPb.message,
    fromPb: fromPb.message,
    expectedFromPb: (m) => ({ ...m, snapshot: m.snapshot ?? newSnapshot() }),
  }),
  kase<HardState>({
    name: "HardState",
    arb: hardStateArb,
    encode: encodeHardState,
    decode: decodeHardState,
    type: (s) => s.HardState,
    toPb: toPb.hardState,
    fromPb: fromPb.hardState,
    expectedFromPb: (v) => v,
  }),
  kase<ConfChange>({
    name: "ConfChange",
    arb: confChangeArb,
    encode: encodeConfChange,
    decode: decodeConfChange,
    type: (s) => s.ConfChange,
    toPb: toPb.confChange,
    fromPb: fromPb.confChange,
    expectedFromPb: (v) => v,
  }),
  kase<ConfChangeV2>({
    name: "ConfChangeV2",
    arb: confChangeV2Arb,
    encode: encodeConfChangeV2,
    decode: decodeConfChangeV2,
    type: (s) => s.ConfChangeV2,
    toPb: toPb.confChangeV2,
    fromPb: fromPb.confChangeV2,
    expectedFromPb: (v) => v,
  }),
];

describe("raftpb codec against the reflection schema", () => {
  describe.each(cases)("$name", (c) => {
    it("our encoding decodes with the reflection schema to the same values", () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          expect(c.fromPb(reflectDecode(c.type(etcd), c.encode(v)))).toStrictEqual(c.expectedFromPb(v));
        }),
        runs,
      );
    });

    it("our encoding is byte for byte the reflection encoding of the fields etcd 3.4 writes", () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          expect(hex(c.encode(v))).toBe(hex(reflectEncode(c.type(etcd), c.toPb(v, "etcdFields"))));
        }),
        runs,
      );
    });

    it("decodes the reflection encoding: sparse or full, packed or not, fields in any order", () => {
      fc.assert(
        fc.property(
          c.arb,
          fc.constantFrom<Presence>("etcdFields", "sparse"),
          fc.boolean(),
          fc.integer(),
          (v, presence, packed, seed) => {
            const schema = packed ? packedSchema : etcd;
            const b = reflectEncode(c.type(schema), c.toPb(v, presence));
            expect(c.decode(b)).toStrictEqual(v);
            expect(c.decode(shuffleFields(b, c.type(schema), prng(seed)))).toStrictEqual(v);
          },
        ),
        runs,
      );
    });

    it("round-trips: decode(encode(v)) is v", () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          const b = c.encode(v);
          expect(c.decode(b)).toStrictEqual(v);
          expect(c.decode(new Uint8Array(b))).toStrictEqual(v); // not a Node Buffer: protobufjs's other Reader
        }),
        runs,
      );
    });

    it("throws RangeError on input cut inside a field, and decodes input cut between fields", () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          const b = c.encode(v);
          const boundaries = new Set(splitFields(b).map((f) => f.start));
          for (let k = 0; k < b.length; k++) {
            const cut = b.slice(0, k);
            if (boundaries.has(k)) expect(() => c.decode(cut), `cut at ${k} of ${hex(b)}`).not.toThrow();
            else expect(() => c.decode(cut), `cut at ${k} of ${hex(b)}`).toThrow(RangeError);
          }
        }),
        { numRuns: 100 },
      );
    });

    it("skips unknown fields of every wire type", () => {
      // field 13 varint (Message.vote in newer etcd), 14 length-delimited (Message.responses),
      // 15 fixed64, 16 fixed32, 17 a group: none is known to any message of the 3.4 schema.
      const unknown = unhex("6805 7202 0809 790102030405060708 8501 01020304 8b01 0801 8c01");
      fc.assert(
        fc.property(c.arb, fc.nat(), (v, at) => {
          const b = c.encode(v);
          const fields = splitFields(b);
          const split = fields.length === 0 ? 0 : fields[at % fields.length]!.start;
          expect(c.decode(concat(b.subarray(0, split), unknown, b.subarray(split)))).toStrictEqual(v);
        }),
        runs,
      );
    });
  });
});

describe("etcd 3.4 field presence, seen by the reflection decoder", () => {
  const fieldsOf = (t: protobuf.Type, present: (name: string) => boolean) =>
    t.fieldsArray.filter((f) => !f.repeated && present(f.name)).map((f) => f.name);

  it("Entry: every scalar, Data only when non-empty", () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        expect(wireFields(etcd.Entry, encodeEntry(e))).toEqual(
          fieldsOf(etcd.Entry, (n) => n !== "Data" || e.data.length > 0),
        );
      }),
      runs,
    );
  });

  it("Message: every scalar and the snapshot, even absent; context only when non-empty", () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(wireFields(etcd.Message, encodeMessage(m))).toEqual(
          fieldsOf(etcd.Message, (n) => n !== "context" || m.context.length > 0),
        );
      }),
      runs,
    );
  });

  it("Snapshot: metadata always, data only when non-empty; ConfState: auto_leave always", () => {
    fc.assert(
      fc.property(snapshotArb(0), (s) => {
        const b = encodeSnapshot(s);
        expect(wireFields(etcd.Snapshot, b)).toEqual(s.data.length > 0 ? ["data", "metadata"] : ["metadata"]);
        const md = (etcd.Snapshot.decode(b) as unknown as Obj).metadata;
        expect(wireFields(etcd.SnapshotMetadata, etcd.SnapshotMetadata.encode(md).finish())).toEqual(["conf_state", "index", "term"]);
        expect(wireFields(etcd.ConfState, etcd.ConfState.encode(md.conf_state).finish())).toEqual(["auto_leave"]);
      }),
      runs,
    );
  });

  it("HardState, ConfChange, ConfChangeV2: every scalar, context only when non-empty", () => {
    fc.assert(
      fc.property(hardStateArb, confChangeArb, confChangeV2Arb, (h, cc, cc2) => {
        expect(wireFields(etcd.HardState, encodeHardState(h))).toEqual(["term", "vote", "commit"]);
        expect(wireFields(etcd.ConfChange, encodeConfChange(cc))).toEqual(
          cc.context.length > 0 ? ["id", "type", "node_id", "context"] : ["id", "type", "node_id"],
        );
        expect(wireFields(etcd.ConfChangeV2, encodeConfChangeV2(cc2))).toEqual(
          cc2.context.length > 0 ? ["transition", "context"] : ["transition"],
        );
      }),
      runs,
    );
  });
});

describe("round-trip details", () => {
  it("a Message without a snapshot decodes without one; an empty context stays empty", () => {
    const m = newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 3, commit: 4 });
    const d = decodeMessage(encodeMessage(m));
    expect("snapshot" in d).toBe(false);
    expect(d.context).toBeInstanceOf(Uint8Array);
    expect(d.context.length).toBe(0);
    expect(d).toStrictEqual(m);
  });

  it("a Message whose snapshot is empty (index 0, no data) decodes without one, as etcd's isEmptySnap", () => {
    const m = newMessage({ type: MessageType.MsgApp, snapshot: newSnapshot({ metadata: { term: 0 } }) });
    expect("snapshot" in decodeMessage(encodeMessage(m))).toBe(false);
  });

  it("a MsgSnap keeps its snapshot", () => {
    const snap = newSnapshot({
      data: utf8("state"),
      metadata: { index: 1, term: 1, confState: newConfState({ voters: [1n] }) },
    });
    const d = decodeMessage(encodeMessage(newMessage({ type: MessageType.MsgSnap, snapshot: snap })));
    expect(d.snapshot).toStrictEqual(snap);
  });

  it("decoded byte fields are copies: mutating the input afterwards changes nothing", () => {
    const e = newEntry({ term: 1, index: 2, data: utf8("hi") });
    const m = newMessage({ type: MessageType.MsgReadIndex, context: utf8("ctx"), entries: [e] });
    // Node Buffers (what protobufjs's Writer returns here) and plain Uint8Arrays (Deno, workerd).
    for (const b of [encodeEntry(e), new Uint8Array(encodeEntry(e))]) {
      const d = decodeEntry(b);
      b.fill(0);
      expect(Array.from(d.data)).toEqual([0x68, 0x69]);
    }
    for (const b of [encodeMessage(m), new Uint8Array(encodeMessage(m))]) {
      const d = decodeMessage(b);
      b.fill(0);
      expect(Array.from(d.context)).toEqual([0x63, 0x74, 0x78]);
      expect(Array.from(d.entries[0]!.data)).toEqual([0x68, 0x69]);
    }
  });

  it("decodes a subarray of a larger buffer", () => {
    const e = newEntry({ term: 7, index: 9, type: EntryType.EntryConfChange, data: utf8("cc") });
    const b = concat(unhex("ffff"), encodeEntry(e), unhex("ffff"));
    expect(decodeEntry(b.subarray(2, b.length - 2))).toStrictEqual(e);
  });

  it("ConfState: packed and unpacked occurrences of one field concatenate in wire order", () => {
    // voters: packed [1, 2], then unpacked 3, then packed [300]; learners_next unpacked 2^64-1.
    const b = unhex("0a020102 0803 0a02ac02 20ffffffffffffffffff01");
    expect(decodeConfState(b)).toStrictEqual(newConfState({ voters: [1n, 2n, 3n, 300n], learnersNext: [U64_MAX] }));
  });

  it("a singular field that occurs twice keeps the last value (proto2 last-one-wins)", () => {
    expect(decodeHardState(unhex("0801 0802 1003 1004"))).toStrictEqual(newHardState({ term: 2, vote: 4n }));
  });
});

describe("pinned bytes (etcd 3.4 gogoproto output, worked out by hand)", () => {
  const EMPTY_SNAP = "4a0a 1208 0a02 2800 1000 1800"; // snapshot{metadata{conf_state{auto_leave 0} index 0 term 0}}
  const pinned: { name: string; hex: string; encode: () => Uint8Array; decode: (b: Uint8Array) => unknown; value: unknown }[] = [];
  function pin<T>(name: string, value: T, enc: (v: T) => Uint8Array, dec: (b: Uint8Array) => T, hexStr: string): void {
    pinned.push({ name, hex: hexStr.replace(/\s+/g, ""), encode: () => enc(value), decode: dec, value });
  }

  pin("empty Entry", newEntry(), encodeEntry, decodeEntry, "0800 1000 1800");
  pin(
    "Entry {term 1, index 2, data 'hi'}",
    newEntry({ term: 1, index: 2, data: utf8("hi") }),
    encodeEntry,
    decodeEntry,
    "0800 1001 1802 2202 6869",
  );
  pin(
    "EntryConfChangeV2 at term 2^32, index MAX_SAFE",
    newEntry({ type: EntryType.EntryConfChangeV2, term: 2 ** 32, index: MAX_SAFE }),
    encodeEntry,
    decodeEntry,
    "0802 1080808080 10 18ffffffffffffff0f",
  );
  pin(
    "empty MsgHeartbeat from 1 to 2, term 3, commit 4",
    newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 3, commit: 4 }),
    encodeMessage,
    decodeMessage,
    `0808 1002 1801 2003 2800 3000 4004 ${EMPTY_SNAP} 5000 5800`,
  );
  pin(
    "empty MsgHup",
    newMessage({ type: MessageType.MsgHup }),
    encodeMessage,
    decodeMessage,
    `0800 1000 1800 2000 2800 3000 4000 ${EMPTY_SNAP} 5000 5800`,
  );
  pin(
    "MsgApp carrying one entry",
    newMessage({
      type: MessageType.MsgApp,
      from: 1n,
      to: 2n,
      term: 3,
      logTerm: 2,
      index: 5,
      commit: 5,
      entries: [newEntry({ term: 3, index: 6, data: utf8("x") })],
    }),
    encodeMessage,
    decodeMessage,
    `0803 1002 1801 2003 2802 3005 3a09 0800 1003 1806 220178 4005 ${EMPTY_SNAP} 5000 5800`,
  );
  pin(
    "MsgAppResp reject with hint, to the largest id",
    newMessage({ type: MessageType.MsgAppResp, from: 2n, to: U64_MAX, term: 300, index: 7, reject: true, rejectHint: 6 }),
    encodeMessage,
    decodeMessage,
    `0804 10ffffffffffffffffff01 1802 20ac02 2800 3007 4000 ${EMPTY_SNAP} 5001 5806`,
  );
  pin(
    "MsgReadIndex with context 'ctx'",
    newMessage({ type: MessageType.MsgReadIndex, from: 3n, to: 1n, term: 1, context: utf8("ctx") }),
    encodeMessage,
    decodeMessage,
    `080f 1001 1803 2001 2800 3000 4000 ${EMPTY_SNAP} 5000 5800 6203 637478`,
  );
  const snap = newSnapshot({
    data: utf8("ab"),
    metadata: { index: 10, term: 2, confState: newConfState({ voters: [1n, 2n, 3n], learners: [4n] }) },
  });
  // conf_state: 08 01 08 02 08 03 10 04 28 00 (10 bytes); metadata: 0a0a <10> 100a 1802 (16 = 0x10);
  // snapshot: 0a02 6162 1210 <16> (22 = 0x16).
  const SNAP = "0a02 6162 1210 0a0a 0801 0802 0803 1004 2800 100a 1802";
  pin("Snapshot with data and a 3-voter, 1-learner ConfState", snap, encodeSnapshot, decodeSnapshot, SNAP);
  pin(
    "MsgSnap carrying that snapshot",
    newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 2, snapshot: snap }),
    encodeMessage,
    decodeMessage,
    `0807 1002 1801 2002 2800 3000 4000 4a16 ${SNAP} 5000 5800`,
  );
  pin("empty Snapshot", newSnapshot(), encodeSnapshot, decodeSnapshot, "1208 0a02 2800 1000 1800");
  pin("HardState {term 5, vote 3, commit 7}", newHardState({ term: 5, vote: 3n, commit: 7 }), encodeHardState, decodeHardState, "0805 1003 1807");
  pin("empty HardState", newHardState(), encodeHardState, decodeHardState, "0800 1000 1800");
  pin(
    "HardState {term 2^32, vote 2^64-1, commit 300}",
    newHardState({ term: 2 ** 32, vote: U64_MAX, commit: 300 }),
    encodeHardState,
    decodeHardState,
    "0880808080 10 10ffffffffffffffffff01 18ac02",
  );
  pin("empty ConfState", newConfState(), encodeConfState, decodeConfState, "2800");
  pin(
    "joint ConfState, auto-leaving",
    newConfState({ voters: [1n], votersOutgoing: [2n], learnersNext: [3n], autoLeave: true }),
    encodeConfState,
    decodeConfState,
    "0801 1802 2003 2801",
  );
  pin(
    "ConfChange add node 1",
    newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 1n }),
    encodeConfChange,
    decodeConfChange,
    "0800 1000 1801",
  );
  pin(
    "ConfChange remove node 2^63 with id and context",
    newConfChange({ id: 9n, type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n ** 63n, context: utf8("c") }),
    encodeConfChange,
    decodeConfChange,
    "0809 1001 1880808080808080808001 220163",
  );
  pin(
    "ConfChangeV2 joint explicit: add learner 4, remove 2",
    newConfChangeV2({
      transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
      changes: [
        { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n },
        { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n },
      ],
    }),
    encodeConfChangeV2,
    decodeConfChangeV2,
    "0802 1204 0803 1004 1204 0801 1002",
  );
  pin("empty ConfChangeV2 (leave joint)", newConfChangeV2(), encodeConfChangeV2, decodeConfChangeV2, "0800");

  it.each(pinned)("$name encodes to its pinned bytes and decodes back", (p) => {
    expect(hex(p.encode())).toBe(p.hex);
    expect(p.decode(unhex(p.hex))).toStrictEqual(p.value);
  });
});

describe("decode errors", () => {
  it("throws RangeError on truncated input", () => {
    expect(() => decodeEntry(unhex("0800 1001 1802 2202 68"))).toThrow(RangeError); // data cut short
    expect(() => decodeEntry(unhex("0800 1081"))).toThrow(RangeError); // varint cut short
    expect(() => decodeHardState(unhex("08"))).toThrow(RangeError); // key without value
    expect(() => decodeMessage(unhex("0808 4a0a 1208 0a02 2800 1000"))).toThrow(RangeError); // snapshot cut short
    expect(() => decodeConfState(unhex("0a03 0102"))).toThrow(RangeError); // packed run cut short
  });

  it("throws RangeError when a sub-message's length overruns its parent", () => {
    // Snapshot{metadata(len 2){conf_state(len 4)...}}: the inner field runs past metadata's end.
    expect(() => decodeSnapshot(unhex("1202 0a04 2800 1000"))).toThrow(RangeError);
  });

  it("refuses a known field with the wrong wire type, as gogoproto does", () => {
    // HardState.term (field 1) must be a varint; here it is length-delimited.
    expect(() => decodeHardState(unhex("0a02 0807"))).toThrow(RangeError);
    // Message.entries (field 7) must be length-delimited; here it is a varint.
    expect(() => decodeMessage(unhex("0808 3801"))).toThrow(RangeError);
    // ConfState.voters accepts both forms: one varint, or a packed run.
    expect(decodeConfState(unhex("0801 0a02 0203")).voters).toEqual([1n, 2n, 3n]);
  });

  it("merges a sub-message that occurs twice, as proto2 requires", () => {
    // A heartbeat whose snapshot arrives in two parts: {metadata{index 5}} then {data "x"}.
    const m = decodeMessage(unhex("0808 4a04 12021005 4a03 0a0178"));
    expect(m.snapshot?.metadata.index).toBe(5);
    expect(Array.from(m.snapshot?.data ?? [])).toEqual([0x78]);
    // SnapshotMetadata.conf_state in two parts: voters are appended, not replaced.
    const s = decodeSnapshot(unhex("1204 0a020801 1204 0a020802"));
    expect(s.metadata.confState.voters).toEqual([1n, 2n]);
  });

  it("throws RangeError on a varint longer than 10 bytes", () => {
    expect(() => decodeHardState(unhex("10 ffffffffffffffffffff01"))).toThrow(RangeError);
  });

  const numberFields: { name: string; make: (v: bigint) => Uint8Array; decode: (b: Uint8Array) => unknown }[] = [
    ...(["Term", "Index"] as const).map((f) => ({
      name: `Entry.${f}`,
      make: (v: bigint) => reflectEncode(etcd.Entry, { [f]: long(v) }),
      decode: decodeEntry,
    })),
    ...(["term", "logTerm", "index", "commit", "rejectHint"] as const).map((f) => ({
      name: `Message.${f}`,
      make: (v: bigint) => reflectEncode(etcd.Message, { type: MessageType.MsgApp, [f]: long(v) }),
      decode: decodeMessage,
    })),
    {
      name: "Message.entries[].Term",
      make: (v: bigint) => reflectEncode(etcd.Message, { entries: [{ Term: long(v) }] }),
      decode: decodeMessage,
    },
    ...(["term", "commit"] as const).map((f) => ({
      name: `HardState.${f}`,
      make: (v: bigint) => reflectEncode(etcd.HardState, { [f]: long(v) }),
      decode: decodeHardState,
    })),
    ...(["index", "term"] as const).map((f) => ({
      name: `Snapshot.metadata.${f}`,
      make: (v: bigint) => reflectEncode(etcd.Snapshot, { metadata: { [f]: long(v) } }),
      decode: decodeSnapshot,
    })),
  ];

  it.each(numberFields)("$name above Number.MAX_SAFE_INTEGER throws RangeError; MAX_SAFE_INTEGER decodes", (f) => {
    expect(() => f.decode(f.make(BigInt(MAX_SAFE)))).not.toThrow();
    expect(() => f.decode(f.make(2n ** 53n))).toThrow(RangeError);
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(MAX_SAFE) + 1n, max: U64_MAX }), (v) => {
        expect(() => f.decode(f.make(v))).toThrow(RangeError);
      }),
      { numRuns: 50 },
    );
  });

  it("ids above 2^53 decode exactly (they are bigint)", () => {
    const b = reflectEncode(etcd.HardState, { vote: long(2n ** 53n + 1n) });
    expect(decodeHardState(b).vote).toBe(2n ** 53n + 1n);
  });
});

describe("encode errors", () => {
  it("refuses terms and indexes that are not safe non-negative integers", () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => encodeHardState(newHardState({ term: bad })), String(bad)).toThrow(RangeError);
      expect(() => encodeEntry(newEntry({ index: bad })), String(bad)).toThrow(RangeError);
      expect(() => encodeMessage(newMessage({ type: MessageType.MsgApp, commit: bad })), String(bad)).toThrow(RangeError);
    }
  });

  it("refuses ids outside [0, 2^64)", () => {
    for (const bad of [-1n, 2n ** 64n]) {
      expect(() => encodeHardState(newHardState({ vote: bad })), String(bad)).toThrow(RangeError);
      expect(() => encodeMessage(newMessage({ type: MessageType.MsgApp, to: bad })), String(bad)).toThrow(RangeError);
      expect(() => encodeConfState(newConfState({ learners: [bad] })), String(bad)).toThrow(RangeError);
    }
  });
});

describe("entrySize", () => {
  it("equals the length of the entry's encoding", () => {
    fc.assert(
      fc.property(
        rec({
          term: numArb,
          index: numArb,
          type: entryTypeArb,
          // fast-check keeps arrays short; force lengths across the 1-, 2- and 3-byte length prefixes.
          data: fc.oneof(bytesArb, fc.nat(70_000).map((n) => new Uint8Array(n))),
        }),
        (e) => {
          expect(entrySize(e)).toBe(encodeEntry(e).length);
        },
      ),
      runs,
    );
  });

  it("counts multi-byte length prefixes of large payloads", () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 70000]) {
      const e = newEntry({ term: MAX_SAFE, index: 2 ** 40, data: new Uint8Array(n) });
      expect(entrySize(e), String(n)).toBe(encodeEntry(e).length);
    }
  });

  it("payloadSize is the data length", () => {
    expect(payloadSize(newEntry({ data: new Uint8Array(12) }))).toBe(12);
    expect(payloadSize(newEntry())).toBe(0);
  });
});
