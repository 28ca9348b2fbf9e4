import { describe, expect, it } from "vitest";
import { ErrRevisionNotFound } from "../../src/mvcc/errors.js";
import { TreeIndex } from "../../src/mvcc/index.js";
import { KeyIndex, type AvailableRevisions, type Generation } from "../../src/mvcc/key-index.js";
import { revision, revisionKey, zeroRevision, type Revision } from "../../src/mvcc/revision.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const r = revision;
const text = (keys: Uint8Array[]) => keys.map((k) => dec.decode(k));

describe("treeIndex.get (etcd TestIndexGet)", () => {
  it("reads a key across its life", () => {
    const ti = new TreeIndex();
    ti.put(b("foo"), r(2));
    ti.put(b("foo"), r(4));
    expect(ti.tombstone(b("foo"), r(6))).toBeUndefined();
    const table: [number, Revision | undefined, Revision, number][] = [
      [0, undefined, zeroRevision, 0],
      [1, undefined, zeroRevision, 0],
      [2, r(2), r(2), 1],
      [3, r(2), r(2), 1],
      [4, r(4), r(2), 2],
      [5, r(4), r(2), 2],
      [6, undefined, zeroRevision, 0],
    ];
    for (const [rev, modified, created, ver] of table) {
      const got = ti.get(b("foo"), rev);
      if (modified === undefined) expect(got, `rev ${rev}`).toBe(ErrRevisionNotFound);
      else expect(got, `rev ${rev}`).toEqual({ modified, created, ver });
    }
    expect(ti.get(b("bar"), 5)).toBe(ErrRevisionNotFound);
  });
});

describe("treeIndex.range / revisions / countRevisions (etcd TestIndexRange, TestIndexRevision)", () => {
  const build = () => {
    const ti = new TreeIndex();
    // Inserted out of order: the index orders by bytes.
    ti.put(b("foo2"), r(3));
    ti.put(b("foo"), r(1));
    ti.put(b("foo1"), r(2));
    return ti;
  };
  const table: [string, string | undefined, string[], Revision[]][] = [
    ["foo", undefined, ["foo"], [r(1)]], // single key
    ["foo", "", ["foo"], [r(1)]], // an empty end is a single key too
    ["foo1", undefined, ["foo1"], [r(2)]],
    ["foo", "foo1", ["foo"], [r(1)]],
    ["foo", "foo2", ["foo", "foo1"], [r(1), r(2)]],
    ["foo", "fop", ["foo", "foo1", "foo2"], [r(1), r(2), r(3)]],
    ["foo1", "fop", ["foo1", "foo2"], [r(2), r(3)]],
    ["foo3", "fop", [], []],
    ["fop", "fop0", [], []],
    ["foo", "\0", ["foo", "foo1", "foo2"], [r(1), r(2), r(3)]], // every key ≥ "foo"
    ["foo1", "\0", ["foo1", "foo2"], [r(2), r(3)]],
    ["\0", "\0", ["foo", "foo1", "foo2"], [r(1), r(2), r(3)]], // every key
    ["a", "b", [], []],
    ["nope", undefined, [], []],
  ];

  it("returns the live keys of a range in key order", () => {
    const ti = build();
    for (const [key, end, wkeys, wrevs] of table) {
      const got = ti.range(b(key), end === undefined ? undefined : b(end), 4);
      expect({ keys: text(got.keys), revs: got.revs }, `${key}..${end}`).toEqual({ keys: wkeys, revs: wrevs });
      const rv = ti.revisions(b(key), end === undefined ? undefined : b(end), 4, 0);
      expect(rv, `${key}..${end}`).toEqual({ revs: wrevs, total: wrevs.length });
      expect(ti.countRevisions(b(key), end === undefined ? undefined : b(end), 4)).toBe(wrevs.length);
    }
  });

  it("applies limit to revisions but not to total", () => {
    const ti = build();
    expect(ti.revisions(b("foo"), b("fop"), 4, 1)).toEqual({ revs: [r(1)], total: 3 });
    expect(ti.revisions(b("foo"), b("fop"), 4, 2)).toEqual({ revs: [r(1), r(2)], total: 3 });
    expect(ti.revisions(b("foo"), b("fop"), 4, 3)).toEqual({ revs: [r(1), r(2), r(3)], total: 3 });
    expect(ti.revisions(b("foo"), b("fop"), 4, 9)).toEqual({ revs: [r(1), r(2), r(3)], total: 3 });
    expect(ti.revisions(b("foo"), b("fop"), 4, -1)).toEqual({ revs: [r(1), r(2), r(3)], total: 3 });
  });

  it("reads past revisions and skips deleted keys", () => {
    const ti = build();
    expect(ti.tombstone(b("foo1"), r(5))).toBeUndefined();
    ti.put(b("foo"), r(6));
    const at = (rev: number) => {
      const got = ti.range(b("foo"), b("fop"), rev);
      return { keys: text(got.keys), revs: got.revs };
    };
    expect(at(1)).toEqual({ keys: ["foo"], revs: [r(1)] });
    expect(at(2)).toEqual({ keys: ["foo", "foo1"], revs: [r(1), r(2)] });
    expect(at(4)).toEqual({ keys: ["foo", "foo1", "foo2"], revs: [r(1), r(2), r(3)] });
    expect(at(5)).toEqual({ keys: ["foo", "foo2"], revs: [r(1), r(3)] });
    expect(at(6)).toEqual({ keys: ["foo", "foo2"], revs: [r(6), r(3)] });
    expect(ti.countRevisions(b("foo1"), undefined, 5)).toBe(0);
    expect(ti.countRevisions(b("foo1"), undefined, 4)).toBe(1);
    expect(ti.revisions(b("foo1"), undefined, 5, 0)).toEqual({ revs: [], total: 0 });
  });

  it("orders keys as unsigned bytes", () => {
    const ti = new TreeIndex();
    const keys = [[0xff], [0x00], [0x7f, 0x01], [0x80], [0x00, 0x00], [0x7f]].map((k) => new Uint8Array(k));
    keys.forEach((k, i) => ti.put(k, r(i + 1)));
    const got = ti.range(new Uint8Array([0]), new Uint8Array([0]), 10);
    expect(got.keys.map((k) => Array.from(k))).toEqual([[0x00], [0x00, 0x00], [0x7f], [0x7f, 0x01], [0x80], [0xff]]);
    expect(ti.range(new Uint8Array([0x7f]), new Uint8Array([0x80]), 10).keys.map((k) => Array.from(k))).toEqual([
      [0x7f],
      [0x7f, 0x01],
    ]);
  });
});

