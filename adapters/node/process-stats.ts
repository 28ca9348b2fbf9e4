/**
 * ProcessStats on Node: CPU and resident memory from `process`; on Linux, virtual memory, open
 * descriptors and limits from /proc/self, as client_golang's process collector reads them.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { ProcessStats } from "../../src/pkg/process-metrics.js";

/** procfs' value for "unlimited" (2^64-1, as Go's procfs package reports it). */
const unlimited = 18446744073709551615;

/** A soft limit from /proc/self/limits, e.g. "Max open files". */
function softLimit(name: string): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  if (soft === undefined) throw new Error(`no ${name} in /proc/self/limits`);
  return soft === "unlimited" ? unlimited : Number(soft);
}

/** Field `n` (1-based, as proc(5) numbers them) of /proc/self/stat. */
function statField(n: number): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[n - 3]);
}

export function nodeProcessStats(): ProcessStats {
  const stats: ProcessStats = {
    cpuSeconds: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
    residentBytes: () => process.memoryUsage.rss(),
    startTimeSeconds: performance.timeOrigin / 1000,
  };
  if (process.platform !== "linux") return stats;
  return {
    ...stats,
    virtualBytes: () => statField(23),
    virtualMaxBytes: () => softLimit("Max address space"),
    openFds: () => readdirSync("/proc/self/fd").length,
    maxFds: () => softLimit("Max open files"),
  };
}
