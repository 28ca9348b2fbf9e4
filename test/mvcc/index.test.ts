import { describe, expect, it } from "vitest";
import { ErrRevisionNotFound } from "../../src/mvcc/errors.js";
import { TreeIndex } from "../../src/mvcc/index.js";
import { KeyIndex, type AvailableRevisions } from "../../src/mvcc/key-index.js";
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

describe("treeIndex.compact / keep (etcd TestIndexCompactAndKeep)", () => {
  const maxRev = 20;
  interface Step {
    key: string;
    remove: boolean;
    rev: Revision;
    created: Revision;
    ver: number;
  }
  const z = zeroRevision;
  const steps: Step[] = [
    { key: "foo", remove: false, rev: r(1), created: r(1), ver: 1 },
    { key: "foo1", remove: false, rev: r(2), created: r(2), ver: 1 },
    { key: "foo2", remove: false, rev: r(3), created: r(3), ver: 1 },
    { key: "foo2", remove: false, rev: r(4), created: r(3), ver: 2 },
    { key: "foo", remove: false, rev: r(5), created: r(1), ver: 2 },
    { key: "foo1", remove: false, rev: r(6), created: r(2), ver: 2 },
    { key: "foo1", remove: true, rev: r(7), created: z, ver: 0 },
    { key: "foo2", remove: true, rev: r(8), created: z, ver: 0 },
    { key: "foo", remove: true, rev: r(9), created: z, ver: 0 },
    { key: "foo", remove: false, rev: r(10, 0), created: r(10, 0), ver: 1 },
    { key: "foo1", remove: false, rev: r(10, 1), created: r(10, 1), ver: 1 },
  ];
  const apply = (ti: TreeIndex) => {
    for (const s of steps) {
      if (s.remove) expect(ti.tombstone(b(s.key), s.rev)).toBeUndefined();
      else ti.put(b(s.key), s.rev);
    }
  };
  /** What the index must look like after compact(i): rebuilt from the revisions it kept and later ones. */
  const rebuilt = (am: AvailableRevisions, i: number) => {
    const wti = new TreeIndex();
    for (const s of steps) {
      if (am.has(revisionKey(s.rev)) || s.rev.main > i) {
        if (s.remove) wti.tombstone(b(s.key), s.rev);
        else wti.restore(b(s.key), s.created, s.rev, s.ver);
      }
    }
    return wti;
  };
  const keysOf = (m: AvailableRevisions) => [...m.keys()].sort();

  it("compacts continuously", () => {
    const ti = new TreeIndex();
    apply(ti);
    for (let i = 1; i < maxRev; i++) {
      const kept = ti.keep(i);
      const am = ti.compact(i);
      expect(keysOf(ti.keep(i)), `keep(${i})`).toEqual(keysOf(am));
      expect(keysOf(kept), `keep(${i}) before compact`).toEqual(keysOf(am));
      expect(ti.equal(rebuilt(am, i)), `compact(${i})`).toBe(true);
    }
    expect(ti.keyIndexes().map((ki) => dec.decode(ki.key))).toEqual(["foo", "foo1"]);
  });

  it("compacts once", () => {
    for (let i = 1; i < maxRev; i++) {
      const ti = new TreeIndex();
      apply(ti);
      const am = ti.compact(i);
      expect(keysOf(ti.keep(i)), `keep(${i})`).toEqual(keysOf(am));
      expect(ti.equal(rebuilt(am, i)), `compact(${i})`).toBe(true);
    }
  });

  it("keeps exactly the live revision of each key at the compaction point", () => {
    const ti = new TreeIndex();
    apply(ti);
    expect(keysOf(ti.compact(6))).toEqual([r(4), r(5), r(6)].map(revisionKey).sort());
    expect(keysOf(ti.compact(8))).toEqual([r(5)].map(revisionKey));
    expect(ti.keyIndexes().length).toBe(2); // foo1 and foo2, deleted at 7 and 8, are gone
    expect(keysOf(ti.compact(9))).toEqual([]);
    expect(keysOf(ti.compact(10))).toEqual([r(10, 0), r(10, 1)].map(revisionKey).sort());
  });

  it("equal notices any difference", () => {
    const a = new TreeIndex();
    const c = new TreeIndex();
    apply(a);
    apply(c);
    expect(a.equal(c)).toBe(true);
    c.put(b("foo"), r(11));
    expect(a.equal(c)).toBe(false);
    const d = new TreeIndex();
    apply(d);
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
