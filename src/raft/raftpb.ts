/**
 * raftpb: the messages Raft exchanges and persists, with etcd's names, field numbers and enum values
 * (etcd-io/raft raftpb/raft.proto). The byte codec lives in `codec.ts`.
 *
 * Numbers: terms and indexes are `number` (checked against Number.MAX_SAFE_INTEGER when decoded);
 * node ids are `bigint` (etcd's uint64 member ids). `None` (0n) means "no node".
 *
 * Byte fields use an empty Uint8Array for "absent": raft never distinguishes nil from empty.
 */

/** The id that names no node (etcd's raft.None). */
export const None = 0n;

export enum EntryType {
  EntryNormal = 0,
  EntryConfChange = 1,
  EntryConfChangeV2 = 2,
}

export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

export enum ConfChangeTransition {
  ConfChangeTransitionAuto = 0,
  ConfChangeTransitionJointImplicit = 1,
  ConfChangeTransitionJointExplicit = 2,
}

export enum ConfChangeType {
  ConfChangeAddNode = 0,
  ConfChangeRemoveNode = 1,
  ConfChangeUpdateNode = 2,
  ConfChangeAddLearnerNode = 3,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** The membership a snapshot or the applied log describes. All id lists are kept sorted. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  /** Present only on MsgSnap (the wire always carries one; an empty one decodes to undefined). */
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

export interface ConfChange {
  id: bigint;
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The shared empty byte array (zero-length, so nothing can mutate it). */
export function emptyBytes(): Uint8Array {
  return EMPTY;
}

export function newEntry(e: Partial<Entry> = {}): Entry {
  return { term: e.term ?? 0, index: e.index ?? 0, type: e.type ?? EntryType.EntryNormal, data: e.data ?? EMPTY };
}

export function newConfState(c: Partial<ConfState> = {}): ConfState {
  return {
    voters: c.voters ?? [],
    learners: c.learners ?? [],
    votersOutgoing: c.votersOutgoing ?? [],
    learnersNext: c.learnersNext ?? [],
    autoLeave: c.autoLeave ?? false,
  };
}

export function newSnapshot(s: { data?: Uint8Array; metadata?: Partial<SnapshotMetadata> } = {}): Snapshot {
  const m = s.metadata ?? {};
  return {
    data: s.data ?? EMPTY,
    metadata: { confState: m.confState ?? newConfState(), index: m.index ?? 0, term: m.term ?? 0 },
  };
}

/** A Message with every field not given set to its zero value. */
export function newMessage(m: Partial<Message> & { type: MessageType }): Message {
  const out: Message = {
    type: m.type,
    to: m.to ?? None,
    from: m.from ?? None,
    term: m.term ?? 0,
    logTerm: m.logTerm ?? 0,
    index: m.index ?? 0,
    entries: m.entries ?? [],
    commit: m.commit ?? 0,
    reject: m.reject ?? false,
    rejectHint: m.rejectHint ?? 0,
    context: m.context ?? EMPTY,
  };
  if (m.snapshot !== undefined) out.snapshot = m.snapshot;
  return out;
}

export function newHardState(h: Partial<HardState> = {}): HardState {
  return { term: h.term ?? 0, vote: h.vote ?? None, commit: h.commit ?? 0 };
}

export function newConfChange(c: Partial<ConfChange> = {}): ConfChange {
  return { id: c.id ?? 0n, type: c.type ?? ConfChangeType.ConfChangeAddNode, nodeId: c.nodeId ?? None, context: c.context ?? EMPTY };
}

export function newConfChangeV2(c: Partial<ConfChangeV2> = {}): ConfChangeV2 {
  return {
    transition: c.transition ?? ConfChangeTransition.ConfChangeTransitionAuto,
    changes: c.changes ?? [],
    context: c.context ?? EMPTY,
  };
}

export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === None && h.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** Sorted copy of a list of ids (bigint has no default numeric sort). */
export function sortIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function idsEqual(a: bigint[], b: bigint[]): boolean {
  const x = sortIds(a);
  const y = sortIds(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Whether two ConfStates describe the same configuration (order of ids ignored), as etcd's ConfState.Equivalent. */
export function confStateEquivalent(a: ConfState, b: ConfState): boolean {
  return (
    idsEqual(a.voters, b.voters) &&
    idsEqual(a.learners, b.learners) &&
    idsEqual(a.votersOutgoing, b.votersOutgoing) &&
    idsEqual(a.learnersNext, b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}

/** One line for a configuration, ids in hex as etcd prints them: `voters=(1 2)&&(1) learners=(3) autoleave`. */
export function describeConfState(cs: ConfState): string {
  const ids = (l: bigint[]): string => `(${sortIds(l).map((id) => id.toString(16)).join(" ")})`;
  let s = `voters=${ids(cs.voters)}`;
  if (cs.votersOutgoing.length > 0) s += `&&${ids(cs.votersOutgoing)}`;
  if (cs.learners.length > 0) s += ` learners=${ids(cs.learners)}`;
  if (cs.learnersNext.length > 0) s += ` learners_next=${ids(cs.learnersNext)}`;
  if (cs.autoLeave) s += " autoleave";
  return s;
}

/** Whether a message type is a response to a request (its sender does not expect an answer). */
export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

/** Whether a message type only ever arises on the local node (never crosses the network). */
export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

/** The response type of a vote request (MsgVote → MsgVoteResp, MsgPreVote → MsgPreVoteResp). */
export function voteRespMsgType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MsgVote:
      return MessageType.MsgVoteResp;
    case MessageType.MsgPreVote:
      return MessageType.MsgPreVoteResp;
    default:
      throw new Error(`not a vote message: ${MessageType[t]}`);
  }
}

/** Converts a ConfChange or ConfChangeV2 into a ConfChangeV2 (etcd's ConfChangeI.AsV2). */
export function asV2(cc: ConfChange | ConfChangeV2): ConfChangeV2 {
  if ("changes" in cc) return cc;
  return newConfChangeV2({ changes: [{ type: cc.type, nodeId: cc.nodeId }], context: cc.context });
}

/**
 * Whether a ConfChangeV2 enters a joint configuration, and whether it leaves it automatically
 * (etcd's ConfChangeV2.EnterJoint): more than one change, or a non-Auto transition, needs joint consensus.
 */
export function enterJoint(cc: ConfChangeV2): { autoLeave: boolean; ok: boolean } {
  if (cc.transition !== ConfChangeTransition.ConfChangeTransitionAuto || cc.changes.length > 1) {
    switch (cc.transition) {
      case ConfChangeTransition.ConfChangeTransitionAuto:
      case ConfChangeTransition.ConfChangeTransitionJointImplicit:
        return { autoLeave: true, ok: true };
      case ConfChangeTransition.ConfChangeTransitionJointExplicit:
        return { autoLeave: false, ok: true };
      default:
        throw new Error(`unknown transition: ${String(cc.transition)}`);
    }
  }
  return { autoLeave: false, ok: false };
}

/** Whether a ConfChangeV2 is the empty change that leaves a joint configuration (its context is ignored). */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.ConfChangeTransitionAuto && cc.changes.length === 0;
}
