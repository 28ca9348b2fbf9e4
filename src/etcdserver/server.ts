/**
 * EtcdServer (etcd server/etcdserver/server.go, raft.go, v3_server.go): one member. It drives the
 * Raft core (ticks, the Ready loop: persist → send → apply → advance), proposes requests with ids and
 * waits for their apply, serves linearizable reads through batched ReadIndex rounds, drives the
 * lessor's expiry and checkpoints while leader, the quota and alarms, and auto-compaction.
 *
 * Single-threaded: every state change happens in one JavaScript turn; only persistence and the
 * network are awaited. The Ready loop runs one Ready at a time: a leader sends its messages before
 * persisting (raft's parallel append), a follower after; messages from peers arrive through the
 * transport (src/rafthttp) and are stepped into raft between Readies.
 *
 * Storage: raft's log lives in a MemoryStorage backed by the WAL and snapshot files (storage.ts);
 * the state machine is the Backend, which is also what a raft snapshot carries to a follower.
 */
import {
  AlarmAction,
  AlarmType,
  newDefragmentResponse,
  newHashKVResponse,
  newHashResponse,
  newLeaseLeasesResponse,
  newLeaseTimeToLiveResponse,
  newMember as newPbMember,
  newMemberListResponse,
  newMoveLeaderResponse,
  newResponseHeader,
  newStatusResponse,
  type AlarmRequest,
  type AlarmResponse,
  type CompactionRequest,
  type CompactionResponse,
  type DefragmentResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type HashKVRequest,
  type HashKVResponse,
  type HashResponse,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  type Member as PbMember,
  type MemberAddRequest,
  type MemberAddResponse,
  type MemberListRequest,
  type MemberPromoteRequest,
  type MemberPromoteResponse,
  type MemberRemoveRequest,
  type MemberRemoveResponse,
  type MemberUpdateRequest,
  type MemberUpdateResponse,
  type MemberListResponse,
  type MoveLeaderRequest,
  type MoveLeaderResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type StatusResponse,
  type TxnRequest,
  type TxnResponse,
} from "../api/etcdserverpb/rpc.js";
import { decodeInternalRaftRequest, encodeInternalRaftRequest } from "../api/etcdserverpb/codec.js";
import { newInternalRaftRequest, newRequestHeader, type InternalRaftRequest } from "../api/etcdserverpb/raft-internal.js";
import { ErrGRPCNoSpace } from "../api/v3rpc/rpctypes.js";
import { ErrLeaseExpiredPendingRevoke, ErrLeaseNotFound, ErrNotPrimary } from "../lease/errors.js";
import { renewHTTP, timeToLiveHTTP } from "../lease/leasehttp.js";
import { leaseItemKey } from "../lease/lease-item.js";
import { newLessor, type Lessor } from "../lease/lessor.js";
import { MvccError } from "../mvcc/errors.js";
import { newWatchableStore, type WatchableStore } from "../mvcc/watchable-store.js";
import type { Clock } from "../platform.js";
import { Generator } from "../pkg/idutil.js";
import { Registry } from "../pkg/metrics.js";
import { registerProcessMetrics, type ProcessStats } from "../pkg/process-metrics.js";
import {
  ConfChangeType,
  decodeConfChange,
  decodeConfChangeV2,
  EntryType,
  ErrProposalDropped,
  ErrStepPeerNotFound,
  MemoryStorage,
  MessageType,
  RawNode,
  seededRandom,
  SnapshotStatus,
  StateType,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type Ready,
  type Snapshot,
} from "../raft/index.js";
import { Transport } from "../rafthttp/transport.js";
import { RemovedMemberError, type FetchFn, type PeerDialer } from "../rafthttp/types.js";
import { coalesceAppends } from "./coalesce-appends.js";
import { discardLogger, type Logger } from "../raft/logger.js";
import type { Backend } from "../storage/backend.js";
import { withPreCommitHook } from "../storage/hooks.js";
import { MemoryBackend } from "../storage/memory-backend.js";
import { AlarmStore, describeAlarmMember } from "./alarm.js";
import type { EtcdServerAPI } from "./api.js";
import { applyInternalRaftRequest, type ApplyResult } from "./apply.js";
import { ConsistentIndexer } from "./cindex.js";
import { PeriodicCompactor, RevisionCompactor, type Compactor } from "./compactor.js";
import {
  electionTicks,
  minLeaseTTLSeconds,
  quotaBytes,
  requestTimeoutMs,
  type ServerConfig,
} from "./config.js";
import {
  ErrLeaderChanged,
  ErrNoLeader,
  ErrStopped,
  ErrTimeout,
  ErrTimeoutDueToLeaderFail,
  ErrTooManyRequests,
  ErrRequestTooLarge,
  ErrNotLeader,
  ErrBadLeaderTransferee,
  ErrTimeoutLeaderTransfer,
  ErrTimeoutWaitAppliedIndex,
  ErrLearnerNotReady,
} from "./errors.js";
import { newClusterFromURLsMap, RaftCluster } from "./membership/cluster.js";
import { readMembership } from "./membership/store.js";
import { MembershipError } from "./membership/errors.js";
import { encodeMemberContext } from "./membership/context.js";
import { applyConfChange as applyMembershipChange, Membership, type ConfChangeResult } from "./membership/changes.js";
import { getClusterFromRemotePeers, isMemberBootstrapped, promoteMemberHTTP, validateClusterAndAssignIDs } from "./cluster-util.js";
import { memoryPersistence, WalPersistence, type DiskLayout, type RaftPersistence, type RecoveredRaftState } from "./storage.js";
import { idString, type Member } from "./membership/member.js";
import { BackendQuota, type QuotaRequest } from "./quota.js";
import { isTxnReadonly, isTxnSerializable, range as applyRange, txn as applyTxn } from "./txn.js";
import { ServerVersion, ClusterVersion, MinClusterVersion } from "./version.js";
import { Wait, WaitTime } from "./wait.js";

/** etcd's maxGapBetweenApplyAndCommitIndex: proposals are refused while apply lags this far. */
export const maxGapBetweenApplyAndCommitIndex = 5000;
/** etcd's readIndexRetryTime (ms): a ReadIndex round unanswered this long is asked again. */
export const readIndexRetryTime = 500;
/** How often the leader looks for expired leases and due checkpoints (etcd's lessor loop, ms). */
export const leaseLoopInterval = 500;
/** Raft's per-message limits as etcd sets them. */
const maxSizePerMsg = 1024 * 1024;
const maxInflightMsgs = 512;

/** The runtime parts of the peer transport (a cluster of more than one member needs them). */
export interface PeerDeps {
  dialer: PeerDialer;
  /** Pipeline and snapshot posts, lease and promote forwarding, joining (default: global fetch). */
  fetch?: FetchFn;
}

export interface ServerDeps {
  clock: Clock;
  logger?: Logger;
  /** The Backend (etcd's bbolt db); a MemoryBackend when absent. The server closes it on stop. */
  backend?: Backend;
  /** Wall-clock ms since the epoch, for id generation (default Date.now). */
  wallClock?: () => number;
  /** Seed of raft's election randomness (default: random). */
  seed?: number;
  /** Where the WAL and raft snapshots live; absent: nothing is written (an ephemeral member). */
  disk?: DiskLayout;
  /** The peer transport's dialer and fetch; absent: a single member that talks to no one. */
  peer?: PeerDeps;
  /** The runtime's figures for the process_* metrics; absent: /metrics has none. */
  processStats?: ProcessStats;
}

/** How long publishing waits before trying again after a failure (ms). */
const publishRetryInterval = 500;
/** etcd's applyTimeout: how long a membership change waits for apply to catch up with commit (ms). */
const applyTimeout = 1_000;
/** etcd's timeout for asking the running members who is in the cluster when joining (ms). */
const peerRequestTimeout = 10_000;
/** etcd's bootstrap timeout: how long a new member asks whether it was bootstrapped already (ms). */
const peerProbeTimeout = 1_000;

/** A membership Member as the Cluster API's pb Member. */
function toPbMember(m: Member): PbMember {
  return newPbMember({ ID: m.id, name: m.name, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs], isLearner: m.isLearner });
}

