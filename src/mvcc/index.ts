import { ErrRevisionNotFound, type MvccError } from "./errors.js";
import { compareBytes, KeyIndex, type AvailableRevisions, type KeyIndexGetResult } from "./key-index.js";
import { compareRevision, type Revision } from "./revision.js";

export { compareBytes };

/**
 * The in-memory index of every key's revisions (etcd server/mvcc/index.go, the treeIndex), ordered
 * by key bytes. Values are not here: they live in the backend under their revision.
 *
 * Range ends follow etcd: `end` undefined or empty means the single key `key`; otherwise the
 * half-open range `[key, end)`, except that `end = [0]` ("\0") means every key ≥ `key`.
 *
 * Representation: a sorted array of {@link KeyIndex} with binary search instead of etcd's B-tree.
 * Lookups are O(log n); inserting a new key is O(n) (an array splice), which is cheap next to
 * the rest of a write at the sizes this store targets. Compaction rebuilds the array in O(n).
 */
export interface Index {
  get(key: Uint8Array, atRev: number): KeyIndexGetResult | MvccError;
  range(key: Uint8Array, end: Uint8Array | undefined, atRev: number): { keys: Uint8Array[]; revs: Revision[] };
  revisions(
    key: Uint8Array,
    end: Uint8Array | undefined,
    atRev: number,
    limit: number,
  ): { revs: Revision[]; total: number };
  countRevisions(key: Uint8Array, end: Uint8Array | undefined, atRev: number): number;
  rangeSince(key: Uint8Array, end: Uint8Array | undefined, rev: number): Revision[];
  put(key: Uint8Array, rev: Revision): void;
  tombstone(key: Uint8Array, rev: Revision): MvccError | undefined;
  restore(key: Uint8Array, created: Revision, modified: Revision, ver: number): void;
  restoreTombstone(key: Uint8Array, rev: Revision): MvccError | undefined;
  compact(rev: number): AvailableRevisions;
  keep(rev: number): AvailableRevisions;
  equal(other: Index): boolean;
  /** Every key index in key order; read-only for callers. */
  keyIndexes(): readonly KeyIndex[];
}

function isSingleKey(end: Uint8Array | undefined): end is undefined {
  return end === undefined || end.length === 0;
}

function isOpenEnded(end: Uint8Array): boolean {
  return end.length === 1 && end[0] === 0;
}

export class TreeIndex implements Index {
  private items: KeyIndex[] = [];

  /** Position of `key` if present, else the position where it would be inserted. */
  private search(key: Uint8Array): { pos: number; found: boolean } {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytes(this.items[mid]!.key, key);
      if (c === 0) return { pos: mid, found: true };
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return { pos: lo, found: false };
  }

  private lookup(key: Uint8Array): KeyIndex | undefined {
    const { pos, found } = this.search(key);
    return found ? this.items[pos] : undefined;
  }

  /** Calls `f` on each key index in `[key, end)` (end not single-key), in key order. */
  private visit(key: Uint8Array, end: Uint8Array, f: (ki: KeyIndex) => void): void {
    const open = isOpenEnded(end);
    for (let i = this.search(key).pos; i < this.items.length; i++) {
      const ki = this.items[i]!;
      if (!open && compareBytes(ki.key, end) >= 0) return;
      f(ki);
    }
  }

  /** The key as of `atRev`, or {@link ErrRevisionNotFound} when absent then. */
  get(key: Uint8Array, atRev: number): KeyIndexGetResult | MvccError {
    const ki = this.lookup(key);
    if (ki === undefined) return ErrRevisionNotFound;
    return ki.get(atRev);
  }

  /** Keys live at `atRev` in the range, in key order, with the revision that last modified each. */
  range(key: Uint8Array, end: Uint8Array | undefined, atRev: number): { keys: Uint8Array[]; revs: Revision[] } {
    if (isSingleKey(end)) {
      const r = this.get(key, atRev);
      if (r instanceof Error) return { keys: [], revs: [] };
      return { keys: [key], revs: [r.modified] };
    }
    const keys: Uint8Array[] = [];
    const revs: Revision[] = [];
    this.visit(key, end, (ki) => {
      const r = ki.get(atRev);
      if (r instanceof Error) return;
      keys.push(ki.key);
      revs.push(r.modified);
    });
    return { keys, revs };
  }

  /**
   * The modified revisions of keys live at `atRev` in the range, in key order: at most `limit` of
   * them (`limit` ≤ 0: no limit), and `total`, the number of live keys whatever the limit.
   */
  revisions(
    key: Uint8Array,
    end: Uint8Array | undefined,
    atRev: number,
    limit: number,
  ): { revs: Revision[]; total: number } {
    if (isSingleKey(end)) {
      const r = this.get(key, atRev);
      if (r instanceof Error) return { revs: [], total: 0 };
      return { revs: [r.modified], total: 1 };
    }
    const revs: Revision[] = [];
    let total = 0;
    this.visit(key, end, (ki) => {
      const r = ki.get(atRev);
      if (r instanceof Error) return;
      if (limit <= 0 || revs.length < limit) revs.push(r.modified);
      total++;
    });
    return { revs, total };
  }

