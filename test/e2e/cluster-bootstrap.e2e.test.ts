/**
 * Bootstrapping with a wrong --initial-cluster-token: the member computes another cluster id, so
 * its peers refuse its requests and it refuses theirs, with etcd's "request cluster ID mismatch"
 * warning; it never joins (no leader, /health not 200, never published) while the other two form the cluster and serve.
 */
import { expect, it } from "vitest";
import { b64, call, clusterHooks, fastRaft, leader, memberList, put, range, sleep, startCluster } from "./cluster-harness.js";

clusterHooks();

const mismatch = /"msg":"request cluster ID mismatch"/;

it("a member with another cluster token is refused and the others keep working", async () => {
  const c = await startCluster(3, { flags: fastRaft, tokens: { m2: "another-cluster" }, waitHealthy: false });
  const [a, b, odd] = c.members as [(typeof c.members)[0], (typeof c.members)[0], (typeof c.members)[0]];

  // The two members with the same token elect a leader among themselves and serve.
  const l = await leader(c, 30_000, [a, b]);
  expect([a, b]).toContain(l);
  const rev = await put(a, "boot/a", "1");
  expect(await put(b, "boot/b", "2")).toBe(rev + 1);
  const r = await range(b, "boot/", { prefix: true });
  expect(Number(r.count)).toBe(2);
  expect(r.header.cluster_id).toBe((await range(a, "boot/a")).header.cluster_id);

  // The odd member refuses the others' peer requests (and they refuse its) with etcd's warning.
  for (const deadline = Date.now() + 30_000; !mismatch.test(odd.log) && Date.now() < deadline; ) await sleep(100);
  expect(odd.log).toMatch(mismatch);
  const line = odd.log.split("\n").find((l) => mismatch.test(l))!;
  const fields = JSON.parse(line) as Record<string, string>;
  expect(fields["level"]).toBe("warn");
  expect(fields["local-member-cluster-id"]).not.toBe(fields["remote-peer-cluster-id"]);
  expect(a.log + b.log).toMatch(/cluster ID mismatch/);

  // It never gets a leader: /health does not answer 200.
  const health = await fetch(`${odd.clientURL}/health`, { signal: AbortSignal.timeout(8_000) }).then(
    (res) => res.status,
    () => "no answer",
  );
  expect(health).not.toBe(200);

  // The cluster lists it (it is in the initial configuration) without client URLs: it never
  // published itself through the cluster's raft log. The cluster still serves.
  const listed = (await memberList(a)).find((m) => m.name === odd.name);
  expect(listed).toBeDefined();
  expect(listed!.clientURLs ?? []).toEqual([]);
  expect(((await memberList(a)).find((m) => m.name === b.name)!).clientURLs).toEqual([b.clientURL]);
  const put2 = await call(a, "/v3/kv/put", { key: b64("boot/c"), value: b64("3") });
  expect(put2.status).toBe(200);
  await c.destroy();
});
