/**
 * A structured logger that writes one JSON object per event, as etcd's zap production logger
 * does (client/pkg/logutil DefaultZapLoggerConfig): keys `level`, `ts`, `caller`, `msg`, then the
 * fields in the order given. `ts` is ISO 8601 in UTC with milliseconds ("2026-11-22T04:35:00.123Z",
 * zap's ISO8601TimeEncoder as etcd 3.4/3.5.0 print it). Runtime-agnostic: the line goes to an
 * injected `write`, the time comes from an injected `now`.
 *
 * It satisfies src/raft's Logger (debug/info/warn/error(msg)), so it can be handed to raft, mvcc
 * and the lessor as is.
 */
import type { Logger as RaftLogger } from "../raft/logger.js";

export type Level = "debug" | "info" | "warn" | "error" | "fatal";
export type Fields = Record<string, unknown>;

const rank: Record<Level, number> = { debug: -1, info: 0, warn: 1, error: 2, fatal: 5 };

export interface Logger extends RaftLogger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** Writes at fatal level; the caller exits (the logger never ends the process). */
  fatal(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every event (zap's With). */
  with(fields: Fields): Logger;
  /** Whether an event at `level` would be written. */
  enabled(level: Level): boolean;
}

export interface ZapOptions {
  /** Events below this level are dropped (etcd's --log-level). Default "info". */
  level?: Level;
  /** Receives each line, with its trailing "\n". */
  write: (line: string) => void;
  /** Wall-clock milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** The `caller` value, e.g. "etcdmain/etcd.go:66" in etcd; omitted when undefined. */
  caller?: string;
}

/** JSON for a field value: bigint as a decimal number, Error as its message, Map as an object. */
function encodeValue(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return v.message;
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), encodeValue(x)]));
  if (v instanceof Set) return [...v].map(encodeValue);
  if (Array.isArray(v)) return v.map(encodeValue);
  return v;
}

/** Serialises one event as zap's JSON encoder lays it out. */
export function encodeEntry(level: Level, ts: number, msg: string, fields: Fields, caller?: string): string {
  const head: Fields = { level, ts: new Date(ts).toISOString() };
  if (caller !== undefined) head["caller"] = caller;
  head["msg"] = msg;
  const parts = [JSON.stringify(head).slice(0, -1)];
  for (const [k, v] of Object.entries(fields)) {
    if (k in head) continue;
    let enc: string | undefined;
    try {
      enc = JSON.stringify(encodeValue(v));
    } catch {
      enc = JSON.stringify(String(v));
    }
    parts.push(`${JSON.stringify(k)}:${enc ?? "null"}`);
  }
  return `${parts.join(",")}}\n`;
}

export function newZapLogger(opts: ZapOptions, base: Fields = {}): Logger {
  const threshold = rank[opts.level ?? "info"];
  const now = opts.now ?? Date.now;
  const log = (level: Level) => (msg: string, fields?: Fields) => {
    if (rank[level] < threshold) return;
    opts.write(encodeEntry(level, now(), msg, fields ? { ...base, ...fields } : base, opts.caller));
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    fatal: log("fatal"),
    with: (fields) => newZapLogger(opts, { ...base, ...fields }),
    enabled: (level) => rank[level] >= threshold,
  };
}
