// The KV API end to end below the network, against the naive model of apply-model.ts: random
// Range / Put / DeleteRange / Txn requests (nested txns, range compares, every target and result,
// past / compacted / future revisions, sort, limit, filters, leases granted, revoked and never
// granted), compactions, lease grants and revokes, and restarts (a new lessor and a new store over
// the same backend). Each request goes through the v3rpc checks (key.ts) and then txn.ts over a
// WatchableStore with the real lessor, exactly as the server does; every response and every error
// must equal the model's. Watchers on every key from revision 1, and on random ranges from random
// revisions (some with prev_kv), must receive exactly the model's events: in order, no gaps or
// repeats, one txn's events never split across responses. fast-check prints the seed and the
// shrunk sequence on failure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  newCompare,
  newDeleteRangeRequest,
  newPutRequest,
  newRangeRequest,
  newTxnRequest,
  type Compare,
  type RangeRequest,
  type RequestOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
} from "../../src/api/etcdserverpb/rpc.js";
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxn } from "../../src/api/v3rpc/key.js";
import { deleteRange, put, range, txn } from "../../src/etcdserver/txn.js";
import { newLessor, type Lessor } from "../../src/lease/lessor.js";
import { EventType, type Event } from "../../src/mvcc/mvccpb.js";
import { newWatchableStore, type WatchableStore } from "../../src/mvcc/watchable-store.js";
import { ErrEmptyWatcherRange, type WatchStream } from "../../src/mvcc/watcher.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import { dec, enc, inRange, Model, toKeyValue } from "./apply-model.js";

/** Small, so that ErrGRPCTooManyOps (and a nested txn's smaller budget) comes up. */
const MaxTxnOps = 4;
const KEYS = ["a", "ab", "b", "c"];
const LEASES = [1n, 2n, 3n];

// ---- request specs: plain data (printed by fast-check), made concrete at the current revision ----

/** An absolute revision, or the current revision minus `back` (a negative `back` is the future). */
type Rev = number | { back: number };
const at = (r: Rev, cur: number): number => (typeof r === "number" ? r : cur - r.back);
/** "+" is the prefix end of the key. */
const endOf = (key: string, end: string): string =>
  end === "+" ? key.slice(0, -1) + String.fromCharCode(key.charCodeAt(key.length - 1) + 1) : end;

interface RangeSpec {
  key: string;
  end: string;
  rev: Rev;
  limit: number;
  order: number;
  target: number;
  keysOnly: boolean;
  countOnly: boolean;
  /** min/max mod, min/max create revision. */
  filters: [Rev, Rev, Rev, Rev] | null;
}
interface PutSpec {
  key: string;
  value: string;
  lease: bigint;
  prevKv: boolean;
  ignore: "none" | "value" | "lease" | "both";
  /** Keep the value / lease despite ignore_*: refused by the v3rpc checks. */
  bad: boolean;
}
interface DelSpec {
  key: string;
  end: string;
  prevKv: boolean;
}
interface CmpSpec {
  key: string;
  end: string;
  target: number;
  result: number;
  /** Which oneof field holds the operand: the target's, another one (operand zero), or none. */
  field: "match" | "other" | "none";
  version: number;
  rev: Rev;
  value: string;
  lease: bigint;
}
type OpSpec =
  | { t: "range"; r: RangeSpec }
  | { t: "put"; p: PutSpec }
  | { t: "del"; d: DelSpec }
  | { t: "txn"; x: TxnSpec }
  | { t: "empty" };
interface TxnSpec {
  cmps: CmpSpec[];
  success: OpSpec[];
  failure: OpSpec[];
}

const sometimes = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, odds = 12): fc.Arbitrary<T> =>
  fc.oneof({ weight: odds, arbitrary: usual }, { weight: 1, arbitrary: rare });
const end = fc.constantFrom("", "", "", "\0", "+", ...KEYS);
const rangeEnd = fc.constantFrom("", "\0", "\0", "\0", "+", "+", ...KEYS);
const rev: fc.Arbitrary<Rev> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(-1) },
  { weight: 5, arbitrary: fc.record({ back: fc.integer({ min: -2, max: 8 }) }) },
);
const filter: fc.Arbitrary<Rev> = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.record({ back: fc.nat(6) }) });
const value = fc.constantFrom("", "x", "y", "z");
const lease = sometimes(fc.constant(0n), fc.constantFrom(...LEASES), 2);

