/**
 * What the client API (src/api/v3rpc) asks of the server — etcd's etcdserver.RaftKV, Lessor,
 * Authenticator-free parts of v3_server.go, and the maintenance/cluster calls. EtcdServer
 * implements it; the gateway depends only on this.
 *
 * Contract: every method resolves with a complete response whose `header` is filled
 * (cluster_id, member_id, raft_term; `revision` as etcd sets it), or rejects with an error value:
 * an rpctypes `EtcdError`, a `ServerError` (src/etcdserver/errors.ts), an `MvccError` or a lease
 * error — the gateway maps each with `toGRPCError`. Requests have already passed the v3rpc checks
 * (src/api/v3rpc/key.ts) and the size limit; the server still enforces quota, leadership, timeouts.
 */
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DefragmentResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVRequest,
  HashKVResponse,
  HashResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from "../api/etcdserverpb/rpc.js";
import type { WatchableStore } from "../mvcc/watchable-store.js";
import type { Transport } from "../rafthttp/transport.js";
import type { Member as MembershipMember } from "./membership/member.js";

/** etcd's RaftKV. Range is linearizable unless `serializable`; writes go through raft. */
export interface RaftKV {
  range(r: RangeRequest): Promise<RangeResponse>;
  put(r: PutRequest): Promise<PutResponse>;
  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse>;
  txn(r: TxnRequest): Promise<TxnResponse>;
  /** With `physical`, resolves only once the compaction has removed the old revisions. */
  compact(r: CompactionRequest): Promise<CompactionResponse>;
}

/** etcd's Lessor API of the server. */
export interface LeaseAPI {
  /** `ID` 0 lets the server pick a new id. */
  leaseGrant(r: LeaseGrantRequest): Promise<LeaseGrantResponse>;
  leaseRevoke(r: LeaseRevokeRequest): Promise<LeaseRevokeResponse>;
  /** One keepalive: the lease's TTL in seconds after renewing (forwarded to the leader if needed). */
  leaseRenew(id: bigint): Promise<number>;
  leaseTimeToLive(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  leaseLeases(): Promise<LeaseLeasesResponse>;
}

/**
 * etcd's Cluster service. Changes go through raft as ConfChanges with etcd's checks (learners,
 * --strict-reconfig-check); promote is forwarded to the leader when a follower receives it.
 */
export interface ClusterAPI {
  memberList(r: MemberListRequest): Promise<MemberListResponse>;
  memberAdd(r: MemberAddRequest): Promise<MemberAddResponse>;
  memberRemove(r: MemberRemoveRequest): Promise<MemberRemoveResponse>;
  memberUpdate(r: MemberUpdateRequest): Promise<MemberUpdateResponse>;
  memberPromote(r: MemberPromoteRequest): Promise<MemberPromoteResponse>;
}

export interface MaintenanceAPI {
  status(): Promise<StatusResponse>;
  /** The whole backend's hash (etcd's Hash RPC). */
  hash(): Promise<HashResponse>;
  hashKV(r: HashKVRequest): Promise<HashKVResponse>;
  alarm(r: AlarmRequest): Promise<AlarmResponse>;
  defragment(): Promise<DefragmentResponse>;
  /**
   * A consistent snapshot of the backend as etcd's Snapshot RPC streams it: the blob chunks, then
   * (etcd appends a SHA-256 of the blob) the checksum. `remainingBytes` counts down to 0.
   */
  snapshot(): AsyncIterable<{ remainingBytes: number; blob: Uint8Array }>;
  /** etcd's MoveLeader: only the leader may transfer leadership, to a voting member. */
  moveLeader(r: MoveLeaderRequest): Promise<MoveLeaderResponse>;
}

/** What the watch and keepalive streams and /health need beyond the request/response calls. */
export interface ServerInfo {
  /** A header with cluster_id, member_id, raft_term and the store's current revision. */
  header(): ResponseHeader;
  /** The watchable store: streams create watchers on it. */
  watchable(): WatchableStore;
  /** etcd's --max-request-bytes (fragmenting watch responses, request size limit). */
  maxRequestBytes(): number;
  /** etcd's --max-txn-ops. */
  maxTxnOps(): number;
  /** Interval of watch progress notifications in ms (etcd: 10 min). */
  progressNotifyInterval(): number;
  /** etcd's /health: false without a leader or with an active alarm; `reason` says why. */
  health(serializable: boolean): Promise<{ health: boolean; reason: string }>;
  /** etcd's /version body. */
  version(): { etcdserver: string; etcdcluster: string };
  /** Prometheus text exposition of the server's metrics. */
  metrics(): string;
  /** Whether this member is a learner (it then serves only Status and serializable ranges). */
  isLearner?(): boolean;
}

export type EtcdServerAPI = RaftKV & LeaseAPI & ClusterAPI & MaintenanceAPI & ServerInfo;

/**
 * What the peer handler (src/api/etcdhttp/peer.ts, etcd's newPeerHandler) asks of the server,
 * beside the transport's own raft routes (src/rafthttp/handler.ts).
 */
export interface PeerServerAPI {
  /** This member's id. */
  readonly id: bigint;
  clusterID(): bigint;
  /** The peer transport, whose handler serves /raft, /raft/stream/*, /raft/snapshot, /raft/probing. */
  rafthttp(): Transport;
  /** The members, sorted by id (GET /members). */
  peerMembers(): MembershipMember[];
  /** etcd's /version body. */
  version(): { etcdserver: string; etcdcluster: string };
  /** Waits until applied ≥ committed, at most `timeoutMs`; false on timeout (the lease handlers answer 408). */
  waitAppliedCaughtUp(timeoutMs: number): Promise<boolean>;
  /** Renews on this member, which must be the leader (else ErrNotPrimary); the TTL in seconds. */
  leaseRenewLocal(id: bigint): Promise<number>;
  /** TimeToLive on this member, which must be the leader (else ErrNotPrimary). */
  leaseTimeToLiveLocal(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  /** Promotes a learner on this member, which must be the leader; the members after. */
  promoteMemberLocal(id: bigint): Promise<MembershipMember[]>;
  hashKV(r: HashKVRequest): Promise<HashKVResponse>;
}
