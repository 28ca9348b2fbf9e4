/**
 * The watchable store (etcd server/storage/mvcc/watchable_store.go): the MVCC store plus watchers.
 *
 * It extends {@link KvStore} (etcd embeds `*store`): `write()` returns a txn whose `end()` notifies
 * watchers, and KvStore's own `put`/`deleteRange` go through `write()`, so every write notifies.
 *
 * Every watcher is in exactly one of three places:
 * - **synced**: it has been sent everything up to the current revision; each committed write txn
 *   sends it that txn's events at once, in one response ({@link notify}).
 * - **unsynced**: it still has history to catch up on (its start revision was in the past, a
 *   restore moved it, or it came back from being a victim with revisions missed meanwhile);
 *   {@link syncWatchers} reads that history from the backend and sends it in batches of at most
 *   `watchBatchMaxRevs` revisions, then moves it to synced.
 * - **victims**: a send found its stream's buffer full; the undelivered events are kept with it
 *   and {@link syncVictims} retries them, then moves it to unsynced (if revisions passed meanwhile)
 *   or synced. It receives nothing else until then, so nothing is lost, repeated or reordered.
 *
 * etcd runs syncWatchersLoop (every 100 ms) and syncVictimsLoop (every 10 ms while there are
 * victims) as goroutines. Here they are synchronous steps, {@link syncWatchers} and
 * {@link syncVictims}, that tests call directly; {@link start} schedules them with an injected
 * timer.
 */
import type { Backend } from "../storage/backend.js";
import { KeyBucket } from "../storage/backend.js";
import { MvccError } from "./errors.js";
import type { KeyLessor, TxnWrite } from "./kv.js";
import { KvStore, type StoreConfig } from "./kvstore.js";
import { decodeKeyValue, EventType, type Event, type KeyValue } from "./mvccpb.js";
import { bytesToRev, isTombstone, revToBytes } from "./revision.js";
import { WatchableStoreTxnWrite } from "./watchable-store-txn.js";
import {
  chanBufLen,
  InvalidWatchID,
  keyString,
  Watcher,
  WatchStream,
  type WatchID,
  type Watchable,
  type WatchOptions,
  type WatchResponse,
  type WatchSink,
} from "./watcher.js";
import {
  maxWatchersPerSync,
  newWatcherBatch,
  watchBatchMaxRevs,
  WatcherGroup,
  type WatcherBatch,
} from "./watcher-group.js";

/** etcd's watchResyncPeriod (ms): the pause between syncWatchers passes. */
export const watchResyncPeriod = 100;
/** The pause (ms) between victim retries while there are victims (etcd: 10 ms). */
export const victimRetryPeriod = 10;

/** Runs `fn` once after `ms` milliseconds; the returned function cancels it. */
export type SetTimer = (ms: number, fn: () => void) => () => void;

const defaultSetTimer: SetTimer = (ms, fn) => {
  const h = setTimeout(fn, ms);
  return () => clearTimeout(h);
};

export interface WatchableStoreConfig extends StoreConfig {
  /** Default buffer size of new watch streams (etcd's chanBufLen, 128). */
  chanBufLen?: number;
  /** Unsynced watchers caught up per {@link WatchableStore.syncWatchers} pass (etcd: 512). */
  maxWatchersPerSync?: number;
  /** Distinct revisions per catch-up response (etcd's watchBatchMaxRevs, 1000). */
  watchBatchMaxRevs?: number;
}

export class WatchableStore extends KvStore implements Watchable {
  /** Watchers catching up on history. Package-internal. */
  unsynced = new WatcherGroup();
  /** Watchers up to date with the store. Package-internal. */
  synced = new WatcherGroup();
  /** Batches of watchers whose last send failed, with the events still to send. Package-internal. */
  victims: WatcherBatch[] = [];

  private readonly bufLen: number;
  private readonly maxPerSync: number;
  private readonly maxRevs: number;
  private setTimer: SetTimer = defaultSetTimer;
  private running = false;
  private cancelSyncTimer: (() => void) | undefined;
  private cancelVictimTimer: (() => void) | undefined;

