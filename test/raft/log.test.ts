/**
 * RaftLog (src/raft/log.ts): stable storage plus the unstable tail, table by table as etcd's
 * log_test.go — conflict search (plain and by term), up-to-dateness, append and the follower's
 * maybeAppend, commit/apply bookkeeping, stableTo, term/slice bounds around compaction and
 * snapshots, and slice's byte limit.
 */
import { describe, expect, test } from "vitest";
import { entrySize } from "../../src/raft/codec.js";
import { ErrCompacted, ErrUnavailable } from "../../src/raft/errors.js";
import { RaftLog } from "../../src/raft/log.js";
import { discardLogger } from "../../src/raft/logger.js";
import { type Entry, type Snapshot, newEntry, newSnapshot } from "../../src/raft/raftpb.js";
import { MemoryStorage, noLimit } from "../../src/raft/storage.js";
import { thrown } from "./harness.js";

/** Entries at consecutive indexes from `first`, one per term given. */
function ents(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => newEntry({ index: first + i, term }));
}

/** Entries at consecutive indexes from `first` whose terms run through [fromTerm, toTerm). */
function termRange(first: number, fromTerm: number, toTerm: number): Entry[] {
  const out: Entry[] = [];
  for (let t = fromTerm; t < toTerm; t++) out.push(newEntry({ index: first + t - fromTerm, term: t }));
  return out;
}

function ids(es: Entry[]): [number, number][] {
  return es.map((e) => [e.index, e.term]);
}

function snap(index: number, term: number): Snapshot {
  return newSnapshot({ metadata: { index, term } });
}

function newLog(storage: MemoryStorage = new MemoryStorage()): RaftLog {
  return new RaftLog(storage, discardLogger);
}

/** A storage starting from a snapshot at (index, term); index 0 means a fresh storage. */
function storageFromSnapshot(index: number, term: number): MemoryStorage {
  const s = new MemoryStorage();
  if (index > 0) s.applySnapshot(snap(index, term));
  return s;
}


describe("findConflict", () => {
  test.each([
    { name: "no entries", app: [], want: 0 },
    { name: "all present", app: ents(1, 1, 2, 3), want: 0 },
    { name: "suffix present", app: ents(2, 2, 3), want: 0 },
    { name: "last present", app: ents(3, 3), want: 0 },
    { name: "present, then new entries", app: ents(1, 1, 2, 3, 4, 4), want: 4 },
    { name: "suffix present, then new", app: ents(2, 2, 3, 4, 5), want: 4 },
    { name: "last present, then new", app: ents(3, 3, 4, 4), want: 4 },
    { name: "only new", app: ents(4, 4, 4), want: 4 },
    { name: "conflict at 1", app: ents(1, 4, 4), want: 1 },
    { name: "conflict at 2", app: ents(2, 1, 4, 4), want: 2 },
    { name: "conflict at 3", app: ents(3, 1, 2, 4, 4), want: 3 },
  ])("$name", ({ app, want }) => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    expect(l.findConflict(app)).toBe(want);
  });
});

