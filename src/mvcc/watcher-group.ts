/**
 * Watchers grouped by what they watch, and events batched per watcher (etcd
 * server/storage/mvcc/watcher_group.go).
 *
 * A {@link WatcherGroup} holds single-key watchers in a map by key and range watchers in an
 * {@link IntervalSet}; {@link WatcherGroup.watcherSetByKey} answers "who watches this key".
 */
import { keyString } from "../storage/backend.js";
import type { Event } from "./mvccpb.js";
import type { Watcher } from "./watcher.js";

/** etcd's maxWatchersPerSync: unsynced watchers caught up per syncWatchers pass. */
export const maxWatchersPerSync = 512;
/** etcd's watchBatchMaxRevs: distinct revisions sent to an unsynced watcher in one response. */
export const watchBatchMaxRevs = 1000;

/**
 * etcd's eventBatch: revision-ordered events for one watcher, holding at most `maxRevs` distinct
 * revisions. The first revision that did not fit is `moreRev` (0: everything fit); a revision's
 * events are never split.
 */
export class EventBatch {
  evs: Event[] = [];
  /** Distinct revisions in `evs`. */
  revs = 0;
  moreRev = 0;

  constructor(private readonly maxRevs: number = watchBatchMaxRevs) {}

  add(ev: Event): void {
    if (this.revs > this.maxRevs) return;
    if (this.evs.length === 0) {
      this.revs = 1;
      this.evs.push(ev);
      return;
    }
    const ebRev = this.evs[this.evs.length - 1]!.kv.modRevision;
    const evRev = ev.kv.modRevision;
    if (evRev > ebRev) {
      this.revs++;
      if (this.revs > this.maxRevs) {
        this.moreRev = evRev;
        return;
      }
    }
    this.evs.push(ev);
  }
}

/** etcd's watcherBatch: each watcher's events. Insertion-ordered. */
export type WatcherBatch = Map<Watcher, EventBatch>;

/**
 * etcd's newWatcherBatch: gives each watcher of `wg` the events (in the order given) on keys it
 * watches at revisions ≥ its `minRev`. Each watcher gets its own Event objects (sharing the
 * KeyValues), so per-watcher fields such as `prevKv` can be set.
 */
export function newWatcherBatch(wg: WatcherGroup, evs: readonly Event[], maxRevs?: number): WatcherBatch {
  const wb: WatcherBatch = new Map();
  if (wg.size() === 0) return wb;
  for (const ev of evs) {
    const set = wg.watcherSetByKey(keyOf(ev));
    if (set === undefined) continue;
    for (const w of set) {
      if (ev.kv.modRevision < w.minRev) continue; // already delivered
      let eb = wb.get(w);
      if (eb === undefined) {
        eb = new EventBatch(maxRevs);
        wb.set(w, eb);
      }
      const copy: Event = { type: ev.type, kv: ev.kv };
      if (ev.prevKv !== undefined) copy.prevKv = ev.prevKv;
      eb.add(copy);
    }
  }
  return wb;
}

/** An event's key as a binary string. */
export function keyOf(ev: Event): string {
  return keyString(ev.kv.key);
}

/** Orders exclusive ends, "" (unbounded) last. */
function compareEnd(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "") return 1;
  if (b === "") return -1;
  return a < b ? -1 : 1;
}

interface IntervalEntry {
  begin: string;
  /** Exclusive; "" is unbounded. */
  end: string;
  watchers: Set<Watcher>;
  /** The largest `end` among this entry and every entry before it. */
  maxEnd: string;
}

