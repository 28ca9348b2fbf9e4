/**
 * The lessor (etcd server/lease/lessor.go): grants, renews and revokes leases, keeps which key is
 * attached to which lease, and — while primary (on the raft leader) — tracks expiries and lease
 * checkpoints.
 *
 * Unlike etcd's, this lessor has no goroutine, timer or channel. The server drives it:
 * - every 500 ms (etcd's runLoop tick) it calls {@link Lessor.expiredLeases} and proposes a
 *   LeaseRevoke for each lease returned, then {@link Lessor.checkpointScheduledLeases};
 * - on becoming leader it calls `promote(electionTimeoutMs)`, on losing leadership `demote()`;
 * - applying a committed LeaseGrant / LeaseRevoke / LeaseCheckpoint calls `grant` / `revoke` /
 *   `checkpoint` (on every member, in log order).
 * Every method is synchronous. Time comes from the injected `now()` (ms, monotonic).
 *
 * Persistence: the `lease` bucket holds one leasepb.Lease per lease (id, ttl, remainingTTL), never
 * the expiry nor the keys; MVCC re-attaches keys with `attach` when it restores. `grant` (and
 * `checkpoint` with persistence on) opens and commits a backend batch of its own, so the caller must
 * not hold one open then; `revoke` writes through the range deleter's txn instead.
 */
import { type Backend, LeaseBucket } from "../storage/backend.js";
import {
  ErrLeaseExists,
  ErrLeaseExpiredPendingRevoke,
  ErrLeaseNotFound,
  ErrLeaseTTLTooLarge,
  ErrNotPrimary,
} from "./errors.js";
import { Lease, type NowMs } from "./lease.js";
import { type LeaseID, type LeaseItem, NoLease, describeLeaseID, leaseItemKey } from "./lease-item.js";
import { LeaseExpiredNotifier, LeaseQueue, leaseWithTime } from "./lease-queue.js";
import { bytesToLeaseId, decodeLease, leaseIdToBytes } from "./leasepb.js";
import type { RangeDeleter } from "./txn-delete.js";

/** etcd's MaxLeaseTTL, in seconds. */
export const MaxLeaseTTL = 9_000_000_000;

/** Default leases revoked per second (etcd's defaultLeaseRevokeRate). */
export const DefaultLeaseRevokeRate = 1000;
/** Lease checkpoints recorded to the raft log per second at most (etcd's leaseCheckpointRate). */
export const LeaseCheckpointRate = 1000;
/** Default interval between checkpoints of one lease, ms (etcd: 5 minutes). */
export const DefaultLeaseCheckpointInterval = 5 * 60 * 1000;
/** Checkpoints per checkpointer call (one raft entry) at most (etcd's maxLeaseCheckpointBatchSize). */
export const MaxLeaseCheckpointBatchSize = 1000;
/** Default wait before an expired, unrevoked lease is returned again, ms (etcd: 3 s). */
export const DefaultExpiredLeasesRetryInterval = 3000;

/** One lease's remaining TTL to record (etcdserverpb.LeaseCheckpoint). */
export interface LeaseCheckpoint {
  id: LeaseID;
  /** Seconds; 0 clears the checkpoint (the full TTL applies again). */
  remainingTtl: number;
}

/**
 * Records checkpoints through consensus (the server proposes a LeaseCheckpointRequest whose apply
 * calls `checkpoint` on every member). Returning an Error (ErrNotPrimary when not leader) stops the
 * current round of `checkpointScheduledLeases` and fails a `renew` that needed the checkpoint.
 */
export type Checkpointer = (cps: LeaseCheckpoint[]) => Error | undefined | void;

export interface LessorConfig {
  /** The clock: milliseconds, monotonic. */
  now: NowMs;
  /** Shorter requested TTLs are raised to this, seconds. Default 0. */
  minLeaseTTL?: number;
  /** Interval between checkpoints of one lease, ms. Default {@link DefaultLeaseCheckpointInterval}. */
  checkpointInterval?: number;
  /** Retry interval of an expired lease not yet revoked, ms. Default {@link DefaultExpiredLeasesRetryInterval}. */
  expiredLeasesRetryInterval?: number;
  /**
   * Persist remainingTTL when a checkpoint is applied (etcd 3.6 always does; 3.5 only with the
   * LeaseCheckpointPersist feature). Must be the same on every member. Default false.
   */
  checkpointPersist?: boolean;
  /** Leases revoked per second at most (etcd makes this configurable for tests only). Default 1000. */
  leaseRevokeRate?: number;
}

