/**
 * Failover under load: writers on every member record each acknowledged put with its revision; the
 * leader is killed with SIGKILL; a new leader is elected among the others and writes resume; the old
 * leader restarts on its data dir and catches up; every acknowledged write is then on every member
 * at its acknowledged revision, exactly once.
 */
import { expect, it } from "vitest";
import { clusterHooks, fastRaft, kill9, leader, restart, startCluster } from "./cluster-harness.js";
import { startLoad, verify } from "./cluster-load.js";

clusterHooks();

it("a killed leader is replaced, no acknowledged write is lost or duplicated, and it catches up on restart", async () => {
  const c = await startCluster(3, { flags: fastRaft });
  const load = startLoad(c.members);
  await load.until("writes before the kill", () => load.acks.length >= 300);
  const old = await leader(c);
  await kill9(old);
  load.mark();
  const rest = c.members.filter((m) => m !== old);
  const next = await leader(c, 30_000, rest);
  expect(next).not.toBe(old);
  await load.until("writes after the kill", () => load.acks.filter((a) => a.afterFault).length >= 300);

  await restart(old);
  await load.until("writes after the restart", () => load.acks.filter((a) => a.afterFault).length >= 600);
  await load.stop();
  await verify(c, load.acks, rest);
  console.log(`failover: ${load.acks.length} acknowledged puts (${load.acks.filter((a) => a.afterFault).length} after the kill), ${load.failures} failed`);
  await c.destroy();
});
