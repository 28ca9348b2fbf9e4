import { ErrRevisionNotFound, type MvccError } from "./errors.js";
import { compareBytes, KeyIndex, type AvailableRevisions, type KeyIndexGetResult } from "./key-index.js";
import { compareRevision, type Revision } from "./revision.js";
import { BTree, type BTreeBatch } from "../storage/btree.js";

export { compareBytes };

/**
 * The in-memory index of every key's revisions (etcd server/mvcc/index.go, the treeIndex), ordered
 * by key bytes. Values are not here: they live in the backend under their revision.
 *
 * Range ends follow etcd: `end` undefined or empty means the single key `key`; otherwise the
 * half-open range `[key, end)`, except that `end = [0]` ("\0") means every key ≥ `key`.
 *
 * Representation: a B+tree of {@link KeyIndex} by key, like etcd's B-tree: the copy-on-write tree
 * of src/storage/btree.ts used as a mutable one (one batch that is never persisted, so after the
 * first write every node belongs to it and changes in place). Lookups, inserts and deletes are
 * O(log n); a range walks the leaves from its start.
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
  private tree: BTreeBatch<KeyIndex> = BTree.empty<KeyIndex>().batch();

  private lookup(key: Uint8Array): KeyIndex | undefined {
    return this.tree.get(key);
  }

  /** Calls `f` on each key index in `[key, end)` (end not single-key), in key order. */
  private visit(key: Uint8Array, end: Uint8Array, f: (ki: KeyIndex) => void): void {
    const open = isOpenEnded(end);
    this.tree.forEach((k, ki) => {
      if (!open && compareBytes(k, end) >= 0) return false;
      f(ki);
      return true;
    }, key);
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
    const found = this.lookup(key);
    if (found) {
      found.put(rev.main, rev.sub);
      return;
    }
    const ki = new KeyIndex(key);
    ki.put(rev.main, rev.sub);
    this.tree.set(key, ki);
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
    const found = this.lookup(key);
    if (found) {
      found.put(modified.main, modified.sub);
      return;
    }
    const ki = new KeyIndex(key);
    ki.restore(created, modified, ver);
    this.tree.set(key, ki);
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
    const found = this.lookup(key);
    if (found) return found.tombstone(rev.main, rev.sub);
    const ki = new KeyIndex(key);
    ki.restoreTombstone(rev.main, rev.sub);
    this.tree.set(key, ki);
    return undefined;
  }

  /**
   * Compacts every key at `rev` (see {@link KeyIndex.compact}), removing keys left empty, and
   * returns the revisions that must stay in the backend, including a tombstone at exactly `rev`;
   * the caller deletes every other revision ≤ `rev` from it.
   */
  compact(rev: number): AvailableRevisions {
    const available: AvailableRevisions = new Map();
    const emptied: Uint8Array[] = [];
    this.tree.forEach((key, ki) => {
      ki.compact(rev, available);
      if (ki.isEmpty()) emptied.push(key);
    });
    for (const key of emptied) this.tree.delete(key);
    return available;
  }

  /**
   * The revisions a compaction at `rev` would keep, except tombstones at exactly `rev` (see
   * {@link KeyIndex.keep}), without compacting; what the hash of the state at `rev` covers.
   */
  keep(rev: number): AvailableRevisions {
    const available: AvailableRevisions = new Map();
    this.tree.forEach((_, ki) => {
      ki.keep(rev, available);
    });
    return available;
  }

  /** Same keys, each {@link KeyIndex.equal} (which ignores generations' `created`). */
  equal(other: Index): boolean {
    const mine = this.keyIndexes();
    const theirs = other.keyIndexes();
    if (theirs.length !== mine.length) return false;
    for (let i = 0; i < mine.length; i++) {
      if (!mine[i]!.equal(theirs[i]!)) return false;
    }
    return true;
  }

  /** The number of keys indexed (live or kept for their history). */
  size(): number {
    return this.tree.size;
  }

  keyIndexes(): readonly KeyIndex[] {
    const out: KeyIndex[] = [];
    this.tree.forEach((_, ki) => {
      out.push(ki);
    });
    return out;
  }

  /** Inserts a prepared key index, replacing any with the same key (tests and restore helpers). */
  insert(ki: KeyIndex): void {
    this.tree.set(ki.key, ki);
  }
}

export function newTreeIndex(): TreeIndex {
  return new TreeIndex();
}
