// The Prometheus text exposition as etcd (client_golang) writes it: values in Go's
// FormatFloat(v, 'g', -1, 64), families sorted by name, empty families left out.
import { describe, expect, it } from "vitest";
import { exponentialBuckets, formatValue, Registry } from "../../src/pkg/metrics.js";

describe("formatValue", () => {
  it.each([
    [0, "0"],
    [1, "1"],
    [-1, "-1"],
    [20480, "20480"],
    [999999, "999999"],
    [1e6, "1e+06"],
    [2147483648, "2.147483648e+09"],
    [24756224, "2.4756224e+07"],
    [1795339050.35, "1.79533905035e+09"],
    [18446744073709551615, "1.8446744073709552e+19"],
    [0.03, "0.03"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [0.000123, "0.000123"],
    [1.5e-7, "1.5e-07"],
    [1e21, "1e+21"],
    [1e100, "1e+100"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ])("%s → %s", (v, want) => {
    expect(formatValue(v)).toBe(want);
  });

  it("prints etcd's RTT bucket bounds as Go does", () => {
    expect(exponentialBuckets(0.0001, 2, 16).map(formatValue)).toEqual([
      "0.0001", "0.0002", "0.0004", "0.0008", "0.0016", "0.0032", "0.0064", "0.0128",
      "0.0256", "0.0512", "0.1024", "0.2048", "0.4096", "0.8192", "1.6384", "3.2768",
    ]);
  });
});

describe("Registry", () => {
  it("sorts families by name, prints large values in exponent form and leaves out empty ones", () => {
    const r = new Registry();
    r.gaugeFunc("b_quota", "Quota.", () => 2147483648);
    r.counter("a_total", "A counter.").inc(3);
    r.gaugeFunc("c_absent", "Not known here.", () => undefined);
    r.counterFunc("d_cpu_seconds_total", "CPU.", () => 0.25);
    expect(r.text()).toBe(
      [
        "# HELP a_total A counter.",
        "# TYPE a_total counter",
        "a_total 3",
        "# HELP b_quota Quota.",
        "# TYPE b_quota gauge",
        "b_quota 2.147483648e+09",
        "# HELP d_cpu_seconds_total CPU.",
        "# TYPE d_cpu_seconds_total counter",
        "d_cpu_seconds_total 0.25",
        "",
      ].join("\n"),
    );
  });

  it("refuses two metrics of one name", () => {
    const r = new Registry();
    r.counter("x", "X.");
    expect(() => r.gauge("x", "X again.")).toThrow("duplicate metric x");
  });
});
