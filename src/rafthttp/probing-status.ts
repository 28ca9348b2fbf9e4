/**
 * The peer prober (etcd's probing_status.go over xiang90/probing): every {@link proberInterval}
 * GET `{url}/raft/probing` on each of the peer's URLs, feed the round-trip time into
 * etcd_network_peer_round_trip_time_seconds{To} and warn while the peer does not answer.
 */
import type { TransportContext } from "./context.js";
import { errorText, idString, joinURL, ProbingPrefix, proberInterval } from "./util.js";

/** The prober handler's answer (probing.Health). */
export interface ProbeHealth {
  OK: boolean;
  Now: string;
}

export class Prober {
  private cancel: () => void = () => {};
  private readonly abort = new AbortController();
  private stopped = false;
  private healthy = true;

  constructor(
    private readonly ctx: TransportContext,
    readonly peerID: bigint,
    private urls: readonly string[],
  ) {
    this.schedule();
  }

  update(urls: readonly string[]): void {
    this.urls = [...urls];
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
    this.abort.abort();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.ctx.clock.setTimer(proberInterval, () => void this.probe().finally(() => this.schedule()));
  }

  private async probe(): Promise<void> {
    const id = idString(this.peerID);
    for (const u of this.urls) {
      if (this.stopped) return;
      const start = this.ctx.clock.now();
      try {
        const resp = await this.ctx.fetch(joinURL(u, ProbingPrefix), { method: "GET", signal: this.abort.signal });
        const h = (await resp.json()) as ProbeHealth;
        if (!h.OK) throw new Error(`unhealthy probe answer from ${u}`);
        this.ctx.metrics.rttSec.observe({ To: id }, (this.ctx.clock.now() - start) / 1000);
        this.healthy = true;
      } catch (err) {
        if (this.stopped) return;
        if (this.healthy) {
          this.ctx.logger.warn("prober detected unhealthy status", {
            "round-tripper-name": "ROUND_TRIPPER_RAFT_MESSAGE",
            "remote-peer-id": id,
            error: errorText(err),
          });
        }
        this.healthy = false;
      }
    }
  }
}
