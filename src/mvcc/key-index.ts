import { compareBytes } from "../storage/backend.js";
import { ErrRevisionNotFound, type MvccError } from "./errors.js";
import {
  compareRevision,
  describeRevision,
  revisionEqual,
  revisionGreaterThan,
  revisionKey,
  zeroRevision,
  type Revision,
} from "./revision.js";

/**
 * One life of a key, from its creation to its deletion (etcd's generation): `ver` is the key's
 * version after the last revision in `revs`, `created` the revision that created it, `revs` every
 * revision that changed it in ascending order. A generation that ends in a tombstone has the
 * tombstone's revision as its last entry.
 */
export interface Generation {
  ver: number;
  created: Revision;
  revs: Revision[];
}

/** What {@link KeyIndex.get} finds at a revision: the key's mod/create revisions and version. */
export interface KeyIndexGetResult {
  modified: Revision;
  created: Revision;
  ver: number;
}

/** The set of revisions that survive a compaction, keyed by {@link revisionKey}. */
export type AvailableRevisions = Map<string, Revision>;

function newGeneration(): Generation {
  return { ver: 0, created: zeroRevision, revs: [] };
}

function generationIsEmpty(g: Generation | undefined): boolean {
  return g === undefined || g.revs.length === 0;
}

/**
 * Index from the end of `g.revs` backwards: the position of the first revision (scanning from
 * the newest) for which `keepWalking` is false, or -1 when it holds for all.
 */
function walk(g: Generation, keepWalking: (r: Revision) => boolean): number {
  for (let i = g.revs.length - 1; i >= 0; i--) {
    if (!keepWalking(g.revs[i]!)) return i;
  }
  return -1;
}

/**
 * The revisions of one key (etcd server/mvcc/key_index.go). `modified` is the last revision that
 * changed the key; `generations` holds one entry per life of the key, the last one open (empty
 * once the key is deleted and not yet put again).
 *
 * Worked example. For key "foo", put at 1.0 and 2.0, deleted at 3.0, put at 4.0, deleted at 5.0:
 *
 *     generations (newest first):
 *       {empty}
 *       {4.0, 5.0(t)}
 *       {1.0, 2.0, 3.0(t)}
 *
 * A put appends to the last generation; a tombstone appends its revision there and opens a new
 * empty generation. Compacting at n drops whole generations whose tombstone is below n and keeps,
 * in the first remaining one, its largest revision ≤ n and everything after it. A generation whose
 * tombstone is exactly n keeps that tombstone alone, so a watcher starting at n still sees the
 * delete (etcd ≥ 3.5.16 / 3.4.34; older versions dropped it, losing the event, etcd issue #18089):
 *
 *     compact(2): {empty}, {4.0, 5.0(t)}, {2.0, 3.0(t)}
 *     compact(4): {empty}, {4.0, 5.0(t)}
 *     compact(5): {empty}, {5.0(t)}       get(≥ 5) finds nothing; since(5) returns 5.0
 *     compact(6): {empty}                 the key is empty and leaves the tree index
 *
 * {@link keep} reports what compact would keep except such a tombstone at exactly n, as etcd's
 * keep does, so hashes of the kept state match those of older versions.
 */
export class KeyIndex {
  readonly key: Uint8Array;
  modified: Revision = zeroRevision;
  generations: Generation[] = [];

  constructor(key: Uint8Array) {
    this.key = key;
  }

