/**
 * The lessor, ported from etcd's server/lease/lessor_test.go and lease_queue_test.go, over a
 * MemoryBackend and a fake clock: where etcd sleeps, these tests advance the clock, and where etcd
 * reads ExpiredLeasesC or waits for its checkpointer, they call expiredLeases() and
 * checkpointScheduledLeases() as the server's 500 ms loop will.
 */
import { describe, expect, it } from "vitest";
import {
  ErrLeaseExists,
  ErrLeaseExpiredPendingRevoke,
  ErrLeaseNotFound,
  ErrLeaseTTLTooLarge,
  ErrNotPrimary,
} from "../../src/lease/errors.js";
import { Forever, Lease, describeLease } from "../../src/lease/lease.js";
import { type LeaseID, type LeaseItem, NoLease, leaseItemOf } from "../../src/lease/lease-item.js";
import { encodeLease, leaseIdToBytes } from "../../src/lease/leasepb.js";
import {
  type LeaseCheckpoint,
  type Lessor,
  type LessorConfig,
  MaxLeaseTTL,
  newLessor,
} from "../../src/lease/lessor.js";
import { type Backend, LeaseBucket } from "../../src/storage/backend.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import { FakeClock, KeyStore, RecordingTxn, bytes, countCommits, storedLeases } from "./helpers.js";

const minLeaseTTL = 5;

function setup(cfg: Partial<LessorConfig> = {}, be: Backend = new MemoryBackend()) {
  const clock = new FakeClock();
  const le = newLessor(be, { minLeaseTTL, now: clock.now, ...cfg });
  return { be, clock, le };
}

function mustGrant(le: Lessor, id: LeaseID, ttl: number): Lease {
  const l = le.grant(id, ttl);
  if (l instanceof Error) throw l;
  return l;
}

const item = (k: string): LeaseItem => leaseItemOf(bytes(k));

