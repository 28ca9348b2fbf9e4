/**
 * Multi-member clusters of real processes for end-to-end tests. `startCluster(n)` gives every member
 * free client and peer ports and a temp data dir, starts each with the full --initial-cluster and waits
 * until every member's /health answers 200 (which needs a leader). With `proxy: true` each member
 * advertises a port of a `PeerProxy` instead of its real peer port, so tests can partition members.
 *
 * The binary is edgecd (bin/edgecd.js over dist/) unless `EDGECD_E2E_BIN` names another one, e.g.
 * `EDGECD_E2E_BIN=/usr/bin/etcd` runs the same tests against etcd to check the tests themselves; flags
 * etcd 3.4 lacks are then dropped (`edgecdOnlyFlags`).
 *
 * `clusterHooks()` (call it at the top of a test file) prints the members' logs when a test fails and
 * kills every process and removes every temp dir after the file; every process is also killed when
 * the test process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeEach } from "vitest";
import { freePort, root, tracked } from "./harness.js";
import { PeerProxy } from "./peer-proxy.js";

/** The binary under test: edgecd unless EDGECD_E2E_BIN is set. */
export const binary = process.env["EDGECD_E2E_BIN"] ?? "";
export const isEtcd = binary !== "" && basename(binary).startsWith("etcd");
export const targetName = isEtcd ? "etcd" : "edgecd";

/** Flags (with a value) etcd 3.4 does not know; dropped when the binary is etcd. */
export const edgecdOnlyFlags = ["--experimental-snapshot-catchup-entries"];

/** Short raft timings so elections and failovers take well under a second. */
export const fastRaft = ["--heartbeat-interval", "50", "--election-timeout", "500"];

export interface ClusterMember {
  name: string;
  clientURL: string;
  clientPort: number;
  /** The port the member listens on for peer traffic. */
  peerPort: number;
  /** The peer URL it advertises (the proxy's port with `proxy: true`). */
  peerURL: string;
  /** Temp dir it owns; --data-dir is `join(dir, "data")`. */
  dir: string;
  dataDir: string;
  /** Member id as etcd prints it in JSON (decimal string); "" until learnt. */
  id: string;
  /** The full argument list of its last start (without the binary). */
  args: string[];
  proc?: ChildProcess;
  exited?: Promise<number | null>;
  /** stderr of every run so far (restarts are separated by a marker line). */
  log: string;
  /** stderr of the current run only. */
  runLog: string;
  /** Removed from the cluster (member/remove); excluded from `running()` and initial-cluster. */
  removed: boolean;
}

export interface Cluster {
  members: ClusterMember[];
  proxy?: PeerProxy;
  token: string;
  /** Per-member --initial-cluster-token overrides (by name). */
  tokens: Record<string, string>;
  /** Flags every member gets (after the generated ones). */
  flags: string[];
  /** Members whose process is running. */
  running(): ClusterMember[];
  byName(name: string): ClusterMember;
  /** `name=peerURL,…` over the members not removed. */
  initialCluster(): string;
  /** Every member's log, each under a heading (the last `max` characters of each). */
  logs(max?: number): string;
  /** Kills every process, closes the proxy and removes every temp dir. */
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /** Extra flags for every member. */
  flags?: string[];
  /** Route peer traffic through a PeerProxy (`cluster.proxy`). */
  proxy?: boolean;
  /** Member names (default m0, m1, …). */
  names?: string[];
  token?: string;
  /** A different --initial-cluster-token for some members (by name). */
  tokens?: Record<string, string>;
  /** Wait for every /health to answer 200 (default true). */
  waitHealthy?: boolean;
}

const clusters = new Set<Cluster>();

/** Registers the hooks every cluster test file wants: logs on failure, cleanup after the file. */
export function clusterHooks(): void {
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      for (const c of clusters) console.error(c.logs());
    });
  });
  afterAll(async () => {
    for (const c of [...clusters]) await c.destroy();
  });
}

function adaptFlags(flags: string[]): string[] {
  if (!isEtcd) return flags;
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (edgecdOnlyFlags.includes(flags[i]!)) i++;
    else if (!edgecdOnlyFlags.some((f) => flags[i]!.startsWith(`${f}=`))) out.push(flags[i]!);
  }
  // etcd 3.4 logs through capnslog unless told otherwise; edgecd logs etcd 3.5's zap JSON lines.
  return ["--logger", "zap", "--pre-vote=true", ...out];
}

