import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ErrRevisionNotFound } from "../../src/mvcc/errors.js";
import { KeyIndex, type AvailableRevisions, type Generation } from "../../src/mvcc/key-index.js";
import { revision, revisionKey, zeroRevision, type Revision } from "../../src/mvcc/revision.js";

const enc = new TextEncoder();
const foo = enc.encode("foo");
const r = revision;

/**
 * etcd's newTestKeyIndex:
 *     {empty}
 *     {14.0, 14.1, 16.0(t)}
 *     {8.0, 10.0, 12.0(t)}
 *     {2.0, 4.0, 6.0(t)}
 */
function newTestKeyIndex(): KeyIndex {
  const ki = new KeyIndex(foo);
  ki.put(2, 0);
  ki.put(4, 0);
  expect(ki.tombstone(6, 0)).toBeUndefined();
  ki.put(8, 0);
  ki.put(10, 0);
  expect(ki.tombstone(12, 0)).toBeUndefined();
  ki.put(14, 0);
  ki.put(14, 1);
  expect(ki.tombstone(16, 0)).toBeUndefined();
  return ki;
}

function gen(created: Revision, ver: number, revs: Revision[]): Generation {
  return { created, ver, revs };
}
const empty = (): Generation => gen(zeroRevision, 0, []);

function expectKeyIndex(ki: KeyIndex, modified: Revision, generations: Generation[]): void {
  expect({ key: Array.from(ki.key), modified: ki.modified, generations: ki.generations }).toEqual({
    key: Array.from(foo),
    modified,
    generations,
  });
}

function clone(ki: KeyIndex): KeyIndex {
  const c = new KeyIndex(ki.key);
  c.modified = ki.modified;
  c.generations = ki.generations.map((g) => ({ ...g, revs: [...g.revs] }));
  return c;
}

const sortedKeys = (m: AvailableRevisions) => [...m.keys()].sort();

describe("keyIndex.get (etcd TestKeyIndexGet)", () => {
  it("reads each generation after compact(4)", () => {
    const ki = newTestKeyIndex();
    ki.compact(4, new Map());
    const nf = undefined;
    const table: [number, Revision | undefined, Revision | undefined, number][] = [
      [17, nf, nf, 0],
      [16, nf, nf, 0],
      [15, r(14, 1), r(14, 0), 2],
      [14, r(14, 1), r(14, 0), 2],
      [13, nf, nf, 0],
      [12, nf, nf, 0],
      [11, r(10), r(8), 2],
      [10, r(10), r(8), 2],
      [9, r(8), r(8), 1],
      [8, r(8), r(8), 1],
      [7, nf, nf, 0],
      [6, nf, nf, 0],
      [5, r(4), r(2), 2],
      [4, r(4), r(2), 2],
      [3, nf, nf, 0],
      [2, nf, nf, 0],
      [1, nf, nf, 0],
      [0, nf, nf, 0],
    ];
    for (const [rev, modified, created, ver] of table) {
      const got = ki.get(rev);
      if (modified === undefined) expect(got, `rev ${rev}`).toBe(ErrRevisionNotFound);
      else expect(got, `rev ${rev}`).toEqual({ modified, created, ver });
    }
  });

  it("counts versions within a generation before compaction", () => {
    const ki = newTestKeyIndex();
    expect(ki.get(2)).toEqual({ modified: r(2), created: r(2), ver: 1 });
    expect(ki.get(3)).toEqual({ modified: r(2), created: r(2), ver: 1 });
    expect(ki.get(4)).toEqual({ modified: r(4), created: r(2), ver: 2 });
    expect(ki.get(1)).toBe(ErrRevisionNotFound);
  });
});

