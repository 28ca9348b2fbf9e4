/**
 * A whole cluster stopped and started again on its data dirs after 200k writes spread over every
 * member: the KV hash at one revision agrees on every member before and after, the keys are all
 * there, and old WAL segments and snapshots were purged (--max-wals 2, --max-snapshots 2).
 *
 * 200k writes, kept fast: 2k puts of 64 KB (over 128 MB of WAL per member, so segments are cut and
 * there is something to purge), then 198k puts of small values in txns of 20 (9,900 raft entries;
 * --snapshot-count 2000 makes several snapshots), 64 concurrent clients over the three members.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { b64, call, clusterHooks, fastRaft, hashKV, isEtcd, leader, ok, range, restart, sleep, startCluster, status, stop, waitApplied, waitHealthy, type ClusterMember } from "./cluster-harness.js";

clusterHooks();

const files = (m: ClusterMember, sub: "wal" | "snap", ext: string): string[] =>
  readdirSync(join(m.dataDir, "member", sub))
    .filter((n) => n.endsWith(ext))
    .sort();

async function drive(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
}

it("200k writes, SIGTERM every member, start them again: same hash, same keys, WAL and snapshots purged", async () => {
  const c = await startCluster(3, { flags: [...fastRaft, "--snapshot-count", "2000", "--max-wals", "2", "--max-snapshots", "2"] });
  const ms = c.members;
  const big = "B".repeat(64 * 1024);
  await drive(2_000, 16, async (i) => {
    await ok(ms[i % 3]!, "/v3/kv/put", { key: b64(`r/big/${i}`), value: b64(`${i}${big}`) });
  });
  const perTxn = 20;
  await drive(198_000 / perTxn, 64, async (t) => {
    const success = Array.from({ length: perTxn }, (_, j) => ({
      request_put: { key: b64(`r/small/${String(t * perTxn + j).padStart(6, "0")}`), value: b64(`${t}-${j}`) },
    }));
    await ok(ms[t % 3]!, "/v3/kv/txn", { success });
  });

  // Every member applied everything; the hash at the last revision agrees.
  const l = await leader(c);
  const st = await status(l);
  for (const m of ms) await waitApplied(m, Number(st.raftAppliedIndex ?? st.raftIndex));
  const rev = Number(st.header.revision);
  const before = await Promise.all(ms.map((m) => hashKV(m, rev)));
  expect(new Set(before.map((h) => h.hash)).size, JSON.stringify(before)).toBe(1);
  const count = Number((await range(l, "r/", { prefix: true, countOnly: true })).count);
  expect(count).toBe(200_000);

  // SIGTERM all three (a clean shutdown: edgecd exits 0; etcd re-raises the signal), then start
  // them again on the same data dirs.
  await Promise.all(ms.map((m) => stop(m)));
  const ends = ms.map((m) => m.proc!.exitCode ?? m.proc!.signalCode);
  expect(ends).toEqual(ms.map(() => (isEtcd ? "SIGTERM" : 0)));
  await Promise.all(ms.map((m) => restart(m, { waitHealthy: false })));
  await Promise.all(ms.map((m) => waitHealthy(m, 60_000)));
  await leader(c);

  const after = await Promise.all(ms.map((m) => hashKV(m, rev)));
  expect(after.map((h) => h.hash)).toEqual(before.map((h) => h.hash));
  for (const m of ms) {
    const r = await range(m, "r/", { prefix: true, countOnly: true });
    expect(Number(r.count), m.name).toBe(200_000);
    expect(Number(r.header.revision)).toBe(rev);
    const one = await call(m, "/v3/kv/range", { key: b64("r/small/123456"), serializable: true });
    expect(one.body.kvs?.[0]?.value).toBe(b64(`${Math.floor(123456 / perTxn)}-${123456 % perTxn}`));
  }

  // Purged: the WAL was cut into segments beyond --max-wals and the snapshots beyond --max-snapshots
  // (etcd purges at start and every 30 s: wait for a run after the restart).
  for (const deadline = Date.now() + 40_000; Date.now() < deadline; await sleep(250)) {
    if (ms.every((m) => files(m, "wal", ".wal").length <= 2 && files(m, "snap", ".snap").length <= 2)) break;
  }
  for (const m of ms) {
    const wal = files(m, "wal", ".wal");
    const snaps = files(m, "snap", ".snap");
    expect(wal.length, `${m.name} wal: ${wal.join(",")}`).toBeLessThanOrEqual(2);
    expect(wal[0], `${m.name}: the first segment was purged`).not.toBe("0000000000000000-0000000000000000.wal");
    expect(snaps.length, `${m.name} snap: ${snaps.join(",")}`).toBeGreaterThan(0);
    expect(snaps.length, `${m.name} snap: ${snaps.join(",")}`).toBeLessThanOrEqual(2);
  }
  await c.destroy();
}, 300_000);
