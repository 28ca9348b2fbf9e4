/**
 * The server's configuration (etcd's etcdserver.ServerConfig): what `EtcdServer` needs once the
 * command line, environment and config file (src/etcdmain) have been parsed and validated.
 * Durations are milliseconds; sizes bytes. Derived values (election ticks, request timeout, minimum
 * lease TTL) are computed here exactly as etcd computes them.
 */

export type ClusterState = "new" | "existing";
export type AutoCompactionMode = "periodic" | "revision";

export interface ServerConfig {
  /** --name */
  name: string;
  /** --data-dir (`${name}.etcd` by default); unused by the in-memory storage. */
  dataDir: string;
  /** --initial-advertise-peer-urls: this member's peer URLs as the others dial them. */
  peerURLs: string[];
  /** --advertise-client-urls */
  clientURLs: string[];
  /** --initial-cluster, as name → peer URLs (a name may carry several URLs). */
  initialCluster: Map<string, string[]>;
  /** --initial-cluster-state */
  initialClusterState: ClusterState;
  /** --initial-cluster-token */
  initialClusterToken: string;
  /** --heartbeat-interval (ms): one raft tick. */
  tickMs: number;
  /** --election-timeout (ms). */
  electionMs: number;
  /** --initial-election-tick-advance */
  initialElectionTickAdvance: boolean;
  /** --snapshot-count */
  snapshotCount: number;
  /** --max-txn-ops */
  maxTxnOps: number;
  /** --max-request-bytes */
  maxRequestBytes: number;
  /** --quota-backend-bytes (0: {@link DefaultQuotaBytes}). */
  quotaBackendBytes: number;
  /** --auto-compaction-mode */
  autoCompactionMode: AutoCompactionMode;
  /**
   * --auto-compaction-retention, parsed: for "periodic" a duration in ms, for "revision" a number
   * of revisions; 0 disables auto-compaction.
   */
  autoCompactionRetention: number;
  /** --pre-vote */
  preVote: boolean;
  /** --strict-reconfig-check */
  strictReconfigCheck: boolean;
  /** --experimental-enable-lease-checkpoint */
  leaseCheckpoint: boolean;
  /** --experimental-enable-lease-checkpoint-persist */
  leaseCheckpointPersist: boolean;
  /** --experimental-compaction-batch-limit */
  compactionBatchLimit: number;
  /** --experimental-snapshot-catchup-entries: raft entries kept behind a snapshot for slow followers. */
  snapshotCatchUpEntries: number;
  /** --experimental-watch-progress-notify-interval (ms) */
  watchProgressNotifyInterval: number;
  /** --experimental-warning-apply-duration (ms) */
  warningApplyDuration: number;
}

/** etcd's DefaultQuotaBytes: 2 GiB. */
export const DefaultQuotaBytes = 2 * 1024 * 1024 * 1024;
/** etcd's MaxQuotaBytes: above it etcd warns. */
export const MaxQuotaBytes = 8 * 1024 * 1024 * 1024;
/** etcd's defaults (embed.NewConfig, 3.5). */
export const DefaultMaxRequestBytes = 1.5 * 1024 * 1024;
export const DefaultMaxTxnOps = 128;
export const DefaultSnapshotCount = 100_000;
export const DefaultTickMs = 100;
export const DefaultElectionMs = 1000;
export const DefaultWatchProgressNotifyInterval = 10 * 60 * 1000;
export const DefaultCompactionBatchLimit = 1000;
/** etcd's DefaultSnapshotCatchUpEntries. */
export const DefaultSnapshotCatchUpEntries = 5000;
export const DefaultWarningApplyDuration = 100;

/** A configuration with etcd's defaults for a single member named `name`. */
export function defaultServerConfig(name = "default"): ServerConfig {
  return {
    name,
    dataDir: `${name}.etcd`,
    peerURLs: ["http://localhost:2380"],
    clientURLs: ["http://localhost:2379"],
    initialCluster: new Map([[name, ["http://localhost:2380"]]]),
    initialClusterState: "new",
    initialClusterToken: "etcd-cluster",
    tickMs: DefaultTickMs,
    electionMs: DefaultElectionMs,
    initialElectionTickAdvance: true,
    snapshotCount: DefaultSnapshotCount,
    maxTxnOps: DefaultMaxTxnOps,
    maxRequestBytes: DefaultMaxRequestBytes,
    quotaBackendBytes: 0,
    autoCompactionMode: "periodic",
    autoCompactionRetention: 0,
    preVote: true,
    strictReconfigCheck: true,
    leaseCheckpoint: false,
    leaseCheckpointPersist: false,
    compactionBatchLimit: DefaultCompactionBatchLimit,
    snapshotCatchUpEntries: DefaultSnapshotCatchUpEntries,
    watchProgressNotifyInterval: DefaultWatchProgressNotifyInterval,
    warningApplyDuration: DefaultWarningApplyDuration,
  };
}

/** Raft election ticks: election timeout / heartbeat interval, integer division (etcd). */
export function electionTicks(c: ServerConfig): number {
  return Math.floor(c.electionMs / c.tickMs);
}

/** etcd's ReqTimeout: 5 s + 2 × election timeout. */
export function requestTimeoutMs(c: ServerConfig): number {
  return 5000 + 2 * c.electionMs;
}

/** etcd's minimum lease TTL in seconds: ceil(⌊3 × election ticks / 2⌋ × tick), about 1.5 × election timeout. */
export function minLeaseTTLSeconds(c: ServerConfig): number {
  return Math.ceil((Math.floor((3 * electionTicks(c)) / 2) * c.tickMs) / 1000);
}

/** The backend quota in bytes (0 in the config means the default). */
export function quotaBytes(c: ServerConfig): number {
  return c.quotaBackendBytes > 0 ? c.quotaBackendBytes : DefaultQuotaBytes;
}