/** What MVCC uses of the lessor; mvcc's store takes any object with these methods. */
export interface KeyLessor {
  /** The lease `item` is attached to, or NoLease. */
  getLease(item: LeaseItem): LeaseID;
  /** Attaches the items to lease `id`; ErrLeaseNotFound if it does not exist. */
  attach(id: LeaseID, items: LeaseItem[]): Error | undefined;
  /** Detaches the items from lease `id`; ErrLeaseNotFound if it does not exist. */
  detach(id: LeaseID, items: LeaseItem[]): Error | undefined;
  /** MVCC registers its write txn here, as etcd's NewStore does; optional for test lessors. */
  setRangeDeleter?(rd: RangeDeleter): void;
}

export interface Lessor extends KeyLessor {
  /** Sets how revoke opens the txn that deletes the lease's keys (MVCC's write txn). */
  setRangeDeleter(rd: RangeDeleter): void;
  /** Enables lease checkpointing (etcd's --experimental-enable-lease-checkpoint). */
  setCheckpointer(cp: Checkpointer): void;
  /**
   * Grants lease `id` with `ttl` seconds (raised to minLeaseTTL) and persists it. Errors:
   * ErrLeaseNotFound for NoLease, ErrLeaseTTLTooLarge above MaxLeaseTTL, ErrLeaseExists.
   * The lease expires only while the lessor is primary. Throws RangeError if `ttl` is not an integer
   * (the API decodes an int64, so that is a caller's bug).
   */
  grant(id: LeaseID, ttl: number): Lease | Error;
  /**
   * Revokes lease `id`: one txn from the range deleter deletes every attached key (in byte order, so
   * every member writes the same) and the lease's record, then ends. ErrLeaseNotFound if absent.
   */
  revoke(id: LeaseID): Error | undefined;
  /**
   * Applies a checkpointed remaining TTL (seconds; 0 clears it). Used by `promote` to set expiries;
   * persisted when checkpointPersist is on. Unknown ids are ignored; never fails.
   */
  checkpoint(id: LeaseID, remainingTTL: number): Error | undefined;
  /**
   * Renews lease `id` to its full TTL; returns the TTL in seconds. Primary only (ErrNotPrimary).
   * ErrLeaseNotFound if absent; ErrLeaseExpiredPendingRevoke if it has expired (see
   * `waitRevokeOrDemote`). A lease with a checkpointed remaining TTL first has the checkpoint
   * cleared through the checkpointer, whose error is returned.
   */
  renew(id: LeaseID): number | Error;
  /**
   * Resolves ErrLeaseNotFound once lease `id` is revoked (or at once if absent), ErrNotPrimary when
   * the lessor is demoted, stopped or recovered (or at once if not primary): the answer etcd's Renew
   * gives an expired lease after waiting.
   */
  waitRevokeOrDemote(id: LeaseID): Promise<Error>;
  lookup(id: LeaseID): Lease | undefined;
  /** Every lease, soonest expiry first (etcd's leasesByExpiry). */
  leases(): Lease[];
  /**
   * Becomes primary: every lease expires `extendMs` + its remaining TTL from now, and expiries are
   * spread so that no more than 3/4 of the revoke rate fall in any one second.
   */
  promote(extendMs: number): void;
  /** Stops being primary: no lease expires and nothing is scheduled. */
  demote(): void;
  isPrimary(): boolean;
  /**
   * Primary only: leases past their expiry, at most leaseRevokeRate/2 per call (etcd's per-500 ms
   * limit). A returned lease is returned again only after expiredLeasesRetryInterval if still not
   * revoked. The caller proposes a revoke for each.
   */
  expiredLeases(): Lease[];
  /**
   * Primary only: hands due checkpoints to the checkpointer in batches of at most
   * MaxLeaseCheckpointBatchSize, up to LeaseCheckpointRate/2 batches per call.
   */
  checkpointScheduledLeases(): void;
  /** Replaces all state with the leases in `b` (after a backend snapshot restore); see the constructor. */
  recover(b: Backend, rd: RangeDeleter): void;
  /** Answers pending waits with ErrNotPrimary. */
  stop(): void;
}

/**
 * Creates a lessor over `backend`, recovering every lease in its `lease` bucket (created if missing).
 * Recovered leases do not expire until `promote`; a TTL below minLeaseTTL is raised to it.
 */
