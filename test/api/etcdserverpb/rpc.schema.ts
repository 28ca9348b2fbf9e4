/**
 * A protobufjs reflection schema of the etcdserverpb messages our codec speaks (etcd 3.5's rpc.proto
 * and raft_internal.proto, with mvccpb.KeyValue from kv.proto and two membershippb requests from
 * membership.proto), written by hand for the codec tests: the independent encoder and decoder
 * src/api/etcdserverpb/codec.ts is checked against. Names as etcd spells them (`keepCase`).
 *
 * InternalRaftRequest keeps the field numbers of the requests our codec skips (v2 = 2 is reserved;
 * one auth request stands in for the 1000–1204 range), so tests can write them and check they are
 * dropped.
 */
import protobuf from "protobufjs";

const mvccpb = `
syntax = "proto3";
package mvccpb;

message KeyValue {
  bytes key = 1;
  int64 create_revision = 2;
  int64 mod_revision = 3;
  int64 version = 4;
  bytes value = 5;
  int64 lease = 6;
}
`;

const membershippb = `
syntax = "proto3";
package membershippb;

message Attributes {
  string name = 1;
  repeated string client_urls = 2;
}

message ClusterVersionSetRequest {
  string ver = 1;
}

message ClusterMemberAttrSetRequest {
  uint64 member_ID = 1;
  Attributes member_attributes = 2;
}
`;

const etcdserverpb = `
syntax = "proto3";
package etcdserverpb;

message ResponseHeader {
  uint64 cluster_id = 1;
  uint64 member_id = 2;
  int64 revision = 3;
  uint64 raft_term = 4;
}

message RangeRequest {
  enum SortOrder { NONE = 0; ASCEND = 1; DESCEND = 2; }
  enum SortTarget { KEY = 0; VERSION = 1; CREATE = 2; MOD = 3; VALUE = 4; }
  bytes key = 1;
  bytes range_end = 2;
  int64 limit = 3;
  int64 revision = 4;
  SortOrder sort_order = 5;
  SortTarget sort_target = 6;
  bool serializable = 7;
  bool keys_only = 8;
  bool count_only = 9;
  int64 min_mod_revision = 10;
  int64 max_mod_revision = 11;
  int64 min_create_revision = 12;
  int64 max_create_revision = 13;
}

message RangeResponse {
  ResponseHeader header = 1;
  repeated mvccpb.KeyValue kvs = 2;
  bool more = 3;
  int64 count = 4;
}

message PutRequest {
  bytes key = 1;
  bytes value = 2;
  int64 lease = 3;
  bool prev_kv = 4;
  bool ignore_value = 5;
  bool ignore_lease = 6;
}

message PutResponse {
  ResponseHeader header = 1;
  mvccpb.KeyValue prev_kv = 2;
}

message DeleteRangeRequest {
  bytes key = 1;
  bytes range_end = 2;
  bool prev_kv = 3;
}

message DeleteRangeResponse {
  ResponseHeader header = 1;
  int64 deleted = 2;
  repeated mvccpb.KeyValue prev_kvs = 3;
}

message RequestOp {
  oneof request {
    RangeRequest request_range = 1;
    PutRequest request_put = 2;
    DeleteRangeRequest request_delete_range = 3;
    TxnRequest request_txn = 4;
  }
}

message ResponseOp {
  oneof response {
    RangeResponse response_range = 1;
    PutResponse response_put = 2;
    DeleteRangeResponse response_delete_range = 3;
    TxnResponse response_txn = 4;
  }
}

message Compare {
  enum CompareResult { EQUAL = 0; GREATER = 1; LESS = 2; NOT_EQUAL = 3; }
  enum CompareTarget { VERSION = 0; CREATE = 1; MOD = 2; VALUE = 3; LEASE = 4; }
  CompareResult result = 1;
  CompareTarget target = 2;
  bytes key = 3;
  oneof target_union {
    int64 version = 4;
    int64 create_revision = 5;
    int64 mod_revision = 6;
    bytes value = 7;
    int64 lease = 8;
  }
  bytes range_end = 64;
}

message TxnRequest {
  repeated Compare compare = 1;
  repeated RequestOp success = 2;
  repeated RequestOp failure = 3;
}

message TxnResponse {
  ResponseHeader header = 1;
  bool succeeded = 2;
  repeated ResponseOp responses = 3;
}

message CompactionRequest {
  int64 revision = 1;
  bool physical = 2;
}

message CompactionResponse {
  ResponseHeader header = 1;
}

message LeaseGrantRequest {
  int64 TTL = 1;
  int64 ID = 2;
}

message LeaseGrantResponse {
  ResponseHeader header = 1;
  int64 ID = 2;
  int64 TTL = 3;
  string error = 4;
}

message LeaseRevokeRequest {
  int64 ID = 1;
}

message LeaseRevokeResponse {
  ResponseHeader header = 1;
}

message LeaseCheckpoint {
  int64 ID = 1;
  int64 remaining_TTL = 2;
}

message LeaseCheckpointRequest {
  repeated LeaseCheckpoint checkpoints = 1;
}

enum AlarmType { NONE = 0; NOSPACE = 1; CORRUPT = 2; }

message AlarmRequest {
  enum AlarmAction { GET = 0; ACTIVATE = 1; DEACTIVATE = 2; }
  AlarmAction action = 1;
  uint64 memberID = 2;
  AlarmType alarm = 3;
}

message AlarmMember {
  uint64 memberID = 1;
  AlarmType alarm = 2;
}

message AlarmResponse {
  ResponseHeader header = 1;
  repeated AlarmMember alarms = 2;
}

message RequestHeader {
  uint64 ID = 1;
  string username = 2;
  uint64 auth_revision = 3;
}

message AuthEnableRequest {}

message InternalRaftRequest {
  RequestHeader header = 100;
  uint64 ID = 1;
  bytes v2 = 2;
  RangeRequest range = 3;
  PutRequest put = 4;
  DeleteRangeRequest delete_range = 5;
  TxnRequest txn = 6;
  CompactionRequest compaction = 7;
  LeaseGrantRequest lease_grant = 8;
  LeaseRevokeRequest lease_revoke = 9;
  AlarmRequest alarm = 10;
  LeaseCheckpointRequest lease_checkpoint = 11;
  AuthEnableRequest auth_enable = 1000;
  membershippb.ClusterVersionSetRequest cluster_version_set = 1300;
  membershippb.ClusterMemberAttrSetRequest cluster_member_attr_set = 1301;
}
`;

