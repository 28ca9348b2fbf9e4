/**
 * Streams (etcd's stream.go), over WebSockets: the member that wants to *receive* from a peer dials
 * `GET {peerURL}/raft/stream/{msgapp|message}/{localID}` (a {@link StreamReader}); the peer's
 * handler attaches the accepted socket to its {@link StreamWriter} for us. Each binary frame is one
 * protobuf raftpb.Message (no length prefix, no msgappv2 encoding). The writer sends a link
 * heartbeat (MsgHeartbeat with from = to = 0) every ConnReadTimeout/3; a reader that hears nothing
 * for ConnReadTimeout closes the socket and redials.
 */
import { decodeMessage, encodeMessage, MessageType, newMessage, type Message } from "../raft/index.js";
import type { TransportContext } from "./context.js";
import type { PeerStatus } from "./peer-status.js";
import { PeerDialError, type PeerConn } from "./types.js";
import type { URLPicker } from "./urlpick.js";
import {
  ConnReadTimeout,
  dialRetryMaxMs,
  dialRetryMs,
  ErrClusterIDMismatch,
  ErrIncompatibleVersion,
  errorText,
  idString,
  isLinkHeartbeat,
  joinURL,
  RaftStreamPrefix,
  rafthttpHeaders,
  streamBufBytes,
  streamTypeName,
  type StreamKind,
} from "./util.js";

const linkHeartbeatFrame = encodeMessage(newMessage({ type: MessageType.MsgHeartbeat }));

/**
 * Frame bytes for one label set of a byte counter (sentBytes / receivedBytes), added to the counter
 * once per microtask checkpoint rather than per frame: MetricVec.add builds the key of its label
 * set on every call, which cost about as much as writing a small frame. A reader of the counter
 * sees the bytes once the current task and its promise jobs have run.
 */
class FrameBytes {
  private pending = 0;
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    const n = this.pending;
    this.pending = 0;
    this.counter.add(this.labels, n);
  };

  constructor(
    private readonly counter: { add(labels: Record<string, string>, by: number): void },
    private readonly labels: Record<string, string>,
  ) {}

  add(n: number): void {
    this.pending += n;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }
}

/** The sending half of one stream to a peer: writes on the socket the peer opened to us. */
export class StreamWriter {
  private conn: PeerConn | undefined;
  private cancelHeartbeat: () => void = () => {};
  private stopped = false;
  private readonly sentBytes: FrameBytes;

  constructor(
    private readonly ctx: TransportContext,
    readonly peerID: bigint,
    readonly kind: StreamKind,
    private readonly status: PeerStatus,
  ) {
    this.sentBytes = new FrameBytes(ctx.metrics.sentBytes, { To: idString(peerID) });
    ctx.logger.info("started stream writer with remote peer", this.fields());
  }

  /** Whether a socket is attached (etcd's writec() ok). */
  working(): boolean {
    return this.conn !== undefined;
  }

  /**
   * Takes over `conn` (the socket the peer opened to us), closing the previous one. The writer
   * owns it from now on and closes it on stop.
   */
  attach(conn: PeerConn): void {
    if (this.stopped) {
      conn.close();
      return;
    }
    const closed = this.detach();
    this.conn = conn;
    conn.onFrame(() => {});
    conn.onClose((reason) => this.lost(conn, "read", reason?.message ?? "connection closed by the remote peer"));
    this.ctx.logger.info("set message encoder", {
      from: idString(this.ctx.id),
      to: idString(this.peerID),
      "stream-type": streamTypeName(this.kind),
    });
    this.status.activate();
    if (closed) this.ctx.logger.warn("closed TCP streaming connection with remote peer", this.fields());
    this.ctx.logger.info("established TCP streaming connection with remote peer", this.fields());
    this.scheduleHeartbeat(conn);
  }

