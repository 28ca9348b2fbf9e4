/** The raft routes through app.request(), without a server (etcd's http_test.go cases). */
import { describe, expect, it } from "vitest";
import type { UpgradeWebSocket, WSEvents } from "hono/ws";
import { ManualClock } from "../../src/platform.js";
import { encodeMessage, MessageType, newMessage, newSnapshot, type Message } from "../../src/raft/index.js";
import { raftHandler } from "../../src/rafthttp/handler.js";
import { encodeFramedMessage } from "../../src/rafthttp/snapshot-sender.js";
import { Transport } from "../../src/rafthttp/transport.js";
import { FakeDialer, RecordingLogger, RecordingRaft } from "./fakes.js";

function setup() {
  const raft = new RecordingRaft();
  const logger = new RecordingLogger();
  const received: { m: Message; bytes: number }[] = [];
  let snapshotError: Error | undefined;
  const upgrades: WSEvents<unknown>[] = [];
  const upgradeWebSocket = ((_c: unknown, events: WSEvents<unknown>) => {
    upgrades.push(events);
    return Promise.resolve(new Response("upgraded", { status: 200 }));
  }) as unknown as UpgradeWebSocket<any>;
  const t = new Transport({
    id: 1n,
    clusterID: () => 0xc1n,
    urls: ["http://a:2380"],
    raft,
    receiveSnapshot: async (m, db) => {
      let n = 0;
      for await (const c of db) n += c.length;
      if (snapshotError) throw snapshotError;
      received.push({ m, bytes: n });
    },
    dialer: new FakeDialer(),
    fetch: () => new Promise<Response>(() => {}),
    clock: new ManualClock(),
    logger,
    dialTimeoutMs: 2000,
    serverVersion: "3.5.0",
    minClusterVersion: "3.0.0",
  });
  const app = raftHandler(t, { upgradeWebSocket });
  return { t, app, raft, logger, received, upgrades, failSnapshots: (e: Error) => (snapshotError = e) };
}

/** A request body (TS types Uint8Array<ArrayBufferLike> as not a BodyInit). */
const bin = (u: Uint8Array): Uint8Array<ArrayBuffer> => u as Uint8Array<ArrayBuffer>;
const okHeaders = { "X-Etcd-Cluster-ID": "c1", "X-Server-Version": "3.5.0", "X-Min-Cluster-Version": "3.0.0", "X-Server-From": "2" };
const hb = newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 });

describe("POST /raft", () => {
  it("steps the message and answers 204 with the cluster id", async () => {
    const { app, raft, t } = setup();
    const r = await app.request("/raft", { method: "POST", headers: okHeaders, body: bin(encodeMessage(hb)) });
    expect(r.status).toBe(204);
    expect(r.headers.get("X-Etcd-Cluster-ID")).toBe("c1");
    expect(raft.processed).toEqual([hb]);
    await t.stop();
  });

  it("refuses other methods, mismatched clusters and versions, undecodable bodies and removed senders", async () => {
    const { app, raft, logger, t } = setup();
    let r = await app.request("/raft", { method: "GET" });
    expect([r.status, r.headers.get("Allow"), await r.text()]).toEqual([405, "POST", "Method Not Allowed\n"]);
    r = await app.request("/raft", { method: "POST", headers: { ...okHeaders, "X-Etcd-Cluster-ID": "c2" }, body: bin(encodeMessage(hb)) });
    expect([r.status, await r.text()]).toEqual([412, "cluster ID mismatch\n"]);
    expect(logger.has("request cluster ID mismatch")).toBe(true);
    r = await app.request("/raft", { method: "POST", headers: { ...okHeaders, "X-Server-Version": "2.3.0" }, body: bin(encodeMessage(hb)) });
    expect([r.status, await r.text()]).toEqual([412, "incompatible version\n"]);
    r = await app.request("/raft", { method: "POST", headers: { ...okHeaders, "X-Min-Cluster-Version": "3.6.0" }, body: bin(encodeMessage(hb)) });
    expect([r.status, await r.text()]).toEqual([412, "incompatible version\n"]);
    r = await app.request("/raft", { method: "POST", headers: okHeaders, body: bin(new Uint8Array([0xff, 0xff, 0xff])) });
    expect([r.status, await r.text()]).toEqual([400, "error unmarshalling raft message\n"]);
    raft.removed.add(2n);
    r = await app.request("/raft", { method: "POST", headers: okHeaders, body: bin(encodeMessage(hb)) });
    expect([r.status, r.headers.get("Content-Type"), await r.text()]).toEqual([
      403,
      "application/json",
      '{"message":"cannot process message from removed member"}',
    ]);
    expect(raft.processed).toEqual([]);
    await t.stop();
  });

  it("learns an unknown sender's URLs as a remote", async () => {
    const { app, t } = setup();
    await app.request("/raft", { method: "POST", headers: { ...okHeaders, "X-PeerURLs": "http://b:2380" }, body: bin(encodeMessage(hb)) });
    expect(t.logger instanceof RecordingLogger && t.logger.has("added new remote peer")).toBe(true);
    await t.stop();
  });
});

