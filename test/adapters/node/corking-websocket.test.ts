/**
 * adapters/node/corking-websocket.ts: the frames sent in one tick leave in one socket write, and
 * still arrive whole and in order, both on a dialed socket and on one the listener accepted; and
 * the peer transport over it delivers a large burst in order with its byte counters exact.
 */
import { Hono } from "hono";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CorkingWebSocket } from "../../../adapters/node/corking-websocket.js";
import { nodePeerDialer } from "../../../adapters/node/peer-dialer.js";
import { serveURL, upgradeWebSocket, type Listener } from "../../../adapters/node/serve.js";
import { systemClock } from "../../../src/platform.js";
import { encodeMessage, MessageType, newMessage, type Message } from "../../../src/raft/index.js";
import { raftHandler } from "../../../src/rafthttp/handler.js";
import { Transport } from "../../../src/rafthttp/transport.js";
import { RecordingLogger, RecordingRaft, until } from "../../rafthttp/fakes.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Frame i: its index in the first 4 bytes, then a byte pattern; sizes cover all three length forms. */
function frame(i: number): Uint8Array {
  const sizes = [4, 125, 126, 1000, 65535, 65536, 70_000];
  const f = new Uint8Array(sizes[i % sizes.length]! + (i % 3));
  new DataView(f.buffer).setUint32(0, i);
  for (let j = 4; j < f.length; j++) f[j] = (i * 31 + j) & 0xff;
  return f;
}

function expectFrames(got: Uint8Array[], n: number): void {
  expect(got.length).toBe(n);
  got.forEach((g, i) => expect(Buffer.from(g).equals(Buffer.from(frame(i)))).toBe(true));
}

/** Counts the writes that reach the socket (Node's Writable hands a corked batch to one _writev). */
function countWrites(socket: Socket): { n: number } {
  const count = { n: 0 };
  const s = socket as unknown as { _write: Function; _writev: Function };
  const [write, writev] = [s._write, s._writev];
  s._write = function (this: unknown, ...args: unknown[]) {
    count.n++;
    return write.apply(this, args);
  };
  s._writev = function (this: unknown, ...args: unknown[]) {
    count.n++;
    return writev.apply(this, args);
  };
  return count;
}

const socketOf = (ws: unknown): Socket => (ws as { _socket: Socket })._socket;

describe("CorkingWebSocket", () => {
  it("frames sent in one tick go out in one write and arrive whole and in order, both ways", async () => {
    const n = 300;
    const atServer: Uint8Array[] = [];
    let serverWs: CorkingWebSocket | undefined;
    const app = new Hono();
    app.get(
      "/ws",
      upgradeWebSocket(() => ({
        onOpen: (_evt, ws) => {
          serverWs = ws.raw as CorkingWebSocket;
        },
        onMessage: (evt) => {
          atServer.push(new Uint8Array(evt.data as ArrayBuffer));
        },
      })),
    );
    const listener: Listener = await serveURL(app, "http://127.0.0.1:0");
    cleanup.push(() => listener.close());
    const client = new CorkingWebSocket(`${listener.url.replace(/^http/, "ws")}/ws`, { perMessageDeflate: false });
    cleanup.push(async () => client.terminate());
    const atClient: Uint8Array[] = [];
    client.on("message", (data: Buffer) => atClient.push(new Uint8Array(data)));
    await new Promise((resolve, reject) => client.once("open", resolve).once("error", reject));
    await until(() => serverWs !== undefined, 5000, "server socket");
    expect(serverWs).toBeInstanceOf(CorkingWebSocket);

    // Client → server: one tick, one write.
    const up = countWrites(socketOf(client));
    for (let i = 0; i < n; i++) client.send(frame(i));
    expect(up.n).toBe(0); // still corked until the tick ends
    await new Promise((r) => process.nextTick(r));
    expect(up.n).toBe(1);
    await until(() => atServer.length >= n, 10_000, "frames at the server");
    expectFrames(atServer, n);

    // Server → client, sent from promise jobs of one task: still one write.
    const down = countWrites(socketOf(serverWs));
    await Promise.resolve();
    for (let i = 0; i < n; i++) {
      serverWs!.send(frame(i));
      if (i % 50 === 0) await Promise.resolve();
    }
    await new Promise((r) => setImmediate(r));
    expect(down.n).toBe(1);
    await until(() => atClient.length >= n, 10_000, "frames at the client");
    expectFrames(atClient, n);

    // A later tick is a new write.
    client.send(frame(0));
    await new Promise((r) => setImmediate(r));
    expect(up.n).toBe(2);
    await until(() => atServer.length === n + 1, 10_000, "the last frame");
  });
});

