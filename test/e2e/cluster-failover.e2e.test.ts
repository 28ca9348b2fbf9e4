/**
 * Failover under load: writers on every member record each acknowledged put with its revision; the
 * leader is killed with SIGKILL; a new leader is elected among the others and writes resume; the old
 * leader restarts on its data dir and catches up; every acknowledged write is then on every member
 * at its acknowledged revision, exactly once.
 */
import { expect, it } from "vitest";
import { b64, clusterHooks, fastRaft, kill9, leader, put, range, restart, sleep, startCluster, status, waitApplied, type ClusterMember } from "./cluster-harness.js";

clusterHooks();

interface Ack {
  key: string;
  rev: number;
  /** The request was sent after the leader was killed. */
  afterKill: boolean;
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

it("a killed leader is replaced, no acknowledged write is lost or duplicated, and it catches up on restart", async () => {
  const c = await startCluster(3, { flags: fastRaft });
  const acks: Ack[] = [];
  let killed = false;
  let running = true;
  let failures = 0;
  const writer = async (m: ClusterMember, w: number): Promise<void> => {
    for (let seq = 0; running; seq++) {
      const key = `w/${m.name}-${w}/${String(seq).padStart(6, "0")}`;
      const afterKill = killed;
      try {
        acks.push({ key, rev: await put(m, key, String(seq), 15_000), afterKill });
      } catch {
        // A dead member or a write cut by the election: its outcome is unknown, so the key is not
        // reused (nothing acknowledged may appear twice) and the writer moves on.
        failures++;
        await sleep(50);
      }
    }
  };
  const writers = c.members.flatMap((m) => [0, 1, 2].map((w) => writer(m, w)));

  await until("writes before the kill", () => acks.length >= 300);
  const old = await leader(c);
  await kill9(old);
  killed = true;
  const rest = c.members.filter((m) => m !== old);
  const next = await leader(c, 30_000, rest);
  expect(next).not.toBe(old);
  await until("writes after the kill", () => acks.filter((a) => a.afterKill).length >= 300);

  await restart(old);
  await until("writes after the restart", () => acks.filter((a) => a.afterKill).length >= 600);
  running = false;
  await Promise.all(writers);

  const applied = Math.max(...(await Promise.all(rest.map(async (m) => Number((await status(m)).raftAppliedIndex ?? (await status(m)).raftIndex)))));
  for (const m of c.members) await waitApplied(m, applied);

  const revs = acks.map((a) => a.rev);
  expect(new Set(revs).size, "two acknowledged puts with one revision").toBe(revs.length);
  let reference: string | undefined;
  for (const m of c.members) {
    const r = await range(m, "w/", { prefix: true, serializable: true });
    const byKey = new Map<string, { mod_revision: string; create_revision: string; version: string }>(r.kvs.map((kv: { key: string }) => [kv.key, kv]));
    for (const a of acks) {
      const kv = byKey.get(b64(a.key));
      expect(kv, `${a.key} (rev ${a.rev}) missing on ${m.name}`).toBeDefined();
      expect(Number(kv!.mod_revision), `${a.key} on ${m.name}`).toBe(a.rev);
      expect(Number(kv!.create_revision), `${a.key} on ${m.name}`).toBe(a.rev);
      expect(kv!.version, `${a.key} written twice on ${m.name}`).toBe("1");
    }
    const allRevs = r.kvs.map((kv: { mod_revision: string }) => kv.mod_revision);
    expect(new Set(allRevs).size).toBe(allRevs.length);
    // Every member holds the same keys (acknowledged or not) at the same revisions.
    const text = JSON.stringify(r.kvs);
    if (reference === undefined) reference = text;
    else expect(text === reference, `${m.name} differs from ${c.members[0]!.name}`).toBe(true);
  }
  console.log(`failover: ${acks.length} acknowledged puts (${acks.filter((a) => a.afterKill).length} after the kill), ${failures} failed`);
  await c.destroy();
});
