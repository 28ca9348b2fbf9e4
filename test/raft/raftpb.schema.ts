/**
 * A protobufjs reflection schema of etcd's raftpb (raft.proto as etcd 3.4 speaks it), written by hand
 * for the codec tests: the independent decoder and encoder our byte codec is checked against.
 *
 * Field numbers, types and names follow etcd's raft.proto. It is proto2, so repeated uint64 fields are
 * unpacked; `raftpbRoot({ packed: true })` gives the same schema with ConfState's id lists packed, which
 * a conforming decoder must also accept. Names are kept as etcd spells them (`keepCase`).
 *
 * Fields added after etcd 3.4 (Message.vote = 13, Message.responses = 14) are left out on purpose:
 * they are unknown fields to our codec.
 */
import protobuf from "protobufjs";

function schemaText(packed: boolean): string {
  const opt = packed ? " [packed = true]" : "";
  return `
syntax = "proto2";
package raftpb;

enum EntryType {
  EntryNormal       = 0;
  EntryConfChange   = 1;
  EntryConfChangeV2 = 2;
}

message Entry {
  optional uint64    Term  = 2;
  optional uint64    Index = 3;
  optional EntryType Type  = 1;
  optional bytes     Data  = 4;
}

message SnapshotMetadata {
  optional ConfState conf_state = 1;
  optional uint64    index      = 2;
  optional uint64    term       = 3;
}

message Snapshot {
  optional bytes            data     = 1;
  optional SnapshotMetadata metadata = 2;
}

enum MessageType {
  MsgHup            = 0;
  MsgBeat           = 1;
  MsgProp           = 2;
  MsgApp            = 3;
  MsgAppResp        = 4;
  MsgVote           = 5;
  MsgVoteResp       = 6;
  MsgSnap           = 7;
  MsgHeartbeat      = 8;
  MsgHeartbeatResp  = 9;
  MsgUnreachable    = 10;
  MsgSnapStatus     = 11;
  MsgCheckQuorum    = 12;
  MsgTransferLeader = 13;
  MsgTimeoutNow     = 14;
  MsgReadIndex      = 15;
  MsgReadIndexResp  = 16;
  MsgPreVote        = 17;
  MsgPreVoteResp    = 18;
}

message Message {
  optional MessageType type       = 1;
  optional uint64      to         = 2;
  optional uint64      from       = 3;
  optional uint64      term       = 4;
  optional uint64      logTerm    = 5;
  optional uint64      index      = 6;
  repeated Entry       entries    = 7;
  optional uint64      commit     = 8;
  optional Snapshot    snapshot   = 9;
  optional bool        reject     = 10;
  optional uint64      rejectHint = 11;
  optional bytes       context    = 12;
}

message HardState {
  optional uint64 term   = 1;
  optional uint64 vote   = 2;
  optional uint64 commit = 3;
}

enum ConfChangeTransition {
  ConfChangeTransitionAuto          = 0;
  ConfChangeTransitionJointImplicit = 1;
  ConfChangeTransitionJointExplicit = 2;
}

message ConfState {
  repeated uint64 voters          = 1${opt};
  repeated uint64 learners        = 2${opt};
  repeated uint64 voters_outgoing = 3${opt};
  repeated uint64 learners_next   = 4${opt};
  optional bool   auto_leave      = 5;
}

enum ConfChangeType {
  ConfChangeAddNode        = 0;
  ConfChangeRemoveNode     = 1;
  ConfChangeUpdateNode     = 2;
  ConfChangeAddLearnerNode = 3;
}

message ConfChange {
  optional uint64         id      = 1;
  optional ConfChangeType type    = 2;
  optional uint64         node_id = 3;
  optional bytes          context = 4;
}

message ConfChangeSingle {
  optional ConfChangeType type    = 1;
  optional uint64         node_id = 2;
}

message ConfChangeV2 {
  optional ConfChangeTransition transition = 1;
  repeated ConfChangeSingle     changes    = 2;
  optional bytes                context    = 3;
}
`;
}

/** The raftpb message types of one parsed schema. */
export interface RaftpbTypes {
  Entry: protobuf.Type;
  SnapshotMetadata: protobuf.Type;
  Snapshot: protobuf.Type;
  Message: protobuf.Type;
  HardState: protobuf.Type;
  ConfState: protobuf.Type;
  ConfChange: protobuf.Type;
  ConfChangeSingle: protobuf.Type;
  ConfChangeV2: protobuf.Type;
}

/** Parses the schema; `packed` packs ConfState's repeated uint64 fields (etcd's schema does not). */
export function raftpbRoot(opts: { packed?: boolean } = {}): RaftpbTypes {
  const { root } = protobuf.parse(schemaText(opts.packed ?? false), { keepCase: true });
  const t = (name: string) => root.lookupType(`raftpb.${name}`);
  return {
    Entry: t("Entry"),
    SnapshotMetadata: t("SnapshotMetadata"),
    Snapshot: t("Snapshot"),
    Message: t("Message"),
    HardState: t("HardState"),
    ConfState: t("ConfState"),
    ConfChange: t("ConfChange"),
    ConfChangeSingle: t("ConfChangeSingle"),
    ConfChangeV2: t("ConfChangeV2"),
  };
}
