/**
 * The Raft state machine (etcd's raft.go): pure and synchronous. Input arrives through step() and
 * tick(); output accumulates in `msgs`, `readStates` and the log, and RawNode turns it into a Ready.
 *
 * The leader counts its own append as an acknowledgement at once; this is safe because the
 * application persists a Ready's entries before it sends its messages and before it applies
 * anything (the Ready contract), so no one learns of a commit before the leader's write is durable.
 */
import { decodeConfChange, decodeConfChangeV2, payloadSize } from "./codec.js";
import { Changer } from "./confchange/confchange.js";
import { restoreConfState } from "./confchange/restore.js";
import { ErrCompacted, ErrProposalDropped, ErrSnapshotTemporarilyUnavailable } from "./errors.js";
import { RaftLog } from "./log.js";
import { type Logger, discardLogger, panic } from "./logger.js";
import { jointIds } from "./quorum/joint.js";
import { VoteResult } from "./quorum/quorum.js";
import type { RandomSource } from "./rand.js";
import {
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  EntryType,
  MessageType,
  None,
  asV2,
  confStateEquivalent,
  describeConfState,
  enterJoint,
  isEmptyHardState,
  isEmptySnap,
  leaveJoint,
  newEntry,
  newMessage,
  voteRespMsgType,
} from "./raftpb.js";
import { ReadOnly, ReadOnlyOption, type ReadState } from "./read-only.js";
import { type Storage, noLimit } from "./storage.js";
import { ProgressStateType } from "./tracker/state.js";
import { ProgressTracker } from "./tracker/tracker.js";
import type { TrackerConfig } from "./tracker/tracker.js";
import type { ProgressMap } from "./tracker/progress.js";

export { ReadOnlyOption, type ReadState } from "./read-only.js";

/** A node's role. Values as etcd's StateType. */
export enum StateType {
  StateFollower = 0,
  StateCandidate = 1,
  StateLeader = 2,
  StatePreCandidate = 3,
}

/** Why a node campaigns; a transfer campaign's vote requests carry this as their context. */
export type CampaignType = "CampaignPreElection" | "CampaignElection" | "CampaignTransfer";
export const campaignPreElection: CampaignType = "CampaignPreElection";
export const campaignElection: CampaignType = "CampaignElection";
export const campaignTransfer: CampaignType = "CampaignTransfer";
const campaignTransferBytes = new TextEncoder().encode(campaignTransfer);

/** The volatile state worth reporting: who leads, and this node's role. */
export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

export interface Config {
  /** This node's id; never 0. */
  id: bigint;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [e, 2e)). */
  electionTick: number;
  /** Ticks between the leader's heartbeats; must be < electionTick. */
  heartbeatTick: number;
  /** The stable log; raft reads it, the application writes it. */
  storage: Storage;
  /** The only source of randomness (election timeouts). */
  rand: RandomSource;
  /** The last applied index, when restarting: committed entries up to it are not handed out again. */
  applied?: number;
  /** Byte limit of one MsgApp's entries (default: no limit; 0 means one entry per message). */
  maxSizePerMsg?: number;
  /** Byte limit of the committed entries in one Ready (default: maxSizePerMsg). */
  maxCommittedSizePerReady?: number;
  /** Byte limit of proposals not yet committed; further proposals are dropped (default: no limit). */
  maxUncommittedEntriesSize?: number;
  /** In-flight MsgApp window per follower in StateReplicate (default 256). */
  maxInflightMsgs?: number;
  /** Leader steps down when it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /** Run a pre-vote round (no term bump) before a real election (Raft thesis §9.6). */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** A leader removed from the configuration (or demoted) steps down at once. */
  stepDownOnRemoval?: boolean;
  logger?: Logger;
}

function validateConfig(c: Config): void {
  if (c.id === None) panic("cannot use none as id");
  if (c.heartbeatTick <= 0) panic("heartbeat tick must be greater than 0");
  if (c.electionTick <= c.heartbeatTick) panic("election tick must be greater than heartbeat tick");
  if ((c.maxInflightMsgs ?? 256) <= 0) panic("max inflight messages must be greater than 0");
  if (c.readOnlyOption === ReadOnlyOption.ReadOnlyLeaseBased && !c.checkQuorum) {
    panic("CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased");
  }
}

