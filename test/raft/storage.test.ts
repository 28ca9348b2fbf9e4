/**
 * MemoryStorage (src/raft/storage.ts) against the tables of etcd's storage_test.go: term,
 * entries with a byte limit, first/last index, compact, createSnapshot, append (overlap, truncation,
 * gaps) and applySnapshot; plus limitSize, which every size-limited read goes through.
 */
import { describe, expect, test } from "vitest";
import { entrySize } from "../../src/raft/codec.js";
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from "../../src/raft/errors.js";
import { type Entry, newConfState, newEntry, newHardState, newSnapshot } from "../../src/raft/raftpb.js";
import { MemoryStorage, limitSize, noLimit } from "../../src/raft/storage.js";
import { thrown } from "./harness.js";

function ents(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => newEntry({ index: first + i, term }));
}

function ids(es: Entry[]): [number, number][] {
  return es.map((e) => [e.index, e.term]);
}

/** A storage whose entry array (dummy first) is exactly `es`, as etcd's `&MemoryStorage{ents: ents}`. */
function storageWith(es: Entry[]): MemoryStorage {
  const s = new MemoryStorage();
  s.ents = es.map((e) => ({ ...e }));
  return s;
}


describe("MemoryStorage.term", () => {
  test.each([
    { i: 2, werr: ErrCompacted, wterm: undefined },
    { i: 3, werr: undefined, wterm: 3 },
    { i: 4, werr: undefined, wterm: 4 },
    { i: 5, werr: undefined, wterm: 5 },
    { i: 6, werr: ErrUnavailable, wterm: undefined },
  ])("term($i)", ({ i, werr, wterm }) => {
    const s = storageWith(ents(3, 3, 4, 5));
    let term: number | undefined;
    expect(thrown(() => (term = s.term(i)))).toBe(werr);
    expect(term).toBe(wterm);
  });
});

describe("MemoryStorage.entries", () => {
  const all = ents(3, 3, 4, 5, 6);
  const [, e4, e5, e6] = all.map(entrySize) as [number, number, number, number];
  test.each([
    { name: "lo below the dummy", lo: 2, hi: 6, max: noLimit, werr: ErrCompacted, went: undefined },
    { name: "lo at the dummy", lo: 3, hi: 4, max: noLimit, werr: ErrCompacted, went: undefined },
    { name: "one entry", lo: 4, hi: 5, max: noLimit, werr: undefined, went: ents(4, 4) },
    { name: "two entries", lo: 4, hi: 6, max: noLimit, werr: undefined, went: ents(4, 4, 5) },
    { name: "all entries", lo: 4, hi: 7, max: noLimit, werr: undefined, went: ents(4, 4, 5, 6) },
    { name: "maxSize 0 still returns one entry", lo: 4, hi: 7, max: 0, werr: undefined, went: ents(4, 4) },
    { name: "limit to two", lo: 4, hi: 7, max: e4 + e5, werr: undefined, went: ents(4, 4, 5) },
    { name: "limit to two (half of the third)", lo: 4, hi: 7, max: e4 + e5 + Math.floor(e6 / 2), werr: undefined, went: ents(4, 4, 5) },
    { name: "limit to two (one byte short)", lo: 4, hi: 7, max: e4 + e5 + e6 - 1, werr: undefined, went: ents(4, 4, 5) },
    { name: "exactly all three", lo: 4, hi: 7, max: e4 + e5 + e6, werr: undefined, went: ents(4, 4, 5, 6) },
  ])("$name", ({ lo, hi, max, werr, went }) => {
    const s = storageWith(all);
    let got: Entry[] | undefined;
    expect(thrown(() => (got = s.entries(lo, hi, max)))).toBe(werr);
    expect(got === undefined ? undefined : ids(got)).toEqual(went === undefined ? undefined : ids(went));
  });

  test("hi past lastIndex + 1 throws (a broken invariant)", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(() => s.entries(4, 7, noLimit)).toThrow(/out of bound/);
  });

  test("a storage holding only the dummy entry has nothing to read", () => {
    expect(thrown(() => new MemoryStorage().entries(1, 1, noLimit))).toBe(ErrUnavailable);
  });
});

test("lastIndex follows appends", () => {
  const s = storageWith(ents(3, 3, 4, 5));
  expect(s.lastIndex()).toBe(5);
  s.append(ents(6, 5));
  expect(s.lastIndex()).toBe(6);
});

