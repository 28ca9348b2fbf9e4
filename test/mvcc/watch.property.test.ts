// The watch guarantees against a naive model: random write txns, watchers created at random start
// revisions on random ranges with tiny buffers (so they keep becoming victims), random sync steps,
// reads, cancels, progress requests, compactions and restores. In the end every watcher has
// received exactly the model's events on its range from its start revision, in order, each
// revision's events in one response; a watcher cancelled for compaction or by the client has
// received a prefix of that. fast-check prints the seed and the shrunk case on failure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NoLease } from "../../src/lease/lease-item.js";
import { KvStore } from "../../src/mvcc/kvstore.js";
import type { TxnWrite } from "../../src/mvcc/kv.js";
import { EventType, type Event } from "../../src/mvcc/mvccpb.js";
import { filterNoDelete, filterNoPut, type FilterFunc, type WatchStream } from "../../src/mvcc/watcher.js";
import { allFrom, b, settle, str, testWatchableStore } from "./watch-helpers.js";

const KEYS = ["a", "b", "c", "d", "e"];
const key = fc.constantFrom(...KEYS);

type TxnOp = { t: "put"; k: string; v: string } | { t: "del"; k: string };
type Op =
  | { t: "txn"; ops: TxnOp[] }
  | { t: "delRange"; lo: string; hi: string }
  | { t: "watch"; stream: number; lo: string; hi: string; kind: 0 | 1 | 2; start: number; filter: 0 | 1 | 2; prevKv: boolean }
  | { t: "recv"; stream: number; n: number }
  | { t: "syncWatchers" }
  | { t: "syncVictims" }
  | { t: "cancel"; i: number }
  | { t: "progress"; i: number }
  | { t: "compact"; back: number; wait: boolean }
  | { t: "restore"; ops: TxnOp[] };

const txnOp: fc.Arbitrary<TxnOp> = fc.oneof(
  fc.record({ t: fc.constant("put" as const), k: key, v: fc.constantFrom("x", "y", "z") }),
  fc.record({ t: fc.constant("del" as const), k: key }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("txn" as const), ops: fc.uniqueArray(txnOp, { minLength: 1, maxLength: 3, selector: (o) => o.k }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("delRange" as const), lo: key, hi: key }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("watch" as const),
      stream: fc.nat(2),
      lo: key,
      hi: key,
      kind: fc.constantFrom(0 as const, 1 as const, 2 as const),
      start: fc.nat(40),
      filter: fc.constantFrom(0 as const, 0 as const, 1 as const, 2 as const),
      prevKv: fc.boolean(),
    }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("recv" as const), stream: fc.nat(2), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: "syncWatchers" as const }) },
  { weight: 2, arbitrary: fc.constant({ t: "syncVictims" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("cancel" as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("progress" as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const), back: fc.nat(6), wait: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("restore" as const), ops: fc.uniqueArray(txnOp, { maxLength: 3, selector: (o) => o.k }) }),
  },
);

interface ModelKv {
  value: string;
  create: number;
  version: number;
}
interface LogEvent {
  rev: number;
  type: EventType;
  key: string;
  line: string;
}

interface Tracked {
  stream: number;
  id: number;
  /** The first revision the watcher must see. */
  start: number;
  covers: (k: string) => boolean;
  filter: 0 | 1 | 2;
  prevKv: boolean;
  got: Event[];
  /** Revision sets of the responses, in order. */
  responses: number[][];
  compactRev: number;
  cancelled: boolean;
  /** Progress responses seen: [revision, events received before it]. */
  progress: [number, number][];
}

const line = (e: Event): string =>
  `${e.type === EventType.DELETE ? "DELETE" : "PUT"} ${str(e.kv.key)}@${e.kv.modRevision} c${e.kv.createRevision} v${e.kv.version} =${str(e.kv.value)}`;