/** etcd's purge interval for old WAL segments and snapshot files (ms). */
export const purgeFileInterval = 30_000;

interface ReadWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EtcdServer implements EtcdServerAPI {
  readonly cfg: ServerConfig;
  readonly id: bigint;
  readonly cluster: RaftCluster;
  readonly kv: WatchableStore;
  readonly lessor: Lessor;
  readonly alarms: AlarmStore;
  readonly metricsRegistry = new Registry();

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly be: Backend;
  private readonly storage = new MemoryStorage();
  private readonly node: RawNode;
  private readonly cindex = new ConsistentIndexer();
  private readonly reqIDGen: Generator;
  private readonly w = new Wait<ApplyResult>();
  private readonly applyWait = new WaitTime();
  private readonly quota: BackendQuota;
  private compactor: Compactor | undefined;

  /** The last raft entry applied (restarts at the snapshot index and replays from there). */
  private appliedIndex = 0;
  /** The term of the last entry applied (a snapshot sent to a follower is taken at it). */
  private appliedTerm = 0;
  private readonly persistence: RaftPersistence;
  /** The peer transport; undefined for a member without peer deps (tests of a single member). */
  private readonly transport: Transport | undefined;
  private readonly fetchFn: FetchFn;
  /** The Cluster service (member add/remove/update/promote, etcd's checks). */
  private readonly membership: Membership;
  /**
   * Backend snapshots received with a MsgSnap (etcd's `{index}.snap.db` files), by raft index, until
   * raft hands the snapshot to the Ready loop, which restores the backend from it.
   */
  private readonly receivedDBs = new Map<number, Uint8Array[]>();
  /**
   * Set while a received snapshot replaces the backend. The new backend becomes visible before MVCC's
   * index is rebuilt from it, so reads wait until both are done (etcd holds the store's locks for the
   * whole restore).
   */
  private restoring: Promise<void> | undefined;
  /** Voters at start: a single voter campaigns at once. */
  private startVoters = 0;
  private cancelPurge: (() => void) | undefined;
  private committedIndex = 0;
  private snapshotIndex = 0;
  private confState: ConfState | undefined;
  private lead = 0n;
  private leadElectedTime = 0;
  private stopped = false;
  /** A stop is under way (stopSoon: the member stops itself). */
  private stopping = false;
  private readyRunning = false;
  private readyAgain = false;
  private campaignPending = false;
  private readyIdle: Promise<void> = Promise.resolve();
  private cancelTick: (() => void) | undefined;
  private cancelLeaseLoop: (() => void) | undefined;

  /** Proposals waiting for a leader: raft drops proposals while there is none (etcd's Propose blocks). */
  private pendingProposals: { id: bigint; step: () => void; reject: (e: Error) => void }[] = [];
  /** Reads waiting for the next ReadIndex round, and the round in flight. */
  private pendingReads: ReadWaiter[] = [];
  private readRound: { ctx: Uint8Array; waiters: ReadWaiter[]; cancelRetry: () => void; cancelTimeout: () => void } | undefined;
  private leaderChangedListeners = new Set<() => void>();
  private readyResolve!: () => void;
  /** Resolves once this member's attributes are published through raft (etcd's ReadyNotify). */
  readonly ready: Promise<void> = new Promise((r) => (this.readyResolve = r));
  private doneResolve!: () => void;
  /**
   * Resolves once the member has stopped, whether told to or by itself (removed from the cluster,
   * a broken invariant): etcd's StopNotify, on which the process exits.
   */
  readonly done: Promise<void> = new Promise((r) => (this.doneResolve = r));

  private readonly mHasLeader;
  private readonly mLeaderChanges;
  private readonly mProposalsPending;
  private readonly mProposalsFailed;

  private constructor(
    cfg: ServerConfig,
    deps: ServerDeps,
    cluster: RaftCluster,
    id: bigint,
    persistence: RaftPersistence,
    recovered: RecoveredRaftState | undefined,
  ) {
    this.cfg = cfg;
    this.clock = deps.clock;
    this.logger = deps.logger ?? discardLogger;
    this.cluster = cluster;
    this.cluster.lg = this.logger;
    this.id = id;
    this.persistence = persistence;
    this.reqIDGen = new Generator(id, (deps.wallClock ?? Date.now)());
    const raw = deps.backend ?? new MemoryBackend();
    this.be = withPreCommitHook(raw, (tx) => this.cindex.unsafeSave(tx));
    {
      const tx = this.be.readTx();
      this.cindex.load(tx);
      tx.end();
    }
    this.lessor = newLessor(this.be, {
      now: () => this.clock.now(),
      minLeaseTTL: minLeaseTTLSeconds(cfg),
      checkpointPersist: cfg.leaseCheckpointPersist,
    });
    this.kv = newWatchableStore(this.be, this.lessor, {
      compactionBatchLimit: cfg.compactionBatchLimit,
      logger: this.logger,
      sleep: (ms) => new Promise((resolve) => this.clock.setTimer(ms, resolve)),
    });
    this.alarms = new AlarmStore(this.be);
    this.quota = new BackendQuota(() => this.be.size(), quotaBytes(cfg));
    if (cfg.leaseCheckpoint) {
      this.lessor.setCheckpointer((cps) => {
        if (!this.isLeader()) return;
        const req = newInternalRaftRequest({
          leaseCheckpoint: { checkpoints: cps.map((c) => ({ ID: c.id, remainingTTL: c.remainingTtl })) },
        });
        this.raftRequest(req).catch((err: Error) => this.logger.warn(`failed to checkpoint leases: ${err.message}`));
      });
    }
    if (recovered !== undefined) {
      // etcd's restartNode: raft's storage from the snapshot and the WAL after it.
      if (recovered.snapshot !== undefined) {
        this.storage.applySnapshot(recovered.snapshot);
        this.snapshotIndex = recovered.snapshot.metadata.index;
        this.confState = recovered.snapshot.metadata.confState;
      }
      this.storage.setHardState(recovered.hardState);
      this.storage.append(recovered.entries);
      this.committedIndex = recovered.hardState.commit;
    }
    // The membership the backend holds: what was applied (a new member starts with none and
    // learns it by applying the bootstrap configuration or the leader's log).
    this.loadMembership();
    const seed = deps.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    this.node = new RawNode({
      id,
      electionTick: electionTicks(cfg),
      heartbeatTick: 1,
      storage: this.storage,
      rand: seededRandom(seed),
      maxSizePerMsg,
      maxInflightMsgs,
      checkQuorum: true,
      preVote: cfg.preVote,
      logger: this.logger,
      applied: this.snapshotIndex,
    });
    this.appliedIndex = this.snapshotIndex;
    this.fetchFn = deps.peer?.fetch ?? ((input, init) => fetch(input, init));
    this.transport =
      deps.peer === undefined
        ? undefined
        : new Transport({
            id,
            clusterID: () => this.cluster.clusterID,
            urls: cfg.peerURLs,
            raft: this,
            receiveSnapshot: (m, db) => this.receiveSnapshot(m, db),
            dialer: deps.peer.dialer,
            fetch: this.fetchFn,
            clock: this.clock,
            logger: this.logger,
            dialTimeoutMs: 1000 + cfg.electionMs,
            serverVersion: ServerVersion,
            minClusterVersion: MinClusterVersion,
            metrics: this.metricsRegistry,
            onRemoved: () => this.onRemoved(),
          });

    const wallClock = deps.wallClock ?? Date.now;
    this.membership = new Membership({
      id,
      cluster,
      strictReconfigCheck: cfg.strictReconfigCheck,
      now: () => this.clock.now(),
      activeSince: (peer) => this.transport?.activeSince(peer) ?? 0,
      progress: () => {
        if (!this.isLeader()) return undefined;
        return this.node.status().progress;
      },
      waitAppliedIndex: async () => {
        if (!(await this.waitAppliedCaughtUp(applyTimeout))) throw ErrTimeoutWaitAppliedIndex;
      },
      proposeConfChange: (cc) => this.proposeConfChange(cc),
      forwardPromote: (member) =>
        this.forwardToLeader(
          () => this.membership.promoteMemberLocal(member),
          (url) => promoteMemberHTTP(this.fetchFn, [url], member, requestTimeoutMs(cfg)),
          (err) => err instanceof MembershipError || err === ErrLearnerNotReady,
        ),
      header: () => this.clusterHeader(),
      nowUnixSeconds: () => Math.floor(wallClock() / 1000),
      logger: this.logger,
    });

    const r = this.metricsRegistry;
    this.mHasLeader = r.gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.");
    this.mLeaderChanges = r.counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.");
    this.mProposalsPending = r.gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.");
    this.mProposalsFailed = r.counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.");
    r.gaugeFunc("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", () => (this.isLeader() ? 1 : 0));
    r.gaugeFunc("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", () => this.committedIndex);
    r.gaugeFunc("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", () => this.appliedIndex);
    r.gauge("etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", { server_id: idString(id) }).set(1);
    r.gauge("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.", { server_version: ServerVersion }).set(1);
    r.gauge("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version", { cluster_version: ClusterVersion }).set(1);
    r.gaugeFunc("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", () => this.be.size());
    r.gaugeFunc("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", () => this.be.sizeInUse());
    r.gaugeFunc("etcd_debugging_mvcc_current_revision", "The current revision of store.", () => this.kv.rev());
    r.gaugeFunc("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", () => Math.max(0, this.kv.firstRev()));
    r.gaugeFunc("etcd_debugging_mvcc_watcher_total", "Total number of watchers.", () => this.kv.synced.size() + this.kv.unsynced.size() + this.kv.victimCount());
    r.gaugeFunc("etcd_debugging_mvcc_keys_total", "Total number of keys.", () => this.kv.kvindex.size());
    r.gaugeFunc("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", () => quotaBytes(cfg));
    if (deps.processStats !== undefined) registerProcessMetrics(r, deps.processStats);
  }