describe("findConflictByTerm", () => {
  // `log[0]` is the (index, term) of the snapshot the log starts from.
  const fresh = ents(0, 0, 2, 2, 5, 5, 5);
  const compacted = ents(10, 3, 3, 3, 4, 4, 4);
  test.each([
    { name: "past the end", log: fresh, index: 100, term: 2, want: 100 },
    { name: "last entry, higher term", log: fresh, index: 5, term: 6, want: 5 },
    { name: "last entry, same term", log: fresh, index: 5, term: 5, want: 5 },
    { name: "skips a whole term", log: fresh, index: 5, term: 4, want: 2 },
    { name: "lands on the term", log: fresh, index: 5, term: 2, want: 2 },
    { name: "no entry with a lower term", log: fresh, index: 5, term: 1, want: 0 },
    { name: "first entry", log: fresh, index: 1, term: 2, want: 1 },
    { name: "below the first entry's term", log: fresh, index: 1, term: 1, want: 0 },
    { name: "index 0", log: fresh, index: 0, term: 0, want: 0 },
    { name: "compacted log: past the end", log: compacted, index: 30, term: 3, want: 30 },
    { name: "compacted log: higher term", log: compacted, index: 14, term: 9, want: 14 },
    { name: "compacted log: same term", log: compacted, index: 14, term: 4, want: 14 },
    { name: "compacted log: skips a term", log: compacted, index: 14, term: 3, want: 12 },
    { name: "compacted log: down to the snapshot", log: compacted, index: 14, term: 2, want: 9 },
    { name: "compacted log: just after the snapshot", log: compacted, index: 11, term: 5, want: 11 },
    { name: "compacted log: the snapshot index, higher term", log: compacted, index: 10, term: 5, want: 10 },
    { name: "compacted log: the snapshot index, same term", log: compacted, index: 10, term: 3, want: 10 },
    { name: "compacted log: the snapshot index, lower term", log: compacted, index: 10, term: 2, want: 9 },
    { name: "compacted log: below the snapshot", log: compacted, index: 9, term: 2, want: 9 },
    { name: "compacted log: far below the snapshot", log: compacted, index: 4, term: 2, want: 4 },
    { name: "compacted log: index 0", log: compacted, index: 0, term: 0, want: 0 },
  ])("$name", ({ log, index, term, want }) => {
    const l = newLog(storageFromSnapshot(log[0]!.index, log[0]!.term));
    l.append(log.slice(1));
    const got = l.findConflictByTerm(index, term);
    expect(got.index).toBe(want);
    // The term returned is the log's term at that index, or 0 where the log does not know it.
    expect(got.term).toBe(l.zeroTermOnOutOfBounds(want));
  });
});

describe("isUpToDate", () => {
  // Our log ends at (index 3, term 3).
  test.each([
    { lasti: 2, term: 4, want: true },
    { lasti: 3, term: 4, want: true },
    { lasti: 4, term: 4, want: true },
    { lasti: 2, term: 2, want: false },
    { lasti: 3, term: 2, want: false },
    { lasti: 4, term: 2, want: false },
    { lasti: 2, term: 3, want: false },
    { lasti: 3, term: 3, want: true },
    { lasti: 4, term: 3, want: true },
  ])("candidate at ($lasti, term $term) → $want", ({ lasti, term, want }) => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    expect(l.isUpToDate(lasti, term)).toBe(want);
  });
});

describe("append", () => {
  test.each([
    { name: "nothing", app: [], windex: 2, went: ents(1, 1, 2), wunstable: 3 },
    { name: "after the last", app: ents(3, 2), windex: 3, went: ents(1, 1, 2, 2), wunstable: 3 },
    { name: "conflict at 1 replaces everything", app: ents(1, 2), windex: 1, went: ents(1, 2), wunstable: 1 },
    { name: "conflict at 2 truncates the stored tail", app: ents(2, 3, 3), windex: 3, went: ents(1, 1, 3, 3), wunstable: 2 },
  ])("$name", ({ app, windex, went, wunstable }) => {
    const s = new MemoryStorage();
    s.append(ents(1, 1, 2));
    const l = newLog(s);
    expect(l.append(app)).toBe(windex);
    expect(ids(l.entries(1, noLimit))).toEqual(ids(went));
    expect(l.unstable.offset).toBe(wunstable);
  });

  test("appending before the commit index throws (a broken invariant)", () => {
    const l = newLog();
    l.append(ents(1, 1, 1, 1));
    l.commitTo(2);
    expect(() => l.append(ents(2, 2))).toThrow(/out of range/);
    expect(l.lastIndex()).toBe(3);
  });
});

