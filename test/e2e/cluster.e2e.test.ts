/**
 * 3- and 5-member clusters of real processes: writes through every member, every key read back
 * linearizably from every member at the same revision, the member list complete with names and
 * client URLs, and every member naming the same leader.
 */
import { describe, expect, it } from "vitest";
import { b64, clusterHooks, fastRaft, leader, memberList, put, range, startCluster, status, unb64 } from "./cluster-harness.js";

clusterHooks();

describe.each([3, 5])("a %i-member cluster", (n) => {
  it("serves writes on every member and the same data, members and leader from every member", async () => {
    const c = await startCluster(n, { flags: fastRaft });
    const written: { key: string; value: string; rev: number }[] = [];
    for (const [i, m] of c.members.entries()) {
      for (let j = 0; j < 5; j++) {
        const key = `k/${m.name}/${j}`;
        const value = `v-${i}-${j}`;
        written.push({ key, value, rev: await put(m, key, value) });
      }
    }
    const revs = written.map((w) => w.rev);
    expect(new Set(revs).size).toBe(revs.length);
    const lastRev = Math.max(...revs);

    for (const m of c.members) {
      for (const w of written) {
        const r = await range(m, w.key);
        expect(r.kvs, `${w.key} on ${m.name}`).toHaveLength(1);
        expect(unb64(r.kvs[0].value)).toBe(w.value);
        expect(Number(r.kvs[0].mod_revision)).toBe(w.rev);
        expect(Number(r.kvs[0].create_revision)).toBe(w.rev);
      }
      // A linearizable read sees every write acknowledged before it.
      const all = await range(m, "k/", { prefix: true });
      expect(Number(all.count)).toBe(written.length);
      expect(Number(all.header.revision)).toBe(lastRev);
      expect(all.kvs.map((kv: { key: string }) => kv.key).sort()).toEqual(written.map((w) => b64(w.key)).sort());
    }

    for (const m of c.members) {
      const list = await memberList(m);
      expect(list.map((x) => x.name).sort()).toEqual(c.members.map((x) => x.name).sort());
      for (const x of list) {
        const mine = c.byName(x.name!);
        expect(x.ID).toBe(mine.id);
        expect(x.clientURLs).toEqual([mine.clientURL]);
        expect(x.peerURLs).toEqual([mine.peerURL]);
        expect(x.isLearner ?? false).toBe(false);
      }
    }

    const l = await leader(c);
    const st = await Promise.all(c.members.map((m) => status(m)));
    for (const [i, s] of st.entries()) {
      expect(s.leader).toBe(l.id);
      expect(s.header.member_id).toBe(c.members[i]!.id);
    }
    await c.destroy();
  });
});
