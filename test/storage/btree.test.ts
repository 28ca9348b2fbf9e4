/**
 * The persistent B+tree (src/storage/btree.ts): unit tests of its shape and copy-on-write, and a
 * property test against a naive sorted-array model with snapshots held across later batches.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compareBytes } from "../../src/storage/backend.js";
import { BTree, type BTreeBatch, MaxEntries, MinEntries, btreeNodesCopied, checkBTree } from "../../src/storage/btree.js";
import { mulberry32 as seeded } from "../prng.js";

/** Key i as 4 big-endian bytes, so numeric order is byte order. */
const k = (i: number) => Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
const num = (u: Uint8Array) => ((u[0]! << 24) | (u[1]! << 16) | (u[2]! << 8) | u[3]!) >>> 0;

function dump<V>(t: { forEach: BTree<V>["forEach"] }, from?: Uint8Array): [number, V][] {
  const out: [number, V][] = [];
  t.forEach((key, v) => {
    out.push([num(key), v]);
  }, from);
  return out;
}

function build(n: number, step = 1): BTree<number> {
  const b = BTree.empty<number>().batch();
  for (let i = 0; i < n; i++) b.set(k(i * step), i * step);
  return b.persist();
}

describe("BTree: reads and writes", () => {
  test("an empty tree has nothing; set returns the replaced value, delete the removed one", () => {
    const t0 = BTree.empty<string>();
    expect([t0.size, t0.height, t0.get(k(1)), dump(t0)]).toEqual([0, 1, undefined, []]);
    const b = t0.batch();
    expect(b.set(k(2), "two")).toBeUndefined();
    expect(b.set(k(1), "one")).toBeUndefined();
    expect(b.set(k(2), "TWO")).toBe("two");
    expect(b.size).toBe(2);
    expect(dump(b)).toEqual([[1, "one"], [2, "TWO"]]);
    expect(b.delete(k(3))).toBeUndefined();
    expect(b.delete(k(1))).toBe("one");
    expect(b.delete(k(1))).toBeUndefined();
    const t1 = b.persist();
    expect([t1.size, t1.get(k(2)), t1.get(k(1))]).toEqual([1, "TWO", undefined]);
    checkBTree(t1);
  });

  test("keys are in compareBytes order: unsigned, a prefix before its extensions", () => {
    const keys = [[0xff], [0x00], [0x61, 0x00], [0x61], [0x80], [0x61, 0x62]].map((a) => Uint8Array.from(a));
    const b = BTree.empty<number>().batch();
    keys.forEach((key, i) => b.set(key, i));
    const got: Uint8Array[] = [];
    b.forEach((key) => {
      got.push(key);
    });
    expect(got).toEqual([...keys].sort(compareBytes));
  });

  test("forEach starts at the first key ≥ from, across leaves, and stops when the visitor returns false", () => {
    const t = build(1000, 2); // even keys 0..1998: several leaves
    expect(t.height).toBeGreaterThan(1);
    expect(dump(t, k(1001)).slice(0, 3)).toEqual([[1002, 1002], [1004, 1004], [1006, 1006]]);
    expect(dump(t, k(1998))).toEqual([[1998, 1998]]);
    expect(dump(t, k(1999))).toEqual([]);
    expect(dump(t, k(0))).toHaveLength(1000);
    const seen: number[] = [];
    t.forEach((key) => {
      seen.push(num(key));
      return seen.length < 100;
    }, k(51));
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => 52 + 2 * i));
    expect([...t.entries()].map(([key]) => num(key))).toEqual(Array.from({ length: 1000 }, (_, i) => 2 * i));
  });

  test("ascending inserts split a full leaf leaving MinEntries on the right: nodes fill about 3/4", () => {
    const t = build(MaxEntries + 1);
    expect(t.height).toBe(2);
    checkBTree(t);
    const big = build(100_000);
    checkBTree(big);
    // 100k keys at ~49 per leaf and ~49 children per branch: 3 levels (at 32 they would need 4).
    expect(big.height).toBe(3);
  });

  test("random inserts then deleting 99% in random order keep every node ≥ MinEntries and the height small", () => {
    const rnd = seeded(7);
    const order = shuffle(Array.from({ length: 20_000 }, (_, i) => i), rnd);
    const b = BTree.empty<number>().batch();
    for (const i of order) b.set(k(i), i);
    checkBTree(b.persist());
    const h = b.height;
    let wrong = 0;
    for (const i of shuffle(order, rnd).slice(0, 19_800)) if (b.delete(k(i)) !== i) wrong++;
    expect(wrong).toBe(0);
    const t = b.persist();
    checkBTree(t);
    expect(t.size).toBe(200);
    expect(t.height).toBeLessThanOrEqual(h);
    expect(t.height).toBeLessThanOrEqual(2); // 200 keys: ≤ 12 leaves under one root
    for (const i of order) b.delete(k(i));
    expect([b.size, b.height]).toEqual([0, 1]);
    checkBTree(b.persist());
  });

  test("fromSorted builds a valid tree in one pass and refuses keys out of order or repeated", () => {
    for (const n of [0, 1, MinEntries, MaxEntries, MaxEntries + 1, 5000]) {
      const keys = Array.from({ length: n }, (_, i) => k(i));
      const t = BTree.fromSorted(keys, keys.map((_, i) => i));
      checkBTree(t);
      expect(dump(t)).toEqual(keys.map((_, i) => [i, i]));
    }
    expect(() => BTree.fromSorted([k(2), k(1)], [2, 1])).toThrow(/ascending/);
    expect(() => BTree.fromSorted([k(1), k(1)], [1, 1])).toThrow(/ascending/);
  });
});

