// EtcdServer clusters in one process: each member is a real EtcdServer whose peer app
// (src/api/etcdhttp/peer.ts) is served on its own loopback port and whose transport dials the others
// with the Node dialer, so raft messages, streams, pipelines and snapshots cross real sockets. Members
// keep their state in memory (no data dir); times are short so elections are quick.
import { afterEach, describe, expect, it } from "vitest";
import { newPeerApp } from "../../src/api/etcdhttp/peer.js";
import {
  newLeaseGrantRequest,
  newLeaseTimeToLiveRequest,
  newPutRequest,
  newRangeRequest,
  type PutResponse,
} from "../../src/api/etcdserverpb/rpc.js";
import { defaultServerConfig, type ServerConfig } from "../../src/etcdserver/config.js";
import { startEtcdServer, type EtcdServer } from "../../src/etcdserver/server.js";
import { systemClock } from "../../src/platform.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import { serveURL, upgradeWebSocket, type Listener } from "../../adapters/node/serve.js";
import { nodePeerDialer } from "../../adapters/node/peer-dialer.js";
import { freePort } from "../e2e/harness.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Node {
  name: string;
  url: string;
  s: EtcdServer;
  listener: Listener;
  stop(): Promise<void>;
}

const running: Node[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function startNode(
  name: string,
  url: string,
  initialCluster: Map<string, string[]>,
  over: Partial<ServerConfig> = {},
  backend?: MemoryBackend,
): Promise<Node> {
  const cfg: ServerConfig = {
    ...defaultServerConfig(name),
    dataDir: "",
    peerURLs: [url],
    clientURLs: [],
    initialCluster,
    tickMs: 20,
    electionMs: 200,
    ...over,
  };
  // CLUSTER_TEST_LOG=1 prints every member's log lines (debugging).
  const logger = process.env["CLUSTER_TEST_LOG"]
    ? {
        debug: () => {},
        info: (m: string) => console.log(`[${name}] ${m}`),
        warn: (m: string) => console.log(`[${name}] WARN ${m}`),
        error: (m: string) => console.log(`[${name}] ERROR ${m}`),
      }
    : undefined;
  const s = await startEtcdServer(cfg, { clock: systemClock, peer: { dialer: nodePeerDialer }, logger, backend });
  const listener = await serveURL(newPeerApp(s, { upgradeWebSocket }), url);
  let stopped = false;
  const n: Node = {
    name,
    url,
    s,
    listener,
    async stop() {
      if (stopped) return;
      stopped = true;
      await listener.close();
      await s.stop();
    },
  };
  running.push(n);
  return n;
}

async function startCluster(size: number, over: Partial<ServerConfig> = {}): Promise<Node[]> {
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const ic = new Map(ports.map((p, i) => [`m${i}`, [`http://127.0.0.1:${p}`]]));
  const nodes = await Promise.all(ports.map((p, i) => startNode(`m${i}`, `http://127.0.0.1:${p}`, ic, over)));
  await waitFor(() => nodes.every((n) => n.s.leader() !== 0n && n.s.leader() === nodes[0]!.s.leader()), "a leader");
  return nodes;
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Calls `f` again while it fails with a message containing `text`. */
async function retryWhile<T>(text: string, f: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (!(err as Error).message.includes(text)) throw err;
      await sleep(100);
    }
  }
}

const leaderOf = (nodes: Node[]): Node => nodes.find((n) => n.s.isLeader())!;

async function get(n: Node, key: string, serializable = false): Promise<string | undefined> {
  const r = await n.s.range(newRangeRequest({ key: b(key), serializable }));
  return r.kvs[0] === undefined ? undefined : str(r.kvs[0].value);
}

