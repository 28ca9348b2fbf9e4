// EtcdServer as one member, driven by a manual clock: ids as etcd derives them, writes through raft
// with headers, linearizable and serializable reads, timeouts without a leader, lease expiry by the
// leader, the quota and NOSPACE alarm, compaction, auto-compaction, maintenance calls, stop.
import { describe, expect, it } from "vitest";
import {
  AlarmAction,
  AlarmType,
  newCompactionRequest,
  newDeleteRangeRequest,
  newLeaseGrantRequest,
  newLeaseRevokeRequest,
  newLeaseTimeToLiveRequest,
  newPutRequest,
  newRangeRequest,
  newTxnRequest,
  type RangeResponse,
} from "../../src/api/etcdserverpb/rpc.js";
import { ErrGRPCNoSpace } from "../../src/api/v3rpc/rpctypes.js";
import { defaultServerConfig, type ServerConfig } from "../../src/etcdserver/config.js";
import { ErrNoSpace, ErrRequestTooLarge, ErrStopped, ErrTimeout } from "../../src/etcdserver/errors.js";
import { revInterval } from "../../src/etcdserver/compactor.js";
import { startEtcdServer, type EtcdServer } from "../../src/etcdserver/server.js";
import { ErrLeaseNotFound } from "../../src/lease/errors.js";
import { ErrCompacted, ErrFutureRev } from "../../src/mvcc/errors.js";
import { ManualClock } from "../../src/platform.js";
import type { DiskLayout } from "../../src/etcdserver/storage.js";
import { MemoryFS } from "../../src/wal/memory-fs.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
/** Lets promise chains and the Ready loop run (real macrotask turns; the manual clock stays put). */
const settle = async (turns = 3): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 0));
};

async function member(over: Partial<ServerConfig> = {}): Promise<{ s: EtcdServer; clock: ManualClock }> {
  const clock = new ManualClock();
  const s = await startEtcdServer({ ...defaultServerConfig(), ...over }, { clock, seed: 1, wallClock: () => 1_700_000_000_000 });
  await settle();
  return { s, clock };
}

/** Advances the clock in tick-sized steps, letting the server work between them. */
async function advance(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle(1);
  }
  await settle();
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("bootstrap", () => {
  it("derives etcd's ids: the default member and cluster", async () => {
    const { s } = await member();
    expect(s.id).toBe(10276657743932975437n); // 8e9e05c52164694d, etcd's default member
    expect(s.cluster.clusterID).toBe(14841639068965178418n); // cdf818194e3a8c32
    await s.ready;
    expect(s.cluster.member(s.id)!.clientURLs).toEqual(["http://localhost:2379"]);
    await s.stop();
  });

  it("derives etcd's ids for a three-member initial cluster (checked against etcd 3.4.23)", async () => {
    const { s } = await member({
      name: "infra1",
      initialClusterToken: "tkn",
      peerURLs: ["http://127.0.0.1:32380"],
      initialCluster: new Map([
        ["infra1", ["http://127.0.0.1:32380"]],
        ["infra2", ["http://127.0.0.1:32381"]],
        ["infra3", ["http://127.0.0.1:32382"]],
      ]),
    });
    expect(s.id.toString(16)).toBe("763c9e70aa15678a");
    expect(s.cluster.clusterID.toString(16)).toBe("82e735e74e5f37ec");
    expect(s.cluster.memberIDs().map((x) => x.toString(16))).toEqual(["24ef40477c21e64d", "763c9e70aa15678a", "b3ff9ecce455d5f9"]);
    await s.stop();
  });

  it("refuses a name missing from the initial cluster", async () => {
    await expect(startEtcdServer({ ...defaultServerConfig("x"), initialCluster: new Map([["y", ["http://a:1"]]]) }, { clock: new ManualClock() })).rejects.toThrow(
      'couldn\'t find local name "x" in the initial cluster configuration',
    );
  });
});