  constructor(b: Backend, le?: KeyLessor, cfg: WatchableStoreConfig = {}) {
    super(b, le, cfg);
    this.bufLen = cfg.chanBufLen ?? chanBufLen;
    this.maxPerSync = cfg.maxWatchersPerSync ?? maxWatchersPerSync;
    this.maxRevs = cfg.watchBatchMaxRevs ?? watchBatchMaxRevs;
  }

  /** etcd's NewWatchStream; `bufLen` overrides the store's default buffer size. */
  newWatchStream(bufLen: number = this.bufLen): WatchStream {
    return new WatchStream(this, bufLen);
  }

  override write(): TxnWrite {
    return new WatchableStoreTxnWrite(super.write(), this);
  }

  /**
   * etcd's watch: a watcher starting at 0 (here also < 0) or after the current revision is synced,
   * expecting revisions from max(current + 1, startRev); any other starts unsynced at `startRev`.
   */
  watch(
    key: string,
    end: string | undefined,
    startRev: number,
    id: WatchID,
    sink: WatchSink,
    opts: WatchOptions = {},
  ): { watcher: Watcher; cancel: () => void } {
    const prevKvOf = opts.prevKv ? (ev: Event) => this.prevKvOf(ev) : undefined;
    const start = startRev < 0 ? 0 : startRev;
    const w = new Watcher(key, end, start, id, sink, opts.filters ?? [], prevKvOf);
    if (start > this.currentRev || start === 0) {
      w.minRev = Math.max(this.currentRev + 1, start);
      this.synced.add(w);
    } else {
      this.unsynced.add(w);
    }
    return { watcher: w, cancel: () => this.cancelWatcher(w) };
  }

  /** The key's value just before `ev` (etcd's v3rpc prev_kv read), if it still exists. */
  private prevKvOf(ev: Event): KeyValue | undefined {
    const rev = ev.kv.modRevision - 1;
    if (rev < 1) return undefined;
    const r = this.range(ev.kv.key, undefined, { rev });
    if (r instanceof MvccError) return undefined;
    return r.kvs[0];
  }

  /** etcd's cancelWatcher: removes `w` from wherever it is; it gets no further responses. */
  private cancelWatcher(w: Watcher): void {
    if (w.cancelled) return;
    w.cancelled = true;
    if (this.unsynced.delete(w) || this.synced.delete(w) || w.compacted) return;
    for (const wb of this.victims) {
      if (wb.delete(w)) return;
    }
    // etcd panics: "watcher not victim but not in watch groups".
    if (!w.victim) throw new Error("mvcc: watcher not victim but not in watch groups");
  }

  /**
   * etcd's watchableStore.Restore: rebuilds the store from `b`, then moves every synced watcher to
   * unsynced (flagged `restore`, as its next revision may now be in the future), so the next
   * {@link syncWatchers} replays whatever the new state holds from each one's `minRev`.
   */
  override restore(b?: Backend): void {
    super.restore(b);
    for (const w of this.synced.watchers) {
      w.restore = true;
      this.unsynced.add(w);
    }
    this.synced = new WatcherGroup();
  }

  /**
   * etcd's notify: sends the events of the txn at `rev` to the synced watchers, one response each.
   * A watcher whose buffer is full becomes a victim holding these events.
   */
  notify(rev: number, evs: Event[]): void {
    const victim: WatcherBatch = new Map();
    for (const [w, eb] of newWatcherBatch(this.synced, evs, this.maxRevs)) {
      if (eb.revs !== 1) throw new Error(`mvcc: unexpected multiple revisions in watch notification (${eb.revs})`);
      if (!w.send({ watchID: w.id, events: eb.evs, revision: rev, compactRevision: 0 })) {
        w.victim = true;
        victim.set(w, eb);
        this.synced.delete(w);
      }
      // Always: a synced watcher needs it for a later restore, a victim for its later catch-up.
      w.minRev = rev + 1;
    }
    this.addVictim(victim);
  }

