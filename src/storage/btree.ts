/**
 * A persistent (copy-on-write) B+tree of byte keys ordered by `compareBytes`: the committed state of
 * one MemoryBackend bucket, in the role bbolt's B+tree plays for etcd.
 *
 * ## Two faces
 * - `BTree` is an immutable value: a root, a size and a height. Nothing ever changes a node reachable
 *   from a `BTree`, so holding one is a snapshot for free (a read transaction is just a `BTree` per
 *   bucket).
 * - `BTreeBatch` is the one writer of a new version, started from a `BTree`. A write path-copies the
 *   nodes it touches, root to leaf, and marks each copy as owned by the batch; a later write of the
 *   same batch reaching an owned node changes it in place, so each node is copied at most once per
 *   batch. A write is O(log n); m writes copy at most O(m log n) nodes and never the untouched rest of
 *   the tree. The batch reads its own writes with the same code as a `BTree` (its root is a tree).
 *   `persist()` returns the current version as a `BTree` and revokes the batch's ownership, so the
 *   returned tree stays immutable even if the batch keeps writing (it then copies afresh).
 *
 * ## Shape
 * Leaves hold up to `MaxEntries` keys and values in order; an internal node holds up to `MaxEntries`
 * children and one separator fewer: child `i` holds the keys in `[keys[i-1], keys[i])` (unbounded at
 * either end). Every node other than the root holds at least `MinEntries`; deletes rebalance (borrow
 * from or merge with a sibling) to keep it so, and a root with one child is replaced by that child.
 * All leaves are at the same depth and a branch root has ≥ 2 children, so the height is at most
 * 2 + log₁₆(n/32) — 5 levels for a million keys (4 for 200k keys filled by ascending inserts). A split normally halves a node; an insert at the very end of a full node (MVCC's
 * ascending revisions) leaves `MinEntries` on the right and the rest on the left, so ascending keys
 * fill nodes about 3/4 instead of 1/2.
 *
 * ## Iteration
 * `forEach(visit, from)` descends once to the first key ≥ `from` and then walks leaves with a stack
 * of (node, child index) — O(log n + k) for k entries, no re-descent per entry. A B+tree's leaf
 * sibling links cannot survive path copying (a copied leaf would need its left neighbour copied too),
 * so the stack replaces them.
 *
 * ## Example (MaxEntries shrunk to 4, MinEntries to 1 for the picture)
 * ```
 *   const t0 = BTree.empty<string>();
 *   const b = t0.batch();
 *   for (const k of ["a", "b", "c", "d", "e"]) b.set(enc(k), k);  // "e" splits the full leaf:
 *   const t1 = b.persist();                                        //      [e]
 *                                                                 //  [a b c d]  [e]
 *   const b2 = t1.batch();
 *   b2.set(enc("f"), "f");     // copies the root and leaf [e] only; leaf [a b c d] is shared
 *   b2.set(enc("g"), "g");     // both nodes are owned by b2 now: changed in place, nothing copied
 *   const t2 = b2.persist();   // t1 still reads a..e; t2 reads a..g
 * ```
 * Arrays passed in (keys, values) are kept, not copied; arrays read out are shared. Neither may be
 * mutated by the caller.
 */
import { compareBytes } from "./backend.js";

/** Most entries in a leaf, children in an internal node. */
export const MaxEntries = 64;
/** Fewest entries or children in any node but the root. */
export const MinEntries = 16;

/** Return `false` to stop the iteration; anything else continues. */
export type BTreeVisitor<V> = (key: Uint8Array, value: V) => boolean | void;

class Leaf<V> {
  constructor(
    public owner: object | undefined,
    public keys: Uint8Array[],
    public values: V[],
  ) {}
}

class Branch<V> {
  constructor(
    public owner: object | undefined,
    /** Separators: `keys.length === children.length - 1`. */
    public keys: Uint8Array[],
    public children: Node<V>[],
  ) {}
}

