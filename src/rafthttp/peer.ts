/**
 * One remote member (etcd's peer.go): two stream writers (msgapp, message) on sockets the peer
 * opened to us, two stream readers dialing the peer, a pipeline, a snapshot sender, and the two
 * receive queues (recvc for raft messages, propc for proposals, which may wait for a leader) each
 * drained in order by its own loop into raft.
 */
import { MessageType, type Message } from "../raft/index.js";
import type { TransportContext } from "./context.js";
import { PeerStatus } from "./peer-status.js";
import { Pipeline } from "./pipeline.js";
import { SnapshotSender } from "./snapshot-sender.js";
import { StreamReader, StreamWriter } from "./stream.js";
import type { PeerConn } from "./types.js";
import { URLPicker } from "./urlpick.js";
import {
  BoundedQueue,
  errorText,
  idString,
  maxPendingProposals,
  messageTypeName,
  recvBufSize,
  streamTypeName,
  type StreamKind,
} from "./util.js";

/** The channel {@link Peer.pick} chose, by etcd's names. */
export type ChannelName = "streamMsgAppV2" | "streamMsg" | "pipeline";

export class Peer {
  readonly status: PeerStatus;
  readonly picker: URLPicker;
  readonly msgAppV2Writer: StreamWriter;
  readonly writer: StreamWriter;
  readonly pipeline: Pipeline;
  readonly snapSender: SnapshotSender;
  readonly msgAppV2Reader: StreamReader;
  readonly msgAppReader: StreamReader;
  private readonly recvc = new BoundedQueue<Message>(recvBufSize);
  private readonly propc = new BoundedQueue<Message>(maxPendingProposals);
  private draining = { recvc: false, propc: false };
  private paused = false;
  private stopped = false;

  constructor(
    private readonly ctx: TransportContext,
    readonly id: bigint,
    urls: readonly string[],
  ) {
    ctx.logger.info("starting remote peer", { "remote-peer-id": idString(id) });
    this.status = new PeerStatus(ctx.logger, ctx.id, id, ctx.clock, ctx.metrics);
    this.picker = new URLPicker(urls);
    this.pipeline = new Pipeline(ctx, id, this.picker, this.status);
    this.msgAppV2Writer = new StreamWriter(ctx, id, "msgapp", this.status);
    this.writer = new StreamWriter(ctx, id, "message", this.status);
    this.snapSender = new SnapshotSender(ctx, id, this.picker, this.status);
    const deliver = (m: Message): void => this.receive(m);
    this.msgAppV2Reader = new StreamReader(ctx, id, "msgapp", this.picker, this.status, deliver);
    this.msgAppReader = new StreamReader(ctx, id, "message", this.picker, this.status, deliver);
    this.msgAppV2Reader.start();
    this.msgAppReader.start();
    ctx.logger.info("started remote peer", { "remote-peer-id": idString(id) });
  }

  /**
   * Sends `m` without waiting; when the chosen channel is full the message is dropped and raft
   * told the peer is unreachable (and, for MsgSnap, that the snapshot failed).
   */
  send(m: Message): void {
    if (this.paused || this.stopped) return;
    const [name, ok] = this.pickAndSend(m);
    if (ok) return;
    this.ctx.raft.reportUnreachable(m.to);
    if (m.type === MessageType.MsgSnap) this.ctx.raft.reportSnapshot(m.to, "failure");
    this.ctx.logger.warn("dropped internal Raft message since sending buffer is full (overloaded network)", {
      "message-type": messageTypeName(m.type),
      "local-member-id": idString(this.ctx.id),
      from: idString(m.from),
      "remote-peer-id": idString(this.id),
      "remote-peer-name": name,
      "remote-peer-active": this.status.isActive(),
    });
    this.ctx.metrics.sentFailures.add({ To: idString(m.to) });
  }

