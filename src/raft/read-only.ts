/**
 * Linearizable reads on the leader (etcd's read_only.go): a read request gets the commit index at
 * the time it arrived, and is answered once a quorum of voters has acknowledged a heartbeat sent
 * after it — proof that this node was still the leader when the request came in (ReadOnlySafe).
 *
 * Requests are numbered in arrival order. A heartbeat carries, as its context, the position just
 * past the newest pending request (8 bytes, little-endian); a follower echoes it back, and the
 * quorum's acknowledged position confirms every request before it.
 *
 * Example: requests r1, r2 pending, confirmed = 0 → heartbeats carry ctx 2; when a quorum has
 * echoed 2 (the leader acks itself), r1 and r2 are released with their recorded indexes.
 */
import { jointCommittedIndex, type JointConfig } from "./quorum/joint.js";
import type { Message } from "./raftpb.js";

export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat quorum for each batch of reads (etcd's default). */
  ReadOnlySafe = 0,
  /** Trust the leader lease (needs check-quorum; unsafe under clock drift). */
  ReadOnlyLeaseBased = 1,
}

/** A read the application asked for, resolved: it may serve it once it has applied `index`. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export interface ReadIndexRequest {
  req: Message;
  index: number;
}

export class ReadOnly {
  /** Per voter, the highest request position it acknowledged. */
  private acks = new Map<bigint, number>();
  private unconfirmedReads: ReadIndexRequest[] = [];
  /** How many requests have been confirmed so far (the position of unconfirmedReads[0]). */
  private confirmedReads = 0;

  constructor(readonly option: ReadOnlyOption) {}

  /** Queues a read request that arrived when the commit index was commitIndex. */
  addRequest(commitIndex: number, req: Message): void {
    this.unconfirmedReads.push({ req, index: commitIndex });
  }

  /** Records a heartbeat acknowledgement carrying ctx from a voter. */
  recvAck(from: bigint, ctx: Uint8Array): void {
    if (ctx.length !== 8) return;
    const pos = decodePosition(ctx);
    this.acks.set(from, Math.max(this.acks.get(from) ?? 0, pos));
  }

  /** Releases, in order, the requests a quorum of the configuration has confirmed. */
  maybeAdvance(c: JointConfig): ReadIndexRequest[] {
    const acks = this.acks;
    const newConfirmed = jointCommittedIndex(c, { ackedIndex: (id) => acks.get(id) });
    if (newConfirmed <= this.confirmedReads) return [];
    const n = Math.min(newConfirmed - this.confirmedReads, this.unconfirmedReads.length);
    const released = this.unconfirmedReads.slice(0, n);
    this.unconfirmedReads = this.unconfirmedReads.slice(n);
    this.confirmedReads += n;
    return released;
  }

  /** The context for heartbeats: empty when no read is pending. */
  heartbeatCtx(): Uint8Array {
    if (this.unconfirmedReads.length === 0) return new Uint8Array(0);
    return encodePosition(this.confirmedReads + this.unconfirmedReads.length);
  }

  pendingCount(): number {
    return this.unconfirmedReads.length;
  }
}

function encodePosition(pos: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(pos), true);
  return b;
}

function decodePosition(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}