type Node<V> = Leaf<V> | Branch<V>;

let copies = 0;

/**
 * How many nodes every `BTreeBatch` so far has copied (a debug counter for tests: the difference
 * across an operation is the number of nodes it copied).
 */
export function btreeNodesCopied(): number {
  return copies;
}

/** An immutable version of the tree; see the file comment. */
export class BTree<V> {
  private constructor(
    /** @internal */ readonly root: Node<V>,
    /** Number of entries. */
    readonly size: number,
    /** Levels from root to leaf, 1 for a lone leaf. */
    readonly height: number,
  ) {}

  static empty<V>(): BTree<V> {
    return new BTree<V>(new Leaf<V>(undefined, [], []), 0, 1);
  }

  /** @internal */
  static of<V>(root: Node<V>, size: number, height: number): BTree<V> {
    return new BTree(root, size, height);
  }

  /**
   * Builds a tree in O(n) from entries in strictly ascending key order (as a snapshot stream holds
   * them). Throws if the keys are not strictly ascending. Nodes are filled to about 3/4.
   */
  static fromSorted<V>(keys: readonly Uint8Array[], values: readonly V[]): BTree<V> {
    if (keys.length !== values.length) throw new Error("btree: keys and values differ in length");
    for (let i = 1; i < keys.length; i++) {
      if (compareBytes(keys[i - 1]!, keys[i]!) >= 0) throw new Error("btree: fromSorted needs strictly ascending keys");
    }
    if (keys.length === 0) return BTree.empty();
    const fill = (MaxEntries * 3) >> 2;
    let level: Node<V>[] = [];
    let mins: Uint8Array[] = [];
    for (const [lo, hi] of spans(keys.length, fill)) {
      level.push(new Leaf<V>(undefined, keys.slice(lo, hi), values.slice(lo, hi)));
      mins.push(keys[lo]!);
    }
    let height = 1;
    while (level.length > 1) {
      const up: Node<V>[] = [];
      const upMins: Uint8Array[] = [];
      for (const [lo, hi] of spans(level.length, fill)) {
        up.push(new Branch<V>(undefined, mins.slice(lo + 1, hi), level.slice(lo, hi)));
        upMins.push(mins[lo]!);
      }
      level = up;
      mins = upMins;
      height++;
    }
    return new BTree(level[0]!, keys.length, height);
  }

  get(key: Uint8Array): V | undefined {
    return get(this.root, key);
  }

  /** Visits entries in key order, from the first key ≥ `from` (the first key if absent). */
  forEach(visit: BTreeVisitor<V>, from?: Uint8Array): void {
    forEach(this.root, visit, from);
  }

  /**
   * Every entry in key order from the first key ≥ `from` (the first key if absent), lazily (for
   * streaming and merging); the tree is immutable, so this is a snapshot.
   */
  entries(from?: Uint8Array): Generator<readonly [Uint8Array, V]> {
    return entries(this.root, from);
  }

  /** Starts a batch writing a new version; this tree is unchanged by it. */
  batch(): BTreeBatch<V> {
    return new BTreeBatch(this);
  }
}

/** The writer of a new version; see the file comment. */
export class BTreeBatch<V> {
  private root: Node<V>;
  private count: number;
  private levels: number;
  /** Nodes whose `owner` is this token belong to this batch and may change in place. */
  private token: object = {};

  constructor(base: BTree<V>) {
    this.root = base.root;
    this.count = base.size;
    this.levels = base.height;
  }

  get size(): number {
    return this.count;
  }

  get height(): number {
    return this.levels;
  }

  get(key: Uint8Array): V | undefined {
    return get(this.root, key);
  }

  forEach(visit: BTreeVisitor<V>, from?: Uint8Array): void {
    forEach(this.root, visit, from);
  }

  /** As `BTree.entries`, over the batch's current version; do not write while iterating. */
  entries(from?: Uint8Array): Generator<readonly [Uint8Array, V]> {
    return entries(this.root, from);
  }