  /**
   * Starts a member (etcd's bootstrap): a restart when `deps.disk` already holds a WAL (the
   * initial-cluster settings are then ignored, as etcd does); else a new member, which either
   * bootstraps the initial cluster (`--initial-cluster-state new`) or joins a running one
   * (`existing`: the ids come from the members already running, and the membership from the
   * leader's log or snapshot).
   */
  static async start(cfg: ServerConfig, deps: ServerDeps): Promise<EtcdServer> {
    if (deps.disk !== undefined && (await WalPersistence.exists(deps.disk))) return EtcdServer.restart(cfg, deps, deps.disk);
    const initial = await newClusterFromURLsMap(cfg.initialClusterToken, cfg.initialCluster);
    if (initial.memberByName(cfg.name) === undefined) {
      throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
    }
    const fetchFn = deps.peer?.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
    const joining = cfg.initialClusterState === "existing";
    if (joining) {
      // etcd's bootstrapExistingClusterNoWAL: ask the others who is in the cluster, take their ids.
      const remoteURLs = initial.memberList().filter((m) => m.name !== cfg.name).flatMap((m) => m.peerURLs);
      const existing = await getClusterFromRemotePeers(fetchFn, remoteURLs, peerRequestTimeout, deps.logger ?? discardLogger);
      validateClusterAndAssignIDs(initial, existing);
    } else if (initial.members.size > 1) {
      if (await isMemberBootstrapped(fetchFn, initial, cfg.name, peerProbeTimeout, deps.logger)) {
        throw new Error(`member ${idString(initial.memberByName(cfg.name)!.id)} has already been bootstrapped`);
      }
    }
    const local = initial.memberByName(cfg.name)!;
    const persistence =
      deps.disk !== undefined ? await WalPersistence.create(deps.disk, { nodeID: local.id, clusterID: initial.clusterID }) : memoryPersistence;
    const cluster = new RaftCluster();
    cluster.clusterID = initial.clusterID;
    const s = new EtcdServer(cfg, deps, cluster, local.id, persistence, undefined);
    for (const m of initial.memberList()) if (m.id !== local.id) s.transport?.addPeer(m.id, m.peerURLs);
    if (joining) {
      s.logger.info(`joining the existing cluster ${idString(cluster.clusterID)} as member ${idString(s.id)}`);
    } else {
      const peers = initial.memberList().map((m) => ({ id: m.id, context: encodeMemberContext(m) }));
      s.node.bootstrap(peers);
      s.startVoters = peers.length;
      s.logger.info(
        `starting etcd member ${idString(s.id)} in cluster ${idString(cluster.clusterID)} (${peers.length} member${peers.length === 1 ? "" : "s"})`,
      );
    }
    s.run();
    return s;
  }

  /** etcd's restartNode: ids from the WAL metadata, membership from the backend, raft from snapshot + WAL. */
  private static async restart(cfg: ServerConfig, deps: ServerDeps, disk: DiskLayout): Promise<EtcdServer> {
    const { persistence, state } = await WalPersistence.open(disk);
    const cluster = new RaftCluster();
    cluster.clusterID = state.metadata.clusterID;
    const s = new EtcdServer(cfg, deps, cluster, state.metadata.nodeID, persistence, state);
    for (const m of cluster.memberList()) if (m.id !== s.id) s.transport?.addPeer(m.id, m.peerURLs);
    s.startVoters =
      cluster.members.size > 0 ? cluster.memberList().filter((m) => !m.isLearner).length : votersInWAL(state.snapshot, state.entries);
    s.logger.info(
      `restarting etcd member ${idString(s.id)} in cluster ${idString(cluster.clusterID)} at commit index ${state.hardState.commit}` +
        ` (snapshot ${state.snapshot?.metadata.index ?? 0}, backend applied index ${s.cindex.consistentIndex()}, ${state.entries.length} WAL entries)`,
    );
    s.run();
    return s;
  }

  /** Loads the applied membership from the backend (start, and after restoring a snapshot). */
  private loadMembership(): void {
    const m = readMembership(this.be);
    this.cluster.members.clear();
    for (const mem of m.members) this.cluster.addMember(mem);
    for (const id of m.removed) this.cluster.removed.add(id);
    this.cluster.version = m.version;
  }

  // ---------------------------------------------------------------------------------------------
  // Running: ticks, the Ready loop, apply.

  private run(): void {
    // etcd's adjustTicks fast-forwards the election clock; a single-member cluster campaigns as
    // soon as its bootstrap configuration is applied (raft refuses to campaign before).
    if (this.startVoters === 1 && this.cluster.member(this.id)?.isLearner !== true) this.campaignPending = true;
    else if (this.cfg.initialElectionTickAdvance) {
      for (let i = 0; i < electionTicks(this.cfg) - 2; i++) this.node.tick();
    }
    const tick = (): void => {
      if (this.stopped) return;
      this.node.tick();
      this.kick();
      this.cancelTick = this.clock.setTimer(this.cfg.tickMs, tick);
    };
    this.cancelTick = this.clock.setTimer(this.cfg.tickMs, tick);
    const leaseLoop = (): void => {
      if (this.stopped) return;
      this.revokeExpiredLeases();
      if (this.isLeader()) this.lessor.checkpointScheduledLeases();
      this.cancelLeaseLoop = this.clock.setTimer(leaseLoopInterval, leaseLoop);
    };
    this.cancelLeaseLoop = this.clock.setTimer(leaseLoopInterval, leaseLoop);
    this.startWatchLoops();
    const purge = (): void => {
      if (this.stopped) return;
      this.persistence.purge().catch((err: Error) => this.logger.warn(`failed to purge old WAL and snapshot files: ${err.message}`));
      this.cancelPurge = this.clock.setTimer(purgeFileInterval, purge);
    };
    this.cancelPurge = this.clock.setTimer(purgeFileInterval, purge);
    this.startCompactor();
    this.transport?.start();
    this.kick();
    void this.publish();
  }

