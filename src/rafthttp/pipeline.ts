/**
 * The pipeline (etcd's pipeline.go): one `POST /raft` per message, at most
 * {@link connPerPipeline} in flight, {@link pipelineBufSize} queued. Used for MsgSnap, and for
 * everything while the streams are down.
 */
import { encodeMessage, MessageType, type Message } from "../raft/index.js";
import type { TransportContext } from "./context.js";
import type { PeerStatus } from "./peer-status.js";
import { RemovedMemberError } from "./types.js";
import type { URLPicker } from "./urlpick.js";
import {
  BoundedQueue,
  checkPostResponse,
  ConnWriteTimeout,
  connPerPipeline,
  errorText,
  ErrStopped,
  idString,
  joinURL,
  pipelineBufSize,
  RaftPrefix,
  rafthttpHeaders,
} from "./util.js";

export class Pipeline {
  private readonly queue = new BoundedQueue<Message>(pipelineBufSize);
  private inflight = 0;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: TransportContext,
    readonly peerID: bigint,
    private readonly picker: URLPicker,
    private readonly status: PeerStatus,
  ) {
    ctx.logger.info("started HTTP pipelining with remote peer", {
      "local-member-id": idString(ctx.id),
      "remote-peer-id": idString(peerID),
    });
  }

  /** Queues `m`; false when the queue is full (the caller drops it and reports). */
  send(m: Message): boolean {
    if (this.stopped) return false;
    if (!this.queue.push(m)) return false;
    if (this.inflight < connPerPipeline) void this.handle();
    return true;
  }

  /** Messages waiting for a free connection. */
  pending(): number {
    return this.queue.length;
  }

  /** Aborts the posts in flight and drops what is queued. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.clear();
    this.abort.abort(ErrStopped);
    this.ctx.logger.info("stopped HTTP pipelining with remote peer", {
      "local-member-id": idString(this.ctx.id),
      "remote-peer-id": idString(this.peerID),
    });
  }

  /** One of the {@link connPerPipeline} workers: posts queued messages until the queue is empty. */
  private async handle(): Promise<void> {
    this.inflight++;
    try {
      for (let m = this.queue.shift(); m !== undefined && !this.stopped; m = this.queue.shift()) {
        const data = encodeMessage(m);
        const err = await this.post(data);
        if (this.stopped) return;
        const raft = this.ctx.raft;
        if (err !== undefined) {
          this.status.deactivate({ source: "pipeline", action: "write" }, err.message);
          raft.reportUnreachable(m.to);
          if (m.type === MessageType.MsgSnap) raft.reportSnapshot(m.to, "failure");
          this.ctx.metrics.sentFailures.add({ To: idString(m.to) });
          continue;
        }
        this.status.activate();
        if (m.type === MessageType.MsgSnap) raft.reportSnapshot(m.to, "finish");
        this.ctx.metrics.sentBytes.add({ To: idString(m.to) }, data.length);
      }
    } finally {
      this.inflight--;
    }
  }

  private async post(data: Uint8Array): Promise<Error | undefined> {
    const u = this.picker.pick();
    const url = joinURL(u, RaftPrefix);
    const headers = rafthttpHeaders(this.ctx);
    // A peer that accepts the connection and never answers would hold this worker forever
    // (etcd's pipeline round tripper has a dial timeout; fetch has none), so bound the request.
    const req = new AbortController();
    const cancelTimer = this.ctx.clock.setTimer(this.ctx.dialTimeoutMs + ConnWriteTimeout, () =>
      req.abort(new Error("request timed out")),
    );
    const onStop = (): void => req.abort(ErrStopped);
    this.abort.signal.addEventListener("abort", onStop, { once: true });
    try {
      const resp = await this.ctx.fetch(url, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/protobuf" },
        body: data as Uint8Array<ArrayBuffer>,
        signal: req.signal,
      });
      const body = await resp.text();
      const err = checkPostResponse(
        this.ctx.logger,
        resp.status,
        body,
        resp.headers.get("X-Etcd-Cluster-ID"),
        headers["X-Etcd-Cluster-ID"]!,
        this.peerID,
        url,
        () => new RemovedMemberError(),
      );
      if (err !== undefined) {
        this.picker.unreachable(u);
        if (err instanceof RemovedMemberError) this.ctx.reportRemoved();
      }
      return err;
    } catch (err) {
      this.picker.unreachable(u);
      return err instanceof Error ? err : new Error(errorText(err));
    } finally {
      cancelTimer();
      this.abort.signal.removeEventListener("abort", onStop);
    }
  }
}