  /** Sets `key` to `value`; returns the value it replaced, undefined if the key was new. */
  set(key: Uint8Array, value: V): V | undefined {
    this.root = this.own(this.root);
    const r = this.insert(this.root, key, value);
    if (r.split) {
      this.root = new Branch<V>(this.token, [r.split.sep], [this.root, r.split.right]);
      this.levels++;
    }
    if (!r.replaced) this.count++;
    return r.old;
  }

  /** Removes `key`; returns its value, undefined (and nothing copied) if it was absent. */
  delete(key: Uint8Array): V | undefined {
    if (!has(this.root, key)) return undefined;
    this.root = this.own(this.root);
    const old = this.remove(this.root, key);
    this.count--;
    while (this.root instanceof Branch && this.root.children.length === 1) {
      this.root = this.root.children[0]!;
      this.levels--;
    }
    return old;
  }

  /**
   * The current version as an immutable tree. The batch gives up ownership of every node so far:
   * further writes copy again and never reach the returned tree.
   */
  persist(): BTree<V> {
    this.token = {};
    return BTree.of(this.root, this.count, this.levels);
  }

  /** The node itself if this batch owns it, else a copy owned by this batch. */
  private own<N extends Node<V>>(n: N): N {
    if (n.owner === this.token) return n;
    copies++;
    if (n instanceof Leaf) return new Leaf<V>(this.token, n.keys.slice(), n.values.slice()) as N;
    return new Branch<V>(this.token, n.keys.slice(), (n as Branch<V>).children.slice()) as N;
  }

  /** Inserts into an owned node; a split returns the new right sibling and its separator. */
  private insert(n: Node<V>, key: Uint8Array, value: V): InsertResult<V> {
    if (n instanceof Leaf) {
      const len = n.keys.length;
      // Ascending keys (MVCC revisions) append: skip the search.
      const i = len === 0 || compareBytes(n.keys[len - 1]!, key) < 0 ? len : lowerBound(n.keys, key);
      if (i < len && compareBytes(n.keys[i]!, key) === 0) {
        const old = n.values[i];
        n.values[i] = value;
        return { old, replaced: true, split: undefined };
      }
      n.keys.splice(i, 0, key);
      n.values.splice(i, 0, value);
      if (n.keys.length <= MaxEntries) return { old: undefined, replaced: false, split: undefined };
      const at = splitPoint(n.keys.length, i === len);
      const right = new Leaf<V>(this.token, n.keys.splice(at), n.values.splice(at));
      return { old: undefined, replaced: false, split: { sep: right.keys[0]!, right } };
    }
    const i = childIndex(n.keys, key);
    const child = this.own(n.children[i]!);
    n.children[i] = child;
    const r = this.insert(child, key, value);
    if (!r.split) return r;
    n.keys.splice(i, 0, r.split.sep);
    n.children.splice(i + 1, 0, r.split.right);
    if (n.children.length <= MaxEntries) return { old: r.old, replaced: r.replaced, split: undefined };
    const at = splitPoint(n.children.length, i + 1 === n.children.length - 1);
    const children = n.children.splice(at);
    const keys = n.keys.splice(at - 1);
    const sep = keys.shift()!;
    return { old: r.old, replaced: r.replaced, split: { sep, right: new Branch<V>(this.token, keys, children) } };
  }

  /** Removes a key known to be present from an owned node, rebalancing under-full children. */
  private remove(n: Node<V>, key: Uint8Array): V {
    if (n instanceof Leaf) {
      const i = lowerBound(n.keys, key);
      const old = n.values[i]!;
      n.keys.splice(i, 1);
      n.values.splice(i, 1);
      return old;
    }
    const i = childIndex(n.keys, key);
    const child = this.own(n.children[i]!);
    n.children[i] = child;
    const old = this.remove(child, key);
    if (width(child) < MinEntries) this.rebalance(n, i);
    return old;
  }

