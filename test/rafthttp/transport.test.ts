/**
 * The transport's choices with a fake dialer, a fake fetch and a ManualClock: channel picking,
 * full queues, the URL picker, stream redial backoff, read timeouts, heartbeats, removal.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/platform.js";
import { decodeMessage, encodeMessage, MessageType, newMessage, newSnapshot, type Message } from "../../src/raft/index.js";
import { Registry } from "../../src/pkg/metrics.js";
import { TransportMetrics } from "../../src/rafthttp/metrics.js";
import { Transport } from "../../src/rafthttp/transport.js";
import { URLPicker } from "../../src/rafthttp/urlpick.js";
import type { FetchFn } from "../../src/rafthttp/types.js";
import { FakeConn, FakeDialer, flush, RecordingLogger, RecordingRaft, refused } from "./fakes.js";

interface Posted {
  url: string;
  init: RequestInit;
  resolve: (r: Response) => void;
  reject: (e: unknown) => void;
}

function setup(opts: { fetch?: FetchFn } = {}) {
  const clock = new ManualClock();
  const raft = new RecordingRaft();
  const dialer = new FakeDialer();
  const logger = new RecordingLogger();
  const posted: Posted[] = [];
  const fetch: FetchFn =
    opts.fetch ??
    ((url, init) =>
      new Promise<Response>((resolve, reject) => {
        posted.push({ url, init, resolve, reject });
        init.signal?.addEventListener("abort", () => reject(init.signal!.reason));
      }));
  let removed = 0;
  const t = new Transport({
    id: 1n,
    clusterID: () => 0xc1n,
    urls: ["http://a:2380"],
    raft,
    receiveSnapshot: async () => {},
    dialer,
    fetch,
    clock,
    logger,
    dialTimeoutMs: 2000,
    serverVersion: "3.5.0",
    minClusterVersion: "3.0.0",
    onRemoved: () => removed++,
  });
  return { t, clock, raft, dialer, logger, posted, removedCount: () => removed };
}

const app = (to = 2n): Message => newMessage({ type: MessageType.MsgApp, from: 1n, to, term: 1, index: 5 });
const hb = (to = 2n): Message => newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to, term: 1 });
const snap = (to = 2n): Message =>
  newMessage({ type: MessageType.MsgSnap, from: 1n, to, term: 1, snapshot: newSnapshot({ metadata: { index: 10, term: 1 } }) });

describe("URLPicker", () => {
  it("keeps the picked URL until it is reported unreachable, then moves round-robin", () => {
    const p = new URLPicker(["http://a", "http://b", "http://c"]);
    expect(p.pick()).toBe("http://a");
    p.unreachable("http://b"); // not the picked one: no change
    expect(p.pick()).toBe("http://a");
    p.unreachable("http://a");
    expect(p.pick()).toBe("http://b");
    p.unreachable("http://b");
    p.unreachable("http://c");
    expect(p.pick()).toBe("http://a");
    p.unreachable("http://a");
    p.update(["http://x", "http://y"]);
    expect(p.pick()).toBe("http://x");
  });
});

describe("Peer.pick (etcd's peer.pick)", () => {
  it("uses the pipeline without streams, the msgapp stream for MsgApp, the message stream for the rest, the pipeline for MsgSnap", async () => {
    const { t, posted } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    const p = t.get(2n)!;
    expect(p.pick(app())).toBe("pipeline");
    expect(p.pick(hb())).toBe("pipeline");

    const msgConn = new FakeConn();
    t.attachStream(2n, "message", msgConn);
    expect(p.pick(app())).toBe("streamMsg");
    expect(p.pick(hb())).toBe("streamMsg");

    const appConn = new FakeConn();
    t.attachStream(2n, "msgapp", appConn);
    expect(p.pick(app())).toBe("streamMsgAppV2");
    expect(p.pick(hb())).toBe("streamMsg");
    expect(p.pick(snap())).toBe("pipeline");

    t.send([app(), hb()]);
    expect(appConn.sent.map((f) => decodeMessage(f).type)).toEqual([MessageType.MsgApp]);
    expect(msgConn.sent.map((f) => decodeMessage(f).type)).toEqual([MessageType.MsgHeartbeat]);
    await flush();
    expect(posted).toHaveLength(0);
    await t.stop();
  });

  it("sends one message per POST /raft with etcd's headers and content type", async () => {
    const { t, posted, raft } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    t.send([app()]);
    await flush();
    expect(posted).toHaveLength(1);
    const req = posted[0]!;
    expect(req.url).toBe("http://b:2380/raft");
    expect(req.init.method).toBe("POST");
    const h = req.init.headers as Record<string, string>;
    expect(h["Content-Type"]).toBe("application/protobuf");
    expect(h["X-Server-From"]).toBe("1");
    expect(h["X-Etcd-Cluster-ID"]).toBe("c1");
    expect(h["X-Server-Version"]).toBe("3.5.0");
    expect(h["X-Min-Cluster-Version"]).toBe("3.0.0");
    expect(h["X-PeerURLs"]).toBe("http://a:2380");
    expect(decodeMessage(req.init.body as Uint8Array)).toEqual(app());
    req.resolve(new Response(null, { status: 204 }));
    await flush();
    expect(t.activeSince(2n)).toBeGreaterThan(0);
    expect(raft.unreachable).toEqual([]);
    await t.stop();
  });

  it("runs at most 4 posts at once, queues 64, and drops beyond with reportUnreachable (+ snapshot failure for MsgSnap)", async () => {
    const { t, posted, raft, logger } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    for (let i = 0; i < 4 + 64; i++) t.send([hb()]);
    await flush();
    expect(posted).toHaveLength(4);
    expect(raft.unreachable).toEqual([]);
    t.send([hb()]);
    expect(raft.unreachable).toEqual([2n]);
    t.send([snap()]);
    expect(raft.snapshots).toEqual([[2n, "failure"]]);
    expect(logger.has("dropped internal Raft message since sending buffer is full (overloaded network)")).toBe(true);
    expect(t.metrics.sentFailures.get({ To: "2" })).toBe(2);
    // One answer frees one worker, which takes the next queued message.
    posted[0]!.resolve(new Response(null, { status: 204 }));
    await flush();
    expect(posted).toHaveLength(5);
    await t.stop();
  });

  it("a failed post reports unreachable, moves to the next URL, and reports MsgSnap's outcome", async () => {
    const { t, posted, raft } = setup();
    t.addPeer(2n, ["http://b1:2380", "http://b2:2380"]);
    t.send([snap()]);
    await flush();
    posted[0]!.resolve(new Response("boom", { status: 500 }));
    await flush();
    expect(raft.unreachable).toEqual([2n]);
    expect(raft.snapshots).toEqual([[2n, "failure"]]);
    t.send([snap()]);
    await flush();
    expect(posted[1]!.url).toBe("http://b2:2380/raft");
    posted[1]!.resolve(new Response(null, { status: 204 }));
    await flush();
    expect(raft.snapshots).toEqual([
      [2n, "failure"],
      [2n, "finish"],
    ]);
    await t.stop();
  });

  it("403 on a post means this member was removed: onRemoved fires once", async () => {
    const { t, posted, removedCount } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    t.send([hb(), hb()]);
    await flush();
    for (const p of posted) p.resolve(new Response('{"message":"cannot process message from removed member"}', { status: 403 }));
    await flush();
    expect(removedCount()).toBe(1);
    await t.stop();
  });

  it("412 cluster ID mismatch on a post is logged as etcd does", async () => {
    const { t, posted, logger } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    t.send([hb()]);
    await flush();
    posted[0]!.resolve(new Response("cluster ID mismatch\n", { status: 412, headers: { "X-Etcd-Cluster-ID": "99" } }));
    await flush();
    const line = logger.lines.find((l) => l.msg === "request sent was ignored due to cluster ID mismatch");
    expect(line?.level).toBe("error");
    expect(line?.fields?.["remote-peer-cluster-id"]).toBe("99");
    await t.stop();
  });

  it("stop aborts the posts in flight", async () => {
    const { t, posted } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    t.send([hb()]);
    await flush();
    expect(posted[0]!.init.signal!.aborted).toBe(false);
    await t.stop();
    expect(posted[0]!.init.signal!.aborted).toBe(true);
  });
});

describe("stream readers", () => {
  it("dial both streams with etcd's headers", async () => {
    const { t, dialer } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    await flush();
    expect(dialer.dials.map((d) => d.url).sort()).toEqual([
      "http://b:2380/raft/stream/message/1",
      "http://b:2380/raft/stream/msgapp/1",
    ]);
    const h = dialer.dials[0]!.headers;
    expect(h["X-Raft-To"]).toBe("2");
    expect(h["X-Server-From"]).toBe("1");
    expect(h["X-Etcd-Cluster-ID"]).toBe("c1");
    expect(h["X-PeerURLs"]).toBe("http://a:2380");
    await t.stop();
  });

  it("redial at most every 100 ms, backing off to 1 s while dials fail, across the peer's URLs", async () => {
    const { t, dialer, clock } = setup();
    t.addPeer(2n, ["http://b1:2380", "http://b2:2380"]);
    const reader = t.get(2n)!.msgAppReader;
    await flush();
    expect(reader.dials).toBe(1);
    const times: number[] = [];
    let last = reader.dials;
    for (let ms = 0; ms < 4000; ms += 10) {
      clock.advance(10);
      // A fake dial settles within a few microtask turns.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      if (reader.dials !== last) {
        times.push(clock.now());
        last = reader.dials;
      }
    }
    const gaps = times.map((x, i) => x - (i === 0 ? 0 : times[i - 1]!));
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(new Set(dialer.dials.map((d) => new URL(d.url).host))).toEqual(new Set(["b1:2380", "b2:2380"]));
    await t.stop();
    const after = dialer.dials.length;
    clock.advance(5000);
    await flush();
    expect(dialer.dials.length).toBe(after);
  });

  it("410 on a dial means this member was removed; 404 and 412 are logged", async () => {
    const { t, dialer, removedCount, logger, clock } = setup();
    dialer.next = () => refused(412, "cluster ID mismatch\n");
    t.addPeer(2n, ["http://b:2380"]);
    await flush();
    expect(logger.has("request sent was ignored by remote peer due to cluster ID mismatch")).toBe(true);
    expect(removedCount()).toBe(0);
    dialer.next = () => refused(410, "removed member\n");
    clock.advance(1000);
    await flush();
    expect(removedCount()).toBe(1);
    clock.advance(1000);
    await flush();
    expect(removedCount()).toBe(1);
    await t.stop();
  });

  it("deliver messages to raft, drop link heartbeats, and keep proposals from blocking other messages", async () => {
    const { t, dialer, raft } = setup();
    dialer.next = () => new FakeConn();
    let release!: () => void;
    raft.hold = (m) => (m.type === MessageType.MsgProp ? new Promise<void>((r) => (release = r)) : undefined);
    t.addPeer(2n, ["http://b:2380"]);
    await flush();
    expect(t.activeSince(2n)).toBeGreaterThan(0);
    const conn = dialer.conns[0]!;
    conn.feed(encodeMessage(newMessage({ type: MessageType.MsgHeartbeat })));
    conn.feed(encodeMessage(newMessage({ type: MessageType.MsgProp, from: 2n, to: 1n })));
    conn.feed(encodeMessage(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, index: 1 })));
    conn.feed(encodeMessage(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, index: 2 })));
    await flush();
    expect(raft.processed.map((m) => [m.type, m.index])).toEqual([
      [MessageType.MsgApp, 1],
      [MessageType.MsgApp, 2],
    ]);
    release();
    await flush();
    expect(raft.processed.map((m) => m.type)).toContain(MessageType.MsgProp);
    expect(t.metrics.receivedBytes.get({ From: "2" })).toBeGreaterThan(0);
    await t.stop();
  });

  it("treat ConnReadTimeout of silence as a dead stream: close, reportUnreachable, redial", async () => {
    const { t, dialer, raft, clock } = setup();
    dialer.next = () => new FakeConn();
    t.addPeer(2n, ["http://b:2380"]);
    await flush();
    expect(dialer.dials).toHaveLength(2);
    const conns = [...dialer.conns];
    clock.advance(4000);
    conns.forEach((c) => c.feed(encodeMessage(newMessage({ type: MessageType.MsgHeartbeat }))));
    clock.advance(4000); // 4 s since the last frame: still alive
    expect(conns.every((c) => !c.closed)).toBe(true);
    expect(raft.unreachable).toEqual([]);
    clock.advance(1000);
    expect(conns.every((c) => c.closed)).toBe(true);
    expect(raft.unreachable).toEqual([2n, 2n]);
    clock.advance(100);
    await flush();
    expect(dialer.dials).toHaveLength(4);
    await t.stop();
  });
});

describe("stream writers", () => {
  it("send a link heartbeat every ConnReadTimeout/3 and report a closed stream", async () => {
    const { t, raft, clock } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    const conn = new FakeConn();
    t.attachStream(2n, "message", conn);
    clock.advance(5000);
    expect(conn.sent).toHaveLength(3);
    const m = decodeMessage(conn.sent[0]!);
    expect([m.type, m.from, m.to]).toEqual([MessageType.MsgHeartbeat, 0n, 0n]);
    conn.remoteClose();
    expect(raft.unreachable).toEqual([2n]);
    expect(t.get(2n)!.pick(hb())).toBe("pipeline");
    clock.advance(5000);
    expect(conn.sent).toHaveLength(3);
    await t.stop();
  });

  it("a new attach closes the previous socket; a full socket drops the message", async () => {
    const { t, raft } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    const a = new FakeConn();
    const b = new FakeConn();
    t.attachStream(2n, "message", a);
    t.attachStream(2n, "message", b);
    expect(a.closed).toBe(true);
    expect(raft.unreachable).toEqual([]);
    b.buffered = 1 << 30;
    t.send([hb()]);
    expect(b.sent).toHaveLength(0);
    expect(raft.unreachable).toEqual([2n]);
    await t.stop();
    expect(b.closed).toBe(true);
  });

  it("attachStream from an unknown member closes the socket", async () => {
    const { t } = setup();
    const c = new FakeConn();
    t.attachStream(9n, "message", c);
    expect(c.closed).toBe(true);
    await t.stop();
  });
});

describe("Transport", () => {
  it("remotes are pipeline-only; unknown targets are ignored; removePeer stops the peer", async () => {
    const { t, posted, dialer } = setup();
    t.addRemote(3n, ["http://c:2380"]);
    t.send([hb(3n), hb(4n)]);
    await flush();
    expect(posted.map((p) => p.url)).toEqual(["http://c:2380/raft"]);
    expect(dialer.dials).toHaveLength(0);
    t.addPeer(2n, ["http://b:2380"]);
    t.removePeer(2n);
    expect(t.get(2n)).toBeUndefined();
    expect(() => t.removePeer(2n)).toThrow();
    await t.stop();
  });

  it("sendSnapshot to an unknown peer reports failure", async () => {
    const { t, raft } = setup();
    t.sendSnapshot(snap(7n), async function* () {});
    expect(raft.snapshots).toEqual([[7n, "failure"]]);
    await t.stop();
  });

  it("a snapshot whose receiver never answers fails snapResponseReadTimeout after the body was sent", async () => {
    let bodyRead = false;
    const { t, raft, clock } = setup({
      fetch: async (_url, init) => {
        const r = (init.body as ReadableStream<Uint8Array>).getReader();
        while (!(await r.read()).done);
        bodyRead = true;
        return new Promise<Response>((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason)));
      },
    });
    t.addPeer(2n, ["http://b:2380"]);
    t.sendSnapshot(snap(), async function* () {
      yield new Uint8Array(10);
    });
    await flush();
    expect(bodyRead).toBe(true);
    clock.advance(4999);
    await flush();
    expect(raft.snapshots).toEqual([]);
    clock.advance(1);
    await flush();
    expect(raft.snapshots).toEqual([[2n, "failure"]]);
    expect(raft.unreachable).toEqual([2n]);
    await t.stop();
  });

  it("probes each peer every 4 s into the RTT histogram, and counts active and disconnected peers", async () => {
    const probed: string[] = [];
    const { t, clock, dialer } = setup({
      fetch: async (url) => {
        probed.push(url);
        return new Response(JSON.stringify({ OK: true, Now: new Date().toISOString() }));
      },
    });
    dialer.next = () => new FakeConn();
    t.addPeer(2n, ["http://b:2380"]);
    await flush();
    const peer = { Local: "1", Remote: "2" };
    expect(t.metrics.activePeers.get(peer)).toBe(1);
    clock.advance(3999);
    await flush();
    expect(probed).toEqual([]);
    clock.advance(1);
    await flush();
    expect(probed).toEqual(["http://b:2380/raft/probing"]);
    expect(t.metrics.rttSec.count({ To: "2" })).toBe(1);
    const rtt = new Registry();
    rtt.register(t.metrics.rttSec);
    expect(rtt.text()).toContain('etcd_network_peer_round_trip_time_seconds_bucket{To="2",le="0.0001"} 1');
    dialer.conns[0]!.remoteClose(new Error("connection reset"));
    expect(t.metrics.activePeers.get(peer)).toBe(0);
    expect(t.metrics.disconnectedPeers.get(peer)).toBe(1);
    expect(t.activeSince(2n)).toBe(0);
    t.attachStream(2n, "message", new FakeConn());
    t.send([app()]);
    await t.stop();
    await flush();
    // Every timer (redials, read deadlines, heartbeats, the prober, post timeouts) is cancelled.
    expect(clock.pending()).toBe(0);
  });

  it("registers etcd's metric names with their labels in the Registry", async () => {
    const registry = new Registry();
    const m = new TransportMetrics(registry);
    m.sentBytes.add({ To: "2" }, 10);
    m.activePeers.add({ Local: "1", Remote: "2" }, 1);
    const text = registry.text();
    expect(text).toContain("# TYPE etcd_network_peer_sent_bytes_total counter");
    expect(text).toContain('etcd_network_peer_sent_bytes_total{To="2"} 10');
    expect(text).toContain('etcd_network_active_peers{Local="1",Remote="2"} 1');
    // A vector nobody has touched has no family in the text, as with client_golang.
    expect(text).not.toContain("etcd_network_disconnected_peers_total");
    m.rttSec.observe({ To: "2" }, 0.00015);
    m.rttSec.observe({ To: "2" }, 5);
    const after = registry.text();
    expect(after).toContain("# TYPE etcd_network_peer_round_trip_time_seconds histogram\n");
    expect(after).toContain('etcd_network_peer_round_trip_time_seconds_bucket{To="2",le="0.0001"} 0\n');
    expect(after).toContain('etcd_network_peer_round_trip_time_seconds_bucket{To="2",le="0.0002"} 1\n');
    expect(after).toContain('etcd_network_peer_round_trip_time_seconds_bucket{To="2",le="3.2768"} 1\n');
    expect(after).toContain('etcd_network_peer_round_trip_time_seconds_bucket{To="2",le="+Inf"} 2\n');
    expect(after).toContain('etcd_network_peer_round_trip_time_seconds_sum{To="2"} 5.00015\n');
    expect(after).toContain('etcd_network_peer_round_trip_time_seconds_count{To="2"} 2\n');
  });
});
