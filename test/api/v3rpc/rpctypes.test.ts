import { describe, expect, it } from "vitest";
import * as rpctypes from "../../../src/api/v3rpc/rpctypes.js";
import { Code, EtcdError, allErrors, httpStatusFromCode, toGRPCError } from "../../../src/api/v3rpc/rpctypes.js";
import * as server from "../../../src/etcdserver/errors.js";
import { ErrLeaseExists, ErrLeaseNotFound, ErrLeaseTTLTooLarge, ErrNotPrimary } from "../../../src/lease/errors.js";
import { ErrCompacted, ErrFutureRev, ErrRevisionNotFound } from "../../../src/mvcc/errors.js";

describe("rpctypes catalogue", () => {
  it("pins the KV, lease and cluster errors (code and exact message)", () => {
    const pinned: [EtcdError, Code, string][] = [
      [rpctypes.ErrGRPCEmptyKey, Code.InvalidArgument, "etcdserver: key is not provided"],
      [rpctypes.ErrGRPCKeyNotFound, Code.InvalidArgument, "etcdserver: key not found"],
      [rpctypes.ErrGRPCValueProvided, Code.InvalidArgument, "etcdserver: value is provided"],
      [rpctypes.ErrGRPCLeaseProvided, Code.InvalidArgument, "etcdserver: lease is provided"],
      [rpctypes.ErrGRPCTooManyOps, Code.InvalidArgument, "etcdserver: too many operations in txn request"],
      [rpctypes.ErrGRPCDuplicateKey, Code.InvalidArgument, "etcdserver: duplicate key given in txn request"],
      [rpctypes.ErrGRPCCompacted, Code.OutOfRange, "etcdserver: mvcc: required revision has been compacted"],
      [rpctypes.ErrGRPCFutureRev, Code.OutOfRange, "etcdserver: mvcc: required revision is a future revision"],
      [rpctypes.ErrGRPCNoSpace, Code.ResourceExhausted, "etcdserver: mvcc: database space exceeded"],
      [rpctypes.ErrGRPCLeaseNotFound, Code.NotFound, "etcdserver: requested lease not found"],
      [rpctypes.ErrGRPCLeaseExist, Code.FailedPrecondition, "etcdserver: lease already exists"],
      [rpctypes.ErrGRPCLeaseTTLTooLarge, Code.OutOfRange, "etcdserver: too large lease TTL"],
      [rpctypes.ErrGRPCRequestTooLarge, Code.InvalidArgument, "etcdserver: request is too large"],
      [rpctypes.ErrGRPCNoLeader, Code.Unavailable, "etcdserver: no leader"],
      [rpctypes.ErrGRPCNotLeader, Code.FailedPrecondition, "etcdserver: not leader"],
      [rpctypes.ErrGRPCTimeout, Code.Unavailable, "etcdserver: request timed out"],
      [rpctypes.ErrGRPCMemberNotFound, Code.NotFound, "etcdserver: member not found"],
      [rpctypes.ErrGRPCAuthNotEnabled, Code.FailedPrecondition, "etcdserver: authentication is not enabled"],
      [rpctypes.ErrGRPCCorrupt, Code.DataLoss, "etcdserver: corrupt cluster"],
      [rpctypes.ErrGRPCNotSupportedForLearner, Code.Unavailable, "etcdserver: rpc not supported for learner"],
      [rpctypes.ErrGRPCCanceled, Code.Canceled, "etcdserver: request canceled"],
      [rpctypes.ErrGRPCDeadlineExceeded, Code.DeadlineExceeded, "etcdserver: context deadline exceeded"],
    ];
    for (const [err, code, msg] of pinned) {
      expect([err.name, err.code, err.message]).toEqual([err.name, code, msg]);
      expect(err).toBeInstanceOf(EtcdError);
      expect(err).toBeInstanceOf(Error);
    }
  });

  it("every exported error is in allErrors under its own name, with a distinct etcdserver message", () => {
    const exported = Object.entries(rpctypes).filter(([, v]) => v instanceof EtcdError) as [string, EtcdError][];
    const distinct = new Set(exported.map(([, v]) => v));
    expect(new Set(allErrors)).toEqual(distinct);
    expect(allErrors.length).toBe(63);
    for (const [name, err] of exported) {
      // The one alias is etcd 3.5's misspelt Go name.
      if (name !== "ErrGRPCNotSupportedForLearner") expect(err.name).toBe(name);
      expect(err.message.startsWith("etcdserver: ")).toBe(true);
    }
    expect(new Set(allErrors.map((e) => e.message)).size).toBe(allErrors.length);
  });

  it("maps gRPC codes to the gateway's HTTP statuses", () => {
    const want: Record<number, number> = {
      0: 200, 1: 408, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
      9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
    };
    for (const [code, status] of Object.entries(want)) expect(httpStatusFromCode(Number(code))).toBe(status);
    expect(httpStatusFromCode(99)).toBe(500);
    expect(httpStatusFromCode(rpctypes.ErrGRPCCompacted.code)).toBe(400);
    expect(httpStatusFromCode(rpctypes.ErrGRPCNoLeader.code)).toBe(503);
    expect(httpStatusFromCode(rpctypes.ErrGRPCLeaseNotFound.code)).toBe(404);
  });
});

