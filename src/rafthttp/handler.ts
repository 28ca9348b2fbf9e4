/**
 * The raft routes of the peer port (etcd's rafthttp/http.go and Transport.Handler):
 *
 *   POST /raft                          one raftpb.Message per request (the pipeline)
 *   GET  /raft/stream/{msgapp|message}/{from}   a WebSocket the peer `from` reads our messages on
 *   POST /raft/snapshot                 8-byte BE length + MsgSnap, then the db until the end
 *   GET  /raft/probing                  {"OK":true,"Now":"…"}
 *
 * Every check of a stream request happens before the upgrade, so the dialer sees the HTTP status
 * (etcd's 404 / 410 / 412) instead of a socket.
 */
import { Hono, type Context } from "hono";
import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import { decodeMessage, MessageType, type Message } from "../raft/index.js";
import type { Transport } from "./transport.js";
import { RemovedMemberError, type PeerConn } from "./types.js";
import {
  checkVersionCompatibility,
  ErrClusterIDMismatch,
  ErrIncompatibleVersion,
  errorText,
  humanizeBytes,
  idString,
  messageTypeName,
  parseID,
  ProbingPrefix,
  RaftPrefix,
  RaftSnapshotPrefix,
  RaftStreamPrefix,
  snapshotLimitByte,
  type StreamKind,
} from "./util.js";

export interface RaftHandlerOptions {
  /** The runtime's WebSocket upgrade (Node: adapters/node/serve.ts `upgradeWebSocket`). */
  upgradeWebSocket: UpgradeWebSocket<any>;
}

/** Go's http.Error: the text and a newline, as text/plain. */
function httpError(c: Context, text: string, status: number, headers: Record<string, string> = {}): Response {
  return c.body(`${text}\n`, status as 400, {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
  });
}

/** etcd's httptypes.HTTPError for a removed member (403, JSON). */
function removedMemberResponse(c: Context, headers: Record<string, string>): Response {
  return c.body(JSON.stringify({ message: "cannot process message from removed member" }), 403, {
    ...headers,
    "Content-Type": "application/json",
  });
}

/**
 * etcd's checkClusterCompatibilityFromHeader: the version check, then the cluster id. Returns the
 * error to answer 412 with, undefined when the request is compatible.
 */
function checkClusterCompatibility(t: Transport, c: Context): Error | undefined {
  const cfg = t.cfg;
  const remoteName = c.req.header("X-Server-From") ?? "";
  const cid = idString(cfg.clusterID());
  const why = checkVersionCompatibility(
    remoteName,
    c.req.header("X-Server-Version") ?? null,
    c.req.header("X-Min-Cluster-Version") ?? null,
    cfg.serverVersion,
    cfg.minClusterVersion,
  );
  const fields = {
    "local-member-id": idString(t.id),
    "local-member-cluster-id": cid,
    "local-member-server-version": cfg.serverVersion,
    "local-member-server-minimum-cluster-version": cfg.minClusterVersion,
    "remote-peer-server-name": remoteName,
    "remote-peer-server-version": c.req.header("X-Server-Version") ?? "",
    "remote-peer-server-minimum-cluster-version": c.req.header("X-Min-Cluster-Version") ?? "",
  };
  if (why !== undefined) {
    t.logger.warn("failed to check version compatibility", { ...fields, error: why });
    return ErrIncompatibleVersion;
  }
  const gcid = c.req.header("X-Etcd-Cluster-ID") ?? "";
  if (gcid !== cid) {
    t.logger.warn("request cluster ID mismatch", { ...fields, "remote-peer-cluster-id": gcid });
    return ErrClusterIDMismatch;
  }
  return undefined;
}

/** etcd's addRemoteFromRequest: learn the URLs of a sender we do not know yet. */
function addRemoteFromRequest(t: Transport, c: Context): void {
  const from = parseID(c.req.header("X-Server-From") ?? "");
  const urls = c.req.header("X-PeerURLs") ?? "";
  if (from !== undefined && urls !== "") t.addRemote(from, urls.split(","));
}

