/**
 * The simulated network between raft nodes: a bag of in-flight messages keyed by the step at which each
 * becomes deliverable, with the faults a real network has — loss, delay, duplication, reordering and
 * partitions. Time is the simulator's step counter, never a clock.
 *
 * Every message crosses the "wire" through the real codec (encodeMessage on send, decodeMessage on each
 * delivery), so a receiver never shares objects with the sender or with another copy of a duplicate,
 * and the codec is exercised on every message the cluster exchanges.
 */
import { decodeMessage, encodeMessage } from "../../../src/raft/codec.js";
import { type Message, MessageType } from "../../../src/raft/raftpb.js";
import type { Prng } from "./prng.js";

/** Per-message fault probabilities; all zero means a perfect network. */
export interface FaultRates {
  /** Probability that a sent message is lost. */
  drop: number;
  /** Probability that a sent message is delivered twice (each copy delayed independently). */
  duplicate: number;
  /** Probability that a message is delayed beyond the next step. */
  delay: number;
  /** A delayed message arrives 2..maxDelay steps after it was sent (≥ 2). */
  maxDelay: number;
  /** Whether messages due in the same step arrive in random order (else in send order). */
  reorder: boolean;
}

export const perfectNetwork: FaultRates = { drop: 0, duplicate: 0, delay: 0, maxDelay: 2, reorder: false };

/** One message in flight. `bytes` is its wire encoding; it is decoded afresh for each delivery. */
export interface Envelope {
  /** The node that sent it (not always m.from: see send). */
  readonly from: bigint;
  /** Send order, unique per network: ties in deliverAt are broken by it, so the order is deterministic. */
  readonly seq: number;
  readonly to: bigint;
  readonly type: MessageType;
  /** The sender's incarnation (bumped by each restart) when it sent this message. */
  readonly fromIncarnation: number;
  /** The first step at which the message may be delivered. */
  readonly deliverAt: number;
  readonly bytes: Uint8Array;
}

/** What happened to a message the network let go of. */
export type Fate = "delivered" | "lost" | "cut";

export class SimNetwork {
  /** The current step; messages with deliverAt ≤ now are due. Advanced only by the cluster. */
  now = 0;
  rates: FaultRates = perfectNetwork;
  private inflight: Envelope[] = [];
  private seq = 0;
  /** node id → group; two nodes can talk iff they are in the same group. Empty map: fully connected. */
  private groups = new Map<bigint, number>();

  constructor(private readonly prng: Prng) {}

  /** The number of messages in flight (for traces and the liveness phase). */
  get size(): number {
    return this.inflight.length;
  }

  /**
   * Accepts a message that node `sender` has just handed over (after persisting its Ready). Returns
   * "lost" if the network drops it at once, else "delivered" meaning "queued" (delivery happens in
   * due()). The envelope is addressed from `sender`, which is m.from except for a re-forwarded MsgProp or
   * MsgReadIndex (a follower forwarding a request it was itself forwarded keeps the originator's id).
   */
  send(sender: bigint, m: Message, fromIncarnation: number): Fate {
    if (m.to === sender) throw new Error(`node ${sender} sent itself ${MessageType[m.type]}`);
    if (this.prng.chance(this.rates.drop)) return "lost";
    const bytes = encodeMessage(m);
    const copies = this.prng.chance(this.rates.duplicate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = this.prng.chance(this.rates.delay) ? this.prng.between(2, Math.max(2, this.rates.maxDelay)) : 1;
      this.inflight.push({
        seq: this.seq++,
        from: sender,
        to: m.to,
        type: m.type,
        fromIncarnation,
        deliverAt: this.now + delay,
        bytes,
      });
    }
    return "delivered";
  }

  /**
   * Removes and returns the messages due at `now`, each with its fate: "cut" if a partition separates
   * the two ends at delivery time, else "delivered" with a freshly decoded Message. Order: by deliverAt
   * then send order, or shuffled when rates.reorder.
   */
  due(): { env: Envelope; fate: Fate; msg?: Message }[] {
    const ready: Envelope[] = [];
    const rest: Envelope[] = [];
    for (const e of this.inflight) (e.deliverAt <= this.now ? ready : rest).push(e);
    this.inflight = rest;
    ready.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
    if (this.rates.reorder) this.prng.shuffle(ready);
    return ready.map((env) =>
      this.connected(env.from, env.to) ? { env, fate: "delivered" as const, msg: decodeMessage(env.bytes) } : { env, fate: "cut" as const },
    );
  }

  /**
   * Removes every in-flight message addressed to `id` (its process died; connections to it broke) and
   * returns them, so the caller can tell senders what their transport would have noticed.
   */
  dropTo(id: bigint): Envelope[] {
    const dropped = this.inflight.filter((e) => e.to === id);
    this.inflight = this.inflight.filter((e) => e.to !== id);
    return dropped;
  }

  /** Whether a and b can currently exchange messages. */
  connected(a: bigint, b: bigint): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  /** Splits the nodes into the given groups (nodes not listed join group 0 with the first group). */
  partition(groups: bigint[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.groups.set(id, i)));
  }

  /** Restores full connectivity. */
  heal(): void {
    this.groups = new Map();
  }

  /** Whether any partition is in force. */
  get partitioned(): boolean {
    return new Set(this.groups.values()).size > 1;
  }

  /** The current partition as deterministic text, e.g. "{1 2} {3}"; "none" when healed. */
  describePartition(): string {
    if (!this.partitioned) return "none";
    const byGroup = new Map<number, bigint[]>();
    for (const [id, g] of this.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), id]);
    return [...byGroup.keys()]
      .sort((a, b) => a - b)
      .map((g) => `{${byGroup.get(g)!.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(" ")}}`)
      .join(" ");
  }
}
