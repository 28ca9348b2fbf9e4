/**
 * The errors the Raft core reports, with etcd's names and messages. Each is a single value:
 * compare by identity (`err === ErrCompacted`), never by message.
 */
export class RaftError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Storage: the requested index is below the first available index (compacted away). */
export const ErrCompacted = new RaftError("ErrCompacted", "requested index is unavailable due to compaction");
/** Storage: the snapshot to apply is older than the one already held. */
export const ErrSnapOutOfDate = new RaftError("ErrSnapOutOfDate", "requested index is older than the existing snapshot");
/** Storage: the requested index is above the last available index. */
export const ErrUnavailable = new RaftError("ErrUnavailable", "requested entry at index is unavailable");
/** Storage: the snapshot is being made; raft retries later. */
export const ErrSnapshotTemporarilyUnavailable = new RaftError(
  "ErrSnapshotTemporarilyUnavailable",
  "snapshot is temporarily unavailable",
);
/** A proposal was refused: no leader, leader transfer in progress, a learner, or the uncommitted-size limit. */
export const ErrProposalDropped = new RaftError("ErrProposalDropped", "raft proposal dropped");
/** RawNode.step was given a message type that only the local node may produce. */
export const ErrStepLocalMsg = new RaftError("ErrStepLocalMsg", "raft: cannot step raft local message");
/** RawNode.step was given a response from a node that is not in the configuration. */
export const ErrStepPeerNotFound = new RaftError("ErrStepPeerNotFound", "raft: cannot step as peer not found");
