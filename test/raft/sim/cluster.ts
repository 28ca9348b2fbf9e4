/**
 * A deterministic, seeded simulation of a Raft cluster: N RawNodes over MemoryStorage (their durable
 * state), a faulty network, crashing processes and clients proposing throughout, with every safety
 * property checked after every step (see checker.ts), and a liveness check at the end.
 *
 * One integer seed fixes everything: the cluster's shape and options, the fault rates, and every
 * choice made while running (see Scenario and Prng). `runSimulation(seed)` is a pure function of the
 * seed, so a failing seed re-runs identically, with a trace when asked.
 *
 * A step, in order:
 *   1. faults: maybe partition or heal the network, crash a node (between steps, or in the middle of
 *      its next Ready: after persisting, before sending and applying), restart a crashed node, make
 *      a node campaign early, ask the leader to transfer leadership;
 *   2. maybe compact a node's storage to a snapshot of its applied state;
 *   3. maybe a client proposes a unique payload at a random live node (ErrProposalDropped is fine),
 *      maybe a client issues a linearizable read (RawNode.readIndex) at a random live node;
 *   4. the network delivers the messages due now (MsgSnap outcomes are reported to the sender);
 *   5. each live node ticks with probability tickRate;
 *   6. each live node runs its Ready loop: persist → send → apply → advance, until it has no Ready;
 *   7. the checker looks at every live node (and at a crashed node once, right after its crash).
 *
 * Durability model: a node's MemoryStorage is its disk — everything written to it survives a crash,
 * everything else (the RawNode, its in-flight messages, its unpersisted proposals) is lost. The
 * application state (an AppliedState) is, per restart, either durable (restart with `applied` = what
 * it had applied) or volatile (rebuilt from the storage's snapshot, so committed entries after it are
 * applied again and must match what was applied before).
 */
import { decodeConfChange, decodeConfChangeV2 } from "../../../src/raft/codec.js";
import { describeMessage, describeReady } from "../../../src/raft/describe.js";
import { ErrProposalDropped, ErrStepPeerNotFound } from "../../../src/raft/errors.js";
import { type ConfState, EntryType, type Message, MessageType, isEmptyHardState, isEmptySnap, newConfState, newSnapshot } from "../../../src/raft/raftpb.js";
import { StateType } from "../../../src/raft/raft.js";
import { seededRandom } from "../../../src/raft/rand.js";
import { type Ready, RawNode, SnapshotStatus } from "../../../src/raft/rawnode.js";
import { MemoryStorage, noLimit } from "../../../src/raft/storage.js";
import { type LogView, type NodeView, SafetyChecker, describeViolation } from "./checker.js";
import { type FaultRates, SimNetwork, perfectNetwork } from "./network.js";
import { Prng } from "./prng.js";
import { type AppliedState, applyEntry, decodeState, encodeState, initialHash } from "./state-machine.js";

/** Everything a seed decides up front. Rates are per step unless stated otherwise. */
export interface Scenario {
  size: 3 | 5;
  preVote: boolean;
  checkQuorum: boolean;
  electionTick: number;
  heartbeatTick: number;
  /** RawNode's maxSizePerMsg (bytes; noLimit for none) and maxInflightMsgs. */
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  net: FaultRates;
  /** Probability of starting a partition while healed, and of healing while partitioned. */
  partitionRate: number;
  healRate: number;
  /** Probability of crashing one live node, and of restarting each crashed node. */
  crashRate: number;
  restartRate: number;
  /** Share of crashes that happen mid-Ready (persisted, not sent nor applied). */
  midReadyCrashShare: number;
  /** Probability that a random live node campaigns at once (RawNode.campaign: an early election timeout). */
  campaignRate: number;
  /** Probability that the leader is asked to transfer leadership to a random peer. */
  transferRate: number;
  /** Probability that a crash or an isolating partition picks the current leader, if any. */
  leaderBias: number;
  /** Probability, per live node, of compacting its storage. */
  compactRate: number;
  proposeRate: number;
  /** Probability that a client issues a linearizable read (RawNode.readIndex) at a random live node. */
  readRate: number;
  /** Probability, per live node, of ticking (a slow clock when < 1). */
  tickRate: number;
}