/**
 * Request generators. Clean ones pass the v3rpc checks (no empty key, no bad sort option, no
 * empty op, no value or lease given with ignore_*, txns within MaxTxnOps) so that txns get to
 * run; wild ones break each of those now and then.
 */
function requests(clean: boolean) {
  const key = clean ? fc.constantFrom(...KEYS, "\0") : sometimes(fc.constantFrom(...KEYS), fc.constantFrom("", "\0"));
  const rangeSpec: fc.Arbitrary<RangeSpec> = fc.record({
    key,
    end: rangeEnd,
    rev,
    limit: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -1, max: 3 }) }),
    order: clean ? fc.constantFrom(0, 0, 1, 2) : sometimes(fc.constantFrom(0, 0, 1, 2), fc.constant(3)),
    target: clean ? fc.constantFrom(0, 0, 1, 2, 3, 4) : sometimes(fc.constantFrom(0, 0, 1, 2, 3, 4), fc.constant(5)),
    keysOnly: fc.boolean(),
    countOnly: sometimes(fc.constant(false), fc.constant(true), 8),
    filters: sometimes(fc.constant(null), fc.tuple(filter, filter, filter, filter), 3),
  });
  const putSpec: fc.Arbitrary<PutSpec> = fc.record({
    key,
    value,
    lease,
    prevKv: fc.boolean(),
    ignore: sometimes(fc.constant("none" as const), fc.constantFrom("value" as const, "lease" as const, "both" as const), 4),
    bad: clean ? fc.constant(false) : sometimes(fc.constant(false), fc.constant(true), 8),
  });
  const delSpec: fc.Arbitrary<DelSpec> = fc.record({ key, end, prevKv: fc.boolean() });
  const cmpSpec: fc.Arbitrary<CmpSpec> = fc.record({
    key,
    end: fc.constantFrom("", "", "\0", "+", ...KEYS),
    target: fc.integer({ min: 0, max: 4 }),
    result: fc.integer({ min: 0, max: 3 }),
    field: fc.constantFrom("match", "match", "match", "match", "other", "none"),
    version: fc.nat(3),
    rev: fc.oneof(fc.constant(0 as Rev), fc.record({ back: fc.integer({ min: -1, max: 6 }) })),
    value,
    lease,
  });
  const ops = (depth: number, budget: number): fc.Arbitrary<OpSpec> => {
    const arbs: fc.WeightedArbitrary<OpSpec>[] = [
      { weight: 6, arbitrary: rangeSpec.map((r) => ({ t: "range" as const, r })) },
      { weight: 8, arbitrary: putSpec.map((p) => ({ t: "put" as const, p })) },
      { weight: 3, arbitrary: delSpec.map((d) => ({ t: "del" as const, d })) },
    ];
    if (!clean) arbs.push({ weight: 1, arbitrary: fc.constant({ t: "empty" as const }) });
    if (depth > 0) arbs.push({ weight: 5, arbitrary: txnSpec(depth - 1, budget).map((x) => ({ t: "txn" as const, x })) });
    return fc.oneof(...arbs);
  };
  /**
   * Clean: every list at most `opc` ≤ `budget` long, nested txns within `budget − opc` (key.go's
   * rule). Wild: lists up to one more than the budget allows.
   */
  const txnSpec = (depth: number, budget: number): fc.Arbitrary<TxnSpec> =>
    (clean ? fc.integer({ min: Math.min(1, budget), max: budget }) : fc.integer({ min: 1, max: Math.max(0, budget) + 1 })).chain((opc) =>
      fc.record({
        cmps: sometimes(fc.array(cmpSpec, { minLength: 1, maxLength: Math.max(1, Math.min(3, opc)) }), fc.constant<CmpSpec[]>([]), 6),
        success: fc.array(ops(depth, Math.max(0, budget - opc)), { maxLength: opc }),
        failure: fc.array(ops(depth, Math.max(0, budget - opc)), { maxLength: opc }),
      }),
    );
  return { rangeSpec, putSpec, delSpec, txnSpec: txnSpec(2, MaxTxnOps) };
}
const clean = requests(true);
const wild = requests(false);
const either = <T>(f: (g: ReturnType<typeof requests>) => fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 3, arbitrary: f(clean) }, { weight: 1, arbitrary: f(wild) });

