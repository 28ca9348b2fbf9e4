/**
 * The unstable part of the log (src/raft/log-unstable.ts), table by table as etcd's
 * log_unstable_test.go: first/last index and term lookups across the entries and a pending
 * snapshot, restore, stableTo (which must ignore a stale acknowledgement), truncateAndAppend.
 */
import { describe, expect, test } from "vitest";
import { Unstable } from "../../src/raft/log-unstable.js";
import { discardLogger } from "../../src/raft/logger.js";
import { type Entry, type Snapshot, newEntry, newSnapshot } from "../../src/raft/raftpb.js";

/** Entries at consecutive indexes from `first`, one per term given. */
function ents(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => newEntry({ index: first + i, term }));
}

function snap(index: number, term: number): Snapshot {
  return newSnapshot({ metadata: { index, term } });
}

function unstable(entries: Entry[], offset: number, snapshot?: Snapshot): Unstable {
  const u = new Unstable(offset, discardLogger);
  u.entries = entries;
  u.snapshot = snapshot;
  return u;
}

/** (index, term) pairs: enough to compare entries without caring about empty payloads. */
function ids(es: Entry[]): [number, number][] {
  return es.map((e) => [e.index, e.term]);
}

describe("Unstable.maybeFirstIndex", () => {
  test.each([
    { name: "entries without snapshot: unknown", entries: ents(5, 1), offset: 5, snap: undefined, want: undefined },
    { name: "empty: unknown", entries: [], offset: 0, snap: undefined, want: undefined },
    { name: "snapshot before entries: snapshot index + 1", entries: ents(5, 1), offset: 5, snap: snap(4, 1), want: 5 },
    { name: "snapshot alone: snapshot index + 1", entries: [], offset: 5, snap: snap(4, 1), want: 5 },
  ])("$name", ({ entries, offset, snap: s, want }) => {
    expect(unstable(entries, offset, s).maybeFirstIndex()).toBe(want);
  });
});

describe("Unstable.maybeLastIndex", () => {
  test.each([
    { name: "last entry", entries: ents(5, 1), offset: 5, snap: undefined, want: 5 },
    { name: "last entry wins over the snapshot", entries: ents(5, 1), offset: 5, snap: snap(4, 1), want: 5 },
    { name: "snapshot index when there are no entries", entries: [], offset: 5, snap: snap(4, 1), want: 4 },
    { name: "empty: unknown", entries: [], offset: 0, snap: undefined, want: undefined },
  ])("$name", ({ entries, offset, snap: s, want }) => {
    expect(unstable(entries, offset, s).maybeLastIndex()).toBe(want);
  });
});

describe("Unstable.maybeTerm", () => {
  test.each([
    { name: "term of an entry", entries: ents(5, 1), offset: 5, snap: undefined, index: 5, want: 1 },
    { name: "past the last entry", entries: ents(5, 1), offset: 5, snap: undefined, index: 6, want: undefined },
    { name: "before the offset, no snapshot", entries: ents(5, 1), offset: 5, snap: undefined, index: 4, want: undefined },
    { name: "entry, with a snapshot present", entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 5, want: 1 },
    { name: "past the last entry, with a snapshot", entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 6, want: undefined },
    { name: "the snapshot's own index", entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 4, want: 1 },
    { name: "before the snapshot", entries: ents(5, 1), offset: 5, snap: snap(4, 1), index: 3, want: undefined },
    { name: "after a lone snapshot", entries: [], offset: 5, snap: snap(4, 1), index: 5, want: undefined },
    { name: "index of a lone snapshot", entries: [], offset: 5, snap: snap(4, 1), index: 4, want: 1 },
    { name: "empty", entries: [], offset: 0, snap: undefined, index: 5, want: undefined },
  ])("$name", ({ entries, offset, snap: s, index, want }) => {
    expect(unstable(entries, offset, s).maybeTerm(index)).toBe(want);
  });
});

test("restore replaces entries and snapshot and moves the offset past the snapshot", () => {
  const u = unstable(ents(5, 1), 5, snap(4, 1));
  const s = snap(6, 2);
  u.restore(s);
  expect(u.offset).toBe(7);
  expect(u.entries).toEqual([]);
  expect(u.snapshot).toBe(s);
  expect(u.maybeFirstIndex()).toBe(7);
  expect(u.maybeLastIndex()).toBe(6);
  expect(u.maybeTerm(6)).toBe(2);
});

