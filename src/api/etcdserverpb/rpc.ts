/**
 * etcdserverpb (etcd api/etcdserverpb/rpc.proto, 3.5): the request and response messages of the KV,
 * Watch, Lease, Cluster and Maintenance services.
 *
 * Representation: field names are the proto names in lowerCamel (`range_end` → `rangeEnd`; `ID`,
 * `TTL`, `peerURLs` stay as written); bytes are `Uint8Array`; revisions, counts, versions, TTLs, raft
 * indexes and terms are `number` (safe integers); member, cluster and lease ids are `bigint`; enums are
 * numeric with etcd's values. A proto oneof is a set of optional fields of which at most one is set
 * (none set: the empty oneof etcd treats as "no op"). Every `newXxx(fields)` fills the proto3 defaults
 * (zero, empty, false) for the fields not given. Codecs live elsewhere.
 */
import type { Event, KeyValue } from "../../mvcc/mvccpb.js";

const emptyBytes = (): Uint8Array => new Uint8Array(0);

/** Copies the fields of `fields` that are not undefined over `defaults`. */
function fill<T extends object>(defaults: T, fields: Partial<T>): T {
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) (defaults as Record<string, unknown>)[k] = v;
  }
  return defaults;
}

// ---------------------------------------------------------------------------------------------
// Header

export interface ResponseHeader {
  /** The responder's cluster id. */
  clusterId: bigint;
  /** The responder's member id. */
  memberId: bigint;
  /** The store revision when the request was applied (for a progress notification: every later event has a higher one). */
  revision: number;
  /** The raft term when the request was applied. */
  raftTerm: number;
}

export function newResponseHeader(f: Partial<ResponseHeader> = {}): ResponseHeader {
  return fill({ clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 }, f);
}

// ---------------------------------------------------------------------------------------------
// KV

export enum SortOrder {
  /** Default: no sorting (key order). */
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}

export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

export interface RangeRequest {
  /** First key of the range; must not be empty. */
  key: Uint8Array;
  /** Empty: `key` alone; `[0]`: every key ≥ `key`; otherwise `[key, rangeEnd)`. */
  rangeEnd: Uint8Array;
  /** At most this many kvs; 0: no limit. */
  limit: number;
  /** Read as of this revision; ≤ 0: the latest. */
  revision: number;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  /** Serve from the local store without a linearizable read. */
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  /** Each of these filters is off when 0. */
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}

export function newRangeRequest(f: Partial<RangeRequest> = {}): RangeRequest {
  return fill(
    {
      key: emptyBytes(),
      rangeEnd: emptyBytes(),
      limit: 0,
      revision: 0,
      sortOrder: SortOrder.NONE,
      sortTarget: SortTarget.KEY,
      serializable: false,
      keysOnly: false,
      countOnly: false,
      minModRevision: 0,
      maxModRevision: 0,
      minCreateRevision: 0,
      maxCreateRevision: 0,
    },
    f,
  );
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** More keys matched than `limit` let through. */
  more: boolean;
  /** Keys in the range at the revision read, before `limit` (and before the revision filters). */
  count: number;
}

export function newRangeResponse(f: Partial<RangeResponse> = {}): RangeResponse {
  return fill({ header: newResponseHeader(), kvs: [], more: false, count: 0 }, f);
}

export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  /** 0n: no lease. */
  lease: bigint;
  /** Return the key-value before the put. */
  prevKv: boolean;
  /** Keep the current value (the key must exist; `value` must be empty). */
  ignoreValue: boolean;
  /** Keep the current lease (the key must exist; `lease` must be 0n). */
  ignoreLease: boolean;
}

export function newPutRequest(f: Partial<PutRequest> = {}): PutRequest {
  return fill(
    { key: emptyBytes(), value: emptyBytes(), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
    f,
  );
}

export interface PutResponse {
  header: ResponseHeader;
  /** Set when `prevKv` was asked for and the key existed. */
  prevKv?: KeyValue;
}

export function newPutResponse(f: Partial<PutResponse> = {}): PutResponse {
  return fill<PutResponse>({ header: newResponseHeader() }, f);
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  /** As {@link RangeRequest.rangeEnd}. */
  rangeEnd: Uint8Array;
  prevKv: boolean;
}

export function newDeleteRangeRequest(f: Partial<DeleteRangeRequest> = {}): DeleteRangeRequest {
  return fill({ key: emptyBytes(), rangeEnd: emptyBytes(), prevKv: false }, f);
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  /** Keys deleted. */
  deleted: number;
  /** The deleted key-values, when `prevKv` was asked for. */
  prevKvs: KeyValue[];
}

export function newDeleteRangeResponse(f: Partial<DeleteRangeResponse> = {}): DeleteRangeResponse {
  return fill({ header: newResponseHeader(), deleted: 0, prevKvs: [] }, f);
}

/** oneof `request`: at most one field set; none set is an empty op (refused by the request checks). */
export interface RequestOp {
  requestRange?: RangeRequest;
  requestPut?: PutRequest;
  requestDeleteRange?: DeleteRangeRequest;
  requestTxn?: TxnRequest;
}

/** oneof `response`: exactly one field set, the kind of the request it answers. */
export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}

