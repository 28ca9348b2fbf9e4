/**
 * The errors the server reports, with etcd's names and messages (server/etcdserver/errors, 3.5). Each
 * is a single value: compare by identity (`err === ErrKeyNotFound`), never by message. The client API
 * turns them into rpctypes errors with `toGRPCError` (src/api/v3rpc/rpctypes.ts).
 */
export class ServerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const e = (name: string, message: string): ServerError => new ServerError(name, message);

export const ErrUnknownMethod = e("ErrUnknownMethod", "etcdserver: unknown method");
export const ErrStopped = e("ErrStopped", "etcdserver: server stopped");
/** Note etcd's spelling: "cancelled" here, "canceled" in ErrGRPCCanceled. */
export const ErrCanceled = e("ErrCanceled", "etcdserver: request cancelled");
export const ErrTimeout = e("ErrTimeout", "etcdserver: request timed out");
export const ErrTimeoutDueToLeaderFail = e(
  "ErrTimeoutDueToLeaderFail",
  "etcdserver: request timed out, possibly due to previous leader failure",
);
export const ErrTimeoutDueToConnectionLost = e(
  "ErrTimeoutDueToConnectionLost",
  "etcdserver: request timed out, possibly due to connection lost",
);
export const ErrTimeoutLeaderTransfer = e(
  "ErrTimeoutLeaderTransfer",
  "etcdserver: request timed out, leader transfer took too long",
);
export const ErrTimeoutWaitAppliedIndex = e(
  "ErrTimeoutWaitAppliedIndex",
  "etcdserver: request timed out, waiting for the applied index took too long",
);
export const ErrLeaderChanged = e("ErrLeaderChanged", "etcdserver: leader changed");
export const ErrNotEnoughStartedMembers = e(
  "ErrNotEnoughStartedMembers",
  "etcdserver: re-configuration failed due to not enough started members",
);
export const ErrLearnerNotReady = e(
  "ErrLearnerNotReady",
  "etcdserver: can only promote a learner member which is in sync with leader",
);
export const ErrNoLeader = e("ErrNoLeader", "etcdserver: no leader");
export const ErrNotLeader = e("ErrNotLeader", "etcdserver: not leader");
export const ErrRequestTooLarge = e("ErrRequestTooLarge", "etcdserver: request is too large");
export const ErrNoSpace = e("ErrNoSpace", "etcdserver: no space");
export const ErrTooManyRequests = e("ErrTooManyRequests", "etcdserver: too many requests");
export const ErrUnhealthy = e("ErrUnhealthy", "etcdserver: unhealthy cluster");
/** A put with ignore_value or ignore_lease on a key that does not exist. */
export const ErrKeyNotFound = e("ErrKeyNotFound", "etcdserver: key not found");
export const ErrCorrupt = e("ErrCorrupt", "etcdserver: corrupt cluster");
export const ErrBadLeaderTransferee = e("ErrBadLeaderTransferee", "etcdserver: bad leader transferee");
export const ErrClusterVersionUnavailable = e(
  "ErrClusterVersionUnavailable",
  "etcdserver: cluster version not found during downgrade",
);
export const ErrWrongDowngradeVersionFormat = e(
  "ErrWrongDowngradeVersionFormat",
  "etcdserver: wrong downgrade target version format",
);
export const ErrInvalidDowngradeTargetVersion = e(
  "ErrInvalidDowngradeTargetVersion",
  "etcdserver: invalid downgrade target version",
);
export const ErrDowngradeInProcess = e("ErrDowngradeInProcess", "etcdserver: cluster has a downgrade job in progress");
export const ErrNoInflightDowngrade = e("ErrNoInflightDowngrade", "etcdserver: no inflight downgrade job");