describe("requests", () => {
  it("puts through raft and answers with etcd's header", async () => {
    const { s } = await member();
    await s.ready;
    const p = await s.put(newPutRequest({ key: b("foo"), value: b("bar") }));
    expect(p.header).toEqual({ clusterId: 14841639068965178418n, memberId: 10276657743932975437n, revision: 2, raftTerm: 2 });
    const r = await s.range(newRangeRequest({ key: b("foo") }));
    expect(r.kvs.map((kv) => [str(kv.key), str(kv.value), kv.createRevision, kv.modRevision, kv.version])).toEqual([["foo", "bar", 2, 2, 1]]);
    expect(r.count).toBe(1);
    const d = await s.deleteRange(newDeleteRangeRequest({ key: b("foo"), prevKv: true }));
    expect(d.deleted).toBe(1);
    expect(d.prevKvs.length).toBe(1);
    expect(d.header.revision).toBe(3);
    await s.stop();
  });

  it("serves many concurrent writes and reads, each read seeing every write acknowledged before it started", async () => {
    const { s } = await member();
    await s.ready;
    const writes = await Promise.all(Array.from({ length: 200 }, (_, i) => s.put(newPutRequest({ key: b(`k${i % 20}`), value: b(String(i)) }))));
    const revs = writes.map((w) => w.header.revision).sort((x, y) => x - y);
    expect(revs).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    const reads = await Promise.all(Array.from({ length: 50 }, () => s.range(newRangeRequest({ key: b("k"), rangeEnd: b("l"), countOnly: true }))));
    for (const r of reads) {
      expect(r.count).toBe(20);
      expect(r.header.revision).toBe(201);
    }
    await s.stop();
  });

  it("serves a read-only txn without a raft entry", async () => {
    const { s } = await member();
    await s.ready;
    await s.put(newPutRequest({ key: b("a"), value: b("1") }));
    const before = s.raftStatus().commit;
    const t = await s.txn(newTxnRequest({ success: [{ requestRange: newRangeRequest({ key: b("a") }) }] }));
    expect(t.succeeded).toBe(true);
    expect((t.responses[0]!.responseRange as RangeResponse).kvs.length).toBe(1);
    expect(s.raftStatus().commit).toBe(before);
    const w = await s.txn(newTxnRequest({ success: [{ requestPut: newPutRequest({ key: b("b"), value: b("2") }) }] }));
    expect(w.header.revision).toBe(3);
    expect(s.raftStatus().commit).toBe(before + 1);
    await s.stop();
  });

  it("refuses a request whose raft entry is larger than --max-request-bytes", async () => {
    const { s } = await member({ maxRequestBytes: 100 });
    await s.ready;
    expect(await rejection(s.put(newPutRequest({ key: b("k"), value: new Uint8Array(200) })))).toBe(ErrRequestTooLarge);
    await s.stop();
  });

  it("compacts, physically on request, with etcd's errors", async () => {
    const { s } = await member();
    await s.ready;
    for (let i = 0; i < 5; i++) await s.put(newPutRequest({ key: b("k"), value: b(String(i)) }));
    const c = await s.compact(newCompactionRequest({ revision: 4, physical: true }));
    expect(c.header.revision).toBe(6);
    expect(await rejection(s.compact(newCompactionRequest({ revision: 4 })))).toBe(ErrCompacted);
    expect(await rejection(s.compact(newCompactionRequest({ revision: 100 })))).toBe(ErrFutureRev);
    expect(await rejection(s.range(newRangeRequest({ key: b("k"), revision: 3 })))).toBe(ErrCompacted);
    expect((await s.range(newRangeRequest({ key: b("k"), revision: 4 }))).kvs.length).toBe(1);
    await s.stop();
  });
});

