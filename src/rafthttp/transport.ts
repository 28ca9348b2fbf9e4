/**
 * The peer transport (etcd's rafthttp.Transport): one {@link Peer} per remote member, pipeline-only
 * {@link Remote}s for members not yet known, and the state the HTTP handler (handler.ts) needs.
 * Runtime-agnostic: streams are dialed through the injected PeerDialer, posts go through the
 * injected fetch, timers through the Clock.
 */
import type { Registry } from "../pkg/metrics.js";
import type { Clock } from "../platform.js";
import { MessageType, type Message } from "../raft/index.js";
import type { TransportContext } from "./context.js";
import { TransportMetrics } from "./metrics.js";
import { Peer } from "./peer.js";
import { Prober } from "./probing-status.js";
import { Remote } from "./remote.js";
import type { FetchFn, PeerConn, PeerDialer, RaftHandler, Transporter } from "./types.js";
import { ErrMemberNotFound, idString, messageTypeName, type StreamKind, type TransportLogger } from "./util.js";

export interface TransportConfig {
  /** The local member id. */
  id: bigint;
  /** The current cluster id (X-Etcd-Cluster-ID). */
  clusterID: () => bigint;
  /** The local advertised peer URLs (X-PeerURLs). */
  urls: readonly string[];
  raft: RaftHandler;
  /**
   * Called by the snapshot handler with the decoded MsgSnap and the db bytes that follow it; the
   * server saves the db then steps the message. Rejects → 500.
   */
  receiveSnapshot(m: Message, db: AsyncIterable<Uint8Array>): Promise<void>;
  dialer: PeerDialer;
  fetch: FetchFn;
  clock: Clock;
  /** src/logger's zap logger or any src/raft Logger. */
  logger: TransportLogger;
  /** Stream dial timeout (ms; etcd: 1 s + election timeout). */
  dialTimeoutMs: number;
  /** "3.5.0"-style; X-Server-Version. */
  serverVersion: string;
  /** "3.0.0"; X-Min-Cluster-Version. */
  minClusterVersion: string;
  metrics?: Registry;
  /** Called once when a peer says this member was removed (410 on a stream dial / 403 on a post); the server stops. */
  onRemoved?: () => void;
}

export class Transport implements Transporter {
  readonly id: bigint;
  readonly ctx: TransportContext;
  readonly metrics: TransportMetrics;
  private peers = new Map<bigint, Peer>();
  private remotes = new Map<bigint, Remote>();
  private probers = new Map<bigint, Prober>();
  private removedReported = false;
  private stopped = false;

  constructor(readonly cfg: TransportConfig) {
    this.id = cfg.id;
    this.metrics = new TransportMetrics(cfg.metrics);
    this.ctx = {
      id: cfg.id,
      clusterID: cfg.clusterID,
      urls: cfg.urls,
      serverVersion: cfg.serverVersion,
      minClusterVersion: cfg.minClusterVersion,
      raft: cfg.raft,
      dialer: cfg.dialer,
      fetch: cfg.fetch,
      clock: cfg.clock,
      logger: cfg.logger,
      dialTimeoutMs: cfg.dialTimeoutMs,
      metrics: this.metrics,
      reportRemoved: () => {
        if (this.removedReported) return;
        this.removedReported = true;
        cfg.onRemoved?.();
      },
    };
  }

  get logger(): TransportLogger {
    return this.cfg.logger;
  }

  get raft(): RaftHandler {
    return this.cfg.raft;
  }

  /** Nothing to start: peers start as they are added (etcd's Start builds round trippers). */
  start(): void {}

  send(msgs: readonly Message[]): void {
    for (const m of msgs) {
      // An intentionally dropped message.
      if (m.to === 0n) continue;
      const p = this.peers.get(m.to);
      if (p !== undefined) {
        p.send(m);
        continue;
      }
      const g = this.remotes.get(m.to);
      if (g !== undefined) {
        g.send(m);
        continue;
      }
      this.logger.debug("ignored message send request; unknown remote peer target", {
        type: messageTypeName(m.type),
        "unknown-target-peer-id": idString(m.to),
      });
    }
  }