/**
 * The set of distinct watched ranges `[begin, end)` (binary strings, end "" unbounded), each with
 * its watchers; etcd uses an interval tree (pkg/adt). Here: an array sorted by (begin, end) where
 * each entry also records the largest end up to it.
 *
 * Costs, R distinct ranges: find O(log R); insert/delete O(R) (array splice and prefix-max
 * update); stab(p) O(log R + s), where s counts entries at or before the last begin ≤ p back to the
 * first whose prefix-max end is ≤ p — for disjoint ranges (prefix watches on different prefixes)
 * that is just the ranges holding p, at worst R.
 *
 * Example: ranges [a,c) [b,e) [d,f): maxEnd c, e, f. stab("d") starts at [d,f) (last begin ≤ d),
 * takes it, then [b,e) (d < e), then [a,c) (maxEnd c ≤ d: stop) → {[d,f), [b,e)}.
 */
export class IntervalSet {
  private entries: IntervalEntry[] = [];

  size(): number {
    return this.entries.length;
  }

  /** First index whose (begin, end) ≥ the given one. */
  private lowerBound(begin: string, end: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.entries[mid]!;
      const c = e.begin < begin ? -1 : e.begin > begin ? 1 : compareEnd(e.end, end);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose begin > p. */
  private upperBoundBegin(p: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.begin <= p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The watchers of exactly `[begin, end)`, if registered. */
  find(begin: string, end: string): Set<Watcher> | undefined {
    const i = this.lowerBound(begin, end);
    const e = this.entries[i];
    return e !== undefined && e.begin === begin && e.end === end ? e.watchers : undefined;
  }

  /** Registers `[begin, end)` with `watchers`; the range must not be registered yet. */
  insert(begin: string, end: string, watchers: Set<Watcher>): void {
    const i = this.lowerBound(begin, end);
    const e = this.entries[i];
    if (e !== undefined && e.begin === begin && e.end === end) throw new Error("mvcc: interval inserted twice");
    this.entries.splice(i, 0, { begin, end, watchers, maxEnd: end });
    this.fixMaxEnd(i);
  }

  /** Unregisters `[begin, end)`; false if it was not registered. */
  delete(begin: string, end: string): boolean {
    const i = this.lowerBound(begin, end);
    const e = this.entries[i];
    if (e === undefined || e.begin !== begin || e.end !== end) return false;
    this.entries.splice(i, 1);
    this.fixMaxEnd(i);
    return true;
  }

  private fixMaxEnd(from: number): void {
    for (let i = from; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const prev = i > 0 ? this.entries[i - 1]!.maxEnd : undefined;
      e.maxEnd = prev !== undefined && compareEnd(prev, e.end) > 0 ? prev : e.end;
    }
  }

  /** The watcher sets of every range holding `p`. */
  stab(p: string): Set<Watcher>[] {
    const out: Set<Watcher>[] = [];
    for (let i = this.upperBoundBegin(p) - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.maxEnd !== "" && e.maxEnd <= p) break;
      if (e.end === "" || p < e.end) out.push(e.watchers);
    }
    return out;
  }

  /** Whether some range holds `p`. */
  intersects(p: string): boolean {
    for (let i = this.upperBoundBegin(p) - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.maxEnd !== "" && e.maxEnd <= p) return false;
      if (e.end === "" || p < e.end) return true;
    }
    return false;
  }

  /** Every registered range, in order (for tests and debugging). */
  describe(): string[] {
    return this.entries.map((e) => `[${JSON.stringify(e.begin)}, ${e.end === "" ? "∞" : JSON.stringify(e.end)})`);
  }
}

/** etcd's watcherGroup: watchers organised by the key or range they watch. */
export class WatcherGroup {
  /** Single-key watchers by key (binary string). */
  readonly keyWatchers = new Map<string, Set<Watcher>>();
  /** Range watchers by range. */
  readonly ranges = new IntervalSet();
  /** Every watcher of the group. */
  readonly watchers = new Set<Watcher>();

  /** Adds `w`; throws if it is already in the group (etcd panics). */
  add(w: Watcher): void {
    if (this.watchers.has(w)) throw new Error("mvcc: add watcher twice");
    this.watchers.add(w);
    if (w.end === undefined) {
      let set = this.keyWatchers.get(w.key);
      if (set === undefined) {
        set = new Set();
        this.keyWatchers.set(w.key, set);
      }
      set.add(w);
      return;
    }
    const set = this.ranges.find(w.key, w.end);
    if (set !== undefined) {
      set.add(w);
      return;
    }
    this.ranges.insert(w.key, w.end, new Set([w]));
  }

