/**
 * RawNode: the application's handle on a Raft state machine (etcd's rawnode.go). Synchronous and
 * single-threaded: the application calls tick/step/propose, asks for a Ready, handles it, and
 * calls advance.
 *
 * The Ready contract, in order:
 *  1. persist `snapshot` (if not empty), then `entries`, then `hardState` (if not empty) — durably
 *     when `mustSync`;
 *  2. send `messages` (only after step 1: a vote or an ack must not outrun the disk);
 *  3. apply `committedEntries` in order, calling applyConfChange for configuration changes, and
 *     serve `readStates` once their index is applied;
 *  4. call advance(rd).
 */
import { encodeConfChange, encodeConfChangeV2 } from "./codec.js";
import { ErrStepLocalMsg, ErrStepPeerNotFound, RaftError } from "./errors.js";
import { panic } from "./logger.js";
import {
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  ConfChangeType,
  EntryType,
  MessageType,
  None,
  asV2,
  hardStateEqual,
  isEmptyHardState,
  isEmptySnap,
  isLocalMsg,
  isResponseMsg,
  newConfChange,
  newEntry,
  newHardState,
  newMessage,
  newSnapshot,
} from "./raftpb.js";
import { type Config, Raft, type ReadState, type SoftState, StateType } from "./raft.js";
import type { Progress } from "./tracker/progress.js";
import { type TrackerConfig, cloneTrackerConfig } from "./tracker/tracker.js";

/** How a snapshot sent to a follower ended (RawNode.reportSnapshot). Values as etcd's. */
export enum SnapshotStatus {
  SnapshotFinish = 1,
  SnapshotFailure = 2,
}

/** Everything the application must do, from one call to ready(). */
export interface Ready {
  /** Set only when the leader or role changed. */
  softState?: SoftState;
  /** To persist; empty (all zero) when unchanged. */
  hardState: HardState;
  /** Reads confirmed since the last Ready: serve each once `index` is applied. */
  readStates: ReadState[];
  /** To persist, before sending messages. */
  entries: Entry[];
  /** To persist (replacing the log); index 0 when none. */
  snapshot: Snapshot;
  /** To apply, in order; they are already durable on a quorum. */
  committedEntries: Entry[];
  /** To send after persisting. */
  messages: Message[];
  /** Whether the write of hardState and entries must be synced to disk. */
  mustSync: boolean;
}

export interface Peer {
  id: bigint;
  context?: Uint8Array;
}

/** The state of a node, for monitoring and debugging. */
export interface BasicStatus {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: bigint;
}

export interface Status extends BasicStatus {
  config: TrackerConfig;
  /** Progress of every member; only on the leader. */
  progress: Map<bigint, Progress>;
}

