/**
 * Quorum arithmetic shared by commit and vote counting (etcd's quorum package).
 */

/** The outcome of a vote, as far as it is known. Values as etcd's quorum.VoteResult. */
export enum VoteResult {
  /** Neither won nor lost yet: some voters have not answered. */
  VotePending = 1,
  VoteLost = 2,
  VoteWon = 3,
}

/** Something that knows, per voter, the highest log index it acknowledged. */
export interface AckedIndexer {
  /** The acked index of a voter, or undefined when nothing is known for it. */
  ackedIndex(voterId: bigint): number | undefined;
}

/** An index larger than any log index: what an empty configuration "commits" (etcd's math.MaxUint64). */
export const maxIndex = Number.MAX_SAFE_INTEGER;
