// The Node process figures behind etcd's process_* metrics, read from this very test process.
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { nodeProcessStats } from "../../../adapters/node/process-stats.js";
import { Registry } from "../../../src/pkg/metrics.js";
import { registerProcessMetrics } from "../../../src/pkg/process-metrics.js";

describe("nodeProcessStats", () => {
  const p = nodeProcessStats();

  it("gives CPU time, resident memory and the start time of this process", () => {
    const before = p.cpuSeconds!();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    expect(p.cpuSeconds!()).toBeGreaterThan(before);
    expect(p.residentBytes!()).toBeGreaterThan(1 << 20);
    const started = p.startTimeSeconds!;
    expect(started).toBeLessThanOrEqual(Date.now() / 1000);
    expect(started).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5);
  });

  it.runIf(process.platform === "linux")("reads descriptors, limits and virtual memory from /proc/self", () => {
    const open = readdirSync("/proc/self/fd").length;
    expect(Math.abs(p.openFds!() - open)).toBeLessThanOrEqual(2);
    expect(p.maxFds!()).toBeGreaterThanOrEqual(open);
    expect(p.virtualBytes!()).toBeGreaterThan(p.residentBytes!());
    expect(p.virtualMaxBytes!()).toBeGreaterThan(0);
  });

  it("shows up in the text under client_golang's names", () => {
    const r = new Registry();
    registerProcessMetrics(r, p);
    const text = r.text();
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total [0-9.e+-]+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d\.\d+e\+\d\d$/m);
    expect(text).toMatch(/^process_start_time_seconds \d\.\d+e\+09$/m);
  });

  it("leaves out what the runtime cannot tell", () => {
    const r = new Registry();
    registerProcessMetrics(r, { residentBytes: () => 1234 });
    expect(r.text()).toBe("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1234\n");
  });
});
