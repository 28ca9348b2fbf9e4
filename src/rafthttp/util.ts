/**
 * rafthttp's paths, headers, constants and the small helpers every sender shares (etcd's http.go
 * constants, util.go and peer.go's timeouts).
 */
import { idString, parseID } from "../pkg/types-id.js";
import { MessageType, type Message } from "../raft/index.js";

export { idString, parseID };

export const RaftPrefix = "/raft";
export const ProbingPrefix = "/raft/probing";
export const RaftStreamPrefix = "/raft/stream";
export const RaftSnapshotPrefix = "/raft/snapshot";

/** Stream kinds by their path segment: `msgapp` carries MsgApp only, `message` everything. */
export type StreamKind = "msgapp" | "message";

/** etcd's names of the stream types, as its logs print them. */
export function streamTypeName(kind: StreamKind): string {
  return kind === "msgapp" ? "stream MsgApp v2" : "stream Message";
}

/** Silence on a stream longer than this means the connection is dead (ms; etcd's ConnReadTimeout). */
export const ConnReadTimeout = 5000;
/** A pipeline or snapshot write that takes longer fails (ms; etcd's ConnWriteTimeout). */
export const ConnWriteTimeout = 5000;
/** Receive queues per peer: normal messages (recvc) and proposals (propc). */
export const recvBufSize = 4096;
export const maxPendingProposals = 4096;
/** Pipeline: concurrent POSTs per peer and queued messages. */
export const connPerPipeline = 4;
export const pipelineBufSize = 64;
/**
 * A stream writer counts as full when the socket holds more than this many unsent bytes (etcd
 * bounds its writer by 4096 queued messages; a WebSocket buffers bytes, so we bound those).
 */
export const streamBufBytes = 64 * 1024 * 1024;
/** Delay before the first redial of a stream (ms; etcd's DialRetryFrequency, 10/s). */
export const dialRetryMs = 100;
/** Consecutive dial failures back off up to this (ms). */
export const dialRetryMaxMs = 1000;
/** The prober's period (ms; etcd: ConnReadTimeout - 1 s). */
export const proberInterval = ConnReadTimeout - 1000;
/** How long a snapshot sender waits for the response after the body was sent (ms). */
export const snapResponseReadTimeout = 5000;
/** Largest body accepted by POST /raft (bytes). */
export const pipelineBodyLimit = 512 * 1024 * 1024;
/** Largest raft message in front of a snapshot's db (bytes; etcd's snapshotLimitByte, 1 TiB). */
export const snapshotLimitByte = 1024 * 1024 * 1024 * 1024;

export const ErrClusterIDMismatch = new Error("cluster ID mismatch");
export const ErrIncompatibleVersion = new Error("incompatible version");
export const ErrStopped = new Error("stopped");
export const ErrMemberNotFound = new Error("member not found");


export function messageTypeName(t: MessageType): string {
  return MessageType[t] ?? String(t);
}

/** The link-layer keepalive of streams: a MsgHeartbeat with from = to = 0 (raft never sends that). */
export function isLinkHeartbeat(m: Message): boolean {
  return m.type === MessageType.MsgHeartbeat && m.from === 0n && m.to === 0n;
}

/** Fields of a log event. */
export type Fields = Record<string, unknown>;

/**
 * The logger the transport writes to: src/logger's zap logger, or any src/raft Logger (which
 * ignores the fields).
 */
export interface TransportLogger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** What every rafthttp request carries (etcd's createPostRequest and streamReader.dial). */
export interface HeaderSource {
  id: bigint;
  clusterID: () => bigint;
  urls: readonly string[];
  serverVersion: string;
  minClusterVersion: string;
}

export function rafthttpHeaders(h: HeaderSource): Record<string, string> {
  const out: Record<string, string> = {
    "X-Server-From": idString(h.id),
    "X-Server-Version": h.serverVersion,
    "X-Min-Cluster-Version": h.minClusterVersion,
    "X-Etcd-Cluster-ID": idString(h.clusterID()),
  };
  if (h.urls.length > 0) out["X-PeerURLs"] = h.urls.join(",");
  return out;
}

/** `base` (a peer URL) joined with an absolute `path`, without doubling slashes. */
export function joinURL(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

/**
 * Maps a POST response to etcd's errors (checkPostResponse): 204 → undefined; 403 → the
 * removed-member error; 412 → cluster ID mismatch / incompatible version by body.
 */
export function checkPostResponse(
  logger: TransportLogger,
  status: number,
  body: string,
  respClusterID: string | null,
  localClusterID: string,
  to: bigint,
  url: string,
  removed: () => Error,
): Error | undefined {
  switch (status) {
    case 204:
      return undefined;
    case 403:
      return removed();
    case 412: {
      const text = body.replace(/\n$/, "");
      if (text === ErrIncompatibleVersion.message) {
        logger.error("request sent was ignored by peer", { "remote-peer-id": idString(to) });
        return ErrIncompatibleVersion;
      }
      if (text === ErrClusterIDMismatch.message) {
        logger.error("request sent was ignored due to cluster ID mismatch", {
          "remote-peer-id": idString(to),
          "remote-peer-cluster-id": respClusterID ?? "",
          "local-member-cluster-id": localClusterID,
        });
        return ErrClusterIDMismatch;
      }
      return new Error(`unhandled error ${JSON.stringify(body)} when precondition failed`);
    }
    default:
      return new Error(`unexpected http status ${statusText(status)} while posting to ${JSON.stringify(url)}`);
  }
}

function statusText(status: number): string {
  const t: Record<number, string> = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
  };
  return t[status] ?? String(status);
}

/** A semantic version's major and minor ("3.5.0" → [3, 5]); "2.0.0" when absent, as etcd. */
function majorMinor(v: string | null | undefined): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v ?? "2.0.0");
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2])];
}

function compareMajorMinor(a: [number, number], b: [number, number]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/**
 * etcd's checkVersionCompatibility: the remote server must be at least our minimum cluster
 * version, and the remote's minimum cluster version at most our server version (major.minor).
 * Returns the reason when incompatible.
 */
export function checkVersionCompatibility(
  remoteName: string,
  remoteServer: string | null,
  remoteMinCluster: string | null,
  localServer: string,
  localMinCluster: string,
): string | undefined {
  const rs = majorMinor(remoteServer);
  const rm = majorMinor(remoteMinCluster);
  const ls = majorMinor(localServer)!;
  const lm = majorMinor(localMinCluster)!;
  if (rs === undefined || rm === undefined) return `malformed version: remote[${remoteName}]=${remoteServer ?? ""}`;
  if (compareMajorMinor(rs, lm) < 0) {
    return `remote version is too low: remote[${remoteName}]=${remoteServer ?? "2.0.0"}, local=${localServer}`;
  }
  if (compareMajorMinor(rm, ls) > 0) {
    return `local version is too low: remote[${remoteName}]=${remoteServer ?? "2.0.0"}, local=${localServer}`;
  }
  return undefined;
}

/**
 * A FIFO with a capacity (a Go buffered channel's buffer): `push` refuses when full.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): boolean {
    if (this.length >= this.capacity) return false;
    this.items.push(v);
    return true;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head]!;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/** The message of an unknown thrown value. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** go-humanize's Bytes: SI units, one decimal under 10 ("1.2 MB", "45 MB"). */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1);
  const v = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[e]}`;
}
