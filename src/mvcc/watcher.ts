/**
 * Watchers and the stream they share (etcd server/storage/mvcc/watcher.go, and the `watcher` struct
 * of watchable_store.go).
 *
 * A {@link WatchStream} is etcd's watchStream: a set of watchers, each with an id, that share one
 * bounded response buffer (etcd's `chan WatchResponse` of {@link chanBufLen}). The store never
 * waits on it: when the buffer is full a send fails and the store makes the watcher a *victim*
 * (watchable-store.ts), keeping the undelivered events and retrying later, so a slow reader never
 * blocks a writer and never loses or repeats an event.
 *
 * Delivery, replacing Go's `Chan()`: {@link WatchStream.recv} takes the oldest buffered response
 * at once (etcd's `select` with a `default`), {@link WatchStream.next} and `for await` wait for
 * one. Each response is taken once, in the order the store produced them.
 *
 * Ranges follow kv.ts: `end` absent or empty watches the single key `key`; `end = [0]` ("\0")
 * watches every key ≥ `key`; otherwise `[key, end)`. Keys are held as binary strings (one char per
 * byte, so string order is byte order), the unbounded end as "".
 */
import { keyString } from "../storage/backend.js";
import { MvccError } from "./errors.js";
import { EventType, type Event, type KeyValue } from "./mvccpb.js";

export const ErrWatcherNotExist = new MvccError("ErrWatcherNotExist", "mvcc: watcher does not exist");
export const ErrEmptyWatcherRange = new MvccError("ErrEmptyWatcherRange", "mvcc: watcher range is empty");
export const ErrWatcherDuplicateID = new MvccError(
  "ErrWatcherDuplicateID",
  "mvcc: duplicate watch ID provided on the WatchStream",
);

/** etcd's WatchID (int64); ids handed out here are small non-negative integers. */
export type WatchID = number;
/** etcd clientv3.AutoWatchID: ask the stream to pick the id. */
export const AutoWatchID: WatchID = 0;
/** etcd clientv3.InvalidWatchID: the id of a progress response sent on behalf of a whole stream. */
export const InvalidWatchID: WatchID = -1;

/** etcd's chanBufLen: responses a stream buffers before a send fails and the watcher becomes a victim. */
export const chanBufLen = 128;

/** Returns true if the event should be filtered out (etcd's FilterFunc). */
export type FilterFunc = (e: Event) => boolean;

/** etcd's NOPUT / NODELETE watch filters. */
export const filterNoPut: FilterFunc = (e) => e.type === EventType.PUT;
export const filterNoDelete: FilterFunc = (e) => e.type === EventType.DELETE;

export interface WatchResponse {
  /** The watcher this response is for; {@link InvalidWatchID} for a stream-wide progress response. */
  watchID: WatchID;
  /**
   * In revision order, each revision's events complete (a txn's events are never split across
   * responses). Empty for a progress or compaction response. Read-only: the KeyValues are shared
   * with other watchers.
   */
  events: Event[];
  /**
   * The store revision this response covers: for live events the txn's revision; for a catch-up
   * batch the revision read up to (≥ the last event's); for progress the current revision (every
   * later event is above it). 0 in a compaction response.
   */
  revision: number;
  /** Non-zero when the watcher was cancelled because its next revision was compacted away. */
  compactRevision: number;
}

/** One stable line per response, for tests and logs. */
export function describeWatchResponse(r: WatchResponse): string {
  const evs = r.events.map((e) => {
    const k = keyString(e.kv.key);
    return `${e.type === EventType.DELETE ? "DELETE" : "PUT"} ${JSON.stringify(k)}@${e.kv.modRevision}`;
  });
  const compact = r.compactRevision !== 0 ? ` compact=${r.compactRevision}` : "";
  return `watch ${r.watchID} rev=${r.revision}${compact} [${evs.join(", ")}]`;
}

/** The options of one watcher beyond its range and start. */
export interface WatchOptions {
  /** Events any of these return true for are not delivered. */
  filters?: readonly FilterFunc[];
  /**
   * Fill each event's `prevKv` with the key's value at `modRevision - 1` (etcd does this in v3rpc
   * at send time; here when the response enters the buffer). Not for creations; absent when that
   * value is compacted away or did not exist.
   */
  prevKv?: boolean;
}