export class Raft {
  readonly id: bigint;
  term = 0;
  vote: bigint = None;
  readStates: ReadState[] = [];
  raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  trk: ProgressTracker;
  state: StateType = StateType.StateFollower;
  /** Whether this node is a learner in the current configuration. */
  isLearner = false;
  /** Messages to send; the application takes them through a Ready. */
  msgs: Message[] = [];
  lead: bigint = None;
  /** The id of the node leadership is being transferred to, while a transfer is in progress. */
  leadTransferee: bigint = None;
  /**
   * Only one configuration change may be pending (in the log, not yet applied) at a time; a
   * proposal is accepted only if the leader's applied index is beyond this.
   */
  pendingConfIndex = 0;
  /** Payload bytes of uncommitted entries since this leader's term began. */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Read requests received by a new leader before it committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  /** Ticks since the last election timeout (leader: since the last check-quorum round). */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** A value in [electionTimeout, 2*electionTimeout), drawn anew whenever the node resets. */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly logger: Logger;
  private readonly rand: RandomSource;

  constructor(c: Config) {
    validateConfig(c);
    this.id = c.id;
    this.logger = c.logger ?? discardLogger;
    this.rand = c.rand;
    const maxSizePerMsg = c.maxSizePerMsg ?? noLimit;
    this.raftLog = new RaftLog(c.storage, this.logger, c.maxCommittedSizePerReady ?? maxSizePerMsg);
    const { hardState, confState } = c.storage.initialState();
    this.maxMsgSize = maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? noLimit;
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? 256);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.readOnly = new ReadOnly(c.readOnlyOption ?? ReadOnlyOption.ReadOnlySafe);
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.stepDownOnRemoval = c.stepDownOnRemoval ?? false;