describe("treeIndex.tombstone (etcd TestIndexTombstone)", () => {
  it("deletes a live key once", () => {
    const ti = new TreeIndex();
    ti.put(b("foo"), r(1));
    expect(ti.tombstone(b("foo"), r(2))).toBeUndefined();
    expect(ti.get(b("foo"), 2)).toBe(ErrRevisionNotFound);
    expect(ti.tombstone(b("foo"), r(3))).toBe(ErrRevisionNotFound);
    expect(ti.tombstone(b("bar"), r(3))).toBe(ErrRevisionNotFound);
  });
});

describe("treeIndex.rangeSince (etcd TestIndexRangeSince)", () => {
  it("returns the revisions of a range from rev on, sorted by revision", () => {
    const ti = new TreeIndex();
    const keys = ["foo", "foo1", "foo2", "foo2", "foo1", "foo"];
    keys.forEach((k, i) => ti.put(b(k), r(i + 1)));
    const table: [string, string | undefined, Revision[]][] = [
      ["foo", undefined, [r(1), r(6)]],
      ["foo", "foo1", [r(1), r(6)]],
      ["foo", "foo2", [r(1), r(2), r(5), r(6)]],
      ["foo", "fop", [r(1), r(2), r(3), r(4), r(5), r(6)]],
      ["foo", "\0", [r(1), r(2), r(3), r(4), r(5), r(6)]],
      ["foo1", "fop", [r(2), r(3), r(4), r(5)]],
      ["foo3", "fop", []],
      ["fop", "fop0", []],
      ["nope", undefined, []],
    ];
    for (const [key, end, want] of table) {
      expect(ti.rangeSince(b(key), end === undefined ? undefined : b(end), 1), `${key}..${end}`).toEqual(want);
    }
    expect(ti.rangeSince(b("foo"), b("fop"), 4)).toEqual([r(4), r(5), r(6)]);
  });
});

describe("treeIndex.restore", () => {
  it("creates a key from its latest life, then puts on a known key", () => {
    const ti = new TreeIndex();
    ti.restore(b("foo"), r(2), r(4), 2);
    expect(ti.get(b("foo"), 4)).toEqual({ modified: r(4), created: r(2), ver: 2 });
    ti.restore(b("foo"), r(2), r(5), 3);
    expect(ti.get(b("foo"), 5)).toEqual({ modified: r(5), created: r(2), ver: 3 });
  });
});

