/**
 * The unstable part of the log: entries (and possibly a snapshot) that raft has accepted but the
 * application has not yet persisted (etcd's log_unstable.go).
 *
 * `entries[i]` has raft index `offset + i`. When `snapshot` is set, `offset` is `snapshot.index + 1`
 * and the entries (if any) follow it. Note that `offset` may be lower than the highest index already
 * in stable storage: a new leader's entries may replace a persisted but uncommitted tail.
 */
import { type Logger, panic } from "./logger.js";
import type { Entry, Snapshot } from "./raftpb.js";

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;

  constructor(
    offset: number,
    private readonly logger: Logger,
  ) {
    this.offset = offset;
  }

  /** The first index, if the unstable part holds a snapshot (then it is snapshot.index + 1). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** The last index held here, from the entries or else from the snapshot. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** The term of entry i if this unstable part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /**
   * The application persisted entries up to i (whose term was t): they leave the unstable part.
   * Ignored when entry i has since been replaced (a different term) or is not here.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
    }
  }

  /** The application persisted the snapshot at index i. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends ents (contiguous), replacing any entries here at or after ents[0].index. */
  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      // The common case: ents directly follow.
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      this.logger.info(`replace the unstable entries from index ${after}`);
      // Everything here is replaced; the log is truncated from `after` on.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.logger.info(`truncate the unstable entries before index ${after}`);
      this.entries = this.slice(this.offset, after).concat(ents);
    }
  }

  /** Entries [lo, hi); both must be within the unstable part. */
  slice(lo: number, hi: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) panic(`invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    if (lo < this.offset || hi > upper) panic(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
  }
}