  private addVictim(victim: WatcherBatch): void {
    if (victim.size === 0) return;
    this.victims.push(victim);
    // etcd signals victimc so the victim loop runs soon.
    if (this.running && this.cancelVictimTimer === undefined) this.scheduleVictims(0);
  }

  /**
   * etcd's syncWatchers: catches up at most `maxWatchersPerSync` unsynced watchers. Reads the key
   * bucket from the lowest `minRev` among them to the current revision, sends each watcher its
   * events (at most `watchBatchMaxRevs` revisions; the rest next pass), and moves those that
   * reached the current revision to synced. Watchers whose `minRev` is below the compacted
   * revision get a compaction response and are dropped. Returns how many remain unsynced.
   */
  syncWatchers(): number {
    if (this.unsynced.size() === 0) return 0;
    const curRev = this.currentRev;
    const compactionRev = this.compactMainRev;
    const { group: wg, minRev, compacted } = this.unsynced.choose(this.maxPerSync, curRev, compactionRev);
    for (const w of compacted) {
      // etcd leaves such a watcher in `unsynced` when choose picked a subset; drop it everywhere.
      this.unsynced.delete(w);
      w.sink.compacted(w);
    }
    const evs = this.rangeEvents(minRev, curRev + 1, wg);
    const victims: WatcherBatch = new Map();
    const wb = newWatcherBatch(wg, evs, this.maxRevs);
    for (const w of [...wg.watchers]) {
      // Its compaction response did not fit; retried next pass.
      if (w.minRev < compactionRev) continue;
      w.minRev = Math.max(curRev + 1, w.minRev);
      const eb = wb.get(w);
      if (eb === undefined) {
        this.synced.add(w);
        this.unsynced.delete(w);
        continue;
      }
      if (eb.moreRev !== 0) w.minRev = eb.moreRev;
      if (!w.send({ watchID: w.id, events: eb.evs, revision: curRev, compactRevision: 0 })) w.victim = true;
      if (w.victim) victims.set(w, eb);
      else {
        if (eb.moreRev !== 0) continue; // more to read: stays unsynced
        this.synced.add(w);
      }
      this.unsynced.delete(w);
    }
    this.addVictim(victims);
    return this.unsynced.size();
  }

  /**
   * etcd's rangeEvents: the events in revisions `[minRev, maxRev)` on keys some watcher of `c`
   * watches, in revision order. A tombstone becomes a DELETE whose `modRevision` is its revision.
   */
  rangeEvents(minRev: number, maxRev: number, c: WatcherGroup): Event[] {
    if (minRev < 0) minRev = 0;
    if (minRev >= maxRev) return [];
    const tx = this.b.readTx();
    try {
      const { keys, values } = tx.unsafeRange(
        KeyBucket,
        revToBytes({ main: minRev, sub: 0 }),
        revToBytes({ main: maxRev, sub: 0 }),
      );
      const evs: Event[] = [];
      for (let i = 0; i < keys.length; i++) {
        const kv = decodeKeyValue(values[i]!);
        if (!c.contains(keyString(kv.key))) continue;
        if (isTombstone(keys[i]!)) {
          kv.modRevision = bytesToRev(keys[i]!).main;
          evs.push({ type: EventType.DELETE, kv });
        } else {
          evs.push({ type: EventType.PUT, kv });
        }
      }
      return evs;
    } finally {
      tx.end();
    }
  }