describe("without a leader", () => {
  // A member of a three-member cluster whose peers never answer: no quorum, no leader.
  const alone = (): Promise<{ s: EtcdServer; clock: ManualClock }> =>
    member({
      name: "a",
      peerURLs: ["http://127.0.0.1:1"],
      initialCluster: new Map([
        ["a", ["http://127.0.0.1:1"]],
        ["b", ["http://127.0.0.1:2"]],
        ["c", ["http://127.0.0.1:3"]],
      ]),
    });

  it("times a write and a linearizable read out after the request timeout; serializable reads and status answer", async () => {
    const { s, clock } = await alone();
    const put = rejection(s.put(newPutRequest({ key: b("k"), value: b("v") })));
    const get = rejection(s.range(newRangeRequest({ key: b("k") })));
    const ser = await s.range(newRangeRequest({ key: b("k"), serializable: true }));
    expect(ser.kvs).toEqual([]);
    const st = await s.status();
    expect(st.leader).toBe(0n);
    expect(st.errors).toEqual(["etcdserver: no leader"]);
    expect(await s.health(false)).toEqual({ health: false, reason: "RAFT NO LEADER" });
    await advance(clock, 7000);
    expect(await put).toBe(ErrTimeout);
    expect(await get).toBe(ErrTimeout);
    expect((await s.range(newRangeRequest({ key: b("k"), serializable: true }))).kvs).toEqual([]);
    await s.stop();
  });
});

describe("leases", () => {
  it("grants with a generated id, counts down, renews, and the leader revokes an expired lease with its keys", async () => {
    const { s, clock } = await member();
    await s.ready;
    const g = await s.leaseGrant(newLeaseGrantRequest({ TTL: 5 }));
    expect(g.ID > 0n).toBe(true);
    expect(g.TTL).toBe(5);
    await s.put(newPutRequest({ key: b("session"), value: b("x"), lease: g.ID }));
    await advance(clock, 2000);
    const ttl = await s.leaseTimeToLive(newLeaseTimeToLiveRequest({ ID: g.ID, keys: true }));
    expect(ttl.grantedTTL).toBe(5);
    expect(ttl.TTL).toBeLessThanOrEqual(3);
    expect(ttl.keys.map(str)).toEqual(["session"]);
    expect(await s.leaseRenew(g.ID)).toBe(5);
    await advance(clock, 4000);
    expect((await s.range(newRangeRequest({ key: b("session") }))).kvs.length).toBe(1);
    await advance(clock, 2000);
    expect((await s.range(newRangeRequest({ key: b("session") }))).kvs.length).toBe(0);
    expect(await rejection(s.leaseTimeToLive(newLeaseTimeToLiveRequest({ ID: g.ID })))).toBe(ErrLeaseNotFound);
    expect(await rejection(s.leaseRevoke(newLeaseRevokeRequest({ ID: g.ID })))).toBe(ErrLeaseNotFound);
    await s.stop();
  });

  it("raises a TTL below the minimum to it and refuses a put with an unknown lease", async () => {
    const { s } = await member();
    await s.ready;
    const g = await s.leaseGrant(newLeaseGrantRequest({ TTL: 1, ID: 42n }));
    expect([g.ID, g.TTL]).toEqual([42n, 2]);
    expect(await rejection(s.put(newPutRequest({ key: b("k"), value: b("v"), lease: 43n })))).toBe(ErrLeaseNotFound);
    expect((await s.leaseLeases()).leases.map((l) => l.ID)).toEqual([42n]);
    await s.stop();
  });
});

describe("quota", () => {
  it("raises NOSPACE past --quota-backend-bytes, refuses writes until the alarm is disarmed", async () => {
    const { s } = await member({ quotaBackendBytes: 64 * 1024 });
    await s.ready;
    let err: unknown;
    for (let i = 0; i < 100 && err === undefined; i++) {
      err = await s.put(newPutRequest({ key: b(`k${i}`), value: new Uint8Array(1024) })).then(() => undefined, (e: unknown) => e);
    }
    expect(err).toBe(ErrGRPCNoSpace);
    await new Promise((r) => setTimeout(r, 10));
    const alarms = await s.alarm({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE });
    expect(alarms.alarms).toEqual([{ memberID: s.id, alarm: AlarmType.NOSPACE }]);
    expect(await s.health(false)).toEqual({ health: false, reason: "ALARM NOSPACE" });
    expect((await s.status()).errors).toEqual([`memberID:${s.id} alarm:NOSPACE `]);
    // Even a write that would fit is refused while the alarm is raised (etcd's capped applier)…
    await s.compact(newCompactionRequest({ revision: s.kv.rev(), physical: true }));
    await s.deleteRange(newDeleteRangeRequest({ key: b("k"), rangeEnd: b("l") }));
    await s.compact(newCompactionRequest({ revision: s.kv.rev(), physical: true }));
    await s.defragment();
    expect(await rejection(s.put(newPutRequest({ key: b("small"), value: b("v") })))).toBe(ErrNoSpace);
    // …and accepted after the disarm.
    const d = await s.alarm({ action: AlarmAction.DEACTIVATE, memberID: s.id, alarm: AlarmType.NOSPACE });
    expect(d.alarms).toEqual([{ memberID: s.id, alarm: AlarmType.NOSPACE }]);
    await s.put(newPutRequest({ key: b("small"), value: b("v") }));
    expect(await s.health(false)).toEqual({ health: true, reason: "" });
    await s.stop();
  });
});

