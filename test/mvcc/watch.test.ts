// Ports of etcd server/storage/mvcc/watchable_store_test.go and watcher_test.go. etcd's tests wait
// on channels with timeouts; here the store's sync steps are called directly and the stream's
// buffer is read with recv()/drain(), so every test is deterministic.
import { describe, expect, it } from "vitest";
import { NoLease } from "../../src/lease/lease-item.js";
import { KvStore } from "../../src/mvcc/kvstore.js";
import { EventType } from "../../src/mvcc/mvccpb.js";
import { watchResyncPeriod, type SetTimer } from "../../src/mvcc/watchable-store.js";
import {
  AutoWatchID,
  ErrEmptyWatcherRange,
  ErrWatcherDuplicateID,
  ErrWatcherNotExist,
  filterNoDelete,
  filterNoPut,
  InvalidWatchID,
  describeWatchResponse,
  type WatchResponse,
} from "../../src/mvcc/watcher.js";
import { allFrom, b, ev, kv, settle, str, testWatchableStore } from "./watch-helpers.js";

const foo = b("foo");
const bar = b("bar");

function evsOf(rs: WatchResponse[]): string[] {
  return rs.flatMap((r) => r.events.map(ev));
}

describe("watchable store (etcd watchable_store_test.go)", () => {
  it("TestWatch: a watch from now is synced", () => {
    const { s } = testWatchableStore();
    s.put(foo, bar, NoLease);
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 0);
    expect(s.synced.watcherSetByKey("foo")?.size).toBe(1);
    expect(s.unsynced.size()).toBe(0);
  });

  it("TestNewWatcherCancel: cancel removes the watcher from synced", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    const id = w.watch(0, foo, undefined, 0) as number;
    expect(w.cancel(id)).toBeUndefined();
    expect(s.synced.size()).toBe(0);
    expect(w.cancel(id)).toBe(ErrWatcherNotExist);
  });

  it("TestCancelUnsynced: cancel removes unsynced watchers", () => {
    const { s } = testWatchableStore();
    s.put(foo, bar, NoLease);
    const w = s.newWatchStream();
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) ids.push(w.watch(0, foo, undefined, 1) as number);
    expect(s.unsynced.size()).toBe(100);
    for (const id of ids) expect(w.cancel(id)).toBeUndefined();
    expect(s.unsynced.size()).toBe(0);
  });

  it("TestSyncWatchers: syncWatchers replays history and moves watchers to synced", () => {
    const { s } = testWatchableStore();
    s.put(foo, bar, NoLease);
    const w = s.newWatchStream();
    for (let i = 0; i < 100; i++) w.watch(0, foo, undefined, 1);
    expect(s.synced.watcherSetByKey("foo")).toBeUndefined();
    expect(s.unsynced.watcherSetByKey("foo")?.size).toBe(100);
    expect(s.syncWatchers()).toBe(0);
    expect(s.synced.watcherSetByKey("foo")?.size).toBe(100);
    expect(s.unsynced.watcherSetByKey("foo")).toBeUndefined();
    const rs = w.drain();
    expect(rs).toHaveLength(100);
    for (const r of rs) {
      expect(r.events).toEqual([{ type: EventType.PUT, kv: kv("foo", "bar", 2, 2, 1) }]);
      expect(r.revision).toBe(2);
    }
  });

  it("syncWatchers takes at most maxWatchersPerSync watchers per pass", () => {
    const { s } = testWatchableStore({ maxWatchersPerSync: 4 });
    s.put(foo, bar, NoLease);
    const w = s.newWatchStream();
    for (let i = 0; i < 10; i++) w.watch(0, foo, undefined, 1);
    expect(s.syncWatchers()).toBe(6);
    expect(s.syncWatchers()).toBe(2);
    expect(s.syncWatchers()).toBe(0);
    expect(w.drain()).toHaveLength(10);
  });

  it("TestRangeEvents: events in [minRev, maxRev), tombstones as DELETE at their revision", () => {
    const { s } = testWatchableStore();
    s.put(b("foo"), b("bar"), NoLease); // 2
    s.put(b("foo1"), b("bar1"), NoLease); // 3
    s.put(b("foo"), b("bar2"), NoLease); // 4
    s.deleteRange(b("foo")); // 5
    s.put(b("zzz"), b("x"), NoLease); // 6
    const w = s.newWatchStream();
    w.watch(0, b("foo"), b("fop"), 1);
    const cases: [number, number, string[]][] = [
      [1, 7, ["PUT foo@2", "PUT foo1@3", "PUT foo@4", "DELETE foo@5"]],
      [3, 5, ["PUT foo1@3", "PUT foo@4"]],
      [5, 6, ["DELETE foo@5"]],
      [6, 7, []],
      [7, 7, []],
    ];
    for (const [min, max, want] of cases) {
      expect(s.rangeEvents(min, max, s.unsynced).map(ev), `[${min}, ${max})`).toEqual(want);
    }
    const del = s.rangeEvents(5, 6, s.unsynced)[0]!;
    expect(del.kv.createRevision).toBe(0);
    expect(del.kv.value.length).toBe(0);
  });

  it("TestWatchCompacted: a compacted start gets compactRevision and is dropped", async () => {
    const { s } = testWatchableStore();
    for (let i = 0; i < 10; i++) s.put(foo, bar, NoLease);
    await s.compact(5);
    const w = s.newWatchStream();
    const id = w.watch(0, foo, undefined, 4) as number;
    s.syncWatchers();
    const rs = w.drain();
    expect(rs).toEqual([{ watchID: id, events: [], revision: 0, compactRevision: 5 }]);
    expect(s.unsynced.size() + s.synced.size()).toBe(0);
    expect(w.ids()).toEqual([]);
    // Starting at the compacted revision itself is still allowed (etcd: minRev < compactRev).
    w.watch(0, foo, undefined, 5);
    s.syncWatchers();
    expect(evsOf(w.drain())).toEqual(["PUT foo@5", "PUT foo@6", "PUT foo@7", "PUT foo@8", "PUT foo@9", "PUT foo@10", "PUT foo@11"]);
  });

  it("a delete at exactly the compacted revision still reaches a watcher starting there", async () => {
    const { s } = testWatchableStore();
    s.put(foo, bar, NoLease); // 2
    s.deleteRange(foo); // 3
    await s.compact(3);
    await settle();
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 3);
    s.syncWatchers();
    expect(evsOf(w.drain())).toEqual(["DELETE foo@3"]);
  });

  it("compacted watchers beyond maxWatchersPerSync are dropped from unsynced too", async () => {
    const { s } = testWatchableStore({ maxWatchersPerSync: 2 });
    for (let i = 0; i < 5; i++) s.put(foo, bar, NoLease);
    await s.compact(4);
    const w = s.newWatchStream();
    for (let i = 0; i < 3; i++) w.watch(0, foo, undefined, 2);
    s.syncWatchers();
    s.syncWatchers();
    s.syncWatchers();
    const rs = w.drain();
    expect(rs.map((r) => r.compactRevision)).toEqual([4, 4, 4]);
    expect(new Set(rs.map((r) => r.watchID)).size).toBe(3);
    expect(s.unsynced.size()).toBe(0);
  });

  it("TestWatchNoEventLossOnCompact: a full buffer delays the compaction response, no event is lost", async () => {
    const { s } = testWatchableStore({ chanBufLen: 1, maxWatchersPerSync: 4 });
    for (let i = 0; i < 10; i++) s.put(foo, bar, NoLease);
    await s.compact(5);
    const w = s.newWatchStream();
    const watchers = new Map<number, number>([
      [0, 1],
      [1, 1],
      [2, 6],
    ]);
    for (const [id, start] of watchers) expect(w.watch(id, foo, undefined, start)).toBe(id);
    s.syncWatchers();
    let steps = 0;
    while (watchers.size > 0) {
      expect(steps++).toBeLessThan(100);
      const resp = w.recv();
      if (resp === undefined) {
        s.syncVictims();
        s.syncWatchers();
        continue;
      }
      if (resp.compactRevision !== 0) {
        expect(resp.compactRevision).toBe(5);
        expect(watchers.has(resp.watchID)).toBe(true);
        watchers.delete(resp.watchID);
        continue;
      }
      let next = watchers.get(resp.watchID)!;
      for (const e of resp.events) expect(e.kv.modRevision).toBe(next++);
      if (next === s.rev() + 1) watchers.delete(resp.watchID);
      else watchers.set(resp.watchID, next);
    }
  });

  it("TestWatchFutureRev: a watch from a future revision starts with it", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 10);
    for (let i = 0; i < 10; i++) if (s.put(foo, bar, NoLease) >= 10) break;
    const rs = w.drain();
    expect(rs).toHaveLength(1);
    expect(rs[0]!.revision).toBe(10);
    expect(rs[0]!.events.map(ev)).toEqual(["PUT foo@10"]);
  });

  describe("TestWatchRestore", () => {
    const cases: [string, number, string[]][] = [
      ["zero revision", 0, ["PUT foo@2", "DELETE foo@3"]],
      ["revision before first write", 1, ["PUT foo@2", "DELETE foo@3"]],
      ["revision of first write", 2, ["PUT foo@2", "DELETE foo@3"]],
      ["current revision", 3, ["DELETE foo@3"]],
      ["future revision", 4, []],
    ];
    for (const [syncBefore, syncAfter] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`sync before restore ${syncBefore}, after ${syncAfter}`, () => {
        const { s } = testWatchableStore();
        const streams = cases.map(([, start], i) => {
          const w = s.newWatchStream();
          w.watch(i + 1, foo, undefined, start);
          return w;
        });
        s.put(foo, bar, NoLease);
        if (syncBefore) s.syncWatchers();
        s.restore();
        if (syncAfter) s.syncWatchers();
        s.deleteRange(foo);
        s.syncWatchers();
        s.syncWatchers();
        cases.forEach(([name, , want], i) => {
          const rs = streams[i]!.drain();
          for (const r of rs) expect(r.events.length, name).toBeGreaterThan(0);
          expect(evsOf(rs), name).toEqual(want);
        });
        expect(s.synced.size()).toBe(5);
      });
    }
  });

  it("after a restore that brings unseen revisions, synced watchers catch up on them", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 0);
    s.put(foo, bar, NoLease); // 2, notified
    // Revisions 3 and 4 arrive with a snapshot: written without the watchable txn, then restored.
    for (let i = 0; i < 2; i++) {
      const txn = KvStore.prototype.write.call(s);
      txn.put(foo, b(`v${i}`), NoLease);
      txn.end();
    }
    s.restore();
    expect(s.synced.size()).toBe(0);
    s.syncWatchers();
    expect(evsOf(w.drain())).toEqual(["PUT foo@2", "PUT foo@3", "PUT foo@4"]);
    expect(s.synced.size()).toBe(1);
  });

  describe("TestWatchBatchUnsynced", () => {
    const cases: [number, number, number, number[][]][] = [
      [12, 4, 1, [[2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 12, 13]]],
      [
        12,
        4,
        3,
        [
          [2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5],
          [6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9],
          [10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13],
        ],
      ],
    ];
    for (const [revisions, maxRevs, perRev, want] of cases) {
      it(`${revisions} revisions, ${maxRevs} revs per batch, ${perRev} events per revision`, () => {
        const { s } = testWatchableStore({ watchBatchMaxRevs: maxRevs });
        // Distinct keys per txn (etcd's v3 API refuses duplicates; etcd's test puts one key thrice).
        for (let i = 0; i < revisions; i++) {
          const txn = s.write();
          for (let j = 0; j < perRev; j++) txn.put(b(`foo${j}`), bar, NoLease);
          txn.end();
        }
        const w = s.newWatchStream();
        w.watch(0, b("foo"), b("fop"), 1);
        const batches: number[][] = [];
        while (s.unsynced.size() > 0) {
          s.syncWatchers();
          for (const r of w.drain()) batches.push(r.events.map((e) => e.kv.modRevision));
        }
        expect(batches).toEqual(want);
        expect(s.synced.size()).toBe(1);
        expect(s.unsynced.size()).toBe(0);
      });
    }
  });

  it("TestWatchVictims: slow readers never block writers and miss nothing", () => {
    const { s } = testWatchableStore({ chanBufLen: 1, maxWatchersPerSync: 2 });
    const numPuts = 64;
    const streams = Array.from({ length: 32 }, () => {
      const w = s.newWatchStream();
      w.watch(0, foo, undefined, 1);
      return { w, next: 2, evs: 0 };
    });
    let step = 0;
    let puts = 0;
    while (puts < numPuts || streams.some((x) => x.evs < numPuts)) {
      expect(step++).toBeLessThan(100_000);
      if (puts < numPuts && step % 3 === 0) {
        s.put(foo, bar, NoLease);
        puts++;
      }
      // Readers take one response now and then, at different paces.
      streams.forEach((x, i) => {
        if ((step + i) % (1 + (i % 5)) !== 0) return;
        const r = x.w.recv();
        if (r === undefined) return;
        for (const e of r.events) expect(e.kv.modRevision).toBe(x.next++);
        x.evs += r.events.length;
      });
      if (step % 7 === 0) s.syncVictims();
      if (step % 11 === 0) s.syncWatchers();
    }
    for (const x of streams) {
      expect(x.evs).toBe(numPuts);
      expect(x.w.recv()).toBeUndefined();
    }
    expect(s.victimCount()).toBe(0);
  });

  it("a victim can be cancelled", () => {
    const { s } = testWatchableStore({ chanBufLen: 1 });
    const w = s.newWatchStream();
    const id = w.watch(0, foo, undefined, 0) as number;
    s.put(foo, bar, NoLease);
    s.put(foo, bar, NoLease);
    expect(s.victimCount()).toBe(1);
    expect(w.cancel(id)).toBeUndefined();
    expect(s.victimCount()).toBe(0);
    w.drain();
    s.syncVictims();
    s.syncWatchers();
    expect(w.drain()).toEqual([]);
  });

  it("a txn's events reach each watcher in one response, DELETEs at the txn revision", () => {
    const { s } = testWatchableStore();
    s.put(b("a"), b("1"), NoLease); // 2
    const w = s.newWatchStream();
    w.watch(0, b("a"), allFrom, 0);
    const txn = s.write();
    txn.put(b("b"), b("2"), NoLease);
    txn.deleteRange(b("a"));
    txn.put(b("c"), b("3"), NoLease);
    txn.end();
    const rs = w.drain();
    expect(rs.map(describeWatchResponse)).toEqual(['watch 0 rev=3 [PUT "b"@3, DELETE "a"@3, PUT "c"@3]']);
    expect(rs[0]!.events[1]!.kv).toEqual({ ...kv("a", "", 0, 3, 0) });
  });

  it("a txn that changes nothing notifies nobody", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, allFrom, 0);
    const txn = s.write();
    txn.deleteRange(b("nothing"));
    txn.end();
    expect(s.rev()).toBe(1);
    expect(w.pending()).toBe(0);
  });

  it("prev_kv: updates and deletes carry the previous value, creations none", async () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 0, { prevKv: true });
    const plain = s.newWatchStream();
    plain.watch(0, foo, undefined, 0);
    s.put(foo, b("v1"), NoLease); // 2: create
    s.put(foo, b("v2"), NoLease); // 3
    s.deleteRange(foo); // 4
    s.put(foo, b("v3"), NoLease); // 5: create again
    const evs = w.drain().flatMap((r) => r.events);
    expect(evs.map((e) => e.prevKv)).toEqual([undefined, kv("foo", "v1", 2, 2, 1), kv("foo", "v2", 2, 3, 2), undefined]);
    expect(plain.drain().flatMap((r) => r.events).every((e) => e.prevKv === undefined)).toBe(true);
    // Replayed history gets prev_kv too; a compacted previous value is absent.
    await s.compact(3);
    const late = s.newWatchStream();
    late.watch(0, foo, undefined, 3, { prevKv: true });
    s.syncWatchers();
    const lateEvs = late.drain().flatMap((r) => r.events);
    expect(lateEvs.map(ev)).toEqual(["PUT foo@3", "DELETE foo@4", "PUT foo@5"]);
    expect(lateEvs.map((e) => e.prevKv)).toEqual([undefined, kv("foo", "v2", 2, 3, 2), undefined]);
  });

  it("start() drives syncWatchers and syncVictims through the injected timer; stop() ends it", () => {
    const { s } = testWatchableStore({ chanBufLen: 1 });
    let now = 0;
    const timers: { at: number; fn: () => void; live: boolean }[] = [];
    const setTimer: SetTimer = (ms, fn) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return () => {
        t.live = false;
      };
    };
    const advance = (ms: number): void => {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        due.live = false;
        now = due.at;
        due.fn();
      }
      now = until;
    };
    s.put(foo, bar, NoLease);
    s.start(setTimer);
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 1);
    advance(watchResyncPeriod - 1);
    expect(w.pending()).toBe(0);
    advance(1);
    expect(evsOf(w.drain())).toEqual(["PUT foo@2"]);
    s.put(foo, bar, NoLease); // fills the buffer
    s.put(foo, bar, NoLease); // victim
    expect(s.victimCount()).toBe(1);
    advance(50);
    expect(s.victimCount()).toBe(1); // still full
    expect(evsOf(w.drain())).toEqual(["PUT foo@3"]);
    advance(10);
    expect(evsOf(w.drain())).toEqual(["PUT foo@4"]);
    s.stop();
    expect(timers.filter((t) => t.live)).toEqual([]);
  });

  it("the async iterator yields responses in order and ends on close", async () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 0);
    const got: string[] = [];
    const reader = (async () => {
      for await (const r of w) got.push(...r.events.map(ev));
    })();
    s.put(foo, bar, NoLease);
    await settle();
    s.put(foo, bar, NoLease);
    w.close();
    await reader;
    expect(got).toEqual(["PUT foo@2", "PUT foo@3"]);
    expect(s.synced.size()).toBe(0);
  });
});