export function newLessor(backend: Backend, cfg: LessorConfig): Lessor {
  return new LessorImpl(backend, cfg);
}

class LessorImpl implements Lessor {
  private primary = false;
  private stopped = false;
  private leaseMap = new Map<LeaseID, Lease>();
  /** LeaseItem.key → lease. */
  private itemMap = new Map<string, LeaseID>();
  private expiredNotifier = new LeaseExpiredNotifier();
  private checkpointHeap = new LeaseQueue();
  private rd: RangeDeleter | undefined;
  private cp: Checkpointer | undefined;
  private waiters = new Map<LeaseID, ((err: Error) => void)[]>();

  private readonly now: NowMs;
  private readonly minLeaseTTL: number;
  private readonly checkpointInterval: number;
  private readonly expiredLeaseRetryInterval: number;
  private readonly checkpointPersist: boolean;
  private readonly leaseRevokeRate: number;

  constructor(
    private b: Backend,
    cfg: LessorConfig,
  ) {
    this.now = cfg.now;
    this.minLeaseTTL = cfg.minLeaseTTL ?? 0;
    this.checkpointInterval = cfg.checkpointInterval || DefaultLeaseCheckpointInterval;
    this.expiredLeaseRetryInterval = cfg.expiredLeasesRetryInterval || DefaultExpiredLeasesRetryInterval;
    this.checkpointPersist = cfg.checkpointPersist ?? false;
    this.leaseRevokeRate = cfg.leaseRevokeRate || DefaultLeaseRevokeRate;
    this.initAndRecover();
  }

  isPrimary(): boolean {
    return this.primary;
  }

  setRangeDeleter(rd: RangeDeleter): void {
    this.rd = rd;
  }

  setCheckpointer(cp: Checkpointer): void {
    this.cp = cp;
  }

  grant(id: LeaseID, ttl: number): Lease | Error {
    if (id === NoLease) return ErrLeaseNotFound;
    if (ttl > MaxLeaseTTL) return ErrLeaseTTLTooLarge;
    if (!Number.isSafeInteger(ttl)) throw new RangeError(`lease: TTL is not an int64: ${ttl}`);
    if (this.leaseMap.has(id)) return ErrLeaseExists;

    const l = new Lease(id, Math.max(ttl, this.minLeaseTTL), this.now);
    if (this.primary) l.refresh(0);
    else l.forever();
    this.leaseMap.set(id, l);
    this.persist(l);

    if (this.primary) {
      this.expiredNotifier.registerOrUpdate(leaseWithTime(l.id, l.expiry));
      this.scheduleCheckpointIfNeeded(l);
    }
    return l;
  }

  revoke(id: LeaseID): Error | undefined {
    const l = this.leaseMap.get(id);
    if (!l) return ErrLeaseNotFound;
    if (this.rd) {
      const txn = this.rd();
      // Sorted so that every member deletes in the same order and backend hashes agree.
      for (const key of l.keys()) txn.deleteRange(leaseItemKey({ key }));
      this.forget(l);
      // In the same batch as the key deletes: a crash must not keep one without the other.
      txn.batchTx().delete(LeaseBucket, leaseIdToBytes(id));
      txn.end();
    } else {
      // No MVCC store, so no keys to delete (etcd would leave the lease in place here).
      this.forget(l);
      const tx = this.b.batchTx();
      tx.delete(LeaseBucket, leaseIdToBytes(id));
      void tx.commit();
    }
    this.answerWaiters(id, ErrLeaseNotFound);
    return undefined;
  }

  checkpoint(id: LeaseID, remainingTTL: number): Error | undefined {
    if (!Number.isSafeInteger(remainingTTL)) throw new RangeError(`lease: remaining TTL is not an int64: ${remainingTTL}`);
    const l = this.leaseMap.get(id);
    if (!l) return undefined;
    // Only remainingTTL changes; promote applies it to the expiry.
    l.remainingTTL = remainingTTL;
    if (this.checkpointPersist) this.persist(l);
    if (this.primary) this.scheduleCheckpointIfNeeded(l);
    return undefined;
  }