/** Where a watcher's responses go: the stream's buffer. */
export interface WatchSink {
  /** Appends `resp` unless the buffer is full (then returns false and changes nothing). */
  trySend(resp: WatchResponse): boolean;
  /** Whether a {@link trySend} would succeed now. */
  hasSpace(): boolean;
  /** The store cancelled `w` for compaction after its compaction response entered the buffer. */
  compacted(w: Watcher): void;
}

/** What a stream needs from the store (etcd's `watchable`). */
export interface Watchable {
  /** Registers a watcher; `cancel` removes it from the store. */
  watch(
    key: string,
    end: string | undefined,
    startRev: number,
    id: WatchID,
    sink: WatchSink,
    opts: WatchOptions,
  ): { watcher: Watcher; cancel: () => void };
  /** Sends `w` a progress response if it is synced. */
  progress(w: Watcher): void;
  /** If every watcher is synced, sends one progress response with {@link InvalidWatchID} and returns true. */
  progressAll(watchers: ReadonlyMap<WatchID, Watcher>): boolean;
  rev(): number;
}

export { keyString };

/**
 * One watcher (etcd's `watcher`). Owned by the store, which moves it between its synced, unsynced
 * and victim sets; `minRev` is the lowest revision it has not yet been sent, so it has observed
 * the store up to `minRev - 1`.
 */
export class Watcher {
  /** Set while a failed send's events wait in the store's victim list. */
  victim = false;
  /** Set once its compaction response was buffered and the store dropped it. */
  compacted = false;
  /** Set when a restore moved it from synced to unsynced, possibly with a future `minRev`. */
  restore = false;
  /** Set by cancel; no more sends. */
  cancelled = false;
  /** The lowest revision still to be delivered. */
  minRev: number;

  constructor(
    /** The first watched key, as a binary string. */
    readonly key: string,
    /** undefined: the single key; "": unbounded; otherwise the exclusive end (binary string). */
    readonly end: string | undefined,
    readonly startRev: number,
    readonly id: WatchID,
    readonly sink: WatchSink,
    readonly fcs: readonly FilterFunc[] = [],
    /** Reads an event's previous value; set when the watcher asked for prev_kv. */
    readonly prevKvOf?: (ev: Event) => KeyValue | undefined,
  ) {
    this.minRev = startRev;
  }

  /** Whether `key` (binary string) is in the watched range. */
  covers(key: string): boolean {
    if (this.end === undefined) return key === this.key;
    return key >= this.key && (this.end === "" || key < this.end);
  }

  /**
   * etcd's watcher.send: filters the events, and buffers the response unless every event was
   * filtered out (then it reports success without sending). An empty response (progress) always
   * goes. Returns false, changing nothing, when the buffer is full.
   */
  send(wr: WatchResponse): boolean {
    if (this.cancelled) return true;
    const progressEvent = wr.events.length === 0;
    let evs = wr.events;
    if (this.fcs.length > 0) evs = evs.filter((e) => !this.fcs.some((f) => f(e)));
    if (!progressEvent && evs.length === 0) return true;
    if (!this.sink.hasSpace()) return false;
    if (this.prevKvOf !== undefined) {
      for (const e of evs) {
        const isCreate = e.type === EventType.PUT && e.kv.createRevision === e.kv.modRevision;
        if (!isCreate && e.prevKv === undefined) {
          const p = this.prevKvOf(e);
          if (p !== undefined) e.prevKv = p;
        }
      }
    }
    return this.sink.trySend({ ...wr, events: evs });
  }

  /** Buffers the compaction response (filters do not apply). False if the buffer is full. */
  sendCompacted(compactRev: number): boolean {
    return this.sink.trySend({ watchID: this.id, events: [], revision: 0, compactRevision: compactRev });
  }
}

/**
 * etcd's watchStream. Create it with the store's `newWatchStream()`. Single-threaded: every method
 * runs to completion; responses are produced synchronously by the store's write txns and sync
 * steps and consumed by the caller whenever it likes.
 */
export class WatchStream implements WatchSink {
  private nextID: WatchID = 0;
  private closed = false;
  private readonly cancels = new Map<WatchID, () => void>();
  private readonly watchers = new Map<WatchID, Watcher>();
  /** The buffer: `buf[head..]` are the undelivered responses, at most `cap` of them. */
  private buf: WatchResponse[] = [];
  private head = 0;
  private waiters: ((r: WatchResponse | undefined) => void)[] = [];

  constructor(
    private readonly watchable: Watchable,
    /** Capacity of the queue, in responses (etcd's chanBufLen); at least 1. */
    readonly cap: number = chanBufLen,
  ) {
    if (!(cap >= 1)) throw new Error(`mvcc: watch stream buffer must hold at least one response, got ${cap}`);
  }