describe("keyIndex.since (etcd TestKeyIndexSince)", () => {
  it("returns one revision per main revision from rev on, across generations", () => {
    const ki = newTestKeyIndex();
    ki.compact(4, new Map());
    const all = [r(2), r(4), r(6), r(8), r(10), r(12), r(14, 1), r(16)];
    const table: [number, Revision[]][] = [
      [17, []],
      [16, all.slice(7)],
      [15, all.slice(7)],
      [14, all.slice(6)],
      [13, all.slice(6)],
      [12, all.slice(5)],
      [11, all.slice(5)],
      [10, all.slice(4)],
      [9, all.slice(4)],
      [8, all.slice(3)],
      [7, all.slice(3)],
      [6, all.slice(2)],
      [5, all.slice(2)],
      [4, all.slice(1)],
      [3, all.slice(1)],
    ];
    for (const [rev, want] of table) expect(ki.since(rev), `rev ${rev}`).toEqual(want);
    const fresh = newTestKeyIndex();
    expect(fresh.since(2)).toEqual(all);
    expect(fresh.since(1)).toEqual(all);
    expect(fresh.since(0)).toEqual(all);
  });
});

describe("keyIndex.put / restore / tombstone", () => {
  it("put appends to the open generation (etcd TestKeyIndexPut)", () => {
    const ki = new KeyIndex(foo);
    ki.put(5, 0);
    expectKeyIndex(ki, r(5), [gen(r(5), 1, [r(5)])]);
    ki.put(7, 0);
    expectKeyIndex(ki, r(7), [gen(r(5), 2, [r(5), r(7)])]);
  });

  it("put refuses a revision not above modified (etcd panics)", () => {
    const ki = new KeyIndex(foo);
    ki.put(5, 1);
    expect(() => ki.put(5, 1)).toThrow(/smaller revision/);
    expect(() => ki.put(5, 0)).toThrow(/smaller revision/);
    expect(() => ki.put(4, 9)).toThrow(/smaller revision/);
    ki.put(5, 2);
    expect(ki.modified).toEqual(r(5, 2));
  });

  it("restore rebuilds one generation (etcd TestKeyIndexRestore)", () => {
    const ki = new KeyIndex(foo);
    ki.restore(r(5), r(7), 2);
    expectKeyIndex(ki, r(7), [gen(r(5), 2, [r(7)])]);
    expect(ki.get(7)).toEqual({ modified: r(7), created: r(5), ver: 2 });
    expect(() => ki.restore(r(5), r(7), 2)).toThrow(/non-empty/);
  });

  it("tombstone closes the generation and opens an empty one (etcd TestKeyIndexTombstone)", () => {
    const ki = new KeyIndex(foo);
    ki.put(5, 0);
    expect(ki.tombstone(7, 0)).toBeUndefined();
    expectKeyIndex(ki, r(7), [gen(r(5), 2, [r(5), r(7)]), empty()]);
    ki.put(8, 0);
    ki.put(9, 0);
    expect(ki.tombstone(15, 0)).toBeUndefined();
    expectKeyIndex(ki, r(15), [gen(r(5), 2, [r(5), r(7)]), gen(r(8), 3, [r(8), r(9), r(15)]), empty()]);
    expect(ki.tombstone(16, 0)).toBe(ErrRevisionNotFound);
    expect(ki.modified).toEqual(r(15));
    expect(new KeyIndex(foo).tombstone(1, 0)).toBe(ErrRevisionNotFound);
  });
});

describe("keyIndex.findGeneration / isEmpty", () => {
  it("finds the generation holding a revision, none in the gaps (etcd TestKeyIndexFindGeneration)", () => {
    const ki = newTestKeyIndex();
    const [g1, g2, g3] = ki.generations;
    const want = [undefined, undefined, g1, g1, g1, g1, undefined, undefined, g2, g2, g2, g2, undefined, undefined, g3, g3, undefined, undefined];
    want.forEach((g, rev) => expect(ki.findGeneration(rev), `rev ${rev}`).toBe(g));
  });

  it("is empty only with a single empty generation (etcd TestKeyIndexIsEmpty)", () => {
    const ki = new KeyIndex(foo);
    ki.generations = [empty()];
    expect(ki.isEmpty()).toBe(true);
    expect(newTestKeyIndex().isEmpty()).toBe(false);
    const one = new KeyIndex(foo);
    one.put(1, 0);
    expect(one.isEmpty()).toBe(false);
    expect(one.tombstone(2, 0)).toBeUndefined();
    expect(one.isEmpty()).toBe(false);
  });
});