  renew(id: LeaseID): number | Error {
    if (!this.primary) return ErrNotPrimary;
    let l = this.leaseMap.get(id);
    if (!l) return ErrLeaseNotFound;
    if (l.expired()) return ErrLeaseExpiredPendingRevoke;

    // Clearing only a set checkpoint limits the raft entries per lease to two per checkpoint interval.
    if (this.cp && l.remainingTTL > 0) {
      const err = this.cp([{ id, remainingTtl: 0 }]);
      if (err instanceof Error) return err;
      // The checkpointer may have re-entered (a synchronous apply): look again.
      if (!this.primary) return ErrNotPrimary;
      l = this.leaseMap.get(id);
      if (!l) return ErrLeaseNotFound;
    }
    // The full TTL even while the clearing checkpoint is still in flight: etcd's checkpointer waits
    // for it to apply, so its refresh sees remainingTTL = 0.
    l.refreshTo(l.ttl);
    this.expiredNotifier.registerOrUpdate(leaseWithTime(l.id, l.expiry));
    return l.ttl;
  }

  waitRevokeOrDemote(id: LeaseID): Promise<Error> {
    if (!this.primary || this.stopped) return Promise.resolve(ErrNotPrimary);
    if (!this.leaseMap.has(id)) return Promise.resolve(ErrLeaseNotFound);
    return new Promise((resolve) => {
      const list = this.waiters.get(id);
      if (list) list.push(resolve);
      else this.waiters.set(id, [resolve]);
    });
  }

  lookup(id: LeaseID): Lease | undefined {
    return this.leaseMap.get(id);
  }