  sendSnapshot(m: Message, db: () => AsyncIterable<Uint8Array>): void {
    const p = this.peers.get(m.to);
    if (p === undefined) {
      this.logger.warn("failed to send database snapshot", { "remote-peer-id": idString(m.to), error: ErrMemberNotFound.message });
      this.raft.reportSnapshot(m.to, "failure");
      return;
    }
    if (m.type !== MessageType.MsgSnap) throw new Error(`rafthttp: sendSnapshot of a ${messageTypeName(m.type)}`);
    void p.sendSnap(m, db);
  }

  /** The peer with `id`, if any (etcd's Get, used by the stream handler). */
  get(id: bigint): Peer | undefined {
    return this.peers.get(id);
  }

  addRemote(id: bigint, urls: readonly string[]): void {
    if (this.stopped || this.peers.has(id) || this.remotes.has(id)) return;
    this.remotes.set(id, new Remote(this.ctx, id, urls));
    this.logger.info("added new remote peer", {
      "local-member-id": idString(this.id),
      "remote-peer-id": idString(id),
      "remote-peer-urls": [...urls],
    });
  }

  addPeer(id: bigint, urls: readonly string[]): void {
    if (this.stopped) throw new Error("transport stopped");
    if (this.peers.has(id)) return;
    this.peers.set(id, new Peer(this.ctx, id, urls));
    this.probers.set(id, new Prober(this.ctx, id, urls));
    this.logger.info("added remote peer", {
      "local-member-id": idString(this.id),
      "remote-peer-id": idString(id),
      "remote-peer-urls": [...urls],
    });
  }

  removePeer(id: bigint): void {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`unexpected removal of unknown remote peer ${idString(id)}`);
    p.stop();
    this.peers.delete(id);
    this.probers.get(id)?.stop();
    this.probers.delete(id);
    this.logger.info("removed remote peer", { "local-member-id": idString(this.id), "removed-remote-peer-id": idString(id) });
  }

  removeAllPeers(): void {
    for (const id of [...this.peers.keys()]) this.removePeer(id);
  }

  updatePeer(id: bigint, urls: readonly string[]): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.update(urls);
    this.probers.get(id)?.update(urls);
    this.logger.info("updated remote peer", {
      "local-member-id": idString(this.id),
      "updated-remote-peer-id": idString(id),
      "updated-remote-peer-urls": [...urls],
    });
  }

  activeSince(id: bigint): number {
    return this.peers.get(id)?.activeSince() ?? 0;
  }

  /** How many peers are active. */
  activePeers(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.activeSince() !== 0) n++;
    return n;
  }

  /**
   * Hands a stream socket the peer `from` opened to us to that peer's writer of `kind`; the socket
   * is closed when `from` is not a peer.
   */
  attachStream(from: bigint, kind: StreamKind, conn: PeerConn): void {
    const p = this.peers.get(from);
    if (p === undefined || this.stopped) {
      conn.close();
      return;
    }
    p.attachOutgoingConn(kind, conn);
  }

  /** Drops all traffic to and from `id` until mendPeer (etcd's CutPeer, for tests). */
  cutPeer(id: bigint): void {
    this.peers.get(id)?.pause();
    this.remotes.get(id)?.pause();
  }

  mendPeer(id: bigint): void {
    this.peers.get(id)?.resume();
    this.remotes.get(id)?.resume();
  }

  /** Closes every stream, aborts posts in flight and cancels every timer. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const r of this.remotes.values()) r.stop();
    for (const p of this.peers.values()) p.stop();
    for (const pr of this.probers.values()) pr.stop();
    this.remotes.clear();
    this.peers.clear();
    this.probers.clear();
  }

  /** Whether stop was called (the handler refuses new streams then). */
  isStopped(): boolean {
    return this.stopped;
  }
}