describe("toGRPCError (etcd togRPCError)", () => {
  it.each<[string, Error, EtcdError]>([
    ["mvcc ErrCompacted", ErrCompacted, rpctypes.ErrGRPCCompacted],
    ["mvcc ErrFutureRev", ErrFutureRev, rpctypes.ErrGRPCFutureRev],
    ["lease ErrLeaseNotFound", ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound],
    ["lease ErrLeaseExists", ErrLeaseExists, rpctypes.ErrGRPCLeaseExist],
    ["lease ErrLeaseTTLTooLarge", ErrLeaseTTLTooLarge, rpctypes.ErrGRPCLeaseTTLTooLarge],
    ["ErrKeyNotFound", server.ErrKeyNotFound, rpctypes.ErrGRPCKeyNotFound],
    ["ErrNoSpace", server.ErrNoSpace, rpctypes.ErrGRPCNoSpace],
    ["ErrTooManyRequests", server.ErrTooManyRequests, rpctypes.ErrGRPCRequestTooManyRequests],
    ["ErrRequestTooLarge", server.ErrRequestTooLarge, rpctypes.ErrGRPCRequestTooLarge],
    ["ErrNoLeader", server.ErrNoLeader, rpctypes.ErrGRPCNoLeader],
    ["ErrNotLeader", server.ErrNotLeader, rpctypes.ErrGRPCNotLeader],
    ["ErrLeaderChanged", server.ErrLeaderChanged, rpctypes.ErrGRPCLeaderChanged],
    ["ErrStopped", server.ErrStopped, rpctypes.ErrGRPCStopped],
    ["ErrTimeout", server.ErrTimeout, rpctypes.ErrGRPCTimeout],
    ["ErrTimeoutDueToLeaderFail", server.ErrTimeoutDueToLeaderFail, rpctypes.ErrGRPCTimeoutDueToLeaderFail],
    ["ErrTimeoutDueToConnectionLost", server.ErrTimeoutDueToConnectionLost, rpctypes.ErrGRPCTimeoutDueToConnectionLost],
    ["ErrTimeoutWaitAppliedIndex", server.ErrTimeoutWaitAppliedIndex, rpctypes.ErrGRPCTimeoutWaitAppliedIndex],
    ["ErrUnhealthy", server.ErrUnhealthy, rpctypes.ErrGRPCUnhealthy],
    ["ErrCorrupt", server.ErrCorrupt, rpctypes.ErrGRPCCorrupt],
    ["ErrBadLeaderTransferee", server.ErrBadLeaderTransferee, rpctypes.ErrGRPCBadLeaderTransferee],
    ["ErrNotEnoughStartedMembers", server.ErrNotEnoughStartedMembers, rpctypes.ErrGRPCMemberNotEnoughStarted],
    ["ErrLearnerNotReady", server.ErrLearnerNotReady, rpctypes.ErrGRPCLearnerNotReady],
    ["ErrClusterVersionUnavailable", server.ErrClusterVersionUnavailable, rpctypes.ErrGRPCClusterVersionUnavailable],
    ["ErrDowngradeInProcess", server.ErrDowngradeInProcess, rpctypes.ErrGRPCDowngradeInProcess],
    ["an rpctypes error passes through", rpctypes.ErrGRPCDuplicateKey, rpctypes.ErrGRPCDuplicateKey],
  ])("%s", (_name, err, want) => {
    expect(toGRPCError(err)).toBe(want);
  });

  it("anything unmapped is Unknown with its own message", () => {
    for (const err of [server.ErrCanceled, server.ErrTimeoutLeaderTransfer, ErrRevisionNotFound, ErrNotPrimary, new Error("boom")]) {
      const got = toGRPCError(err);
      expect(got.code).toBe(Code.Unknown);
      expect(got.message).toBe(err.message);
      expect(httpStatusFromCode(got.code)).toBe(500);
    }
    expect(toGRPCError(server.ErrCanceled).message).toBe("etcdserver: request cancelled");
  });

  it("server errors keep etcd's messages", () => {
    expect(server.ErrKeyNotFound.message).toBe("etcdserver: key not found");
    expect(server.ErrNoSpace.message).toBe("etcdserver: no space");
    expect(server.ErrTimeoutLeaderTransfer.message).toBe("etcdserver: request timed out, leader transfer took too long");
  });
});