  leases(): Lease[] {
    // etcd sorts by expiry (leasesByExpiry); ties by id so the order is deterministic.
    return [...this.leaseMap.values()].sort((a, b) => a.expiry - b.expiry || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  promote(extendMs: number): void {
    this.primary = true;
    for (const l of this.leaseMap.values()) {
      l.refresh(extendMs);
      this.expiredNotifier.registerOrUpdate(leaseWithTime(l.id, l.expiry));
      this.scheduleCheckpointIfNeeded(l);
    }
    // Fewer leases than one second's revoke budget cannot pile up.
    if (this.leaseMap.size < this.leaseRevokeRate) return;

    // Spread the expiries. Ties broken by id so every run spreads the same way.
    const leases = [...this.leaseMap.values()].sort(
      (a, b) => a.remaining() - b.remaining() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    let baseWindow = leases[0]!.remaining();
    let nextWindow = baseWindow + 1000;
    let expires = 0;
    // Below the full rate, so that piled-up leases leave room for the others.
    const targetExpiresPerSecond = Math.floor((3 * this.leaseRevokeRate) / 4);
    for (const l of leases) {
      const remaining = l.remaining();
      if (remaining > nextWindow) {
        baseWindow = remaining;
        nextWindow = baseWindow + 1000;
        expires = 1;
        continue;
      }
      expires++;
      if (expires <= targetExpiresPerSecond) continue;
      // A lease n seconds past the base window needs n seconds less delay.
      const delay = (1000 * expires) / targetExpiresPerSecond - (remaining - baseWindow);
      nextWindow = baseWindow + delay;
      l.refresh(delay + extendMs);
      this.expiredNotifier.registerOrUpdate(leaseWithTime(l.id, l.expiry));
      this.scheduleCheckpointIfNeeded(l);
    }
  }

  demote(): void {
    for (const l of this.leaseMap.values()) l.forever();
    this.checkpointHeap = new LeaseQueue();
    this.expiredNotifier = new LeaseExpiredNotifier();
    this.primary = false;
    this.answerAllWaiters(ErrNotPrimary);
  }

  attach(id: LeaseID, items: LeaseItem[]): Error | undefined {
    const l = this.leaseMap.get(id);
    if (!l) return ErrLeaseNotFound;
    for (const it of items) {
      l.itemSet.add(it.key);
      this.itemMap.set(it.key, id);
    }
    return undefined;
  }

  getLease(item: LeaseItem): LeaseID {
    return this.itemMap.get(item.key) ?? NoLease;
  }

  detach(id: LeaseID, items: LeaseItem[]): Error | undefined {
    const l = this.leaseMap.get(id);
    if (!l) return ErrLeaseNotFound;
    for (const it of items) {
      l.itemSet.delete(it.key);
      this.itemMap.delete(it.key);
    }
    return undefined;
  }

  recover(b: Backend, rd: RangeDeleter): void {
    this.b = b;
    this.rd = rd;
    this.leaseMap = new Map();
    this.itemMap = new Map();
    this.expiredNotifier = new LeaseExpiredNotifier();
    this.checkpointHeap = new LeaseQueue();
    this.answerAllWaiters(ErrNotPrimary);
    this.initAndRecover();
  }

  stop(): void {
    this.stopped = true;
    this.answerAllWaiters(ErrNotPrimary);
  }

  expiredLeases(): Lease[] {
    if (!this.primary) return [];
    return this.findExpiredLeases(Math.max(1, Math.floor(this.leaseRevokeRate / 2)));
  }

  checkpointScheduledLeases(): void {
    for (let i = 0; i < LeaseCheckpointRate / 2; i++) {
      if (!this.primary || !this.cp) return;
      const cps = this.findDueScheduledCheckpoints(MaxLeaseCheckpointBatchSize);
      if (cps.length > 0 && this.cp(cps) instanceof Error) return;
      if (cps.length < MaxLeaseCheckpointBatchSize) return;
    }
  }

  /**
   * etcd's expireExists: the lease of the earliest expiry entry if that time has come (its entry
   * then moves to now + retry interval); `next` when the entry was stale and dropped, so the caller
   * should look again.
   */
  private expireExists(): { l?: Lease; next: boolean } {
    const item = this.expiredNotifier.peek();
    if (!item) return { next: false };
    const l = this.leaseMap.get(item.id);
    if (!l) {
      this.expiredNotifier.unregister();
      return { next: true };
    }
    const now = this.now();
    if (now < item.time) return { next: false };
    this.expiredNotifier.registerOrUpdate(leaseWithTime(item.id, now + this.expiredLeaseRetryInterval));
    return { l, next: false };
  }

  private findExpiredLeases(limit: number): Lease[] {
    const leases: Lease[] = [];
    for (;;) {
      const { l, next } = this.expireExists();
      if (next) continue;
      if (!l) break;
      if (l.expired()) {
        leases.push(l);
        if (leases.length >= limit) break;
      }
    }
    return leases;
  }

  private scheduleCheckpointIfNeeded(l: Lease): void {
    if (!this.cp) return;
    if (l.getRemainingTTL() > Math.trunc(this.checkpointInterval / 1000)) {
      this.checkpointHeap.push(leaseWithTime(l.id, this.now() + this.checkpointInterval));
    }
  }

  private findDueScheduledCheckpoints(limit: number): LeaseCheckpoint[] {
    const now = this.now();
    const cps: LeaseCheckpoint[] = [];
    while (cps.length < limit) {
      const lt = this.checkpointHeap.peek();
      if (!lt || lt.time > now) break;
      this.checkpointHeap.pop();
      const l = this.leaseMap.get(lt.id);
      if (!l || now >= l.expiry) continue;
      const remainingTtl = Math.ceil((l.expiry - now) / 1000);
      if (remainingTtl >= l.ttl) continue;
      cps.push({ id: lt.id, remainingTtl });
    }
    return cps;
  }

  /** Drops the lease and whatever items still point at it (MVCC's deletes normally detached them). */
  private forget(l: Lease): void {
    this.leaseMap.delete(l.id);
    for (const key of l.itemSet) {
      if (this.itemMap.get(key) === l.id) this.itemMap.delete(key);
    }
  }

  private persist(l: Lease): void {
    const tx = this.b.batchTx();
    l.persistTo(tx);
    void tx.commit();
  }

  private answerWaiters(id: LeaseID, err: Error): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    for (const resolve of list) resolve(err);
  }

  private answerAllWaiters(err: Error): void {
    const all = this.waiters;
    this.waiters = new Map();
    for (const list of all.values()) for (const resolve of list) resolve(err);
  }

  private initAndRecover(): void {
    const tx = this.b.batchTx();
    tx.createBucket(LeaseBucket);
    const records: [Uint8Array, Uint8Array][] = [];
    tx.unsafeForEach(LeaseBucket, (k, v) => {
      records.push([k, v]);
    });
    void tx.commit();
    for (const [k, v] of records) {
      let lpb;
      try {
        lpb = decodeLease(v);
      } catch {
        // etcd panics here: the lease bucket is corrupt.
        throw new Error(`failed to Unmarshal lease proto item; lease ID=${describeLeaseID(bytesToLeaseId(k))}`);
      }
      // Leases start forever (the Lease default) until promote; MVCC attaches their keys.
      const l = new Lease(lpb.id, Math.max(lpb.ttl, this.minLeaseTTL), this.now);
      l.remainingTTL = lpb.remainingTtl;
      this.leaseMap.set(l.id, l);
    }
  }
}