describe("maybeAppend", () => {
  // The log holds terms 1, 2, 3 at indexes 1..3, committed up to 1.
  const lastIndex = 3;
  const lastTerm = 3;
  const commit = 1;
  test.each([
    // (index, logTerm) not in the log: rejected, nothing changes.
    { name: "term mismatch", index: lastIndex, logTerm: lastTerm - 1, committed: lastIndex, app: ents(4, 4), wlasti: 0, wok: false, wcommit: commit },
    { name: "index past the end", index: lastIndex + 1, logTerm: lastTerm, committed: lastIndex, app: ents(5, 4), wlasti: 0, wok: false, wcommit: commit },
    // Matching the last entry.
    { name: "heartbeat-like, commit to last", index: lastIndex, logTerm: lastTerm, committed: lastIndex, app: [], wlasti: 3, wok: true, wcommit: 3 },
    { name: "commit is capped at the last new index", index: lastIndex, logTerm: lastTerm, committed: lastIndex + 1, app: [], wlasti: 3, wok: true, wcommit: 3 },
    { name: "commit to the leader's commit", index: lastIndex, logTerm: lastTerm, committed: lastIndex - 1, app: [], wlasti: 3, wok: true, wcommit: 2 },
    { name: "commit never decreases", index: lastIndex, logTerm: lastTerm, committed: 0, app: [], wlasti: 3, wok: true, wcommit: commit },
    { name: "empty append at index 0", index: 0, logTerm: 0, committed: lastIndex, app: [], wlasti: 0, wok: true, wcommit: commit },
    { name: "one new entry", index: lastIndex, logTerm: lastTerm, committed: lastIndex, app: ents(4, 4), wlasti: 4, wok: true, wcommit: 3 },
    { name: "one new entry, commit it", index: lastIndex, logTerm: lastTerm, committed: lastIndex + 1, app: ents(4, 4), wlasti: 4, wok: true, wcommit: 4 },
    { name: "commit capped at the new entry", index: lastIndex, logTerm: lastTerm, committed: lastIndex + 2, app: ents(4, 4), wlasti: 4, wok: true, wcommit: 4 },
    { name: "two new entries", index: lastIndex, logTerm: lastTerm, committed: lastIndex + 2, app: ents(4, 4, 4), wlasti: 5, wok: true, wcommit: 5 },
    // Matching an entry in the middle: the conflicting suffix is replaced.
    { name: "replace the last entry", index: lastIndex - 1, logTerm: lastTerm - 1, committed: lastIndex, app: ents(3, 4), wlasti: 3, wok: true, wcommit: 3 },
    { name: "replace from index 2", index: lastIndex - 2, logTerm: lastTerm - 2, committed: lastIndex, app: ents(2, 4), wlasti: 2, wok: true, wcommit: 2 },
    { name: "replace from index 2 with two", index: lastIndex - 2, logTerm: lastTerm - 2, committed: lastIndex, app: ents(2, 4, 4), wlasti: 3, wok: true, wcommit: 3 },
  ])("$name", ({ index, logTerm, committed, app, wlasti, wok, wcommit }) => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    l.committed = commit;
    const got = l.maybeAppend(index, logTerm, committed, app);
    expect(got).toEqual({ lastNewIndex: wlasti, ok: wok });
    expect(l.committed).toBe(wcommit);
    if (wok && app.length > 0) {
      expect(ids(l.slice(l.lastIndex() - app.length + 1, l.lastIndex() + 1, noLimit))).toEqual(ids(app));
    }
  });

  test("entries already in the log are not re-appended (no truncation of a longer log)", () => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    // A delayed MsgApp carrying only entry 2 must not cut entry 3.
    expect(l.maybeAppend(1, 1, 0, ents(2, 2))).toEqual({ lastNewIndex: 2, ok: true });
    expect(l.lastIndex()).toBe(3);
  });

  test("a conflict with a committed entry throws", () => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    l.committed = commit;
    expect(() => l.maybeAppend(0, 0, lastIndex, ents(1, 4))).toThrow(/conflict with committed entry/);
    // Nothing was changed.
    expect(ids(l.allEntries())).toEqual(ids(ents(1, 1, 2, 3)));
    expect(l.committed).toBe(commit);
  });
});

