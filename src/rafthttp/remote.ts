/**
 * A pipeline-only peer (etcd's remote.go) for a member not (yet) in the local membership: it lets
 * a newly joined member answer the leader before it knows the leader as a peer.
 */
import type { Message } from "../raft/index.js";
import type { TransportContext } from "./context.js";
import { PeerStatus } from "./peer-status.js";
import { Pipeline } from "./pipeline.js";
import { URLPicker } from "./urlpick.js";
import { idString, messageTypeName } from "./util.js";

export class Remote {
  private readonly status: PeerStatus;
  private pipeline: Pipeline;
  private readonly picker: URLPicker;

  constructor(
    private readonly ctx: TransportContext,
    readonly id: bigint,
    urls: readonly string[],
  ) {
    this.picker = new URLPicker(urls);
    this.status = new PeerStatus(ctx.logger, ctx.id, id, ctx.clock, ctx.metrics);
    this.pipeline = new Pipeline(ctx, id, this.picker, this.status);
  }

  send(m: Message): void {
    if (this.pipeline.send(m)) return;
    const active = this.status.isActive();
    this.ctx.logger.warn(
      active
        ? "dropped internal Raft message since sending buffer is full (overloaded network)"
        : "dropped Raft message since sending buffer is full (overloaded network)",
      {
        "message-type": messageTypeName(m.type),
        "local-member-id": idString(this.ctx.id),
        from: idString(m.from),
        "remote-peer-id": idString(this.id),
        "remote-peer-active": active,
      },
    );
    this.ctx.metrics.sentFailures.add({ To: idString(m.to) });
  }

  stop(): void {
    this.pipeline.stop();
  }

  pause(): void {
    this.pipeline.stop();
  }

  resume(): void {
    this.pipeline = new Pipeline(this.ctx, this.id, this.picker, this.status);
  }
}