/** Draws a scenario from the seed's generator: every shape and fault mix occurs across seeds. */
export function drawScenario(p: Prng): Scenario {
  const lossy = p.chance(0.6);
  return {
    size: p.chance(0.5) ? 3 : 5,
    preVote: p.chance(0.5),
    checkQuorum: p.chance(0.5),
    electionTick: p.between(5, 12),
    heartbeatTick: 1,
    maxSizePerMsg: p.chance(0.4) ? noLimit : p.pick([1, 1, 64, 256, 1024]),
    maxInflightMsgs: p.chance(0.5) ? 256 : p.between(1, 8),
    net: lossy
      ? {
          drop: p.pick([0, 0.02, 0.05, 0.15, 0.3]),
          duplicate: p.pick([0, 0.02, 0.1]),
          delay: p.pick([0, 0.05, 0.2, 0.5]),
          maxDelay: p.between(2, 12),
          reorder: p.chance(0.5),
        }
      : perfectNetwork,
    partitionRate: p.pick([0, 0.005, 0.02, 0.05]),
    healRate: p.pick([0.02, 0.05, 0.15]),
    crashRate: p.pick([0, 0.003, 0.01, 0.03]),
    restartRate: p.pick([0.03, 0.1, 0.3]),
    midReadyCrashShare: p.pick([0, 0.3, 0.7]),
    campaignRate: p.pick([0, 0.005, 0.02, 0.06]),
    transferRate: p.pick([0, 0.005]),
    leaderBias: p.pick([0, 0.5, 0.9]),
    compactRate: p.pick([0.005, 0.02, 0.1]),
    proposeRate: p.pick([0.1, 0.3, 0.7]),
    readRate: p.pick([0, 0.05, 0.2]),
    tickRate: p.pick([0.3, 0.6, 1]),
  };
}

/** One line describing a scenario (deterministic; printed with a failing seed). */
export function describeScenario(s: Scenario): string {
  const n = s.net;
  return (
    `nodes=${s.size} preVote=${s.preVote} checkQuorum=${s.checkQuorum} election=${s.electionTick} ` +
    `maxSizePerMsg=${s.maxSizePerMsg === noLimit ? "none" : s.maxSizePerMsg} maxInflight=${s.maxInflightMsgs} ` +
    `drop=${n.drop} dup=${n.duplicate} delay=${n.delay}/${n.maxDelay} reorder=${n.reorder} ` +
    `partition=${s.partitionRate}/${s.healRate} crash=${s.crashRate}/${s.restartRate} midReady=${s.midReadyCrashShare} ` +
    `campaign=${s.campaignRate} transfer=${s.transferRate} leaderBias=${s.leaderBias} ` +
    `compact=${s.compactRate} propose=${s.proposeRate} read=${s.readRate} tick=${s.tickRate}`
  );
}

/** Counters over one run, to show what a batch of seeds exercised. */
export interface SimStats {
  steps: number;
  leaderTerms: number;
  applied: number;
  proposals: number;
  readStates: number;
  delivered: number;
  lost: number;
  crashes: number;
  midReadyCrashes: number;
  restarts: number;
  durableRestarts: number;
  partitions: number;
  compactions: number;
  snapshotsInstalled: number;
  livenessSteps: number;
}

export function emptyStats(): SimStats {
  return {
    steps: 0,
    leaderTerms: 0,
    applied: 0,
    proposals: 0,
    readStates: 0,
    delivered: 0,
    lost: 0,
    crashes: 0,
    midReadyCrashes: 0,
    restarts: 0,
    durableRestarts: 0,
    partitions: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    livenessSteps: 0,
  };
}

export interface SimOptions {
  /** Steps of faulty operation before the liveness phase. */
  steps: number;
  /** Bound on the liveness phase (steps on a healed, perfect network). */
  livenessSteps?: number;
  /** Receives one deterministic line per event when set (slow: for re-running one seed). */
  trace?: (line: string) => void;
}