export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}

/**
 * A txn guard: `target` of each key in `[key, rangeEnd)` (`rangeEnd` as in {@link RangeRequest})
 * compared with the operand. oneof `target_union`: the operand is the field matching `target`; when
 * that field is absent the operand is zero (empty for VALUE).
 */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: bigint;
  rangeEnd: Uint8Array;
}

export function newCompare(f: Partial<Compare> = {}): Compare {
  return fill<Compare>(
    { result: CompareResult.EQUAL, target: CompareTarget.VERSION, key: emptyBytes(), rangeEnd: emptyBytes() },
    f,
  );
}

export interface TxnRequest {
  compare: Compare[];
  /** Applied in order when every compare holds. */
  success: RequestOp[];
  /** Applied in order otherwise. */
  failure: RequestOp[];
}

export function newTxnRequest(f: Partial<TxnRequest> = {}): TxnRequest {
  return fill({ compare: [], success: [], failure: [] }, f);
}

export interface TxnResponse {
  header: ResponseHeader;
  /** Every compare held (the success branch ran). */
  succeeded: boolean;
  /** One per op of the branch that ran, in order. */
  responses: ResponseOp[];
}

export function newTxnResponse(f: Partial<TxnResponse> = {}): TxnResponse {
  return fill({ header: newResponseHeader(), succeeded: false, responses: [] }, f);
}

export interface CompactionRequest {
  /** Compact every revision below this one (keeping each key's latest). */
  revision: number;
  /** Answer only once the compaction is physically applied to the backend. */
  physical: boolean;
}

export function newCompactionRequest(f: Partial<CompactionRequest> = {}): CompactionRequest {
  return fill({ revision: 0, physical: false }, f);
}

export interface CompactionResponse {
  header: ResponseHeader;
}

export function newCompactionResponse(f: Partial<CompactionResponse> = {}): CompactionResponse {
  return fill({ header: newResponseHeader() }, f);
}

// ---------------------------------------------------------------------------------------------
// Watch

export enum FilterType {
  /** Drop put events. */
  NOPUT = 0,
  /** Drop delete events. */
  NODELETE = 1,
}

export interface WatchCreateRequest {
  key: Uint8Array;
  /** As {@link RangeRequest.rangeEnd}. */
  rangeEnd: Uint8Array;
  /** First revision to send events from; ≤ 0: the next revision. */
  startRevision: number;
  progressNotify: boolean;
  filters: FilterType[];
  prevKv: boolean;
  /** 0: the server picks the id. */
  watchId: number;
  /** Split large revisions into several responses. */
  fragment: boolean;
}

export function newWatchCreateRequest(f: Partial<WatchCreateRequest> = {}): WatchCreateRequest {
  return fill(
    {
      key: emptyBytes(),
      rangeEnd: emptyBytes(),
      startRevision: 0,
      progressNotify: false,
      filters: [],
      prevKv: false,
      watchId: 0,
      fragment: false,
    },
    f,
  );
}

export interface WatchCancelRequest {
  watchId: number;
}

export function newWatchCancelRequest(f: Partial<WatchCancelRequest> = {}): WatchCancelRequest {
  return fill({ watchId: 0 }, f);
}

/** Asks for a progress notification on every watcher of the stream. */
export type WatchProgressRequest = Record<string, never>;

/** oneof `request_union`: at most one field set. */
export interface WatchRequest {
  createRequest?: WatchCreateRequest;
  cancelRequest?: WatchCancelRequest;
  progressRequest?: WatchProgressRequest;
}

export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  /** Answers a create request. */
  created: boolean;
  /** The watcher is gone; `cancelReason` and `compactRevision` say why. */
  canceled: boolean;
  /** Set when the watcher asked for a compacted revision: the compacted revision. */
  compactRevision: number;
  cancelReason: string;
  /** More responses of the same revision follow. */
  fragment: boolean;
  events: Event[];
}

export function newWatchResponse(f: Partial<WatchResponse> = {}): WatchResponse {
  return fill(
    {
      header: newResponseHeader(),
      watchId: 0,
      created: false,
      canceled: false,
      compactRevision: 0,
      cancelReason: "",
      fragment: false,
      events: [],
    },
    f,
  );
}

// ---------------------------------------------------------------------------------------------
// Lease

export interface LeaseGrantRequest {
  /** Seconds. */
  TTL: number;
  /** 0n: the server picks the id. */
  ID: bigint;
}

