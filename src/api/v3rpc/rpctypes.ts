/**
 * etcd's rpctypes (api/v3rpc/rpctypes/error.go, 3.5): the errors a client sees, each a gRPC status
 * code and an exact message. Clients rebuild typed errors by matching the message, so messages are
 * byte-exact. Each error is a single value: compare by identity or by `code`, never by message.
 *
 * Also here: the gRPC code numbers, the HTTP status the JSON gateway answers for each (grpc-gateway
 * v1's HTTPStatusFromCode, the gateway etcd 3.4/3.5 use), and `toGRPCError`, which maps a server-side
 * error value to its client error as etcd's v3rpc togRPCError does.
 */
import { ErrLeaseExists, ErrLeaseNotFound, ErrLeaseTTLTooLarge } from "../../lease/errors.js";
import { ErrCompacted, ErrFutureRev } from "../../mvcc/errors.js";
import * as server from "../../etcdserver/errors.js";
import * as membership from "../../etcdserver/membership/errors.js";

/** gRPC status codes (google.golang.org/grpc/codes). */
export enum Code {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

const httpStatusByCode: Record<Code, number> = {
  [Code.OK]: 200,
  // grpc-gateway v1 answers 408 (v2, used by etcd 3.6, answers 499).
  [Code.Canceled]: 408,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  // Deliberately 400, not 412, in the gateway (a comment there cites the HTTP/gRPC mapping doc).
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** The HTTP status the gateway answers for a gRPC code (grpc-gateway v1 runtime.HTTPStatusFromCode); 500 for a code it does not know. */
export function httpStatusFromCode(code: number): number {
  return httpStatusByCode[code as Code] ?? 500;
}

/** A gRPC status error: `code` and the exact `message` a client sees; `name` is etcd's Go name. */
export class EtcdError extends Error {
  constructor(
    name: string,
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

const e = (name: string, code: Code, message: string): EtcdError => new EtcdError(name, code, message);
const { InvalidArgument, OutOfRange, ResourceExhausted, NotFound, FailedPrecondition, Canceled } = Code;
const { PermissionDenied, Unauthenticated, Unavailable, DataLoss, DeadlineExceeded } = Code;

export const ErrGRPCEmptyKey = e("ErrGRPCEmptyKey", InvalidArgument, "etcdserver: key is not provided");
export const ErrGRPCKeyNotFound = e("ErrGRPCKeyNotFound", InvalidArgument, "etcdserver: key not found");
export const ErrGRPCValueProvided = e("ErrGRPCValueProvided", InvalidArgument, "etcdserver: value is provided");
export const ErrGRPCLeaseProvided = e("ErrGRPCLeaseProvided", InvalidArgument, "etcdserver: lease is provided");
export const ErrGRPCTooManyOps = e("ErrGRPCTooManyOps", InvalidArgument, "etcdserver: too many operations in txn request");
export const ErrGRPCDuplicateKey = e("ErrGRPCDuplicateKey", InvalidArgument, "etcdserver: duplicate key given in txn request");
/** 3.6: a sort order or target outside the enum (3.5 panics on such a target). */
export const ErrGRPCInvalidSortOption = e("ErrGRPCInvalidSortOption", InvalidArgument, "etcdserver: invalid sort option");
/** 3.6: a malformed client-api-version metadata value. */
export const ErrGRPCInvalidClientAPIVersion = e(
  "ErrGRPCInvalidClientAPIVersion",
  InvalidArgument,
  "etcdserver: invalid client api version",
);
export const ErrGRPCCompacted = e("ErrGRPCCompacted", OutOfRange, "etcdserver: mvcc: required revision has been compacted");
export const ErrGRPCFutureRev = e("ErrGRPCFutureRev", OutOfRange, "etcdserver: mvcc: required revision is a future revision");
export const ErrGRPCNoSpace = e("ErrGRPCNoSpace", ResourceExhausted, "etcdserver: mvcc: database space exceeded");

export const ErrGRPCLeaseNotFound = e("ErrGRPCLeaseNotFound", NotFound, "etcdserver: requested lease not found");
export const ErrGRPCLeaseExist = e("ErrGRPCLeaseExist", FailedPrecondition, "etcdserver: lease already exists");
export const ErrGRPCLeaseTTLTooLarge = e("ErrGRPCLeaseTTLTooLarge", OutOfRange, "etcdserver: too large lease TTL");

export const ErrGRPCWatchCanceled = e("ErrGRPCWatchCanceled", Canceled, "etcdserver: watch canceled");

export const ErrGRPCMemberExist = e("ErrGRPCMemberExist", FailedPrecondition, "etcdserver: member ID already exist");
export const ErrGRPCPeerURLExist = e("ErrGRPCPeerURLExist", FailedPrecondition, "etcdserver: Peer URLs already exists");
export const ErrGRPCMemberNotEnoughStarted = e(
  "ErrGRPCMemberNotEnoughStarted",
  FailedPrecondition,
  "etcdserver: re-configuration failed due to not enough started members",
);
export const ErrGRPCMemberBadURLs = e("ErrGRPCMemberBadURLs", InvalidArgument, "etcdserver: given member URLs are invalid");
export const ErrGRPCMemberNotFound = e("ErrGRPCMemberNotFound", NotFound, "etcdserver: member not found");
export const ErrGRPCMemberNotLearner = e(
  "ErrGRPCMemberNotLearner",
  FailedPrecondition,
  "etcdserver: can only promote a learner member",
);
export const ErrGRPCLearnerNotReady = e(
  "ErrGRPCLearnerNotReady",
  FailedPrecondition,
  "etcdserver: can only promote a learner member which is in sync with leader",
);
export const ErrGRPCTooManyLearners = e(
  "ErrGRPCTooManyLearners",
  FailedPrecondition,
  "etcdserver: too many learner members in cluster",
);
export const ErrGRPCClusterIdMismatch = e("ErrGRPCClusterIdMismatch", FailedPrecondition, "etcdserver: cluster ID mismatch");

export const ErrGRPCRequestTooLarge = e("ErrGRPCRequestTooLarge", InvalidArgument, "etcdserver: request is too large");
export const ErrGRPCRequestTooManyRequests = e(
  "ErrGRPCRequestTooManyRequests",
  ResourceExhausted,
  "etcdserver: too many requests",
);

export const ErrGRPCRootUserNotExist = e("ErrGRPCRootUserNotExist", FailedPrecondition, "etcdserver: root user does not exist");
export const ErrGRPCRootRoleNotExist = e(
  "ErrGRPCRootRoleNotExist",
  FailedPrecondition,
  "etcdserver: root user does not have root role",
);
export const ErrGRPCUserAlreadyExist = e("ErrGRPCUserAlreadyExist", FailedPrecondition, "etcdserver: user name already exists");
export const ErrGRPCUserEmpty = e("ErrGRPCUserEmpty", InvalidArgument, "etcdserver: user name is empty");
export const ErrGRPCUserNotFound = e("ErrGRPCUserNotFound", FailedPrecondition, "etcdserver: user name not found");
export const ErrGRPCRoleAlreadyExist = e("ErrGRPCRoleAlreadyExist", FailedPrecondition, "etcdserver: role name already exists");
export const ErrGRPCRoleNotFound = e("ErrGRPCRoleNotFound", FailedPrecondition, "etcdserver: role name not found");
export const ErrGRPCRoleEmpty = e("ErrGRPCRoleEmpty", InvalidArgument, "etcdserver: role name is empty");
export const ErrGRPCAuthFailed = e(
  "ErrGRPCAuthFailed",
  InvalidArgument,
  "etcdserver: authentication failed, invalid user ID or password",
);
export const ErrGRPCPermissionNotGiven = e("ErrGRPCPermissionNotGiven", InvalidArgument, "etcdserver: permission not given");
export const ErrGRPCPermissionDenied = e("ErrGRPCPermissionDenied", PermissionDenied, "etcdserver: permission denied");
export const ErrGRPCRoleNotGranted = e(
  "ErrGRPCRoleNotGranted",
  FailedPrecondition,
  "etcdserver: role is not granted to the user",
);
export const ErrGRPCPermissionNotGranted = e(
  "ErrGRPCPermissionNotGranted",
  FailedPrecondition,
  "etcdserver: permission is not granted to the role",
);
export const ErrGRPCAuthNotEnabled = e("ErrGRPCAuthNotEnabled", FailedPrecondition, "etcdserver: authentication is not enabled");
export const ErrGRPCInvalidAuthToken = e("ErrGRPCInvalidAuthToken", Unauthenticated, "etcdserver: invalid auth token");
export const ErrGRPCInvalidAuthMgmt = e("ErrGRPCInvalidAuthMgmt", InvalidArgument, "etcdserver: invalid auth management");
export const ErrGRPCAuthOldRevision = e("ErrGRPCAuthOldRevision", InvalidArgument, "etcdserver: revision of auth store is old");

export const ErrGRPCNoLeader = e("ErrGRPCNoLeader", Unavailable, "etcdserver: no leader");
export const ErrGRPCNotLeader = e("ErrGRPCNotLeader", FailedPrecondition, "etcdserver: not leader");
export const ErrGRPCLeaderChanged = e("ErrGRPCLeaderChanged", Unavailable, "etcdserver: leader changed");
/** Unavailable in 3.5; FailedPrecondition from 3.6. */
export const ErrGRPCNotCapable = e("ErrGRPCNotCapable", Unavailable, "etcdserver: not capable");
export const ErrGRPCStopped = e("ErrGRPCStopped", Unavailable, "etcdserver: server stopped");
export const ErrGRPCTimeout = e("ErrGRPCTimeout", Unavailable, "etcdserver: request timed out");
export const ErrGRPCTimeoutDueToLeaderFail = e(
  "ErrGRPCTimeoutDueToLeaderFail",
  Unavailable,
  "etcdserver: request timed out, possibly due to previous leader failure",
);
export const ErrGRPCTimeoutDueToConnectionLost = e(
  "ErrGRPCTimeoutDueToConnectionLost",
  Unavailable,
  "etcdserver: request timed out, possibly due to connection lost",
);
export const ErrGRPCTimeoutWaitAppliedIndex = e(
  "ErrGRPCTimeoutWaitAppliedIndex",
  Unavailable,
  "etcdserver: request timed out, waiting for the applied index took too long",
);
export const ErrGRPCUnhealthy = e("ErrGRPCUnhealthy", Unavailable, "etcdserver: unhealthy cluster");
export const ErrGRPCCorrupt = e("ErrGRPCCorrupt", DataLoss, "etcdserver: corrupt cluster");
/**
 * 3.5 spells the Go name ErrGPRCNotSupportedForLearner (3.6 fixes it); code Unavailable in 3.5,
 * FailedPrecondition from 3.6.
 */
export const ErrGRPCNotSupportedForLearner = e(
  "ErrGPRCNotSupportedForLearner",
  Unavailable,
  "etcdserver: rpc not supported for learner",
);
export const ErrGPRCNotSupportedForLearner = ErrGRPCNotSupportedForLearner;
export const ErrGRPCBadLeaderTransferee = e("ErrGRPCBadLeaderTransferee", FailedPrecondition, "etcdserver: bad leader transferee");

/** Unavailable in 3.5; FailedPrecondition from 3.6. */
export const ErrGRPCClusterVersionUnavailable = e(
  "ErrGRPCClusterVersionUnavailable",
  Unavailable,
  "etcdserver: cluster version not found during downgrade",
);
export const ErrGRPCWrongDowngradeVersionFormat = e(
  "ErrGRPCWrongDowngradeVersionFormat",
  InvalidArgument,
  "etcdserver: wrong downgrade target version format",
);
export const ErrGRPCInvalidDowngradeTargetVersion = e(
  "ErrGRPCInvalidDowngradeTargetVersion",
  InvalidArgument,
  "etcdserver: invalid downgrade target version",
);
export const ErrGRPCDowngradeInProcess = e(
  "ErrGRPCDowngradeInProcess",
  FailedPrecondition,
  "etcdserver: cluster has a downgrade job in progress",
);
export const ErrGRPCNoInflightDowngrade = e("ErrGRPCNoInflightDowngrade", FailedPrecondition, "etcdserver: no inflight downgrade job");

export const ErrGRPCCanceled = e("ErrGRPCCanceled", Canceled, "etcdserver: request canceled");
export const ErrGRPCDeadlineExceeded = e("ErrGRPCDeadlineExceeded", DeadlineExceeded, "etcdserver: context deadline exceeded");

/**
 * Server-side error → client error (etcd's toGRPCErrorMap). Auth errors join when that package
 * exists.
 */
const toGRPCErrorMap = new Map<Error, EtcdError>([
  [membership.ErrIDRemoved, ErrGRPCMemberNotFound],
  [membership.ErrIDNotFound, ErrGRPCMemberNotFound],
  [membership.ErrIDExists, ErrGRPCMemberExist],
  [membership.ErrPeerURLexists, ErrGRPCPeerURLExist],
  [membership.ErrMemberNotLearner, ErrGRPCMemberNotLearner],
  [membership.ErrTooManyLearners, ErrGRPCTooManyLearners],
  [server.ErrNotEnoughStartedMembers, ErrGRPCMemberNotEnoughStarted],
  [server.ErrLearnerNotReady, ErrGRPCLearnerNotReady],

  [ErrCompacted, ErrGRPCCompacted],
  [ErrFutureRev, ErrGRPCFutureRev],
  [server.ErrRequestTooLarge, ErrGRPCRequestTooLarge],
  [server.ErrNoSpace, ErrGRPCNoSpace],
  [server.ErrTooManyRequests, ErrGRPCRequestTooManyRequests],

  [server.ErrNoLeader, ErrGRPCNoLeader],
  [server.ErrNotLeader, ErrGRPCNotLeader],
  [server.ErrLeaderChanged, ErrGRPCLeaderChanged],
  [server.ErrStopped, ErrGRPCStopped],
  [server.ErrTimeout, ErrGRPCTimeout],
  [server.ErrTimeoutDueToLeaderFail, ErrGRPCTimeoutDueToLeaderFail],
  [server.ErrTimeoutDueToConnectionLost, ErrGRPCTimeoutDueToConnectionLost],
  [server.ErrTimeoutWaitAppliedIndex, ErrGRPCTimeoutWaitAppliedIndex],
  [server.ErrUnhealthy, ErrGRPCUnhealthy],
  [server.ErrKeyNotFound, ErrGRPCKeyNotFound],
  [server.ErrCorrupt, ErrGRPCCorrupt],
  [server.ErrBadLeaderTransferee, ErrGRPCBadLeaderTransferee],

  [server.ErrClusterVersionUnavailable, ErrGRPCClusterVersionUnavailable],
  [server.ErrWrongDowngradeVersionFormat, ErrGRPCWrongDowngradeVersionFormat],
  [server.ErrInvalidDowngradeTargetVersion, ErrGRPCInvalidDowngradeTargetVersion],
  [server.ErrDowngradeInProcess, ErrGRPCDowngradeInProcess],
  [server.ErrNoInflightDowngrade, ErrGRPCNoInflightDowngrade],

  [ErrLeaseNotFound, ErrGRPCLeaseNotFound],
  [ErrLeaseExists, ErrGRPCLeaseExist],
  [ErrLeaseTTLTooLarge, ErrGRPCLeaseTTLTooLarge],
]);

/**
 * The client error for a server-side error value (etcd's togRPCError). A known value maps to its
 * rpctypes error; an {@link EtcdError} is already a client error and passes through; anything else
 * becomes code Unknown with the error's own message, as etcd answers (e.g. ErrCanceled, whose
 * "request cancelled" etcd 3.5 does not map either).
 */
export function toGRPCError(err: Error): EtcdError {
  const mapped = toGRPCErrorMap.get(err);
  if (mapped !== undefined) return mapped;
  if (err instanceof EtcdError) return err;
  return new EtcdError(err.name, Code.Unknown, err.message);
}

/** Every rpctypes error, for tests and for clients that rebuild errors from a message. */
export const allErrors: readonly EtcdError[] = [
  ErrGRPCEmptyKey, ErrGRPCKeyNotFound, ErrGRPCValueProvided, ErrGRPCLeaseProvided, ErrGRPCTooManyOps,
  ErrGRPCDuplicateKey, ErrGRPCInvalidSortOption, ErrGRPCInvalidClientAPIVersion, ErrGRPCCompacted,
  ErrGRPCFutureRev, ErrGRPCNoSpace, ErrGRPCLeaseNotFound, ErrGRPCLeaseExist, ErrGRPCLeaseTTLTooLarge,
  ErrGRPCWatchCanceled, ErrGRPCMemberExist, ErrGRPCPeerURLExist, ErrGRPCMemberNotEnoughStarted,
  ErrGRPCMemberBadURLs, ErrGRPCMemberNotFound, ErrGRPCMemberNotLearner, ErrGRPCLearnerNotReady,
  ErrGRPCTooManyLearners, ErrGRPCClusterIdMismatch, ErrGRPCRequestTooLarge, ErrGRPCRequestTooManyRequests,
  ErrGRPCRootUserNotExist, ErrGRPCRootRoleNotExist, ErrGRPCUserAlreadyExist, ErrGRPCUserEmpty,
  ErrGRPCUserNotFound, ErrGRPCRoleAlreadyExist, ErrGRPCRoleNotFound, ErrGRPCRoleEmpty, ErrGRPCAuthFailed,
  ErrGRPCPermissionNotGiven, ErrGRPCPermissionDenied, ErrGRPCRoleNotGranted, ErrGRPCPermissionNotGranted,
  ErrGRPCAuthNotEnabled, ErrGRPCInvalidAuthToken, ErrGRPCInvalidAuthMgmt, ErrGRPCAuthOldRevision,
  ErrGRPCNoLeader, ErrGRPCNotLeader, ErrGRPCLeaderChanged, ErrGRPCNotCapable, ErrGRPCStopped,
  ErrGRPCTimeout, ErrGRPCTimeoutDueToLeaderFail, ErrGRPCTimeoutDueToConnectionLost,
  ErrGRPCTimeoutWaitAppliedIndex, ErrGRPCUnhealthy, ErrGRPCCorrupt, ErrGRPCNotSupportedForLearner,
  ErrGRPCBadLeaderTransferee, ErrGRPCClusterVersionUnavailable, ErrGRPCWrongDowngradeVersionFormat,
  ErrGRPCInvalidDowngradeTargetVersion, ErrGRPCDowngradeInProcess, ErrGRPCNoInflightDowngrade,
  ErrGRPCCanceled, ErrGRPCDeadlineExceeded,
];