export interface SimResult {
  seed: number;
  scenario: Scenario;
  stats: SimStats;
  /** Undefined when the run passed; else one paragraph saying what failed, where and how to re-run. */
  failure?: string;
}

/** One simulated server: its disk (storage), its process (rawNode, absent while crashed), its application. */
interface SimNode {
  readonly id: bigint;
  readonly storage: MemoryStorage;
  rawNode: RawNode | undefined;
  /** Bumped on every restart; messages remember the incarnation that sent them. */
  incarnation: number;
  /** The application's state. */
  sm: AppliedState;
  /** The membership as of sm.index (passed to createSnapshot). */
  confState: ConfState;
}

/** The first n lines of a stack trace (the rest is vitest's own frames). */
function firstLines(text: string, n: number): string {
  return text.split("\n").slice(0, n).join("\n");
}

/** Thrown inside a run to stop it; carries the failure text. */
class SimFailure extends Error {}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The state every node starts from: a snapshot at index 1, term 1, holding the full membership. */
const baseState: AppliedState = { index: 1, hash: initialHash };

export function runSimulation(seed: number, opts: SimOptions): SimResult {
  return new Simulation(seed, opts).run();
}

class Simulation {
  private readonly prng: Prng;
  private readonly scenario: Scenario;
  private readonly net: SimNetwork;
  private readonly checker = new SafetyChecker(baseState);
  private readonly nodes: SimNode[] = [];
  private readonly byId = new Map<bigint, SimNode>();
  private readonly stats = emptyStats();
  private readonly trace: ((line: string) => void) | undefined;
  private step = 0;
  private proposalSeq = 0;
  private readSeq = 0;
  /** A node that crashes in the middle of its next Ready, if any. */
  private crashMidReady: bigint | undefined;
  private faultsOn = true;
  private leaderTermsSeen = new Set<number>();
  /** Liveness phase: the final payload and the index at which it was first applied. */
  private finalPayload = "";
  private finalIndex = 0;

  constructor(
    private readonly seed: number,
    private readonly opts: SimOptions,
  ) {
    this.prng = new Prng(seed);
    this.scenario = drawScenario(this.prng);
    this.net = new SimNetwork(this.prng);
    this.net.rates = this.scenario.net;
    this.trace = opts.trace;
    this.checker.trackProposals();
    const voters = Array.from({ length: this.scenario.size }, (_, i) => BigInt(i + 1));
    for (const id of voters) {
      const storage = new MemoryStorage();
      const confState = newConfState({ voters });
      storage.applySnapshot(newSnapshot({ data: encodeState(baseState), metadata: { index: 1, term: 1, confState } }));
      storage.setHardState({ term: 1, vote: 0n, commit: 1 });
      const node: SimNode = { id, storage, rawNode: undefined, incarnation: 0, sm: { ...baseState }, confState };
      this.nodes.push(node);
      this.byId.set(id, node);
      this.checker.observeRestore(id, node.sm);
      node.rawNode = this.newRawNode(node);
    }
  }

  private log(text: () => string): void {
    if (this.trace !== undefined) this.trace(`${String(this.step).padStart(5)} ${text()}`);
  }

  run(): SimResult {
    this.log(() => `seed ${this.seed}: ${describeScenario(this.scenario)}`);
    try {
      for (let i = 0; i < this.opts.steps; i++) this.doStep();
      this.liveness();
    } catch (err) {
      const what = err instanceof SimFailure ? err.message : `the simulation threw: ${err instanceof Error ? firstLines(err.stack ?? err.message, 4) : String(err)}`;
      return { seed: this.seed, scenario: this.scenario, stats: this.stats, failure: this.failureText(what) };
    }
    return { seed: this.seed, scenario: this.scenario, stats: this.stats };
  }

  private failureText(what: string): string {
    return (
      `seed ${this.seed} failed at step ${this.step}: ${what}\n` +
      `  scenario: ${describeScenario(this.scenario)}\n` +
      `  re-run with a trace: SEED=${this.seed} npx vitest run sim`
    );
  }