test("after compaction, term/matchTerm/unstableEntries/append/entries still work (compaction side effects)", () => {
  // 1000 entries with term == index: 750 in stable storage, 250 unstable.
  const lastIndex = 1000;
  const unstableIndex = 750;
  const storage = new MemoryStorage();
  storage.append(termRange(1, 1, unstableIndex + 1));
  const l = newLog(storage);
  l.append(termRange(unstableIndex + 1, unstableIndex + 1, lastIndex + 1));

  expect(l.maybeCommit(lastIndex, l.lastTerm())).toBe(true);
  l.appliedTo(l.committed);

  const offset = 500;
  storage.compact(offset);
  expect(l.lastIndex()).toBe(lastIndex);
  expect(l.firstIndex()).toBe(offset + 1);

  for (let j = offset; j <= l.lastIndex(); j++) {
    expect(l.term(j)).toBe(j);
    expect(l.matchTerm(j, j)).toBe(true);
  }
  expect(thrown(() => l.term(offset - 1))).toBe(ErrCompacted);

  const unstable = l.unstableEntries();
  expect(unstable.length).toBe(250);
  expect(unstable[0]!.index).toBe(751);

  const prev = l.lastIndex();
  l.append([newEntry({ index: prev + 1, term: prev + 1 })]);
  expect(l.lastIndex()).toBe(prev + 1);
  expect(l.entries(l.lastIndex(), noLimit).length).toBe(1);
});

describe("hasNextEnts / nextEnts", () => {
  // Snapshot at (3, term 1); entries 4..6 at term 1, committed up to 5.
  function setup(applied: number): RaftLog {
    const s = storageFromSnapshot(3, 1);
    const l = newLog(s);
    l.append(ents(4, 1, 1, 1));
    l.maybeCommit(5, 1);
    l.appliedTo(applied);
    return l;
  }

  test.each([
    { applied: 0, whas: true, went: ents(4, 1, 1) },
    { applied: 3, whas: true, went: ents(4, 1, 1) },
    { applied: 4, whas: true, went: ents(5, 1) },
    { applied: 5, whas: false, went: [] },
  ])("applied=$applied", ({ applied, whas, went }) => {
    const l = setup(applied);
    expect(l.hasNextEnts()).toBe(whas);
    expect(ids(l.nextEnts())).toEqual(ids(went));
  });

  test("nextEnts respects maxNextEntsSize but always hands out one entry", () => {
    const s = storageFromSnapshot(3, 1);
    const l = new RaftLog(s, discardLogger, 0);
    l.append(ents(4, 1, 1, 1));
    l.commitTo(6);
    expect(ids(l.nextEnts())).toEqual([[4, 1]]);
    const two = new RaftLog(storageFromSnapshot(3, 1), discardLogger, entrySize(ents(4, 1)[0]!) * 2);
    two.append(ents(4, 1, 1, 1));
    two.commitTo(6);
    expect(ids(two.nextEnts())).toEqual(ids(ents(4, 1, 1)));
  });

  test("a pending (unstable) snapshot hides entries below it", () => {
    const l = setup(3);
    l.restore(snap(5, 1));
    expect(l.committed).toBe(5);
    expect(l.hasNextEnts()).toBe(false);
    expect(l.nextEnts()).toEqual([]);
  });
});

describe("appliedTo", () => {
  test("moves applied forward within [applied, committed]", () => {
    const l = newLog();
    l.append(ents(1, 1, 1, 1));
    l.commitTo(3);
    l.appliedTo(2);
    expect(l.applied).toBe(2);
    l.appliedTo(0); // no-op
    expect(l.applied).toBe(2);
  });

  test.each([
    { name: "past committed", i: 4 },
    { name: "behind applied", i: 1 },
  ])("throws when $name", ({ i }) => {
    const l = newLog();
    l.append(ents(1, 1, 1, 1, 1));
    l.commitTo(3);
    l.appliedTo(2);
    expect(() => l.appliedTo(i)).toThrow(/out of range/);
  });
});

