// etcdutl's snapshot restore: a snapshot streamed by /v3/maintenance/snapshot becomes a new
// member's data: every key kept, a new cluster id and members from the flags, the member starts
// as a restart of its own bootstrap.
import { describe, expect, it } from "vitest";
import { newLeaseGrantRequest, newPutRequest, newRangeRequest } from "../../src/api/etcdserverpb/rpc.js";
import { defaultServerConfig } from "../../src/etcdserver/config.js";
import { startEtcdServer } from "../../src/etcdserver/server.js";
import type { DiskLayout } from "../../src/etcdserver/storage.js";
import { restoreSnapshot, RestoreError } from "../../src/etcdutl/snapshot-restore.js";
import { ManualClock } from "../../src/platform.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import { MemoryFS } from "../../src/wal/memory-fs.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
};
const disk = (fs: MemoryFS): DiskLayout => ({ fs, walDir: "/r/member/wal", snapDir: "/r/member/snap", maxWals: 5, maxSnapshots: 5 });

async function snapshotFile(): Promise<{ file: Uint8Array; rev: number; hash: number }> {
  const s = await startEtcdServer(defaultServerConfig(), { clock: new ManualClock(), seed: 1 });
  await s.ready;
  for (let i = 0; i < 30; i++) await s.put(newPutRequest({ key: b(`k${i}`), value: b(`v${i}`) }));
  const g = await s.leaseGrant(newLeaseGrantRequest({ ID: 9n, TTL: 100 }));
  await s.put(newPutRequest({ key: b("leased"), value: b("x"), lease: g.ID }));
  const parts: Uint8Array[] = [];
  for await (const p of s.snapshot()) parts.push(p.blob);
  const file = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) (file.set(p, off), (off += p.length));
  const h = await s.hashKV({ revision: 0 });
  const rev = s.kv.rev();
  await s.stop();
  return { file, rev, hash: h.hash };
}

const cfg = {
  name: "restored",
  initialCluster: new Map([["restored", ["http://127.0.0.1:9999"]]]),
  initialClusterToken: "new-token",
};

describe("snapshot restore", () => {
  it("keeps every key and lease, with a new member and cluster id, and the member serves", async () => {
    const { file, rev, hash } = await snapshotFile();
    const fs = new MemoryFS();
    const backend = new MemoryBackend();
    const cluster = await restoreSnapshot(file, backend, disk(fs), cfg);
    expect(cluster.clusterID).not.toBe(14841639068965178418n);
    const server = await startEtcdServer(
      { ...defaultServerConfig("restored"), peerURLs: ["http://127.0.0.1:9999"], initialCluster: cfg.initialCluster },
      { clock: new ManualClock(), seed: 2, disk: disk(fs), backend },
    );
    await settle();
    await server.ready;
    expect(server.id).toBe(cluster.memberIDs()[0]);
    expect(server.cluster.clusterID).toBe(cluster.clusterID);
    expect(server.kv.rev()).toBe(rev);
    expect((await server.hashKV({ revision: rev })).hash).toBe(hash);
    expect((await server.range(newRangeRequest({ key: b("k"), rangeEnd: b("l"), countOnly: true }))).count).toBe(30);
    expect(server.lessor.lookup(9n)).toBeDefined();
    expect((await server.memberList()).members.map((m) => m.name)).toEqual(["restored"]);
    expect((await server.put(newPutRequest({ key: b("new"), value: b("1") }))).header.revision).toBe(rev + 1);
    await server.stop();
  });

  it("refuses a snapshot whose SHA-256 does not match, and an existing WAL", async () => {
    const { file } = await snapshotFile();
    const bad = file.slice();
    bad[10] ^= 0xff;
    await expect(restoreSnapshot(bad, new MemoryBackend(), disk(new MemoryFS()), cfg)).rejects.toBeInstanceOf(RestoreError);
    const fs = new MemoryFS();
    await restoreSnapshot(file, new MemoryBackend(), disk(fs), cfg);
    await expect(restoreSnapshot(file, new MemoryBackend(), disk(fs), cfg)).rejects.toThrow(/wal dir .* exists/);
  });
});