    const { config, progress } = restoreConfState(this.changerInput(), confState);
    const cs = this.switchToConfig(config, progress);
    if (!confStateEquivalent(cs, confState)) {
      panic(`ConfStates not equivalent after restore: ${describeConfState(cs)} vs stored ${describeConfState(confState)}`);
    }

    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, None);

    const nodes = this.trk.voterNodes().map((id) => id.toString(16)).join(",");
    this.logger.info(
      `newRaft ${this.id.toString(16)} [peers: [${nodes}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hasLeader(): boolean {
    return this.lead !== None;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private changerInput() {
    return {
      config: this.trk.config,
      progress: this.trk.progress,
      maxInflight: this.trk.maxInflight,
      lastIndex: this.raftLog.lastIndex(),
    };
  }

  /** Queues a message, stamping it with our id and, for most types, our term. */
  send(m: Message): void {
    if (m.from === None) m.from = this.id;
    if (
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry the term they are for (the candidate's next term for pre-votes), set by the caller.
      if (m.term === 0) panic(`term should be set when sending ${MessageType[m.type]}`);
    } else {
      if (m.term !== 0) panic(`term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // MsgProp and MsgReadIndex are forwarded to the leader as local requests: no term, so the
      // leader treats them like its own.
      if (m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends an append (with entries, if any) and the commit index to a follower. */
  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends a MsgApp to `to` if its progress allows. Empty messages (only a commit index) are sent
   * only when sendIfEmpty. Returns whether a message was sent.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;

    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.termOrUndefined(prevIndex);
    // The log was compacted past what the follower needs: it gets a snapshot instead.
    if (prevTerm === undefined) return this.maybeSendSnapshot(to);

    let ents: Entry[] = [];
    // With a full window, only empty appends go out, so that an ack or a reject frees the window
    // even if every message in flight was lost.
    if (pr.state !== ProgressStateType.StateReplicate || !pr.inflights.full()) {
      try {
        ents = this.raftLog.entries(pr.next, this.maxMsgSize);
      } catch (err) {
        if (err !== ErrCompacted) throw err;
        return this.maybeSendSnapshot(to);
      }
    }
    if (ents.length === 0 && !sendIfEmpty) return false;

    this.send(
      newMessage({ to, type: MessageType.MsgApp, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed }),
    );
    pr.sentEntries(ents.length);
    pr.sentCommitTo(this.raftLog.committed);
    return true;
  }

  /** Sends the current snapshot to a follower that needs compacted entries. Returns whether it was sent. */
  private maybeSendSnapshot(to: bigint): boolean {
    const pr = this.trk.progress.get(to)!;
    if (!pr.recentActive) {
      this.logger.debug(`${this.id.toString(16)} ignore sending snapshot to ${to.toString(16)} since it is not recently active`);
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (err) {
      if (err === ErrSnapshotTemporarilyUnavailable) {
        this.logger.debug(`${this.id.toString(16)} failed to send snapshot to ${to.toString(16)}: temporarily unavailable`);
        return false;
      }
      throw err;
    }
    if (isEmptySnap(snapshot)) panic("need non-empty snapshot");
    const { index, term } = snapshot.metadata;
    this.logger.debug(
      `${this.id.toString(16)} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to.toString(16)} [${pr}]`,
    );
    pr.becomeSnapshot(index);
    this.send(newMessage({ to, type: MessageType.MsgSnap, snapshot }));
    return true;
  }

  /** Sends a heartbeat; its commit is capped at what the follower is known to have. */
  private sendHeartbeat(to: bigint, ctx: Uint8Array): void {
    const pr = this.trk.progress.get(to)!;
    // Never tell a follower to commit past its match: it may not have those entries (or may have
    // different ones at those indexes).
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send(newMessage({ to, type: MessageType.MsgHeartbeat, commit, context: ctx }));
    pr.sentCommitTo(commit);
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  bcastHeartbeat(): void {
    const ctx = this.readOnly.heartbeatCtx();
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  /** The application applied up to index (RawNode.advance). */
  appliedTo(index: number): void {
    const oldApplied = this.raftLog.applied;
    const newApplied = Math.max(index, oldApplied);
    this.raftLog.appliedTo(newApplied);
    if (this.trk.config.autoLeave && newApplied >= this.pendingConfIndex && this.state === StateType.StateLeader) {
      // The joint configuration is applied: propose leaving it (empty data decodes as an empty
      // ConfChangeV2). Its size is 0, so the uncommitted limit never drops it; if a transfer is in progress it fails and is retried on the next apply.
      const m = newMessage({
        type: MessageType.MsgProp,
        entries: [newEntry({ type: EntryType.EntryConfChangeV2 })],
      });
      try {
        this.step(m);
        this.logger.info(`initiating automatic transition out of joint configuration`);
      } catch (err) {
        this.logger.debug(`not initiating automatic transition out of joint configuration: ${String(err)}`);
      }
    }
  }

  appliedSnap(snap: Snapshot): void {
    const index = snap.metadata.index;
    this.raftLog.stableSnapTo(index);
    this.appliedTo(index);
  }

  /** Advances the commit index from the voters' match indexes. Leader only. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.match = id === this.id ? lastIndex : 0;
      pr.next = lastIndex + 1;
      pr.sentCommit = 0;
      pr.resetState(ProgressStateType.StateProbe);
      pr.recentActive = false;
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  /** Appends proposals to the leader's log. Returns false when the uncommitted-size limit drops them. */
  appendEntry(...es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const ents = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }));
    if (!this.increaseUncommittedSize(ents)) {
      this.logger.warn(`${this.id.toString(16)} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    li = this.raftLog.append(ents);
    // The leader's own append counts as its acknowledgement (see the file comment).
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  /** Advances time by one tick: election timeout for followers and candidates, heartbeats for leaders. */
  tick(): void {
    if (this.state === StateType.StateLeader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.stepLocal(newMessage({ from: this.id, type: MessageType.MsgHup }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.stepLocal(newMessage({ from: this.id, type: MessageType.MsgCheckQuorum }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.StateLeader && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.StateLeader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.stepLocal(newMessage({ from: this.id, type: MessageType.MsgBeat }));
    }
  }

  /** Steps a locally generated message; its errors are only logged (as etcd does for ticks). */
  private stepLocal(m: Message): void {
    try {
      this.step(m);
    } catch (err) {
      this.logger.debug(`error occurred during ${MessageType[m.type]}: ${String(err)}`);
    }
  }

  becomeFollower(term: number, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.StateFollower;
    this.logger.info(`${this.id.toString(16)} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === StateType.StateLeader) panic("invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.StateCandidate;
    this.logger.info(`${this.id.toString(16)} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    if (this.state === StateType.StateLeader) panic("invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither its term nor its vote.
    this.trk.resetVotes();
    this.lead = None;
    this.state = StateType.StatePreCandidate;
    this.logger.info(`${this.id.toString(16)} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === StateType.StateFollower) panic("invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.StateLeader;
    // The leader is trivially up to date with itself; reset() set its match to the last index.
    const pr = this.trk.progress.get(this.id);
    if (pr !== undefined) {
      pr.becomeReplicate();
      pr.recentActive = true;
    }
    // Any entry in the log may be a configuration change: delay new ones until all of it is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of the new term: committing it commits everything before it (§5.4.2) and
    // lets the leader learn its commit index.
    if (!this.appendEntry(newEntry())) panic("empty entry was dropped");
    this.logger.info(`${this.id.toString(16)} became leader at term ${this.term}`);
  }

  private hup(t: CampaignType): void {
    if (this.state === StateType.StateLeader) {
      this.logger.debug(`${this.id.toString(16)} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id.toString(16)} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(`${this.id.toString(16)} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.logger.info(`${this.id.toString(16)} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, noLimit);
    return ents.some((e) => e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2);
  }

  /** Starts an election (or pre-election); the caller has checked that this node may campaign. */
  campaign(t: CampaignType): void {
    if (!this.promotable()) this.logger.warn(`${this.id.toString(16)} is unpromotable; campaign() should have been called`);
    let term: number;
    let voteMsg: MessageType;
    if (t === campaignPreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // Pre-votes are requested for the next term, without incrementing ours.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    // Our own vote first: a single-node configuration wins at once.
    const { result } = this.poll(this.id, voteRespMsgType(voteMsg), true);
    if (result === VoteResult.VoteWon) {
      if (t === campaignPreElection) this.campaign(campaignElection);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterNodes()) {
      if (id === this.id) continue;
      this.logger.info(
        `${this.id.toString(16)} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteMsg]} request to ${id.toString(16)} at term ${this.term}`,
      );
      const context = t === campaignTransfer ? campaignTransferBytes : undefined;
      this.send(newMessage({ to: id, term, type: voteMsg, index: lastIndex, logTerm: lastTerm, ...(context ? { context } : {}) }));
    }
  }

  private poll(id: bigint, t: MessageType, v: boolean): { granted: number; rejected: number; result: VoteResult } {
    this.logger.info(`${this.id.toString(16)} received ${MessageType[t]}${v ? "" : " rejection"} from ${id.toString(16)} at term ${this.term}`);
    this.trk.recordVote(id, v);
    return this.trk.tallyVotes();
  }

  /**
   * Advances the state machine with a message. Throws ErrProposalDropped for a proposal that
   * cannot be accepted; every other input is handled or ignored.
   */
  step(m: Message): void {
    // First, the term: a higher term may make us a follower; a lower one is mostly ignored.
    if (m.term === 0) {
      // A local message (or a forwarded proposal / read index).
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = bytesEqual(m.context, campaignTransferBytes);
        const inLease = this.checkQuorum && this.lead !== None && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Within the minimum election timeout of hearing from a leader, a vote request neither
          // bumps our term nor gets a vote (Raft thesis §4.2.3): a removed or partitioned node cannot disrupt.
          this.logger.info(
            `${this.id.toString(16)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote.toString(16)}] ignored ${MessageType[m.type]} from ${m.from.toString(16)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
          );
          return;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries our future term; we bump it only when a quorum grants.
      } else {
        this.logger.info(
          `${this.id.toString(16)} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${m.from.toString(16)} [term: ${m.term}]`,
        );
        if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, None);
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A leader of an older term is talking to us: perhaps we bumped our term while partitioned.
        // With check-quorum or pre-vote, vote requests will not move its term, so tell it ours
        // (an empty MsgAppResp at our term) and let it step down.
        this.send(newMessage({ to: m.from, type: MessageType.MsgAppResp }));
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject, so that a pre-candidate with a stale term learns ours and does not wait forever.
        this.logger.info(
          `${this.id.toString(16)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote.toString(16)}] rejected ${MessageType[m.type]} from ${m.from.toString(16)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
        );
        this.send(newMessage({ to: m.from, term: this.term, type: MessageType.MsgPreVoteResp, reject: true }));
      } else {
        this.logger.info(
          `${this.id.toString(16)} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${m.from.toString(16)} [term: ${m.term}]`,
        );
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? campaignPreElection : campaignElection);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        // We can vote if this repeats a vote we cast, or we have not voted and know no leader in
        // this term, or it is a pre-vote for a future term...
        const canVote =
          this.vote === m.from ||
          (this.vote === None && this.lead === None) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        // ...and the candidate's log is at least as up to date as ours (§5.4.1).
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // Learners may vote too: a promoted learner may not know yet that it votes.
          this.logger.info(
            `${this.id.toString(16)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote.toString(16)}] cast ${MessageType[m.type]} for ${m.from.toString(16)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          // Answer with the message's term, not ours: for a pre-vote they differ, and the
          // pre-candidate would ignore an answer at our (older) term.
          this.send(newMessage({ to: m.from, term: m.term, type: voteRespMsgType(m.type) }));
          if (m.type === MessageType.MsgVote) {
            // Only real votes are recorded.
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info(
            `${this.id.toString(16)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote.toString(16)}] rejected ${MessageType[m.type]} from ${m.from.toString(16)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          this.send(newMessage({ to: m.from, term: this.term, type: voteRespMsgType(m.type), reject: true }));
        }
        return;
      }
      default:
        switch (this.state) {
          case StateType.StateLeader:
            this.stepLeader(m);
            return;
          case StateType.StateCandidate:
          case StateType.StatePreCandidate:
            this.stepCandidate(m);
            return;
          case StateType.StateFollower:
            this.stepFollower(m);
            return;
        }
    }
  }

  private stepLeader(m: Message): void {
    // Messages that need no progress of the sender.
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return;
      case MessageType.MsgCheckQuorum:
        if (!this.trk.quorumActive()) {
          this.logger.warn(`${this.id.toString(16)} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, None);
        }
        // Mark everyone but ourselves inactive for the next round.
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case MessageType.MsgProp: {
        if (m.entries.length === 0) panic(`${this.id.toString(16)} stepped empty MsgProp`);
        // Removed from the configuration while leading: refuse, so clients retry elsewhere.
        if (!this.trk.progress.has(this.id)) throw ErrProposalDropped;
        if (this.leadTransferee !== None) {
          this.logger.debug(`${this.id.toString(16)} [term ${this.term}] transfer leadership to ${this.leadTransferee.toString(16)} is in progress; dropping proposal`);
          throw ErrProposalDropped;
        }
        const entries = m.entries.slice();
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          let cc: ConfChangeV2 | undefined;
          if (e.type === EntryType.EntryConfChange) cc = asV2(decodeConfChange(e.data));
          else if (e.type === EntryType.EntryConfChangeV2) cc = decodeConfChangeV2(e.data);
          if (cc === undefined) continue;
          const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
          const alreadyJoint = this.trk.config.voters[1].size > 0;
          const wantsLeaveJoint = cc.changes.length === 0;
          let failedCheck = "";
          if (alreadyPending) {
            failedCheck = `possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`;
          } else if (alreadyJoint && !wantsLeaveJoint) {
            failedCheck = "must transition out of joint config first";
          } else if (!alreadyJoint && wantsLeaveJoint) {
            failedCheck = "not in joint state; refusing empty conf change";
          }
          if (failedCheck !== "") {
            // The change becomes a no-op entry, so the proposer still sees its entry committed.
            this.logger.info(`${this.id.toString(16)} ignoring conf change at config: ${failedCheck}`);
            entries[i] = newEntry({ type: EntryType.EntryNormal });
          } else {
            this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
          }
        }
        if (!this.appendEntry(...entries)) throw ErrProposalDropped;
        this.bcastAppend();
        return;
      }
      case MessageType.MsgReadIndex:
        // A single voter needs no confirmation — when that voter is us. A leader that was removed or
        // demoted must still confirm with the remaining voter (etcd takes any singleton config as
        // "only us" here, and answers from a possibly stale commit index).
        if (this.trk.isSingleton() && this.trk.isVoter(this.id)) {
          const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
          if (resp !== undefined) this.send(resp);
          return;
        }
        // A new leader does not know the commit index until it commits an entry of its own term:
        // hold the request until then.
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendMsgReadIndexResponse(m);
        return;
    }

    const pr = this.trk.progress.get(m.from);
    if (pr === undefined) {
      this.logger.debug(`${this.id.toString(16)} no progress available for ${m.from.toString(16)}`);
      return;
    }
    switch (m.type) {
      case MessageType.MsgAppResp:
        pr.recentActive = true;
        if (m.reject) {
          // The follower's hint (rejectHint, logTerm) lets us skip a whole term of mismatching
          // entries at once: find our last index with a term ≤ the follower's term there.
          this.logger.debug(
            `${this.id.toString(16)} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from.toString(16)} for index ${m.index}`,
          );
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            this.logger.debug(`${this.id.toString(16)} decreased progress of ${m.from.toString(16)} to [${pr}]`);
            if (pr.state === ProgressStateType.StateReplicate) pr.becomeProbe();
            this.sendAppend(m.from);
          }
        } else {
          // An empty MsgAppResp at match while probing also proves the match (e.g. after a snapshot).
          if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressStateType.StateProbe)) {
            if (pr.state === ProgressStateType.StateProbe) {
              pr.becomeReplicate();
            } else if (pr.state === ProgressStateType.StateSnapshot && pr.match + 1 >= this.raftLog.firstIndex()) {
              // The follower caught up (from the snapshot or otherwise) with what our log still has.
              this.logger.debug(`${this.id.toString(16)} recovered from needing snapshot, resumed sending replication messages to ${m.from.toString(16)} [${pr}]`);
              pr.becomeProbe();
              pr.becomeReplicate();
            } else if (pr.state === ProgressStateType.StateReplicate) {
              pr.inflights.freeLE(m.index);
            }
            if (this.maybeCommit()) {
              this.releasePendingReadIndexMessages();
              this.bcastAppend();
            } else if (m.from !== this.id && pr.canBumpCommit(this.raftLog.committed)) {
              this.sendAppend(m.from);
            }
            // Fill the window: send what we have, as long as the progress allows.
            if (m.from !== this.id) {
              while (this.maybeSendAppend(m.from, false)) {
                /* keep sending */
              }
            }
            if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
              this.logger.info(`${this.id.toString(16)} sent MsgTimeoutNow to ${m.from.toString(16)} after received MsgAppResp`);
              this.sendTimeoutNow(m.from);
            }
          }
        }
        return;
      case MessageType.MsgHeartbeatResp:
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // The follower is alive: resume probing, or resend what it lacks.
        if (pr.match < this.raftLog.lastIndex() || pr.state === ProgressStateType.StateProbe) this.sendAppend(m.from);
        if (this.readOnly.option !== ReadOnlyOption.ReadOnlySafe || m.context.length === 0) return;
        this.readOnly.recvAck(m.from, m.context);
        for (const rs of this.readOnly.maybeAdvance(this.trk.config.voters)) {
          const resp = this.responseToReadIndexReq(rs.req, rs.index);
          if (resp !== undefined) this.send(resp);
        }
        return;
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressStateType.StateSnapshot) return;
        if (!m.reject) {
          pr.becomeProbe();
          this.logger.debug(`${this.id.toString(16)} snapshot succeeded, resumed sending replication messages to ${m.from.toString(16)} [${pr}]`);
        } else {
          // The snapshot failed: forget it, so the next probe starts from match.
          pr.pendingSnapshot = 0;
          pr.becomeProbe();
          this.logger.debug(`${this.id.toString(16)} snapshot failed, resumed sending replication messages to ${m.from.toString(16)} [${pr}]`);
        }
        // Wait for the follower's MsgAppResp (or the next heartbeat) before probing again.
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.MsgUnreachable:
        // Optimistic replication to an unreachable follower would lose messages: probe instead.
        if (pr.state === ProgressStateType.StateReplicate) pr.becomeProbe();
        this.logger.debug(`${this.id.toString(16)} failed to send message to ${m.from.toString(16)} because it is unreachable [${pr}]`);
        return;
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) {
          this.logger.debug(`${this.id.toString(16)} is learner. Ignored transferring leadership`);
          return;
        }
        const leadTransferee = m.from;
        const last = this.leadTransferee;
        if (last !== None) {
          if (last === leadTransferee) {
            this.logger.info(`${this.id.toString(16)} [term ${this.term}] transfer leadership to ${leadTransferee.toString(16)} is in progress, ignores request to same node`);
            return;
          }
          this.abortLeaderTransfer();
          this.logger.info(`${this.id.toString(16)} [term ${this.term}] abort previous transferring leadership to ${last.toString(16)}`);
        }
        if (leadTransferee === this.id) {
          this.logger.debug(`${this.id.toString(16)} is already leader. Ignored transferring leadership to self`);
          return;
        }
        this.logger.info(`${this.id.toString(16)} [term ${this.term}] starts to transfer leadership to ${leadTransferee.toString(16)}`);
        // The transfer must finish within an election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = leadTransferee;
        if (pr.match === this.raftLog.lastIndex()) {
          this.sendTimeoutNow(leadTransferee);
          this.logger.info(`${this.id.toString(16)} sends MsgTimeoutNow to ${leadTransferee.toString(16)} immediately as it already has up-to-date log`);
        } else {
          this.sendAppend(leadTransferee);
        }
        return;
      }
    }
  }

  private stepCandidate(m: Message): void {
    // Only answers to our own kind of vote count: a pre-candidate ignores MsgVoteResp and vice versa.
    const myVoteRespType = this.state === StateType.StatePreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        this.logger.info(`${this.id.toString(16)} no leader at term ${this.term}; dropping proposal`);
        throw ErrProposalDropped;
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from); // m.term === this.term here
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteRespType: {
        const { granted, rejected, result } = this.poll(m.from, m.type, !m.reject);
        this.logger.info(`${this.id.toString(16)} has received ${granted} ${MessageType[m.type]} votes and ${rejected} vote rejections`);
        if (result === VoteResult.VoteWon) {
          if (this.state === StateType.StatePreCandidate) {
            this.campaign(campaignElection);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.VoteLost) {
          // A pre-candidate's rejection with a higher term already made it a follower in step().
          this.becomeFollower(this.term, None);
        }
        return;
      }
      case MessageType.MsgTimeoutNow:
        this.logger.debug(`${this.id.toString(16)} [term ${this.term} state ${StateType[this.state]}] ignored MsgTimeoutNow from ${m.from.toString(16)}`);
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === None) {
          this.logger.info(`${this.id.toString(16)} no leader at term ${this.term}; dropping proposal`);
          throw ErrProposalDropped;
        }
        if (this.disableProposalForwarding) {
          this.logger.info(`${this.id.toString(16)} not forwarding to leader ${this.lead.toString(16)} at term ${this.term}; dropping proposal`);
          throw ErrProposalDropped;
        }
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === None) {
          this.logger.info(`${this.id.toString(16)} no leader at term ${this.term}; dropping leader transfer msg`);
          return;
        }
        // A request forwarded to us by another follower carries its term; send() stamps ours.
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgTimeoutNow:
        // The leader wants us to lead: campaign at once, without pre-vote, and past any lease.
        this.logger.info(`${this.id.toString(16)} [term ${this.term}] received MsgTimeoutNow from ${m.from.toString(16)} and starts an election to get leadership.`);
        this.hup(campaignTransfer);
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === None) {
          this.logger.info(`${this.id.toString(16)} no leader at term ${this.term}; dropping index reading msg`);
          return;
        }
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) {
          this.logger.error(`${this.id.toString(16)} invalid format of MsgReadIndexResp from ${m.from.toString(16)}, entries count: ${m.entries.length}`);
          return;
        }
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
    }
  }

  handleAppendEntries(m: Message): void {
    // Everything up to our commit index is already known to match: just report it.
    if (m.index < this.raftLog.committed) {
      this.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: this.raftLog.committed }));
      return;
    }
    const { lastNewIndex, ok } = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (ok) {
      this.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: lastNewIndex }));
      return;
    }
    this.logger.debug(
      `${this.id.toString(16)} [logterm: ${this.raftLog.zeroTermOnOutOfBounds(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from.toString(16)}`,
    );
    // Reject with a hint: our last index ≤ m.index whose term ≤ m.logTerm. The leader then skips
    // every entry it would otherwise probe one by one (the fast backtracking of Raft §5.3).
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    const hint = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.send(
      newMessage({ to: m.from, type: MessageType.MsgAppResp, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }),
    );
  }

  handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send(newMessage({ to: m.from, type: MessageType.MsgHeartbeatResp, context: m.context }));
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined) {
      this.logger.warn(`${this.id.toString(16)} received MsgSnap without a snapshot from ${m.from.toString(16)}`);
      return;
    }
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info(`${this.id.toString(16)} [commit: ${this.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`);
      this.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: this.raftLog.lastIndex() }));
    } else {
      this.logger.info(`${this.id.toString(16)} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      this.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: this.raftLog.committed }));
    }
  }

  /**
   * Installs a snapshot from the leader: the log and the configuration become the snapshot's.
   * Returns false when the snapshot is not newer than what we have committed (ignored), or only
   * moves our commit index (our log already has its last entry).
   */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.StateFollower) {
      // Only a follower gets snapshots; a leader or candidate here means a bug elsewhere. Step down
      // at a new term rather than act on it.
      this.logger.warn(`${this.id.toString(16)} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, None);
      return false;
    }
    const cs = s.metadata.confState;
    const found = [cs.voters, cs.learners, cs.votersOutgoing].some((set) => set.includes(this.id));
    if (!found) {
      this.logger.warn(`${this.id.toString(16)} attempted to restore snapshot but it is not in the ConfState; should never happen`);
      return false;
    }
    // Our log already contains the snapshot's last entry: keep the log and move the commit index.
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      this.logger.info(
        `${this.id.toString(16)} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] fast-forwarded commit to snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
      );
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    // The configuration comes from the snapshot; progress restarts from scratch.
    this.trk = new ProgressTracker(this.trk.maxInflight);
    const { config, progress } = restoreConfState(this.changerInput(), cs);
    const got = this.switchToConfig(config, progress);
    if (!confStateEquivalent(got, cs)) {
      panic(`ConfStates not equivalent after snapshot restore: ${describeConfState(got)} vs snapshot ${describeConfState(cs)}`);
    }
    this.logger.info(
      `${this.id.toString(16)} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
    );
    return true;
  }

  /** Whether this node may become leader: a voter, with no snapshot waiting to be applied. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  /** Applies a committed configuration change and returns the resulting ConfState. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.changerInput());
    let res;
    if (leaveJoint(cc)) {
      res = changer.leaveJoint();
    } else {
      const j = enterJoint(cc);
      res = j.ok ? changer.enterJoint(j.autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(res.config, res.progress);
  }

  /** Makes a new configuration current, and acts on what it changes for a leader. */
  switchToConfig(cfg: TrackerConfig, progress: ProgressMap): ConfState {
    this.trk.config = cfg;
    this.trk.progress = progress;
    this.logger.info(`${this.id.toString(16)} switched to configuration voters=${this.trk.voterNodes().join(",")}`);
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;

    if ((pr === undefined || this.isLearner) && this.state === StateType.StateLeader) {
      // Removed or demoted while leading. With stepDownOnRemoval the leader steps down at once,
      // after telling the others the commit index that covers the change: a voter that does not
      // know it committed still counts this node's vote, and may never get it. Otherwise it keeps
      // leading until the next election (a removed leader refuses proposals meanwhile).
      if (this.stepDownOnRemoval) {
        this.bcastAppend();
        this.becomeFollower(this.term, None);
      }
      return cs;
    }
    // Nothing more to do unless we lead a configuration with voters.
    if (this.state !== StateType.StateLeader || cs.voters.length === 0) return cs;

    // The quorum changed, so the commit index may move; new members need appends.
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else {
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    // The transferee left the voters: stop the transfer.
    if (this.leadTransferee !== None && !jointIds(this.trk.config.voters).has(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  /** Loads a persisted HardState on start. */
  loadState(state: HardState): void {
    if (state.commit < this.raftLog.committed || state.commit > this.raftLog.lastIndex()) {
      panic(`${this.id.toString(16)} state.commit ${state.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = state.commit;
    this.term = state.term;
    this.vote = state.vote;
  }

  /** Whether electionElapsed reached the randomized election timeout. */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  private sendTimeoutNow(to: bigint): void {
    this.send(newMessage({ to, type: MessageType.MsgTimeoutNow }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  /** Whether the commit index is at an entry of the current term (the leader knows its commit index). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  /**
   * The answer to a read request confirmed at readIndex: a local request becomes a ReadState,
   * a forwarded one a MsgReadIndexResp to the follower (returned for the caller to send).
   */
  private responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    if (req.from === None || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
      return undefined;
    }
    return newMessage({ type: MessageType.MsgReadIndexResp, to: req.from, index: readIndex, entries: req.entries });
  }

  private sendMsgReadIndexResponse(m: Message): void {
    switch (this.readOnly.option) {
      case ReadOnlyOption.ReadOnlySafe:
        // Record the commit index now; confirm leadership with a heartbeat round (we ack ourselves).
        this.readOnly.addRequest(this.raftLog.committed, m);
        this.readOnly.recvAck(this.id, this.readOnly.heartbeatCtx());
        this.bcastHeartbeat();
        return;
      case ReadOnlyOption.ReadOnlyLeaseBased: {
        const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
        if (resp !== undefined) this.send(resp);
        return;
      }
    }
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) {
      this.logger.error("pending MsgReadIndex should be released only after first commit in current term");
      return;
    }
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }

  /** Accounts proposals against the uncommitted limit; an empty entry (the leader's no-op) is always accepted. */
  private increaseUncommittedSize(ents: Entry[]): boolean {
    let s = 0;
    for (const e of ents) s += payloadSize(e);
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  /** Committed entries leave the uncommitted account. */
  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return;
    let s = 0;
    for (const e of ents) s += payloadSize(e);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function newRaft(c: Config): Raft {
  return new Raft(c);
}
