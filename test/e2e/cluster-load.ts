/**
 * A steady write load for fault tests: writers on every member put fresh keys and record each
 * acknowledged put with its revision; `verify` then checks every member holds every acknowledged
 * put at its revision exactly once, and that all members hold the same keys.
 */
import { expect } from "vitest";
import { b64, put, range, sleep, status, waitApplied, type Cluster, type ClusterMember } from "./cluster-harness.js";

export interface Ack {
  key: string;
  rev: number;
  /** The put was sent after the fault (see `Load.mark`). */
  afterFault: boolean;
}

export interface Load {
  acks: Ack[];
  failures: number;
  /** From now on, puts count as after the fault. */
  mark(): void;
  /** Resolves once `cond` holds (polled), or throws after `timeoutMs`. */
  until(what: string, cond: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops the writers and waits for them. */
  stop(): Promise<void>;
}

export function startLoad(members: readonly ClusterMember[], writersPerMember = 3): Load {
  let faulted = false;
  let running = true;
  const load: Load = {
    acks: [],
    failures: 0,
    mark: () => {
      faulted = true;
    },
    async until(what, cond, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    },
    async stop() {
      running = false;
      await Promise.all(writers);
    },
  };
  const writer = async (m: ClusterMember, w: number): Promise<void> => {
    for (let seq = 0; running; seq++) {
      const key = `w/${m.name}-${w}/${String(seq).padStart(6, "0")}`;
      const afterFault = faulted;
      try {
        load.acks.push({ key, rev: await put(m, key, String(seq), 15_000), afterFault });
      } catch {
        // A dead or cut-off member, or a write cut by an election: its outcome is unknown, so the
        // key is not reused (nothing acknowledged may appear twice) and the writer moves on.
        load.failures++;
        await sleep(50);
      }
    }
  };
  const writers = members.flatMap((m) => Array.from({ length: writersPerMember }, (_, w) => writer(m, w)));
  return load;
}

/** Every member caught up with the most advanced of `upToDate`, then holding every ack exactly once. */
export async function verify(c: Cluster, acks: readonly Ack[], upToDate: readonly ClusterMember[]): Promise<void> {
  const applied = Math.max(...(await Promise.all(upToDate.map(async (m) => Number((await status(m)).raftAppliedIndex ?? (await status(m)).raftIndex)))));
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
}
