/** Test doubles for the transport: a recording RaftHandler, a scripted dialer and conns, a log. */
import type { Message } from "../../src/raft/index.js";
import { PeerDialError, RemovedMemberError, type PeerConn, type PeerDialer, type RaftHandler, type SnapshotStatus } from "../../src/rafthttp/types.js";
import type { Fields, TransportLogger } from "../../src/rafthttp/util.js";

export class RecordingRaft implements RaftHandler {
  processed: Message[] = [];
  unreachable: bigint[] = [];
  snapshots: [bigint, SnapshotStatus][] = [];
  removed = new Set<bigint>();
  /** Returns a promise to hold a message's processing (default: resolve at once). */
  hold: (m: Message) => Promise<void> | undefined = () => undefined;

  async process(m: Message): Promise<void> {
    if (this.removed.has(m.from)) throw new RemovedMemberError();
    const h = this.hold(m);
    if (h !== undefined) await h;
    this.processed.push(m);
  }
  isIDRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.snapshots.push([id, status]);
  }
}

export class RecordingLogger implements TransportLogger {
  lines: { level: string; msg: string; fields?: Fields }[] = [];
  debug(msg: string, fields?: Fields): void {
    this.lines.push({ level: "debug", msg, fields });
  }
  info(msg: string, fields?: Fields): void {
    this.lines.push({ level: "info", msg, fields });
  }
  warn(msg: string, fields?: Fields): void {
    this.lines.push({ level: "warn", msg, fields });
  }
  error(msg: string, fields?: Fields): void {
    this.lines.push({ level: "error", msg, fields });
  }
  has(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }
}

/** A PeerConn in memory: records what is sent; the test feeds frames and closes it. */
export class FakeConn implements PeerConn {
  sent: Uint8Array[] = [];
  closed = false;
  buffered = 0;
  private frameFn: (f: Uint8Array) => void = () => {};
  private closeFn: (reason?: Error) => void = () => {};
  send(frame: Uint8Array): void {
    if (this.closed) throw new Error("use of closed network connection");
    this.sent.push(frame);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeFn();
  }
  onFrame(fn: (f: Uint8Array) => void): void {
    this.frameFn = fn;
  }
  onClose(fn: (reason?: Error) => void): void {
    this.closeFn = fn;
  }
  /** The peer sends a frame. */
  feed(frame: Uint8Array): void {
    this.frameFn(frame);
  }
  /** The peer closes (or the network breaks). */
  remoteClose(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeFn(reason);
  }
}

/** A dialer answering each dial with the next scripted result (default: connection refused). */
export class FakeDialer implements PeerDialer {
  dials: { url: string; headers: Record<string, string> }[] = [];
  conns: FakeConn[] = [];
  next: (url: string) => FakeConn | Error = () => new Error("connect ECONNREFUSED");
  dial(url: string, headers: Record<string, string>): Promise<PeerConn> {
    this.dials.push({ url, headers });
    const r = this.next(url);
    if (r instanceof Error) return Promise.reject(r);
    this.conns.push(r);
    return Promise.resolve(r);
  }
}

export function refused(status: number, body: string): Error {
  return new PeerDialError(status, body);
}

/** Lets queued promise callbacks run (fake dials and fetches settle in microtasks). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** Polls `f` until true (real-time integration tests); throws after `ms`. */
export async function until(f: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((r) => setTimeout(r, 10));
  }
}