type Op =
  | { t: "range"; r: RangeSpec }
  | { t: "put"; p: PutSpec }
  | { t: "del"; d: DelSpec }
  | { t: "txn"; x: TxnSpec }
  | { t: "compact"; rev: Rev; wait: boolean }
  | { t: "grant"; id: bigint }
  | { t: "revoke"; id: bigint }
  | { t: "restart" }
  | { t: "watch"; key: string; end: string; start: Rev; prevKv: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: either((g) => g.rangeSpec).map((r) => ({ t: "range" as const, r })) },
  { weight: 14, arbitrary: either((g) => g.putSpec).map((p) => ({ t: "put" as const, p })) },
  { weight: 2, arbitrary: either((g) => g.delSpec).map((d) => ({ t: "del" as const, d })) },
  { weight: 10, arbitrary: either((g) => g.txnSpec).map((x) => ({ t: "txn" as const, x })) },
  {
    // A delete ending in "\0" and an ignore_* put of a key it removes, in one txn: checkIntervals
    // lets it through, etcd panics applying it, edgecd refuses it (ErrKeyNotFound). Rare otherwise.
    weight: 1,
    arbitrary: fc
      .record({ from: fc.constantFrom(...KEYS, "\0"), p: clean.putSpec, ignore: fc.constantFrom("value" as const, "lease" as const, "both" as const) })
      .map(({ from, p, ignore }) => ({
        t: "txn" as const,
        x: { cmps: [], success: [{ t: "del" as const, d: { key: from, end: "\0", prevKv: false } }, { t: "put" as const, p: { ...p, ignore } }], failure: [] },
      })),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const), rev: fc.record({ back: fc.integer({ min: -1, max: 5 }) }) as fc.Arbitrary<Rev>, wait: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("grant" as const), id: fc.constantFrom(...LEASES) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("revoke" as const), id: fc.constantFrom(...LEASES) }) },
  { weight: 1, arbitrary: fc.constant({ t: "restart" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("watch" as const), key: fc.constantFrom("\0", ...KEYS), end, start: rev, prevKv: fc.boolean() }),
  },
);

// ---- specs to requests ----

function rangeReq(s: RangeSpec, cur: number): RangeRequest {
  const [minMod, maxMod, minCreate, maxCreate] = (s.filters ?? [0, 0, 0, 0]).map((f) => at(f, cur));
  return newRangeRequest({
    key: enc(s.key),
    rangeEnd: enc(endOf(s.key, s.end)),
    revision: at(s.rev, cur),
    limit: s.limit,
    // 3 and 5 are outside the enums (ErrGRPCInvalidSortOption).
    sortOrder: s.order as SortOrder,
    sortTarget: s.target as SortTarget,
    keysOnly: s.keysOnly,
    countOnly: s.countOnly,
    minModRevision: minMod,
    maxModRevision: maxMod,
    minCreateRevision: minCreate,
    maxCreateRevision: maxCreate,
  });
}

function putReq(s: PutSpec) {
  const ignoreValue = s.ignore === "value" || s.ignore === "both";
  const ignoreLease = s.ignore === "lease" || s.ignore === "both";
  return newPutRequest({
    key: enc(s.key),
    value: enc(ignoreValue && !s.bad ? "" : s.value),
    lease: ignoreLease && !s.bad ? 0n : s.lease,
    prevKv: s.prevKv,
    ignoreValue,
    ignoreLease,
  });
}

const delReq = (s: DelSpec) => newDeleteRangeRequest({ key: enc(s.key), rangeEnd: enc(endOf(s.key, s.end)), prevKv: s.prevKv });

