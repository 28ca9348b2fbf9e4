/**
 * How the leader replicates to one follower (etcd's tracker.StateType):
 *
 *   StateProbe ──(append acked)──▶ StateReplicate
 *       ▲  ▲                           │
 *       │  └──(rejected/unreachable)───┘
 *       │
 *   StateSnapshot ◀──(needed entries compacted: snapshot sent)── Probe/Replicate
 *       └──(snapshot reported / follower caught up)──▶ StateProbe
 *
 * Probe: at most one MsgApp per heartbeat until the follower's match index is found.
 * Replicate: optimistic pipelining, bounded by the in-flight window.
 * Snapshot: nothing is sent until the snapshot is reported applied or failed.
 */
export enum ProgressStateType {
  StateProbe = 0,
  StateReplicate = 1,
  StateSnapshot = 2,
}