describe("rafthttp streams over corked sockets", () => {
  it("a burst sent in one tick and in the promise jobs after it arrives in order, counted exactly", async () => {
    const members = [];
    for (const id of [1n, 2n]) {
      const raft = new RecordingRaft();
      const urls: string[] = [];
      const t = new Transport({
        id,
        clusterID: () => 0xc1n,
        urls,
        raft,
        receiveSnapshot: async () => {},
        dialer: nodePeerDialer,
        fetch: (url, init) => fetch(url, init),
        clock: systemClock,
        logger: new RecordingLogger(),
        dialTimeoutMs: 2000,
        serverVersion: "3.5.0",
        minClusterVersion: "3.0.0",
      });
      const listener = await serveURL(raftHandler(t, { upgradeWebSocket }), "http://127.0.0.1:0");
      urls.push(listener.url);
      cleanup.push(async () => {
        await t.stop();
        await listener.close();
      });
      members.push({ id, t, raft, url: listener.url });
    }
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]];
    a.t.addPeer(2n, [b.url]);
    b.t.addPeer(1n, [a.url]);
    const up = (x: Transport, id: bigint) => {
      const p = x.get(id);
      return p !== undefined && p.writer.working() && p.msgAppV2Writer.working() && p.msgAppReader.connected() && p.msgAppV2Reader.connected();
    };
    await until(() => up(a.t, 2n) && up(b.t, 1n), 10_000, "streams");

    const entry = (i: number) => ({ term: 2, index: i, type: 0, data: frame(i) });
    const app = (i: number): Message =>
      newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 2, logTerm: 2, index: i - 1, commit: i - 1, entries: [entry(i)] });
    const msgs = Array.from({ length: 1000 }, (_, i) => app(i + 1));
    const beats = Array.from({ length: 200 }, (_, i) => newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 2, commit: i }));
    a.t.send(msgs.slice(0, 600));
    for (let i = 0; i < 200; i++) {
      await Promise.resolve();
      a.t.send([msgs[600 + 2 * i]!, beats[i]!, msgs[601 + 2 * i]!]);
    }
    const sent = [...msgs, ...beats];
    await until(() => b.raft.processed.length === sent.length, 20_000, "delivery");

    const got = b.raft.processed;
    expect(got.filter((m) => m.type === MessageType.MsgApp).map((m) => m.index)).toEqual(msgs.map((m) => m.index));
    expect(got.filter((m) => m.type === MessageType.MsgHeartbeat).map((m) => m.commit)).toEqual(beats.map((m) => m.commit));
    for (const m of got.filter((x) => x.type === MessageType.MsgApp)) {
      expect(Buffer.from(m.entries[0]!.data).equals(Buffer.from(frame(m.index + 1)))).toBe(true);
    }
    const bytes = sent.reduce((n, m) => n + encodeMessage(m).length, 0);
    // Link heartbeats (from 0) are counted under From "0"; everything a sent is under From "1".
    expect(b.t.metrics.receivedBytes.get({ From: "1" })).toBe(bytes);
    expect(a.t.metrics.sentBytes.get({ To: "2" })).toBeGreaterThanOrEqual(bytes);
  });
});