/** Reads a request body in pieces: an exact prefix first, then the rest as it arrives. */
class BodyReader {
  private buf = new Uint8Array(0);
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(body: ReadableStream<Uint8Array> | null) {
    this.reader = body?.getReader();
  }

  /** The next `n` bytes; throws "unexpected EOF" when the body ends first. */
  async readExact(n: number): Promise<Uint8Array> {
    while (this.buf.length < n) {
      const r = this.reader === undefined ? { done: true as const, value: undefined } : await this.reader.read();
      if (r.done) throw new Error(this.buf.length === 0 && n > 0 ? "EOF" : "unexpected EOF");
      const next = new Uint8Array(this.buf.length + r.value.length);
      next.set(this.buf);
      next.set(r.value, this.buf.length);
      this.buf = next;
    }
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }

  /** Everything after what was read, chunk by chunk; `count` is told each chunk's size. */
  async *rest(count: (n: number) => void): AsyncGenerator<Uint8Array> {
    if (this.buf.length > 0) {
      const b = this.buf;
      this.buf = new Uint8Array(0);
      count(b.length);
      yield b;
    }
    if (this.reader === undefined) return;
    for (;;) {
      const r = await this.reader.read();
      if (r.done) return;
      count(r.value.length);
      yield r.value;
    }
  }

  cancel(): void {
    void this.reader?.cancel().catch(() => {});
  }
}