describe("Unstable.stableTo", () => {
  test.each([
    { name: "empty: nothing to do", entries: [], offset: 0, snap: undefined, i: 5, t: 1, woffset: 0, wlen: 0 },
    { name: "the only entry becomes stable", entries: ents(5, 1), offset: 5, snap: undefined, i: 5, t: 1, woffset: 6, wlen: 0 },
    { name: "a prefix becomes stable", entries: ents(5, 1, 1), offset: 5, snap: undefined, i: 5, t: 1, woffset: 6, wlen: 1 },
    // The entry persisted at (6, term 1) was replaced by (6, term 2) since: the ack is stale.
    { name: "term mismatch (entry replaced) is ignored", entries: ents(6, 2), offset: 6, snap: undefined, i: 6, t: 1, woffset: 6, wlen: 1 },
    { name: "index below the offset is ignored", entries: ents(5, 1), offset: 5, snap: undefined, i: 4, t: 1, woffset: 5, wlen: 1 },
    { name: "index below the offset with another term is ignored", entries: ents(5, 1), offset: 5, snap: undefined, i: 4, t: 2, woffset: 5, wlen: 1 },
    { name: "with snapshot: first entry", entries: ents(5, 1), offset: 5, snap: snap(4, 1), i: 5, t: 1, woffset: 6, wlen: 0 },
    { name: "with snapshot: a prefix", entries: ents(5, 1, 1), offset: 5, snap: snap(4, 1), i: 5, t: 1, woffset: 6, wlen: 1 },
    { name: "with snapshot: replaced entry is ignored", entries: ents(6, 2), offset: 6, snap: snap(5, 1), i: 6, t: 1, woffset: 6, wlen: 1 },
    { name: "with snapshot: the snapshot index is not an entry", entries: ents(5, 1), offset: 5, snap: snap(4, 1), i: 4, t: 1, woffset: 5, wlen: 1 },
    { name: "with snapshot: stale term at the snapshot index", entries: ents(5, 2), offset: 5, snap: snap(4, 2), i: 4, t: 1, woffset: 5, wlen: 1 },
    { name: "past the last entry is ignored", entries: ents(5, 1, 1), offset: 5, snap: undefined, i: 7, t: 1, woffset: 5, wlen: 2 },
  ])("$name", ({ entries, offset, snap: s, i, t, woffset, wlen }) => {
    const u = unstable(entries, offset, s);
    u.stableTo(i, t);
    expect(u.offset).toBe(woffset);
    expect(u.entries.length).toBe(wlen);
  });

  test("an acknowledgement for entries a new leader has since overwritten leaves them unstable", () => {
    const u = unstable(ents(5, 1, 1, 1), 5);
    // Entries 6.. are replaced at term 2 while the write of term-1 entries 5..7 was in flight.
    u.truncateAndAppend(ents(6, 2, 2));
    u.stableTo(7, 1);
    expect(u.offset).toBe(5);
    expect(ids(u.entries)).toEqual([
      [5, 1],
      [6, 2],
      [7, 2],
    ]);
    // Entry 5 was not replaced, so its acknowledgement still counts.
    u.stableTo(5, 1);
    expect(u.offset).toBe(6);
    expect(ids(u.entries)).toEqual([
      [6, 2],
      [7, 2],
    ]);
  });
});

describe("Unstable.truncateAndAppend", () => {
  test.each([
    { name: "append to the end", entries: ents(5, 1), offset: 5, app: ents(6, 1, 1), woffset: 5, went: ents(5, 1, 1, 1) },
    { name: "replace all from the offset", entries: ents(5, 1), offset: 5, app: ents(5, 2, 2), woffset: 5, went: ents(5, 2, 2) },
    { name: "replace from before the offset", entries: ents(5, 1), offset: 5, app: ents(4, 2, 2, 2), woffset: 4, went: ents(4, 2, 2, 2) },
    { name: "truncate in the middle and append", entries: ents(5, 1, 1, 1), offset: 5, app: ents(6, 2), woffset: 5, went: ents(5, 1, 2) },
    { name: "truncate the last and append", entries: ents(5, 1, 1, 1), offset: 5, app: ents(7, 2, 2), woffset: 5, went: ents(5, 1, 1, 2, 2) },
  ])("$name", ({ entries, offset, app, woffset, went }) => {
    const u = unstable(entries, offset);
    u.truncateAndAppend(app);
    expect(u.offset).toBe(woffset);
    expect(ids(u.entries)).toEqual(ids(went));
  });

  test("does not alias the caller's array when replacing", () => {
    const app = ents(5, 2, 2);
    const u = unstable(ents(5, 1), 5);
    u.truncateAndAppend(app);
    app.push(newEntry({ index: 7, term: 2 }));
    expect(u.entries.length).toBe(2);
  });
});

describe("Unstable.slice", () => {
  test("returns [lo, hi) within the unstable entries", () => {
    const u = unstable(ents(5, 1, 1, 2), 5);
    expect(ids(u.slice(5, 7))).toEqual([
      [5, 1],
      [6, 1],
    ]);
    expect(ids(u.slice(7, 8))).toEqual([[7, 2]]);
    expect(u.slice(6, 6)).toEqual([]);
  });

  test.each([
    { name: "lo > hi", lo: 7, hi: 6 },
    { name: "lo before the offset", lo: 4, hi: 6 },
    { name: "hi past the end", lo: 6, hi: 9 },
  ])("throws on an out-of-bound slice: $name", ({ lo, hi }) => {
    const u = unstable(ents(5, 1, 1, 2), 5);
    expect(() => u.slice(lo, hi)).toThrow(/out of bound|invalid/);
  });
});
