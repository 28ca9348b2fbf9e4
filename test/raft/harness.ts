/**
 * Shared helpers for the Raft core's tests (etcd's raft_test.go helpers: newTestMemoryStorage,
 * withPeers, newTestRaft, network, nextEnts, …), written against src/raft's internal Raft.
 *
 * Everything here is deterministic: each Raft draws its election timeouts from seededRandom(id), and
 * a Network drops messages with its own seeded source (`network.seed`, printed by tests that fail).
 */
import { describeEntry, describeMessage } from "../../src/raft/describe.js";
import type { RaftLog } from "../../src/raft/log.js";
import { type Config, Raft, StateType, newRaft } from "../../src/raft/raft.js";
import {
  type Entry,
  type Message,
  MessageType,
  newConfState,
  newEntry,
  newHardState,
  newMessage,
  newSnapshot,
} from "../../src/raft/raftpb.js";
import { type RandomSource, seededRandom } from "../../src/raft/rand.js";
import { MemoryStorage, noLimit } from "../../src/raft/storage.js";
import { Progress } from "../../src/raft/tracker/progress.js";
import { ProgressTracker } from "../../src/raft/tracker/tracker.js";

// ---------------------------------------------------------------------------------------------
// Storage and rafts

/** Ids 1n..n (etcd's idsBySize): the membership of an n-node test cluster. */
export function ids(n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => BigInt(i + 1));
}

export type TestMemoryStorageOption = (ms: MemoryStorage) => void;

/**
 * The storage starts from a configuration holding these voters. Like etcd, this rewrites the
 * storage's (index 0) snapshot in place: applySnapshot would refuse an index-0 snapshot as out of date.
 */
export function withPeers(...peers: bigint[]): TestMemoryStorageOption {
  return (ms) => {
    ms.snap = newSnapshot({
      data: ms.snap.data,
      metadata: { ...ms.snap.metadata, confState: newConfState({ ...ms.snap.metadata.confState, voters: [...peers] }) },
    });
  };
}

/** The storage starts from a configuration holding these learners (see withPeers). */
export function withLearners(...learners: bigint[]): TestMemoryStorageOption {
  return (ms) => {
    ms.snap = newSnapshot({
      data: ms.snap.data,
      metadata: { ...ms.snap.metadata, confState: newConfState({ ...ms.snap.metadata.confState, learners: [...learners] }) },
    });
  };
}

/** A fresh MemoryStorage (only the dummy entry at index 0) with the options applied in order. */
export function newTestMemoryStorage(...opts: TestMemoryStorageOption[]): MemoryStorage {
  const ms = new MemoryStorage();
  for (const o of opts) o(ms);
  return ms;
}

/** The seed of a test raft's election-timeout source: derived from its id, so runs repeat exactly. */
export function raftSeed(id: bigint): number {
  return Number(BigInt.asUintN(32, id * 0x9e3779b1n));
}

/**
 * etcd's newTestConfig: no size limit on MsgApp, 256 in-flight appends, seededRandom(raftSeed(id));
 * `extra` overrides any field.
 */
export function newTestConfig(
  id: bigint,
  electionTick: number,
  heartbeatTick: number,
  storage: MemoryStorage | Config["storage"],
  extra: Partial<Config> = {},
): Config {
  return {
    id,
    electionTick,
    heartbeatTick,
    storage,
    rand: seededRandom(raftSeed(id)),
    maxSizePerMsg: noLimit,
    maxInflightMsgs: 256,
    ...extra,
  };
}

export function newTestRaft(
  id: bigint,
  electionTick: number,
  heartbeatTick: number,
  storage: Config["storage"],
  extra: Partial<Config> = {},
): Raft {
  return newRaft(newTestConfig(id, electionTick, heartbeatTick, storage, extra));
}

/** A raft with an empty configuration whose log holds one entry per term given (etcd's entsWithConfig). */
export function entsWithConfig(extra: Partial<Config>, ...terms: number[]): Raft {
  const storage = new MemoryStorage();
  terms.forEach((term, i) => storage.append([newEntry({ index: i + 1, term })]));
  const r = newTestRaft(1n, 5, 1, storage, extra);
  r.reset(terms[terms.length - 1]!);
  return r;
}

/** A raft that voted for `vote` in `term` and has no log (etcd's votedWithConfig). */
export function votedWithConfig(extra: Partial<Config>, vote: bigint, term: number): Raft {
  const storage = new MemoryStorage();
  storage.setHardState(newHardState({ vote, term }));
  const r = newTestRaft(1n, 5, 1, storage, extra);
  r.reset(term);
  return r;
}

/**
 * Consecutive entries from index i with the given terms (etcd's `index(i).terms(...)`):
 * index(1).terms(1, 2) is [{index 1, term 1}, {index 2, term 2}], empty data.
 */