  /**
   * Writes `m` as one frame; false when no socket is attached or its send buffer is full (the
   * caller drops the message and reports).
   */
  send(m: Message): boolean {
    const conn = this.conn;
    if (conn === undefined) return false;
    if (conn.bufferedAmount() > streamBufBytes) return false;
    const frame = encodeMessage(m);
    if (!this.write(conn, frame, "write")) {
      this.ctx.raft.reportUnreachable(m.to);
      return true;
    }
    return true;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.detach()) this.ctx.logger.warn("closed TCP streaming connection with remote peer", this.fields());
    this.ctx.logger.info("stopped TCP streaming connection with remote peer", this.fields());
  }

  private write(conn: PeerConn, frame: Uint8Array, action: string): boolean {
    try {
      conn.send(frame);
    } catch (err) {
      this.lost(conn, action, errorText(err));
      return false;
    }
    this.sentBytes.add(frame.length);
    return true;
  }

  private scheduleHeartbeat(conn: PeerConn): void {
    this.cancelHeartbeat = this.ctx.clock.setTimer(ConnReadTimeout / 3, () => {
      if (this.conn !== conn) return;
      if (this.write(conn, linkHeartbeatFrame, "heartbeat")) this.scheduleHeartbeat(conn);
    });
  }

  /** The socket failed or the peer closed it: deactivate and tell raft (etcd's write-error path). */
  private lost(conn: PeerConn, action: string, reason: string): void {
    if (this.conn !== conn) return;
    this.detach();
    this.status.deactivate({ source: streamTypeName(this.kind), action }, reason);
    this.ctx.logger.warn("lost TCP streaming connection with remote peer", this.fields());
    this.ctx.metrics.sentFailures.add({ To: idString(this.peerID) });
    this.ctx.raft.reportUnreachable(this.peerID);
  }

  /** Closes the attached socket, if any; true when there was one. */
  private detach(): boolean {
    const conn = this.conn;
    if (conn === undefined) return false;
    this.conn = undefined;
    this.cancelHeartbeat();
    try {
      conn.close();
    } catch {
      // already closed
    }
    return true;
  }

  private fields(): Record<string, string> {
    return {
      "stream-writer-type": streamTypeName(this.kind),
      "local-member-id": idString(this.ctx.id),
      "remote-peer-id": idString(this.peerID),
    };
  }
}

/**
 * The receiving half of one stream from a peer: dials the peer, hands each decoded message to
 * `deliver`, and redials when the socket breaks — at most one dial per {@link dialRetryMs}, backing
 * off to {@link dialRetryMaxMs} while dials keep failing.
 */
export class StreamReader {
  private conn: PeerConn | undefined;
  private stopped = false;
  private started = false;
  private paused = false;
  private failures = 0;
  private lastDial = -Infinity;
  private lastFrame = 0;
  private cancelTimer: () => void = () => {};
  private cancelReadTimer: () => void = () => {};
  /** Bytes of the frames from the peer itself (link heartbeats carry from = 0 and are counted apart). */
  private readonly receivedBytes: FrameBytes;
  /** Dials begun, for tests and logs. */
  dials = 0;

  constructor(
    private readonly ctx: TransportContext,
    readonly peerID: bigint,
    readonly kind: StreamKind,
    private readonly picker: URLPicker,
    private readonly status: PeerStatus,
    private readonly deliver: (m: Message) => void,
  ) {
    this.receivedBytes = new FrameBytes(ctx.metrics.receivedBytes, { From: idString(peerID) });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.ctx.logger.info("started stream reader with remote peer", this.fields());
    this.dial();
  }

  /** Whether a stream from the peer is connected. */
  connected(): boolean {
    return this.conn !== undefined;
  }