describe("auto-compaction", () => {
  it("revision mode compacts current − retention every 5 minutes, while leader", async () => {
    const { s, clock } = await member({ autoCompactionMode: "revision", autoCompactionRetention: 10 });
    await s.ready;
    for (let i = 0; i < 30; i++) await s.put(newPutRequest({ key: b("k"), value: b(String(i)) }));
    expect(s.kv.firstRev()).toBe(-1);
    await advance(clock, revInterval, 10_000);
    expect(s.kv.firstRev()).toBe(31 - 10);
    await s.stop();
  });

  it("periodic mode compacts the revision of one retention period ago", async () => {
    const { s, clock } = await member({ autoCompactionMode: "periodic", autoCompactionRetention: 60 * 60 * 1000 });
    await s.ready;
    await s.put(newPutRequest({ key: b("k"), value: b("0") }));
    const early = s.kv.rev();
    await advance(clock, 30 * 60 * 1000, 60_000);
    for (let i = 0; i < 5; i++) await s.put(newPutRequest({ key: b("k"), value: b(String(i)) }));
    await advance(clock, 31 * 60 * 1000, 60_000);
    // An hour on, the revision sampled near the start (at most `early`) is compacted, not the newer ones.
    expect(s.kv.firstRev()).toBeGreaterThanOrEqual(1);
    expect(s.kv.firstRev()).toBeLessThanOrEqual(early);
    await s.stop();
  });
});

describe("maintenance", () => {
  it("hashes, hashKV, status, defragment, and a snapshot stream ending in its SHA-256", async () => {
    const { s } = await member();
    await s.ready;
    await s.put(newPutRequest({ key: b("a"), value: b("1") }));
    const h1 = await s.hash();
    await s.put(newPutRequest({ key: b("b"), value: b("2") }));
    const h2 = await s.hash();
    expect(h1.hash).not.toBe(h2.hash);
    const kvh = await s.hashKV({ revision: 0 });
    expect(kvh.header.revision).toBe(3);
    expect(kvh.hashRevision).toBe(3);
    const st = await s.status();
    expect([st.version, st.leader === s.id, st.raftAppliedIndex, st.raftIndex >= st.raftAppliedIndex]).toEqual(["3.5.0", true, st.raftIndex, true]);
    await s.defragment();
    const parts: { remainingBytes: number; blob: Uint8Array }[] = [];
    for await (const p of s.snapshot()) parts.push(p);
    expect(parts.at(-1)!.remainingBytes).toBe(0);
    const body = parts.slice(0, -1).map((p) => p.blob);
    const all = new Uint8Array(body.reduce((n, x) => n + x.length, 0));
    let off = 0;
    for (const x of body) (all.set(x, off), (off += x.length));
    const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
    expect(parts.at(-1)!.blob).toEqual(sum);
    await s.stop();
  });
});

describe("stop", () => {
  it("fails pending and later requests with ErrStopped", async () => {
    const { s } = await member({
      name: "a",
      peerURLs: ["http://127.0.0.1:1"],
      initialCluster: new Map([
        ["a", ["http://127.0.0.1:1"]],
        ["b", ["http://127.0.0.1:2"]],
      ]),
    });
    const pending = rejection(s.put(newPutRequest({ key: b("k"), value: b("v") })));
    await s.stop();
    expect(await pending).toBe(ErrStopped);
    expect(await rejection(s.put(newPutRequest({ key: b("k"), value: b("v") })))).toBe(ErrStopped);
  });
});

