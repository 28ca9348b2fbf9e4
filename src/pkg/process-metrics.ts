/**
 * The process metrics etcd's /metrics carries from client_golang's process collector, with its
 * names and help strings. The figures come from the runtime adapter (`ProcessStats`); a figure the
 * runtime cannot tell is left out, as the collector leaves out what its platform lacks.
 */
import type { Registry } from "./metrics.js";

/** What the runtime can tell about the running program itself. */
export interface ProcessStats {
  /** User plus system CPU time (s). */
  cpuSeconds?: () => number;
  /** Resident set size (bytes). */
  residentBytes?: () => number;
  /** Virtual memory size (bytes). */
  virtualBytes?: () => number;
  /** The address-space limit (bytes; 2^64-1 when unlimited, as Linux's procfs reports it). */
  virtualMaxBytes?: () => number;
  openFds?: () => number;
  maxFds?: () => number;
  /** When the process started (s since the Unix epoch). */
  startTimeSeconds?: number;
}

export function registerProcessMetrics(r: Registry, p: ProcessStats): void {
  const call = (f: (() => number) | undefined) => () => (f === undefined ? undefined : f());
  r.counterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", call(p.cpuSeconds));
  r.gaugeFunc("process_open_fds", "Number of open file descriptors.", call(p.openFds));
  r.gaugeFunc("process_max_fds", "Maximum number of open file descriptors.", call(p.maxFds));
  r.gaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.", call(p.virtualBytes));
  r.gaugeFunc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", call(p.virtualMaxBytes));
  r.gaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.", call(p.residentBytes));
  r.gaugeFunc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", () => p.startTimeSeconds);
}
