/**
 * What a peer's senders and readers share with their transport: the configuration, the raft
 * handler, the injected runtime (dialer, fetch, clock) and the critical-error report (etcd's
 * fields of Transport that peer.go, pipeline.go and stream.go read).
 */
import type { Clock } from "../platform.js";
import type { TransportMetrics } from "./metrics.js";
import type { FetchFn, PeerDialer, RaftHandler } from "./types.js";
import type { HeaderSource, TransportLogger } from "./util.js";

export interface TransportContext extends HeaderSource {
  raft: RaftHandler;
  dialer: PeerDialer;
  fetch: FetchFn;
  clock: Clock;
  logger: TransportLogger;
  dialTimeoutMs: number;
  metrics: TransportMetrics;
  /** A peer said this member was removed (etcd's reportCriticalError(errMemberRemoved)). */
  reportRemoved(): void;
}
