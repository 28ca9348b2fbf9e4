/**
 * A paused leader (SIGSTOP, as a long GC pause or a frozen VM would): the others elect a new leader
 * and keep serving; when the old one resumes (SIGCONT) it steps down, answers nothing stale — a
 * linearizable read on it sees a write acknowledged by the new leader while it was frozen — and
 * catches up; every acknowledged write is on every member exactly once.
 */
import { expect, it } from "vitest";
import { clusterHooks, fastRaft, leader, put, range, startCluster, b64 } from "./cluster-harness.js";
import { startLoad, verify } from "./cluster-load.js";

clusterHooks();

it("a paused leader is replaced; resumed, it serves no stale read and catches up", async () => {
  const c = await startCluster(3, { flags: fastRaft });
  const load = startLoad(c.members, 2);
  await load.until("writes before the pause", () => load.acks.length >= 200);
  const old = await leader(c);
  old.proc!.kill("SIGSTOP");
  load.mark();
  const rest = c.members.filter((m) => m !== old);
  try {
    const next = await leader(c, 30_000, rest);
    expect(next).not.toBe(old);
    await load.until("writes during the pause", () => load.acks.filter((a) => a.afterFault).length >= 200);
    const rev = await put(next, "paused/marker", "written while the old leader was frozen");
    old.proc!.kill("SIGCONT");
    // A linearizable read on the resumed member sees the marker; while it learns the new term it
    // may answer with an error instead (then it is asked again), but never without the marker.
    let r: any;
    for (let i = 0; r === undefined; i++) {
      try {
        r = await range(old, "paused/marker");
      } catch (err) {
        if (i > 50) throw err;
      }
    }
    expect(r.kvs?.[0]?.key).toBe(b64("paused/marker"));
    expect(Number(r.kvs[0].mod_revision)).toBe(rev);
  } finally {
    old.proc!.kill("SIGCONT");
  }
  await load.until("writes after the resume", () => load.acks.filter((a) => a.afterFault).length >= 400);
  await load.stop();
  await verify(c, load.acks, rest);
  await c.destroy();
});