export function index(i: number): { terms(...terms: number[]): Entry[] } {
  return { terms: (...terms) => terms.map((term, k) => newEntry({ index: i + k, term })) };
}

/** A log as text for comparing two logs in a test (etcd's ltoa): last index, applied, every entry. */
export function ltoa(l: RaftLog): string {
  let s = `lastIndex: ${l.lastIndex()}\napplied:  ${l.applied}\n`;
  l.allEntries().forEach((e, i) => {
    s += `#${i}: ${describeEntry(e)}\n`;
  });
  return s;
}

/** Fixes the election timeout instead of drawing it (etcd's setRandomizedElectionTimeout); reset() draws anew. */
export function setRandomizedElectionTimeout(r: Raft, v: number): void {
  r.randomizedElectionTimeout = v;
}

/** The value fn throws, or undefined if it returns normally (for tables that expect an error or none). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Returns the raft's outbox and empties it. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** appendEntry, failing the test if the uncommitted-size limit drops the entries. */
export function mustAppendEntry(r: Raft, ...ents: Entry[]): void {
  if (!r.appendEntry(...ents)) throw new Error("entry unexpectedly dropped");
}

/**
 * Plays the application for one round: persists the unstable entries to `s`, then returns the
 * committed entries not yet applied and marks them applied.
 */
export function nextEnts(r: Raft, s: MemoryStorage): Entry[] {
  const unstable = r.raftLog.unstableEntries();
  if (unstable.length > 0) {
    s.append(unstable);
    const last = unstable[unstable.length - 1]!;
    r.raftLog.stableTo(last.index, last.term);
  }
  const ents = r.raftLog.nextEnts();
  r.raftLog.appliedTo(r.raftLog.committed);
  return ents;
}

/** Messages ordered by (to, type, from), as etcd's messageSlice sorts them; returns a new array. */
export function sortMessages(msgs: Message[]): Message[] {
  return [...msgs].sort((a, b) => {
    if (a.to !== b.to) return a.to < b.to ? -1 : 1;
    if (a.type !== b.type) return a.type - b.type;
    return a.from < b.from ? -1 : a.from > b.from ? 1 : 0;
  });
}

/** A follower's acceptance of the MsgApp m: a MsgAppResp acknowledging its last entry. */
export function acceptAndReply(m: Message): Message {
  if (m.type !== MessageType.MsgApp) throw new Error(`acceptAndReply: not a MsgApp: ${describeMessage(m)}`);
  return newMessage({ from: m.to, to: m.from, term: m.term, type: MessageType.MsgAppResp, index: m.index + m.entries.length });
}

/**
 * For a fresh leader: has every follower acknowledge the leader's empty entry, then persists and
 * applies the log, leaving a leader with nothing in flight and commit == applied == lastIndex.
 */
export function commitNoopEntry(r: Raft, s: MemoryStorage): void {
  if (r.state !== StateType.StateLeader) throw new Error("commitNoopEntry: only for a leader");
  r.bcastAppend();
  for (const m of readMessages(r)) {
    if (m.type !== MessageType.MsgApp || m.entries.length !== 1 || m.entries[0]!.data.length !== 0) {
      throw new Error(`commitNoopEntry: not the append of the empty entry: ${describeMessage(m)}`);
    }
    r.step(acceptAndReply(m));
  }
  // Drop the appends that only carry the new commit index.
  readMessages(r);
  const unstable = r.raftLog.unstableEntries();
  s.append(unstable);
  r.raftLog.appliedTo(r.raftLog.committed);
  const last = unstable[unstable.length - 1];
  if (last !== undefined) r.raftLog.stableTo(last.index, last.term);
}

// ---------------------------------------------------------------------------------------------
// Network

/** Anything a Network can deliver to: a Raft, or a stand-in such as `nopStepper`. */
export interface StateMachine {
  step(m: Message): void;
  /** Returns the outbox and empties it. */
  readMessages(): Message[];
}

/** A peer that swallows everything and never answers (etcd's blackHole). */
export class BlackHole implements StateMachine {
  step(): void {}
  readMessages(): Message[] {
    return [];
  }
}

export const nopStepper = new BlackHole();

type Peer = Raft | StateMachine;

/**
 * An in-process network of peers with ids 1n..n (etcd's network). send() delivers messages and
 * the replies they cause, breadth first, until none are left. Faults: drop a fraction of one
 * direction's messages, cut a pair, isolate a node, ignore a message type; recover() heals all.
 */
export class Network {
  readonly peers = new Map<bigint, Peer>();
  /** The storage of each raft the network created itself (null peers). */
  readonly storage = new Map<bigint, MemoryStorage>();
  /** Per "from->to" connection: the probability of dropping a message (≥ 1 drops all). */
  dropm = new Map<string, number>();
  ignorem = new Set<MessageType>();
  /** Called for each message that survives the faults: return false to drop it. */
  msgHook: ((m: Message) => boolean) | undefined = undefined;
  /** Called with describeMessage(m) for each message delivered (e.g. console.log while debugging). */
  trace: ((line: string) => void) | undefined = undefined;
  private readonly rand: RandomSource;