test("firstIndex is one past the dummy entry and follows compaction", () => {
  const s = storageWith(ents(3, 3, 4, 5));
  expect(s.firstIndex()).toBe(4);
  s.compact(4);
  expect(s.firstIndex()).toBe(5);
});

test("a new MemoryStorage is empty: first 1, last 0, term(0) = 0", () => {
  const s = new MemoryStorage();
  expect(s.firstIndex()).toBe(1);
  expect(s.lastIndex()).toBe(0);
  expect(s.term(0)).toBe(0);
  expect(thrown(() => s.term(1))).toBe(ErrUnavailable);
});

describe("MemoryStorage.compact", () => {
  test.each([
    { i: 2, werr: ErrCompacted, windex: 3, wterm: 3, wlen: 3 },
    { i: 3, werr: ErrCompacted, windex: 3, wterm: 3, wlen: 3 },
    { i: 4, werr: undefined, windex: 4, wterm: 4, wlen: 2 },
    { i: 5, werr: undefined, windex: 5, wterm: 5, wlen: 1 },
  ])("compact($i)", ({ i, werr, windex, wterm, wlen }) => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(thrown(() => s.compact(i))).toBe(werr);
    expect(s.ents[0]!.index).toBe(windex);
    expect(s.ents[0]!.term).toBe(wterm);
    expect(s.ents.length).toBe(wlen);
  });

  test("compacting past lastIndex throws (a broken invariant)", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(() => s.compact(6)).toThrow(/out of bound/);
  });

  test("the dummy entry after compaction carries no payload", () => {
    const s = storageWith([newEntry({ index: 3, term: 3 }), newEntry({ index: 4, term: 4, data: new Uint8Array([1, 2]) })]);
    s.compact(4);
    expect(s.ents).toEqual([newEntry({ index: 4, term: 4 })]);
  });
});

describe("MemoryStorage.createSnapshot", () => {
  const cs = newConfState({ voters: [1n, 2n, 3n] });
  const data = new TextEncoder().encode("data");

  test.each([
    { i: 4, wterm: 4 },
    { i: 5, wterm: 5 },
  ])("createSnapshot($i) records index, term, conf state and data", ({ i, wterm }) => {
    const s = storageWith(ents(3, 3, 4, 5));
    const snap = s.createSnapshot(i, cs, data);
    expect(snap).toEqual(newSnapshot({ data, metadata: { index: i, term: wterm, confState: cs } }));
    expect(s.snapshot()).toBe(snap);
  });

  test("a snapshot not newer than the current one is ErrSnapOutOfDate", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    s.createSnapshot(4, cs, data);
    expect(thrown(() => s.createSnapshot(4, cs, data))).toBe(ErrSnapOutOfDate);
    expect(thrown(() => s.createSnapshot(3, cs, data))).toBe(ErrSnapOutOfDate);
  });

  test("a snapshot past lastIndex throws (a broken invariant)", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(() => s.createSnapshot(6, cs, data)).toThrow(/out of bound/);
  });

  test("without a conf state, the previous snapshot's is kept", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    s.createSnapshot(4, cs, data);
    expect(s.createSnapshot(5, undefined, data).metadata.confState).toEqual(cs);
  });

  test("creating a snapshot does not compact the log", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    s.createSnapshot(5, cs, data);
    expect(s.firstIndex()).toBe(4);
    expect(ids(s.entries(4, 6, noLimit))).toEqual(ids(ents(4, 4, 5)));
  });
});

describe("MemoryStorage.append", () => {
  test.each([
    { name: "entries entirely compacted are ignored", app: ents(1, 1, 2), went: ents(3, 3, 4, 5) },
    { name: "identical entries", app: ents(3, 3, 4, 5), went: ents(3, 3, 4, 5) },
    { name: "overwrite from a conflict", app: ents(3, 3, 6, 6), went: ents(3, 3, 6, 6) },
    { name: "overlap and extend", app: ents(3, 3, 4, 5, 5), went: ents(3, 3, 4, 5, 5) },
    { name: "drop the compacted part, truncate the existing and append", app: ents(2, 3, 3, 5), went: ents(3, 3, 5) },
    { name: "truncate the existing and append", app: ents(4, 5), went: ents(3, 3, 5) },
    { name: "direct append", app: ents(6, 5), went: ents(3, 3, 4, 5, 5) },
    { name: "nothing", app: [], went: ents(3, 3, 4, 5) },
  ])("$name", ({ app, went }) => {
    const s = storageWith(ents(3, 3, 4, 5));
    s.append(app);
    expect(ids(s.ents)).toEqual(ids(went));
  });

  test("a gap after the last index throws (a broken invariant)", () => {
    const s = storageWith(ents(3, 3, 4, 5));
    expect(() => s.append(ents(7, 5))).toThrow(/missing log entry/);
    expect(ids(s.ents)).toEqual(ids(ents(3, 3, 4, 5)));
  });

  test("truncating drops every later entry, even ones not overwritten", () => {
    const s = storageWith(ents(0, 0, 1, 1, 1, 1));
    s.append(ents(2, 2));
    expect(s.lastIndex()).toBe(2);
    expect(thrown(() => s.term(3))).toBe(ErrUnavailable);
  });
});

