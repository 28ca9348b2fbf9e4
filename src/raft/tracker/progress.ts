/**
 * The leader's view of one follower's log (etcd's tracker.Progress). Invariant: match < next.
 */
import { panic } from "../logger.js";
import { Inflights } from "./inflights.js";
import { ProgressStateType } from "./state.js";

export { ProgressStateType } from "./state.js";

export class Progress {
  /** The highest index known to be replicated on the follower. */
  match: number;
  /** The index of the next entry to send. */
  next: number;
  /** The highest commit index sent to the follower (etcd's sentCommit). */
  sentCommit = 0;
  state: ProgressStateType = ProgressStateType.StateProbe;
  /** In StateSnapshot: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Whether the follower was heard from since the last check-quorum round. */
  recentActive = false;
  /** In Probe: a probe is outstanding; in Replicate: the in-flight window is full. */
  msgAppFlowPaused = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(init: { match?: number; next: number; maxInflight: number; isLearner?: boolean; recentActive?: boolean }) {
    this.match = init.match ?? 0;
    this.next = init.next;
    this.inflights = new Inflights(init.maxInflight);
    this.isLearner = init.isLearner ?? false;
    this.recentActive = init.recentActive ?? false;
  }

  clone(): Progress {
    const p = new Progress({ match: this.match, next: this.next, maxInflight: this.inflights.size, isLearner: this.isLearner });
    p.sentCommit = this.sentCommit;
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    p.inflights = this.inflights.clone();
    return p;
  }

  resetState(state: ProgressStateType): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressStateType.StateSnapshot) {
      // After a snapshot, the follower has at least the snapshot's index.
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState(ProgressStateType.StateProbe);
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState(ProgressStateType.StateProbe);
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState(ProgressStateType.StateReplicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshoti: number): void {
    this.resetState(ProgressStateType.StateSnapshot);
    this.pendingSnapshot = snapshoti;
    this.next = snapshoti + 1;
    this.sentCommit = snapshoti;
  }

  /** Updates the state after a MsgApp carrying `entries` entries was sent. */
  sentEntries(entries: number): void {
    switch (this.state) {
      case ProgressStateType.StateReplicate:
        if (entries > 0) {
          this.next += entries;
          this.inflights.add(this.next - 1);
        }
        this.msgAppFlowPaused = this.inflights.full();
        break;
      case ProgressStateType.StateProbe:
        // One probe at a time: wait for its answer (or the next heartbeat response).
        if (entries > 0) this.msgAppFlowPaused = true;
        break;
      default:
        panic(`sending append in unhandled state ${ProgressStateType[this.state]}`);
    }
  }

  /** Whether a newer commit index can be sent to the follower with an (empty) MsgApp. */
  canBumpCommit(index: number): boolean {
    return index > this.sentCommit && this.sentCommit < this.next - 1;
  }

  sentCommitTo(commit: number): void {
    this.sentCommit = commit;
  }

  /** The follower acknowledged index n. Returns whether that was news (match advanced). */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected a MsgApp whose previous index was `rejected`; `matchHint` is the highest
   * index it may share with us. Returns false when the rejection is stale (ignored).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressStateType.StateReplicate) {
      // A rejection at or below match is an old message out of order.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    // In probe, only the answer to the latest probe (next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Whether sending entries to this follower is held back right now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressStateType.StateProbe:
      case ProgressStateType.StateReplicate:
        return this.msgAppFlowPaused;
      case ProgressStateType.StateSnapshot:
        return true;
    }
  }

  toString(): string {
    let s = `${ProgressStateType[this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += " learner";
    if (this.isPaused()) s += " paused";
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += " inactive";
    const n = this.inflights.count();
    if (n > 0) s += ` inflight=${n}${this.inflights.full() ? "[full]" : ""}`;
    return s;
  }
}

export type ProgressMap = Map<bigint, Progress>;