  /** Whether some watcher of the group watches `key` (binary string). */
  contains(key: string): boolean {
    return this.keyWatchers.has(key) || this.ranges.intersects(key);
  }

  size(): number {
    return this.watchers.size;
  }

  has(w: Watcher): boolean {
    return this.watchers.has(w);
  }

  /** Removes `w`; false if it was not in the group. */
  delete(w: Watcher): boolean {
    if (!this.watchers.delete(w)) return false;
    if (w.end === undefined) {
      const set = this.keyWatchers.get(w.key);
      if (set !== undefined && set.delete(w) && set.size === 0) this.keyWatchers.delete(w.key);
      return true;
    }
    const set = this.ranges.find(w.key, w.end);
    if (set === undefined) return false;
    set.delete(w);
    if (set.size === 0 && !this.ranges.delete(w.key, w.end)) {
      throw new Error("mvcc: could not remove watcher from interval set");
    }
    return true;
  }

  /**
   * etcd's choose: at most `maxWatchers` watchers to catch up (the whole group if smaller, else a
   * new group of the first `maxWatchers` in insertion order), after {@link chooseAll}.
   */
  choose(
    maxWatchers: number,
    curRev: number,
    compactRev: number,
  ): { group: WatcherGroup; minRev: number; compacted: Watcher[] } {
    if (this.watchers.size < maxWatchers) {
      return { group: this, ...this.chooseAll(curRev, compactRev) };
    }
    const ret = new WatcherGroup();
    for (const w of this.watchers) {
      if (maxWatchers <= 0) break;
      maxWatchers--;
      ret.add(w);
    }
    return { group: ret, ...ret.chooseAll(curRev, compactRev) };
  }

  /**
   * etcd's chooseAll: the lowest `minRev` of the group's watchers (MAX_SAFE_INTEGER if none is
   * left). A watcher whose `minRev` is below `compactRev` has lost events to compaction: it is sent
   * a compaction response and, once that is buffered, marked compacted and removed from this group
   * (and returned, so the caller removes it from wherever else it is). If its buffer is full it stays
   * and is retried on the next pass. A watcher with `minRev` > `curRev` is only possible after a
   * restore (its `restore` flag is then cleared); otherwise it is a broken invariant.
   */
  chooseAll(curRev: number, compactRev: number): { minRev: number; compacted: Watcher[] } {
    let minRev = Number.MAX_SAFE_INTEGER;
    const compacted: Watcher[] = [];
    for (const w of [...this.watchers]) {
      if (w.minRev > curRev) {
        if (!w.restore) {
          throw new Error(`mvcc: watcher minimum revision ${w.minRev} should not exceed current revision ${curRev}`);
        }
        w.restore = false;
      }
      if (w.minRev < compactRev) {
        if (w.sendCompacted(compactRev)) {
          w.compacted = true;
          this.delete(w);
          compacted.push(w);
        }
        continue;
      }
      if (minRev > w.minRev) minRev = w.minRev;
    }
    return { minRev, compacted };
  }

  /**
   * etcd's watcherSetByKey: the watchers that receive events on `key` (binary string). May return
   * a set owned by the group: callers must not mutate it.
   */
  watcherSetByKey(key: string): ReadonlySet<Watcher> | undefined {
    const wkeys = this.keyWatchers.get(key);
    const wranges = this.ranges.stab(key);
    if (wranges.length === 0) return wkeys;
    if (wranges.length === 1 && wkeys === undefined) return wranges[0];
    const ret = new Set<Watcher>(wkeys);
    for (const s of wranges) for (const w of s) ret.add(w);
    return ret;
  }
}