  private newRawNode(node: SimNode): RawNode {
    const s = this.scenario;
    return new RawNode({
      id: node.id,
      electionTick: s.electionTick,
      heartbeatTick: s.heartbeatTick,
      storage: node.storage,
      rand: seededRandom(this.prng.derive()),
      applied: node.sm.index,
      maxSizePerMsg: s.maxSizePerMsg,
      maxInflightMsgs: s.maxInflightMsgs,
      preVote: s.preVote,
      checkQuorum: s.checkQuorum,
    });
  }

  private live(): SimNode[] {
    return this.nodes.filter((n) => n.rawNode !== undefined);
  }

  /** One step of the schedule (see the file comment for the order). */
  private doStep(): void {
    this.step++;
    this.stats.steps++;
    this.net.now = this.step;
    this.checker.step = this.step;
    if (this.faultsOn) this.faults();
    this.compactions();
    if (this.faultsOn && this.prng.chance(this.scenario.proposeRate)) {
      const live = this.live();
      if (live.length > 0) this.propose(this.prng.pick(live), `p${this.seed}-${++this.proposalSeq}`);
    }
    if (this.faultsOn && this.prng.chance(this.scenario.readRate)) {
      const live = this.live();
      if (live.length > 0) this.read(this.prng.pick(live), `r${this.seed}-${++this.readSeq}`);
    }
    this.deliver();
    for (const n of this.live()) {
      if (this.prng.chance(this.faultsOn ? this.scenario.tickRate : 1)) n.rawNode!.tick();
    }
    for (const n of this.nodes) this.processReady(n);
    this.check();
  }

  private faults(): void {
    const s = this.scenario;
    if (!this.net.partitioned) {
      if (this.prng.chance(s.partitionRate)) {
        const ids = this.prng.shuffle(this.nodes.map((n) => n.id));
        const leader = this.leader();
        if (leader !== undefined && this.prng.chance(s.leaderBias)) ids.unshift(...ids.splice(ids.indexOf(leader.id), 1));
        // Isolate one node, or split into two groups of random sizes (both non-empty).
        const cut = this.prng.chance(0.5) ? 1 : this.prng.between(1, ids.length - 1);
        this.net.partition([ids.slice(0, cut), ids.slice(cut)]);
        this.stats.partitions++;
        this.log(() => `partition ${this.net.describePartition()}`);
      }
    } else if (this.prng.chance(s.healRate)) {
      this.net.heal();
      this.log(() => "heal");
    }
    if (this.crashMidReady === undefined && this.prng.chance(s.crashRate)) {
      const live = this.live();
      if (live.length > 0) {
        const leader = this.leader();
        const victim = leader !== undefined && this.prng.chance(s.leaderBias) ? leader : this.prng.pick(live);
        if (this.prng.chance(s.midReadyCrashShare)) {
          this.crashMidReady = victim.id;
          this.log(() => `node ${victim.id} will crash in the middle of its next Ready`);
        } else {
          this.crash(victim);
        }
      }
    }
    for (const n of this.nodes) {
      if (n.rawNode === undefined && this.prng.chance(s.restartRate)) this.restart(n);
    }
    if (this.prng.chance(s.campaignRate)) {
      const live = this.live();
      if (live.length > 0) {
        const n = this.prng.pick(live);
        this.log(() => `campaign ${n.id}`);
        n.rawNode!.campaign();
      }
    }
    if (this.prng.chance(s.transferRate)) {
      const leader = this.leader();
      if (leader !== undefined) {
        const to = this.prng.pick(this.nodes.filter((n) => n !== leader)).id;
        this.log(() => `transfer leadership ${leader.id}→${to}`);
        leader.rawNode!.transferLeader(to);
      }
    }
  }

  private crash(n: SimNode): void {
    n.rawNode = undefined;
    if (this.crashMidReady === n.id) this.crashMidReady = undefined;
    const dropped = this.net.dropTo(n.id);
    this.stats.crashes++;
    this.log(() => `crash ${n.id} (dropped ${dropped.length} messages to it)`);
    for (const env of dropped) this.onLost(env.from, env.fromIncarnation, env.to, env.type);
    // Its durable state will not change until restart: check it once now.
    this.checker.checkNode(this.durableView(n));
    this.assertOk();
  }