describe("MemoryStorage.applySnapshot", () => {
  const cs = newConfState({ voters: [1n, 2n, 3n] });
  const data = new TextEncoder().encode("data");

  test("a newer snapshot replaces the log; an older one is ErrSnapOutOfDate", () => {
    const s = new MemoryStorage();
    s.append(ents(1, 1, 1));
    const snap4 = newSnapshot({ data, metadata: { index: 4, term: 4, confState: cs } });
    s.applySnapshot(snap4);
    expect(s.snapshot()).toBe(snap4);
    expect(s.firstIndex()).toBe(5);
    expect(s.lastIndex()).toBe(4);
    expect(s.term(4)).toBe(4);
    expect(thrown(() => s.term(3))).toBe(ErrCompacted);
    expect(s.initialState().confState).toEqual(cs);

    const snap3 = newSnapshot({ data, metadata: { index: 3, term: 3, confState: cs } });
    expect(thrown(() => s.applySnapshot(snap3))).toBe(ErrSnapOutOfDate);
    expect(thrown(() => s.applySnapshot(snap4))).toBe(ErrSnapOutOfDate);
    expect(s.snapshot()).toBe(snap4);
  });

  test("entries after the snapshot can then be appended", () => {
    const s = new MemoryStorage();
    s.applySnapshot(newSnapshot({ metadata: { index: 10, term: 2 } }));
    s.append(ents(11, 2, 3));
    expect(ids(s.entries(11, 13, noLimit))).toEqual(ids(ents(11, 2, 3)));
    expect(thrown(() => s.entries(10, 12, noLimit))).toBe(ErrCompacted);
  });
});

test("setHardState / initialState hand out copies", () => {
  const s = new MemoryStorage();
  const hs = newHardState({ term: 3, vote: 2n, commit: 1 });
  s.setHardState(hs);
  hs.term = 9;
  const got = s.initialState().hardState;
  expect(got).toEqual(newHardState({ term: 3, vote: 2n, commit: 1 }));
  got.commit = 7;
  expect(s.initialState().hardState.commit).toBe(1);
});

describe("limitSize", () => {
  const es = ents(1, 1, 2, 3, 4);
  const sz = es.map(entrySize);
  test.each([
    { name: "noLimit keeps everything", max: noLimit, want: 4 },
    { name: "0 keeps one entry", max: 0, want: 1 },
    { name: "less than the first entry keeps one", max: sz[0]! - 1, want: 1 },
    { name: "exactly the first", max: sz[0]!, want: 1 },
    { name: "one byte short of two", max: sz[0]! + sz[1]! - 1, want: 1 },
    { name: "exactly two", max: sz[0]! + sz[1]!, want: 2 },
    { name: "exactly all", max: sz.reduce((a, b) => a + b, 0), want: 4 },
    { name: "more than all", max: sz.reduce((a, b) => a + b, 0) + 100, want: 4 },
  ])("$name", ({ max, want }) => {
    expect(ids(limitSize(es, max))).toEqual(ids(es.slice(0, want)));
  });

  test("counts the payload in the size", () => {
    const big = [newEntry({ index: 1, term: 1, data: new Uint8Array(100) }), newEntry({ index: 2, term: 1 })];
    expect(limitSize(big, entrySize(big[1]!) * 2).length).toBe(1);
    expect(limitSize(big, entrySize(big[0]!) + entrySize(big[1]!)).length).toBe(2);
  });

  test("an empty list stays empty", () => {
    expect(limitSize([], 0)).toEqual([]);
  });
});
