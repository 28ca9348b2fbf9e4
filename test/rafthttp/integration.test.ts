/**
 * Transports on loopback: each member's raftHandler served by adapters/node/serve.ts, streams
 * dialed with nodePeerDialer, posts with the global fetch.
 */
import { afterEach, describe, expect, it } from "vitest";
import { serveURL, upgradeWebSocket, type Listener } from "../../adapters/node/serve.js";
import { nodePeerDialer } from "../../adapters/node/peer-dialer.js";
import { systemClock } from "../../src/platform.js";
import { MessageType, newMessage, newSnapshot, type Message } from "../../src/raft/index.js";
import { raftHandler } from "../../src/rafthttp/handler.js";
import { Transport } from "../../src/rafthttp/transport.js";
import type { FetchFn, PeerDialer } from "../../src/rafthttp/types.js";
import { RecordingLogger, RecordingRaft, until } from "./fakes.js";

interface Member {
  id: bigint;
  t: Transport;
  raft: RecordingRaft;
  logger: RecordingLogger;
  listener: Listener;
  url: string;
  posts: string[];
  snapshots: { m: Message; db: Uint8Array }[];
  removed: number;
  restart(): Promise<void>;
}

const members: Member[] = [];

afterEach(async () => {
  for (const m of members.splice(0)) {
    await m.t.stop();
    await m.listener.close();
  }
});

async function member(id: bigint, opts: { clusterID?: bigint; dialer?: PeerDialer } = {}): Promise<Member> {
  const raft = new RecordingRaft();
  const logger = new RecordingLogger();
  const urls: string[] = [];
  const posts: string[] = [];
  const fetchFn: FetchFn = (url, init) => {
    posts.push(new URL(url).pathname);
    return fetch(url, init);
  };
  const m = { id, raft, logger, posts, snapshots: [], removed: 0 } as unknown as Member;
  m.t = new Transport({
    id,
    clusterID: () => opts.clusterID ?? 0xc1n,
    urls,
    raft,
    receiveSnapshot: async (msg, db) => {
      const chunks: Uint8Array[] = [];
      for await (const c of db) chunks.push(c);
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      m.snapshots.push({ m: msg, db: all });
      await raft.process(msg);
    },
    dialer: opts.dialer ?? nodePeerDialer,
    fetch: fetchFn,
    clock: systemClock,
    logger,
    dialTimeoutMs: 2000,
    serverVersion: "3.5.0",
    minClusterVersion: "3.0.0",
    onRemoved: () => m.removed++,
  });
  const app = raftHandler(m.t, { upgradeWebSocket });
  m.listener = await serveURL(app, "http://127.0.0.1:0");
  m.url = m.listener.url;
  urls.push(m.url);
  m.restart = async () => {
    m.listener = await serveURL(app, m.url);
  };
  members.push(m);
  return m;
}

function connect(a: Member, b: Member): void {
  a.t.addPeer(b.id, [b.url]);
  b.t.addPeer(a.id, [a.url]);
}

const streamsUp = (a: Member, b: Member): boolean => {
  const p = a.t.get(b.id);
  return p !== undefined && p.writer.working() && p.msgAppV2Writer.working() && p.msgAppReader.connected() && p.msgAppV2Reader.connected();
};

const msg = (type: MessageType, from: bigint, to: bigint, index = 0): Message => newMessage({ type, from, to, term: 1, index });

