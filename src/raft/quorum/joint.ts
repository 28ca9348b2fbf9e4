/**
 * A joint configuration: the incoming and the outgoing majority configurations, both of which must
 * agree while a membership change is in flight (etcd's quorum.JointConfig). When not joint, the
 * outgoing half is empty and the incoming half alone decides.
 */
import { type AckedIndexer, VoteResult } from "./quorum.js";
import { type MajorityConfig, describeMajority, majorityCommittedIndex, majorityVoteResult } from "./majority.js";

export type JointConfig = [incoming: MajorityConfig, outgoing: MajorityConfig];

export function describeJoint(c: JointConfig): string {
  return c[1].size > 0 ? `${describeMajority(c[0])}&&${describeMajority(c[1])}` : describeMajority(c[0]);
}

/** Every voter id of either half. */
export function jointIds(c: JointConfig): Set<bigint> {
  return new Set([...c[0], ...c[1]]);
}

/** The largest index committed by both halves. */
export function jointCommittedIndex(c: JointConfig, l: AckedIndexer): number {
  return Math.min(majorityCommittedIndex(c[0], l), majorityCommittedIndex(c[1], l));
}

/** Won only when both halves win; lost when either loses. */
export function jointVoteResult(c: JointConfig, votes: Map<bigint, boolean>): VoteResult {
  const r1 = majorityVoteResult(c[0], votes);
  const r2 = majorityVoteResult(c[1], votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.VoteLost || r2 === VoteResult.VoteLost) return VoteResult.VoteLost;
  return VoteResult.VotePending;
}