/** The message names this schema defines, as our codec's encode/decode functions are named. */
export const messageNames = [
  "ResponseHeader",
  "RangeRequest",
  "RangeResponse",
  "PutRequest",
  "PutResponse",
  "DeleteRangeRequest",
  "DeleteRangeResponse",
  "RequestOp",
  "ResponseOp",
  "Compare",
  "TxnRequest",
  "TxnResponse",
  "CompactionRequest",
  "CompactionResponse",
  "LeaseGrantRequest",
  "LeaseGrantResponse",
  "LeaseRevokeRequest",
  "LeaseRevokeResponse",
  "LeaseCheckpoint",
  "LeaseCheckpointRequest",
  "AlarmRequest",
  "AlarmResponse",
  "RequestHeader",
  "InternalRaftRequest",
  "ClusterVersionSetRequest",
  "ClusterMemberAttrSetRequest",
] as const;

export type MessageName = (typeof messageNames)[number];

/** Parses the schema; returns each message type by its name (membershippb's and mvccpb's included). */
export function etcdserverpbTypes(): Record<MessageName | "KeyValue" | "Attributes", protobuf.Type> {
  const root = new protobuf.Root();
  for (const text of [mvccpb, membershippb, etcdserverpb]) protobuf.parse(text, root, { keepCase: true });
  root.resolveAll();
  const out: Record<string, protobuf.Type> = {};
  for (const name of messageNames) {
    out[name] = root.lookupType(name.startsWith("Cluster") ? `membershippb.${name}` : `etcdserverpb.${name}`);
  }
  out.KeyValue = root.lookupType("mvccpb.KeyValue");
  out.Attributes = root.lookupType("membershippb.Attributes");
  return out as Record<MessageName | "KeyValue" | "Attributes", protobuf.Type>;
}
