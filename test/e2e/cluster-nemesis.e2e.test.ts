/**
 * A Jepsen-style run: clients on every member of a 3-member cluster issue random puts, linearizable
 * gets, compare-and-sets and deletes on a few keys (each with a 2 s limit; a request without an answer
 * is recorded as indeterminate), two watchers follow every change, and a nemesis keeps faulting one
 * member at a time: SIGKILL then restart, SIGSTOP then SIGCONT, or a network partition through the
 * peer proxy then heal — a random member or the leader. At the end every fault is healed, the members
 * agree on one log, and the history is checked (test/lincheck): linearizability per key, the global
 * revision order, no acknowledged write lost or duplicated, no watcher gap or repeat.
 *
 * Seeded: the seed is printed; NEMESIS_SEED=<seed> repeats the same choices (the interleaving still
 * depends on timing). NEMESIS_SECONDS sets how long the faults go on (default 40); NEMESIS_DUMP=<file>
 * writes the history, the log and what the watchers saw there as JSON, to check again offline.
 *
 *   NEMESIS_SEED=42 npx vitest run test/e2e/cluster-nemesis.e2e.test.ts
 *   EDGECD_E2E_BIN=/usr/bin/etcd npx vitest run test/e2e/cluster-nemesis.e2e.test.ts   # the test itself, on etcd
 */
import { writeFileSync } from "node:fs";
import { expect, it } from "vitest";
import { History, check, describeEvent, type LogEvent, type Op, type Value, type WatchRecord } from "../lincheck/checker.js";
import {
  b64,
  call,
  clusterHooks,
  fastRaft,
  kill9,
  leader,
  prefixEnd,
  restart,
  sleep,
  startCluster,
  status,
  targetName,
  unb64,
  waitApplied,
  waitHealthy,
  type Cluster,
  type ClusterMember,
} from "./cluster-harness.js";
import { mulberry32 as rng } from "../prng.js";

clusterHooks();

const seed = process.env["NEMESIS_SEED"] !== undefined ? Number(process.env["NEMESIS_SEED"]) : Math.floor(Math.random() * 2 ** 31);
const seconds = Number(process.env["NEMESIS_SECONDS"] ?? 40);
const clients = 8;
const keys = ["n/k0", "n/k1", "n/k2", "n/k3", "n/k4"];
const prefix = "n/";
const requestTimeoutMs = 2_000;


interface KV {
  key: string;
  value?: string;
  mod_revision?: string;
}

/** One client: random operations on `m`, each recorded in `h`; a new process id after an indeterminate one (Jepsen's convention). */
async function client(h: History, m: ClusterMember, n: number, nextProcess: () => number, running: () => boolean): Promise<void> {
  const rand = rng(seed + 7919 * (n + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const seen = new Map<string, Value>();
  let process = nextProcess();
  for (let seq = 0; running(); seq++) {
    const key = pick(keys);
    const value = `c${n}-${seq}`;
    const r = rand();
    let op: Op;
    try {
      if (r < 0.4) {
        op = h.invoke(process, { f: "get", key });
        const res = await call(m, "/v3/kv/range", { key: b64(key) }, requestTimeoutMs);
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text}`);
        const kv = (res.body.kvs as KV[] | undefined)?.[0];
        const got = kv === undefined ? null : unb64(kv.value ?? "");
        h.complete(op, { rev: Number(res.body.header.revision), value: got, modRev: Number(kv?.mod_revision ?? 0) });
        seen.set(key, got);
      } else if (r < 0.65) {
        op = h.invoke(process, { f: "put", key, value });
        const res = await call(m, "/v3/kv/put", { key: b64(key), value: b64(value) }, requestTimeoutMs);
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text}`);
        h.complete(op, { rev: Number(res.body.header.revision) });
        seen.set(key, value);
      } else if (r < 0.9) {
        // Compare with what this client last saw of the key (a stale guess fails, which is checked too).
        const expected = seen.get(key) ?? null;
        op = h.invoke(process, { f: "cas", key, expected, value });
        const compare =
          expected === null
            ? { key: b64(key), result: "EQUAL", target: "CREATE", create_revision: "0" }
            : { key: b64(key), result: "EQUAL", target: "VALUE", value: b64(expected) };
        const res = await call(m, "/v3/kv/txn", { compare: [compare], success: [{ request_put: { key: b64(key), value: b64(value) } }] }, requestTimeoutMs);
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text}`);
        const succeeded = res.body.succeeded === true;
        h.complete(op, { rev: Number(res.body.header.revision), succeeded });
        if (succeeded) seen.set(key, value);
        else seen.delete(key);
      } else {
        op = h.invoke(process, { f: "delete", key });
        const res = await call(m, "/v3/kv/deleterange", { key: b64(key) }, requestTimeoutMs);
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text}`);
        h.complete(op, { rev: Number(res.body.header.revision), deleted: Number(res.body.deleted ?? 0) });
        seen.set(key, null);
      }
    } catch (err) {
      const e = err as Error;
      h.fail(op!, `${e.name === "TimeoutError" ? "timeout" : e.message.slice(0, 200)}`);
      process = nextProcess();
      await sleep(50 + rand() * 100);
    }
  }
}