  /** The number of keys live at `atRev` in the range. */
  countRevisions(key: Uint8Array, end: Uint8Array | undefined, atRev: number): number {
    if (isSingleKey(end)) return this.get(key, atRev) instanceof Error ? 0 : 1;
    let total = 0;
    this.visit(key, end, (ki) => {
      if (!(ki.get(atRev) instanceof Error)) total++;
    });
    return total;
  }

  /**
   * Every revision at or after main revision `rev` of the keys in the range, sorted by revision
   * (one per key and main revision, see {@link KeyIndex.since}); what a watcher catching up needs.
   */
  rangeSince(key: Uint8Array, end: Uint8Array | undefined, rev: number): Revision[] {
    if (isSingleKey(end)) {
      const ki = this.lookup(key);
      return ki === undefined ? [] : ki.since(rev);
    }
    const revs: Revision[] = [];
    this.visit(key, end, (ki) => {
      for (const r of ki.since(rev)) revs.push(r);
    });
    revs.sort(compareRevision);
    return revs;
  }

  /** Records a put of `key` at `rev`, creating its key index if new. The index keeps `key`. */
  put(key: Uint8Array, rev: Revision): void {
    const { pos, found } = this.search(key);
    if (found) {
      this.items[pos]!.put(rev.main, rev.sub);
      return;
    }
    const ki = new KeyIndex(key);
    ki.put(rev.main, rev.sub);
    this.items.splice(pos, 0, ki);
  }

  /** Records a delete of `key` at `rev`; {@link ErrRevisionNotFound} when the key is not live. */
  tombstone(key: Uint8Array, rev: Revision): MvccError | undefined {
    const ki = this.lookup(key);
    if (ki === undefined) return ErrRevisionNotFound;
    return ki.tombstone(rev.main, rev.sub);
  }

  /**
   * Rebuilds a key's index while restoring from the backend: a new key gets a single generation
   * from `created` to `modified` at version `ver`; a known key gets a put at `modified`.
   */
  restore(key: Uint8Array, created: Revision, modified: Revision, ver: number): void {
    const { pos, found } = this.search(key);
    if (found) {
      this.items[pos]!.put(modified.main, modified.sub);
      return;
    }
    const ki = new KeyIndex(key);
    ki.restore(created, modified, ver);
    this.items.splice(pos, 0, ki);
  }

  /**
   * Restores a key whose first revision met while reading the backend in revision order is the
   * tombstone at `rev`: what remains of it after a compaction at exactly `rev` (etcd's restore
   * path calls keyIndex.restoreTombstone for it). A new key gets an index holding only that
   * tombstone (see {@link KeyIndex.restoreTombstone}): nothing to `get`, but `rangeSince(rev)`
   * returns the delete, and a later compaction above `rev` removes the key. A known key gets a
   * tombstone at `rev`, like {@link tombstone}, whose result is returned.
   */
  restoreTombstone(key: Uint8Array, rev: Revision): MvccError | undefined {
    const { pos, found } = this.search(key);
    if (found) return this.items[pos]!.tombstone(rev.main, rev.sub);
    const ki = new KeyIndex(key);
    ki.restoreTombstone(rev.main, rev.sub);
    this.items.splice(pos, 0, ki);
    return undefined;
  }

  /**
   * Compacts every key at `rev` (see {@link KeyIndex.compact}), removing keys left empty, and
   * returns the revisions that must stay in the backend, including a tombstone at exactly `rev`;
   * the caller deletes every other revision ≤ `rev` from it.
   */
  compact(rev: number): AvailableRevisions {
    const available: AvailableRevisions = new Map();
    const kept: KeyIndex[] = [];
    for (const ki of this.items) {
      ki.compact(rev, available);
      if (!ki.isEmpty()) kept.push(ki);
    }
    this.items = kept;
    return available;
  }

  /**
   * The revisions a compaction at `rev` would keep, except tombstones at exactly `rev` (see
   * {@link KeyIndex.keep}), without compacting; what the hash of the state at `rev` covers.
   */
  keep(rev: number): AvailableRevisions {
    const available: AvailableRevisions = new Map();
    for (const ki of this.items) ki.keep(rev, available);
    return available;
  }

  /** Same keys, each {@link KeyIndex.equal} (which ignores generations' `created`). */
  equal(other: Index): boolean {
    const theirs = other.keyIndexes();
    if (theirs.length !== this.items.length) return false;
    for (let i = 0; i < this.items.length; i++) {
      if (!this.items[i]!.equal(theirs[i]!)) return false;
    }
    return true;
  }

  keyIndexes(): readonly KeyIndex[] {
    return this.items;
  }

  /** Inserts a prepared key index, replacing any with the same key (tests and restore helpers). */
  insert(ki: KeyIndex): void {
    const { pos, found } = this.search(ki.key);
    if (found) this.items[pos] = ki;
    else this.items.splice(pos, 0, ki);
  }
}

export function newTreeIndex(): TreeIndex {
  return new TreeIndex();
}
