/**
 * Network partitions through the peer proxies: one member (a follower, then the leader) is cut off
 * from the other two. The majority keeps serving writes and linearizable reads; on the cut-off member
 * a linearizable read and a write fail with etcd's errors while a serializable read still answers
 * (with what it had); after healing, it catches up to the same keys, revision and hash.
 */
import { describe, expect, it } from "vitest";
import {
  b64,
  call,
  clusterHooks,
  fastRaft,
  hashKV,
  leader,
  put,
  range,
  startCluster,
  status,
  waitApplied,
  type Cluster,
  type ClusterMember,
} from "./cluster-harness.js";

clusterHooks();

/**
 * What etcd answers on a member cut off from the quorum (gateway bodies, after its request timeout):
 * a linearizable read times out waiting for a read index (or, when the member notices a leader
 * change while it waits, says so), both Unavailable (503).
 */
const readErrors = ["etcdserver: request timed out", "etcdserver: leader changed"];
// A write either waits for a leader that never comes (the context's deadline) or is forwarded to a
// leader it cannot reach (etcd's request timeout, naming a lost connection when it can tell); which
// one depends on whether the member has noticed the partition yet.
const writeErrors = ["context deadline exceeded", "etcdserver: request timed out", "etcdserver: request timed out, possibly due to connection lost"];

async function checkCutOff(c: Cluster, cut: ClusterMember, majority: ClusterMember[]): Promise<void> {
  const before = await range(cut, "p/", { prefix: true, serializable: true });

  // The majority: a new leader (when the leader was cut off) and writes and linearizable reads.
  const l = await leader(c, 30_000, majority);
  expect(l).not.toBe(cut);
  const revs: number[] = [];
  for (const [i, m] of majority.entries()) revs.push(await put(m, `p/during/${cut.name}/${i}`, "x"));
  for (const m of majority) {
    const r = await range(m, "p/", { prefix: true });
    expect(Number(r.header.revision)).toBe(Math.max(...revs));
    expect(Number(r.count)).toBe(Number(before.count) + majority.length);
  }

  // The cut-off member: linearizable reads and writes time out; serializable reads answer.
  const [read, write] = await Promise.all([
    call(cut, "/v3/kv/range", { key: b64("p/") }, 60_000),
    call(cut, "/v3/kv/put", { key: b64(`p/minority/${cut.name}`), value: b64("x") }, 60_000),
  ]);
  expect(read.status, read.text).toBe(503);
  expect(readErrors, read.text).toContain(read.body.error);
  expect(read.body.code).toBe(14);
  expect(write.status, write.text).not.toBe(200);
  expect(writeErrors, write.text).toContain(write.body.error);
  const stale = await range(cut, "p/", { prefix: true, serializable: true });
  expect(stale.count).toBe(before.count);
  expect(Number(stale.header.revision)).toBeLessThan(Math.max(...revs));

  // Healed: it catches up with the majority.
  c.proxy!.heal();
  await leader(c, 30_000, [cut, ...majority]);
  const final = await put(majority[0]!, `p/after/${cut.name}`, "y");
  const st = await status(majority[0]!);
  await waitApplied(cut, Number(st.raftAppliedIndex ?? st.raftIndex));
  for (const m of majority) await waitApplied(m, Number(st.raftAppliedIndex ?? st.raftIndex));
  const want = await range(majority[0]!, "p/", { prefix: true, serializable: true });
  const got = await range(cut, "p/", { prefix: true, serializable: true });
  expect(Number(got.header.revision)).toBe(final);
  expect(got.kvs).toEqual(want.kvs);
  expect(got.kvs.map((kv: { key: string }) => kv.key)).not.toContain(b64(`p/minority/${cut.name}`));
  const hashes = await Promise.all([cut, ...majority].map((m) => hashKV(m, final)));
  expect(new Set(hashes.map((h) => h.hash)).size, JSON.stringify(hashes)).toBe(1);
}

describe("a member cut off by a partition", () => {
  it("a follower: the majority serves, the follower refuses consistent requests, then catches up", async () => {
    const c = await startCluster(3, { flags: fastRaft, proxy: true });
    for (let i = 0; i < 10; i++) await put(c.members[i % 3]!, `p/before/${i}`, String(i));
    const l = await leader(c);
    const f = c.members.find((m) => m !== l)!;
    c.proxy!.partition(f.name);
    await checkCutOff(
      c,
      f,
      c.members.filter((m) => m !== f),
    );
    await c.destroy();
  });

  it("the leader: the others elect a new one and serve, the old leader refuses consistent requests, then catches up", async () => {
    const c = await startCluster(3, { flags: fastRaft, proxy: true });
    for (let i = 0; i < 10; i++) await put(c.members[i % 3]!, `p/before/${i}`, String(i));
    const l = await leader(c);
    c.proxy!.partition(l.name);
    await checkCutOff(
      c,
      l,
      c.members.filter((m) => m !== l),
    );
    await c.destroy();
  });
});