  /** Received messages are dropped while paused (etcd's pause/resume, for tests). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTimer();
    this.cancelReadTimer();
    const conn = this.conn;
    this.conn = undefined;
    conn?.close();
    if (this.started) this.ctx.logger.info("stopped stream reader with remote peer", this.fields());
  }

  private dial(): void {
    if (this.stopped) return;
    this.lastDial = this.ctx.clock.now();
    this.dials++;
    const u = this.picker.pick();
    const url = joinURL(u, `${RaftStreamPrefix}/${this.kind}/${idString(this.ctx.id)}`);
    const headers = { ...rafthttpHeaders(this.ctx), "X-Raft-To": idString(this.peerID) };
    this.ctx.logger.debug("dial stream reader", { from: idString(this.ctx.id), to: idString(this.peerID), address: url });
    this.ctx.dialer.dial(url, headers, this.ctx.dialTimeoutMs).then(
      (conn) => this.connectedTo(conn),
      (err: unknown) => this.dialFailed(u, err),
    );
  }

  private connectedTo(conn: PeerConn): void {
    if (this.stopped) {
      conn.close();
      return;
    }
    this.conn = conn;
    this.failures = 0;
    this.lastFrame = this.ctx.clock.now();
    conn.onFrame((frame) => this.receive(conn, frame));
    conn.onClose((reason) => this.broken(conn, reason?.message ?? "EOF", reason === undefined));
    this.status.activate();
    this.ctx.logger.info("established TCP streaming connection with remote peer", this.fields());
    this.armReadTimer(conn, ConnReadTimeout);
  }

  private receive(conn: PeerConn, frame: Uint8Array): void {
    if (this.conn !== conn) return;
    this.lastFrame = this.ctx.clock.now();
    let m: Message;
    try {
      m = decodeMessage(frame);
    } catch (err) {
      conn.close();
      this.broken(conn, `failed to decode raft message (${errorText(err)})`, false);
      return;
    }
    if (m.from === this.peerID) this.receivedBytes.add(frame.length);
    else this.ctx.metrics.receivedBytes.add({ From: idString(m.from) }, frame.length);
    if (this.paused || isLinkHeartbeat(m)) return;
    this.deliver(m);
  }

  /**
   * WebSocket has no read deadline: check that a frame arrived within the last ConnReadTimeout,
   * and close the socket as dead when none did.
   */
  private armReadTimer(conn: PeerConn, ms: number): void {
    this.cancelReadTimer = this.ctx.clock.setTimer(ms, () => {
      if (this.conn !== conn) return;
      const idle = this.ctx.clock.now() - this.lastFrame;
      if (idle < ConnReadTimeout) return this.armReadTimer(conn, ConnReadTimeout - idle);
      conn.close();
      this.broken(conn, "read timeout: no frame within ConnReadTimeout", false);
    });
  }

  /** The socket ended: a clean close by the peer (EOF) or a failure; either way, redial. */
  private broken(conn: PeerConn, reason: string, eof: boolean): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.cancelReadTimer();
    if (this.stopped) return;
    this.ctx.logger.warn("lost TCP streaming connection with remote peer", { ...this.fields(), error: reason });
    if (!eof) this.status.deactivate({ source: streamTypeName(this.kind), action: "read" }, reason);
    this.ctx.raft.reportUnreachable(this.peerID);
    this.scheduleDial();
  }

  private dialFailed(u: string, err: unknown): void {
    if (this.stopped) return;
    this.picker.unreachable(u);
    this.failures++;
    let reason = errorText(err);
    if (err instanceof PeerDialError) {
      switch (err.status) {
        case 410:
          reason = "the member has been permanently removed from the cluster";
          this.ctx.reportRemoved();
          break;
        case 404:
          reason = `peer ${idString(this.peerID)} failed to find local node ${idString(this.ctx.id)}`;
          break;
        case 412: {
          const body = err.body.replace(/\n$/, "");
          if (body === ErrIncompatibleVersion.message) {
            this.ctx.logger.warn("request sent was ignored by remote peer due to server version incompatibility", {
              "local-member-id": idString(this.ctx.id),
              "remote-peer-id": idString(this.peerID),
              error: body,
            });
            reason = body;
          } else if (body === ErrClusterIDMismatch.message) {
            this.ctx.logger.warn("request sent was ignored by remote peer due to cluster ID mismatch", {
              "remote-peer-id": idString(this.peerID),
              "local-member-id": idString(this.ctx.id),
              "local-member-cluster-id": idString(this.ctx.clusterID()),
              error: body,
            });
            reason = body;
          } else {
            reason = `unhandled error ${JSON.stringify(err.body)} when precondition failed`;
          }
          break;
        }
        default:
          reason = `unhandled http status ${err.status}`;
      }
    }
    this.status.deactivate({ source: streamTypeName(this.kind), action: "dial" }, reason);
    this.scheduleDial();
  }

  /** Redials after at least {@link dialRetryMs} since the last dial, more while dials keep failing. */
  private scheduleDial(): void {
    if (this.stopped) return;
    const backoff = Math.min(dialRetryMs * 2 ** Math.max(0, this.failures - 1), dialRetryMaxMs);
    const sinceLast = this.ctx.clock.now() - this.lastDial;
    const wait = Math.max(this.failures === 0 ? dialRetryMs - sinceLast : backoff, 0);
    this.cancelTimer();
    this.cancelTimer = this.ctx.clock.setTimer(wait, () => this.dial());
  }

  private fields(): Record<string, string> {
    return {
      "stream-reader-type": streamTypeName(this.kind),
      "local-member-id": idString(this.ctx.id),
      "remote-peer-id": idString(this.peerID),
    };
  }
}