describe("watch stream (etcd watcher_test.go)", () => {
  it("TestWatcherWatchID: auto ids are distinct and responses carry them", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const id = w.watch(AutoWatchID, foo, undefined, 0) as number;
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      s.put(foo, bar, NoLease);
      expect(w.drain().map((r) => r.watchID)).toEqual([id]);
      expect(w.cancel(id)).toBeUndefined();
    }
    // Unsynced watchers report their ids too.
    s.put(b("foo2"), bar, NoLease);
    for (let i = 0; i < 10; i++) {
      const id = w.watch(AutoWatchID, b("foo2"), undefined, 1) as number;
      s.syncWatchers();
      expect(w.drain().map((r) => r.watchID)).toEqual([id]);
      w.cancel(id);
    }
  });

  it("TestWatcherRequestsCustomID: custom ids, duplicates refused, auto skips taken ids", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    const cases: [number, number | typeof ErrWatcherDuplicateID][] = [
      [1, 1],
      [1, ErrWatcherDuplicateID],
      [0, 0],
      [0, 2],
    ];
    for (const [give, want] of cases) expect(w.watch(give, foo, undefined, 0)).toBe(want);
  });

  it("TestWatcherWatchPrefix: a range watch sees keys inside, not outside", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, b("fop"), 0);
    s.put(b("foo"), bar, NoLease);
    s.put(b("fooo"), bar, NoLease);
    s.put(b("fop"), bar, NoLease);
    s.put(b("fo"), bar, NoLease);
    expect(evsOf(w.drain())).toEqual(["PUT foo@2", "PUT fooo@3"]);
    // From history as well.
    w.watch(7, foo, b("fop"), 1);
    s.syncWatchers();
    const rs = w.drain();
    expect(rs.map((r) => r.watchID)).toEqual([7]);
    expect(evsOf(rs)).toEqual(["PUT foo@2", "PUT fooo@3"]);
    // "\0" end: every key ≥ key.
    w.watch(8, b("fo"), allFrom, 1);
    s.syncWatchers();
    expect(evsOf(w.drain())).toEqual(["PUT foo@2", "PUT fooo@3", "PUT fop@4", "PUT fo@5"]);
  });

  it("TestWatchResponseEventsNotSharedAcrossWatchers", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.watch(0, foo, undefined, 0);
    w.watch(0, foo, undefined, 0);
    s.put(foo, bar, NoLease);
    const [r1, r2] = w.drain();
    expect(r1!.events).toHaveLength(1);
    expect(r2!.events).toHaveLength(1);
    expect(r1!.events[0]).not.toBe(r2!.events[0]);
  });

  it("TestWatcherWatchWrongRange: key ≥ end is an empty range", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    expect(w.watch(0, b("foa"), b("foa"), 1)).toBe(ErrEmptyWatcherRange);
    expect(w.watch(0, b("fob"), b("foa"), 1)).toBe(ErrEmptyWatcherRange);
    expect(w.watch(0, b("foo"), allFrom, 1)).toBe(0);
    expect(w.watch(0, allFrom, allFrom, 1)).toBe(1);
    w.close();
    expect(w.watch(0, foo, undefined, 0)).toBe(ErrEmptyWatcherRange);
  });

  it("TestWatchDeleteRange: deleting a range gives DELETE events at the txn revision", () => {
    const { s } = testWatchableStore();
    for (const k of ["foo_0", "foo_1", "foo_2"]) s.put(b(k), bar, NoLease);
    const w = s.newWatchStream();
    w.watch(0, b("foo_"), b("foo`"), 0);
    s.deleteRange(b("foo_"), b("foo`"));
    const rs = w.drain();
    expect(rs).toHaveLength(1);
    expect(rs[0]!.events).toEqual(
      ["foo_0", "foo_1", "foo_2"].map((k) => ({ type: EventType.DELETE, kv: kv(k, "", 0, 5, 0) })),
    );
  });

  it("TestWatchStreamCancelWatcherByID", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    const id = w.watch(0, foo, undefined, 0) as number;
    expect(w.cancel(id)).toBeUndefined();
    expect(w.cancel(id)).toBe(ErrWatcherNotExist);
    expect(w.cancel(id + 1)).toBe(ErrWatcherNotExist);
    expect(w.ids()).toEqual([]);
  });

  it("TestWatcherRequestProgressBadId", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    w.requestProgress(1000);
    expect(w.pending()).toBe(0);
  });

  describe("TestWatcherRequestProgress", () => {
    const cases: [string, number, boolean, boolean][] = [
      ["zero revision", 0, true, true],
      ["old revision", 1, false, true],
      ["current revision", 2, false, true],
      ["current revision plus one", 3, false, false],
      ["current revision plus two", 4, false, false],
    ];
    for (const [name, startRev, before, after] of cases) {
      it(name, () => {
        const { s } = testWatchableStore();
        s.put(foo, bar, NoLease);
        const w = s.newWatchStream();
        const id = w.watch(0, b("bad"), undefined, startRev) as number;
        w.requestProgress(id);
        expect(w.drain()).toEqual(before ? [{ watchID: id, events: [], revision: 2, compactRevision: 0 }] : []);
        s.syncWatchers();
        w.requestProgress(id);
        expect(w.drain()).toEqual(after ? [{ watchID: id, events: [], revision: 2, compactRevision: 0 }] : []);
      });
    }
  });

  it("TestWatcherRequestProgressAll: one response with id -1, only when all are synced", () => {
    const { s } = testWatchableStore();
    s.put(foo, bar, NoLease);
    const w = s.newWatchStream();
    w.watch(0, b("bad"), undefined, 1);
    w.watch(0, b("bad2"), undefined, 0);
    expect(w.requestProgressAll()).toBe(false);
    expect(w.pending()).toBe(0);
    s.syncWatchers();
    expect(w.requestProgressAll()).toBe(true);
    expect(w.drain()).toEqual([{ watchID: InvalidWatchID, events: [], revision: 2, compactRevision: 0 }]);
  });

  it("TestWatcherWatchWithFilter: NOPUT and NODELETE", () => {
    const { s } = testWatchableStore();
    const w = s.newWatchStream();
    const noPut = w.watch(0, foo, undefined, 0, { filters: [filterNoPut] }) as number;
    const noDel = w.watch(0, foo, undefined, 0, { filters: [filterNoDelete] }) as number;
    s.put(foo, bar, NoLease);
    expect(w.drain().map((r) => [r.watchID, r.events.map(ev)])).toEqual([[noDel, ["PUT foo@2"]]]);
    s.deleteRange(foo);
    expect(w.drain().map((r) => [r.watchID, r.events.map(ev)])).toEqual([[noPut, ["DELETE foo@3"]]]);
    // A filtered-out batch does not make the watcher a victim, and progress still goes through.
    w.requestProgress(noPut);
    expect(w.drain()).toEqual([{ watchID: noPut, events: [], revision: 3, compactRevision: 0 }]);
    expect(str(foo)).toBe("foo");
  });
});
