/**
 * edgecd's Raft core: a deterministic port of etcd-io/raft. See rawnode.ts for the application's
 * contract, raft.ts for the protocol, codec.ts for the wire format.
 */
export * from "./raftpb.js";
export * from "./codec.js";
export * from "./errors.js";
export * from "./rand.js";
export * from "./logger.js";
export * from "./storage.js";
export { RaftLog } from "./log.js";
export { Unstable } from "./log-unstable.js";
export * from "./raft.js";
export * from "./rawnode.js";
export * from "./describe.js";
export { ReadOnly } from "./read-only.js";
export { Progress, type ProgressMap } from "./tracker/progress.js";
export { ProgressStateType } from "./tracker/state.js";
export { Inflights } from "./tracker/inflights.js";
export { ProgressTracker, type TrackerConfig } from "./tracker/tracker.js";
export { Changer, ConfChangeError } from "./confchange/confchange.js";
export { restoreConfState } from "./confchange/restore.js";
export { VoteResult } from "./quorum/quorum.js";
export type { JointConfig } from "./quorum/joint.js";
export type { MajorityConfig } from "./quorum/majority.js";