/** Parses one line of a watch stream into log events (none for created/progress responses). */
function watchEvents(line: string): { events: LogEvent[]; canceled: boolean } {
  const r = (JSON.parse(line) as { result?: { canceled?: boolean; events?: { type?: string; kv: KV }[] } }).result;
  const events = (r?.events ?? []).map((e): LogEvent => {
    const rev = Number(e.kv.mod_revision);
    const key = unb64(e.kv.key);
    return e.type === "DELETE" ? { rev, key, type: "delete" } : { rev, key, type: "put", value: unb64(e.kv.value ?? "") };
  });
  return { events, canceled: r?.canceled === true };
}

/**
 * The lines of a watch on every key under `prefix` from `start`, as a POST with the whole request in
 * its body; ends when the member ends the stream, throws when it fails or `signal` aborts it.
 */
async function* watchLines(m: ClusterMember, start: number, signal: AbortSignal): AsyncGenerator<string> {
  const body = { create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix)), start_revision: String(start) } };
  const r = await fetch(`${m.clientURL}/v3/watch`, { method: "POST", body: JSON.stringify(body), signal });
  if (r.status !== 200) throw new Error(`watch on ${m.name}: HTTP ${r.status} ${await r.text()}`);
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(chunk, { stream: true });
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line !== "") yield line;
    }
  }
  if (buf.trim() !== "") yield buf;
}

/**
 * A watcher from revision 1 that, whenever its stream ends or fails (its member died, or cancelled the
 * watch), opens it again from the revision after the last it saw, on the next member, as a client does.
 */
function watcher(c: Cluster, name: string, first: number): { record: WatchRecord; reopened: () => number; stop(): Promise<void> } {
  const record: WatchRecord = { name, from: 1, events: [] };
  let open = true;
  let reopens = 0;
  const ac = new AbortController();
  const loop = (async () => {
    for (let i = first; open; i++) {
      const m = c.members[i % c.members.length]!;
      try {
        for await (const line of watchLines(m, (record.events.at(-1)?.rev ?? 0) + 1, ac.signal)) {
          const { events, canceled } = watchEvents(line);
          record.events.push(...events);
          if (canceled || !open) break;
        }
      } catch {
        // Refused or cut: the member is down; try the next one.
      }
      if (open) {
        reopens++;
        await sleep(100);
      }
    }
  })();
  return {
    record,
    reopened: () => reopens,
    async stop() {
      open = false;
      ac.abort();
      await loop;
    },
  };
}

/** The member's whole log under `prefix` (a watch from revision 1), up to revision `upTo`. */
async function readLog(m: ClusterMember, upTo: number): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  if (upTo <= 1) return events;
  const signal = AbortSignal.timeout(30_000);
  try {
    for await (const line of watchLines(m, 1, signal)) {
      events.push(...watchEvents(line).events);
      if ((events.at(-1)?.rev ?? 0) >= upTo) return events;
    }
  } catch (err) {
    throw new Error(`${m.name}'s log stopped at ${events.at(-1)?.rev ?? 0} < ${upTo}: ${(err as Error).message}`);
  }
  throw new Error(`${m.name}'s log ended at ${events.at(-1)?.rev ?? 0} < ${upTo}`);
}