  /** Child `i` of the owned node `parent` is under-full: merge it with a sibling or even them out. */
  private rebalance(parent: Branch<V>, i: number): void {
    const l = i > 0 ? i - 1 : i;
    const left = this.own(parent.children[l]!);
    const right = this.own(parent.children[l + 1]!);
    parent.children[l] = left;
    parent.children[l + 1] = right;
    const sep = parent.keys[l]!;
    if (left instanceof Leaf) {
      const r = right as Leaf<V>;
      const keys = left.keys.concat(r.keys);
      const values = left.values.concat(r.values);
      if (keys.length <= MaxEntries) {
        left.keys = keys;
        left.values = values;
        parent.keys.splice(l, 1);
        parent.children.splice(l + 1, 1);
        return;
      }
      const h = keys.length >> 1;
      left.keys = keys.slice(0, h);
      left.values = values.slice(0, h);
      r.keys = keys.slice(h);
      r.values = values.slice(h);
      parent.keys[l] = r.keys[0]!;
      return;
    }
    const r = right as Branch<V>;
    const keys = left.keys.concat([sep], r.keys);
    const children = left.children.concat(r.children);
    if (children.length <= MaxEntries) {
      left.keys = keys;
      left.children = children;
      parent.keys.splice(l, 1);
      parent.children.splice(l + 1, 1);
      return;
    }
    const h = children.length >> 1;
    left.children = children.slice(0, h);
    left.keys = keys.slice(0, h - 1);
    parent.keys[l] = keys[h - 1]!;
    r.children = children.slice(h);
    r.keys = keys.slice(h);
  }
}

interface InsertResult<V> {
  old: V | undefined;
  replaced: boolean;
  split: { sep: Uint8Array; right: Node<V> } | undefined;
}

/**
 * Checks every structural invariant (order, separator bounds, node sizes, equal leaf depth, size and
 * height) and throws describing the first broken one. For tests.
 */
export function checkBTree<V>(t: BTree<V>): void {
  let count = 0;
  let leafDepth = -1;
  const walk = (n: Node<V>, depth: number, lo: Uint8Array | undefined, hi: Uint8Array | undefined, root: boolean) => {
    const w = width(n);
    if (w > MaxEntries) throw new Error(`btree: node of ${w} entries at depth ${depth}`);
    if (!root && w < MinEntries) throw new Error(`btree: under-full node of ${w} at depth ${depth}`);
    for (let i = 0; i < n.keys.length; i++) {
      const k = n.keys[i]!;
      if (i > 0 && compareBytes(n.keys[i - 1]!, k) >= 0) throw new Error(`btree: keys out of order at depth ${depth}`);
      if ((lo && compareBytes(k, lo) < 0) || (hi && compareBytes(k, hi) >= 0)) throw new Error(`btree: key outside its separators at depth ${depth}`);
    }
    if (n instanceof Leaf) {
      if (n.values.length !== n.keys.length) throw new Error("btree: leaf keys and values differ in length");
      if (leafDepth === -1) leafDepth = depth;
      else if (leafDepth !== depth) throw new Error(`btree: leaves at depths ${leafDepth} and ${depth}`);
      count += n.keys.length;
      return;
    }
    if (n.keys.length !== n.children.length - 1) throw new Error("btree: separators ≠ children - 1");
    if (root && n.children.length < 2) throw new Error("btree: internal root with one child");
    for (let i = 0; i < n.children.length; i++) {
      walk(n.children[i]!, depth + 1, i > 0 ? n.keys[i - 1] : lo, i < n.keys.length ? n.keys[i] : hi, false);
    }
  };
  walk(t.root, 1, undefined, undefined, true);
  if (count !== t.size) throw new Error(`btree: size ${t.size} but ${count} entries`);
  if (leafDepth !== t.height) throw new Error(`btree: height ${t.height} but leaves at depth ${leafDepth}`);
}

/** Entries of a leaf, children of an internal node. */
function width<V>(n: Node<V>): number {
  return n instanceof Leaf ? n.keys.length : n.children.length;
}

