/**
 * The snapshot sender (etcd's snapshot_sender.go): `POST /raft/snapshot` whose body is the MsgSnap
 * framed as 8-byte big-endian length + raftpb.Message, then the backend's bytes until the end.
 * One request per snapshot; the outcome goes to raft through reportSnapshot.
 */
import { encodeMessage, type Message } from "../raft/index.js";
import type { TransportContext } from "./context.js";
import type { PeerStatus } from "./peer-status.js";
import { RemovedMemberError } from "./types.js";
import type { URLPicker } from "./urlpick.js";
import {
  checkPostResponse,
  errorText,
  ErrStopped,
  humanizeBytes,
  idString,
  joinURL,
  RaftSnapshotPrefix,
  rafthttpHeaders,
  snapResponseReadTimeout,
} from "./util.js";

/** The 8-byte big-endian length prefix and the message (etcd's messageEncoder frame). */
export function encodeFramedMessage(m: Message): Uint8Array {
  const b = encodeMessage(m);
  const out = new Uint8Array(8 + b.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(b.length));
  out.set(b, 8);
  return out;
}

export class SnapshotSender {
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: TransportContext,
    readonly peerID: bigint,
    private readonly picker: URLPicker,
    private readonly status: PeerStatus,
  ) {}

  stop(): void {
    this.abort.abort(ErrStopped);
  }

  /** Sends the snapshot; resolves when raft has been told how it ended (never rejects). */
  async send(m: Message, db: () => AsyncIterable<Uint8Array>): Promise<void> {
    const ctx = this.ctx;
    const start = ctx.clock.now();
    const to = idString(m.to);
    const index = m.snapshot?.metadata.index ?? 0;
    const head = encodeFramedMessage(m);
    let total = head.length;
    let bodyDone = false;
    const req = new AbortController();
    // Once the body is sent, wait at most snapResponseReadTimeout for the answer: the peer may die
    // right after receiving it (etcd's snapResponseReadTimeout).
    let cancelRead = (): void => {};
    const bodySent = (): void => {
      bodyDone = true;
      cancelRead = ctx.clock.setTimer(snapResponseReadTimeout, () => req.abort(new Error("snapshot response timed out")));
    };
    const source = db()[Symbol.asyncIterator]();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(head);
      },
      async pull(c) {
        const r = await source.next();
        if (r.done) {
          c.close();
          bodySent();
          return;
        }
        total += r.value.length;
        c.enqueue(r.value);
      },
      async cancel() {
        await source.return?.();
      },
    });
    const u = this.picker.pick();
    const url = joinURL(u, RaftSnapshotPrefix);
    const headers = rafthttpHeaders(ctx);
    ctx.logger.info("sending database snapshot", { "snapshot-index": index, "remote-peer-id": to });
    ctx.metrics.snapshotSendInflights.add({ To: to }, 1);

    let err: Error | undefined;
    const onStop = (): void => req.abort(ErrStopped);
    this.abort.signal.addEventListener("abort", onStop, { once: true });
    try {
      const resp = await ctx.fetch(url, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/octet-stream" },
        body,
        signal: req.signal,
        // Node's fetch refuses a stream body without it (the request body is sent before the response).
        duplex: "half",
      } as RequestInit);
      const text = await resp.text();
      err = checkPostResponse(
        ctx.logger,
        resp.status,
        text,
        resp.headers.get("X-Etcd-Cluster-ID"),
        headers["X-Etcd-Cluster-ID"]!,
        this.peerID,
        url,
        () => new RemovedMemberError(),
      );
    } catch (e) {
      err = e instanceof Error ? e : new Error(errorText(e));
    } finally {
      // A peer that answered (or failed) before taking the whole body: the backend's stream is
      // given up, so it lets go of its snapshot.
      if (!bodyDone) await source.return?.().catch(() => {});
      cancelRead();
      this.abort.signal.removeEventListener("abort", onStop);
      ctx.metrics.snapshotSendInflights.add({ To: to }, -1);
    }

    const sizeFields = { bytes: total, size: humanizeBytes(total) };
    if (err !== undefined) {
      ctx.logger.warn("failed to send database snapshot", {
        "snapshot-index": index,
        "remote-peer-id": to,
        ...sizeFields,
        error: err.message,
      });
      if (err instanceof RemovedMemberError) ctx.reportRemoved();
      this.picker.unreachable(u);
      this.status.deactivate({ source: "sendMsgSnap", action: "post" }, err.message);
      ctx.raft.reportUnreachable(m.to);
      ctx.raft.reportSnapshot(m.to, "failure");
      ctx.metrics.sentFailures.add({ To: to });
      ctx.metrics.snapshotSendFailures.add({ To: to });
      return;
    }
    this.status.activate();
    ctx.raft.reportSnapshot(m.to, "finish");
    ctx.logger.info("sent database snapshot", {
      "snapshot-index": index,
      "remote-peer-id": to,
      ...sizeFields,
      took: `${((ctx.clock.now() - start) / 1000).toFixed(3)}s`,
    });
    ctx.metrics.sentBytes.add({ To: to }, total);
    ctx.metrics.snapshotSend.add({ To: to });
  }
}
