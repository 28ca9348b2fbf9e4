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
 *     {14.0, 15.1, 16.0(t)}
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
  ki.put(15, 1);
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
      [15, r(15, 1), r(14), 2],
      [14, r(14), r(14), 1],
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

  it("panics (throws) on an empty index, as etcd does", () => {
    const ki = new KeyIndex(foo);
    ki.generations = [empty()];
    expect(() => ki.get(1)).toThrow(/'get' got an unexpected empty keyIndex/);
    expect(new KeyIndex(foo).get(1)).toBe(ErrRevisionNotFound); // no generations at all
  });
});

describe("keyIndex.since (etcd TestKeyIndexSince)", () => {
  it("returns one revision per main revision from rev on, across generations", () => {
    const ki = newTestKeyIndex();
    ki.compact(4, new Map());
    const all = [r(4), r(6), r(8), r(10), r(12), r(14), r(15, 1), r(16)];
    const table: [number, Revision[]][] = [
      [17, []],
      [16, all.slice(7)],
      [15, all.slice(6)],
      [14, all.slice(5)],
      [13, all.slice(5)],
      [12, all.slice(4)],
      [11, all.slice(4)],
      [10, all.slice(3)],
      [9, all.slice(3)],
      [8, all.slice(2)],
      [7, all.slice(2)],
      [6, all.slice(1)],
      [5, all.slice(1)],
      [4, all],
      [3, all],
      [2, all],
      [1, all],
      [0, all],
    ];
    for (const [rev, want] of table) expect(ki.since(rev), `rev ${rev}`).toEqual(want);
    expect(newTestKeyIndex().since(0)).toEqual([r(2), ...all]);
  });

  it("returns only the highest sub of a main revision", () => {
    const ki = new KeyIndex(foo);
    ki.put(3, 0);
    ki.put(3, 2);
    expect(ki.tombstone(3, 5)).toBeUndefined();
    ki.put(4, 0);
    expect(ki.since(0)).toEqual([r(3, 5), r(4)]);
    expect(ki.since(4)).toEqual([r(4)]);
  });

  it("panics (throws) on an empty index, as etcd does", () => {
    const ki = new KeyIndex(foo);
    ki.generations = [empty()];
    expect(() => ki.since(1)).toThrow(/'since' got an unexpected empty keyIndex/);
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

describe("keyIndex.restoreTombstone (etcd TestRestoreTombstone)", () => {
  it("restores a key known only by its tombstone", () => {
    const ki = new KeyIndex(foo);
    ki.restoreTombstone(16, 0);
    expectKeyIndex(ki, r(16), [gen(zeroRevision, 1, [r(16)]), empty()]);

    for (let at = 16; at <= 20; at++) expect(ki.get(at), `get(${at})`).toBe(ErrRevisionNotFound);
    expect(ki.since(16)).toEqual([r(16)]);
    expect(ki.since(17)).toEqual([]);

    // A compaction at its revision keeps the tombstone, in the index and the backend.
    const am: AvailableRevisions = new Map();
    ki.compact(16, am);
    expect(sortedKeys(am)).toEqual([revisionKey(r(16))]);
    expectKeyIndex(ki, r(16), [gen(zeroRevision, 1, [r(16)]), empty()]);
    const kept: AvailableRevisions = new Map();
    ki.keep(16, kept);
    expect(kept.size).toBe(0);

    ki.put(17, 0);
    ki.put(18, 0);
    expect(ki.since(16)).toEqual([r(16), r(17), r(18)]);
    expect(ki.get(18)).toEqual({ modified: r(18), created: r(17), ver: 2 });

    // A compaction above it removes the restored tombstone.
    ki.compact(17, new Map());
    expectKeyIndex(ki, r(18), [gen(r(17), 2, [r(17), r(18)])]);
  });

  it("leaves an index that a compaction above the tombstone empties", () => {
    const ki = new KeyIndex(foo);
    ki.restoreTombstone(5, 2);
    const am: AvailableRevisions = new Map();
    ki.compact(6, am);
    expect(am.size).toBe(0);
    expect(ki.isEmpty()).toBe(true);
  });

  it("panics (throws) on an index that already has generations", () => {
    const ki = new KeyIndex(foo);
    ki.put(1, 0);
    expect(() => ki.restoreTombstone(2, 0)).toThrow(/non-empty/);
  });
});

describe("keyIndex.compact / keep (etcd TestKeyIndexCompactAndKeep)", () => {
  const g1 = (revs: Revision[]) => gen(r(2), 3, revs);
  const g2 = (revs: Revision[]) => gen(r(8), 3, revs);
  const g3 = (revs: Revision[]) => gen(r(14), 3, revs);
  const G1 = [r(2), r(4), r(6)];
  const G2 = [r(8), r(10), r(12)];
  const G3 = [r(14), r(15, 1), r(16)];
  /** [compact at, generations after compact, what compact adds to available]. */
  const table: [number, Generation[], Revision[]][] = [
    [1, [g1(G1), g2(G2), g3(G3), empty()], []],
    [2, [g1(G1), g2(G2), g3(G3), empty()], [r(2)]],
    [3, [g1(G1), g2(G2), g3(G3), empty()], [r(2)]],
    [4, [g1(G1.slice(1)), g2(G2), g3(G3), empty()], [r(4)]],
    [5, [g1(G1.slice(1)), g2(G2), g3(G3), empty()], [r(4)]],
    [6, [g1(G1.slice(2)), g2(G2), g3(G3), empty()], [r(6)]], // the tombstone at 6 stays
    [7, [g2(G2), g3(G3), empty()], []],
    [8, [g2(G2), g3(G3), empty()], [r(8)]],
    [9, [g2(G2), g3(G3), empty()], [r(8)]],
    [10, [g2(G2.slice(1)), g3(G3), empty()], [r(10)]],
    [11, [g2(G2.slice(1)), g3(G3), empty()], [r(10)]],
    [12, [g2(G2.slice(2)), g3(G3), empty()], [r(12)]],
    [13, [g3(G3), empty()], []],
    [14, [g3(G3), empty()], [r(14)]],
    [15, [g3(G3.slice(1)), empty()], [r(15, 1)]],
    [16, [g3(G3.slice(2)), empty()], [r(16)]],
    [17, [empty()], []],
  ];
  /** etcd's isTombstoneRevFn: `rev` is the tombstone of a closed generation of `ki`. */
  const isTombstoneRev = (ki: KeyIndex, rev: number) =>
    ki.generations.slice(0, -1).some((g) => g.revs.length > 0 && g.revs[g.revs.length - 1]!.main === rev);
  const wantKeep = (ki: KeyIndex, rev: number, avail: Revision[]) =>
    isTombstoneRev(ki, rev) ? [] : avail.map(revisionKey).sort();

  it("compacts step by step on one index; keep leaves it unchanged and omits a tombstone at rev", () => {
    const ki = newTestKeyIndex();
    for (const [rev, gens, avail] of table) {
      const want = wantKeep(ki, rev, avail);
      const before = clone(ki);
      const kept: AvailableRevisions = new Map();
      ki.keep(rev, kept);
      expect(ki).toEqual(before);
      expect(sortedKeys(kept), `keep(${rev})`).toEqual(want);
      const am: AvailableRevisions = new Map();
      ki.compact(rev, am);
      expectKeyIndex(ki, r(16), gens);
      expect(sortedKeys(am), `compact(${rev})`).toEqual(avail.map(revisionKey).sort());
    }
    expect(ki.isEmpty()).toBe(true);
  });

  it("jumps over the tombstone revisions", () => {
    const ki = newTestKeyIndex();
    for (const [rev, gens, avail] of table) {
      if (isTombstoneRev(ki, rev)) continue;
      const before = clone(ki);
      const kept: AvailableRevisions = new Map();
      ki.keep(rev, kept);
      expect(ki).toEqual(before);
      expect(sortedKeys(kept), `keep(${rev})`).toEqual(avail.map(revisionKey).sort());
      const am: AvailableRevisions = new Map();
      ki.compact(rev, am);
      expectKeyIndex(ki, r(16), gens);
      expect(sortedKeys(am), `compact(${rev})`).toEqual(avail.map(revisionKey).sort());
    }
  });

  it("compacts once on a fresh index", () => {
    for (const [rev, gens, avail] of table) {
      const ki = newTestKeyIndex();
      const kept: AvailableRevisions = new Map();
      ki.keep(rev, kept);
      expect(ki.equal(newTestKeyIndex())).toBe(true);
      expect(sortedKeys(kept), `keep(${rev})`).toEqual(wantKeep(ki, rev, avail));
      const am: AvailableRevisions = new Map();
      ki.compact(rev, am);
      expectKeyIndex(ki, r(16), gens);
      expect(sortedKeys(am), `compact(${rev})`).toEqual(avail.map(revisionKey).sort());
    }
  });

  it("keeps the latest revision when compacting past it (etcd TestKeyIndexCompactOnFurtherRev)", () => {
    const ki = new KeyIndex(foo);
    ki.put(1, 0);
    ki.put(2, 0);
    const am: AvailableRevisions = new Map();
    ki.compact(3, am);
    expectKeyIndex(ki, r(2), [gen(r(1), 2, [r(2)])]);
    expect(sortedKeys(am)).toEqual([revisionKey(r(2))]);
    ki.compact(4, am);
    expectKeyIndex(ki, r(2), [gen(r(1), 2, [r(2)])]);
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
      [5, [[5], []]],
      [6, [[]]],
    ];
    for (const [at, want] of cases) {
      const ki = make();
      ki.compact(at, new Map());
      expect(revsOf(ki), `compact(${at})`).toEqual(want);
    }
    const ki = make();
    ki.compact(5, new Map());
    expect(ki.get(5)).toBe(ErrRevisionNotFound);
    expect(ki.since(5)).toEqual([r(5)]);
  });

  it("at a tombstone's revision keeps the tombstone visible to since(rev) but not to get", () => {
    // etcd issue #18089: a watcher starting at the compacted revision lost the delete.
    const ki = new KeyIndex(foo);
    ki.put(1, 0);
    ki.put(2, 0);
    expect(ki.tombstone(3, 0)).toBeUndefined();
    const am: AvailableRevisions = new Map();
    ki.compact(3, am);
    expect(sortedKeys(am)).toEqual([revisionKey(r(3))]);
    expect(ki.isEmpty()).toBe(false);
    expect(ki.since(3)).toEqual([r(3)]);
    expect(ki.get(3)).toBe(ErrRevisionNotFound);
    expect(ki.get(4)).toBe(ErrRevisionNotFound);
    const kept: AvailableRevisions = new Map();
    ki.keep(3, kept);
    expect(kept.size).toBe(0);
    // The next compaction above it removes it.
    ki.compact(4, am);
    expect(ki.isEmpty()).toBe(true);
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
  // A history: per main revision, a put, a put+put (two subs), a put+delete or a delete.
  const history = fc.array(fc.constantFrom("put", "put2", "putdel", "del"), { minLength: 1, maxLength: 25 });

  /** Applies `ops` from main revision 1 on; returns the index and each main revision's tombstone flag. */
  function build(ops: string[]): { ki: KeyIndex; last: number; tomb: Map<number, boolean> } {
    const ki = new KeyIndex(foo);
    const tomb = new Map<number, boolean>();
    let main = 1;
    for (const op of ops) {
      if (op === "put") ki.put(main, 0);
      else if (op === "put2") {
        ki.put(main, 0);
        ki.put(main, 1);
      } else if (op === "putdel") {
        ki.put(main, 0);
        ki.tombstone(main, 1);
      } else if (ki.tombstone(main, 0) !== undefined) {
        continue;
      }
      tomb.set(main, op === "putdel" || op === "del");
      main++;
    }
    return { ki, last: main, tomb };
  }

  it("compaction at c changes no get at or above c nor since(≥ c); keep(c) is compact(c)'s set but a tombstone at c", () => {
    fc.assert(
      fc.property(history, fc.nat(30), (ops, c) => {
        const { ki, last, tomb } = build(ops);
        if (ki.generations.length === 0) return; // only deletes of a never-created key
        const before = clone(ki);
        const kept: AvailableRevisions = new Map();
        ki.keep(c, kept);
        expect(ki).toEqual(before);
        const am: AvailableRevisions = new Map();
        ki.compact(c, am);
        // The last change at or before c stays, a put always, a tombstone only when it is at c.
        const lastChange = before.since(0).filter((x) => x.main <= c).pop();
        const wantAm = lastChange === undefined || (tomb.get(lastChange.main) && lastChange.main < c) ? [] : [lastChange];
        expect(sortedKeys(am)).toEqual(wantAm.map(revisionKey));
        const wantKept = wantAm.filter((x) => !(tomb.get(x.main) && x.main === c));
        expect(sortedKeys(kept)).toEqual(wantKept.map(revisionKey));
        if (ki.isEmpty()) {
          // Left the tree: nothing was live or changed from c on.
          for (let at = c; at <= last + 1; at++) expect(before.get(at)).toBe(ErrRevisionNotFound);
          expect(before.since(c)).toEqual([]);
          return;
        }
        for (let at = c; at <= last + 1; at++) expect(ki.get(at), `get(${at})`).toEqual(before.get(at));
        for (let at = c; at <= last + 1; at++) expect(ki.since(at), `since(${at})`).toEqual(before.since(at));
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

  it("compares key, modified and every generation's version and revisions, not created (etcd's equal)", () => {
    const a = newTestKeyIndex();
    expect(a.equal(newTestKeyIndex())).toBe(true);
    const other = new KeyIndex(enc.encode("fop"));
    other.modified = a.modified;
    other.generations = a.generations;
    expect(a.equal(other)).toBe(false);
    const ver = clone(a);
    ver.generations[1]!.ver = 9;
    expect(a.equal(ver)).toBe(false);
    const modified = clone(a);
    modified.modified = r(16, 1);
    expect(a.equal(modified)).toBe(false);
    const gens = clone(a);
    gens.generations.pop();
    expect(a.equal(gens)).toBe(false);
    // A restore cannot always recover created (see KeyIndex.equal).
    const created = clone(a);
    created.generations[0]!.created = r(1);
    expect(a.equal(created)).toBe(true);
    const revs = clone(a);
    revs.generations[2]!.revs[1] = r(14, 2);
    expect(a.equal(revs)).toBe(false);
  });
});

describe("a key deleted and put again by one txn", () => {
  it("compaction at that revision keeps the new put, not the tombstone before it", () => {
    // One txn deletes a range ending in "\0" (removing foo at 3.0) and then puts foo (3.1).
    const ki = new KeyIndex(new TextEncoder().encode("foo"));
    ki.put(2, 0);
    expect(ki.tombstone(3, 0)).toBeUndefined();
    ki.put(3, 1);
    const available: AvailableRevisions = new Map();
    ki.compact(3, available);
    expect([...available.values()]).toEqual([revision(3, 1)]);
    expect(ki.get(3)).toMatchObject({ modified: revision(3, 1) });
  });
});