describe("GET /raft/stream/*", () => {
  const streamHeaders = { ...okHeaders, "X-Raft-To": "1", Upgrade: "websocket" };

  it("checks everything before upgrading, with etcd's statuses", async () => {
    const { app, t, raft, upgrades, logger } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    const get = (path: string, h: Record<string, string> = streamHeaders) => app.request(path, { headers: h });
    let r = await app.request("/raft/stream/message/2", { method: "POST", headers: streamHeaders });
    expect([r.status, r.headers.get("Allow")]).toEqual([405, "GET"]);
    r = await get("/raft/stream/message/2", { ...streamHeaders, "X-Etcd-Cluster-ID": "c2" });
    expect([r.status, await r.text()]).toEqual([412, "cluster ID mismatch\n"]);
    r = await get("/raft/stream/bogus/2");
    expect([r.status, await r.text()]).toEqual([404, "invalid path\n"]);
    r = await get("/raft/stream/message/xyz");
    expect([r.status, await r.text()]).toEqual([404, "invalid from\n"]);
    r = await get("/raft/stream/message/3", { ...streamHeaders, "X-PeerURLs": "http://c:2380" });
    expect([r.status, await r.text()]).toEqual([404, "error sender not found\n"]);
    expect(logger.has("added new remote peer")).toBe(true);
    r = await get("/raft/stream/message/2", { ...streamHeaders, "X-Raft-To": "5" });
    expect([r.status, await r.text()]).toEqual([412, "to field mismatch\n"]);
    raft.removed.add(2n);
    r = await get("/raft/stream/msgapp/2");
    expect([r.status, await r.text()]).toEqual([410, "removed member\n"]);
    expect(upgrades).toHaveLength(0);
    raft.removed.delete(2n);
    r = await get("/raft/stream/msgapp/2");
    expect(r.status).toBe(200);
    expect(upgrades).toHaveLength(1);
    await t.stop();
  });

  it("attaches the upgraded socket to the sender's writer of that kind", async () => {
    const { app, t, upgrades } = setup();
    t.addPeer(2n, ["http://b:2380"]);
    await app.request("/raft/stream/msgapp/2", { headers: streamHeaders });
    const sent: unknown[] = [];
    const ws = { send: (d: unknown) => sent.push(d), close: () => {}, raw: { bufferedAmount: 0 } };
    upgrades[0]!.onOpen!(new Event("open"), ws as never);
    const p = t.get(2n)!;
    expect(p.msgAppV2Writer.working()).toBe(true);
    expect(p.writer.working()).toBe(false);
    t.send([newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, index: 3 })]);
    expect(sent).toHaveLength(1);
    upgrades[0]!.onClose!(new Event("close") as never, ws as never);
    expect(p.msgAppV2Writer.working()).toBe(false);
    await t.stop();
  });
});

describe("POST /raft/snapshot", () => {
  const snapMsg = newMessage({ type: MessageType.MsgSnap, from: 2n, to: 1n, term: 2, snapshot: newSnapshot({ metadata: { index: 9, term: 2 } }) });
  const body = (head: Uint8Array, db: Uint8Array) => {
    const b = new Uint8Array(head.length + db.length);
    b.set(head);
    b.set(db, head.length);
    return b;
  };

  it("hands the message and the db bytes after it to receiveSnapshot, then 204", async () => {
    const { app, received, t } = setup();
    const r = await app.request("/raft/snapshot", {
      method: "POST",
      headers: { ...okHeaders, "Content-Type": "application/octet-stream" },
      body: bin(body(encodeFramedMessage(snapMsg), new Uint8Array(70_000))),
    });
    expect(r.status).toBe(204);
    expect(received).toHaveLength(1);
    expect(received[0]!.m.snapshot?.metadata.index).toBe(9);
    expect(received[0]!.bytes).toBe(70_000);
    await t.stop();
  });

  it("refuses a truncated frame, a message that is not MsgSnap, and reports a failing receiver as 500", async () => {
    const { app, t, failSnapshots } = setup();
    let r = await app.request("/raft/snapshot", { method: "POST", headers: okHeaders, body: bin(new Uint8Array([0, 0, 0])) });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/^failed to decode raft message \(.*\)\n$/);
    r = await app.request("/raft/snapshot", { method: "POST", headers: okHeaders, body: bin(encodeFramedMessage(hb)) });
    expect([r.status, await r.text()]).toEqual([400, "wrong raft message type\n"]);
    failSnapshots(new Error("no space left on device"));
    r = await app.request("/raft/snapshot", { method: "POST", headers: okHeaders, body: bin(body(encodeFramedMessage(snapMsg), new Uint8Array(10))) });
    expect([r.status, await r.text()]).toEqual([500, "failed to process raft message (no space left on device)\n"]);
    await t.stop();
  });
});

describe("GET /raft/probing", () => {
  it("answers OK with the time", async () => {
    const { app, t } = setup();
    const r = await app.request("/raft/probing");
    expect(r.status).toBe(200);
    const j = (await r.json()) as { OK: boolean; Now: string };
    expect(j.OK).toBe(true);
    expect(Number.isNaN(Date.parse(j.Now))).toBe(false);
    await t.stop();
  });
});
