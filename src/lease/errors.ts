/**
 * The errors the lessor reports, with etcd's names and messages (server/lease/lessor.go). Each is a
 * single value: compare by identity (`err === ErrLeaseNotFound`), never by message.
 */
export class LeaseError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The lessor is not the primary (not the raft leader's lessor): renewals must go to the leader. */
export const ErrNotPrimary = new LeaseError("ErrNotPrimary", "not a primary lessor");
/** No lease with that id (also: granting id 0, NoLease). */
export const ErrLeaseNotFound = new LeaseError("ErrLeaseNotFound", "lease not found");
/** Grant of an id that is already granted. */
export const ErrLeaseExists = new LeaseError("ErrLeaseExists", "lease already exists");
/** Grant with a TTL above MaxLeaseTTL. */
export const ErrLeaseTTLTooLarge = new LeaseError("ErrLeaseTTLTooLarge", "too large lease TTL");

/**
 * edgecd only, never sent to a client: `renew` found the lease expired and waiting to be revoked.
 * etcd's Renew blocks here until the revoke (ErrLeaseNotFound) or a demotion (ErrNotPrimary); a
 * synchronous lessor cannot, so the caller awaits `Lessor.waitRevokeOrDemote(id)` for that answer.
 */
export const ErrLeaseExpiredPendingRevoke = new LeaseError(
  "ErrLeaseExpiredPendingRevoke",
  "lease expired, revoke pending",
);
