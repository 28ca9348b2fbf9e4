/**
 * The `edgecd` command's usage and help text, in etcd's layout and wording (etcdmain/help.go,
 * 3.5), listing the flags that take effect in edgecd. Other etcd flags are accepted (see
 * flags.ts) and listed at the end.
 */
import { flagDefs } from "./flags.js";

/** etcd's usage line (printed on stderr after a flag error, and before the help text). */
export const usageline = `Usage:

  edgecd [flags]
    Start an edgecd (etcd) server.

  edgecd --version
    Show the version of edgecd.

  edgecd -h | --help
    Show the help information about edgecd.

  edgecd --config-file
    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.
`;

/** The flags that take effect, grouped and worded as in etcd's help. */
const supportedHelp = `
Member:
  --name 'default'
    Human-readable name for this member.
  --data-dir '\${name}.etcd'
    Path to the data directory.
  --snapshot-count '100000'
    Number of committed transactions to trigger a snapshot to disk.
  --heartbeat-interval '100'
    Time (in milliseconds) of a heartbeat interval.
  --election-timeout '1000'
    Time (in milliseconds) for an election to timeout. See tuning documentation for details.
  --initial-election-tick-advance 'true'
    Whether to fast-forward initial election ticks on boot for faster election.
  --listen-peer-urls 'http://localhost:2380'
    List of URLs to listen on for peer traffic.
  --listen-client-urls 'http://localhost:2379'
    List of URLs to listen on for client traffic.
  --quota-backend-bytes '0'
    Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).
  --max-txn-ops '128'
    Maximum number of operations permitted in a transaction.
  --max-request-bytes '1572864'
    Maximum client request size in bytes the server will accept.
  --enable-grpc-gateway
    Enable GRPC gateway.

Clustering:
  --initial-advertise-peer-urls 'http://localhost:2380'
    List of this member's peer URLs to advertise to the rest of the cluster.
  --initial-cluster 'default=http://localhost:2380'
    Initial cluster configuration for bootstrapping.
  --initial-cluster-state 'new'
    Initial cluster state ('new' when bootstrapping a new cluster or 'existing' when adding new members to an existing cluster).
    After successful initialization (bootstrapping or adding), flag is ignored on restarts.
  --initial-cluster-token 'etcd-cluster'
    Initial cluster token for the etcd cluster during bootstrap.
    Specifying this can protect you from unintended cross-cluster interaction when running multiple clusters.
  --advertise-client-urls 'http://localhost:2379'
    List of this member's client URLs to advertise to the public.
    The client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster.
  --strict-reconfig-check 'true'
    Reject reconfiguration requests that would cause quorum loss.
  --pre-vote 'true'
    Enable to run an additional Raft election phase.
  --auto-compaction-retention '0'
    Auto compaction retention length. 0 means disable auto compaction.
  --auto-compaction-mode 'periodic'
    Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.

Security:
  --cors '*'
    Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).
  --host-whitelist '*'
    Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).

Logging:
  --logger 'zap'
    Currently only supports 'zap' for structured logging.
  --log-outputs 'default'
    Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.
  --log-level 'info'
    Configures log level. Only supports debug, info, warn, error, panic, or fatal.

Experimental feature:
  --experimental-enable-lease-checkpoint 'false'
    ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases.
  --experimental-enable-lease-checkpoint-persist 'false'
    Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases. Always enabled in v3.6. Should be used to ensure smooth upgrade from v3.5 clusters with this feature enabled. Requires experimental-enable-lease-checkpoint to be enabled.
  --experimental-compaction-batch-limit 1000
    ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch.
  --experimental-watch-progress-notify-interval '10m'
    Duration of periodical watch progress notification.
  --experimental-warning-apply-duration '100ms'
    Warning is generated if requests take more than this duration.
`;

function wrap(names: string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let line = indent;
  for (const n of names) {
    const word = `--${n}`;
    if (line.length + word.length + 1 > width && line !== indent) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  if (line !== indent) lines.push(line.trimEnd());
  return lines.join("\n");
}

/** The help text (`--help`, on stdout after the usage line on stderr, exit 0). */
export function flagsline(): string {
  const noop = flagDefs.filter((f) => f.support === "noop" && f.kind !== "ignored").map((f) => f.name);
  const unsupported = flagDefs.filter((f) => f.support === "unsupported").map((f) => f.name);
  return `${supportedHelp}
Storage:
  {data-dir}/member/wal holds the write-ahead log, {data-dir}/member/snap the raft snapshots and the
  LMDB backend (snap/db). A data dir holding member/ restarts that member.

Accepted for etcd compatibility, no effect yet (a warning when set):
${wrap(noop, "  ")}

Accepted, but not supported yet (a value other than the default stops the start):
${wrap(unsupported, "  ")}

Environment: every flag can be set as ETCD_<FLAG> (upper case, '-' as '_'); a flag given on the command line and in the environment is an error.
`;
}
