/**
 * etcd's --log-outputs for Node: "stderr", "stdout" or file paths (appended). Writes are
 * synchronous, so nothing is lost when the process exits right after a log line.
 */
import { closeSync, openSync, writeSync } from "node:fs";

export interface LogSink {
  write(line: string): void;
  close(): void;
}

export function openLogOutputs(outputs: readonly string[]): LogSink {
  const fds: number[] = [];
  const owned: number[] = [];
  for (const o of outputs) {
    if (o === "stderr") fds.push(2);
    else if (o === "stdout") fds.push(1);
    else {
      const fd = openSync(o, "a");
      fds.push(fd);
      owned.push(fd);
    }
  }
  return {
    write(line) {
      for (const fd of fds) writeSync(fd, line);
    },
    close() {
      for (const fd of owned) closeSync(fd);
    },
  };
}
