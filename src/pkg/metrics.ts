/**
 * A small Prometheus registry (text exposition format 0.0.4): counters and gauges, optionally with
 * one set of labels, and gauges computed at scrape time. Enough for etcd's basic metrics; names and
 * help strings are etcd's, chosen where each metric is defined.
 */

/** Label names to values. */
export type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `{a="x",b="y"}` with the names sorted, as client_golang prints them; `le` (histograms) goes last. */
export function labelText(l: Labels | undefined, le?: string): string {
  const parts =
    l === undefined
      ? []
      : Object.keys(l)
          .sort()
          .map((k) => `${k}="${escapeLabel(l[k]!)}"`);
  if (le !== undefined) parts.push(`le="${le}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/**
 * A sample value as client_golang prints it: Go's strconv.FormatFloat(v, 'g', -1, 64), the shortest
 * digits that read back as `v`, in exponent form when the decimal exponent is below -4 or at least 6
 * (`20480`, `2.147483648e+09`, `0.0001`, `1e-05`).
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  // toExponential() without an argument gives the shortest round-trip digits, as Go's 'g' with -1.
  const [mant, expText] = v.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(v);
}

/** One line of a metric family: labels, value, and the name's suffix (`_bucket`, `_sum`, `_count`). */
export type Sample = [labels: Labels | undefined, value: number, suffix?: string, le?: string];

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  samples(): Sample[];
}

export class Counter implements Metric {
  readonly type = "counter";
  private value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(by = 1): void {
    this.value += by;
  }
  get(): number {
    return this.value;
  }
  samples(): Sample[] {
    return [[undefined, this.value]];
  }
}

export class Gauge implements Metric {
  readonly type = "gauge";
  private value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labels?: Labels,
  ) {}
  set(v: number): void {
    this.value = v;
  }
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
  get(): number {
    return this.value;
  }
  samples(): Sample[] {
    return [[this.labels, this.value]];
  }
}

/** A counter or gauge read from `f` at every scrape; no sample while `f` gives undefined. */
export class ValueFunc implements Metric {
  constructor(
    readonly type: "counter" | "gauge",
    readonly name: string,
    readonly help: string,
    private readonly f: () => number | undefined,
  ) {}
  samples(): Sample[] {
    const v = this.f();
    return v === undefined ? [] : [[undefined, v]];
  }
}

function labelsKey(l: Labels): string {
  return labelText(l);
}

/** A counter or gauge with one sample per label set (client_golang's CounterVec, GaugeVec). */
export class MetricVec implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  add(labels: Labels, by = 1): void {
    const k = labelsKey(labels);
    const cur = this.values.get(k);
    if (cur === undefined) this.values.set(k, { labels, value: by });
    else cur.value += by;
  }

  get(labels: Labels): number {
    return this.values.get(labelsKey(labels))?.value ?? 0;
  }

  samples(): Sample[] {
    return sortedByLabels(this.values).map(({ labels, value }) => [labels, value]);
  }
}

/** Prometheus' ExponentialBuckets(start, factor, count). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) out.push(b);
  return out;
}

/** A histogram with one series per label set; cumulative buckets as client_golang prints them. */
export class HistogramVec implements Metric {
  readonly type = "histogram";
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, v: number): void {
    const k = labelsKey(labels);
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
    return this.series.get(labelsKey(labels))?.count ?? 0;
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    for (const s of sortedByLabels(this.series)) {
      this.buckets.forEach((b, i) => out.push([s.labels, s.counts[i]!, "_bucket", formatValue(b)]));
      out.push([s.labels, s.count, "_bucket", "+Inf"], [s.labels, s.sum, "_sum"], [s.labels, s.count, "_count"]);
    }
    return out;
  }
}

/** The entries of a vector in client_golang's order: by their label values. */
function sortedByLabels<T>(m: Map<string, T>): T[] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metrics: duplicate metric ${m.name}`);
    this.metrics.push(m);
    return m;
  }

  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }

  gauge(name: string, help: string, labels?: Labels): Gauge {
    return this.register(new Gauge(name, help, labels));
  }

  gaugeFunc(name: string, help: string, f: () => number | undefined): ValueFunc {
    return this.register(new ValueFunc("gauge", name, help, f));
  }

  counterFunc(name: string, help: string, f: () => number | undefined): ValueFunc {
    return this.register(new ValueFunc("counter", name, help, f));
  }

  /**
   * The text exposition, metrics sorted by name. A metric with no sample yet (a vector nobody has
   * touched) is left out, as client_golang's Gather leaves out empty families.
   */
  text(): string {
    const out: string[] = [];
    for (const m of [...this.metrics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const samples = m.samples();
      if (samples.length === 0) continue;
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      for (const [l, v, suffix, le] of samples) out.push(`${m.name}${suffix ?? ""}${labelText(l, le)} ${formatValue(v)}`);
    }
    return out.join("\n") + "\n";
  }
}