  /**
   * Restarts a crashed node on its storage. Its application state survives (durable) or is rebuilt
   * from the storage's snapshot (volatile; always so if the snapshot is newer than the state).
   */
  private restart(n: SimNode): void {
    n.incarnation++;
    const snap = n.storage.snapshot();
    const durable = this.prng.chance(0.5) && n.sm.index >= snap.metadata.index;
    if (!durable) {
      n.sm = this.stateOfSnapshot(n, snap.data, snap.metadata.index);
      n.confState = snap.metadata.confState;
    } else {
      this.stats.durableRestarts++;
    }
    this.checker.observeRestore(n.id, n.sm);
    this.assertOk();
    n.rawNode = this.newRawNode(n);
    this.stats.restarts++;
    this.log(() => `restart ${n.id} (${durable ? "durable" : "volatile"} state machine at ${n.sm.index}, storage ${this.describeStorage(n)})`);
  }

  private stateOfSnapshot(n: SimNode, data: Uint8Array, index: number): AppliedState {
    const st = decodeState(data);
    if (st.index !== index) this.fail(`node ${n.id}: snapshot at index ${index} carries the state of index ${st.index}`);
    return st;
  }

  private describeStorage(n: SimNode): string {
    const s = n.storage;
    const hs = s.hardState;
    return `snap=${s.snapshot().metadata.index} entries=[${s.firstIndex()},${s.lastIndex()}] term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
  }

  private compactions(): void {
    for (const n of this.live()) {
      if (!this.prng.chance(this.scenario.compactRate)) continue;
      const snapIndex = n.storage.snapshot().metadata.index;
      if (n.sm.index <= snapIndex) continue;
      n.storage.createSnapshot(n.sm.index, n.confState, encodeState(n.sm));
      // Keep a few entries below the snapshot sometimes, as etcd does for slow followers.
      const compactTo = n.sm.index - this.prng.between(0, 4);
      if (compactTo >= n.storage.firstIndex()) n.storage.compact(compactTo);
      this.stats.compactions++;
      this.log(() => `compact ${n.id}: snapshot at ${n.sm.index}, storage ${this.describeStorage(n)}`);
    }
  }

  private propose(n: SimNode, payload: string): void {
    this.checker.observeProposal(payload);
    this.stats.proposals++;
    try {
      n.rawNode!.propose(encoder.encode(payload));
      this.log(() => `propose ${payload} at ${n.id}`);
    } catch (err) {
      if (err !== ErrProposalDropped) throw err;
      this.log(() => `propose ${payload} at ${n.id}: dropped`);
    }
  }

  /** A client asks node n for a linearizable read; the answer (a ReadState) may come in a later Ready, or never. */
  private read(n: SimNode, ctx: string): void {
    this.checker.observeReadIssued(n.id, ctx);
    this.log(() => `read ${ctx} at ${n.id}`);
    n.rawNode!.readIndex(encoder.encode(ctx));
  }

  private deliver(): void {
    for (const { env, fate, msg } of this.net.due()) {
      const to = this.byId.get(env.to)!;
      if (fate !== "delivered" || to.rawNode === undefined) {
        this.stats.lost++;
        this.log(() => `lost ${MessageType[env.type]} ${env.from}→${env.to} (${fate === "cut" ? "partition" : "receiver down"})`);
        this.onLost(env.from, env.fromIncarnation, env.to, env.type);
        continue;
      }
      this.stats.delivered++;
      this.log(() => `deliver ${describeMessage(msg!)}`);
      try {
        to.rawNode.step(msg!);
      } catch (err) {
        // A forwarded proposal may find no leader; a response may come from a removed peer.
        if (err !== ErrProposalDropped && err !== ErrStepPeerNotFound) throw err;
      }
      if (env.type === MessageType.MsgSnap) this.reportSnapshot(env.from, env.fromIncarnation, env.to, SnapshotStatus.SnapshotFinish);
    }
  }

  /** Tells the sender (if it is still the process that sent it) what the transport learned of a lost message. */
  private onLost(from: bigint, incarnation: number, to: bigint, type: MessageType): void {
    if (type === MessageType.MsgSnap) this.reportSnapshot(from, incarnation, to, SnapshotStatus.SnapshotFailure);
    else if (type === MessageType.MsgApp && this.prng.chance(0.5)) {
      const sender = this.byId.get(from)!;
      if (sender.rawNode !== undefined && sender.incarnation === incarnation) sender.rawNode.reportUnreachable(to);
    }
  }

  private reportSnapshot(from: bigint, incarnation: number, to: bigint, status: SnapshotStatus): void {
    const sender = this.byId.get(from)!;
    if (sender.rawNode === undefined || sender.incarnation !== incarnation) return;
    this.log(() => `report snapshot ${from}→${to} ${SnapshotStatus[status]}`);
    sender.rawNode.reportSnapshot(to, status);
  }

  /** The Ready loop of one node: persist → (maybe crash) → send → apply → advance, until quiet. */
  private processReady(n: SimNode): void {
    const rn = n.rawNode;
    if (rn === undefined) return;
    for (let round = 0; rn.hasReady(); round++) {
      if (round > 10_000) this.fail(`node ${n.id}: hasReady() still true after 10000 Ready/advance rounds`);
      const rd: Ready = rn.ready();
      this.log(() => `ready ${n.id}: ${describeReady(rd)}`);
      // Persist: after this, everything in rd survives a crash.
      if (!isEmptySnap(rd.snapshot)) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      if (!isEmptyHardState(rd.hardState)) n.storage.setHardState(rd.hardState);
      if (this.crashMidReady === n.id) {
        this.stats.midReadyCrashes++;
        this.crash(n);
        return;
      }
      for (const m of rd.messages) this.send(n, m);
      if (!isEmptySnap(rd.snapshot)) {
        n.sm = this.stateOfSnapshot(n, rd.snapshot.data, rd.snapshot.metadata.index);
        n.confState = rd.snapshot.metadata.confState;
        this.stats.snapshotsInstalled++;
        this.checker.observeRestore(n.id, n.sm);
      }
      for (const rs of rd.readStates) {
        this.stats.readStates++;
        this.checker.observeReadState(n.id, decoder.decode(rs.requestCtx), rs.index);
      }
      this.checker.observeTerm(rn.raft.term);
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.EntryConfChange) n.confState = rn.applyConfChange(decodeConfChange(e.data));
        else if (e.type === EntryType.EntryConfChangeV2) n.confState = rn.applyConfChange(decodeConfChangeV2(e.data));
        this.checker.observeApply(n.id, e);
        n.sm = applyEntry(n.sm, e);
        if (e.index > this.stats.applied) this.stats.applied = e.index;
        if (this.finalIndex === 0 && this.finalPayload !== "" && e.data.length > 0 && decoder.decode(e.data) === this.finalPayload) {
          this.finalIndex = e.index;
          this.log(() => `final proposal applied at ${e.index}`);
        }
      }
      this.assertOk();
      rn.advance(rd);
    }
  }

  private send(n: SimNode, m: Message): void {
    // Only a re-forwarded proposal or read request keeps another node's id in m.from.
    const forwardable = m.type === MessageType.MsgProp || m.type === MessageType.MsgReadIndex;
    if (m.from !== n.id && !forwardable) this.fail(`node ${n.id} sent a message from ${m.from}: ${describeMessage(m)}`);
    if (!this.byId.has(m.to)) this.fail(`node ${n.id} sent a message to unknown node ${m.to}`);
    const fate = this.net.send(n.id, m, n.incarnation);
    if (fate === "lost") {
      this.stats.lost++;
      this.log(() => `lost ${MessageType[m.type]} ${n.id}→${m.to} (dropped)`);
      this.onLost(n.id, n.incarnation, m.to, m.type);
    }
  }

  private liveView(n: SimNode): NodeView {
    const raft = n.rawNode!.raft;
    const log = raft.raftLog;
    const first = log.firstIndex();
    const last = log.lastIndex();
    const view: LogView = {
      prevIndex: first - 1,
      prevTerm: log.term(first - 1),
      entries: last >= first ? log.slice(first, last + 1, noLimit) : [],
      committed: log.committed,
    };
    return { id: n.id, term: raft.term, isLeader: raft.state === StateType.StateLeader, log: view };
  }

  private durableView(n: SimNode): NodeView {
    const s = n.storage;
    const log: LogView = { prevIndex: s.ents[0]!.index, prevTerm: s.ents[0]!.term, entries: s.ents.slice(1), committed: s.hardState.commit };
    return { id: n.id, term: s.hardState.term, isLeader: false, log };
  }

  private check(): void {
    for (const n of this.nodes) {
      if (n.rawNode === undefined) continue;
      const v = this.liveView(n);
      if (v.isLeader && !this.leaderTermsSeen.has(v.term)) {
        this.leaderTermsSeen.add(v.term);
        this.stats.leaderTerms++;
        this.log(() => `leader ${n.id} in term ${v.term}`);
      }
      this.checker.checkNode(v);
    }
    this.assertOk();
  }

  private assertOk(): void {
    if (!this.checker.ok) this.fail(`safety violated: ${describeViolation(this.checker.violations[0]!)}`);
  }

  private fail(what: string): never {
    throw new SimFailure(what);
  }

  /**
   * The liveness phase: heal the network, make it perfect, restart every crashed node, stop faults
   * and client load; then the cluster must elect a leader and commit a final proposal on every node,
   * and all state machines must end identical.
   */
  private liveness(): void {
    this.faultsOn = false;
    this.crashMidReady = undefined;
    this.net.heal();
    this.net.rates = perfectNetwork;
    for (const n of this.nodes) if (n.rawNode === undefined) this.restart(n);
    this.log(() => "liveness phase: healed, perfect network, all nodes up");
    this.finalPayload = `final-${this.seed}`;
    this.checker.observeProposal(this.finalPayload);
    const bound = this.opts.livenessSteps ?? 2000;
    let lastProposal = -Infinity;
    for (let i = 0; i < bound; i++) {
      this.doStep();
      this.stats.livenessSteps++;
      if (this.finalIndex === 0) {
        // (Re-)propose at the leader until the final payload is applied somewhere: a proposal can be
        // lost to a leader change.
        const leader = this.leader();
        if (leader !== undefined && this.step - lastProposal >= 4 * this.scenario.electionTick) {
          this.propose(leader, this.finalPayload);
          lastProposal = this.step;
        }
        continue;
      }
      const first = this.nodes[0]!.sm;
      if (this.nodes.every((n) => n.sm.index >= this.finalIndex && n.sm.index === first.index && n.sm.hash === first.hash)) {
        this.checker.checkConverged(new Map(this.nodes.map((n) => [n.id, n.sm])));
        this.assertOk();
        this.log(() => `converged at ${first.index} after ${i + 1} liveness steps`);
        return;
      }
    }
    const states = this.nodes.map((n) => {
      const st = n.rawNode!.raft;
      const progress =
        st.state === StateType.StateLeader ? ` progress: ${[...st.trk.progress].map(([id, pr]) => `${id}=[${pr.toString()}]`).join(" ")}` : "";
      return `${n.id}: ${StateType[st.state]} term=${st.term} lead=${st.lead} applied=${n.sm.index} ${this.describeStorage(n)}${progress}`;
    });
    this.fail(
      `liveness: no convergence within ${bound} steps on a healed network (final payload applied at ${this.finalIndex || "nowhere"})\n    ` +
        states.join("\n    "),
    );
  }

  /** The live leader with the highest term, if any. */
  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const r = n.rawNode!.raft;
      if (r.state === StateType.StateLeader && (best === undefined || r.term > best.rawNode!.raft.term)) best = n;
    }
    return best;
  }
}