describe("unstableEntries", () => {
  test.each([
    { name: "everything already stable", stable: 2, went: [] as Entry[] },
    { name: "everything unstable", stable: 0, went: ents(1, 1, 2) },
    { name: "part unstable", stable: 1, went: ents(2, 2) },
  ])("$name", ({ stable, went }) => {
    const all = ents(1, 1, 2);
    const s = new MemoryStorage();
    s.append(all.slice(0, stable));
    const l = newLog(s);
    l.append(all.slice(stable));
    const got = l.unstableEntries();
    expect(ids(got)).toEqual(ids(went));
    if (got.length > 0) {
      const last = got[got.length - 1]!;
      l.stableTo(last.index, last.term);
    }
    expect(l.unstable.offset).toBe(3);
    expect(l.unstableEntries()).toEqual([]);
  });
});

describe("commitTo", () => {
  test.each([
    { commit: 3, wcommit: 3 },
    { commit: 1, wcommit: 2 }, // never decreases
  ])("commitTo($commit) from 2", ({ commit, wcommit }) => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    l.committed = 2;
    l.commitTo(commit);
    expect(l.committed).toBe(wcommit);
  });

  test("committing past lastIndex throws", () => {
    const l = newLog();
    l.append(ents(1, 1, 2, 3));
    l.committed = 2;
    expect(() => l.commitTo(4)).toThrow(/out of range \[lastIndex\(3\)\]/);
    expect(l.committed).toBe(2);
  });
});