  /**
   * etcd's Watch: watches `[key, end)` (see the file comment for `end`) from `startRev` (≤ 0: from
   * the next revision). `id` {@link AutoWatchID} picks the lowest free id at or after the last one
   * handed out. Errors: {@link ErrEmptyWatcherRange} (also after close, as etcd),
   * {@link ErrWatcherDuplicateID}.
   */
  watch(
    id: WatchID,
    key: Uint8Array,
    end: Uint8Array | undefined,
    startRev: number,
    opts: WatchOptions = {},
  ): WatchID | MvccError {
    const k = keyString(key);
    let e: string | undefined;
    if (end === undefined || end.length === 0) e = undefined;
    else if (end.length === 1 && end[0] === 0) e = "";
    else {
      e = keyString(end);
      if (k >= e) return ErrEmptyWatcherRange;
    }
    if (this.closed) return ErrEmptyWatcherRange;
    if (id === AutoWatchID) {
      while (this.watchers.has(this.nextID)) this.nextID++;
      id = this.nextID++;
    } else if (this.watchers.has(id)) {
      return ErrWatcherDuplicateID;
    }
    const { watcher, cancel } = this.watchable.watch(k, e, startRev, id, this, opts);
    this.cancels.set(id, cancel);
    this.watchers.set(id, watcher);
    return id;
  }

  /** etcd's Cancel: no more responses are produced for `id` (already buffered ones stay). */
  cancel(id: WatchID): MvccError | undefined {
    const cancel = this.cancels.get(id);
    if (cancel === undefined || this.closed) return ErrWatcherNotExist;
    cancel();
    this.cancels.delete(id);
    this.watchers.delete(id);
    return undefined;
  }

  /** etcd's RequestProgress: a progress response for `id` if it is synced; nothing otherwise. */
  requestProgress(id: WatchID): void {
    const w = this.watchers.get(id);
    if (w !== undefined) this.watchable.progress(w);
  }

  /**
   * etcd's RequestProgressAll: if every watcher of the stream is synced, one progress response
   * with {@link InvalidWatchID} is buffered and true returned (also when there are no watchers).
   */
  requestProgressAll(): boolean {
    return this.watchable.progressAll(this.watchers);
  }

  /** The store's current revision. */
  rev(): number {
    return this.watchable.rev();
  }

  /** The ids of the live watchers, ascending. */
  ids(): WatchID[] {
    return [...this.watchers.keys()].sort((a, b) => a - b);
  }

  /** Cancels every watcher. Buffered responses can still be taken; then the stream reports its end. */
  close(): void {
    if (this.closed) return;
    for (const cancel of this.cancels.values()) cancel();
    this.cancels.clear();
    this.watchers.clear();
    this.closed = true;
    if (this.pending() === 0) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w(undefined);
    }
  }

  isClosed(): boolean {
    return this.closed;
  }

  // ---- delivery ----

  /** Buffered responses not yet taken. */
  pending(): number {
    return this.buf.length - this.head;
  }

  /** Takes the oldest buffered response, or undefined if none is buffered. */
  recv(): WatchResponse | undefined {
    if (this.head >= this.buf.length) return undefined;
    const r = this.buf[this.head]!;
    this.buf[this.head] = undefined as never;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  /** Takes every buffered response. */
  drain(): WatchResponse[] {
    const out: WatchResponse[] = [];
    for (let r = this.recv(); r !== undefined; r = this.recv()) out.push(r);
    return out;
  }

  /** Resolves with the next response; undefined once the stream is closed and drained. */
  next(): Promise<WatchResponse | undefined> {
    const r = this.recv();
    if (r !== undefined || this.closed) return Promise.resolve(r);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    for (;;) {
      const r = await this.next();
      if (r === undefined) return;
      yield r;
    }
  }

  // ---- WatchSink (called by the store) ----

  hasSpace(): boolean {
    return this.pending() < this.cap;
  }

  trySend(resp: WatchResponse): boolean {
    if (!this.hasSpace()) return false;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(resp);
    else this.buf.push(resp);
    return true;
  }

  compacted(w: Watcher): void {
    // etcd keeps the id until the client cancels it; the client was told the watch is cancelled,
    // so drop it here: it no longer holds up requestProgressAll and its id can be reused.
    if (this.watchers.get(w.id) === w) {
      this.watchers.delete(w.id);
      this.cancels.delete(w.id);
    }
  }
}
