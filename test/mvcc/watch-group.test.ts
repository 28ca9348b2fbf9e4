// etcd watcher_group.go and TestNewMapwatcherToEventMap, plus the interval set against a naive model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventType, newKeyValue, type Event } from "../../src/mvcc/mvccpb.js";
import { EventBatch, IntervalSet, newWatcherBatch, WatcherGroup } from "../../src/mvcc/watcher-group.js";
import { Watcher, type WatchSink } from "../../src/mvcc/watcher.js";
import { b } from "./watch-helpers.js";

const sink: WatchSink = { trySend: () => true, hasSpace: () => true, compacted: () => {} };
const watcher = (key: string, end?: string, minRev = 0): Watcher => new Watcher(key, end, minRev, 0, sink);
const put = (key: string, rev: number): Event => ({
  type: EventType.PUT,
  kv: newKeyValue({ key: b(key), value: b("v"), createRevision: rev, modRevision: rev, version: 1 }),
});

describe("watcherGroup", () => {
  it("TestNewMapwatcherToEventMap", () => {
    const ws = [watcher("foo0"), watcher("foo1"), watcher("foo2")];
    const evs = [put("foo0", 1), put("foo1", 1), put("foo2", 1)];
    const cases: [Watcher[], Event[], Map<Watcher, Event[]>][] = [
      [[], evs, new Map()],
      [[ws[2]!], evs.slice(0, 1), new Map()],
      [[ws[1]!], evs.slice(1, 2), new Map([[ws[1]!, evs.slice(1, 2)]])],
      [[ws[0]!, ws[2]!], evs.slice(2), new Map([[ws[2]!, evs.slice(2)]])],
      [
        [ws[0]!, ws[1]!],
        evs.slice(0, 2),
        new Map([
          [ws[0]!, evs.slice(0, 1)],
          [ws[1]!, evs.slice(1, 2)],
        ]),
      ],
    ];
    for (const [sync, es, want] of cases) {
      const wg = new WatcherGroup();
      for (const w of sync) wg.add(w);
      const got = newWatcherBatch(wg, es);
      expect(got.size).toBe(want.size);
      for (const [w, eb] of got) {
        expect(eb.evs).toEqual(want.get(w));
        for (let i = 0; i < eb.evs.length; i++) expect(eb.evs[i]).not.toBe(want.get(w)![i]);
      }
    }
  });

  it("newWatcherBatch skips events below a watcher's minRev", () => {
    const wg = new WatcherGroup();
    const w = watcher("a", "", 3);
    wg.add(w);
    const wb = newWatcherBatch(wg, [put("a", 2), put("b", 3), put("c", 4)]);
    expect(wb.get(w)!.evs.map((e) => e.kv.modRevision)).toEqual([3, 4]);
  });

  it("EventBatch keeps whole revisions up to maxRevs and records moreRev", () => {
    const eb = new EventBatch(2);
    for (const r of [2, 2, 3, 4, 4, 5]) eb.add(put("k", r));
    expect(eb.evs.map((e) => e.kv.modRevision)).toEqual([2, 2, 3]);
    expect(eb.moreRev).toBe(4);
  });

  it("add, contains, watcherSetByKey, delete over keys and ranges", () => {
    const wg = new WatcherGroup();
    const k = watcher("foo");
    const r1 = watcher("fo", "fp");
    const r2 = watcher("fo", "fp");
    const all = watcher("a", "");
    for (const w of [k, r1, r2, all]) wg.add(w);
    expect(() => wg.add(k)).toThrow();
    expect(wg.ranges.describe()).toEqual(['["a", ∞)', '["fo", "fp")']);
    expect(new Set(wg.watcherSetByKey("foo"))).toEqual(new Set([k, r1, r2, all]));
    expect(new Set(wg.watcherSetByKey("fz"))).toEqual(new Set([all]));
    expect(wg.watcherSetByKey("0")).toBeUndefined();
    expect(wg.contains("0")).toBe(false);
    expect(wg.contains("zzz")).toBe(true);
    expect(wg.delete(all)).toBe(true);
    expect(wg.delete(all)).toBe(false);
    expect(wg.contains("zzz")).toBe(false);
    expect(wg.delete(r1)).toBe(true);
    expect(wg.ranges.size()).toBe(1);
    expect(wg.delete(r2)).toBe(true);
    expect(wg.ranges.size()).toBe(0);
    expect(new Set(wg.watcherSetByKey("foo"))).toEqual(new Set([k]));
    expect(wg.size()).toBe(1);
  });

  it("choose takes at most maxWatchers and reports the lowest minRev", () => {
    const wg = new WatcherGroup();
    const ws = [5, 3, 7, 4].map((r) => watcher("k", undefined, r));
    for (const w of ws) wg.add(w);
    const all = wg.choose(10, 10, 0);
    expect(all.group).toBe(wg);
    expect(all.minRev).toBe(3);
    const some = wg.choose(2, 10, 0);
    expect(some.group).not.toBe(wg);
    expect(some.group.size()).toBe(2);
    expect(some.minRev).toBe(3);
    // Compacted: minRev < compactRev gets a compaction response and leaves the chosen group.
    const res = wg.choose(10, 10, 5);
    expect(res.compacted.map((w) => w.minRev).sort()).toEqual([3, 4]);
    expect(res.minRev).toBe(5);
    expect(wg.size()).toBe(2);
    // A future minRev is a broken invariant unless the watcher came from a restore.
    const f = watcher("k", undefined, 20);
    wg.add(f);
    expect(() => wg.choose(10, 10, 0)).toThrow(/should not exceed/);
    f.restore = true;
    expect(wg.choose(10, 10, 0).minRev).toBe(5);
    expect(f.restore).toBe(false);
  });
});