/** Where an overfull node of `n` entries splits: halves, or `MinEntries` on the right after an append. */
function splitPoint(n: number, appended: boolean): number {
  return appended ? n - MinEntries : n >> 1;
}

/** `n` items cut into the fewest runs of at most `max`, as even as possible: [lo, hi) pairs. */
function spans(n: number, max: number): [number, number][] {
  const k = Math.ceil(n / max);
  const out: [number, number][] = [];
  for (let j = 0; j < k; j++) out.push([Math.floor((j * n) / k), Math.floor(((j + 1) * n) / k)]);
  return out;
}

/** First index i with keys[i] ≥ key. */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The child of an internal node whose range holds `key`: the number of separators ≤ key. */
function childIndex(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function findLeaf<V>(root: Node<V>, key: Uint8Array): Leaf<V> {
  let n = root;
  while (n instanceof Branch) n = n.children[childIndex(n.keys, key)]!;
  return n;
}

function has<V>(root: Node<V>, key: Uint8Array): boolean {
  const leaf = findLeaf(root, key);
  const i = lowerBound(leaf.keys, key);
  return i < leaf.keys.length && compareBytes(leaf.keys[i]!, key) === 0;
}

function get<V>(root: Node<V>, key: Uint8Array): V | undefined {
  const leaf = findLeaf(root, key);
  const i = lowerBound(leaf.keys, key);
  return i < leaf.keys.length && compareBytes(leaf.keys[i]!, key) === 0 ? leaf.values[i] : undefined;
}

function forEach<V>(root: Node<V>, visit: BTreeVisitor<V>, from: Uint8Array | undefined): void {
  const c = new Cursor(root, from);
  while (c.leaf) {
    const leaf = c.leaf;
    for (let i = c.i; i < leaf.keys.length; i++) {
      if (visit(leaf.keys[i]!, leaf.values[i]!) === false) return;
    }
    c.nextLeaf();
  }
}

function* entries<V>(root: Node<V>, from: Uint8Array | undefined): Generator<readonly [Uint8Array, V]> {
  const c = new Cursor(root, from);
  while (c.leaf) {
    yield [c.leaf.keys[c.i]!, c.leaf.values[c.i]!];
    c.next();
  }
}

/** A position in the tree: a leaf and an index in it, with the path of (branch, child index) above. */
class Cursor<V> {
  leaf: Leaf<V> | undefined;
  i = 0;
  private readonly path: Branch<V>[] = [];
  private readonly at: number[] = [];

  /** Positions at the first key ≥ `from` (the first key if absent); `leaf` is undefined past the end. */
  constructor(root: Node<V>, from: Uint8Array | undefined) {
    let n = root;
    while (n instanceof Branch) {
      const j = from ? childIndex(n.keys, from) : 0;
      this.path.push(n);
      this.at.push(j);
      n = n.children[j]!;
    }
    this.leaf = n;
    this.i = from ? lowerBound(n.keys, from) : 0;
    if (this.i >= n.keys.length) this.nextLeaf();
  }

  next(): void {
    if (++this.i >= this.leaf!.keys.length) this.nextLeaf();
  }

  /** Moves to the first entry of the next non-empty leaf, or past the end. */
  nextLeaf(): void {
    for (;;) {
      let d = this.path.length - 1;
      while (d >= 0 && this.at[d]! + 1 >= this.path[d]!.children.length) d--;
      if (d < 0) {
        this.leaf = undefined;
        return;
      }
      this.at[d] = this.at[d]! + 1;
      this.path.length = d + 1;
      this.at.length = d + 1;
      let n = this.path[d]!.children[this.at[d]!]!;
      while (n instanceof Branch) {
        this.path.push(n);
        this.at.push(0);
        n = n.children[0]!;
      }
      this.leaf = n;
      this.i = 0;
      if (n.keys.length > 0) return;
    }
  }
}