describe("rafthttp over loopback", () => {
  it("messages flow both ways over streams; MsgApp takes the msgapp stream; no posts while streams are up", async () => {
    const a = await member(1n);
    const b = await member(2n);
    connect(a, b);
    await until(() => streamsUp(a, b) && streamsUp(b, a), 10_000, "streams");
    expect(a.t.get(2n)!.pick(msg(MessageType.MsgApp, 1n, 2n))).toBe("streamMsgAppV2");
    expect(a.t.get(2n)!.pick(msg(MessageType.MsgHeartbeat, 1n, 2n))).toBe("streamMsg");
    const toB = Array.from({ length: 100 }, (_, i) => msg(MessageType.MsgApp, 1n, 2n, i + 1));
    a.t.send([...toB, msg(MessageType.MsgHeartbeat, 1n, 2n)]);
    b.t.send([msg(MessageType.MsgAppResp, 2n, 1n, 100), msg(MessageType.MsgHeartbeatResp, 2n, 1n)]);
    await until(() => b.raft.processed.length === 101 && a.raft.processed.length === 2, 10_000, "delivery");
    // In order on the msgapp stream.
    expect(b.raft.processed.filter((m) => m.type === MessageType.MsgApp).map((m) => m.index)).toEqual(toB.map((m) => m.index));
    expect(a.raft.processed.map((m) => m.type).sort()).toEqual([MessageType.MsgAppResp, MessageType.MsgHeartbeatResp].sort());
    expect(a.posts.filter((p) => p === "/raft")).toEqual([]);
    expect(b.posts.filter((p) => p === "/raft")).toEqual([]);
    expect(a.t.activeSince(2n)).toBeGreaterThan(0);
    expect(a.t.metrics.sentBytes.get({ To: "2" })).toBeGreaterThan(0);
    expect(b.t.metrics.receivedBytes.get({ From: "1" })).toBeGreaterThan(0);
  });

  it("three members: every pair connects and messages reach each member from both others", async () => {
    const ms = [await member(1n), await member(2n), await member(3n)];
    for (const x of ms) for (const y of ms) if (x !== y) x.t.addPeer(y.id, [y.url]);
    await until(() => ms.every((x) => ms.every((y) => x === y || streamsUp(x, y))), 10_000, "all streams");
    for (const x of ms) x.t.send(ms.filter((y) => y !== x).map((y) => msg(MessageType.MsgHeartbeat, x.id, y.id)));
    await until(() => ms.every((x) => x.raft.processed.length === 2), 10_000, "delivery");
    for (const x of ms) expect(x.raft.processed.map((m) => m.from).sort()).toEqual(ms.filter((y) => y !== x).map((y) => y.id));
    for (const x of ms) expect(x.t.activePeers()).toBe(2);
  });

  it("uses the pipeline when the streams are down", async () => {
    // a never reaches b's stream endpoints, so b has no writer to a and must post.
    const a = await member(1n, { dialer: { dial: () => Promise.reject(new Error("connect ECONNREFUSED")) } });
    const b = await member(2n);
    connect(a, b);
    b.t.send([msg(MessageType.MsgVote, 2n, 1n), msg(MessageType.MsgApp, 2n, 1n, 7)]);
    await until(() => a.raft.processed.length === 2, 10_000, "pipeline delivery");
    expect(b.posts.filter((p) => p === "/raft")).toHaveLength(2);
    expect(b.raft.unreachable).toEqual([]);
  });

  it("a snapshot with a multi-MB db arrives intact and reports finish", async () => {
    const a = await member(1n);
    const b = await member(2n);
    connect(a, b);
    const size = 5 * 1024 * 1024 + 123;
    const db = new Uint8Array(size);
    for (let i = 0; i < size; i++) db[i] = (i * 31 + (i >> 11)) & 0xff;
    const m = newMessage({
      type: MessageType.MsgSnap,
      from: 1n,
      to: 2n,
      term: 3,
      snapshot: newSnapshot({ data: new TextEncoder().encode("v2 store"), metadata: { index: 42, term: 3 } }),
    });
    a.t.sendSnapshot(m, async function* () {
      for (let o = 0; o < size; o += 256 * 1024) yield db.subarray(o, Math.min(size, o + 256 * 1024));
    });
    await until(() => a.raft.snapshots.length === 1, 20_000, "snapshot report");
    expect(a.raft.snapshots).toEqual([[2n, "finish"]]);
    expect(b.snapshots).toHaveLength(1);
    expect(b.snapshots[0]!.m.snapshot?.metadata.index).toBe(42);
    expect(b.snapshots[0]!.db.length).toBe(size);
    expect(Buffer.compare(b.snapshots[0]!.db, db)).toBe(0);
    expect(a.logger.has("sending database snapshot") && a.logger.has("sent database snapshot")).toBe(true);
    expect(b.logger.has("received and saved database snapshot")).toBe(true);
  });

  it("a failed snapshot reports unreachable and failure", async () => {
    const a = await member(1n);
    const b = await member(2n);
    connect(a, b);
    b.t.cfg.receiveSnapshot = async () => {
      throw new Error("disk full");
    };
    a.t.sendSnapshot(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, snapshot: newSnapshot({ metadata: { index: 5, term: 1 } }) }), async function* () {
      yield new Uint8Array(1000);
    });
    await until(() => a.raft.snapshots.length === 1, 10_000, "snapshot report");
    expect(a.raft.snapshots).toEqual([[2n, "failure"]]);
    expect(a.raft.unreachable).toContain(2n);
  });

  it("a killed listener causes reportUnreachable, and the streams come back when it does", async () => {
    const a = await member(1n);
    const b = await member(2n);
    connect(a, b);
    await until(() => streamsUp(a, b) && streamsUp(b, a), 10_000, "streams");
    await b.listener.close();
    await until(() => a.raft.unreachable.includes(2n), 10_000, "reportUnreachable");
    await until(() => !a.t.get(2n)!.msgAppReader.connected(), 10_000, "reader down");
    expect(a.logger.has("lost TCP streaming connection with remote peer")).toBe(true);
    const dialsBefore = a.t.get(2n)!.msgAppReader.dials;
    await b.restart();
    await until(() => streamsUp(a, b) && streamsUp(b, a), 15_000, "streams back");
    expect(a.t.get(2n)!.msgAppReader.dials).toBeGreaterThan(dialsBefore);
    a.t.send([msg(MessageType.MsgApp, 1n, 2n, 9)]);
    await until(() => b.raft.processed.some((m) => m.index === 9), 10_000, "delivery after redial");
  });

  it("cluster ID mismatch: 412 and logged on both sides", async () => {
    const a = await member(1n);
    const c = await member(3n, { clusterID: 0xbadn });
    connect(a, c);
    c.t.send([msg(MessageType.MsgHeartbeat, 3n, 1n)]);
    await until(() => c.logger.has("request sent was ignored due to cluster ID mismatch"), 10_000, "sender log");
    expect(a.logger.has("request cluster ID mismatch")).toBe(true);
    expect(a.raft.processed).toEqual([]);
    const r = await fetch(`${a.url}/raft`, { method: "POST", headers: { "X-Etcd-Cluster-ID": "bad", "X-Server-Version": "3.5.0" }, body: new Uint8Array(0) });
    expect(r.status).toBe(412);
    expect(await r.text()).toBe("cluster ID mismatch\n");
    expect(r.headers.get("X-Etcd-Cluster-ID")).toBe("c1");
    // Streams are refused before the upgrade, so the dialer sees 412.
    await until(() => c.t.get(1n)!.msgAppReader.dials >= 2, 10_000, "stream redials");
    // (@hono/node-server answers a refused upgrade without its body, so the dialer sees the 412 only.)
    expect(c.logger.lines.some((l) => /failed to dial 1 on stream .* when precondition failed/.test(String(l.fields?.["error"])))).toBe(true);
    expect(c.t.get(1n)!.msgAppReader.connected()).toBe(false);
  });

  it("a removed sender gets 410 on its streams and 403 on its posts; onRemoved fires", async () => {
    const a = await member(1n);
    const b = await member(2n);
    a.raft.removed.add(2n);
    connect(a, b);
    await until(() => b.removed === 1, 10_000, "onRemoved by 410");
    expect(a.logger.has("rejected stream from remote peer because it was removed")).toBe(true);
    expect(b.t.get(1n)!.msgAppReader.connected()).toBe(false);

    // 403 on a post: a third member c that a treats as removed, with no streams at all.
    const c = await member(3n, { dialer: { dial: () => Promise.reject(new Error("connect ECONNREFUSED")) } });
    a.raft.removed.add(3n);
    c.t.addPeer(1n, [a.url]);
    c.t.send([msg(MessageType.MsgHeartbeat, 3n, 1n)]);
    await until(() => c.removed === 1, 10_000, "onRemoved by 403");
    expect(b.removed).toBe(1);
  });
});