  constructor(readonly seed: number = 1) {
    this.rand = seededRandom(seed);
  }

  /** Delivers msgs, then everything they cause, until the network is quiet. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const p = this.peers.get(m.to);
      if (p === undefined) throw new Error(`network: no peer ${m.to} for ${describeMessage(m)}`);
      this.trace?.(describeMessage(m));
      try {
        p.step(m);
      } catch (err) {
        // A dropped proposal is an answer, not a failure of the network (etcd ignores Step's error).
        if (!(err instanceof Error && err.name === "ErrProposalDropped")) throw err;
      }
      queue.push(...this.filter(p instanceof Raft ? readMessages(p) : p.readMessages()));
    }
  }

  /** Drops messages from→to with probability perc (≥ 1: always). */
  drop(from: bigint, to: bigint, perc: number): void {
    this.dropm.set(`${from}->${to}`, perc);
  }

  /** Drops everything between one and other, both ways. */
  cut(one: bigint, other: bigint): void {
    this.drop(one, other, 2.0);
    this.drop(other, one, 2.0);
  }

  /** Drops everything to and from id. */
  isolate(id: bigint): void {
    for (const nid of ids(this.peers.size)) {
      if (nid === id) continue;
      this.drop(id, nid, 1.0);
      this.drop(nid, id, 1.0);
    }
  }

  /** Drops every message of type t. */
  ignore(t: MessageType): void {
    this.ignorem.add(t);
  }

  /** Removes every drop and ignore rule. */
  recover(): void {
    this.dropm = new Map();
    this.ignorem = new Set();
  }

  /** The messages that survive the faults, in order. */
  filter(msgs: Message[]): Message[] {
    const out: Message[] = [];
    for (const m of msgs) {
      if (this.ignorem.has(m.type)) continue;
      if (m.type === MessageType.MsgHup) {
        // A MsgHup is local to a node: one on the network is a bug.
        throw new Error(`network: unexpected MsgHup ${describeMessage(m)}`);
      }
      const perc = this.dropm.get(`${m.from}->${m.to}`) ?? 0;
      if (perc > 0 && this.random() < perc) continue;
      if (this.msgHook !== undefined && !this.msgHook(m)) continue;
      out.push(m);
    }
    return out;
  }

  /** A uniform number in [0, 1) from the network's seeded source. */
  private random(): number {
    return this.rand.intn(0x1_0000_0000) / 0x1_0000_0000;
  }
}

/**
 * A network of peers with ids 1n..n, in order. A null peer becomes a fresh raft (election 10,
 * heartbeat 1) on its own storage holding all n as voters; a given Raft takes its position's id and
 * a configuration of all n (keeping its learners as learners), its progress reset, as in etcd.
 */
export function newNetwork(...peers: (Peer | null)[]): Network {
  return newNetworkWithConfig(undefined, ...peers);
}

/** newNetwork, with `configure` applied to the Config of every raft the network creates. */
export function newNetworkWithConfig(configure: ((c: Config) => void) | undefined, ...peers: (Peer | null)[]): Network {
  return newNetworkWithSeed(1, configure, ...peers);
}

/** newNetworkWithConfig with an explicit seed for the network's drop decisions. */
export function newNetworkWithSeed(
  seed: number,
  configure: ((c: Config) => void) | undefined,
  ...peers: (Peer | null)[]
): Network {
  const nw = new Network(seed);
  const peerIds = ids(peers.length);
  peers.forEach((p, j) => {
    const id = peerIds[j]!;
    if (p === null) {
      const s = newTestMemoryStorage(withPeers(...peerIds));
      const cfg = newTestConfig(id, 10, 1, s);
      configure?.(cfg);
      nw.storage.set(id, s);
      nw.peers.set(id, newRaft(cfg));
    } else if (p instanceof Raft) {
      const learners = new Set(p.trk.config.learners);
      // etcd's network renumbers the raft it is given; `id` is readonly outside tests.
      (p as { id: bigint }).id = id;
      const trk = new ProgressTracker(p.trk.maxInflight);
      for (const pid of peerIds) {
        const isLearner = learners.has(pid);
        if (isLearner) trk.config.learners.add(pid);
        else trk.config.voters[0].add(pid);
        trk.progress.set(pid, new Progress({ next: 1, maxInflight: p.trk.maxInflight, isLearner }));
      }
      p.trk = trk;
      p.reset(p.term);
      nw.peers.set(id, p);
    } else {
      nw.peers.set(id, p);
    }
  });
  return nw;
}