  /**
   * etcd's peer.pick: MsgSnap → pipeline (a big message would hold a stream); MsgApp → the msgapp
   * stream when connected; else the message stream when connected; else the pipeline.
   */
  pick(m: Message): ChannelName {
    if (m.type === MessageType.MsgSnap) return "pipeline";
    if (m.type === MessageType.MsgApp && this.msgAppV2Writer.working()) return "streamMsgAppV2";
    if (this.writer.working()) return "streamMsg";
    return "pipeline";
  }

  private pickAndSend(m: Message): [ChannelName, boolean] {
    const name = this.pick(m);
    switch (name) {
      case "streamMsgAppV2":
        return [name, this.msgAppV2Writer.send(m)];
      case "streamMsg":
        return [name, this.writer.send(m)];
      case "pipeline":
        return [name, this.pipeline.send(m)];
    }
  }

  /** Sends a MsgSnap and the backend's bytes on the snapshot sender. */
  sendSnap(m: Message, db: () => AsyncIterable<Uint8Array>): Promise<void> {
    return this.snapSender.send(m, db);
  }

  update(urls: readonly string[]): void {
    this.picker.update(urls);
  }

  /** Hands a socket the peer opened to us to the writer of its kind (the writer owns it now). */
  attachOutgoingConn(kind: StreamKind, conn: PeerConn): void {
    if (this.stopped) {
      conn.close();
      return;
    }
    (kind === "msgapp" ? this.msgAppV2Writer : this.writer).attach(conn);
  }

  /** Clock ms since the peer became active, 0 while it is not. */
  activeSince(): number {
    return this.status.activeSince();
  }

  /** Drops everything sent to and received from the peer until resume (etcd's Pause, for tests). */
  pause(): void {
    this.paused = true;
    this.msgAppReader.pause();
    this.msgAppV2Reader.pause();
  }

  resume(): void {
    this.paused = false;
    this.msgAppReader.resume();
    this.msgAppV2Reader.resume();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.logger.info("stopping remote peer", { "remote-peer-id": idString(this.id) });
    this.recvc.clear();
    this.propc.clear();
    this.msgAppV2Writer.stop();
    this.writer.stop();
    this.pipeline.stop();
    this.snapSender.stop();
    this.msgAppV2Reader.stop();
    this.msgAppReader.stop();
    this.ctx.logger.info("stopped remote peer", { "remote-peer-id": idString(this.id) });
  }

  /** Queues a message read from a stream: proposals on propc, the rest on recvc; dropped when full. */
  private receive(m: Message): void {
    if (this.stopped) return;
    const which = m.type === MessageType.MsgProp ? "propc" : "recvc";
    const q = this[which];
    if (!q.push(m)) {
      const active = this.status.isActive();
      this.ctx.logger.warn(
        active
          ? "dropped internal Raft message since receiving buffer is full (overloaded network)"
          : "dropped Raft message since receiving buffer is full (overloaded network)",
        {
          "message-type": messageTypeName(m.type),
          "local-member-id": idString(this.ctx.id),
          from: idString(m.from),
          "remote-peer-id": idString(m.to),
          "remote-peer-active": active,
        },
      );
      this.ctx.metrics.recvFailures.add({ From: idString(m.from) });
      return;
    }
    if (!this.draining[which]) void this.drain(which, q);
  }

  /** Steps queued messages into raft one at a time, in arrival order. */
  private async drain(which: "recvc" | "propc", q: BoundedQueue<Message>): Promise<void> {
    this.draining[which] = true;
    try {
      for (let m = q.shift(); m !== undefined && !this.stopped; m = q.shift()) {
        try {
          await this.ctx.raft.process(m);
        } catch (err) {
          this.ctx.logger.warn("failed to process Raft message", { error: errorText(err) });
        }
      }
    } finally {
      this.draining[which] = false;
    }
  }

  /** For logs: which streams are up. */
  describe(): string {
    const up = (r: StreamReader) => (r.connected() ? "up" : "down");
    return `${idString(this.id)} ${streamTypeName("msgapp")} ${up(this.msgAppV2Reader)}, ${streamTypeName("message")} ${up(this.msgAppReader)}`;
  }
}