export function newLeaseGrantRequest(f: Partial<LeaseGrantRequest> = {}): LeaseGrantRequest {
  return fill({ TTL: 0, ID: 0n }, f);
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  ID: bigint;
  /** Seconds, as granted (raised to the minimum TTL). */
  TTL: number;
  error: string;
}

export function newLeaseGrantResponse(f: Partial<LeaseGrantResponse> = {}): LeaseGrantResponse {
  return fill({ header: newResponseHeader(), ID: 0n, TTL: 0, error: "" }, f);
}

export interface LeaseRevokeRequest {
  ID: bigint;
}

export function newLeaseRevokeRequest(f: Partial<LeaseRevokeRequest> = {}): LeaseRevokeRequest {
  return fill({ ID: 0n }, f);
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

export function newLeaseRevokeResponse(f: Partial<LeaseRevokeResponse> = {}): LeaseRevokeResponse {
  return fill({ header: newResponseHeader() }, f);
}

export interface LeaseKeepAliveRequest {
  ID: bigint;
}

export function newLeaseKeepAliveRequest(f: Partial<LeaseKeepAliveRequest> = {}): LeaseKeepAliveRequest {
  return fill({ ID: 0n }, f);
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  ID: bigint;
  /** Seconds left after the renewal; 0 when the lease does not exist. */
  TTL: number;
}

export function newLeaseKeepAliveResponse(f: Partial<LeaseKeepAliveResponse> = {}): LeaseKeepAliveResponse {
  return fill({ header: newResponseHeader(), ID: 0n, TTL: 0 }, f);
}

export interface LeaseTimeToLiveRequest {
  ID: bigint;
  /** Also list the keys attached to the lease. */
  keys: boolean;
}

export function newLeaseTimeToLiveRequest(f: Partial<LeaseTimeToLiveRequest> = {}): LeaseTimeToLiveRequest {
  return fill({ ID: 0n, keys: false }, f);
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  ID: bigint;
  /** Seconds left; -1 when the lease does not exist (or has expired). */
  TTL: number;
  /** Seconds, as granted. */
  grantedTTL: number;
  keys: Uint8Array[];
}

export function newLeaseTimeToLiveResponse(f: Partial<LeaseTimeToLiveResponse> = {}): LeaseTimeToLiveResponse {
  return fill({ header: newResponseHeader(), ID: 0n, TTL: 0, grantedTTL: 0, keys: [] }, f);
}

export type LeaseLeasesRequest = Record<string, never>;

export interface LeaseStatus {
  ID: bigint;
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: LeaseStatus[];
}

export function newLeaseLeasesResponse(f: Partial<LeaseLeasesResponse> = {}): LeaseLeasesResponse {
  return fill({ header: newResponseHeader(), leases: [] }, f);
}

// ---------------------------------------------------------------------------------------------
// Cluster

export interface Member {
  ID: bigint;
  /** Empty until the member has started and published its name. */
  name: string;
  peerURLs: string[];
  /** Empty until the member has started. */
  clientURLs: string[];
  isLearner: boolean;
}

export function newMember(f: Partial<Member> = {}): Member {
  return fill({ ID: 0n, name: "", peerURLs: [], clientURLs: [], isLearner: false }, f);
}

export interface MemberAddRequest {
  peerURLs: string[];
  isLearner: boolean;
}

export function newMemberAddRequest(f: Partial<MemberAddRequest> = {}): MemberAddRequest {
  return fill({ peerURLs: [], isLearner: false }, f);
}

export interface MemberAddResponse {
  header: ResponseHeader;
  /** The member added. */
  member?: Member;
  members: Member[];
}

export function newMemberAddResponse(f: Partial<MemberAddResponse> = {}): MemberAddResponse {
  return fill<MemberAddResponse>({ header: newResponseHeader(), members: [] }, f);
}

export interface MemberRemoveRequest {
  ID: bigint;
}

export function newMemberRemoveRequest(f: Partial<MemberRemoveRequest> = {}): MemberRemoveRequest {
  return fill({ ID: 0n }, f);
}

export interface MemberUpdateRequest {
  ID: bigint;
  peerURLs: string[];
}

export function newMemberUpdateRequest(f: Partial<MemberUpdateRequest> = {}): MemberUpdateRequest {
  return fill({ ID: 0n, peerURLs: [] }, f);
}

export interface MemberListRequest {
  /** 3.5: answer after a linearizable read. */
  linearizable: boolean;
}

export function newMemberListRequest(f: Partial<MemberListRequest> = {}): MemberListRequest {
  return fill({ linearizable: false }, f);
}

export interface MemberPromoteRequest {
  ID: bigint;
}

export function newMemberPromoteRequest(f: Partial<MemberPromoteRequest> = {}): MemberPromoteRequest {
  return fill({ ID: 0n }, f);
}

/** The response of MemberRemove, MemberUpdate, MemberList and MemberPromote (four proto messages of one shape). */
export interface MemberListResponse {
  header: ResponseHeader;
  members: Member[];
}

export type MemberRemoveResponse = MemberListResponse;
export type MemberUpdateResponse = MemberListResponse;
export type MemberPromoteResponse = MemberListResponse;

export function newMemberListResponse(f: Partial<MemberListResponse> = {}): MemberListResponse {
  return fill({ header: newResponseHeader(), members: [] }, f);
}

// ---------------------------------------------------------------------------------------------
// Maintenance

export enum AlarmType {
  /** In a request: every alarm. */
  NONE = 0,
  NOSPACE = 1,
  CORRUPT = 2,
}

export enum AlarmAction {
  GET = 0,
  ACTIVATE = 1,
  DEACTIVATE = 2,
}

export interface AlarmRequest {
  action: AlarmAction;
  /** 0n: every member. */
  memberID: bigint;
  alarm: AlarmType;
}

export function newAlarmRequest(f: Partial<AlarmRequest> = {}): AlarmRequest {
  return fill({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE }, f);
}

export interface AlarmMember {
  memberID: bigint;
  alarm: AlarmType;
}

export interface AlarmResponse {
  header: ResponseHeader;
  alarms: AlarmMember[];
}

export function newAlarmResponse(f: Partial<AlarmResponse> = {}): AlarmResponse {
  return fill({ header: newResponseHeader(), alarms: [] }, f);
}

export type StatusRequest = Record<string, never>;

export interface StatusResponse {
  header: ResponseHeader;
  /** The server's version, e.g. "3.5.0". */
  version: string;
  /** Bytes of the backend, allocated. */
  dbSize: number;
  /** 0n: no leader known. */
  leader: bigint;
  /** The raft committed index. */
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  /** "etcdserver: no leader" and one line per active alarm. */
  errors: string[];
  /** Bytes of the backend in use. */
  dbSizeInUse: number;
  isLearner: boolean;
}

export function newStatusResponse(f: Partial<StatusResponse> = {}): StatusResponse {
  return fill(
    {
      header: newResponseHeader(),
      version: "",
      dbSize: 0,
      leader: 0n,
      raftIndex: 0,
      raftTerm: 0,
      raftAppliedIndex: 0,
      errors: [],
      dbSizeInUse: 0,
      isLearner: false,
    },
    f,
  );
}

export type HashRequest = Record<string, never>;

export interface HashResponse {
  header: ResponseHeader;
  /** CRC-32C of the whole backend, unsigned 32-bit. */
  hash: number;
}

export function newHashResponse(f: Partial<HashResponse> = {}): HashResponse {
  return fill({ header: newResponseHeader(), hash: 0 }, f);
}

export interface HashKVRequest {
  /** Hash the key-values up to this revision; 0: the latest. */
  revision: number;
}

export function newHashKVRequest(f: Partial<HashKVRequest> = {}): HashKVRequest {
  return fill({ revision: 0 }, f);
}

export interface HashKVResponse {
  header: ResponseHeader;
  /** CRC-32C, unsigned 32-bit. */
  hash: number;
  compactRevision: number;
  /** 3.6: the revision the hash covers up to. */
  hashRevision: number;
}

export function newHashKVResponse(f: Partial<HashKVResponse> = {}): HashKVResponse {
  return fill({ header: newResponseHeader(), hash: 0, compactRevision: 0, hashRevision: 0 }, f);
}

export type DefragmentRequest = Record<string, never>;

export interface DefragmentResponse {
  /** etcd's maintenanceServer.Defragment answers an empty message, without a header. */
  header?: ResponseHeader;
}

export function newDefragmentResponse(f: Partial<DefragmentResponse> = {}): DefragmentResponse {
  return fill<DefragmentResponse>({}, f);
}

export type SnapshotRequest = Record<string, never>;

export interface SnapshotResponse {
  header: ResponseHeader;
  /** Bytes still to come after this chunk. */
  remainingBytes: number;
  blob: Uint8Array;
}

export function newSnapshotResponse(f: Partial<SnapshotResponse> = {}): SnapshotResponse {
  return fill({ header: newResponseHeader(), remainingBytes: 0, blob: emptyBytes() }, f);
}

export interface MoveLeaderRequest {
  targetID: bigint;
}

export function newMoveLeaderRequest(f: Partial<MoveLeaderRequest> = {}): MoveLeaderRequest {
  return fill({ targetID: 0n }, f);
}

export interface MoveLeaderResponse {
  header: ResponseHeader;
}

export function newMoveLeaderResponse(f: Partial<MoveLeaderResponse> = {}): MoveLeaderResponse {
  return fill({ header: newResponseHeader() }, f);
}