/** A server-side WebSocket seen as a PeerConn: the events feed the handlers it registers. */
function acceptedConn(): { conn: PeerConn; events: WSEvents<unknown> } {
  let ws: WSContext<unknown> | undefined;
  let frameFn: (frame: Uint8Array) => void = () => {};
  let closeFn: (reason?: Error) => void = () => {};
  let closed = false;
  const fireClose = (reason?: Error): void => {
    if (closed) return;
    closed = true;
    closeFn(reason);
  };
  const conn: PeerConn = {
    send(frame) {
      if (closed || ws === undefined) throw new Error("use of closed network connection");
      ws.send(frame as Uint8Array<ArrayBuffer>);
    },
    bufferedAmount() {
      // Hono's WSContext has no bufferedAmount; the runtime socket under it (ws, Deno, workerd) does.
      const raw = ws?.raw as { bufferedAmount?: unknown } | undefined;
      return typeof raw?.bufferedAmount === "number" ? raw.bufferedAmount : 0;
    },
    close() {
      try {
        ws?.close();
      } catch {
        // already closed
      }
      fireClose();
    },
    onFrame(fn) {
      frameFn = fn;
    },
    onClose(fn) {
      closeFn = fn;
    },
  };
  const events: WSEvents<unknown> = {
    onOpen: (_evt, w) => {
      ws = w;
    },
    onMessage: (evt) => {
      const d = evt.data;
      if (d instanceof ArrayBuffer) frameFn(new Uint8Array(d));
      else if (ArrayBuffer.isView(d)) frameFn(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    },
    onClose: () => fireClose(),
    onError: () => fireClose(new Error("stream connection error")),
  };
  return { conn, events };
}

export function raftHandler(t: Transport, opts: RaftHandlerOptions): Hono {
  const app = new Hono();
  const cidHeader = (): Record<string, string> => ({ "X-Etcd-Cluster-ID": idString(t.cfg.clusterID()) });

  // The pipeline: one message per POST, 204 once raft has it.
  app.all(RaftPrefix, async (c) => {
    if (c.req.method !== "POST") return httpError(c, "Method Not Allowed", 405, { Allow: "POST" });
    const h = cidHeader();
    const incompatible = checkClusterCompatibility(t, c);
    if (incompatible !== undefined) return httpError(c, incompatible.message, 412, h);
    addRemoteFromRequest(t, c);
    let b: Uint8Array;
    try {
      b = new Uint8Array(await c.req.arrayBuffer());
    } catch (err) {
      t.logger.warn("failed to read Raft message", { "local-member-id": idString(t.id), error: errorText(err) });
      t.metrics.recvFailures.add({ From: c.req.header("X-Server-From") ?? "" });
      return httpError(c, "error reading raft message", 400, h);
    }
    let m: Message;
    try {
      m = decodeMessage(b);
    } catch (err) {
      t.logger.warn("failed to unmarshal Raft message", { "local-member-id": idString(t.id), error: errorText(err) });
      t.metrics.recvFailures.add({ From: c.req.header("X-Server-From") ?? "" });
      return httpError(c, "error unmarshalling raft message", 400, h);
    }
    t.metrics.receivedBytes.add({ From: idString(m.from) }, b.length);
    try {
      await t.raft.process(m);
    } catch (err) {
      if (err instanceof RemovedMemberError) return removedMemberResponse(c, h);
      t.logger.warn("failed to process Raft message", { "local-member-id": idString(t.id), error: errorText(err) });
      return httpError(c, "error processing raft message", 500, h);
    }
    return c.body(null, 204, h);
  });

  app.all(`${RaftStreamPrefix}/*`, (c) => {
    if (c.req.method !== "GET") return httpError(c, "Method Not Allowed", 405, { Allow: "GET" });
    const h = { "X-Server-Version": t.cfg.serverVersion, ...cidHeader() };
    const incompatible = checkClusterCompatibility(t, c);
    if (incompatible !== undefined) return httpError(c, incompatible.message, 412, h);
    const logFields = { "local-member-id": idString(t.id), "remote-peer-id-stream-handler": idString(t.id) };
    const rest = c.req.path.slice(RaftStreamPrefix.length + 1).split("/");
    if (rest.length !== 2 || (rest[0] !== "msgapp" && rest[0] !== "message")) {
      t.logger.debug("ignored unexpected streaming request path", { ...logFields, path: c.req.path });
      return httpError(c, "invalid path", 404, h);
    }
    const kind = rest[0] as StreamKind;
    const from = parseID(rest[1]!);
    if (from === undefined) {
      t.logger.warn("failed to parse path into ID", { ...logFields, path: rest[1], error: `invalid ID ${rest[1]}` });
      return httpError(c, "invalid from", 404, h);
    }
    if (t.raft.isIDRemoved(from)) {
      t.logger.warn("rejected stream from remote peer because it was removed", { ...logFields, "remote-peer-id-from": idString(from) });
      return httpError(c, "removed member", 410, h);
    }
    if (t.get(from) === undefined) {
      // A member of another cluster with the same id, or one that joined after what we know.
      const urls = c.req.header("X-PeerURLs") ?? "";
      if (urls !== "") t.addRemote(from, urls.split(","));
      t.logger.warn("failed to find remote peer in cluster", {
        ...logFields,
        "remote-peer-id-from": idString(from),
        "cluster-id": idString(t.cfg.clusterID()),
      });
      return httpError(c, "error sender not found", 404, h);
    }
    const gto = c.req.header("X-Raft-To") ?? "";
    if (gto !== idString(t.id)) {
      t.logger.warn("ignored streaming request; ID mismatch", {
        ...logFields,
        "remote-peer-id-header": gto,
        "remote-peer-id-from": idString(from),
        "cluster-id": idString(t.cfg.clusterID()),
      });
      return httpError(c, "to field mismatch", 412, h);
    }
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return httpError(c, "websocket upgrade required", 426, h);
    if (t.isStopped()) return httpError(c, "transport stopped", 503, h);
    const { conn, events } = acceptedConn();
    const onOpen = events.onOpen!;
    events.onOpen = (evt, ws) => {
      onOpen(evt, ws);
      t.attachStream(from, kind, conn);
    };
    for (const [k, v] of Object.entries(h)) c.header(k, v);
    return opts.upgradeWebSocket(c, events);
  });

  app.all(RaftSnapshotPrefix, async (c) => {
    const unknownSender = "UNKNOWN_SNAPSHOT_SENDER";
    if (c.req.method !== "POST") {
      t.metrics.snapshotReceiveFailures.add({ From: unknownSender });
      return httpError(c, "Method Not Allowed", 405, { Allow: "POST" });
    }
    const h = cidHeader();
    const incompatible = checkClusterCompatibility(t, c);
    if (incompatible !== undefined) {
      t.metrics.snapshotReceiveFailures.add({ From: unknownSender });
      return httpError(c, incompatible.message, 412, h);
    }
    addRemoteFromRequest(t, c);
    const body = new BodyReader(c.req.raw.body);
    let m: Message;
    let msgSize: number;
    try {
      const len = new DataView((await body.readExact(8)).buffer).getBigUint64(0);
      if (len > BigInt(snapshotLimitByte)) throw new Error("rafthttp: error limit exceeded");
      msgSize = Number(len);
      m = decodeMessage(await body.readExact(msgSize));
    } catch (err) {
      body.cancel();
      t.logger.warn("failed to decode Raft message", {
        "local-member-id": idString(t.id),
        "remote-snapshot-sender-id": "0",
        error: errorText(err),
      });
      t.metrics.recvFailures.add({ From: c.req.header("X-Server-From") ?? "" });
      t.metrics.snapshotReceiveFailures.add({ From: "0" });
      return httpError(c, `failed to decode raft message (${errorText(err)})`, 400, h);
    }
    const from = idString(m.from);
    t.metrics.receivedBytes.add({ From: from }, msgSize);
    if (m.type !== MessageType.MsgSnap) {
      body.cancel();
      t.logger.warn("unexpected Raft message type", {
        "local-member-id": idString(t.id),
        "remote-snapshot-sender-id": from,
        "message-type": messageTypeName(m.type),
      });
      t.metrics.snapshotReceiveFailures.add({ From: from });
      return httpError(c, "wrong raft message type", 400, h);
    }
    const index = m.snapshot?.metadata.index ?? 0;
    const start = t.cfg.clock.now();
    t.metrics.snapshotReceiveInflights.add({ From: from }, 1);
    t.logger.info("receiving database snapshot", {
      "local-member-id": idString(t.id),
      "remote-snapshot-sender-id": from,
      "incoming-snapshot-index": index,
      "incoming-snapshot-message-size-bytes": msgSize,
      "incoming-snapshot-message-size": humanizeBytes(msgSize),
    });
    let n = 0;
    try {
      await t.cfg.receiveSnapshot(m, body.rest((k) => (n += k)));
    } catch (err) {
      body.cancel();
      t.metrics.snapshotReceiveFailures.add({ From: from });
      if (err instanceof RemovedMemberError) return removedMemberResponse(c, h);
      t.logger.warn("failed to process Raft message", {
        "local-member-id": idString(t.id),
        "remote-snapshot-sender-id": from,
        error: errorText(err),
      });
      return httpError(c, `failed to process raft message (${errorText(err)})`, 500, h);
    } finally {
      t.metrics.snapshotReceiveInflights.add({ From: from }, -1);
    }
    t.metrics.receivedBytes.add({ From: from }, n);
    t.logger.info("received and saved database snapshot", {
      "local-member-id": idString(t.id),
      "remote-snapshot-sender-id": from,
      "incoming-snapshot-index": index,
      "incoming-snapshot-size-bytes": n,
      "incoming-snapshot-size": humanizeBytes(n),
      "download-took": `${((t.cfg.clock.now() - start) / 1000).toFixed(3)}s`,
    });
    t.metrics.snapshotReceive.add({ From: from });
    return c.body(null, 204, h);
  });

  // The prober's target (github.com/xiang90/probing's handler answers any method).
  app.all(ProbingPrefix, (c) =>
    c.body(`${JSON.stringify({ OK: true, Now: new Date().toISOString() })}\n`, 200, { "Content-Type": "application/json" }),
  );

  return app;
}