function newMember(name: string, clientPort: number, peerPort: number, peerURL: string): ClusterMember {
  const dir = mkdtempSync(join(tmpdir(), "edgecd-cluster-"));
  return {
    name,
    clientURL: `http://127.0.0.1:${clientPort}`,
    clientPort,
    peerPort,
    peerURL,
    dir,
    dataDir: join(dir, "data"),
    id: "",
    args: [],
    log: "",
    runLog: "",
    removed: false,
  };
}

function makeCluster(token: string, flags: string[], proxy?: PeerProxy): Cluster {
  const c: Cluster = {
    members: [],
    proxy,
    token,
    tokens: {},
    flags,
    running: () => c.members.filter((m) => !m.removed && isRunning(m)),
    byName(name) {
      const m = c.members.find((x) => x.name === name);
      if (!m) throw new Error(`no member ${name}`);
      return m;
    },
    initialCluster: () =>
      c.members
        .filter((m) => !m.removed)
        .map((m) => `${m.name}=${m.peerURL}`)
        .join(","),
    logs(max = 30_000) {
      return c.members.map((m) => `===== ${m.name} (${m.clientURL}, id ${m.id}) =====\n${m.log.length > max ? `…${m.log.slice(-max)}` : m.log}`).join("\n");
    },
    async destroy() {
      clusters.delete(c);
      await Promise.all(c.members.map((m) => kill9(m)));
      await proxy?.close();
      for (const m of c.members) rmSync(m.dir, { recursive: true, force: true });
    },
  };
  clusters.add(c);
  return c;
}

/** Starts an `n`-member cluster; every member gets the full --initial-cluster. */
export async function startCluster(n: number, opts: ClusterOptions = {}): Promise<Cluster> {
  const names = opts.names ?? Array.from({ length: n }, (_, i) => `m${i}`);
  const token = opts.token ?? `e2e-${Math.random().toString(36).slice(2, 10)}`;
  const proxy = opts.proxy ? new PeerProxy() : undefined;
  const cluster = makeCluster(token, opts.flags ?? [], proxy);
  cluster.tokens = opts.tokens ?? {};
  try {
    for (const name of names) cluster.members.push(await allocate(cluster, name));
    const ic = cluster.initialCluster();
    for (const m of cluster.members) launch(m, memberArgs(cluster, m, ic, "new", []));
    if (opts.waitHealthy !== false) await Promise.all(cluster.members.map((m) => waitHealthy(m)));
    await learnIds(cluster);
  } catch (err) {
    const logs = cluster.logs();
    await cluster.destroy();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}

async function allocate(cluster: Cluster, name: string): Promise<ClusterMember> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const advertised = cluster.proxy ? await cluster.proxy.add(name, peerPort) : peerPort;
  return newMember(name, clientPort, peerPort, `http://127.0.0.1:${advertised}`);
}

