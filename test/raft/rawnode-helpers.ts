/**
 * Helpers for the membership, learner, snapshot, flow-control and RawNode tests: entry and message
 * constructors, a check that an exact error value was thrown, the application's side of a Ready
 * (persist, apply configuration changes, advance), and RawCluster, a small in-process cluster of
 * RawNodes that runs the full Ready loop until nothing is left to do.
 */
import { decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2 } from "../../src/raft/codec.js";
import { ErrProposalDropped, ErrStepPeerNotFound } from "../../src/raft/errors.js";
import { type Config, type Raft, StateType } from "../../src/raft/raft.js";
import {
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type Message,
  EntryType,
  MessageType,
  asV2,
  isEmptyHardState,
  isEmptySnap,
  newEntry,
  newMessage,
  sortIds,
} from "../../src/raft/raftpb.js";
import { RawNode, type Ready } from "../../src/raft/rawnode.js";
import type { MemoryStorage } from "../../src/raft/storage.js";
import { newTestConfig, newTestMemoryStorage, withLearners, withPeers } from "./harness.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

/** Consecutive entries starting at index `first`, one per term given, with empty data. */
export function entriesFrom(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, k) => newEntry({ index: first + k, term }));
}

/** What f threw (undefined if it returned): lets a test compare an error value by identity. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** A proposal of one entry with `data`, stepped on `to` (the leader's own MsgProp). */
export function propMsg(to: bigint, data: Uint8Array = bytes("somedata")): Message {
  return newMessage({ from: to, to, type: MessageType.MsgProp, entries: [newEntry({ data })] });
}

/** The log entry that proposes cc: EntryConfChange for a ConfChange, EntryConfChangeV2 for a ConfChangeV2. */
export function confChangeEntry(cc: ConfChange | ConfChangeV2): Entry {
  return "changes" in cc
    ? newEntry({ type: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(cc) })
    : newEntry({ type: EntryType.EntryConfChange, data: encodeConfChange(cc) });
}

/** The configuration change an entry carries, as a ConfChangeV2; undefined for a normal entry. */
export function confChangeOf(e: Entry): ConfChangeV2 | undefined {
  if (e.type === EntryType.EntryConfChange) return asV2(decodeConfChange(e.data));
  if (e.type === EntryType.EntryConfChangeV2) return decodeConfChangeV2(e.data);
  return undefined;
}

/** Applies every configuration change among ents, in order; returns the ConfState after each. */
export function applyConfChanges(node: Raft | RawNode, ents: Entry[]): ConfState[] {
  const out: ConfState[] = [];
  for (const e of ents) {
    const cc = confChangeOf(e);
    if (cc !== undefined) out.push(node.applyConfChange(cc));
  }
  return out;
}

/** Writes a Ready to storage as the contract asks: snapshot, then entries, then the HardState. */
export function persistReady(s: MemoryStorage, rd: Ready): void {
  if (!isEmptySnap(rd.snapshot)) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (!isEmptyHardState(rd.hardState)) s.setHardState(rd.hardState);
}

/**
 * One full turn of the application on a RawNode: takes a Ready, persists it, applies its
 * configuration changes, advances. Returns the Ready and the ConfStates the changes produced.
 */
export function handleReady(rn: RawNode, s: MemoryStorage): { rd: Ready; confStates: ConfState[] } {
  const rd = rn.ready();
  persistReady(s, rd);
  const confStates = applyConfChanges(rn, rd.committedEntries);
  rn.advance(rd);
  return { rd, confStates };
}

export interface RawClusterOptions {
  /** The voters every node's storage starts with. */
  voters: bigint[];
  learners?: bigint[];
  /** Applied to each node's Config. */
  configure?: (c: Config) => void;
}

/**
 * RawNodes 1..n that exchange messages in memory. stabilize() runs every node's Ready loop
 * (persist → send → apply → advance) and delivers messages until all are quiet. Every node's storage
 * starts with the same configuration, even for a node that is not in it yet (a joining node).
 */
export class RawCluster {
  readonly nodes = new Map<bigint, RawNode>();
  readonly storage = new Map<bigint, MemoryStorage>();
  /** Every entry each node applied, in order. */
  readonly applied = new Map<bigint, Entry[]>();
  /** Every ConfState each node's applyConfChange returned, in order. */
  readonly confStates = new Map<bigint, ConfState[]>();
  /** Nodes whose messages, both ways, are dropped. */
  readonly isolated = new Set<bigint>();
  private queue: Message[] = [];

  constructor(n: number, opts: RawClusterOptions) {
    for (let i = 1; i <= n; i++) {
      const id = BigInt(i);
      const s = newTestMemoryStorage(withPeers(...opts.voters), withLearners(...(opts.learners ?? [])));
      const cfg = newTestConfig(id, 10, 1, s);
      opts.configure?.(cfg);
      this.nodes.set(id, new RawNode(cfg));
      this.storage.set(id, s);
      this.applied.set(id, []);
      this.confStates.set(id, []);
    }
  }

  node(id: bigint): RawNode {
    const rn = this.nodes.get(id);
    if (rn === undefined) throw new Error(`no node ${id}`);
    return rn;
  }

  /** The ids of the nodes that currently believe they lead. */
  leaders(): bigint[] {
    return sortIds([...this.nodes].filter(([, rn]) => rn.raft.state === StateType.StateLeader).map(([id]) => id));
  }

  /** Runs Ready loops and delivers messages until nothing happens; throws if that takes too long. */
  stabilize(maxRounds = 200): void {
    for (let round = 0; round < maxRounds; round++) {
      let active = false;
      for (const id of sortIds(this.nodes.keys())) {
        const rn = this.nodes.get(id)!;
        while (rn.hasReady()) {
          active = true;
          const rd = rn.ready();
          persistReady(this.storage.get(id)!, rd);
          this.queue.push(...rd.messages);
          this.applied.get(id)!.push(...rd.committedEntries);
          this.confStates.get(id)!.push(...applyConfChanges(rn, rd.committedEntries));
          rn.advance(rd);
        }
      }
      const msgs = this.queue;
      this.queue = [];
      for (const m of msgs) {
        if (this.isolated.has(m.from) || this.isolated.has(m.to)) continue;
        const to = this.nodes.get(m.to);
        if (to === undefined) continue;
        active = true;
        try {
          to.step(m);
        } catch (err) {
          // A forwarded proposal may be refused, and a removed node's answers are unknown to the
          // others: both are answers, not failures of the cluster.
          if (err !== ErrProposalDropped && err !== ErrStepPeerNotFound) throw err;
        }
      }
      if (!active) return;
    }
    throw new Error(`cluster did not stabilize within ${maxRounds} rounds`);
  }

  /** Ticks every node once, then stabilizes. */
  tickAll(): void {
    for (const rn of this.nodes.values()) rn.tick();
    this.stabilize();
  }

  /** Campaigns on id and stabilizes; fails unless id becomes the leader. */
  elect(id: bigint): void {
    this.node(id).campaign();
    this.stabilize();
    if (this.node(id).raft.state !== StateType.StateLeader) throw new Error(`node ${id} did not become leader`);
  }
}