async function run(ops: Op[], bufs: number[]): Promise<void> {
  const { s } = testWatchableStore({ watchBatchMaxRevs: 3, maxWatchersPerSync: 3 });
  const streams: WatchStream[] = bufs.map((n) => s.newWatchStream(n));
  const tracked: Tracked[] = [];
  const byStreamId = (si: number, id: number): Tracked | undefined =>
    tracked.find((t) => t.stream === si && t.id === id && t.compactRev === 0 && !t.cancelled) ??
    tracked.find((t) => t.stream === si && t.id === id);

  // The model: the state and the event log.
  const state = new Map<string, ModelKv>();
  const history = new Map<string, { rev: number; kv: ModelKv | undefined }[]>();
  const log: LogEvent[] = [];
  let rev = 1;
  let maxCompact = 0;
  const valueAt = (k: string, r: number): ModelKv | undefined => {
    let cur: ModelKv | undefined;
    for (const h of history.get(k) ?? []) if (h.rev <= r) cur = h.kv;
    return cur;
  };
  const record = (k: string, kv: ModelKv | undefined, r: number): void => {
    if (kv) state.set(k, kv);
    else state.delete(k);
    const h = history.get(k) ?? [];
    h.push({ rev: r, kv });
    history.set(k, h);
    log.push({
      rev: r,
      type: kv ? EventType.PUT : EventType.DELETE,
      key: k,
      line: kv ? `PUT ${k}@${r} c${kv.create} v${kv.version} =${kv.value}` : `DELETE ${k}@${r} c0 v0 =`,
    });
  };

  const take = (si: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      const r = streams[si]!.recv();
      if (r === undefined) return;
      if (r.watchID === -1) continue;
      const t = byStreamId(si, r.watchID)!;
      expect(t, `response for unknown watcher ${si}/${r.watchID}`).toBeDefined();
      expect(t.compactRev, "response after the compaction response").toBe(0);
      if (r.compactRevision !== 0) {
        expect(r.events).toEqual([]);
        expect(r.compactRevision).toBeGreaterThan(t.start);
        t.compactRev = r.compactRevision;
        continue;
      }
      if (r.events.length === 0) {
        t.progress.push([r.revision, t.got.length]);
        continue;
      }
      for (const e of r.events) expect(e.kv.modRevision).toBeLessThanOrEqual(r.revision);
      t.got.push(...r.events);
      t.responses.push([...new Set(r.events.map((e) => e.kv.modRevision))]);
      if (t.prevKv) {
        for (const e of r.events) {
          const isCreate = e.type === EventType.PUT && e.kv.createRevision === e.kv.modRevision;
          const prev = valueAt(str(e.kv.key), e.kv.modRevision - 1);
          if (e.prevKv !== undefined) {
            expect(isCreate).toBe(false);
            expect(prev).toBeDefined();
            expect([str(e.prevKv.value), e.prevKv.createRevision, e.prevKv.version]).toEqual([prev!.value, prev!.create, prev!.version]);
          } else if (!isCreate && prev !== undefined) {
            expect(e.kv.modRevision - 1, "prev_kv missing though not compacted").toBeLessThan(maxCompact);
          }
        }
      } else {
        for (const e of r.events) expect(e.prevKv).toBeUndefined();
      }
    }
  };

  const live = (): Tracked[] => tracked.filter((t) => t.compactRev === 0 && !t.cancelled);

  for (const o of ops) {
    switch (o.t) {
      case "txn":
      case "restore": {
        // A restore installs a state with revisions the watchers were never notified of (a
        // snapshot from the leader): write them with the plain store's txn, then restore.
        const txn: TxnWrite = o.t === "txn" ? s.write() : KvStore.prototype.write.call(s);
        const next = rev + 1;
        let changed = false;
        for (const x of o.ops) {
          if (x.t === "put") {
            txn.put(b(x.k), b(x.v), NoLease);
            const old = state.get(x.k);
            record(x.k, { value: x.v, create: old ? old.create : next, version: old ? old.version + 1 : 1 }, next);
            changed = true;
          } else if (state.has(x.k)) {
            txn.deleteRange(b(x.k));
            record(x.k, undefined, next);
            changed = true;
          }
        }
        txn.end();
        if (changed) rev = next;
        expect(s.rev()).toBe(rev);
        if (o.t === "restore") s.restore();
        break;
      }
      case "delRange": {
        const [lo, hi] = o.lo <= o.hi ? [o.lo, o.hi] : [o.hi, o.lo];
        const ks = [...state.keys()].filter((k) => k >= lo && k < hi).sort();
        s.deleteRange(b(lo), b(hi));
        if (ks.length > 0) {
          rev++;
          for (const k of ks) record(k, undefined, rev);
        }
        expect(s.rev()).toBe(rev);
        break;
      }
      case "watch": {
        const [lo, hi] = o.lo <= o.hi ? [o.lo, o.hi] : [o.hi, o.lo];
        let end: Uint8Array | undefined;
        let covers: (k: string) => boolean;
        if (o.kind === 0 || lo === hi) {
          end = undefined;
          covers = (k) => k === lo;
        } else if (o.kind === 1) {
          end = b(hi);
          covers = (k) => k >= lo && k < hi;
        } else {
          end = allFrom;
          covers = (k) => k >= lo;
        }
        // Starts below the compacted revision happen too: they must get a compaction response.
        const startRev = o.start % (rev + 4);
        const filters: FilterFunc[] = o.filter === 1 ? [filterNoPut] : o.filter === 2 ? [filterNoDelete] : [];
        const id = streams[o.stream]!.watch(0, b(lo), end, startRev, { filters, prevKv: o.prevKv });
        expect(typeof id).toBe("number");
        tracked.push({
          stream: o.stream,
          id: id as number,
          start: startRev === 0 ? rev + 1 : startRev,
          covers,
          filter: o.filter,
          prevKv: o.prevKv,
          got: [],
          responses: [],
          compactRev: 0,
          cancelled: false,
          progress: [],
        });
        break;
      }
      case "recv":
        take(o.stream, o.n);
        break;
      case "syncWatchers":
        s.syncWatchers();
        break;
      case "syncVictims":
        s.syncVictims();
        break;
      case "cancel": {
        const l = live();
        if (l.length === 0) break;
        const t = l[o.i % l.length]!;
        // Take what was buffered before the cancel, so the prefix check sees it.
        take(t.stream, Number.MAX_SAFE_INTEGER);
        if (t.compactRev !== 0) break;
        expect(streams[t.stream]!.cancel(t.id)).toBeUndefined();
        t.cancelled = true;
        break;
      }
      case "progress": {
        const l = live();
        if (l.length === 0) break;
        const t = l[o.i % l.length]!;
        streams[t.stream]!.requestProgress(t.id);
        break;
      }
      case "compact": {
        const at = rev - o.back;
        if (at <= maxCompact || at < 1) break;
        const p = s.compact(at);
        expect(p).toBeInstanceOf(Promise);
        maxCompact = at;
        if (o.wait) await p;
        else await settle(1);
        break;
      }
    }
  }

  // Let everything drain: readers keep reading, the store keeps syncing.
  for (let i = 0; ; i++) {
    expect(i, "watchers never caught up").toBeLessThan(10_000);
    streams.forEach((_, si) => take(si, Number.MAX_SAFE_INTEGER));
    s.syncVictims();
    s.syncWatchers();
    if (s.unsynced.size() === 0 && s.victimCount() === 0 && streams.every((st) => st.pending() === 0)) break;
  }

  for (const t of tracked) {
    const want = log
      .filter((e) => e.rev >= t.start && t.covers(e.key))
      .filter((e) => !(t.filter === 1 && e.type === EventType.PUT) && !(t.filter === 2 && e.type === EventType.DELETE));
    const got = t.got.map(line);
    const name = `watcher ${t.stream}/${t.id} from ${t.start}`;
    if (t.compactRev !== 0 || t.cancelled) {
      expect(got, `${name}: a prefix`).toEqual(want.slice(0, got.length).map((e) => e.line));
    } else {
      expect(got, name).toEqual(want.map((e) => e.line));
    }
    // A revision's events are never split, and responses go forward.
    for (let i = 1; i < t.responses.length; i++) {
      expect(Math.min(...t.responses[i]!), `${name}: a revision split or repeated across responses`).toBeGreaterThan(
        Math.max(...t.responses[i - 1]!),
      );
    }
    // A progress response at revision R comes after every event ≤ R.
    for (const [r, seen] of t.progress) {
      expect(seen, `${name}: progress ${r} before its events`).toBe(want.filter((e) => e.rev <= r).length);
    }
  }
}

describe("watch guarantees (property)", () => {
  it("every watcher gets exactly its events, in order, whole txns per response, unless compacted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
        run,
      ),
      { numRuns: 300 },
    );
  });
});
