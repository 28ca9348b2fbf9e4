/**
 * A lease (etcd server/lease/lease.go): a TTL in seconds, an expiry on the lessor's clock, and the
 * keys attached to it. The lessor owns every Lease it hands out; callers read it and must not call
 * the mutating methods (`refresh`, `forever`, `persistTo`) themselves.
 */
import { type BatchTx, LeaseBucket } from "../storage/backend.js";
import { type LeaseID, describeLeaseID } from "./lease-item.js";
import { encodeLease, leaseIdToBytes } from "./leasepb.js";

/** A monotonic clock in milliseconds. */
export type NowMs = () => number;

/** The expiry of a lease that does not expire (a non-primary lessor's leases; etcd's zero time). */
export const Forever = Number.POSITIVE_INFINITY;

export class Lease {
  /** Granted TTL in seconds (raised to the lessor's minimum). */
  ttl: number;
  /**
   * Last checkpointed remaining TTL in seconds; 0 = unset, the full `ttl` applies. Changed only by
   * the lessor when it applies a checkpoint.
   */
  remainingTTL = 0;
  /** When the lease expires, clock ms; {@link Forever} on a non-primary lessor. */
  expiry = Forever;
  /** Keys attached (LeaseItem.key binary strings). */
  readonly itemSet = new Set<string>();

  constructor(
    readonly id: LeaseID,
    ttl: number,
    private readonly now: NowMs,
  ) {
    this.ttl = ttl;
  }

  /** etcd's TTL(): the granted TTL in seconds. */
  getTTL(): number {
    return this.ttl;
  }

  /** The checkpointed remaining TTL if one is set, else the full TTL; seconds. */
  getRemainingTTL(): number {
    return this.remainingTTL > 0 ? this.remainingTTL : this.ttl;
  }

  /** Expiry := now + `extendMs` + getRemainingTTL() seconds. */
  refresh(extendMs: number): void {
    this.expiry = this.now() + extendMs + this.getRemainingTTL() * 1000;
  }

  /** Expiry := now + `ttlSeconds`, whatever was checkpointed (a renewal). */
  refreshTo(ttlSeconds: number): void {
    this.expiry = this.now() + ttlSeconds * 1000;
  }

  /** The lease stops expiring (until the next refresh). */
  forever(): void {
    this.expiry = Forever;
  }

  /** etcd's Demoted(): whether the expiry is {@link Forever}. */
  demoted(): boolean {
    return this.expiry === Forever;
  }

  /** Milliseconds until expiry (≤ 0 once expired); Infinity for a lease that does not expire. */
  remaining(): number {
    return this.expiry === Forever ? Forever : this.expiry - this.now();
  }

  expired(): boolean {
    return this.remaining() <= 0;
  }

  /** Attached keys as binary strings, sorted (byte order). */
  keys(): string[] {
    return [...this.itemSet].sort();
  }

  /** Writes the lease's record (id, ttl, remainingTTL) to the lease bucket of `tx`; no commit. */
  persistTo(tx: BatchTx): void {
    tx.put(
      LeaseBucket,
      leaseIdToBytes(this.id),
      encodeLease({ id: this.id, ttl: this.ttl, remainingTtl: this.remainingTTL }),
    );
  }
}

/** One stable line for logs and tests: id as etcd prints it, TTLs in seconds, expiry in clock ms. */
export function describeLease(l: Lease): string {
  const expiry = l.expiry === Forever ? "forever" : String(l.expiry);
  return `lease ${describeLeaseID(l.id)} ttl=${l.ttl}s remaining-ttl=${l.remainingTTL}s expiry=${expiry} keys=${l.itemSet.size}`;
}