it(`survives kills, pauses and partitions with a linearizable history, no lost write and no watch gap (${targetName})`, { timeout: (seconds + 240) * 1_000 }, async () => {
  console.log(`nemesis: seed ${seed} (NEMESIS_SEED=${seed} repeats it), ${seconds} s of faults, ${targetName}`);
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo));
  const c = await startCluster(3, { flags: fastRaft, proxy: true });
  // Operation times (ms) and fault times (s) count from the same start.
  const t0 = performance.now();
  const h = new History(() => performance.now() - t0);
  const at = (): string => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
  const faults: string[] = [];
  const note = (s: string): void => void faults.push(`${at()} ${s}`);

  let running = true;
  let processes = 0;
  const workers = Array.from({ length: clients }, (_, n) =>
    client(
      h,
      c.members[n % c.members.length]!,
      n,
      () => processes++,
      () => running,
    ),
  );
  const watchers = [watcher(c, "w0", 0), watcher(c, "w1", 1)];

  // The nemesis: one fault at a time, each healed before the next, the kinds in turn.
  const paused = new Set<ClusterMember>();
  const deadline = Date.now() + seconds * 1_000;
  const kinds = ["kill", "pause", "partition"] as const;
  for (let step = Math.floor(rand() * kinds.length); Date.now() < deadline; step++) {
    await sleep(between(500, 1_500));
    const kind = kinds[step % kinds.length]!;
    let target = pick(c.members);
    let who = "a random member";
    if (rand() < 0.5) {
      const l = await leader(c, 3_000).catch(() => undefined);
      if (l !== undefined) [target, who] = [l, "the leader"];
    }
    const hold = between(1_000, 3_000);
    if (kind === "kill") {
      note(`kill -9 ${target.name} (${who})`);
      await kill9(target);
      await sleep(hold);
      note(`restart ${target.name}`);
      await restart(target, { waitHealthy: false });
      await waitHealthy(target, 30_000).catch((err: Error) => note(`${target.name} not healthy after restart: ${err.message.split("\n")[0]}`));
    } else if (kind === "pause") {
      note(`SIGSTOP ${target.name} (${who})`);
      target.proc!.kill("SIGSTOP");
      paused.add(target);
      await sleep(hold);
      note(`SIGCONT ${target.name}`);
      target.proc!.kill("SIGCONT");
      paused.delete(target);
    } else {
      note(`partition ${target.name} (${who})`);
      c.proxy!.partition(target.name);
      await sleep(hold);
      note(`heal`);
      c.proxy!.heal();
    }
  }

  // Heal everything, stop the clients, and let the members agree.
  c.proxy!.heal();
  for (const m of paused) m.proc!.kill("SIGCONT");
  for (const m of c.members) if (!c.running().includes(m)) await restart(m);
  running = false;
  await Promise.all(workers);
  // A request the clients gave up on may still be in a member's queue: let it land before the final revision is read.
  await sleep(2_000);
  const lead = await leader(c, 60_000, c.members);
  const st = await status(lead);
  const finalRev = Number(st.header.revision);
  for (const m of c.members) await waitApplied(m, Number(st.raftAppliedIndex ?? st.raftIndex));

  // The log, as every member holds it; they must agree.
  const logs = await Promise.all(c.members.map((m) => readLog(m, finalRev)));
  const log = logs[0]!;
  const disagree: string[] = [];
  for (const [i, other] of logs.entries()) {
    const a = log.map(describeEvent).join("\n");
    const b = other.map(describeEvent).join("\n");
    if (a !== b) disagree.push(`${c.members[i]!.name}'s log differs from ${c.members[0]!.name}'s (${other.length} vs ${log.length} events)`);
  }

  // The watchers catch up with the log, then stop.
  for (const w of watchers) {
    for (const end = Date.now() + 30_000; (w.record.events.at(-1)?.rev ?? 0) < (log.at(-1)?.rev ?? 0) && Date.now() < end; ) await sleep(100);
    await w.stop();
  }

  const dump = process.env["NEMESIS_DUMP"];
  if (dump !== undefined) writeFileSync(dump, JSON.stringify({ seed, ops: h.ops, log, watches: watchers.map((w) => w.record) }));
  const report = check({ ops: h.ops, log, watches: watchers.map((w) => w.record) });
  const text = [
    `nemesis seed ${seed}: ${faults.length} fault steps, final revision ${finalRev}; watchers reopened ${watchers.map((w) => w.reopened()).join(", ")} times`,
    ...faults.map((f) => `  ${f}`),
    disagree.length === 0 ? "ok   members agree on the log" : `FAIL members agree on the log\n  ${disagree.join("\n  ")}`,
    report.text,
  ].join("\n");
  console.log(text);
  expect(disagree.length === 0 && report.ok, `the history fails its checks (NEMESIS_SEED=${seed}):\n${text}`).toBe(true);
  // The run did something: answered and indeterminate operations, and faults.
  expect(h.ops.filter((op) => op.complete !== undefined).length).toBeGreaterThan(100);
  await c.destroy();
});
