/**
 * The leader's bookkeeping of the configuration, each member's progress, and votes
 * (etcd's tracker.ProgressTracker).
 */
import { type JointConfig, describeJoint, jointCommittedIndex, jointIds, jointVoteResult } from "../quorum/joint.js";
import { describeMajority } from "../quorum/majority.js";
import { VoteResult } from "../quorum/quorum.js";
import { type ConfState, sortIds } from "../raftpb.js";
import type { Progress, ProgressMap } from "./progress.js";

/**
 * A configuration: voters (joint while a change is in flight), learners, and learnersNext — voters
 * of the outgoing half being demoted to learners, who become learners when the joint config is left.
 */
export interface TrackerConfig {
  voters: JointConfig;
  autoLeave: boolean;
  learners: Set<bigint>;
  learnersNext: Set<bigint>;
}

export function newTrackerConfig(): TrackerConfig {
  return { voters: [new Set(), new Set()], autoLeave: false, learners: new Set(), learnersNext: new Set() };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: [new Set(c.voters[0]), new Set(c.voters[1])],
    autoLeave: c.autoLeave,
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
  };
}

export function describeTrackerConfig(c: TrackerConfig): string {
  let s = `voters=${describeJoint(c.voters)}`;
  if (c.learners.size > 0) s += ` learners=${describeMajority(c.learners)}`;
  if (c.learnersNext.size > 0) s += ` learners_next=${describeMajority(c.learnersNext)}`;
  if (c.autoLeave) s += " autoleave";
  return s;
}

export class ProgressTracker {
  config: TrackerConfig = newTrackerConfig();
  progress: ProgressMap = new Map();
  /** Votes received in the current election: true granted, false rejected. */
  votes = new Map<bigint, boolean>();

  constructor(readonly maxInflight: number) {}

  confState(): ConfState {
    return {
      voters: sortIds(this.config.voters[0]),
      votersOutgoing: sortIds(this.config.voters[1]),
      learners: sortIds(this.config.learners),
      learnersNext: sortIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  /** Whether the configuration is a single voter (which then commits on its own). */
  isSingleton(): boolean {
    return this.config.voters[0].size === 1 && this.config.voters[1].size === 0;
  }

  /** The largest log index known to be committed by the voters' acknowledged (match) indexes. */
  committed(): number {
    const progress = this.progress;
    return jointCommittedIndex(this.config.voters, { ackedIndex: (id) => progress.get(id)?.match });
  }

  /** Calls f for every member in increasing id order (deterministic). */
  visit(f: (id: bigint, pr: Progress) => void): void {
    for (const id of sortIds(this.progress.keys())) f(id, this.progress.get(id)!);
  }

  /** Whether a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    const votes = new Map<bigint, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    });
    return jointVoteResult(this.config.voters, votes) === VoteResult.VoteWon;
  }

  voterNodes(): bigint[] {
    return sortIds(jointIds(this.config.voters));
  }

  learnerNodes(): bigint[] {
    return sortIds(this.config.learners);
  }

  isVoter(id: bigint): boolean {
    return this.config.voters[0].has(id) || this.config.voters[1].has(id);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; only the first answer of each node counts. */
  recordVote(id: bigint, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