describe("a cluster of EtcdServers over real sockets", () => {
  it("writes on any member are read linearizably on every member", async () => {
    const nodes = await startCluster(3);
    const revs: number[] = [];
    for (const [i, n] of nodes.entries()) {
      const r: PutResponse = await n.s.put(newPutRequest({ key: b(`k${i}`), value: b(`v${i}`) }));
      revs.push(r.header.revision);
    }
    expect(new Set(revs).size).toBe(3);
    for (const n of nodes) {
      for (let i = 0; i < nodes.length; i++) expect(await get(n, `k${i}`)).toBe(`v${i}`);
    }
    const members = await nodes[1]!.s.memberList();
    expect(members.members.map((m) => m.name).sort()).toEqual(["m0", "m1", "m2"]);
  }, 60_000);

  it("forwards lease keepalives and time-to-live from a follower to the leader", async () => {
    const nodes = await startCluster(3);
    const follower = nodes.find((n) => !n.s.isLeader())!;
    const g = await follower.s.leaseGrant(newLeaseGrantRequest({ TTL: 30 }));
    const ttl = await follower.s.leaseRenew(g.ID);
    expect(ttl).toBe(30);
    const t = await follower.s.leaseTimeToLive(newLeaseTimeToLiveRequest({ ID: g.ID }));
    expect(t.grantedTTL).toBe(30);
    expect(t.header.memberId).toBe(follower.s.id);
  }, 60_000);

  it("transfers leadership to the member asked for", async () => {
    const nodes = await startCluster(3);
    const leader = leaderOf(nodes);
    const target = nodes.find((n) => n !== leader)!;
    await leader.s.moveLeader({ targetID: target.s.id });
    await waitFor(() => nodes.every((n) => n.s.leader() === target.s.id), "the new leader everywhere");
    await target.s.put(newPutRequest({ key: b("after"), value: b("move") }));
  }, 60_000);

  it("adds a learner that catches up from a snapshot, promotes it, and removes an old member", async () => {
    const nodes = await startCluster(3, { snapshotCount: 50, snapshotCatchUpEntries: 10 });
    for (let i = 0; i < 200; i++) await nodes[i % 3]!.s.put(newPutRequest({ key: b(`key${i}`), value: b(`value${i}`) }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // etcd refuses changes until every member has been connected for 5 s (strict reconfig check).
    const added = await retryWhile("unhealthy cluster", () => nodes[0]!.s.memberAdd({ peerURLs: [url], isLearner: true }));
    expect(added.member?.isLearner).toBe(true);
    const ic = new Map<string, string[]>(nodes.map((n) => [n.name, [n.url]]));
    ic.set("m3", [url]);
    const learner = await startNode("m3", url, ic, { initialClusterState: "existing", snapshotCount: 50, snapshotCatchUpEntries: 10 });
    expect(learner.s.id).toBe(added.member!.ID);
    await waitFor(async () => (await get(learner, "key199", true)) === "value199", "the learner to catch up");
    expect(learner.s.isLearner()).toBe(true);
    // The leader's log was compacted long before: the learner got the backend in a snapshot.
    expect(learner.s.metrics()).toMatch(/^etcd_network_snapshot_receive_success\{From="[0-9a-f]+"\} 1$/m);
    await retryWhile("in sync with leader", () => nodes[1]!.s.memberPromote({ ID: learner.s.id }));
    await waitFor(() => !learner.s.isLearner(), "the promotion to apply on the learner");
    const victim = nodes.find((n) => !n.s.isLeader())!;
    await leaderOf(nodes).s.memberRemove({ ID: victim.s.id });
    await victim.s.done;
    const rest = [...nodes.filter((n) => n !== victim), learner];
    await rest[0]!.s.put(newPutRequest({ key: b("final"), value: b("yes") }));
    for (const n of rest) expect(await get(n, "final")).toBe("yes");
    const list = await rest[0]!.s.memberList();
    expect(list.members.map((m) => m.ID).sort()).toEqual(rest.map((n) => n.s.id).sort());
  }, 90_000);

  it("a member installing a received snapshot answers reads only from the rebuilt store", async () => {
    const nodes = await startCluster(3, { snapshotCount: 50, snapshotCatchUpEntries: 10 });
    for (let i = 0; i < 200; i++) await nodes[i % 3]!.s.put(newPutRequest({ key: b(`key${i}`), value: b(`value${i}`) }));
    const url = `http://127.0.0.1:${await freePort()}`;
    const added = await retryWhile("unhealthy cluster", () => nodes[0]!.s.memberAdd({ peerURLs: [url], isLearner: true }));
    const ic = new Map<string, string[]>(nodes.map((n) => [n.name, [n.url]]));
    ic.set("m3", [url]);
    // The learner's backend swaps in the received data, then lingers (as LMDB does releasing the old
    // generation) until the test has read from the learner.
    let swapped = (): void => {};
    const whenSwapped = new Promise<void>((r) => (swapped = r));
    let finish = (): void => {};
    const finished = new Promise<void>((r) => (finish = r));
    const backend = new (class extends MemoryBackend {
      override async restore(stream: AsyncIterable<Uint8Array>): Promise<void> {
        await super.restore(stream);
        swapped();
        await finished;
      }
    })();
    const learner = await startNode("m3", url, ic, { initialClusterState: "existing", snapshotCount: 50, snapshotCatchUpEntries: 10 }, backend);
    expect(learner.s.id).toBe(added.member!.ID);
    await whenSwapped;
    // key0 is in any snapshot the leader sends (the last puts may not be applied there yet).
    const read = get(learner, "key0", true);
    await sleep(50);
    finish();
    expect(await read).toBe("value0");
  }, 60_000);
});
