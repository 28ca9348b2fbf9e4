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
 * empty generation. Compacting at n keeps, per generation, the largest revision ≤ n and everything
 * after it, drops whole generations that ended (tombstone) at or before n, and drops a generation
 * left holding only its tombstone:
 *
 *     compact(2): {empty}, {4.0, 5.0(t)}, {2.0, 3.0(t)}
 *     compact(4): {empty}, {4.0, 5.0(t)}
 *     compact(5): {empty}                 the key is empty and leaves the tree index
 *     compact(6): {empty}                 likewise
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
   * key did not exist at `atRev` (not yet created, deleted, or compacted away).
   */
  get(atRev: number): KeyIndexGetResult | MvccError {
    const g = this.findGeneration(atRev);
    if (g === undefined || g.revs.length === 0) return ErrRevisionNotFound;
    const n = walk(g, (r) => r.main > atRev);
    if (n === -1) return ErrRevisionNotFound;
    return { modified: g.revs[n]!, created: g.created, ver: g.ver - (g.revs.length - n - 1) };
  }

  /**
   * The revisions at or after main revision `rev`, ascending, with at most one per main revision
   * (the one with the highest sub: only a transaction's final change to a key is visible).
   */
  since(rev: number): Revision[] {
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
   * Drops every revision below `atRev` except the largest ≤ `atRev` of each remaining generation
   * (see the class example), adding the revisions that must stay in the backend to `available`.
   * A tombstone kept alone is removed again from `available`: its key is gone. Afterwards the
   * caller removes the index from the tree if {@link isEmpty}.
   */
  compact(atRev: number, available: AvailableRevisions): void {
    if (this.isEmpty()) throw new Error("mvcc: 'compact' got an unexpected empty keyIndex");
    let [genIdx, revIndex] = this.doCompact(atRev, available);
    const g = this.generations[genIdx]!;
    if (g.revs.length > 0) {
      if (revIndex !== -1) g.revs = g.revs.slice(revIndex);
      if (g.revs.length === 1 && genIdx !== this.generations.length - 1) {
        available.delete(revisionKey(g.revs[0]!));
        genIdx++;
      }
    }
    this.generations = this.generations.slice(genIdx);
  }

  /**
   * What {@link compact} at `atRev` would add to `available`, without changing the index (used to
   * hash the key-value state at a revision after a compaction was scheduled).
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
   * Finds the first generation that ends after `atRev` (or the last one), records its largest
   * revision ≤ `atRev` in `available`, and returns [generation index, that revision's index or -1].
   */
  private doCompact(atRev: number, available: AvailableRevisions): [number, number] {
    let genIdx = 0;
    let g = this.generations[0]!;
    while (genIdx < this.generations.length - 1) {
      const tomb = g.revs[g.revs.length - 1]!.main;
      if (tomb > atRev) break;
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

  /** Deep equality of key, modified revision and generations. */
  equal(other: KeyIndex): boolean {
    if (compareBytes(this.key, other.key) !== 0) return false;
    if (!revisionEqual(this.modified, other.modified)) return false;
    if (this.generations.length !== other.generations.length) return false;
    for (let i = 0; i < this.generations.length; i++) {
      const a = this.generations[i]!;
      const b = other.generations[i]!;
      if (a.ver !== b.ver || !revisionEqual(a.created, b.created) || a.revs.length !== b.revs.length) return false;
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

/** Lexicographic order of byte strings (Go's bytes.Compare). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
