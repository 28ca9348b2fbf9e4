/**
 * A small Prometheus registry (text exposition format 0.0.4): counters and gauges, optionally with
 * one set of labels, and gauges computed at scrape time. Enough for etcd's basic metrics; names and
 * help strings are etcd's, chosen where each metric is defined.
 */

type Labels = Record<string, string>;

function labelText(l: Labels | undefined): string {
  if (l === undefined) return "";
  const parts = Object.keys(l)
    .sort()
    .map((k) => `${k}="${l[k]!.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  samples(): [Labels | undefined, number][];
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
  samples(): [Labels | undefined, number][] {
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
  samples(): [Labels | undefined, number][] {
    return [[this.labels, this.value]];
  }
}

/** A gauge read from `f` at every scrape. */
export class GaugeFunc implements Metric {
  readonly type = "gauge";
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly f: () => number,
  ) {}
  samples(): [Labels | undefined, number][] {
    return [[undefined, this.f()]];
  }
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

  gaugeFunc(name: string, help: string, f: () => number): GaugeFunc {
    return this.register(new GaugeFunc(name, help, f));
  }

  /** The text exposition, metrics sorted by name. */
  text(): string {
    const out: string[] = [];
    for (const m of [...this.metrics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      for (const [l, v] of m.samples()) out.push(`${m.name}${labelText(l)} ${num(v)}`);
    }
    return out.join("\n") + "\n";
  }
}