describe("keyIndex.compact / keep (etcd TestKeyIndexCompactAndKeep)", () => {
  const g1 = (revs: Revision[]) => gen(r(2), 3, revs);
  const g2 = (revs: Revision[]) => gen(r(8), 3, revs);
  const g3 = (revs: Revision[]) => gen(r(14), 3, revs);
  const G1 = [r(2), r(4), r(6)];
  const G2 = [r(8), r(10), r(12)];
  const G3 = [r(14), r(14, 1), r(16)];
  const table: [number, Generation[], Revision[]][] = [
    [1, [g1(G1), g2(G2), g3(G3), empty()], []],
    [2, [g1(G1), g2(G2), g3(G3), empty()], [r(2)]],
    [3, [g1(G1), g2(G2), g3(G3), empty()], [r(2)]],
    [4, [g1(G1.slice(1)), g2(G2), g3(G3), empty()], [r(4)]],
    [5, [g1(G1.slice(1)), g2(G2), g3(G3), empty()], [r(4)]],
    [6, [g2(G2), g3(G3), empty()], []],
    [7, [g2(G2), g3(G3), empty()], []],
    [8, [g2(G2), g3(G3), empty()], [r(8)]],
    [9, [g2(G2), g3(G3), empty()], [r(8)]],
    [10, [g2(G2.slice(1)), g3(G3), empty()], [r(10)]],
    [11, [g2(G2.slice(1)), g3(G3), empty()], [r(10)]],
    [12, [g3(G3), empty()], []],
    [13, [g3(G3), empty()], []],
    [14, [g3(G3.slice(1)), empty()], [r(14, 1)]],
    [15, [g3(G3.slice(1)), empty()], [r(14, 1)]],
    [16, [empty()], []],
    [17, [empty()], []],
  ];

  it("compacts step by step on one index", () => {
    const ki = newTestKeyIndex();
    // Stops at 16: an index left empty leaves the tree and is never compacted again.
    for (const [rev, gens, avail] of table.filter(([rev]) => rev <= 16)) {
      const am: AvailableRevisions = new Map();
      ki.compact(rev, am);
      expectKeyIndex(ki, r(16), gens);
      expect(sortedKeys(am), `compact(${rev})`).toEqual(avail.map(revisionKey).sort());
    }
    expect(ki.isEmpty()).toBe(true);
  });

  it("compacts once on a fresh index, and keep reports the same without changing it", () => {
    for (const [rev, gens, avail] of table) {
      const kept: AvailableRevisions = new Map();
      const ki = newTestKeyIndex();
      ki.keep(rev, kept);
      expect(ki.equal(newTestKeyIndex())).toBe(true);
      const am: AvailableRevisions = new Map();
      ki.compact(rev, am);
      expectKeyIndex(ki, r(16), gens);
      expect(sortedKeys(am), `compact(${rev})`).toEqual(avail.map(revisionKey).sort());
      expect(sortedKeys(kept), `keep(${rev})`).toEqual(sortedKeys(am));
    }
  });

  it("keeps the latest revision when compacting past it twice (etcd TestKeyIndexCompactOnFurtherRev)", () => {
    const ki = new KeyIndex(foo);
    ki.put(1, 0);
    ki.put(2, 0);
    const am: AvailableRevisions = new Map();
    ki.compact(1, am);
    ki.compact(2, am);
    ki.compact(3, am);
    expectKeyIndex(ki, r(2), [gen(r(1), 2, [r(2)])]);
    expect(sortedKeys(am)).toEqual([revisionKey(r(2)), revisionKey(r(1))].sort());
  });

  it("follows the worked example of the doc comment", () => {
    const make = () => {
      const ki = new KeyIndex(foo);
      ki.put(1, 0);
      ki.put(2, 0);
      ki.tombstone(3, 0);
      ki.put(4, 0);
      ki.tombstone(5, 0);
      return ki;
    };
    const revsOf = (ki: KeyIndex) => ki.generations.map((g) => g.revs.map((x) => x.main));
    expect(revsOf(make())).toEqual([[1, 2, 3], [4, 5], []]);
    const cases: [number, number[][]][] = [
      [2, [[2, 3], [4, 5], []]],
      [4, [[4, 5], []]],
      [5, [[]]],
      [6, [[]]],
    ];
    for (const [at, want] of cases) {
      const ki = make();
      ki.compact(at, new Map());
      expect(revsOf(ki), `compact(${at})`).toEqual(want);
    }
  });

  it("panics (throws) when compacting an empty index, keep is a no-op", () => {
    const ki = new KeyIndex(foo);
    ki.generations = [empty()];
    expect(() => ki.compact(1, new Map())).toThrow(/empty keyIndex/);
    const am: AvailableRevisions = new Map();
    ki.keep(1, am);
    expect(am.size).toBe(0);
  });
});