function cmp(s: CmpSpec, cur: number): Compare {
  const operands: Partial<Compare>[] = [
    { version: s.version },
    { createRevision: at(s.rev, cur) },
    { modRevision: at(s.rev, cur) },
    { value: enc(s.value) },
    { lease: s.lease },
  ];
  const operand = s.field === "match" ? operands[s.target] : s.field === "other" ? operands[(s.target + 1) % 5] : {};
  return newCompare({ key: enc(s.key), rangeEnd: enc(endOf(s.key, s.end)), target: s.target, result: s.result, ...operand });
}

function txnReq(s: TxnSpec, cur: number): TxnRequest {
  const req = (o: OpSpec): RequestOp =>
    o.t === "range"
      ? { requestRange: rangeReq(o.r, cur) }
      : o.t === "put"
        ? { requestPut: putReq(o.p) }
        : o.t === "del"
          ? { requestDeleteRange: delReq(o.d) }
          : o.t === "txn"
            ? { requestTxn: txnReq(o.x, cur) }
            : {};
  return newTxnRequest({ compare: s.cmps.map((c) => cmp(c, cur)), success: s.success.map(req), failure: s.failure.map(req) });
}

// ---- the server side: a member's lessor and watchable store over one backend ----

interface Member {
  le: Lessor;
  s: WatchableStore;
}

function boot(backend: MemoryBackend): Member {
  // As a member starts: the lessor recovers its leases, then the store re-attaches keys to them.
  const le = newLessor(backend, { now: () => 0 });
  const s = newWatchableStore(backend, le, { sleep: () => Promise.resolve() });
  return { le, s };
}

interface Tracked {
  name: string;
  key: string;
  end: string;
  /** The first revision it must see. */
  start: number;
  prevKv: boolean;
  stream: WatchStream;
  got: Event[];
  /** The revisions of each response, in order. */
  responses: number[][];
  compactRev: number;
}

/** Expect an error by identity, or a response equal to the model's. */
function same(got: unknown, want: unknown, what: string): void {
  if (want instanceof Error) expect(got, what).toBe(want);
  else {
    expect(got, what).not.toBeInstanceOf(Error);
    expect(got, what).toEqual(want);
  }
}

