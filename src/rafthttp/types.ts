/**
 * The seams of the peer transport (etcd's rafthttp.Raft and Transporter, and the adapter's dialer).
 * The transport is runtime-agnostic: it dials peers through an injected {@link PeerDialer}, posts
 * with an injected `fetch`, and keeps time with an injected Clock.
 */
import type { Message } from "../raft/index.js";

/** What the transport asks of the local member (etcd's rafthttp.Raft). */
export interface RaftHandler {
  /**
   * Steps a message received from a peer into raft. Rejects with {@link ErrRemovedMember} when the
   * sender has been removed from the cluster (the handlers answer 403 / 410 then).
   */
  process(m: Message): Promise<void>;
  /** Whether `id` was removed from the cluster (its streams are refused with 410). */
  isIDRemoved(id: bigint): boolean;
  /** Tells raft a follower cannot be reached (it then probes instead of pipelining appends). */
  reportUnreachable(id: bigint): void;
  /** Tells raft how sending a snapshot to `id` ended. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void;
}

export type SnapshotStatus = "finish" | "failure";

/** The error a sender sees when the receiver refuses it as removed (etcd's errMemberRemoved). */
export class RemovedMemberError extends Error {
  constructor() {
    super("the member has been permanently removed from the cluster");
    this.name = "ErrMemberRemoved";
  }
}

/**
 * One side of a peer stream: a WebSocket-like duplex carrying binary frames (one encoded
 * raftpb.Message each). Both the dialed socket and the accepted one are seen through this.
 */
export interface PeerConn {
  send(frame: Uint8Array): void;
  /** Bytes queued for sending and not yet written (for backpressure; 0 when unknown). */
  bufferedAmount(): number;
  close(): void;
  /** Registers the frame handler (at most one). */
  onFrame(fn: (frame: Uint8Array) => void): void;
  /** Registers the close handler (at most one); called once, whichever side closed. */
  onClose(fn: (reason?: Error) => void): void;
}

/**
 * A refused WebSocket handshake: the HTTP status and body the peer answered with (etcd's stream
 * dial reads 404 / 410 / 412 this way).
 */
export class PeerDialError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`peer refused the stream: ${status} ${body.trim()}`);
    this.name = "PeerDialError";
  }
}

/**
 * The adapter's way to open a stream to a peer (Node: `ws`; Deno: WebSocket; Worker: fetch with
 * Upgrade). `url` is an http(s) URL (the dialer maps it to ws(s)); `headers` are etcd's rafthttp
 * request headers. Rejects with a {@link PeerDialError} when the peer answers the handshake with an
 * HTTP status, or another error when it cannot connect within `timeoutMs`.
 */
export interface PeerDialer {
  dial(url: string, headers: Record<string, string>, timeoutMs: number): Promise<PeerConn>;
}

/** `fetch` as the transport uses it (injected, so tests and runtimes can supply their own). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** Messages a transport sends (etcd's Transporter, the parts the server uses). */
export interface Transporter {
  start(): void;
  /** Sends each message to its `to` peer; messages to unknown peers are dropped. */
  send(msgs: readonly Message[]): void;
  /**
   * Sends a MsgSnap with the backend's bytes after it (etcd's merged snapshot) on the snapshot
   * sender; reports the outcome through RaftHandler.reportSnapshot.
   */
  sendSnapshot(m: Message, db: () => AsyncIterable<Uint8Array>): void;
  addPeer(id: bigint, urls: readonly string[]): void;
  removePeer(id: bigint): void;
  updatePeer(id: bigint, urls: readonly string[]): void;
  removeAllPeers(): void;
  /** A pipeline-only peer for a member not yet in the local membership (etcd's AddRemote). */
  addRemote(id: bigint, urls: readonly string[]): void;
  /** When the peer became active (clock ms), or 0 while it is not. */
  activeSince(id: bigint): number;
  stop(): Promise<void>;
}