describe("keyIndex properties", () => {
  // A history: per main revision, a put, a put+put (two subs) or a delete.
  const history = fc.array(fc.constantFrom("put", "put2", "del"), { minLength: 1, maxLength: 25 });

  function build(ops: string[]): { ki: KeyIndex; last: number } {
    const ki = new KeyIndex(foo);
    let main = 1;
    for (const op of ops) {
      if (op === "put") ki.put(main, 0);
      else if (op === "put2") {
        ki.put(main, 0);
        ki.put(main, 1);
      } else ki.tombstone(main, 0);
      main++;
    }
    return { ki, last: main };
  }

  it("compaction at c changes no get at or above c, and keep(c) equals compact(c)'s set", () => {
    fc.assert(
      fc.property(history, fc.nat(30), (ops, c) => {
        const { ki, last } = build(ops);
        if (ki.generations.length === 0) return; // only deletes of a never-created key
        if (ki.isEmpty()) return;
        const before = clone(ki);
        const kept: AvailableRevisions = new Map();
        ki.keep(c, kept);
        expect(ki.equal(before)).toBe(true);
        const am: AvailableRevisions = new Map();
        ki.compact(c, am);
        expect(sortedKeys(kept)).toEqual(sortedKeys(am));
        for (let at = c; at <= last + 1; at++) expect(ki.get(at), `get(${at})`).toEqual(before.get(at));
        for (let at = c + 1; at <= last + 1; at++) expect(ki.since(at), `since(${at})`).toEqual(before.since(at));
      }),
    );
  });
});

describe("keyIndex.describe / equal", () => {
  it("prints one stable line", () => {
    const ki = new KeyIndex(foo);
    ki.put(2, 0);
    ki.tombstone(3, 1);
    expect(ki.describe()).toBe(
      'key:"foo" modified:{3 1} generations:[{ver:2 created:{2 0} revs:[{2 0} {3 1}]} {ver:0 created:{0 0} revs:[]}]',
    );
  });

  it("compares key, modified and every generation", () => {
    const a = newTestKeyIndex();
    expect(a.equal(newTestKeyIndex())).toBe(true);
    const other = new KeyIndex(enc.encode("fop"));
    other.modified = a.modified;
    other.generations = a.generations;
    expect(a.equal(other)).toBe(false);
    const ver = clone(a);
    ver.generations[1]!.ver = 9;
    expect(a.equal(ver)).toBe(false);
    const created = clone(a);
    created.generations[0]!.created = r(1);
    expect(a.equal(created)).toBe(false);
    const revs = clone(a);
    revs.generations[2]!.revs[1] = r(14, 2);
    expect(a.equal(revs)).toBe(false);
  });
});
