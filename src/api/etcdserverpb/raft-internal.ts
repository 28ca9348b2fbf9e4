/**
 * etcdserverpb's raft log record (etcd api/etcdserverpb/raft_internal.proto, 3.5): the
 * InternalRaftRequest a member proposes and every member applies, its RequestHeader, the lease
 * checkpoint request (rpc.proto) and the two membershippb requests the server publishes through raft
 * (membership.proto). Representation as in rpc.ts: lowerCamel proto names (`remaining_TTL` →
 * `remainingTTL`, `member_ID` → `memberID`), ids `bigint`, revisions and TTLs `number`.
 *
 * InternalRaftRequest is not a proto oneof but etcd sets exactly one request field; the fields of the
 * auth requests (1000–1204), `downgrade_info_set` (1302) and the reserved v2 field (2) are not
 * modelled (the codec skips them on decode).
 */
import type {
  AlarmRequest,
  CompactionRequest,
  DeleteRangeRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  PutRequest,
  RangeRequest,
  TxnRequest,
} from "./rpc.js";

/** Copies the fields of `fields` that are not undefined over `defaults`. */
function fill<T extends object>(defaults: T, fields: Partial<T>): T {
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) (defaults as Record<string, unknown>)[k] = v;
  }
  return defaults;
}

export interface RequestHeader {
  /** The proposal's id (uint64), from the member's id generator; the apply result is delivered under it. */
  ID: bigint;
  /** The user of the request's auth token; empty without auth. */
  username: string;
  /** The auth store revision the token was checked at (not an MVCC revision). */
  authRevision: number;
}

export function newRequestHeader(f: Partial<RequestHeader> = {}): RequestHeader {
  return fill({ ID: 0n, username: "", authRevision: 0 }, f);
}

/** One lease's remaining TTL to record. */
export interface LeaseCheckpoint {
  ID: bigint;
  /** Seconds; 0 clears the checkpoint. */
  remainingTTL: number;
}

export function newLeaseCheckpoint(f: Partial<LeaseCheckpoint> = {}): LeaseCheckpoint {
  return fill({ ID: 0n, remainingTTL: 0 }, f);
}

export interface LeaseCheckpointRequest {
  checkpoints: LeaseCheckpoint[];
}

export function newLeaseCheckpointRequest(f: Partial<LeaseCheckpointRequest> = {}): LeaseCheckpointRequest {
  return fill({ checkpoints: [] }, f);
}

/** membershippb.Attributes: what a member publishes about itself once started. */
export interface Attributes {
  name: string;
  clientUrls: string[];
}

export function newAttributes(f: Partial<Attributes> = {}): Attributes {
  return fill({ name: "", clientUrls: [] }, f);
}

/** membershippb.ClusterMemberAttrSetRequest. */
export interface ClusterMemberAttrSetRequest {
  memberID: bigint;
  memberAttributes?: Attributes;
}

export function newClusterMemberAttrSetRequest(f: Partial<ClusterMemberAttrSetRequest> = {}): ClusterMemberAttrSetRequest {
  return fill<ClusterMemberAttrSetRequest>({ memberID: 0n }, f);
}

/** membershippb.ClusterVersionSetRequest. */
export interface ClusterVersionSetRequest {
  /** "major.minor.patch", e.g. "3.5.0". */
  ver: string;
}

export function newClusterVersionSetRequest(f: Partial<ClusterVersionSetRequest> = {}): ClusterVersionSetRequest {
  return fill({ ver: "" }, f);
}

/**
 * The data of a normal raft entry. The proposer sets `header` (or, before 3.1, `ID`) and exactly one
 * request field.
 */
export interface InternalRaftRequest {
  header?: RequestHeader;
  /** Pre-3.1 request id (uint64); 0n when `header` carries it. */
  ID: bigint;
  range?: RangeRequest;
  put?: PutRequest;
  deleteRange?: DeleteRangeRequest;
  txn?: TxnRequest;
  compaction?: CompactionRequest;
  leaseGrant?: LeaseGrantRequest;
  leaseRevoke?: LeaseRevokeRequest;
  alarm?: AlarmRequest;
  leaseCheckpoint?: LeaseCheckpointRequest;
  clusterVersionSet?: ClusterVersionSetRequest;
  clusterMemberAttrSet?: ClusterMemberAttrSetRequest;
}

export function newInternalRaftRequest(f: Partial<InternalRaftRequest> = {}): InternalRaftRequest {
  return fill<InternalRaftRequest>({ ID: 0n }, f);
}