  /**
   * etcd's moveVictims: resends each victim's pending events (at revision `minRev - 1`); those
   * that go through move to unsynced, or to synced if nothing happened meanwhile. Returns how many
   * were delivered.
   */
  moveVictims(): number {
    const victims = this.victims;
    this.victims = [];
    let moved = 0;
    const newVictim: WatcherBatch = new Map();
    for (const wb of victims) {
      for (const [w, eb] of wb) {
        const rev = w.minRev - 1;
        if (!w.send({ watchID: w.id, events: eb.evs, revision: rev, compactRevision: 0 })) {
          newVictim.set(w, eb);
          continue;
        }
        moved++;
      }
      const curRev = this.currentRev;
      for (const [w, eb] of wb) {
        if (newVictim.has(w)) continue;
        w.victim = false;
        if (eb.moreRev !== 0) w.minRev = eb.moreRev;
        if (w.minRev <= curRev) this.unsynced.add(w);
        else this.synced.add(w);
      }
    }
    if (newVictim.size > 0) this.victims.push(newVictim);
    return moved;
  }

  /** etcd's syncVictimsLoop body: {@link moveVictims} until it delivers nothing. Returns the total. */
  syncVictims(): number {
    let total = 0;
    for (let n = this.moveVictims(); n !== 0; n = this.moveVictims()) total += n;
    return total;
  }

  /** Watchers waiting as victims. */
  victimCount(): number {
    let n = 0;
    for (const wb of this.victims) n += wb.size;
    return n;
  }

  progress(w: Watcher): void {
    this.progressIfSync(new Map([[w.id, w]]), w.id);
  }

  progressAll(watchers: ReadonlyMap<WatchID, Watcher>): boolean {
    return this.progressIfSync(watchers, InvalidWatchID);
  }

  /**
   * etcd's progressIfSync: if every watcher is synced and its start revision is not in the future,
   * sends one empty response at the current revision (on the first watcher's stream, with
   * `responseWatchID`) and returns true; otherwise sends nothing and returns false. A full buffer
   * drops the progress response, as etcd does.
   */
  private progressIfSync(watchers: ReadonlyMap<WatchID, Watcher>, responseWatchID: WatchID): boolean {
    const rev = this.currentRev;
    for (const w of watchers.values()) {
      if (!this.synced.has(w)) return false;
      if (rev < w.startRev) return false;
    }
    for (const w of watchers.values()) {
      const resp: WatchResponse = { watchID: responseWatchID, events: [], revision: rev, compactRevision: 0 };
      w.send(resp);
      break;
    }
    return true;
  }

  /**
   * Runs {@link syncWatchers} every {@link watchResyncPeriod} ms (at once again while a pass
   * made progress and more remain, like etcd's loop yielding its own duration) and
   * {@link syncVictims} whenever victims appear, then every {@link victimRetryPeriod} ms while any
   * remain. `setTimer` defaults to setTimeout.
   */
  start(setTimer: SetTimer = defaultSetTimer): void {
    if (this.running) return;
    this.running = true;
    this.setTimer = setTimer;
    this.scheduleSync(watchResyncPeriod);
    if (this.victims.length > 0) this.scheduleVictims(0);
  }

  /** Cancels the scheduled steps. */
  stop(): void {
    this.running = false;
    this.cancelSyncTimer?.();
    this.cancelVictimTimer?.();
    this.cancelSyncTimer = undefined;
    this.cancelVictimTimer = undefined;
  }

  private scheduleSync(ms: number): void {
    this.cancelSyncTimer = this.setTimer(ms, () => {
      this.cancelSyncTimer = undefined;
      if (!this.running) return;
      const last = this.unsynced.size();
      const left = last > 0 ? this.syncWatchers() : 0;
      this.scheduleSync(left !== 0 && last > left ? 0 : watchResyncPeriod);
    });
  }

  private scheduleVictims(ms: number): void {
    this.cancelVictimTimer = this.setTimer(ms, () => {
      this.cancelVictimTimer = undefined;
      if (!this.running) return;
      this.syncVictims();
      if (this.victims.length > 0) this.scheduleVictims(victimRetryPeriod);
    });
  }

  override close(): void {
    this.stop();
    super.close();
  }
}

/** etcd's mvcc.New: a watchable store over `b`. Call {@link WatchableStore.start} to run the sync loops. */
export function newWatchableStore(b: Backend, le?: KeyLessor, cfg?: WatchableStoreConfig): WatchableStore {
  return new WatchableStore(b, le, cfg);
}
