/**
 * A simple majority configuration: a set of voter ids (etcd's quorum.MajorityConfig).
 */
import { sortIds } from "../raftpb.js";
import { type AckedIndexer, VoteResult, maxIndex } from "./quorum.js";

export type MajorityConfig = Set<bigint>;

export function describeMajority(c: MajorityConfig): string {
  return `(${sortIds(c).join(" ")})`;
}

/**
 * The largest index acked by a majority: with the acked indexes sorted, the one a quorum has reached.
 * Voters with no acked index count as 0. An empty configuration returns maxIndex, so that in a joint
 * configuration the other half decides.
 *
 * Example: voters {1,2,3} acked {1: 5, 2: 7, 3: 2} → sorted [2,5,7] → 5 is on a majority.
 */
export function majorityCommittedIndex(c: MajorityConfig, l: AckedIndexer): number {
  const n = c.size;
  if (n === 0) return maxIndex;
  const srt: number[] = [];
  for (const id of c) srt.push(l.ackedIndex(id) ?? 0);
  srt.sort((a, b) => a - b);
  // The element at n - (n/2 + 1) is the highest index that a majority has reached.
  return srt[n - (Math.floor(n / 2) + 1)]!;
}

/**
 * Whether the votes (true = granted, false = rejected, absent = not yet answered) win, lose, or are
 * still pending in this configuration. An empty configuration wins, by convention (joint halves).
 */
export function majorityVoteResult(c: MajorityConfig, votes: Map<bigint, boolean>): VoteResult {
  if (c.size === 0) return VoteResult.VoteWon;
  let yes = 0;
  let missing = 0;
  for (const id of c) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(c.size / 2) + 1;
  if (yes >= q) return VoteResult.VoteWon;
  if (yes + missing >= q) return VoteResult.VotePending;
  return VoteResult.VoteLost;
}