describe("treeIndex.restoreTombstone", () => {
  it("restores a new key known only by its tombstone: invisible to reads, visible to rangeSince", () => {
    const ti = new TreeIndex();
    ti.put(b("foo1"), r(6));
    expect(ti.restoreTombstone(b("foo"), r(5, 1))).toBeUndefined();
    expect(text(ti.keyIndexes().map((ki) => ki.key))).toEqual(["foo", "foo1"]);
    for (let at = 5; at <= 7; at++) expect(ti.get(b("foo"), at), `get(${at})`).toBe(ErrRevisionNotFound);
    expect(text(ti.range(b("foo"), b("fop"), 7).keys)).toEqual(["foo1"]);
    expect(ti.countRevisions(b("foo"), undefined, 7)).toBe(0);
    expect(ti.rangeSince(b("foo"), undefined, 5)).toEqual([r(5, 1)]);
    expect(ti.rangeSince(b("foo"), b("fop"), 5)).toEqual([r(5, 1), r(6)]);
    expect(ti.rangeSince(b("foo"), undefined, 6)).toEqual([]);

    // Compacting at its revision again keeps it (keep leaves it out); above it, the key goes.
    expect(keysOf(ti.compact(5))).toEqual([revisionKey(r(5, 1))]);
    expect(keysOf(ti.keep(5))).toEqual([]);
    expect(keysOf(ti.compact(6))).toEqual([revisionKey(r(6))]);
    expect(text(ti.keyIndexes().map((ki) => ki.key))).toEqual(["foo1"]);
  });

  it("can be put again after the restored tombstone", () => {
    const ti = new TreeIndex();
    ti.restoreTombstone(b("foo"), r(5));
    ti.restore(b("foo"), r(7), r(7), 1);
    expect(ti.get(b("foo"), 7)).toEqual({ modified: r(7), created: r(7), ver: 1 });
    expect(ti.get(b("foo"), 6)).toBe(ErrRevisionNotFound);
    expect(ti.rangeSince(b("foo"), undefined, 5)).toEqual([r(5), r(7)]);
  });

  it("tombstones a known key", () => {
    const ti = new TreeIndex();
    ti.restore(b("foo"), r(2), r(4), 2);
    expect(ti.restoreTombstone(b("foo"), r(6))).toBeUndefined();
    expect(ti.get(b("foo"), 5)).toEqual({ modified: r(4), created: r(2), ver: 2 });
    expect(ti.get(b("foo"), 6)).toBe(ErrRevisionNotFound);
    expect(ti.restoreTombstone(b("foo"), r(7))).toBe(ErrRevisionNotFound);
  });
});

const keysOf = (m: AvailableRevisions) => [...m.keys()].sort();