describe("BTree: copy-on-write", () => {
  test("a persisted tree is a snapshot: later writes of any batch, even the one that made it, never reach it", () => {
    const t1 = build(5000);
    const b = t1.batch();
    b.set(k(10), -10);
    b.delete(k(20));
    b.set(k(99_999), 1);
    const t2 = b.persist();
    b.set(k(30), -30); // the same batch keeps writing after persist
    b.delete(k(40));
    for (let i = 2999; i >= 1000; i--) b.delete(k(i)); // descending: each merge reaches a shared left sibling
    const t3 = b.persist();
    expect(dump(t1)).toEqual(Array.from({ length: 5000 }, (_, i) => [i, i]));
    expect([t2.get(k(10)), t2.get(k(20)), t2.get(k(30)), t2.get(k(40)), t2.get(k(1500)), t2.size]).toEqual([-10, undefined, 30, 40, 1500, 5000]);
    expect([t3.get(k(30)), t3.get(k(40)), t3.get(k(1500)), t3.size]).toEqual([-30, undefined, undefined, 2999]);
    for (const t of [t1, t2, t3]) checkBTree(t);
  });

  test("one write copies exactly the root-to-leaf path; further writes to the same leaf copy nothing", () => {
    const t = build(200_000);
    const before = btreeNodesCopied();
    const b = t.batch();
    b.set(k(123_456), -1);
    expect(btreeNodesCopied() - before).toBe(t.height);
    b.set(k(123_457), -1);
    b.delete(k(123_458));
    b.set(k(123_456), -2);
    expect(btreeNodesCopied() - before).toBe(t.height);
    expect(b.delete(k(999_999_999))).toBeUndefined(); // absent: nothing copied
    expect(btreeNodesCopied() - before).toBe(t.height);
    b.persist();
    b.set(k(123_459), -1); // ownership revoked by persist: the path is copied again
    expect(btreeNodesCopied() - before).toBe(2 * t.height);
  });

  test("m scattered writes copy at most m × height nodes, far fewer than the tree holds", () => {
    const t = build(200_000);
    const before = btreeNodesCopied();
    const b = t.batch();
    for (let i = 0; i < 100; i++) b.set(k(i * 1999), -i);
    const copied = btreeNodesCopied() - before;
    expect(copied).toBeLessThanOrEqual(100 * t.height);
    expect(copied).toBeLessThan(200_000 / 40 / 10);
    checkBTree(b.persist());
  });
});