/** Whether a promise has settled, after letting pending reactions run. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let state: { done: boolean; value?: T } = { done: false };
  void p.then((value) => {
    state = { done: true, value };
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return state;
}

describe("grant", () => {
  // etcd TestLessorGrant
  it("grants at least minLeaseTTL, once per id, and persists the lease", () => {
    const { be, le } = setup();
    le.promote(0);
    const l = mustGrant(le, 1n, 1);
    expect(l.getTTL()).toBe(minLeaseTTL);
    expect(le.lookup(1n)).toBe(l);
    expect(l.remaining()).toBe(minLeaseTTL * 1000);

    expect(le.grant(1n, 1)).toBe(ErrLeaseExists);
    const nl = mustGrant(le, 2n, 1);
    expect(nl.id).toBe(2n);
    expect(le.leases().map((x) => [x.id, x.getTTL()])).toEqual([
      [1n, minLeaseTTL],
      [2n, minLeaseTTL],
    ]);
    expect(storedLeases(be).get(1n)).toEqual({ id: 1n, ttl: minLeaseTTL, remainingTtl: 0 });
  });

  it("throws on a TTL that is not an integer, leaving nothing behind", () => {
    const { be, le } = setup();
    expect(() => le.grant(1n, 10.5)).toThrow(RangeError);
    expect(le.lookup(1n)).toBeUndefined();
    expect(storedLeases(be).size).toBe(0);
    expect(mustGrant(le, 1n, 10).getTTL()).toBe(10);
  });

  it("refuses NoLease with ErrLeaseNotFound", () => {
    const { le } = setup();
    expect(le.grant(NoLease, 10)).toBe(ErrLeaseNotFound);
    expect(le.leases()).toEqual([]);
  });

  // etcd TestLessorMaxTTL
  it("refuses a TTL above MaxLeaseTTL and accepts MaxLeaseTTL", () => {
    const { be, le } = setup();
    expect(le.grant(1n, MaxLeaseTTL + 1)).toBe(ErrLeaseTTLTooLarge);
    expect(le.lookup(1n)).toBeUndefined();
    expect(storedLeases(be).size).toBe(0);
    expect(mustGrant(le, 1n, MaxLeaseTTL).getTTL()).toBe(MaxLeaseTTL);
    expect(storedLeases(be).get(1n)!.ttl).toBe(MaxLeaseTTL);
  });

  it("grants leases that never expire on a non-primary lessor", () => {
    const { clock, le } = setup();
    const l = mustGrant(le, 1n, 10);
    expect(l.demoted()).toBe(true);
    expect(l.remaining()).toBe(Forever);
    clock.advance(3_600_000);
    expect(l.expired()).toBe(false);
    expect(le.expiredLeases()).toEqual([]);
  });

  it("describes a lease on one line", () => {
    const { clock, le } = setup();
    const l = mustGrant(le, 0x2an, 10);
    le.attach(l.id, [item("a")]);
    expect(describeLease(l)).toBe("lease 000000000000002a ttl=10s remaining-ttl=0s expiry=forever keys=1");
    le.promote(0);
    le.checkpoint(l.id, 4);
    expect(describeLease(l)).toBe(`lease 000000000000002a ttl=10s remaining-ttl=4s expiry=${clock.t + 10_000} keys=1`);
  });

  it("lists leases sorted by id", () => {
    const { le } = setup();
    for (const id of [30n, 2n, 11n, -4n]) mustGrant(le, id, 10);
    expect(le.leases().map((l) => l.id)).toEqual([-4n, 2n, 11n, 30n]);
  });
});

describe("revoke", () => {
  // etcd TestLessorRevoke
  it("deletes every attached key in byte order, then the lease, in one txn", () => {
    const { be, le } = setup();
    let fd: RecordingTxn | undefined;
    le.setRangeDeleter(() => (fd = new RecordingTxn(be.batchTx())));
    const l = mustGrant(le, 1n, 100);
    expect(le.attach(l.id, [item("foo"), item("bar"), item("b")])).toBeUndefined();

    expect(le.revoke(l.id)).toBeUndefined();
    expect(le.lookup(l.id)).toBeUndefined();
    expect(fd!.deleted).toEqual(["b_", "bar_", "foo_"]);
    expect(fd!.ended).toBe(true);
    expect(storedLeases(be).has(1n)).toBe(false);
    expect(le.getLease(item("foo"))).toBe(NoLease);
    expect(le.revoke(l.id)).toBe(ErrLeaseNotFound);
  });

  it("commits the key deletes and the lease record together, in the txn's batch", () => {
    const { be, le } = setup();
    const store = new KeyStore(be, () => le);
    le.setRangeDeleter(store.rd);
    mustGrant(le, 7n, 100);
    mustGrant(le, 8n, 100);
    store.put("a", 7n);
    store.put("b", 7n);
    store.put("c", 8n);
    store.put("d", NoLease);

    let beforeCommit: { keys: number; lease: number; committedLease: boolean } | undefined;
    store.onEnd = (tx) => {
      const r = be.readTx();
      beforeCommit = {
        keys: tx.unsafeRange("key", bytes("a"), bytes("z")).keys.length,
        lease: tx.unsafeRange(LeaseBucket, leaseIdToBytes(7n)).keys.length,
        committedLease: r.unsafeRange(LeaseBucket, leaseIdToBytes(7n)).keys.length === 1,
      };
      r.end();
    };
    const commits = countCommits(be);
    expect(le.revoke(7n)).toBeUndefined();
    // Inside the batch before end(): keys and lease record gone; outside: still committed.
    expect(beforeCommit).toEqual({ keys: 2, lease: 0, committedLease: true });
    expect(commits.count).toBe(1);
    expect(store.keys()).toEqual(["c", "d"]);
    expect([...storedLeases(be).keys()]).toEqual([8n]);
    expect(le.getLease(item("a"))).toBe(NoLease);
    expect(le.getLease(item("c"))).toBe(8n);
    expect(le.lookup(8n)!.keys()).toEqual(["c"]);
  });

  it("removes the lease without a range deleter", () => {
    const { be, le } = setup();
    mustGrant(le, 1n, 10);
    expect(le.revoke(1n)).toBeUndefined();
    expect(le.lookup(1n)).toBeUndefined();
    expect(storedLeases(be).size).toBe(0);
  });
});

// etcd TestLessorDetach
describe("attach and detach", () => {
  it("tracks which lease holds each key", () => {
    const { le } = setup();
    const l = mustGrant(le, 1n, 100);
    expect(le.attach(l.id, [item("foo"), item("bar")])).toBeUndefined();
    expect(le.getLease(item("foo"))).toBe(1n);
    expect(le.detach(l.id, [item("foo")])).toBeUndefined();
    expect(le.lookup(1n)!.keys()).toEqual(["bar"]);
    expect(le.getLease(item("foo"))).toBe(NoLease);
    expect(le.getLease(item("bar"))).toBe(1n);
  });

  it("refuses an unknown lease", () => {
    const { le } = setup();
    expect(le.attach(9n, [item("x")])).toBe(ErrLeaseNotFound);
    expect(le.detach(9n, [item("x")])).toBe(ErrLeaseNotFound);
    expect(le.getLease(item("x"))).toBe(NoLease);
  });

  it("keeps keys as bytes: non-UTF-8 keys sort and come back intact", () => {
    const { be, le } = setup();
    let fd: RecordingTxn | undefined;
    le.setRangeDeleter(() => (fd = new RecordingTxn(be.batchTx())));
    mustGrant(le, 1n, 100);
    le.attach(1n, [leaseItemOf(new Uint8Array([0xff, 0])), leaseItemOf(new Uint8Array([0x7f])), leaseItemOf(new Uint8Array([0x80]))]);
    le.revoke(1n);
    expect(fd!.deleted.map((s) => [...s].map((c) => c.charCodeAt(0)))).toEqual([
      [0x7f, 0x5f],
      [0x80, 0x5f],
      [0xff, 0, 0x5f],
    ]);
  });
});

describe("renew", () => {
  // etcd TestLessorRenew
  it("renews to the full TTL on the primary", () => {
    const { clock, le } = setup();
    le.promote(0);
    const l = mustGrant(le, 1n, minLeaseTTL);
    l.ttl = 10; // as etcd's test: change the TTL behind the lessor's back
    clock.advance(3000);
    expect(le.renew(1n)).toBe(10);
    expect(le.lookup(1n)!.remaining()).toBe(10_000);
  });

  it("refuses on a non-primary and for an unknown lease", () => {
    const { le } = setup();
    mustGrant(le, 1n, 10);
    expect(le.renew(1n)).toBe(ErrNotPrimary);
    le.promote(0);
    expect(le.renew(2n)).toBe(ErrLeaseNotFound);
  });

  it("moves the expiry, so a renewed lease is not reported expired", () => {
    const { clock, le } = setup();
    le.promote(0);
    mustGrant(le, 1n, 10);
    clock.advance(9000);
    expect(le.renew(1n)).toBe(10);
    clock.advance(9000);
    expect(le.expiredLeases()).toEqual([]);
    clock.advance(1000);
    expect(le.expiredLeases().map((l) => l.id)).toEqual([1n]);
  });

  // etcd TestLessorRenewWithCheckpointer
  it("clears a checkpointed remaining TTL through the checkpointer", () => {
    const { le } = setup();
    const calls: LeaseCheckpoint[][] = [];
    le.setCheckpointer((cps) => {
      calls.push(cps);
      for (const cp of cps) le.checkpoint(cp.id, cp.remainingTtl); // applied at once
    });
    le.promote(0);
    const l = mustGrant(le, 1n, minLeaseTTL);
    l.ttl = 10;
    l.remainingTTL = 10;
    expect(le.renew(1n)).toBe(10);
    expect(calls).toEqual([[{ id: 1n, remainingTtl: 0 }]]);
    expect(l.remainingTTL).toBe(0);
    expect(l.remaining()).toBe(10_000);
    // nothing left to clear: no further checkpoint
    expect(le.renew(1n)).toBe(10);
    expect(calls.length).toBe(1);
  });

  it("renews to the full TTL while the clearing checkpoint is still in flight", () => {
    const { le } = setup();
    const calls: LeaseCheckpoint[][] = [];
    le.setCheckpointer((cps) => void calls.push(cps)); // proposes; applies later
    le.promote(0);
    const l = mustGrant(le, 1n, 60);
    le.checkpoint(1n, 7);
    expect(le.renew(1n)).toBe(60);
    expect(l.remaining()).toBe(60_000);
    expect(calls).toEqual([[{ id: 1n, remainingTtl: 0 }]]);
  });

  it("fails with the checkpointer's error and leaves the expiry alone", () => {
    const { clock, le } = setup();
    le.setCheckpointer(() => ErrNotPrimary);
    le.promote(0);
    const l = mustGrant(le, 1n, 60);
    le.checkpoint(1n, 30);
    const expiry = l.expiry;
    clock.advance(1000);
    expect(le.renew(1n)).toBe(ErrNotPrimary);
    expect(l.expiry).toBe(expiry);
  });

  // etcd TestLessorExpire
  it("answers an expired lease after its revoke", async () => {
    const { clock, le } = setup({ minLeaseTTL: 1 });
    le.promote(1000);
    const l = mustGrant(le, 1n, 1);
    clock.advance(1000);
    expect(le.expiredLeases().map((x) => x.id)).toEqual([l.id]);
    expect(le.renew(1n)).toBe(ErrLeaseExpiredPendingRevoke);
    const wait = le.waitRevokeOrDemote(1n);
    expect((await settled(wait)).done).toBe(false);
    expect(le.revoke(1n)).toBeUndefined();
    expect(await settled(wait)).toEqual({ done: true, value: ErrLeaseNotFound });
    expect(le.renew(1n)).toBe(ErrLeaseNotFound);
  });

  // etcd TestLessorExpireAndDemote
  it("answers an expired lease with ErrNotPrimary on demotion", async () => {
    const { clock, le } = setup({ minLeaseTTL: 1 });
    le.promote(1000);
    mustGrant(le, 1n, 1);
    clock.advance(2000);
    expect(le.expiredLeases().map((x) => x.id)).toEqual([1n]);
    expect(le.renew(1n)).toBe(ErrLeaseExpiredPendingRevoke);
    const wait = le.waitRevokeOrDemote(1n);
    expect((await settled(wait)).done).toBe(false);
    le.demote();
    expect(await settled(wait)).toEqual({ done: true, value: ErrNotPrimary });
    expect(await le.waitRevokeOrDemote(1n)).toBe(ErrNotPrimary);
  });

  it("answers waits at once for an absent lease, and on stop", async () => {
    const { le } = setup();
    le.promote(0);
    mustGrant(le, 1n, 10);
    expect(await le.waitRevokeOrDemote(2n)).toBe(ErrLeaseNotFound);
    const wait = le.waitRevokeOrDemote(1n);
    le.stop();
    expect(await wait).toBe(ErrNotPrimary);
  });
});

describe("expiry", () => {
  it("reports a lease once its expiry has come, not before", () => {
    const { clock, le } = setup({ minLeaseTTL: 1 });
    le.promote(1000);
    mustGrant(le, 1n, 1); // granted after promote: no extension
    clock.advance(999);
    expect(le.expiredLeases()).toEqual([]);
    clock.advance(1);
    expect(le.expiredLeases().map((l) => l.id)).toEqual([1n]);
  });

  // etcd TestLeaseQueue: an expired lease comes back only after the retry interval
  it("returns an unrevoked expired lease again only after the retry interval", () => {
    const { clock, le } = setup({ expiredLeasesRetryInterval: 100, minLeaseTTL: 1 });
    le.promote(0);
    for (let i = 50; i >= 1; i--) mustGrant(le, BigInt(i), i === 1 ? 1 : 3600);
    clock.advance(1000);
    expect(le.expiredLeases().map((l) => l.id)).toEqual([1n]);
    expect(le.expiredLeases()).toEqual([]);
    clock.advance(99);
    expect(le.expiredLeases()).toEqual([]);
    clock.advance(1);
    expect(le.expiredLeases().map((l) => l.id)).toEqual([1n]);
  });

  it("returns at most leaseRevokeRate/2 leases per call", () => {
    const { clock, le } = setup({ leaseRevokeRate: 10, expiredLeasesRetryInterval: 60_000 });
    le.promote(0);
    for (let i = 1; i <= 23; i++) mustGrant(le, BigInt(i), 10);
    clock.advance(10_000);
    const seen = new Set<bigint>();
    const sizes: number[] = [];
    for (let round = 0; round < 6; round++) {
      const ls = le.expiredLeases();
      sizes.push(ls.length);
      for (const l of ls) seen.add(l.id);
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3, 0]);
    expect(seen.size).toBe(23);
  });

  it("forgets revoked leases", () => {
    const { clock, le } = setup();
    le.promote(0);
    mustGrant(le, 1n, 10);
    mustGrant(le, 2n, 20);
    le.revoke(1n);
    clock.advance(20_000);
    expect(le.expiredLeases().map((l) => l.id)).toEqual([2n]);
  });

  it("is primary only", () => {
    const { clock, le } = setup();
    le.promote(0);
    mustGrant(le, 1n, 10);
    le.demote();
    clock.advance(100_000);
    expect(le.isPrimary()).toBe(false);
    expect(le.expiredLeases()).toEqual([]);
  });

  it("reports time to live in ms, as TimeToLive truncates to seconds", () => {
    const { clock, le } = setup();
    le.promote(0);
    const l = mustGrant(le, 1n, 10);
    clock.advance(2500);
    expect(l.remaining()).toBe(7500);
    expect(Math.trunc(l.remaining() / 1000)).toBe(7);
    expect(l.getTTL()).toBe(10);
    clock.advance(7500);
    expect(l.expired()).toBe(true);
  });
});

describe("promote and demote", () => {
  it("extends every lease by the election timeout", () => {
    const { be, clock } = setup();
    const first = newLessor(be, { minLeaseTTL, now: clock.now });
    mustGrant(first, 1n, 10);
    mustGrant(first, 2n, 20);
    const le = newLessor(be, { minLeaseTTL, now: clock.now });
    expect(le.lookup(1n)!.demoted()).toBe(true);
    le.promote(1500);
    expect(le.isPrimary()).toBe(true);
    expect(le.lookup(1n)!.remaining()).toBe(11_500);
    expect(le.lookup(2n)!.remaining()).toBe(21_500);
  });

  // etcd TestLessorRenewExtendPileup
  it("spreads piled-up expiries after recovery", () => {
    const leaseRevokeRate = 10;
    const be = new MemoryBackend();
    const clock = new FakeClock();
    const cfg = { minLeaseTTL, leaseRevokeRate, now: clock.now };
    const first = newLessor(be, cfg);
    const ttl = 10;
    for (let i = 1; i <= leaseRevokeRate * 10; i++) {
      mustGrant(first, BigInt(2 * i), ttl);
      mustGrant(first, BigInt(2 * i + 1), ttl + 1); // overlaps the spillover of ttl = 10
    }
    const le = newLessor(be, cfg);
    le.promote(0);

    const windowCounts = new Map<number, number>();
    for (const l of le.leases()) {
      const s = Math.trunc(l.remaining() / 1000 + 0.1);
      windowCounts.set(s, (windowCounts.get(s) ?? 0) + 1);
    }
    for (let i = ttl; i < ttl + 20; i++) {
      const c = windowCounts.get(i) ?? 0;
      expect(c, `expiring at ${i}s`).toBeLessThanOrEqual(leaseRevokeRate);
      expect(c, `expiring at ${i}s`).toBeGreaterThanOrEqual(leaseRevokeRate / 2);
    }
    // and the expiry queue follows the spread: the first second yields only its share
    clock.advance(ttl * 1000 + 999);
    const due = le.expiredLeases().length + le.expiredLeases().length;
    expect(due).toBe(windowCounts.get(ttl));
  });

  it("does not spread fewer leases than the revoke rate", () => {
    const { le } = setup({ leaseRevokeRate: 10 });
    for (let i = 1; i <= 9; i++) mustGrant(le, BigInt(i), 10);
    le.promote(0);
    expect(le.leases().map((l) => l.remaining())).toEqual(Array(9).fill(10_000));
  });

  it("demote stops expiry and scheduling until the next promote", () => {
    const { clock, le } = setup({ checkpointInterval: 1000 });
    const calls: LeaseCheckpoint[][] = [];
    le.setCheckpointer((cps) => void calls.push(cps));
    le.promote(0);
    mustGrant(le, 1n, 10);
    le.demote();
    expect(le.lookup(1n)!.demoted()).toBe(true);
    expect(le.renew(1n)).toBe(ErrNotPrimary);
    clock.advance(20_000);
    le.checkpointScheduledLeases();
    expect(calls).toEqual([]);
    expect(le.expiredLeases()).toEqual([]);
    le.promote(0);
    expect(le.lookup(1n)!.remaining()).toBe(10_000);
    clock.advance(10_000);
    expect(le.expiredLeases().map((l) => l.id)).toEqual([1n]);
  });
});

describe("recover", () => {
  // etcd TestLessorRecover
  it("rebuilds leases from the backend", () => {
    const { be, clock, le } = setup();
    const l1 = mustGrant(le, 1n, 10);
    const l2 = mustGrant(le, 2n, 20);
    const nle = newLessor(be, { minLeaseTTL, now: clock.now });
    expect(nle.lookup(1n)!.getTTL()).toBe(l1.getTTL());
    expect(nle.lookup(2n)!.getTTL()).toBe(l2.getTTL());
    expect(nle.lookup(1n)!.keys()).toEqual([]);
    expect(nle.isPrimary()).toBe(false);
  });

  it("creates the lease bucket and raises TTLs to a larger minimum", () => {
    const be = new MemoryBackend();
    const clock = new FakeClock();
    const le = newLessor(be, { now: clock.now });
    expect(be.readTx().hasBucket(LeaseBucket)).toBe(true);
    mustGrant(le, 1n, 3);
    const nle = newLessor(be, { minLeaseTTL: 8, now: clock.now });
    expect(nle.lookup(1n)!.getTTL()).toBe(8);
  });

  it("refuses a corrupt record with etcd's message", () => {
    const be = new MemoryBackend();
    const tx = be.batchTx();
    tx.createBucket(LeaseBucket);
    tx.put(LeaseBucket, leaseIdToBytes(0x1an), new Uint8Array([0x08]));
    void tx.commit();
    expect(() => newLessor(be, { now: () => 0 })).toThrow(
      "failed to Unmarshal lease proto item; lease ID=000000000000001a",
    );
  });

  it("recover() replaces every lease and key with the new backend's", () => {
    const { le, clock } = setup();
    mustGrant(le, 1n, 10);
    le.attach(1n, [item("k")]);
    const other = new MemoryBackend();
    mustGrant(newLessor(other, { now: clock.now }), 5n, 30);
    const store = new KeyStore(other, () => le);
    le.recover(other, store.rd);
    expect(le.leases().map((l) => l.id)).toEqual([5n]);
    expect(le.getLease(item("k"))).toBe(NoLease);
    store.put("x", 5n);
    le.revoke(5n);
    expect(store.keys()).toEqual([]);
    expect(storedLeases(other).size).toBe(0);
  });

  it("reads records written the way etcd writes them", () => {
    const be = new MemoryBackend();
    const tx = be.batchTx();
    tx.createBucket(LeaseBucket);
    tx.put(LeaseBucket, leaseIdToBytes(3n), encodeLease({ id: 3n, ttl: 60, remainingTtl: 12 }));
    void tx.commit();
    const clock = new FakeClock();
    const le = newLessor(be, { now: clock.now });
    le.promote(0);
    expect(le.lookup(3n)!.remaining()).toBe(12_000);
  });
});

describe("checkpoints", () => {
  // etcd TestLessorCheckpointScheduling
  it("checkpoints a lease's remaining TTL after the interval", () => {
    const { clock, le } = setup({ minLeaseTTL: 1, checkpointInterval: 1000 });
    const calls: LeaseCheckpoint[][] = [];
    le.setCheckpointer((cps) => void calls.push(cps));
    mustGrant(le, 1n, 2);
    le.promote(0);
    le.checkpointScheduledLeases();
    expect(calls).toEqual([]);
    clock.advance(1000);
    le.checkpointScheduledLeases();
    expect(calls).toEqual([[{ id: 1n, remainingTtl: 1 }]]);
    le.checkpointScheduledLeases();
    expect(calls.length).toBe(1);
  });

  it("schedules only leases that outlive the interval, and only with a checkpointer", () => {
    const { clock, le } = setup({ checkpointInterval: 10_000 });
    mustGrant(le, 1n, 100); // before the checkpointer: never scheduled until promote
    const calls: LeaseCheckpoint[][] = [];
    le.setCheckpointer((cps) => void calls.push(cps));
    le.promote(0);
    mustGrant(le, 2n, 10); // 10 s is not above the 10 s interval
    mustGrant(le, 3n, 11);
    clock.advance(10_000);
    le.checkpointScheduledLeases();
    expect(calls.length).toBe(1);
    expect([...calls[0]!].sort((x, y) => Number(x.id - y.id))).toEqual([
      { id: 1n, remainingTtl: 90 },
      { id: 3n, remainingTtl: 1 },
    ]);
  });

  it("batches at most 1000 checkpoints per call and stops on a checkpointer error", () => {
    const { clock, le } = setup({ checkpointInterval: 1000 });
    const sizes: number[] = [];
    let fail = false;
    le.setCheckpointer((cps) => {
      sizes.push(cps.length);
      return fail ? ErrNotPrimary : undefined;
    });
    le.promote(0);
    for (let i = 1; i <= 2500; i++) mustGrant(le, BigInt(i), 600);
    clock.advance(1000);
    le.checkpointScheduledLeases();
    expect(sizes).toEqual([1000, 1000, 500]);

    sizes.length = 0;
    for (let i = 1; i <= 2500; i++) le.checkpoint(BigInt(i), 500); // reschedules each
    clock.advance(1000);
    fail = true;
    le.checkpointScheduledLeases();
    expect(sizes).toEqual([1000]);
  });

  it("skips expired leases and leases at their full TTL", () => {
    const { clock, le } = setup({ checkpointInterval: 1000, minLeaseTTL: 1 });
    const calls: LeaseCheckpoint[][] = [];
    le.setCheckpointer((cps) => void calls.push(cps));
    le.promote(0);
    mustGrant(le, 1n, 2);
    clock.advance(2000);
    le.checkpointScheduledLeases();
    expect(calls).toEqual([]);
  });

  // etcd TestLessorCheckpointsRestoredOnPromote
  it("promote applies the checkpointed remaining TTL", () => {
    const { le } = setup();
    const l = mustGrant(le, 1n, 10);
    le.checkpoint(l.id, 5);
    le.promote(0);
    expect(l.remaining()).toBe(5000);
  });

  it("ignores a checkpoint of an unknown lease", () => {
    const { le } = setup();
    expect(le.checkpoint(42n, 5)).toBeUndefined();
    expect(le.lookup(42n)).toBeUndefined();
  });

  // etcd TestLessorCheckpointPersistenceAfterRestart
  for (const [checkpointPersist, want] of [
    [true, 5],
    [false, 10],
  ] as const) {
    it(`${checkpointPersist ? "persists" : "does not persist"} remainingTTL across a restart (checkpointPersist ${checkpointPersist})`, () => {
      const { be, clock, le } = setup({ checkpointPersist });
      const l = mustGrant(le, 2n, 10);
      expect(l.getRemainingTTL()).toBe(10);
      le.checkpoint(2n, 5);
      expect(l.getRemainingTTL()).toBe(5);
      const le2 = newLessor(be, { minLeaseTTL, checkpointPersist, now: clock.now });
      expect(le2.lookup(2n)!.getRemainingTTL()).toBe(want);
    });
  }
});