/** Whether persisting a Ready needs a sync: new entries, or a changed term or vote (etcd's MustSync). */
export function mustSync(st: HardState, prev: HardState, entsnum: number): boolean {
  return entsnum !== 0 || st.vote !== prev.vote || st.term !== prev.term;
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;

  /** Creates a node over config.storage, restoring whatever state it holds. */
  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    this.raft.tick();
  }

  /** Advances the election clock without campaigning or heartbeating (a quiesced group). */
  tickQuiesced(): void {
    this.raft.electionElapsed++;
  }

  /** Starts an election now (pre-vote first when enabled). */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup }));
  }

  /** Proposes data to be appended to the log. Throws ErrProposalDropped when it cannot be accepted. */
  propose(data: Uint8Array): void {
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [newEntry({ data })] }));
  }

  /** Proposes a configuration change; a ConfChange is sent as EntryConfChange, a ConfChangeV2 as EntryConfChangeV2. */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    this.raft.step(confChangeToMsg(cc));
  }

  /** Applies a committed configuration change (call it for each conf-change entry applied). */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange(asV2(cc));
  }

  /**
   * Steps a message received from a peer. Throws ErrStepLocalMsg for local-only message types and
   * ErrStepPeerNotFound for a response from a node not in the configuration.
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw ErrStepLocalMsg;
    if (this.raft.trk.progress.has(m.from) || !isResponseMsg(m.type)) {
      this.raft.step(m);
      return;
    }
    throw ErrStepPeerNotFound;
  }

  /** Collects what the application must do now, and marks it handed out. */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      hardState: newHardState(),
      readStates: r.readStates,
      entries: r.raftLog.unstableEntries(),
      snapshot: r.raftLog.unstable.snapshot ?? newSnapshot(),
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      mustSync: false,
    };
    const softSt = r.softState();
    if (!softStateEqual(softSt, this.prevSoftSt)) {
      rd.softState = softSt;
      this.prevSoftSt = softSt;
    }
    const hardSt = r.hardState();
    if (!hardStateEqual(hardSt, this.prevHardSt)) rd.hardState = hardSt;
    rd.mustSync = mustSync(hardSt, this.prevHardSt, rd.entries.length);
    r.readStates = [];
    r.msgs = [];
    return rd;
  }

  /** Whether ready() has anything to hand out. */
  hasReady(): boolean {
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftSt)) return true;
    const hardSt = r.hardState();
    if (!isEmptyHardState(hardSt) && !hardStateEqual(hardSt, this.prevHardSt)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextEnts()) return true;
    return r.readStates.length > 0;
  }

  /** Tells raft the application handled rd: its entries and snapshot are stable, its committed entries applied. */
  advance(rd: Ready): void {
    if (!isEmptyHardState(rd.hardState)) this.prevHardSt = rd.hardState;
    const r = this.raft;
    r.reduceUncommittedSize(rd.committedEntries);
    if (rd.entries.length > 0) {
      const e = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(e.index, e.term);
    }
    if (!isEmptySnap(rd.snapshot)) r.appliedSnap(rd.snapshot);
    const n = rd.committedEntries.length;
    if (n > 0) r.appliedTo(rd.committedEntries[n - 1]!.index);
  }

  /** The node's state without the per-follower progress. */
  basicStatus(): BasicStatus {
    const r = this.raft;
    return { id: r.id, hardState: r.hardState(), softState: r.softState(), applied: r.raftLog.applied, leadTransferee: r.leadTransferee };
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<bigint, Progress>();
    if (r.state === StateType.StateLeader) for (const [id, pr] of r.trk.progress) progress.set(id, pr.clone());
    return { ...this.basicStatus(), config: cloneTrackerConfig(r.trk.config), progress };
  }

  /** Tells the leader that a message to id could not be delivered. */
  reportUnreachable(id: bigint): void {
    this.stepQuietly(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** Tells the leader how sending a snapshot to id ended. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.stepQuietly(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === SnapshotStatus.SnapshotFailure }));
  }

  /** Asks the leader to hand leadership to transferee. */
  transferLeader(transferee: bigint): void {
    this.stepQuietly(newMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /**
   * Requests a linearizable read. rctx identifies the request; a ReadState with the same requestCtx
   * comes back in a later Ready (or never, if leadership is lost: the caller times out and retries).
   */
  readIndex(rctx: Uint8Array): void {
    this.stepQuietly(newMessage({ type: MessageType.MsgReadIndex, entries: [newEntry({ data: rctx })] }));
  }

  /**
   * Initializes an empty storage with a configuration of the given peers, as if each had been added
   * by a committed ConfChangeAddNode at term 1 (etcd's Bootstrap). The application still has to
   * persist the resulting Ready. Throws on a non-empty storage.
   */
  bootstrap(peers: Peer[]): void {
    if (peers.length === 0) throw new RaftError("ErrBootstrap", "must provide at least one peer to Bootstrap");
    if (this.raft.raftLog.storage.lastIndex() !== 0) throw new RaftError("ErrBootstrap", "can't bootstrap a nonempty Storage");
    // The configuration entries below must reach a Ready as a HardState change.
    this.prevHardSt = newHardState();
    this.raft.becomeFollower(1, None);
    const ents = peers.map((p, i) =>
      newEntry({
        type: EntryType.EntryConfChange,
        term: 1,
        index: i + 1,
        data: encodeConfChange(newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id, context: p.context ?? new Uint8Array(0) })),
      }),
    );
    this.raft.raftLog.append(ents);
    // Commit them now (the application applies them from the first Ready); no election is needed
    // because every node bootstraps with the same entries.
    this.raft.raftLog.committed = ents.length;
    for (const p of peers) this.raft.applyConfChange(asV2(newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: p.id })));
  }

  private stepQuietly(m: Message): void {
    try {
      this.raft.step(m);
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
    }
  }
}

/** A proposal message carrying a configuration change (etcd's confChangeToMsg). */
export function confChangeToMsg(cc: ConfChange | ConfChangeV2): Message {
  const entry =
    "changes" in cc
      ? newEntry({ type: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(cc) })
      : newEntry({ type: EntryType.EntryConfChange, data: encodeConfChange(cc) });
  if (entry.data.length === 0) panic("conf change encoded to nothing");
  return newMessage({ type: MessageType.MsgProp, entries: [entry] });
}