describe("BTree: property against a sorted-array model", () => {
  type Op =
    | { op: "put"; key: number; value: number }
    | { op: "delete"; key: number }
    | { op: "putRun"; from: number; n: number; value: number }
    | { op: "deleteRun"; from: number; n: number }
    | { op: "range"; from: number; end: number; limit: number }
    | { op: "persist" }
    | { op: "newBatch" };
  const key = fc.integer({ min: 0, max: 6000 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant("put" as const), key, value: fc.integer() }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("putRun" as const), from: key, n: fc.integer({ min: 1, max: 1500 }), value: fc.integer() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("deleteRun" as const), from: key, n: fc.integer({ min: 1, max: 2000 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("range" as const), from: key, end: key, limit: fc.integer({ min: 0, max: 80 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("persist" as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("newBatch" as const) }) },
  );

  /** The model: sorted [key, value] pairs, copied whole on every write. */
  type Model = readonly (readonly [number, number])[];
  const mSet = (m: Model, key: number, value: number): Model => [...m.filter(([x]) => x !== key), [key, value] as const].sort((a, b) => a[0] - b[0]);
  const mDel = (m: Model, key: number): Model => m.filter(([x]) => x !== key);
  const mRange = (m: Model, from: number, end: number, limit: number) =>
    m.filter(([x]) => x >= from && x < end).slice(0, limit > 0 ? limit : undefined);

  function range(t: BTreeBatch<number> | BTree<number>, from: number, end: number, limit: number): [number, number][] {
    const out: [number, number][] = [];
    t.forEach((key, v) => {
      if (num(key) >= end) return false;
      out.push([num(key), v]);
      return limit <= 0 || out.length < limit;
    }, k(from));
    return out;
  }

  test("gets, ranges, sizes and every held snapshot agree with the model; the shape stays valid", () => {
    let deepest = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 120, size: "max" }), (ops) => {
        let b = BTree.empty<number>().batch();
        let m: Model = [];
        const held: { tree: BTree<number>; model: Model }[] = [];
        for (const o of ops) {
          switch (o.op) {
            case "put":
              expect(b.set(k(o.key), o.value)).toBe(m.find(([x]) => x === o.key)?.[1]);
              m = mSet(m, o.key, o.value);
              break;
            case "delete":
              expect(b.delete(k(o.key))).toBe(m.find(([x]) => x === o.key)?.[1]);
              m = mDel(m, o.key);
              break;
            case "putRun": {
              const next = new Map(m);
              for (let i = o.from; i < o.from + o.n; i++) {
                b.set(k(i), o.value + i);
                next.set(i, o.value + i);
              }
              m = [...next].sort((a, c) => a[0] - c[0]);
              break;
            }
            case "deleteRun":
              for (let i = o.from; i < o.from + o.n; i++) b.delete(k(i));
              m = m.filter(([x]) => x < o.from || x >= o.from + o.n);
              break;
            case "range":
              same(range(b, o.from, o.end, o.limit), mRange(m, o.from, o.end, o.limit));
              break;
            case "persist": {
              const t = b.persist();
              checkBTree(t);
              held.push({ tree: t, model: m });
              break;
            }
            case "newBatch": // a batch started from the last persisted version, the current one dropped
              if (held.length > 0) {
                const last = held[held.length - 1]!;
                b = last.tree.batch();
                m = last.model;
              }
              break;
          }
          expect(b.size).toBe(m.length);
        }
        const t = b.persist();
        checkBTree(t);
        held.push({ tree: t, model: m });
        for (const h of held) deepest = Math.max(deepest, h.tree.height);
        for (const h of held) {
          expect(h.tree.size).toBe(h.model.length);
          same(dump(h.tree), h.model);
        }
        same([...t.entries()].map(([key, v]) => [num(key), v]), m);
      }),
      { numRuns: 100 },
    );
    expect(deepest).toBeGreaterThanOrEqual(3); // the runs reached branches under branches
  });
});

/** toEqual for long arrays of numbers, comparing their JSON first (vitest's deep equality is slow at thousands of rows). */
function same(got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) expect(got).toEqual(want);
}


function shuffle<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
