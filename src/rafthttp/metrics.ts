/**
 * rafthttp's metrics with etcd's names, help strings and labels (etcd's rafthttp/metrics.go).
 *
 * Each has a sample per label value (`To`, `From`, `Local`/`Remote`): vectors and a histogram from
 * src/pkg/metrics.ts, registered in the server's Registry.
 */
import { exponentialBuckets, HistogramVec, MetricVec, type Registry } from "../pkg/metrics.js";

/** The transport's metrics; registered in `registry` when one is given. */
export class TransportMetrics {
  readonly activePeers = new MetricVec("etcd_network_active_peers", "The current number of active peer connections.", "gauge");
  readonly disconnectedPeers = new MetricVec(
    "etcd_network_disconnected_peers_total",
    "The total number of disconnected peers.",
    "counter",
  );
  readonly sentBytes = new MetricVec("etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "counter");
  readonly receivedBytes = new MetricVec(
    "etcd_network_peer_received_bytes_total",
    "The total number of bytes received from peers.",
    "counter",
  );
  readonly sentFailures = new MetricVec(
    "etcd_network_peer_sent_failures_total",
    "The total number of send failures from peers.",
    "counter",
  );
  readonly recvFailures = new MetricVec(
    "etcd_network_peer_received_failures_total",
    "The total number of receive failures from peers.",
    "counter",
  );
  readonly snapshotSend = new MetricVec("etcd_network_snapshot_send_success", "Total number of successful snapshot sends", "counter");
  readonly snapshotSendFailures = new MetricVec(
    "etcd_network_snapshot_send_failures",
    "Total number of snapshot send failures",
    "counter",
  );
  readonly snapshotSendInflights = new MetricVec(
    "etcd_network_snapshot_send_inflights_total",
    "Total number of inflight snapshot sends",
    "gauge",
  );
  readonly snapshotReceive = new MetricVec(
    "etcd_network_snapshot_receive_success",
    "Total number of successful snapshot receives",
    "counter",
  );
  readonly snapshotReceiveFailures = new MetricVec(
    "etcd_network_snapshot_receive_failures",
    "Total number of snapshot receive failures",
    "counter",
  );
  readonly snapshotReceiveInflights = new MetricVec(
    "etcd_network_snapshot_receive_inflights_total",
    "Total number of inflight snapshot receives",
    "gauge",
  );
  /** Buckets 0.1 ms … 3.2768 s (etcd's ExponentialBuckets(0.0001, 2, 16)). */
  readonly rttSec = new HistogramVec(
    "etcd_network_peer_round_trip_time_seconds",
    "Round-Trip-Time histogram between peers",
    exponentialBuckets(0.0001, 2, 16),
  );

  constructor(registry?: Registry) {
    if (registry === undefined) return;
    for (const m of [
      this.activePeers,
      this.disconnectedPeers,
      this.sentBytes,
      this.receivedBytes,
      this.sentFailures,
      this.recvFailures,
      this.snapshotSend,
      this.snapshotSendFailures,
      this.snapshotSendInflights,
      this.snapshotReceive,
      this.snapshotReceiveFailures,
      this.snapshotReceiveInflights,
      this.rttSec,
    ]) {
      registry.register(m);
    }
  }
}