  /** Records a put at `main.sub`. Throws (etcd panics) unless it is above `modified`. */
  put(main: number, sub: number): void {
    const rev: Revision = { main, sub };
    if (!revisionGreaterThan(rev, this.modified)) {
      throw new Error(
        `mvcc: 'put' with an unexpected smaller revision ${describeRevision(rev)} ≤ ${describeRevision(this.modified)}`,
      );
    }
    if (this.generations.length === 0) this.generations.push(newGeneration());
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) g.created = rev;
    g.revs.push(rev);
    g.ver++;
    this.modified = rev;
  }

  /**
   * Rebuilds a fresh index from what the backend holds of its latest life: created at `created`,
   * last modified at `modified`, at version `ver`. Throws unless the index has no generations.
   */
  restore(created: Revision, modified: Revision, ver: number): void {
    if (this.generations.length !== 0) {
      throw new Error("mvcc: 'restore' got an unexpected non-empty generations");
    }
    this.modified = modified;
    this.generations.push({ created, ver, revs: [modified] });
  }

  /**
   * Restores a key whose oldest revision in the backend is the tombstone at `main.sub` (kept by a
   * compaction at that revision): one generation holding only the tombstone, at version 1 with a
   * zero `created` (the creating revision was compacted away), then an empty one (etcd's
   * restoreTombstone). `get` finds nothing at any revision; `since` still returns the tombstone.
   * Throws unless the index has no generations.
   */
  restoreTombstone(main: number, sub: number): void {
    this.restore(zeroRevision, { main, sub }, 1);
    this.generations.push(newGeneration());
  }

  /**
   * Records a delete at `main.sub` and opens a new, empty generation. Returns
   * {@link ErrRevisionNotFound} when the key is not live (its last generation is empty); etcd panics
   * on a wholly empty index and returns the error otherwise — here both return the error.
   */
  tombstone(main: number, sub: number): MvccError | undefined {
    if (generationIsEmpty(this.generations[this.generations.length - 1])) return ErrRevisionNotFound;
    this.put(main, sub);
    this.generations.push(newGeneration());
    return undefined;
  }

  /**
   * The key as of revision `atRev`: the revision that last modified it at or before `atRev`, the
   * revision that created that life, and its version then. {@link ErrRevisionNotFound} when the
   * key did not exist at `atRev` (not yet created, deleted, or compacted away). Throws (etcd
   * panics) on an {@link isEmpty} index: it should have left the tree.
   */
  get(atRev: number): KeyIndexGetResult | MvccError {
    if (this.isEmpty()) throw new Error("mvcc: 'get' got an unexpected empty keyIndex");
    const g = this.findGeneration(atRev);
    if (g === undefined || g.revs.length === 0) return ErrRevisionNotFound;
    const n = walk(g, (r) => r.main > atRev);
    if (n === -1) return ErrRevisionNotFound;
    return { modified: g.revs[n]!, created: g.created, ver: g.ver - (g.revs.length - n - 1) };
  }

  /**
   * The revisions at or after main revision `rev`, ascending, with at most one per main revision
   * (the one with the highest sub: only a transaction's final change to a key is visible). Throws
   * (etcd panics) on an {@link isEmpty} index; an index with no generations yields [].
   */
  since(rev: number): Revision[] {
    if (this.isEmpty()) throw new Error("mvcc: 'since' got an unexpected empty keyIndex");
    if (this.generations.length === 0) return [];
    const since: Revision = { main: rev, sub: 0 };
    let gi = this.generations.length - 1;
    // Start from the newest generation created before `since`; earlier ones are all older.
    for (; gi > 0; gi--) {
      const g = this.generations[gi]!;
      if (g.revs.length === 0) continue;
      if (revisionGreaterThan(since, g.created)) break;
    }
    const revs: Revision[] = [];
    let last = 0;
    for (; gi < this.generations.length; gi++) {
      for (const r of this.generations[gi]!.revs) {
        if (revisionGreaterThan(since, r)) continue;
        if (revs.length > 0 && r.main === last) {
          revs[revs.length - 1] = r;
          continue;
        }
        revs.push(r);
        last = r.main;
      }
    }
    return revs;
  }

  /**
   * Drops the generations whose tombstone is below `atRev` and, in the first remaining one, every
   * revision below its largest revision ≤ `atRev` (see the class example); adds that revision, the
   * one that must stay in the backend, to `available`. A tombstone at exactly `atRev` stays, in the
   * index and in `available`, so a watcher starting at `atRev` still sees the delete (etcd ≥ 3.5.16
   * / 3.4.34; older versions dropped it); the next compaction above it removes it. Throws (etcd
   * panics) on an {@link isEmpty} index. Afterwards the caller removes the index from the tree if
   * {@link isEmpty}.
   */
  compact(atRev: number, available: AvailableRevisions): void {
    if (this.isEmpty()) throw new Error("mvcc: 'compact' got an unexpected empty keyIndex");
    const [genIdx, revIndex] = this.doCompact(atRev, available);
    const g = this.generations[genIdx]!;
    if (g.revs.length > 0 && revIndex !== -1) g.revs = g.revs.slice(revIndex);
    this.generations = this.generations.slice(genIdx);
  }

  /**
   * What {@link compact} at `atRev` would add to `available`, except a tombstone at exactly
   * `atRev`, without changing the index (used to hash the key-value state at a revision after a
   * compaction was scheduled). Leaving that tombstone out, as etcd's keep does, keeps the hash
   * equal to that of versions whose compaction dropped it. A no-op on an {@link isEmpty} index.
   */
  keep(atRev: number, available: AvailableRevisions): void {
    if (this.isEmpty()) return;
    const [genIdx, revIndex] = this.doCompact(atRev, available);
    const g = this.generations[genIdx]!;
    if (g.revs.length > 0 && revIndex === g.revs.length - 1 && genIdx !== this.generations.length - 1) {
      available.delete(revisionKey(g.revs[revIndex]!));
    }
  }

  /**
   * Finds the first generation whose tombstone is at or after `atRev` (or the last, open one),
   * records its largest revision ≤ `atRev` in `available`, and returns [generation index, that
   * revision's index or -1 when every revision of it is above `atRev`].
   */
  private doCompact(atRev: number, available: AvailableRevisions): [number, number] {
    let genIdx = 0;
    let g = this.generations[0]!;
    while (genIdx < this.generations.length - 1) {
      const tomb = g.revs[g.revs.length - 1]!.main;
      if (tomb > atRev) break;
      // A tombstone at exactly atRev stays (etcd's fix #18089), unless the same revision created
      // the key again (a txn deleting a range ending in "\0" and then putting the key): then the
      // key's newest state at atRev is in the next generation, which must stay available.
      const reborn = this.generations[genIdx + 1]!.revs[0];
      if (tomb === atRev && (reborn === undefined || reborn.main > atRev)) break;
      genIdx++;
      g = this.generations[genIdx]!;
    }
    const revIndex = walk(g, (r) => {
      if (r.main <= atRev) {
        available.set(revisionKey(r), r);
        return false;
      }
      return true;
    });
    return [genIdx, revIndex];
  }

  /** True when the index holds nothing but one empty generation (a deleted, compacted key). */
  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  /**
   * The generation the key was in at revision `rev`, or undefined when `rev` falls before the
   * first generation or in a gap between a tombstone and the next creation.
   */
  findGeneration(rev: number): Generation | undefined {
    const lastg = this.generations.length - 1;
    for (let cg = lastg; cg >= 0; cg--) {
      const g = this.generations[cg]!;
      if (g.revs.length === 0) continue;
      if (cg !== lastg && g.revs[g.revs.length - 1]!.main <= rev) return undefined;
      if (g.revs[0]!.main <= rev) return g;
    }
    return undefined;
  }

  /**
   * Equality of key, modified revision and each generation's version and revisions. Like etcd's
   * generation.equal it ignores `created`, which a restore cannot always recover: the backend keeps
   * only the main part of a create revision, and {@link restoreTombstone} leaves it zero.
   */
  equal(other: KeyIndex): boolean {
    if (compareBytes(this.key, other.key) !== 0) return false;
    if (!revisionEqual(this.modified, other.modified)) return false;
    if (this.generations.length !== other.generations.length) return false;
    for (let i = 0; i < this.generations.length; i++) {
      const a = this.generations[i]!;
      const b = other.generations[i]!;
      if (a.ver !== b.ver || a.revs.length !== b.revs.length) return false;
      for (let j = 0; j < a.revs.length; j++) {
        if (compareRevision(a.revs[j]!, b.revs[j]!) !== 0) return false;
      }
    }
    return true;
  }

  /** One stable line: key (as text), modified revision and generations. */
  describe(): string {
    const gens = this.generations
      .map((g) => `{ver:${g.ver} created:${describeRevision(g.created)} revs:[${g.revs.map(describeRevision).join(" ")}]}`)
      .join(" ");
    return `key:${JSON.stringify(new TextDecoder().decode(this.key))} modified:${describeRevision(this.modified)} generations:[${gens}]`;
  }
}

export { compareBytes };