describe("cluster", () => {
  it("lists members with a header of ids and term but no revision, as etcd's ClusterServer", async () => {
    const { s } = await member();
    await s.ready;
    await s.put(newPutRequest({ key: b("a"), value: b("1") }));
    const r = await s.memberList();
    expect(r.header).toEqual({ clusterId: s.cluster.clusterID, memberId: s.id, raftTerm: 2, revision: 0 });
    expect(r.members.map((m) => [m.ID, m.name, m.peerURLs, m.clientURLs, m.isLearner])).toEqual([
      [s.id, "default", ["http://localhost:2380"], ["http://localhost:2379"], false],
    ]);
    await s.stop();
  });
});

describe("durability (WAL over a MemoryFS)", () => {
  const disk = (fs: MemoryFS): DiskLayout => ({ fs, walDir: "/d/member/wal", snapDir: "/d/member/snap", maxWals: 5, maxSnapshots: 5 });

  it("a member that crashes restarts from its WAL with every acknowledged write, ids kept", async () => {
    const fs = new MemoryFS();
    const clock = new ManualClock();
    const cfg = defaultServerConfig();
    const s = await startEtcdServer(cfg, { clock, seed: 1, disk: disk(fs) });
    await s.ready;
    const acked: number[] = [];
    for (let i = 0; i < 50; i++) acked.push((await s.put(newPutRequest({ key: b(`k${i}`), value: b(String(i)) }))).header.revision);
    const g = await s.leaseGrant(newLeaseGrantRequest({ TTL: 60, ID: 7n }));
    await s.put(newPutRequest({ key: b("leased"), value: b("x"), lease: g.ID }));
    // Crash: unsynced bytes are lost, the process state is gone (the in-memory backend too).
    fs.crash();
    const clock2 = new ManualClock();
    const r = await startEtcdServer(cfg, { clock: clock2, seed: 2, disk: disk(fs) });
    await settle();
    await r.ready;
    expect(r.id).toBe(s.id);
    expect(r.cluster.clusterID).toBe(s.cluster.clusterID);
    const got = await r.range(newRangeRequest({ key: b("k"), rangeEnd: b("l") }));
    expect(got.count).toBe(50);
    expect(Math.max(...got.kvs.map((kv) => kv.modRevision))).toBe(acked.at(-1));
    expect((await r.range(newRangeRequest({ key: b("leased") }))).kvs[0]!.lease).toBe(7n);
    expect(r.lessor.lookup(7n)).toBeDefined();
    const next = await r.put(newPutRequest({ key: b("after"), value: b("1") }));
    expect(next.header.revision).toBeGreaterThan(acked.at(-1)!);
    await r.stop();
  });

  it("takes raft snapshots every --snapshot-count entries and restarts from the newest, replaying only what the backend lacks", async () => {
    const fs = new MemoryFS();
    // The same MemoryBackend object across the "crash" stands for a durable backend: its commits
    // are durable at once, so its consistent index says what the restart must not apply again.
    const backend = new MemoryBackend();
    const cfg = { ...defaultServerConfig(), snapshotCount: 20 };
    const s = await startEtcdServer(cfg, { clock: new ManualClock(), seed: 1, disk: disk(fs), backend });
    await s.ready;
    for (let i = 0; i < 100; i++) await s.put(newPutRequest({ key: b(`k${i % 7}`), value: b(String(i)) }));
    await settle();
    const snaps = (await fs.list("/d/member/snap")).filter((n) => n.endsWith(".snap"));
    expect(snaps.length).toBeGreaterThanOrEqual(4);
    const before = await s.hashKV({ revision: 0 });
    const rev = s.kv.rev();
    fs.crash();
    const r = await startEtcdServer(cfg, { clock: new ManualClock(), seed: 2, disk: disk(fs), backend });
    await settle();
    await r.ready;
    expect(r.kv.rev()).toBe(rev + 0); // nothing applied twice: same revision
    expect((await r.hashKV({ revision: rev })).hash).toBe(before.hash);
    expect((await r.put(newPutRequest({ key: b("x"), value: b("1") }))).header.revision).toBe(rev + 1);
    await r.stop();
  });
});
