/**
 * Whether a peer is reachable and since when (etcd's peer_status.go). Every successful dial, post
 * or attach activates it; every failure deactivates it. `activeSince` feeds the server's quorum
 * checks (--strict-reconfig-check) and tick adjustment.
 */
import type { Clock } from "../platform.js";
import type { TransportMetrics } from "./metrics.js";
import { idString, type TransportLogger } from "./util.js";

/** Where a failure happened (a stream type, "pipeline", "sendMsgSnap") and what was being done. */
export interface FailureType {
  source: string;
  action: string;
}

export class PeerStatus {
  private active = false;
  private since = 0;

  constructor(
    private readonly logger: TransportLogger,
    private readonly local: bigint,
    readonly id: bigint,
    private readonly clock: Clock,
    private readonly metrics: TransportMetrics,
  ) {}

  activate(): void {
    if (this.active) return;
    this.logger.info("peer became active", { "peer-id": idString(this.id) });
    this.active = true;
    // 0 means "inactive", so a clock starting at 0 still reports an active peer.
    this.since = Math.max(this.clock.now(), Number.MIN_VALUE);
    this.metrics.activePeers.add(this.labels(), 1);
  }

  deactivate(failure: FailureType, reason: string): void {
    const msg = `failed to ${failure.action} ${idString(this.id)} on ${failure.source} (${reason})`;
    if (this.active) {
      this.logger.warn("peer became inactive (message send to peer failed)", { "peer-id": idString(this.id), error: msg });
      this.active = false;
      this.since = 0;
      this.metrics.activePeers.add(this.labels(), -1);
      this.metrics.disconnectedPeers.add(this.labels(), 1);
      return;
    }
    this.logger.debug("peer deactivated again", { "peer-id": idString(this.id), error: msg });
  }

  isActive(): boolean {
    return this.active;
  }

  /** Clock ms since when the peer is active, or 0 while it is not. */
  activeSince(): number {
    return this.since;
  }

  private labels(): Record<string, string> {
    return { Local: idString(this.local), Remote: idString(this.id) };
  }
}
