/**
 * RaftLog: the whole log as raft sees it, stable storage followed by the unstable part
 * (etcd's log.go).
 *
 *   storage:  [snapshot] firstIndex ............ storage.lastIndex
 *   unstable:                      offset ........................ lastIndex
 *                                        (offset may overlap storage: a replaced tail)
 *
 * Invariants: applied ≤ committed ≤ lastIndex; firstIndex-1 ≤ applied.
 */
import { ErrCompacted, ErrUnavailable } from "./errors.js";
import { type Logger, discardLogger, panic } from "./logger.js";
import { Unstable } from "./log-unstable.js";
import { type Entry, type Snapshot } from "./raftpb.js";
import { type Storage, limitSize, noLimit } from "./storage.js";

export class RaftLog {
  readonly storage: Storage;
  unstable: Unstable;
  /** The highest index known to be stored on a quorum. */
  committed: number;
  /** The highest index the application has been told to apply. */
  applied: number;
  /** Byte limit on the committed entries handed out in one Ready (etcd's maxNextEntsSize). */
  readonly maxNextEntsSize: number;
  readonly logger: Logger;

  constructor(storage: Storage, logger: Logger = discardLogger, maxNextEntsSize: number = noLimit) {
    this.storage = storage;
    this.logger = logger;
    this.maxNextEntsSize = maxNextEntsSize;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new Unstable(lastIndex + 1, logger);
    // Everything up to the snapshot is committed and applied.
    this.committed = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * A follower's append: if the entry at `index` has `logTerm`, ents (which follow it) are merged in,
   * replacing any conflicting suffix, and the commit index advances to min(committed, last new index).
   * Returns ok=false when the log does not contain (index, logTerm): the leader must back up.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): { lastNewIndex: number; ok: boolean } {
    if (!this.matchTerm(index, logTerm)) return { lastNewIndex: 0, ok: false };
    const lastNewIndex = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) panic(`entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return { lastNewIndex, ok: true };
  }

  /** Appends entries (contiguous, not before committed+1), truncating anything after ents[0].index-1. Returns the new last index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) panic(`after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry in ents that conflicts with the log (same index, different term),
   * or of the first new entry if none conflicts, or 0 if the log already holds them all.
   */
  findConflict(ents: Entry[]): number {
    for (const ne of ents) {
      if (!this.matchTerm(ne.index, ne.term)) {
        if (ne.index <= this.lastIndex()) {
          this.logger.info(
            `found conflict at index ${ne.index} [existing term: ${this.zeroTermOnOutOfBounds(ne.index)}, conflicting term: ${ne.term}]`,
          );
        }
        return ne.index;
      }
    }
    return 0;
  }

  /**
   * The fast-backtracking search: the largest index ≤ `index` whose term is ≤ `term`, with that term
   * (0 when unknown). Used by a follower to hint the leader, and by the leader on a rejection.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const ourTerm = this.termOrUndefined(index);
      // Outside the log (compacted or beyond the end): stop here with an unknown term.
      if (ourTerm === undefined) return { index, term: 0 };
      if (ourTerm <= term) return { index, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Entries not yet persisted by the application. */
  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries the application has not yet been given, up to maxNextEntsSize bytes. */
  nextEnts(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize);
    return [];
  }

  hasNextEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index !== 0;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(tocommit: number): void {
    // Never decrease the commit index.
    if (this.committed < tocommit) {
      if (this.lastIndex() < tocommit) {
        panic(`tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`);
      }
      this.committed = tocommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      panic(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    const t = this.termOrUndefined(this.lastIndex());
    if (t === undefined) panic("unexpected error when getting the last term");
    return t;
  }

  /** The term of entry i; throws ErrCompacted below the first index - 1 and ErrUnavailable past the end. */
  term(i: number): number {
    // The valid range is [index of the dummy entry, last index].
    if (i < this.firstIndex() - 1) throw ErrCompacted;
    if (i > this.lastIndex()) throw ErrUnavailable;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i); // ErrCompacted/ErrUnavailable from storage propagate as is
  }

  /** term(i), or undefined where term(i) would throw ErrCompacted or ErrUnavailable. */
  termOrUndefined(i: number): number | undefined {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err === ErrCompacted || err === ErrUnavailable) return undefined;
      throw err;
    }
  }

  /** term(i), or 0 where the index is outside the log (etcd's zeroTermOnOutOfBounds). */
  zeroTermOnOutOfBounds(i: number): number {
    return this.termOrUndefined(i) ?? 0;
  }

  /** Entries from i to the end, at most maxSize bytes; throws ErrCompacted when i is compacted. */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** Every entry in the log (for tests and debugging). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), noLimit);
  }

  /**
   * Whether a candidate whose log ends at (lasti, term) is at least as up to date as ours (§5.4.1):
   * a higher last term wins; with equal terms, the longer log wins.
   */
  isUpToDate(lasti: number, term: number): boolean {
    return term > this.lastTerm() || (term === this.lastTerm() && lasti >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.termOrUndefined(i);
    return t !== undefined && t === term;
  }

  /** Commits maxIndex if it is beyond the commit index and its entry has the given (current) term. */
  maybeCommit(maxIndex: number, term: number): boolean {
    // §5.4.2: only an entry of the leader's current term is committed by counting replicas.
    if (maxIndex > this.committed && this.zeroTermOnOutOfBounds(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Replaces the log with a snapshot from the leader. */
  restore(s: Snapshot): void {
    this.logger.info(`log [${this.toString()}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries [lo, hi) from storage and the unstable part, at most maxSize bytes (at least one entry). */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      const stableHi = Math.min(hi, offset);
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, stableHi, maxSize);
      } catch (err) {
        if (err === ErrUnavailable) panic(`entries[${lo}:${stableHi}) is unavailable from storage`);
        throw err;
      }
      // Storage cut the result short because of maxSize: nothing from the unstable part fits.
      if (stored.length < stableHi - lo) return stored;
      ents = stored;
    }
    if (hi > offset) {
      const unstable = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(unstable) : unstable;
    }
    return limitSize(ents, maxSize);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) panic(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw ErrCompacted;
    const length = this.lastIndex() + 1 - fi;
    if (hi > fi + length) panic(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
  }
}