describe("IntervalSet", () => {
  it("stab walks back only while an earlier range can still hold the point", () => {
    const s = new IntervalSet();
    const sets = ["ac", "be", "df"].map(() => new Set<Watcher>());
    s.insert("a", "c", sets[0]!);
    s.insert("b", "e", sets[1]!);
    s.insert("d", "f", sets[2]!);
    expect(s.stab("d")).toEqual([sets[2], sets[1]]);
    expect(s.stab("a")).toEqual([sets[0]]);
    expect(s.stab("f")).toEqual([]);
    expect(s.find("b", "e")).toBe(sets[1]);
    expect(s.delete("b", "e")).toBe(true);
    expect(s.delete("b", "e")).toBe(false);
    expect(s.stab("d")).toEqual([sets[2]]);
  });

  it("matches a naive list under random inserts, deletes and stabs", () => {
    const key = fc.stringMatching(/^[a-d]{0,3}$/);
    const op = fc.oneof(
      fc.record({ t: fc.constant("ins" as const), a: key, b: key, inf: fc.boolean() }),
      fc.record({ t: fc.constant("del" as const), i: fc.nat() }),
      fc.record({ t: fc.constant("stab" as const), p: key }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const s = new IntervalSet();
        const model: { begin: string; end: string; set: Set<Watcher> }[] = [];
        for (const o of ops) {
          if (o.t === "ins") {
            const begin = o.a < o.b || o.inf ? o.a : o.b;
            const end = o.inf ? "" : o.a < o.b ? o.b : o.a;
            if (!o.inf && begin >= end) continue;
            if (model.some((m) => m.begin === begin && m.end === end)) {
              expect(() => s.insert(begin, end, new Set())).toThrow();
              continue;
            }
            const set = new Set<Watcher>();
            s.insert(begin, end, set);
            model.push({ begin, end, set });
          } else if (o.t === "del") {
            if (model.length === 0) continue;
            const [m] = model.splice(o.i % model.length, 1);
            expect(s.delete(m!.begin, m!.end)).toBe(true);
            expect(s.find(m!.begin, m!.end)).toBeUndefined();
          } else {
            const want = model.filter((m) => m.begin <= o.p && (m.end === "" || o.p < m.end)).map((m) => m.set);
            const got = s.stab(o.p);
            expect(new Set(got)).toEqual(new Set(want));
            expect(got.length).toBe(want.length);
            expect(s.intersects(o.p)).toBe(want.length > 0);
          }
        }
        expect(s.size()).toBe(model.length);
      }),
      { numRuns: 300 },
    );
  });
});