  private startCompactor(): void {
    const { autoCompactionMode: mode, autoCompactionRetention: retention } = this.cfg;
    if (retention <= 0) return;
    const c = { compact: (rev: number) => this.compactInternal(rev) };
    this.compactor =
      mode === "revision"
        ? new RevisionCompactor(retention, () => this.kv.rev(), c, this.clock, this.logger)
        : new PeriodicCompactor(retention, () => this.kv.rev(), c, this.clock, this.logger);
    this.compactor.run();
    this.compactor.pause();
  }

  /** Schedules the Ready loop (coalescing: one loop runs at a time and re-checks before it stops). */
  private kick(): void {
    if (this.stopped) return;
    if (this.readyRunning) {
      this.readyAgain = true;
      return;
    }
    this.readyRunning = true;
    this.readyIdle = this.readyLoop().catch((err: unknown) => {
      // A failure here is a broken invariant (etcd panics); stop rather than serve wrong answers.
      this.logger.error(`etcdserver: ready loop failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      void this.stop();
    });
  }

  private async readyLoop(): Promise<void> {
    try {
      do {
        this.readyAgain = false;
        while (!this.stopped && this.node.hasReady()) {
          const rd = this.node.ready();
          await this.handleReady(rd);
          this.node.advance(rd);
        }
        if (this.campaignPending && !this.stopped) {
          // Every committed entry (the bootstrap configuration included) is applied now.
          this.campaignPending = false;
          this.node.campaign();
          this.readyAgain = true;
        }
      } while (this.readyAgain && !this.stopped);
    } finally {
      this.readyRunning = false;
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.updateLeadership(rd.softState.lead, rd.softState.raftState);
    if (rd.hardState.commit > this.committedIndex) this.committedIndex = rd.hardState.commit;
    const snaps: Message[] = [];
    const msgs = this.processMessages(rd.messages, snaps);
    // etcd's raftNode: the leader sends in parallel with its own write (raft counts its own append
    // only through this Ready, so nothing commits on an unwritten leader log); a follower answers
    // only once the entries it acknowledges are durable.
    const lead = this.isLeader();
    if (lead) this.transport?.send(msgs);
    if (rd.snapshot.metadata.index !== 0) await this.restoreFromSnapshot(rd.snapshot);
    // Durable before applying or answering (etcd: the WAL and snapshot files, then raft's storage).
    await this.persistence.save(rd.hardState, rd.entries, rd.snapshot.metadata.index !== 0 ? rd.snapshot : undefined);
    if (rd.snapshot.metadata.index !== 0) this.storage.applySnapshot(rd.snapshot);
    if (rd.hardState.term !== 0) this.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (!lead) this.transport?.send(msgs);
    this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates) this.onReadState(rs.index, rs.requestCtx);
    for (const m of snaps) this.sendMergedSnapshot(m);
    await this.maybeTriggerSnapshot();
  }

  /**
   * etcd's processMessages: messages to removed members are dropped; a MsgSnap is held back to be
   * sent with the backend after this Ready's entries are applied (etcd's merged snapshot).
   */
  private processMessages(ms: Message[], snaps: Message[]): Message[] {
    const out: Message[] = [];
    for (const m of ms) {
      if (this.cluster.removed.has(m.to)) continue;
      if (m.type === MessageType.MsgSnap) snaps.push(m);
      else out.push(m);
    }
    return coalesceAppends(out);
  }

  /**
   * etcd's createMergedSnapshotMessage: the follower gets the backend as it is now, under a raft
   * snapshot at the applied index (the backend's consistent index), with the current configuration.
   */
  private sendMergedSnapshot(m: Message): void {
    if (this.transport === undefined) return;
    // An empty batch publishes the consistent index of entries that wrote nothing else.
    void this.be.batchTx().commit();
    const snapshot = {
      data: new Uint8Array(0),
      metadata: { index: this.appliedIndex, term: this.appliedTerm, confState: this.confState ?? this.node.raft.trk.confState() },
    };
    const db = this.be.snapshot();
    this.logger.info(`sending merged snapshot to ${idString(m.to)} at index ${this.appliedIndex}`);
    this.transport.sendSnapshot({ ...m, snapshot }, () => db);
  }

  /**
   * A MsgSnap arrived on /raft/snapshot with the leader's backend after it: keep the bytes until raft
   * hands the snapshot to the Ready loop, then step the message (etcd saves `{index}.snap.db`).
   */
  private async receiveSnapshot(m: Message, db: AsyncIterable<Uint8Array>): Promise<void> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const c of db) {
      chunks.push(c);
      size += c.length;
    }
    const index = m.snapshot?.metadata.index ?? 0;
    // Only the newest is kept: raft installs at most the latest snapshot it is sent.
    this.receivedDBs.clear();
    this.receivedDBs.set(index, chunks);
    this.logger.info(`received database snapshot from ${idString(m.from)} at index ${index} (${size} bytes)`);
    await this.process(m);
  }

  /**
   * etcd's applySnapshot on a follower: the backend becomes the leader's, and everything built on it
   * (MVCC, leases, alarms, membership, the transport's peers) is rebuilt from it. The backend is
   * replaced before the snapshot is written to the WAL, so a crash in between leaves a WAL behind a
   * backend that is ahead, which a restart handles like any other (entries up to the backend's
   * consistent index are not applied again).
   */
  private async restoreFromSnapshot(snap: Snapshot): Promise<void> {
    const index = snap.metadata.index;
    const chunks = this.receivedDBs.get(index);
    if (chunks === undefined) throw new Error(`etcdserver: no database received for the raft snapshot at index ${index}`);
    for (const k of [...this.receivedDBs.keys()]) if (k <= index) this.receivedDBs.delete(k);
    this.logger.info(`applying snapshot at index ${index}`);
    let done = (): void => {};
    this.restoring = new Promise((resolve) => (done = resolve));
    // The watch loops read the backend too; they start again over the rebuilt store.
    this.kv.stop();
    try {
      await this.installSnapshot(snap, chunks);
    } finally {
      this.restoring = undefined;
      done();
      if (!this.stopped) this.startWatchLoops();
    }
  }

  /** The watchable store's sync and victim loops, on the server's clock. */
  private startWatchLoops(): void {
    this.kv.start((ms, fn) => this.clock.setTimer(ms, fn));
  }

  /** Waits while a snapshot is being installed; resolves at once otherwise. */
  private async restored(): Promise<void> {
    while (this.restoring !== undefined) await this.restoring;
  }

  private async installSnapshot(snap: Snapshot, chunks: Uint8Array[]): Promise<void> {
    const index = snap.metadata.index;
    await this.kv.commit();
    await this.be.restore(
      (async function* () {
        yield* chunks;
      })(),
    );
    {
      const tx = this.be.readTx();
      this.cindex.load(tx);
      tx.end();
    }
    this.lessor.recover(this.be, () => this.kv.write());
    this.kv.restore();
    this.alarms.restore(this.be);
    this.loadMembership();
    this.transport?.removeAllPeers();
    for (const m of this.cluster.memberList()) if (m.id !== this.id) this.transport?.addPeer(m.id, m.peerURLs);
    this.appliedIndex = index;
    this.appliedTerm = snap.metadata.term;
    this.snapshotIndex = index;
    this.confState = snap.metadata.confState;
    this.applyWait.trigger(index);
    this.logger.info(`applied snapshot at index ${index} (backend consistent index ${this.cindex.consistentIndex()})`);
  }

  private updateLeadership(lead: bigint, state: StateType): void {
    const wasLeader = this.lead === this.id;
    if (lead !== this.lead) {
      if (lead !== 0n) this.mLeaderChanges.inc();
      this.lead = lead;
      this.mHasLeader.set(lead !== 0n ? 1 : 0);
      if (lead !== 0n) this.leadElectedTime = this.clock.now();
      for (const l of this.leaderChangedListeners) l();
      if (lead !== 0n) this.logger.info(`raft.node: ${idString(this.id)} elected leader ${idString(lead)} at term ${this.node.raft.term}`);
      else this.logger.info(`raft.node: ${idString(this.id)} lost leader`);
    }
    const isLeader = state === StateType.StateLeader;
    if (isLeader && !wasLeader) {
      // etcd's updateLeadership: leases get a fresh election timeout; compaction resumes.
      this.lessor.promote(this.cfg.electionMs);
      this.compactor?.resume();
      this.decideClusterVersion();
    } else if (!isLeader && wasLeader) {
      this.lessor.demote();
      this.compactor?.pause();
    }
    if (lead !== 0n) this.flushPendingProposals();
  }

  private applyEntries(ents: Entry[]): void {
    for (const e of ents) {
      if (e.index <= this.appliedIndex) continue;
      switch (e.type) {
        case EntryType.EntryNormal:
          this.applyEntryNormal(e);
          break;
        case EntryType.EntryConfChange:
          this.applyConfChange(decodeConfChange(e.data), e);
          break;
        case EntryType.EntryConfChangeV2:
          // Never proposed here (etcd proposes v1 changes); raft's configuration still follows it.
          if (e.index > this.cindex.consistentIndex()) this.cindex.setConsistentIndex(e.index, e.term);
          this.confState = this.node.applyConfChange(decodeConfChangeV2(e.data));
          break;
      }
      this.appliedIndex = e.index;
      this.appliedTerm = e.term;
      this.applyWait.trigger(e.index);
      if (this.stopping) return;
    }
  }

  private applyEntryNormal(e: Entry): void {
    if (e.index <= this.cindex.consistentIndex()) return; // already in the backend (etcd's shouldApplyV3)
    this.cindex.setConsistentIndex(e.index, e.term);
    if (e.data.length === 0) return; // a new leader's empty entry
    const req = decodeInternalRaftRequest(e.data);
    const id = req.header && req.header.ID !== 0n ? req.header.ID : req.ID;
    const result = applyInternalRaftRequest(
      { kv: this.kv, lessor: this.lessor, alarms: this.alarms, cluster: this.cluster, backend: this.be },
      req,
    );
    this.w.trigger(id, result);
  }

  /**
   * etcd's applyConfChange. A change the backend has not seen is checked against the membership
   * (a refused one reaches raft as a no-op, so every member's configuration stays the same), then
   * applied to the membership, the backend (with the consistent index, in one batch) and the
   * transport. Raft's configuration is rebuilt from every change after the snapshot, also those the
   * backend has seen, whose membership effect is already in it.
   */
  private applyConfChange(cc: ConfChange, e: Entry): void {
    if (e.index <= this.cindex.consistentIndex()) {
      this.confState = this.node.applyConfChange(cc);
      return;
    }
    this.cindex.setConsistentIndex(e.index, e.term);
    const tx = this.be.batchTx();
    let res: ConfChangeResult;
    try {
      res = applyMembershipChange(this.cluster, this.id, cc, tx);
    } finally {
      void tx.commit();
    }
    this.confState = this.node.applyConfChange(res.raftConfChange);
    const p = res.peer;
    if (p?.op === "add") this.transport?.addPeer(p.id, p.urls);
    else if (p?.op === "update") this.transport?.updatePeer(p.id, p.urls);
    else if (p?.op === "remove" && this.transport?.get(p.id) !== undefined) this.transport.removePeer(p.id);
    if (res.err === undefined) this.logger.info(`applied configuration change ${ConfChangeType[cc.type]} ${idString(cc.nodeId)}`);
    this.w.trigger(cc.id, { resp: res.members, err: res.err } as ApplyResult);
    if (res.removedSelf) {
      this.logger.warn("the member has been permanently removed from the cluster; the data-dir used by this member must be removed");
      this.stopSoon();
    }
  }

  /**
   * etcd's triggerSnapshot: every --snapshot-count applied entries, once the backend is durable up
   * to the applied index, records a raft snapshot (file + WAL record), lets the WAL release what
   * precedes it, and compacts raft's in-memory log keeping catch-up entries for slow followers.
   * The snapshot's data is empty: the state is the backend, which a member sends whole.
   */
  private async maybeTriggerSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex <= this.cfg.snapshotCount) return;
    const index = this.appliedIndex;
    // An empty batch: its commit carries the consistent index (pre-commit hook) and, batches being
    // durable in commit order, resolves once everything applied so far — KV, leases, alarms — is
    // durable (etcd forces a backend commit here).
    await this.be.batchTx().commit();
    const snap = this.storage.createSnapshot(index, this.confState, new Uint8Array(0));
    await this.persistence.saveOwnSnapshot(snap);
    this.snapshotIndex = index;
    const compactIndex = index - this.cfg.snapshotCatchUpEntries;
    if (compactIndex > this.storage.firstIndex()) this.storage.compact(compactIndex);
    this.logger.info(`saved snapshot at index ${index}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Proposals.

  private assertRunning(): void {
    if (this.stopped) throw ErrStopped;
  }

  isLeader(): boolean {
    return this.lead !== 0n && this.lead === this.id;
  }

  leader(): bigint {
    return this.lead;
  }

  /** etcd's raftRequest(Once): proposes `r` with a new id and waits for its apply. */
  private async raftRequest(r: InternalRaftRequest): Promise<ApplyResult> {
    if (this.stopped) throw ErrStopped;
    if (this.committedIndex > this.appliedIndex + maxGapBetweenApplyAndCommitIndex) throw ErrTooManyRequests;
    const id = this.reqIDGen.next();
    r.header = newRequestHeader({ ID: id });
    const data = encodeInternalRaftRequest(r);
    if (data.length > this.cfg.maxRequestBytes) throw ErrRequestTooLarge;
    return this.proposeAndWait(id, () => this.node.propose(data));
  }

  /**
   * etcd's configure: proposes a membership change (v1, as etcd) with a new id and waits for its
   * apply; resolves with the members after it, rejects with the change's error.
   */
  private async proposeConfChange(cc: Omit<ConfChange, "id">): Promise<Member[]> {
    if (this.stopped) throw ErrStopped;
    const id = this.reqIDGen.next();
    const change: ConfChange = { ...cc, id };
    const res = await this.proposeAndWait(id, () => this.node.proposeConfChange(change));
    if (res.err) throw res.err;
    return res.resp as Member[];
  }

  /** Proposes through `step` (now, or once there is a leader) and waits for the apply of `id`. */
  private async proposeAndWait(id: bigint, step: () => void): Promise<ApplyResult> {
    const start = this.clock.now();
    const result = this.w.register(id);
    let failed: Error | undefined;
    const dropped = new Promise<never>((_, reject) => {
      this.propose(id, step, (e) => reject(e));
    });
    dropped.catch(() => {});
    this.mProposalsPending.inc();
    let cancelTimer: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      cancelTimer = this.clock.setTimer(requestTimeoutMs(this.cfg), () => reject(this.parseProposeTimeout(start)));
    });
    try {
      const res = await Promise.race([result, dropped, timeout]);
      if (res === undefined) throw ErrStopped;
      return res;
    } catch (err) {
      failed = err as Error;
      this.w.trigger(id, undefined);
      throw err;
    } finally {
      cancelTimer?.();
      this.mProposalsPending.dec();
      if (failed) this.mProposalsFailed.inc();
    }
  }

  /**
   * Proposes now if there is a leader (a follower's raft forwards it to the leader), else queues
   * until one appears.
   */
  private propose(id: bigint, step: () => void, reject: (e: Error) => void): void {
    if (this.lead === 0n) {
      this.pendingProposals.push({ id, step, reject });
      return;
    }
    try {
      step();
    } catch (err) {
      if (err === ErrProposalDropped) return reject(ErrProposalDropped);
      throw err;
    }
    this.kick();
  }

  private flushPendingProposals(): void {
    const pending = this.pendingProposals;
    this.pendingProposals = [];
    for (const p of pending) {
      if (!this.w.isRegistered(p.id)) continue; // timed out meanwhile
      this.propose(p.id, p.step, p.reject);
    }
  }

  /** etcd's parseProposeCtxErr for a deadline. */
  private parseProposeTimeout(start: number): Error {
    const prevLeadLost = this.leadElectedTime - 2 * electionTicks(this.cfg) * this.cfg.tickMs;
    if (start > prevLeadLost && start < this.leadElectedTime) return ErrTimeoutDueToLeaderFail;
    return ErrTimeout;
  }

  /** Runs `r` through raft and returns its response, or throws the apply error. */
  private async raftRequestResp<T>(r: InternalRaftRequest): Promise<T> {
    const res = await this.raftRequest(r);
    if (res.err) throw res.err;
    return this.fillHeader(res.resp as { header?: ResponseHeader }) as T;
  }

  /** etcd's header.fill: cluster and member ids and the term; the revision if apply left it 0. */
  private fillHeader<T extends { header?: ResponseHeader }>(resp: T): T {
    const h = resp.header ?? newResponseHeader();
    h.clusterId = this.cluster.clusterID;
    h.memberId = this.id;
    h.raftTerm = this.node.raft.term;
    if (h.revision === 0) h.revision = this.kv.rev();
    resp.header = h;
    return resp;
  }

  // ---------------------------------------------------------------------------------------------
  // Linearizable reads (etcd's linearizableReadLoop).

  /** Resolves once the local store has applied everything committed when the call was made. */
  linearizableReadNotify(): Promise<void> {
    if (this.stopped) return Promise.reject(ErrStopped);
    return new Promise((resolve, reject) => {
      this.pendingReads.push({ resolve, reject });
      this.startReadRound();
    });
  }

  private startReadRound(): void {
    if (this.readRound !== undefined || this.pendingReads.length === 0) return;
    const waiters = this.pendingReads;
    this.pendingReads = [];
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, this.reqIDGen.next(), false);
    const fail = (err: Error): void => {
      if (this.readRound?.ctx !== ctx) return;
      this.endReadRound();
      for (const w of waiters) w.reject(err);
      this.startReadRound();
    };
    const send = (): void => {
      this.node.readIndex(ctx);
      this.kick();
    };
    const retry = (): (() => void) =>
      this.clock.setTimer(readIndexRetryTime, () => {
        if (this.readRound?.ctx !== ctx) return;
        send();
        this.readRound.cancelRetry = retry();
      });
    const onLeaderChange = (): void => fail(ErrLeaderChanged);
    this.leaderChangedListeners.add(onLeaderChange);
    this.readRound = {
      ctx,
      waiters,
      cancelRetry: retry(),
      cancelTimeout: this.clock.setTimer(requestTimeoutMs(this.cfg), () => fail(ErrTimeout)),
    };
    const round = this.readRound;
    const origEnd = round.cancelTimeout;
    round.cancelTimeout = () => {
      origEnd();
      this.leaderChangedListeners.delete(onLeaderChange);
    };
    send();
  }

  private endReadRound(): void {
    const r = this.readRound;
    if (r === undefined) return;
    r.cancelRetry();
    r.cancelTimeout();
    this.readRound = undefined;
  }

  private onReadState(index: number, ctx: Uint8Array): void {
    const r = this.readRound;
    if (r === undefined || !bytesEqual(r.ctx, ctx)) return;
    this.endReadRound();
    const waiters = r.waiters;
    void this.applyWait.wait(index).then(() => {
      for (const w of waiters) w.resolve();
    });
    this.startReadRound();
  }

  /**
   * etcd's monitorVersions, on becoming leader: a cluster without a version gets this member's
   * major.minor through raft (every member here runs the same version, so there is nothing to
   * negotiate yet).
   */
  private decideClusterVersion(): void {
    if (this.cluster.version !== undefined) return;
    const req = newInternalRaftRequest({ clusterVersionSet: { ver: ClusterVersion } });
    this.raftRequest(req).then(
      (res) => {
        if (!res.err) this.logger.info(`set initial cluster version to ${ClusterVersion}`);
      },
      (err: Error) => this.logger.warn(`failed to set the cluster version: ${err.message}`),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Leases (server side of the lessor).

  private revokeExpiredLeases(): void {
    if (!this.isLeader()) return;
    for (const l of this.lessor.expiredLeases()) {
      const req = newInternalRaftRequest({ leaseRevoke: { ID: l.id } });
      this.raftRequest(req).then(
        (res) => {
          if (res.err && res.err.name !== "ErrLeaseNotFound") this.logger.warn(`failed to revoke lease ${l.id.toString(16)}: ${res.err.message}`);
        },
        (err: Error) => this.logger.warn(`failed to revoke lease ${l.id.toString(16)}: ${err.message}`),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The client API (EtcdServerAPI).

  async range(r: RangeRequest): Promise<RangeResponse> {
    this.assertRunning();
    if (!r.serializable) await this.linearizableReadNotify();
    if (this.restoring !== undefined) await this.restored();
    const resp = applyRange(this.kv, r);
    if (resp instanceof MvccError) throw resp;
    return this.fillHeader(resp);
  }

  async put(r: PutRequest): Promise<PutResponse> {
    await this.checkQuota({ put: r });
    return this.raftRequestResp(newInternalRaftRequest({ put: r }));
  }

  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.raftRequestResp(newInternalRaftRequest({ deleteRange: r }));
  }

  async txn(r: TxnRequest): Promise<TxnResponse> {
    this.assertRunning();
    if (isTxnReadonly(r)) {
      // etcd serves read-only txns locally, after a ReadIndex unless every range is serializable.
      if (!isTxnSerializable(r)) await this.linearizableReadNotify();
      if (this.restoring !== undefined) await this.restored();
      const resp = applyTxn(this.kv, this.lessor, r);
      if (resp instanceof Error) throw resp;
      return this.fillHeader(resp);
    }
    await this.checkQuota({ txn: r });
    return this.raftRequestResp(newInternalRaftRequest({ txn: r }));
  }

  async compact(r: CompactionRequest): Promise<CompactionResponse> {
    const res = await this.raftRequest(newInternalRaftRequest({ compaction: r }));
    if (res.err) throw res.err;
    if (r.physical && res.physc) await res.physc;
    return this.fillHeader(res.resp as CompactionResponse);
  }

  /** The auto-compactor's compaction (resolves when proposed and applied). */
  private async compactInternal(rev: number): Promise<void> {
    await this.compact({ revision: rev, physical: false });
  }

  /** etcd's quotaKVServer check: over quota raises the NOSPACE alarm and refuses the request. */
  private async checkQuota(r: QuotaRequest): Promise<void> {
    this.assertRunning();
    if (this.quota.available(r)) return;
    const req: AlarmRequest = { action: AlarmAction.ACTIVATE, memberID: this.id, alarm: AlarmType.NOSPACE };
    await this.raftRequest(newInternalRaftRequest({ alarm: req })).catch(() => {});
    throw ErrGRPCNoSpace;
  }

  async leaseGrant(r: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    await this.checkQuota({ leaseGrant: r });
    // etcd: only positive int64 ids are generated.
    let id = r.ID;
    while (id === 0n) id = this.reqIDGen.next() & ((1n << 63n) - 1n);
    return this.raftRequestResp(newInternalRaftRequest({ leaseGrant: { ID: id, TTL: r.TTL } }));
  }

  leaseRevoke(r: LeaseRevokeRequest): Promise<LeaseRevokeResponse> {
    return this.raftRequestResp(newInternalRaftRequest({ leaseRevoke: r }));
  }

  /**
   * etcd's LeaseRenew: the leader renews; a follower forwards to the leader's peer URLs
   * (POST /leases), trying again on another URL or after a leader change until the request timeout.
   */
  async leaseRenew(id: bigint): Promise<number> {
    this.assertRunning();
    await this.waitLeader();
    return this.forwardToLeader(
      () => this.leaseRenewLocal(id),
      (url, signal) => renewHTTP(this.fetchFn, id, url, signal),
    );
  }

  /** Renews on this member, which must be the leader (the peer handler's POST /leases). */
  async leaseRenewLocal(id: bigint): Promise<number> {
    this.assertRunning();
    if (!this.isLeader()) throw ErrNotPrimary;
    const ttl = this.lessor.renew(id);
    if (ttl === ErrLeaseExpiredPendingRevoke) throw await this.lessor.waitRevokeOrDemote(id);
    if (ttl instanceof Error) throw ttl;
    return ttl;
  }

  /** etcd's LeaseTimeToLive: answered by the leader, forwarded there by a follower (POST /leases/internal). */
  async leaseTimeToLive(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    this.assertRunning();
    await this.waitLeader();
    const resp = await this.forwardToLeader(
      () => this.leaseTimeToLiveLocal(r),
      (url, signal) => timeToLiveHTTP(this.fetchFn, r, url, signal),
    );
    return this.fillHeader(resp);
  }

  async leaseTimeToLiveLocal(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    this.assertRunning();
    if (!this.isLeader()) throw ErrNotPrimary;
    const l = this.lessor.lookup(r.ID);
    if (l === undefined) throw ErrLeaseNotFound;
    const resp = newLeaseTimeToLiveResponse({
      ID: l.id,
      TTL: Math.trunc(l.remaining() / 1000),
      grantedTTL: l.getTTL(),
    });
    // etcd lists the keys in map order; sorted here, so answers are deterministic.
    if (r.keys) resp.keys = l.keys().sort().map((k) => leaseItemKey({ key: k }));
    return this.fillHeader(resp);
  }

  /**
   * Sends `call` to the leader's peer URLs until one answers, following leader changes, within the
   * request timeout (etcd's forwarding loops). Errors that are answers (lease not found) end it.
   */
  private async forwardToLeader<T>(
    local: () => Promise<T>,
    call: (url: string, signal: AbortSignal) => Promise<T>,
    isAnswer: (err: unknown) => boolean = (err) => err === ErrLeaseNotFound,
  ): Promise<T> {
    const deadline = this.clock.now() + requestTimeoutMs(this.cfg);
    let last: unknown = ErrTimeout;
    while (this.clock.now() < deadline && !this.stopped) {
      await this.waitLeader();
      if (this.isLeader()) return local();
      const leader = this.cluster.member(this.lead);
      for (const url of leader?.peerURLs ?? []) {
        const ctl = new AbortController();
        const cancel = this.clock.setTimer(Math.max(1, deadline - this.clock.now()), () => ctl.abort());
        try {
          return await call(url, ctl.signal);
        } catch (err) {
          if (isAnswer(err)) throw err; // an answer, not a failure to reach the leader
          last = err;
        } finally {
          cancel();
        }
      }
      await new Promise<void>((r) => this.clock.setTimer(Math.min(500, this.cfg.electionMs), r));
    }
    if (this.stopped) throw ErrStopped;
    this.logger.warn(`failed to reach the leader: ${last instanceof Error ? last.message : String(last)}`);
    throw ErrTimeout;
  }

  async leaseLeases(): Promise<LeaseLeasesResponse> {
    this.assertRunning();
    const resp = newLeaseLeasesResponse({ leases: this.lessor.leases().map((l) => ({ ID: l.id })) });
    return this.fillHeader(resp);
  }

  /** Waits up to the request timeout for a leader (etcd's waitLeader). */
  private async waitLeader(): Promise<void> {
    if (this.lead !== 0n) return;
    const deadline = requestTimeoutMs(this.cfg);
    await new Promise<void>((resolve, reject) => {
      const cancel = this.clock.setTimer(deadline, () => {
        this.leaderChangedListeners.delete(onChange);
        reject(ErrNoLeader);
      });
      const onChange = (): void => {
        if (this.lead === 0n) return;
        cancel();
        this.leaderChangedListeners.delete(onChange);
        resolve();
      };
      this.leaderChangedListeners.add(onChange);
    });
  }

  async memberList(r?: MemberListRequest): Promise<MemberListResponse> {
    this.assertRunning();
    if (r?.linearizable) await this.linearizableReadNotify();
    const members = this.cluster.memberList().map(toPbMember);
    // etcd's ClusterServer.header(): cluster, member and term, no revision.
    return newMemberListResponse({ header: this.clusterHeader(), members });
  }

  memberAdd(r: MemberAddRequest): Promise<MemberAddResponse> {
    this.assertRunning();
    return this.membership.memberAdd(r);
  }

  memberRemove(r: MemberRemoveRequest): Promise<MemberRemoveResponse> {
    this.assertRunning();
    return this.membership.memberRemove(r);
  }

  memberUpdate(r: MemberUpdateRequest): Promise<MemberUpdateResponse> {
    this.assertRunning();
    return this.membership.memberUpdate(r);
  }

  memberPromote(r: MemberPromoteRequest): Promise<MemberPromoteResponse> {
    this.assertRunning();
    return this.membership.memberPromote(r);
  }

  /** The peer handler's POST /members/promote/{id}: this member must be the leader. */
  promoteMemberLocal(id: bigint): Promise<Member[]> {
    this.assertRunning();
    return this.membership.promoteMemberLocal(id);
  }

  private clusterHeader(): ResponseHeader {
    return newResponseHeader({ clusterId: this.cluster.clusterID, memberId: this.id, raftTerm: this.node.raft.term });
  }

  /**
   * etcd's MoveLeader: the leader asks raft to hand leadership to `targetID` (a voting member) and
   * waits, tick by tick, until it has; ErrTimeoutLeaderTransfer after the request timeout.
   */
  async moveLeader(r: MoveLeaderRequest): Promise<MoveLeaderResponse> {
    this.assertRunning();
    if (!this.isLeader()) throw ErrNotLeader;
    const target = this.cluster.member(r.targetID);
    if (target === undefined || target.isLearner) throw ErrBadLeaderTransferee;
    this.logger.info(`leadership transfer starting: from ${idString(this.id)} to ${idString(r.targetID)}`);
    const deadline = this.clock.now() + requestTimeoutMs(this.cfg);
    this.node.transferLeader(r.targetID);
    this.kick();
    while (this.lead !== r.targetID) {
      if (this.stopped) throw ErrStopped;
      if (this.clock.now() >= deadline) throw ErrTimeoutLeaderTransfer;
      await new Promise<void>((resolve) => this.clock.setTimer(this.cfg.tickMs, resolve));
    }
    this.logger.info(`leadership transfer finished: ${idString(r.targetID)} is the leader`);
    return newMoveLeaderResponse({ header: this.header() });
  }

  // ---------------------------------------------------------------------------------------------
  // The peer side (rafthttp.Raft and the peer handler's PeerServerAPI).

  /** etcd's Process: a message from a peer, stepped into raft unless its sender was removed. */
  async process(m: Message): Promise<void> {
    if (this.stopped) throw ErrStopped;
    if (this.cluster.removed.has(m.from)) throw new RemovedMemberError();
    try {
      this.node.step(m);
    } catch (err) {
      // A response from a member no longer in the configuration (etcd's node drops it too).
      if (err === ErrStepPeerNotFound) return;
      throw err;
    }
    this.kick();
  }

  isIDRemoved(id: bigint): boolean {
    return this.cluster.removed.has(id);
  }

  reportUnreachable(id: bigint): void {
    if (this.stopped) return;
    this.node.reportUnreachable(id);
    this.kick();
  }

  reportSnapshot(id: bigint, status: "finish" | "failure"): void {
    if (this.stopped) return;
    this.node.reportSnapshot(id, status === "finish" ? SnapshotStatus.SnapshotFinish : SnapshotStatus.SnapshotFailure);
    this.kick();
  }

  clusterID(): bigint {
    return this.cluster.clusterID;
  }

  rafthttp(): Transport {
    if (this.transport === undefined) throw new Error("etcdserver: this member has no peer transport");
    return this.transport;
  }

  peerMembers(): Member[] {
    return this.cluster.memberList();
  }

  /** Waits until everything committed is applied, at most `timeoutMs` (etcd's lease handlers). */
  async waitAppliedCaughtUp(timeoutMs: number): Promise<boolean> {
    const target = this.committedIndex;
    if (this.appliedIndex >= target) return true;
    return new Promise<boolean>((resolve) => {
      const cancel = this.clock.setTimer(timeoutMs, () => resolve(false));
      void this.applyWait.wait(target).then(() => {
        cancel();
        resolve(true);
      });
    });
  }

  /** A peer says this member was removed (410 on a stream, 403 on a post): stop, as etcd does. */
  private onRemoved(): void {
    if (this.stopping) return;
    this.logger.warn("the member has been permanently removed from the cluster; the data-dir used by this member must be removed");
    this.stopSoon();
  }

  /** Stops outside the Ready loop (stop waits for it). */
  private stopSoon(): void {
    if (this.stopping) return;
    this.stopping = true;
    void Promise.resolve().then(() => this.stop());
  }

  async status(): Promise<StatusResponse> {
    this.assertRunning();
    const resp = newStatusResponse({
      version: ServerVersion,
      dbSize: this.be.size(),
      dbSizeInUse: this.be.sizeInUse(),
      leader: this.lead,
      raftIndex: this.committedIndex,
      raftTerm: this.node.raft.term,
      raftAppliedIndex: this.appliedIndex,
      isLearner: this.isLearner(),
    });
    if (this.lead === 0n) resp.errors.push(ErrNoLeader.message);
    for (const a of this.alarms.get()) resp.errors.push(describeAlarmMember(a));
    return this.fillHeader(resp);
  }

  async hash(): Promise<HashResponse> {
    this.assertRunning();
    if (this.restoring !== undefined) await this.restored();
    const h = this.kv.hash();
    const resp = newHashResponse({ hash: h.hash });
    resp.header.revision = h.revision;
    return this.fillHeader(resp);
  }

  async hashKV(r: HashKVRequest): Promise<HashKVResponse> {
    this.assertRunning();
    if (this.restoring !== undefined) await this.restored();
    const h = this.kv.hashByRev(r.revision);
    if (h instanceof MvccError) throw h;
    const resp = newHashKVResponse({ hash: h.hash.hash, compactRevision: h.hash.compactRevision, hashRevision: h.hash.revision });
    resp.header.revision = h.currentRev;
    return this.fillHeader(resp);
  }

  alarm(r: AlarmRequest): Promise<AlarmResponse> {
    return this.raftRequestResp(newInternalRaftRequest({ alarm: r }));
  }

  async defragment(): Promise<DefragmentResponse> {
    this.assertRunning();
    await this.be.defrag();
    return newDefragmentResponse();
  }

  async *snapshot(): AsyncIterable<{ remainingBytes: number; blob: Uint8Array }> {
    this.assertRunning();
    if (this.restoring !== undefined) await this.restored();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const c of this.be.snapshot()) {
      chunks.push(c);
      total += c.length;
    }
    const all = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    // etcd appends the SHA-256 of the snapshot so `etcdctl snapshot save` can check it.
    const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
    const chunkSize = 32 * 1024;
    // etcd's remaining_bytes counts the db only: the last db chunk says 0, as does the checksum.
    for (let i = 0; i < total; i += chunkSize) {
      const blob = all.subarray(i, Math.min(total, i + chunkSize));
      yield { remainingBytes: total - (i + blob.length), blob };
    }
    yield { remainingBytes: 0, blob: sum };
  }

  header(): ResponseHeader {
    return newResponseHeader({
      clusterId: this.cluster.clusterID,
      memberId: this.id,
      revision: this.kv.rev(),
      raftTerm: this.node.raft.term,
    });
  }

  watchable(): WatchableStore {
    return this.kv;
  }

  maxRequestBytes(): number {
    return this.cfg.maxRequestBytes;
  }

  maxTxnOps(): number {
    return this.cfg.maxTxnOps;
  }

  progressNotifyInterval(): number {
    return this.cfg.watchProgressNotifyInterval;
  }

  async health(serializable: boolean): Promise<{ health: boolean; reason: string }> {
    const as = this.alarms.get();
    if (as.length > 0) {
      const a = as[0]!.alarm;
      return { health: false, reason: a === AlarmType.NOSPACE ? "ALARM NOSPACE" : a === AlarmType.CORRUPT ? "ALARM CORRUPT" : "ALARM UNKNOWN" };
    }
    if (!serializable && this.lead === 0n) return { health: false, reason: "RAFT NO LEADER" };
    try {
      await this.range({
        key: new Uint8Array(0),
        rangeEnd: new Uint8Array(0),
        limit: 1,
        revision: 0,
        sortOrder: 0,
        sortTarget: 0,
        serializable,
        keysOnly: true,
        countOnly: false,
        minModRevision: 0,
        maxModRevision: 0,
        minCreateRevision: 0,
        maxCreateRevision: 0,
      });
    } catch (err) {
      return { health: false, reason: `RANGE ERROR:${(err as Error).message}` };
    }
    return { health: true, reason: "" };
  }

  version(): { etcdserver: string; etcdcluster: string } {
    // etcd answers "not_decided" until the leader has set the cluster version.
    return { etcdserver: ServerVersion, etcdcluster: this.cluster.version ?? "not_decided" };
  }

  metrics(): string {
    return this.metricsRegistry.text();
  }

  isLearner(): boolean {
    return this.cluster.member(this.id)?.isLearner ?? false;
  }

  /** Raft status figures (tests, status). */
  raftStatus(): { term: number; commit: number; applied: number; lead: bigint } {
    return { term: this.node.raft.term, commit: this.committedIndex, applied: this.appliedIndex, lead: this.lead };
  }

  // ---------------------------------------------------------------------------------------------
  // Publish and stop.

  /** etcd's publishV3: records this member's name and client URLs through raft, retrying until it commits. */
  private async publish(): Promise<void> {
    const req = newInternalRaftRequest({
      clusterMemberAttrSet: { memberID: this.id, memberAttributes: { name: this.cfg.name, clientUrls: [...this.cfg.clientURLs] } },
    });
    while (!this.stopped) {
      let failure: Error;
      try {
        const res = await this.raftRequest(req);
        if (!res.err) {
          this.logger.info(`published local member to cluster through raft: name ${this.cfg.name}, client URLs ${this.cfg.clientURLs.join(",")}`);
          this.readyResolve();
          return;
        }
        failure = res.err;
      } catch (err) {
        if (this.stopped) return;
        failure = err as Error;
      }
      this.logger.warn(`failed to publish local member to cluster through raft: ${failure.message}`);
      // A dropped proposal fails at once: try again after a pause, not in a tight loop.
      await new Promise<void>((resolve) => this.clock.setTimer(publishRetryInterval, resolve));
    }
  }

  /**
   * Stops the member: no more ticks or proposals; waits for the Ready loop in progress to finish
   * (so every committed entry handed out is applied), fails pending requests with ErrStopped, and
   * closes the store and backend.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping = true;
    this.cancelTick?.();
    this.cancelLeaseLoop?.();
    this.cancelPurge?.();
    this.compactor?.stop();
    await this.readyIdle;
    this.endReadRound();
    for (const r of [...this.pendingReads]) r.reject(ErrStopped);
    this.pendingReads = [];
    for (const p of this.pendingProposals) p.reject(ErrStopped);
    this.pendingProposals = [];
    this.w.cancelAll();
    await this.transport?.stop();
    this.lessor.stop();
    await this.kv.compactionsDone();
    this.kv.close();
    await this.kv.commit().catch(() => {});
    await this.persistence.close();
    await this.be.close();
    this.logger.info(`stopped etcd member ${idString(this.id)}`);
    this.doneResolve();
  }
}

/**
 * The voters raft will have once the WAL is replayed (the snapshot's configuration, then every
 * configuration change after it): what a restart goes by when the backend lost the membership in
 * a crash before its first flush.
 */
function votersInWAL(snap: Snapshot | undefined, ents: readonly Entry[]): number {
  const voters = new Set<bigint>(snap?.metadata.confState.voters ?? []);
  for (const e of ents) {
    if (e.type !== EntryType.EntryConfChange) continue;
    const cc = decodeConfChange(e.data);
    if (cc.type === ConfChangeType.ConfChangeAddNode) voters.add(cc.nodeId);
    else if (cc.type === ConfChangeType.ConfChangeRemoveNode || cc.type === ConfChangeType.ConfChangeAddLearnerNode) voters.delete(cc.nodeId);
  }
  return voters.size;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Starts a member from its configuration (etcd's embed.StartEtcd → NewServer → Start). */
export function startEtcdServer(cfg: ServerConfig, deps: ServerDeps): Promise<EtcdServer> {
  return EtcdServer.start(cfg, deps);
}

export type { Compactor };