describe("stableTo", () => {
  test.each([
    { i: 1, t: 1, wunstable: 2 },
    { i: 2, t: 2, wunstable: 3 },
    { i: 2, t: 1, wunstable: 1 }, // bad term
    { i: 3, t: 1, wunstable: 1 }, // bad index
  ])("stableTo($i, $t)", ({ i, t, wunstable }) => {
    const l = newLog();
    l.append(ents(1, 1, 2));
    l.stableTo(i, t);
    expect(l.unstable.offset).toBe(wunstable);
  });

  describe("with a snapshot in storage at (5, 2)", () => {
    const snapi = 5;
    const snapt = 2;
    test.each([
      { i: snapi + 1, t: snapt, app: [], wunstable: snapi + 1 },
      { i: snapi, t: snapt, app: [], wunstable: snapi + 1 },
      { i: snapi - 1, t: snapt, app: [], wunstable: snapi + 1 },
      { i: snapi + 1, t: snapt + 1, app: [], wunstable: snapi + 1 },
      { i: snapi, t: snapt + 1, app: [], wunstable: snapi + 1 },
      { i: snapi - 1, t: snapt + 1, app: [], wunstable: snapi + 1 },
      { i: snapi + 1, t: snapt, app: ents(snapi + 1, snapt), wunstable: snapi + 2 },
      { i: snapi, t: snapt, app: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { i: snapi - 1, t: snapt, app: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { i: snapi + 1, t: snapt + 1, app: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { i: snapi, t: snapt + 1, app: ents(snapi + 1, snapt), wunstable: snapi + 1 },
      { i: snapi - 1, t: snapt + 1, app: ents(snapi + 1, snapt), wunstable: snapi + 1 },
    ])("stableTo($i, $t) after appending $app.length", ({ i, t, app, wunstable }) => {
      const l = newLog(storageFromSnapshot(snapi, snapt));
      l.append(app);
      l.stableTo(i, t);
      expect(l.unstable.offset).toBe(wunstable);
    });
  });
});

describe("storage compaction as seen through the log", () => {
  function setup(): { storage: MemoryStorage; l: RaftLog } {
    const storage = new MemoryStorage();
    storage.append(termRange(1, 1, 1001));
    const l = newLog(storage);
    l.appliedTo(l.committed);
    return { storage, l };
  }

  test("allEntries shrinks with each compaction", () => {
    const { storage, l } = setup();
    for (const [compact, left] of [
      [300, 700],
      [500, 500],
      [800, 200],
      [900, 100],
    ] as const) {
      storage.compact(compact);
      expect(l.allEntries().length).toBe(left);
    }
  });

  test("compacting past the last index throws; compacting backwards is ErrCompacted", () => {
    const { storage, l } = setup();
    expect(() => storage.compact(1001)).toThrow(/out of bound/);
    storage.compact(300);
    expect(thrown(() => storage.compact(299))).toBe(ErrCompacted);
    expect(l.allEntries().length).toBe(700);
  });
});

test("a log over a storage that starts from a snapshot begins after it, committed and applied", () => {
  const index = 1000;
  const term = 1000;
  const l = newLog(storageFromSnapshot(index, term));
  expect(l.allEntries()).toEqual([]);
  expect(l.firstIndex()).toBe(index + 1);
  expect(l.committed).toBe(index);
  expect(l.applied).toBe(index);
  expect(l.unstable.offset).toBe(index + 1);
  expect(l.term(index)).toBe(term);
  expect(l.lastTerm()).toBe(term);
});

describe("restore (a snapshot from the leader)", () => {
  test("the log becomes the snapshot: pending until stableSnapTo", () => {
    const s = new MemoryStorage();
    s.append(ents(1, 1, 1, 1));
    const l = newLog(s);
    l.append(ents(4, 2));
    const sn = snap(10, 3);
    l.restore(sn);
    expect(l.committed).toBe(10);
    expect(l.firstIndex()).toBe(11);
    expect(l.lastIndex()).toBe(10);
    expect(l.lastTerm()).toBe(3);
    expect(l.unstableEntries()).toEqual([]);
    expect(l.hasPendingSnapshot()).toBe(true);
    expect(l.snapshot()).toBe(sn);
    expect(l.matchTerm(10, 3)).toBe(true);

    // The application persists it; the log then reads through storage again.
    s.applySnapshot(sn);
    l.stableSnapTo(10);
    expect(l.hasPendingSnapshot()).toBe(false);
    expect(l.snapshot()).toBe(sn);
    expect(l.firstIndex()).toBe(11);
    expect(l.term(10)).toBe(3);
  });

  test("stableSnapTo for another index keeps the snapshot pending", () => {
    const l = newLog();
    l.restore(snap(10, 3));
    l.stableSnapTo(9);
    expect(l.hasPendingSnapshot()).toBe(true);
  });
});

describe("slice bounds (mustCheckOutOfBounds)", () => {
  // Snapshot at 100; entries 101..200 unstable.
  const offset = 100;
  const num = 100;
  const first = offset + 1;
  function setup(): RaftLog {
    const l = newLog(storageFromSnapshot(offset, 0));
    l.append(termRange(first, first, first + num));
    return l;
  }

  test.each([
    { lo: first - 2, hi: first + 1, want: "compacted" },
    { lo: first - 1, hi: first + 1, want: "compacted" },
    { lo: first, hi: first, want: "ok" },
    { lo: first + num / 2, hi: first + num / 2, want: "ok" },
    { lo: first + num - 1, hi: first + num - 1, want: "ok" },
    { lo: first + num, hi: first + num, want: "ok" },
    { lo: first, hi: first + num, want: "ok" },
    { lo: first + num, hi: first + num + 1, want: "panic" },
    { lo: first + num + 1, hi: first + num + 1, want: "panic" },
    { lo: first + 2, hi: first + 1, want: "panic" },
  ])("slice($lo, $hi) → $want", ({ lo, hi, want }) => {
    const l = setup();
    const err = thrown(() => l.slice(lo, hi, noLimit));
    if (want === "ok") expect(err).toBeUndefined();
    else if (want === "compacted") expect(err).toBe(ErrCompacted);
    else {
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBe(ErrCompacted);
      expect(String(err)).toMatch(/out of bound|invalid slice/);
    }
  });
});

describe("term", () => {
  test.each([
    { idx: 99, want: ErrCompacted },
    { idx: 100, want: 1 },
    { idx: 150, want: 50 },
    { idx: 199, want: 99 },
    { idx: 200, want: ErrUnavailable },
  ])("term($idx) with a snapshot at 100 and entries 101..199", ({ idx, want }) => {
    const l = newLog(storageFromSnapshot(100, 1));
    l.append(termRange(101, 1, 100));
    if (typeof want === "number") expect(l.term(idx)).toBe(want);
    else expect(thrown(() => l.term(idx))).toBe(want);
  });

  test.each([
    { idx: 100, want: ErrCompacted }, // the storage's snapshot is below the unstable one
    { idx: 101, want: ErrCompacted }, // the gap between the two snapshots
    { idx: 104, want: ErrCompacted },
    { idx: 105, want: 1 }, // the unstable snapshot's own index
    { idx: 106, want: ErrUnavailable }, // nothing after the unstable snapshot
  ])("term($idx) with an unstable snapshot at 105 over a stored one at 100", ({ idx, want }) => {
    const l = newLog(storageFromSnapshot(100, 1));
    l.restore(snap(105, 1));
    if (typeof want === "number") expect(l.term(idx)).toBe(want);
    else expect(thrown(() => l.term(idx))).toBe(want);
  });

  test("termOrUndefined and zeroTermOnOutOfBounds swallow only the bounds errors", () => {
    const l = newLog(storageFromSnapshot(100, 1));
    l.append(termRange(101, 1, 10));
    expect(l.termOrUndefined(99)).toBeUndefined();
    expect(l.termOrUndefined(111)).toBeUndefined();
    expect(l.zeroTermOnOutOfBounds(99)).toBe(0);
    expect(l.zeroTermOnOutOfBounds(105)).toBe(5);
  });
});

describe("slice with a byte limit", () => {
  // Snapshot at 100; entries 101..149 in storage, 150..199 unstable; term == index.
  const offset = 100;
  const num = 100;
  const last = offset + num;
  const half = offset + num / 2;
  const size = entrySize(newEntry({ index: half, term: half }));
  const range = (from: number, to: number): Entry[] => termRange(from, from, to);

  function setup(): RaftLog {
    const s = storageFromSnapshot(offset, 0);
    s.append(range(offset + 1, half));
    const l = newLog(s);
    l.append(range(half, last));
    return l;
  }

  test.each([
    // No limit.
    { lo: offset + 1, hi: offset + 1, lim: noLimit, w: [] as Entry[] },
    { lo: offset + 1, hi: half - 1, lim: noLimit, w: range(offset + 1, half - 1) },
    { lo: offset + 1, hi: half, lim: noLimit, w: range(offset + 1, half) },
    { lo: offset + 1, hi: half + 1, lim: noLimit, w: range(offset + 1, half + 1) },
    { lo: offset + 1, hi: last, lim: noLimit, w: range(offset + 1, last) },
    { lo: half - 1, hi: half, lim: noLimit, w: range(half - 1, half) },
    { lo: half - 1, hi: half + 1, lim: noLimit, w: range(half - 1, half + 1) },
    { lo: half - 1, hi: last, lim: noLimit, w: range(half - 1, last) },
    { lo: half, hi: half + 1, lim: noLimit, w: range(half, half + 1) },
    { lo: half, hi: last, lim: noLimit, w: range(half, last) },
    { lo: last - 1, hi: last, lim: noLimit, w: range(last - 1, last) },
    // At least one entry is always returned.
    { lo: offset + 1, hi: last, lim: 0, w: range(offset + 1, offset + 2) },
    { lo: half - 1, hi: half + 1, lim: 0, w: range(half - 1, half) },
    { lo: half, hi: last, lim: 0, w: range(half, half + 1) },
    { lo: half + 1, hi: last, lim: 0, w: range(half + 1, half + 2) },
    // Less than one entry.
    { lo: offset + 1, hi: last, lim: size - 1, w: range(offset + 1, offset + 2) },
    { lo: half - 1, hi: half + 1, lim: size - 1, w: range(half - 1, half) },
    { lo: half, hi: last, lim: size - 1, w: range(half, half + 1) },
    // Exactly one entry.
    { lo: offset + 1, hi: last, lim: size, w: range(offset + 1, offset + 2) },
    { lo: half - 1, hi: half + 1, lim: size, w: range(half - 1, half) },
    { lo: half, hi: last, lim: size, w: range(half, half + 1) },
    // Not enough for two.
    { lo: offset + 1, hi: last, lim: size + 1, w: range(offset + 1, offset + 2) },
    { lo: half - 1, hi: half + 1, lim: size + 1, w: range(half - 1, half) },
    { lo: half, hi: last, lim: size + 1, w: range(half, half + 1) },
    // Enough for two (the stable/unstable boundary is crossed in the middle one).
    { lo: offset + 1, hi: last, lim: size * 2, w: range(offset + 1, offset + 3) },
    { lo: half - 2, hi: half + 1, lim: size * 2, w: range(half - 2, half) },
    { lo: half - 1, hi: half + 1, lim: size * 2, w: range(half - 1, half + 1) },
    { lo: half, hi: last, lim: size * 2, w: range(half, half + 2) },
    // Not enough for three.
    { lo: half - 2, hi: half + 1, lim: size * 3 - 1, w: range(half - 2, half) },
    // Enough for three.
    { lo: half - 1, hi: half + 2, lim: size * 3, w: range(half - 1, half + 2) },
  ])("slice($lo, $hi, $lim)", ({ lo, hi, lim, w }) => {
    expect(ids(setup().slice(lo, hi, lim))).toEqual(ids(w));
  });

  test.each([
    { lo: offset - 1, hi: offset + 1 },
    { lo: offset, hi: offset + 1 },
  ])("slice($lo, $hi) below the first index is ErrCompacted", ({ lo, hi }) => {
    expect(thrown(() => setup().slice(lo, hi, noLimit))).toBe(ErrCompacted);
  });

  test.each([
    { name: "lo > hi", lo: half, hi: half - 1 },
    { name: "hi past the end", lo: last, hi: last + 1 },
  ])("slice throws when $name", ({ lo, hi }) => {
    expect(() => setup().slice(lo, hi, noLimit)).toThrow();
  });

  test("a size cut inside storage ends the result: no unstable entry follows a gap", () => {
    // Stored: 1 (small), 2 (large); unstable: 3 (small). A limit that fits 1 and 3 but not 2.
    const s = new MemoryStorage();
    s.append([newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 1, data: new Uint8Array(64) })]);
    const l = newLog(s);
    l.append(ents(3, 1));
    const small = entrySize(newEntry({ index: 1, term: 1 }));
    expect(ids(l.slice(1, 4, small * 2))).toEqual([[1, 1]]);
    expect(ids(l.slice(1, 4, noLimit))).toEqual(ids(ents(1, 1, 1, 1)));
  });

  test("entries(i) reads from i to the end; past the end it is empty", () => {
    const l = setup();
    expect(ids(l.entries(last - 2, noLimit))).toEqual(ids(range(last - 2, last)));
    expect(l.entries(last, noLimit)).toEqual([]);
    expect(thrown(() => l.entries(offset, noLimit))).toBe(ErrCompacted);
  });
});

describe("maybeCommit", () => {
  test("commits only an index whose entry has the given term", () => {
    const l = newLog();
    l.append(ents(1, 1, 2, 2));
    expect(l.maybeCommit(2, 1)).toBe(false);
    expect(l.committed).toBe(0);
    expect(l.maybeCommit(2, 2)).toBe(true);
    expect(l.committed).toBe(2);
    expect(l.maybeCommit(1, 1)).toBe(false); // never backwards
    expect(l.maybeCommit(5, 2)).toBe(false); // past the end: unknown term
    expect(l.committed).toBe(2);
  });
});
