/**
 * The Storage interface through which raft reads the stable log, and MemoryStorage, its in-memory
 * implementation (etcd's storage.go).
 */
import { entrySize } from "./codec.js";
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from "./errors.js";
import { panic } from "./logger.js";
import {
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  newConfState,
  newEntry,
  newHardState,
  newSnapshot,
} from "./raftpb.js";

/**
 * The stable (persisted) part of the log, as raft sees it. Methods throw ErrCompacted, ErrUnavailable or
 * ErrSnapshotTemporarilyUnavailable; any other error is fatal. The application owns the storage and
 * writes to it (after each Ready); raft only reads.
 */
export interface Storage {
  /** The saved HardState and ConfState, read once on start. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at most maxSize bytes in total but always at least one entry if any exists.
   * Throws ErrCompacted when lo is at or below the snapshot, ErrUnavailable when hi > lastIndex+1.
   */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** The term of entry i, for i in [firstIndex-1, lastIndex] (firstIndex-1 is the snapshot's term). */
  term(i: number): number;
  lastIndex(): number;
  /** The index of the first entry that may be read through entries() (older ones are in the snapshot). */
  firstIndex(): number;
  /** The most recent snapshot; may throw ErrSnapshotTemporarilyUnavailable while one is being made. */
  snapshot(): Snapshot;
}

/** No byte limit (etcd's noLimit). */
export const noLimit = Number.MAX_SAFE_INTEGER;

/** The longest prefix of ents whose encoded size stays within maxSize, and never less than one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0 || maxSize >= noLimit) return ents;
  let size = entrySize(ents[0]!);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit]!);
    if (size > maxSize) break;
  }
  return ents.slice(0, limit);
}

/**
 * Storage backed by arrays in memory. `ents[0]` is a dummy entry carrying the index and term of the
 * last compacted entry (or of the snapshot), so `ents[i - ents[0].index]` is entry i.
 */
export class MemoryStorage implements Storage {
  hardState: HardState = newHardState();
  snap: Snapshot = newSnapshot();
  ents: Entry[] = [newEntry()];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw ErrCompacted;
    if (hi > this.lastIndex() + 1) panic(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    // Only the dummy entry: nothing to read.
    if (this.ents.length === 1) throw ErrUnavailable;
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw ErrCompacted;
    if (i - offset >= this.ents.length) throw ErrUnavailable;
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole contents with a snapshot (a follower installing the leader's snapshot). */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw ErrSnapOutOfDate;
    this.snap = snap;
    this.ents = [newEntry({ term: snap.metadata.term, index: snap.metadata.index })];
  }

  /**
   * Records a snapshot of the application's state at applied index i (i ≤ lastIndex), to be served to
   * followers that fall behind. cs is the configuration at i. Throws ErrSnapOutOfDate if i is not newer.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    const offset = this.ents[0]!.index;
    if (i > this.lastIndex()) panic(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = newSnapshot({
      data,
      metadata: { index: i, term: this.ents[i - offset]!.term, confState: cs ?? this.snap.metadata.confState },
    });
    return this.snap;
  }

  /** Discards entries up to and including compactIndex; the application must not compact past applied. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw ErrCompacted;
    if (compactIndex > this.lastIndex()) panic(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const dummy = newEntry({ index: this.ents[i]!.index, term: this.ents[i]!.term });
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries that must be contiguous with each other; entries overlapping the stored log
   * replace it from their first index on (a new leader overwriting an uncommitted tail).
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    // Drop the part that is already compacted.
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.ents[0]!.index;
    if (offset < this.ents.length) {
      this.ents = [...this.ents.slice(0, offset), ...entries];
    } else if (offset === this.ents.length) {
      for (const e of entries) this.ents.push(e);
    } else {
      panic(`missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`);
    }
  }
}

/** A MemoryStorage whose snapshot holds the given configuration (a convenient start for tests and tools). */
export function newMemoryStorageWithConf(cs: Partial<ConfState>): MemoryStorage {
  const s = new MemoryStorage();
  s.snap = newSnapshot({ metadata: { confState: newConfState(cs) } });
  return s;
}