async function run(ops: Op[]): Promise<void> {
  const backend = new MemoryBackend();
  let m = boot(backend);
  const model = new Model(MaxTxnOps);
  const tracked: Tracked[] = [];

  const watch = (name: string, k: string, e: string, start: number, prevKv: boolean): void => {
    const stream = m.s.newWatchStream();
    const id = stream.watch(0, enc(k), enc(e), start, { prevKv });
    if (e !== "" && e !== "\0" && k >= e) {
      expect(id).toBe(ErrEmptyWatcherRange);
      return;
    }
    expect(typeof id).toBe("number");
    tracked.push({ name, key: k, end: e, start: start <= 0 ? model.rev + 1 : start, prevKv, stream, got: [], responses: [], compactRev: 0 });
  };
  const take = (): void => {
    for (let i = 0; i < 3; i++) m.s.syncWatchers();
    for (const t of tracked) {
      for (let r = t.stream.recv(); r !== undefined; r = t.stream.recv()) {
        expect(t.compactRev, `${t.name}: a response after its compaction response`).toBe(0);
        if (r.compactRevision !== 0) {
          expect(t.start, `${t.name}: compacted though its start is not`).toBeLessThan(model.compacted);
          t.compactRev = r.compactRevision;
          continue;
        }
        expect(r.events.length, `${t.name}: an empty response`).toBeGreaterThan(0);
        t.got.push(...r.events);
        t.responses.push([...new Set(r.events.map((e) => e.kv.modRevision))]);
      }
    }
  };
  watch("every key from 1", "\0", "\0", 1, false);
  watch("every key from 1, prev_kv", "\0", "\0", 1, true);

  for (const o of ops) {
    const cur = model.rev;
    switch (o.t) {
      case "range": {
        const r = rangeReq(o.r, cur);
        same(checkRangeRequest(r) ?? range(m.s, r), model.range(r), "range");
        break;
      }
      case "put": {
        const p = putReq(o.p);
        same(checkPutRequest(p) ?? put(m.s, m.le, p), model.put(p), "put");
        break;
      }
      case "del": {
        const d = delReq(o.d);
        same(checkDeleteRequest(d) ?? deleteRange(m.s, d), model.deleteRange(d), "deleteRange");
        break;
      }
      case "txn": {
        const t = txnReq(o.x, cur);
        same(checkTxn(t, MaxTxnOps) ?? txn(m.s, m.le, t), model.txn(t), "txn");
        break;
      }
      case "compact": {
        // Not below 1: a compaction at 0 is recorded as "no compaction scheduled" (as etcd's 0
        // scheduledCompact) and is forgotten by a restart before it finishes, as in etcd.
        const r = Math.max(1, at(o.rev, cur));
        const want = model.compact(r);
        const got = m.s.compact(r);
        if (want) expect(got).toBe(want);
        else {
          expect(got).toBeInstanceOf(Promise);
          if (o.wait) await got;
        }
        break;
      }
      case "grant": {
        const got = m.le.grant(o.id, 10);
        const want = model.grant(o.id);
        if (want) expect(got).toBe(want);
        else expect(got).not.toBeInstanceOf(Error);
        break;
      }
      case "revoke":
        expect(m.le.revoke(o.id)).toBe(model.revoke(o.id));
        break;
      case "restart": {
        take();
        m.s.close();
        m = boot(backend);
        // Every live watcher reconnects from the next revision (or its own start, if later), as a client does.
        for (const t of tracked) {
          if (t.compactRev !== 0) continue;
          t.stream = m.s.newWatchStream();
          expect(typeof t.stream.watch(0, enc(t.key), enc(t.end), Math.max(t.start, model.rev + 1), { prevKv: t.prevKv })).toBe("number");
        }
        break;
      }
      case "watch":
        if (tracked.length < 6) watch(`watch ${JSON.stringify(o)} at ${cur}`, o.key, endOf(o.key, o.end), at(o.start, cur), o.prevKv);
        break;
    }
    expect(m.s.rev(), "store revision").toBe(model.rev);
    expect(m.s.firstRev(), "compacted revision").toBe(model.compacted);
    // The lessor's bookkeeping: which leases exist and which keys each holds.
    for (const id of LEASES) {
      const l = m.le.lookup(id);
      expect(l !== undefined, `lease ${id}`).toBe(model.leases.has(id));
      if (l) expect(l.keys().sort(), `keys of lease ${id}`).toEqual(model.keysOf(id));
    }
    take();
  }
  await m.s.compactionsDone();
  take();

  for (const t of tracked) {
    const want = model.events.filter((e) => e.kv.modRevision >= t.start && inRange(dec(e.kv.key), t.key, t.end));
    const got = t.got.map((e) => ({ type: e.type, kv: e.kv }));
    if (t.compactRev !== 0) expect(got, `${t.name}: a prefix`).toEqual(want.slice(0, got.length));
    else expect(got, t.name).toEqual(want);
    for (let i = 1; i < t.responses.length; i++) {
      expect(Math.min(...t.responses[i]!), `${t.name}: a revision split or repeated across responses`).toBeGreaterThan(
        Math.max(...t.responses[i - 1]!),
      );
    }
    for (const e of t.got) {
      if (!t.prevKv) {
        expect(e.prevKv, `${t.name}: prev_kv not asked for`).toBeUndefined();
        continue;
      }
      // v3rpc's sendLoop reads the key at modRevision − 1 for every event but a creation.
      const before = e.kv.modRevision - 1;
      const prev = before >= 1 ? model.stateAt(before).get(dec(e.kv.key)) : undefined;
      if (e.prevKv !== undefined) expect(e.prevKv, `${t.name}: prev_kv`).toEqual(toKeyValue(prev!));
      else {
        const isCreate = e.type === EventType.PUT && e.kv.createRevision === e.kv.modRevision;
        expect(isCreate || prev === undefined || before < model.compacted, `${t.name}: prev_kv missing`).toBe(true);
      }
    }
  }
  m.s.close();
}

describe("KV API against a naive model (property)", () => {
  it("every response, error and watch event equals the model's", async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60, size: "max" }), run), { numRuns: 200 });
  });
});