function memberArgs(cluster: Cluster, m: ClusterMember, initialCluster: string, state: "new" | "existing", extra: string[]): string[] {
  return adaptFlags([
    ...["--name", m.name, "--data-dir", m.dataDir],
    ...["--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL],
    ...["--listen-peer-urls", `http://127.0.0.1:${m.peerPort}`, "--initial-advertise-peer-urls", m.peerURL],
    ...["--initial-cluster", initialCluster, "--initial-cluster-token", cluster.tokens[m.name] ?? cluster.token, "--initial-cluster-state", state],
    ...cluster.flags,
    ...extra,
  ]);
}

function isRunning(m: ClusterMember): boolean {
  return m.proc !== undefined && m.proc.exitCode === null && m.proc.signalCode === null;
}

/** Spawns `m` with `args` (the binary's arguments). */
function launch(m: ClusterMember, args: string[]): void {
  m.args = args;
  const [cmd, argv] = binary !== "" ? [binary, args] : [process.execPath, [join(root, "bin", "edgecd.js"), ...args]];
  const proc = spawn(cmd, argv, { cwd: root, env: { PATH: process.env["PATH"] ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  m.exited = tracked(proc);
  if (m.log !== "") m.log += `----- ${m.name} restarted -----\n`;
  m.runLog = "";
  proc.stderr!.on("data", (d: Buffer) => {
    const s = d.toString();
    m.log += s;
    m.runLog += s;
  });
  proc.stdout!.on("data", (d: Buffer) => {
    m.log += d.toString();
  });
  m.proc = proc;
}

/** Waits until `m`'s /health answers 200; throws (with its log) when it exits or the deadline passes. */
export async function waitHealthy(m: ClusterMember, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(m)) throw new Error(`${m.name} exited with ${m.proc?.exitCode}:\n${m.runLog}`);
    try {
      const r = await fetch(`${m.clientURL}/health`, { signal: AbortSignal.timeout(5_000) });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${m.name} did not become healthy in ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Sets every member's id from the first member list any running member answers (retried for 30 s: members not waited for may still be starting). */
async function learnIds(cluster: Cluster): Promise<void> {
  const list = await eventually(async () => {
    let last: unknown = new Error("no member is running");
    for (const m of cluster.running()) {
      try {
        // Short: a member that has not published itself through raft holds client requests (as
        // etcd does), and one that never will (another cluster token) would hold this one forever.
        return await memberList(m, 2_000);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  });
  for (const x of list) {
    const m = cluster.members.find((y) => y.name === x.name || (x.peerURLs ?? []).includes(y.peerURL));
    if (m) {
      m.id = x.ID;
      cluster.proxy?.setId(m.name, x.ID);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** POSTs JSON to a member's gateway: status and parsed body (the text when not JSON). */
export async function call(m: ClusterMember | string, path: string, body: unknown = {}, timeoutMs = 30_000): Promise<{ status: number; body: any; text: string }> {
  const base = typeof m === "string" ? m : m.clientURL;
  const r = await fetch(base + path, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: r.status, body: parsed, text };
}

/** Like `call`, but throws unless the status is 200. */
export async function ok(m: ClusterMember | string, path: string, body: unknown = {}, timeoutMs?: number): Promise<any> {
  const r = await call(m, path, body, timeoutMs);
  if (r.status !== 200) throw new Error(`${typeof m === "string" ? m : m.name} ${path}: HTTP ${r.status} ${r.text}`);
  return r.body;
}

export const b64 = (s: string): string => Buffer.from(s).toString("base64");
export const unb64 = (s: string): string => Buffer.from(s, "base64").toString();

export interface ListedMember {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export async function memberList(m: ClusterMember, timeoutMs?: number): Promise<ListedMember[]> {
  return ((await ok(m, "/v3/cluster/member/list", {}, timeoutMs)) as { members: ListedMember[] }).members;
}

export interface Status {
  header: { member_id: string; revision: string; raft_term: string };
  leader: string;
  raftIndex: string;
  raftAppliedIndex?: string;
  raftTerm: string;
  isLearner?: boolean;
}

export async function status(m: ClusterMember): Promise<Status> {
  return (await ok(m, "/v3/maintenance/status", {}, 10_000)) as Status;
}

/**
 * The member every running member (or `among`) names as leader, once they agree and it is one of
 * them; retried until `timeoutMs` passes.
 */
export async function leader(cluster: Cluster, timeoutMs = 30_000, among = cluster.running()): Promise<ClusterMember> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const st = await Promise.all(among.map((m) => status(m)));
      st.forEach((s, i) => (among[i]!.id ||= s.header.member_id));
      const l = st[0]!.leader;
      const m = among.find((x) => x.id === l);
      if (l !== "0" && st.every((s) => s.leader === l) && m) return m;
      last = st.map((s, i) => `${among[i]!.name}→${s.leader}`).join(" ");
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`no agreed leader among ${among.map((m) => m.name).join(",")}: ${last}`);
    await sleep(100);
  }
}

/** SIGKILLs `m` and waits for it to exit (no-op when it is not running). */
export async function kill9(m: ClusterMember): Promise<void> {
  if (!isRunning(m)) return;
  m.proc!.kill("SIGKILL");
  await m.exited;
}

/** Sends `signal` (SIGTERM) and waits for the exit code; SIGKILLs after 15 s. */
export async function stop(m: ClusterMember, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (!isRunning(m)) return m.proc?.exitCode ?? null;
  m.proc!.kill(signal);
  const t = setTimeout(() => m.proc!.kill("SIGKILL"), 15_000);
  const code = await m.exited!;
  clearTimeout(t);
  return code;
}

/** Starts a stopped member again on its data dir, ports and arguments; waits for /health by default. */
export async function restart(m: ClusterMember, opts: { waitHealthy?: boolean } = {}): Promise<void> {
  if (isRunning(m)) throw new Error(`${m.name} is running`);
  launch(m, m.args);
  if (opts.waitHealthy !== false) await waitHealthy(m);
}

export interface AddOptions {
  name: string;
  learner?: boolean;
  /** The member to send member/add to (default the first running one). */
  via?: ClusterMember;
}

/**
 * Adds a member through `/v3/cluster/member/add` (allocating its ports, and a proxy route with a
 * proxy) and returns it, not started yet (see `startJoining`), with its id set. Throws with the
 * gateway's error body when the add is refused.
 */
export async function addMember(cluster: Cluster, opts: AddOptions): Promise<ClusterMember> {
  const m = await allocate(cluster, opts.name);
  const via = opts.via ?? cluster.running()[0]!;
  const add = () => call(via, "/v3/cluster/member/add", { peerURLs: [m.peerURL], isLearner: opts.learner ?? false });
  let r = await add();
  // etcd refuses a reconfiguration until every member has been connected for 5 s (strict reconfig check).
  for (const deadline = Date.now() + 20_000; r.status !== 200 && r.body?.error === "etcdserver: unhealthy cluster" && Date.now() < deadline; ) {
    await sleep(250);
    r = await add();
  }
  if (r.status !== 200) {
    rmSync(m.dir, { recursive: true, force: true });
    throw new Error(`member/add: HTTP ${r.status} ${r.text}`);
  }
  m.id = (r.body as { member: { ID: string } }).member.ID;
  cluster.proxy?.setId(m.name, m.id);
  cluster.members.push(m);
  return m;
}

/** Starts a member added by `addMember` with --initial-cluster-state existing and the current initial-cluster. */
export async function startJoining(cluster: Cluster, m: ClusterMember, opts: { waitHealthy?: boolean; flags?: string[] } = {}): Promise<void> {
  launch(m, memberArgs(cluster, m, cluster.initialCluster(), "existing", opts.flags ?? []));
  if (opts.waitHealthy !== false) await waitHealthy(m);
}

/** Removes `m` through member/remove sent to `via`; marks it removed. */
export async function removeMember(cluster: Cluster, m: ClusterMember, via: ClusterMember): Promise<void> {
  await ok(via, "/v3/cluster/member/remove", { ID: m.id });
  m.removed = true;
}

/** Range (linearizable unless `serializable`) over [key, rangeEnd); the parsed response. */
export async function range(m: ClusterMember, key: string, opts: { rangeEnd?: string; serializable?: boolean; prefix?: boolean; countOnly?: boolean; limit?: number } = {}): Promise<any> {
  const body: Record<string, unknown> = { key: b64(key) };
  if (opts.prefix) body["range_end"] = b64(prefixEnd(key));
  else if (opts.rangeEnd !== undefined) body["range_end"] = b64(opts.rangeEnd);
  if (opts.serializable) body["serializable"] = true;
  if (opts.countOnly) body["count_only"] = true;
  if (opts.limit !== undefined) body["limit"] = opts.limit;
  return ok(m, "/v3/kv/range", body);
}

/** The end of the range of every key with `prefix` (its last byte + 1). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Puts `key`=`value`; resolves with the revision of the put. */
export async function put(m: ClusterMember, key: string, value: string, timeoutMs?: number): Promise<number> {
  const r = await ok(m, "/v3/kv/put", { key: b64(key), value: b64(value) }, timeoutMs);
  return Number((r as { header: { revision: string } }).header.revision);
}

/**
 * A hash of the member's KV store at `revision` (0: current) and the revision it covers: etcd 3.5's
 * HashKV (`/v3/maintenance/hashkv`), or etcd 3.4's whole-backend Hash (`/v3/maintenance/hash`, which
 * its gateway serves instead) when the binary is etcd 3.4.
 */
export async function hashKV(m: ClusterMember, revision = 0): Promise<{ hash: string; revision: number }> {
  if (isEtcd) {
    const r = (await ok(m, "/v3/maintenance/hash", {})) as { header: { revision: string }; hash: number | string };
    return { hash: String(r.hash), revision: Number(r.header.revision) };
  }
  const r = (await ok(m, "/v3/maintenance/hashkv", { revision: String(revision) })) as { header: { revision: string }; hash: number | string; compact_revision?: string };
  return { hash: String(r.hash), revision: revision || Number(r.header.revision) };
}

/** Waits until `m` has applied at least `index` (status raftAppliedIndex, else raftIndex). */
export async function waitApplied(m: ClusterMember, index: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const s = await status(m);
      const applied = Number(s.raftAppliedIndex ?? s.raftIndex);
      if (applied >= index) return;
      last = `applied ${applied} < ${index}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${m.name} did not catch up: ${last}`);
    await sleep(100);
  }
}

/** Retries `fn` until it resolves (returning its value) or `timeoutMs` passes (rethrowing its last error). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(everyMs);
  }
}
