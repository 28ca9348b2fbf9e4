// The lessor and the watchable MVCC store together, as a member wires them: the store registers
// its write txn as the lessor's range deleter, a revoke deletes every attached key in one revision
// (one watch response), and a restart or leader change keeps leases and their keys.
import { describe, expect, it } from "vitest";
import { leaseItemOf } from "../../src/lease/lease-item.js";
import { newLessor, type Lessor } from "../../src/lease/lessor.js";
import { MvccError } from "../../src/mvcc/errors.js";
import { EventType } from "../../src/mvcc/mvccpb.js";
import { newWatchableStore, type WatchableStore } from "../../src/mvcc/watchable-store.js";
import { AutoWatchID } from "../../src/mvcc/watcher.js";
import { LeaseBucket, type Backend } from "../../src/storage/backend.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const all = new Uint8Array([0]);

function member(backend: Backend, clock: { t: number }): { le: Lessor; s: WatchableStore } {
  // Order as etcd: the lessor recovers its leases first, then the store re-attaches keys to them.
  const le = newLessor(backend, { now: () => clock.t, minLeaseTTL: 1 });
  const s = newWatchableStore(backend, le);
  return { le, s };
}

function keys(s: WatchableStore): string[] {
  const r = s.range(all, all);
  if (r instanceof MvccError) throw r;
  return r.kvs.map((kv) => str(kv.key));
}

function leaseRecords(backend: Backend): number {
  const tx = backend.readTx();
  let n = 0;
  tx.unsafeForEach(LeaseBucket, () => {
    n++;
  });
  tx.end();
  return n;
}

describe("lessor with the watchable store", () => {
  it("revoke deletes every attached key at one revision, seen as one watch response", () => {
    const backend = new MemoryBackend();
    const { le, s } = member(backend, { t: 0 });
    expect(le.grant(1n, 10)).not.toBeInstanceOf(Error);
    s.put(b("a"), b("1"), 1n);
    s.put(b("b"), b("2"), 1n);
    s.put(b("c"), b("3"), 0n);
    s.put(b("b"), b("2'"), 1n);
    expect(le.lookup(1n)!.keys().sort()).toEqual([leaseItemOf(b("a")).key, leaseItemOf(b("b")).key]);
    const ws = s.newWatchStream();
    ws.watch(AutoWatchID, b("\0"), all, 0);
    expect(le.revoke(1n)).toBeUndefined();
    expect(keys(s)).toEqual(["c"]);
    expect(s.rev()).toBe(6);
    const resps = ws.drain();
    expect(resps.length).toBe(1);
    expect(resps[0]!.events.map((e) => [e.type, str(e.kv.key), e.kv.modRevision])).toEqual([
      [EventType.DELETE, "a", 6],
      [EventType.DELETE, "b", 6],
    ]);
    expect(le.lookup(1n)).toBeUndefined();
    expect(leaseRecords(backend)).toBe(0);
    // Putting with the revoked lease is the API's business (ErrLeaseNotFound); the key c is untouched.
    expect(le.revoke(1n)).toBeDefined();
  });

  it("re-putting a key under another lease moves it; deleting it detaches it", () => {
    const { le, s } = member(new MemoryBackend(), { t: 0 });
    le.grant(1n, 10);
    le.grant(2n, 10);
    s.put(b("k"), b("v"), 1n);
    s.put(b("k"), b("v"), 2n);
    expect(le.lookup(1n)!.keys()).toEqual([]);
    expect(le.lookup(2n)!.keys()).toEqual([leaseItemOf(b("k")).key]);
    s.deleteRange(b("k"));
    expect(le.lookup(2n)!.keys()).toEqual([]);
    expect(le.revoke(2n)).toBeUndefined();
    expect(s.rev()).toBe(4); // a revoke with no keys writes no revision
  });

  it("a restart keeps leases, their TTLs and their keys", () => {
    const backend = new MemoryBackend();
    const clock = { t: 0 };
    const first = member(backend, clock);
    first.le.grant(7n, 30);
    first.s.put(b("x"), b("1"), 7n);
    first.s.put(b("y"), b("1"), 7n);
    first.s.deleteRange(b("y"));
    first.s.close();
    const { le, s } = member(backend, clock);
    expect(le.lookup(7n)!.getTTL()).toBe(30);
    expect(le.lookup(7n)!.keys()).toEqual([leaseItemOf(b("x")).key]);
    expect(le.revoke(7n)).toBeUndefined();
    expect(keys(s)).toEqual([]);
  });

  it("after a leader change leases expire only after TTL plus the election extension, then revoke", () => {
    const backend = new MemoryBackend();
    const clock = { t: 0 };
    const old = member(backend, clock);
    old.le.promote(0);
    old.le.grant(9n, 5);
    old.s.put(b("session"), b("1"), 9n);
    clock.t = 4_000; // the old leader dies 1 s before expiry
    old.le.demote();
    // A new leader (here: a restarted member) takes over 10 s later and extends by its election timeout.
    clock.t = 14_000;
    const { le, s } = member(backend, clock);
    le.promote(1_000);
    expect(le.expiredLeases()).toEqual([]);
    clock.t = 14_000 + 5_000 + 999;
    expect(le.expiredLeases()).toEqual([]);
    clock.t = 14_000 + 6_000;
    const expired = le.expiredLeases();
    expect(expired.map((l) => l.id)).toEqual([9n]);
    // The server proposes a revoke; applying it deletes the key on every member.
    expect(le.revoke(9n)).toBeUndefined();
    expect(keys(s)).toEqual([]);
  });

  it("recover after a backend snapshot restore replaces leases and re-attaches through the new store", async () => {
    const src = new MemoryBackend();
    const a = member(src, { t: 0 });
    a.le.grant(3n, 10);
    a.s.put(b("p"), b("1"), 3n);
    const dst = new MemoryBackend();
    const clock = { t: 0 };
    const m = member(dst, clock);
    m.le.grant(4n, 10);
    await dst.restore(src.snapshot());
    m.le.recover(dst, () => m.s.write());
    m.s.restore();
    expect(m.le.leases().map((l) => l.id)).toEqual([3n]);
    expect(m.le.lookup(3n)!.keys()).toEqual([leaseItemOf(b("p")).key]);
    expect(m.le.revoke(3n)).toBeUndefined();
    expect(keys(m.s)).toEqual([]);
  });
});
