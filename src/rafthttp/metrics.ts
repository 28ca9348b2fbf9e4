/**
 * rafthttp's metrics with etcd's names, help strings and labels (etcd's rafthttp/metrics.go).
 *
 * src/pkg/metrics.ts has counters and gauges with one fixed label set; these need a sample per
 * label value (`To`, `From`, `Local`/`Remote`), so the vectors are defined here and registered in
 * the shared Registry. The registry has no histogram kind, so the round-trip-time histogram keeps
 * its own exposition text ({@link HistogramVec.text}); {@link TransportMetrics.histogramText}
 * gives it to whoever serves /metrics.
 */
import type { Registry } from "../pkg/metrics.js";

type Labels = Record<string, string>;

function key(l: Labels): string {
  return JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
}

/** A counter or gauge with one sample per label set. */
export class MetricVec {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  add(labels: Labels, by = 1): void {
    const k = key(labels);
    const cur = this.values.get(k);
    if (cur === undefined) this.values.set(k, { labels, value: by });
    else cur.value += by;
  }

  get(labels: Labels): number {
    return this.values.get(key(labels))?.value ?? 0;
  }

  samples(): [Labels | undefined, number][] {
    return [...this.values.values()].map((s) => [s.labels, s.value]);
  }
}

function escape(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(l: Labels): string {
  const parts = Object.keys(l)
    .sort()
    .map((k) => `${k}="${escape(l[k]!)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Prometheus' ExponentialBuckets(start, factor, count). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) out.push(b);
  return out;
}

/** A histogram with one series per label set; cumulative buckets as Prometheus prints them. */
export class HistogramVec {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, v: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (s === undefined) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }

  /** Observations so far for `labels`. */
  count(labels: Labels): number {
    return this.series.get(key(labels))?.count ?? 0;
  }

  /** The text exposition (format 0.0.4) of this histogram. */
  text(): string {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`);
      });
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out.join("\n") + "\n";
  }
}

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
    ]) {
      registry.register(m);
    }
  }

  /** The exposition text of the metrics the Registry cannot hold (the RTT histogram). */
  histogramText(): string {
    return this.rttSec.text();
  }
}
