/**
 * Small helpers shared by the pre-vote, check-quorum, leader-transfer and read-index tests: message
 * constructors for the local requests a test injects, and setters for the few Raft fields etcd's
 * tests flip in place (they are readonly outside tests).
 */
import { expect } from "vitest";
import { type Config, Raft, StateType } from "../../src/raft/raft.js";
import { type Message, MessageType, newEntry, newMessage } from "../../src/raft/raftpb.js";
import type { Network } from "./harness.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

/** A MsgHup stepped on `id` itself: start an election now. */
export function hup(id: bigint): Message {
  return newMessage({ from: id, to: id, type: MessageType.MsgHup });
}

/** A MsgBeat stepped on `id` itself: a leader broadcasts heartbeats now. */
export function beat(id: bigint): Message {
  return newMessage({ from: id, to: id, type: MessageType.MsgBeat });
}

/** A proposal of one entry (empty unless data is given), stepped on `id`. */
export function prop(id: bigint, data = ""): Message {
  return newMessage({ from: id, to: id, type: MessageType.MsgProp, entries: [newEntry({ data: bytes(data) })] });
}

/** A read request with context ctx, stepped on `id` (the application's ReadIndex call). */
export function readIndex(id: bigint, ctx: string): Message {
  return newMessage({ from: id, to: id, type: MessageType.MsgReadIndex, entries: [newEntry({ data: bytes(ctx) })] });
}

/** A request, delivered to `to`, that leadership move to `transferee` (carried in `from`, as etcd does). */
export function transferLeader(transferee: bigint, to: bigint): Message {
  return newMessage({ from: transferee, to, type: MessageType.MsgTransferLeader });
}

/** The Raft the network holds for id (every peer in these tests is a Raft). */
export function peer(nt: Network, id: bigint): Raft {
  const p = nt.peers.get(id);
  if (!(p instanceof Raft)) throw new Error(`peer ${id} is not a Raft`);
  return p;
}

export function tickN(r: Raft, n: number): void {
  for (let i = 0; i < n; i++) r.tick();
}

/** etcd's setRandomizedElectionTimeout. */
export function setRandomizedElectionTimeout(r: Raft, v: number): void {
  r.randomizedElectionTimeout = v;
}

/** Turns pre-vote on or off in place (etcd's tests do this to simulate a rolling upgrade). */
export function setPreVote(r: Raft, on: boolean): void {
  (r as { preVote: boolean }).preVote = on;
}

export function setCheckQuorum(r: Raft, on: boolean): void {
  (r as { checkQuorum: boolean }).checkQuorum = on;
}

/** A configure function for newNetworkWithConfig that sets these Config fields. */
export function withConfig(extra: Partial<Config>): (c: Config) => void {
  return (c) => Object.assign(c, extra);
}

/** etcd's checkLeaderTransferState: the role, the known leader, and no transfer in progress. */
export function expectLeaderTransferState(r: Raft, state: StateType, lead: bigint): void {
  expect(StateType[r.state]).toBe(StateType[state]);
  expect(r.lead).toBe(lead);
  expect(r.leadTransferee).toBe(0n);
}

/** The role of each raft, by name, for readable assertions. */
export function states(...rs: Raft[]): string[] {
  return rs.map((r) => StateType[r.state]);
}

export function terms(...rs: Raft[]): number[] {
  return rs.map((r) => r.term);
}