describe("treeIndex.compact / keep (etcd TestIndexCompactAndKeep)", () => {
  const maxRev = 20;

  /**
   *     foo:  {10.0}           {1.0, 5.0, 9.0(t)}
   *     foo1: {10.1}           {2.0, 6.0, 7.0(t)}
   *     foo2: {empty}          {3.0, 4.0, 8.0(t)}
   */
  const buildTreeIndex = () => {
    const ti = new TreeIndex();
    ti.put(b("foo"), r(1));
    ti.put(b("foo1"), r(2));
    ti.put(b("foo2"), r(3));
    ti.put(b("foo2"), r(4));
    ti.put(b("foo"), r(5));
    ti.put(b("foo1"), r(6));
    expect(ti.tombstone(b("foo1"), r(7))).toBeUndefined();
    expect(ti.tombstone(b("foo2"), r(8))).toBeUndefined();
    expect(ti.tombstone(b("foo"), r(9))).toBeUndefined();
    ti.put(b("foo"), r(10));
    ti.put(b("foo1"), r(10, 1));
    return ti;
  };

  interface PlainKeyIndex {
    key: string;
    modified: Revision;
    generations: Generation[];
  }
  const g = (ver: number, created: Revision, revs: Revision[]): Generation => ({ ver, created, revs });
  const e = (): Generation => g(0, zeroRevision, []);
  const foo = (gens: Generation[]): PlainKeyIndex => ({ key: "foo", modified: r(10), generations: gens });
  const foo1 = (gens: Generation[]): PlainKeyIndex => ({ key: "foo1", modified: r(10, 1), generations: gens });
  const foo2 = (gens: Generation[]): PlainKeyIndex => ({ key: "foo2", modified: r(8), generations: gens });
  const A = (...revs: Revision[]) => g(3, r(1), revs);
  const B = (...revs: Revision[]) => g(3, r(2), revs);
  const C = (...revs: Revision[]) => g(3, r(3), revs);
  const F = g(1, r(10), [r(10)]);
  const F1 = g(1, r(10, 1), [r(10, 1)]);

  /** etcd's afterCompacts: the index, keep and compact results after compact(atRev). */
  const afterCompacts: { atRev: number; keyIndexes: PlainKeyIndex[]; keep: Revision[]; compacted: Revision[] }[] = [
    {
      atRev: 1,
      keyIndexes: [foo([A(r(1), r(5), r(9)), F]), foo1([B(r(2), r(6), r(7)), F1]), foo2([C(r(3), r(4), r(8)), e()])],
      keep: [r(1)],
      compacted: [r(1)],
    },
    {
      atRev: 2,
      keyIndexes: [foo([A(r(1), r(5), r(9)), F]), foo1([B(r(2), r(6), r(7)), F1]), foo2([C(r(3), r(4), r(8)), e()])],
      keep: [r(1), r(2)],
      compacted: [r(1), r(2)],
    },
    {
      atRev: 3,
      keyIndexes: [foo([A(r(1), r(5), r(9)), F]), foo1([B(r(2), r(6), r(7)), F1]), foo2([C(r(3), r(4), r(8)), e()])],
      keep: [r(1), r(2), r(3)],
      compacted: [r(1), r(2), r(3)],
    },
    {
      atRev: 4,
      keyIndexes: [foo([A(r(1), r(5), r(9)), F]), foo1([B(r(2), r(6), r(7)), F1]), foo2([C(r(4), r(8)), e()])],
      keep: [r(1), r(2), r(4)],
      compacted: [r(1), r(2), r(4)],
    },
    {
      atRev: 5,
      keyIndexes: [foo([A(r(5), r(9)), F]), foo1([B(r(2), r(6), r(7)), F1]), foo2([C(r(4), r(8)), e()])],
      keep: [r(2), r(4), r(5)],
      compacted: [r(2), r(4), r(5)],
    },
    {
      atRev: 6,
      keyIndexes: [foo([A(r(5), r(9)), F]), foo1([B(r(6), r(7)), F1]), foo2([C(r(4), r(8)), e()])],
      keep: [r(6), r(4), r(5)],
      compacted: [r(6), r(4), r(5)],
    },
    {
      // foo1's tombstone at 7 stays in the index and the backend; keep leaves it out.
      atRev: 7,
      keyIndexes: [foo([A(r(5), r(9)), F]), foo1([B(r(7)), F1]), foo2([C(r(4), r(8)), e()])],
      keep: [r(4), r(5)],
      compacted: [r(7), r(4), r(5)],
    },
    {
      atRev: 8,
      keyIndexes: [foo([A(r(5), r(9)), F]), foo1([F1]), foo2([C(r(8)), e()])],
      keep: [r(5)],
      compacted: [r(8), r(5)],
    },
    {
      atRev: 9,
      keyIndexes: [foo([A(r(9)), F]), foo1([F1])],
      keep: [],
      compacted: [r(9)],
    },
    {
      atRev: 10,
      keyIndexes: [foo([F]), foo1([F1])],
      keep: [r(10), r(10, 1)],
      compacted: [r(10), r(10, 1)],
    },
  ];
  const expected = (i: number) => afterCompacts[Math.min(i, afterCompacts.length) - 1]!;
  const plain = (ti: TreeIndex): PlainKeyIndex[] =>
    ti.keyIndexes().map((ki) => ({ key: dec.decode(ki.key), modified: ki.modified, generations: ki.generations }));
  const asTree = (kis: PlainKeyIndex[]) => {
    const nti = new TreeIndex();
    for (const p of kis) {
      const ki = new KeyIndex(b(p.key));
      ki.modified = p.modified;
      ki.generations = p.generations.map((x) => ({ ...x, revs: [...x.revs] }));
      nti.insert(ki);
    }
    return nti;
  };
  const check = (ti: TreeIndex, i: number, am: AvailableRevisions) => {
    const want = expected(i);
    expect(keysOf(am), `compact(${i})`).toEqual(want.compacted.map(revisionKey).sort());
    expect(keysOf(ti.keep(i)), `keep(${i})`).toEqual(want.keep.map(revisionKey).sort());
    expect(plain(ti), `index after compact(${i})`).toEqual(want.keyIndexes);
    expect(ti.equal(asTree(want.keyIndexes)), `equal after compact(${i})`).toBe(true);
  };

  it("compacts continuously; keep before compact is the same as after", () => {
    const ti = buildTreeIndex();
    for (let i = 1; i < maxRev; i++) {
      const keptBefore = ti.keep(i);
      const am = ti.compact(i);
      check(ti, i, am);
      expect(keysOf(keptBefore), `keep(${i}) before compact`).toEqual(expected(i).keep.map(revisionKey).sort());
    }
  });

  it("compacts once", () => {
    for (let i = 1; i < maxRev; i++) {
      const ti = buildTreeIndex();
      const keptBefore = ti.keep(i);
      const am = ti.compact(i);
      check(ti, i, am);
      expect(keysOf(keptBefore), `keep(${i}) before compact`).toEqual(expected(i).keep.map(revisionKey).sort());
    }
  });

  it("a restore from what compact(7) kept answers like the compacted index", () => {
    // What etcd's restore does after a compaction at 7: read the kept revisions and every later one
    // in revision order; foo1's oldest is its tombstone at 7, restored by restoreTombstone.
    const ti = buildTreeIndex();
    const am = ti.compact(7);
    const history: [string, Revision, boolean, Revision, number][] = [
      ["foo", r(1), false, r(1), 1],
      ["foo1", r(2), false, r(2), 1],
      ["foo2", r(3), false, r(3), 1],
      ["foo2", r(4), false, r(3), 2],
      ["foo", r(5), false, r(1), 2],
      ["foo1", r(6), false, r(2), 2],
      ["foo1", r(7), true, zeroRevision, 0],
      ["foo2", r(8), true, zeroRevision, 0],
      ["foo", r(9), true, zeroRevision, 0],
      ["foo", r(10), false, r(10), 1],
      ["foo1", r(10, 1), false, r(10, 1), 1],
    ];
    const restored = new TreeIndex();
    const seen = new Set<string>();
    for (const [key, rev, tomb, created, ver] of history) {
      if (rev.main <= 7 && !am.has(revisionKey(rev))) continue;
      if (!tomb) restored.restore(b(key), created, rev, ver);
      else if (!seen.has(key)) expect(restored.restoreTombstone(b(key), rev)).toBeUndefined();
      else expect(restored.tombstone(b(key), rev)).toBeUndefined();
      seen.add(key);
    }
    for (let at = 7; at <= 11; at++) {
      for (const key of ["foo", "foo1", "foo2"]) {
        expect(restored.get(b(key), at), `get ${key} @${at}`).toEqual(ti.get(b(key), at));
      }
      expect(restored.rangeSince(b("foo"), b("fop"), at), `rangeSince @${at}`).toEqual(ti.rangeSince(b("foo"), b("fop"), at));
    }
    expect(restored.rangeSince(b("foo1"), undefined, 7)).toEqual([r(7), r(10, 1)]);
    expect(keysOf(restored.compact(8))).toEqual(keysOf(buildTreeIndex().compact(8)));
  });

  it("equal notices any difference", () => {
    const a = buildTreeIndex();
    expect(a.equal(buildTreeIndex())).toBe(true);
    const c = buildTreeIndex();
    c.put(b("foo"), r(11));
    expect(a.equal(c)).toBe(false);
    const d = buildTreeIndex();
    d.put(b("zzz"), r(11));
    expect(a.equal(d)).toBe(false);
  });
});

describe("treeIndex.insert", () => {
  it("places a prepared key index in key order, replacing one with the same key", () => {
    const ti = new TreeIndex();
    ti.put(b("b"), r(1));
    const a = new KeyIndex(b("a"));
    a.put(2, 0);
    ti.insert(a);
    const b2 = new KeyIndex(b("b"));
    b2.put(3, 0);
    ti.insert(b2);
    expect(ti.keyIndexes().map((ki) => dec.decode(ki.key))).toEqual(["a", "b"]);
    expect(ti.get(b("b"), 3)).toEqual({ modified: r(3), created: r(3), ver: 1 });
    expect(ti.get(b("b"), 2)).toBe(ErrRevisionNotFound);
  });
});
