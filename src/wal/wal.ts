/**
 * The write-ahead log (etcd server/storage/wal/wal.go): raft's HardState and entries, appended as
 * CRC-chained records (encoder.ts) to numbered segment files (util.ts), fdatasync'd when raft's
 * `mustSync` says the Ready needs it.
 *
 * Life cycle, as etcd's:
 * - `WAL.create(fs, dir, metadata)` builds `<dir>.tmp/0000000000000000-0000000000000000.wal` holding a
 *   crc record (0), the metadata record and an empty snapshot record {index 0, term 0}, syncs it,
 *   renames the directory to `dir` and syncs the parent. The WAL is ready to append.
 * - `WAL.open(fs, dir, snap)` selects the segments from the last one whose first index ≤ snap.index;
 *   `readAll()` must then be called once: it returns the metadata, the last HardState and the entries
 *   after `snap`, cuts a torn or zero-filled tail off the last segment, and makes the WAL appendable.
 *   A torn tail makes `readAll` throw (cause ErrUnexpectedEOF): run `repair` and open again —
 *   `openAndReadAll` does that loop, as etcdserver's readWAL.
 * - `save(hardState, entries)` appends, then resolves once the records are durable — at once when
 *   raft's mustSync is false. `saveSnapshot(walSnap)` appends a snapshot marker and syncs.
 * - When the current segment reaches `segmentSizeBytes` after a save, a new one named
 *   `%016x-%016x.wal` (seq+1, last entry index+1) is cut: the old one is synced and closed; the new
 *   one is written as `0.tmp` with a crc record (the chain value), the metadata and the HardState,
 *   synced, renamed into place, and the directory synced.
 * - `releaseLockTo(index)` lets go of segments wholly before `index` (keeping the one containing it);
 *   `purge(maxWals)` then removes the oldest released segments beyond `maxWals`.
 *
 * Group commit: encoding happens synchronously inside each call, in call order, so records keep
 * the order of the calls; the file I/O runs in one background loop that writes everything queued
 * with one write and syncs once for every caller waiting, however many calls arrived while the
 * previous fdatasync was in flight. An I/O failure fails every waiter and every later call (etcd
 * panics there).
 *
 * Differences from etcd, all below the format: no preallocation (segments grow; a torn tail is
 * cut by truncation, not zeroed), no flock (`releaseLockTo` and `purge` share the lock list).
 */
import {
  type Entry,
  type HardState,
  decodeEntry,
  decodeHardState,
  encodeEntry,
  encodeHardState,
  isEmptyHardState,
  mustSync,
  newHardState,
} from "../raft/index.js";
import { Decoder, type Segment } from "./decoder.js";
import { Encoder } from "./encoder.js";
import {
  ErrCRCMismatch,
  ErrDecoderNotFound,
  ErrExist,
  ErrFileNotFound,
  ErrMetadataConflict,
  ErrSliceOutOfRange,
  ErrSnapshotMismatch,
  ErrUnexpectedEOF,
  errorIs,
} from "./errors.js";
import { type AppendFile, type WalFS, dirOf, joinPath } from "./files.js";
import { type WalLogger, nopLogger } from "./logger.js";
import { purgeFile } from "./purge.js";
import {
  CrcType,
  EntryType,
  MetadataType,
  SnapshotType,
  StateType,
  type WalSnapshot,
  decodeWalSnapshot,
  encodeWalSnapshot,
  validateSnapshotForWrite,
} from "./record.js";
import { repair } from "./repair.js";
import { exist, isValidSeq, parseWALName, readWALNames, searchIndex, walName } from "./util.js";

/** etcd's SegmentSizeBytes: a segment is cut once it reaches this many bytes (64 MB). */
export const SegmentSizeBytes = 64 * 1000 * 1000;

export interface WalOptions {
  /** Cut a new segment once the current one reaches this size. Default SegmentSizeBytes. */
  segmentSizeBytes?: number;
  logger?: WalLogger;
  /** etcd's --unsafe-no-fsync: never fdatasync (writes still happen, in order). */
  unsafeNoFsync?: boolean;
}

export interface ReadAllResult {
  /** The metadata record (etcd: marshalled etcdserverpb.Metadata {NodeID, ClusterID}). */
  metadata: Uint8Array;
  /** The last HardState record (empty if none). */
  state: HardState;
  /**
   * Entries after the snapshot the WAL was opened at, later records overriding earlier ones with
   * the same index (raft's log conflict). Entries above `state.commit` may be uncommitted.
   */
  entries: Entry[];
  /**
   * Whether the snapshot record the WAL was opened at was read. etcd's ReadAll reports
   * ErrSnapshotNotFound for a read-only WAL (and, by an overwritten err, nothing in write mode).
   */
  snapshotFound: boolean;
}

type Op = { kind: "data"; bytes: Uint8Array } | { kind: "cut"; name: string };

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class WAL {
  private readonly lg: WalLogger;
  private readonly segmentSize: number;
  private readonly noSync: boolean;

  private metadata: Uint8Array = new Uint8Array(0);
  /** The last HardState written or read (etcd's w.state): compared by mustSync, copied at a cut. */
  private state: HardState = newHardState();
  /** Index of the last entry saved (or snapshot, if later). */
  private enti = 0;

  // Read phase (open → readAll).
  private start: WalSnapshot = { index: 0, term: 0 };
  private decoder: Decoder | undefined;
  private segments: Segment[] = [];

  // Append phase.
  private encoder = new Encoder(0);
  private tail: AppendFile | undefined;
  /** Set once the WAL may append (after create, or readAll of a writable WAL). */
  private appendable = false;
  private seq = 0;
  /** Bytes in the current segment, queued ones included. */
  private segBytes = 0;
  /** Names of the segments held (etcd's locks), oldest first; the last is the tail. */
  private locks: string[] = [];

  // I/O queue: byte counters over the whole life of the WAL.
  private ops: Op[] = [];
  private enqueued = 0;
  private written = 0;
  private synced = 0;
  private waiters: Waiter[] = [];
  private running = false;
  private failed: unknown;
  private closed = false;

  private constructor(
    private readonly fs: WalFS,
    readonly dir: string,
    private readonly writable: boolean,
    opts: WalOptions,
  ) {
    this.lg = opts.logger ?? nopLogger;
    this.segmentSize = opts.segmentSizeBytes ?? SegmentSizeBytes;
    this.noSync = opts.unsafeNoFsync ?? false;
  }

  /** Creates a WAL in `dir`, which must not hold one (ErrExist), ready for appending. */
  static async create(fs: WalFS, dir: string, metadata: Uint8Array, opts: WalOptions = {}): Promise<WAL> {
    if (await exist(fs, dir)) throw ErrExist;
    const lg = opts.logger ?? nopLogger;
    // Build in <dir>.tmp and rename, so a WAL directory always holds a complete first segment.
    const tmpdir = `${dir.replace(/\/+$/, "")}.tmp`;
    await fs.removeAll(tmpdir);
    await fs.mkdirp(tmpdir);
    const name = walName(0, 0);
    const enc = new Encoder(0);
    const head = concat([
      enc.encode(CrcType, new Uint8Array(0)),
      enc.encode(MetadataType, metadata),
      enc.encode(SnapshotType, encodeWalSnapshot({ index: 0, term: 0 })),
    ]);
    try {
      const f = await fs.openAppend(joinPath(tmpdir, name), { truncate: true });
      await f.write(head);
      if (!opts.unsafeNoFsync) await f.datasync();
      await f.close();
      await fs.removeAll(dir);
      await fs.rename(tmpdir, dir);
      await fs.syncDir(dirOf(dir));
    } catch (e) {
      lg.warn("failed to create a WAL", { "dir-path": dir, error: (e as Error).message });
      await fs.removeAll(tmpdir).catch(() => {});
      throw e;
    }
    const w = new WAL(fs, dir, true, opts);
    w.metadata = metadata;
    w.encoder = enc;
    w.tail = await fs.openAppend(joinPath(dir, name));
    w.appendable = true;
    w.locks = [name];
    w.segBytes = head.length;
    return w;
  }

  /**
   * Opens the WAL in `dir` for reading from `snap` and then appending: call `readAll()` next.
   * `snap` must be a snapshot record saved in the WAL ({0, 0} for none).
   */
  static open(fs: WalFS, dir: string, snap: WalSnapshot, opts: WalOptions = {}): Promise<WAL> {
    return WAL.openAtIndex(fs, dir, snap, true, opts);
  }

  /** Opens the WAL for reading only: `readAll` tolerates a torn tail and nothing can be appended. */
  static openForRead(fs: WalFS, dir: string, snap: WalSnapshot, opts: WalOptions = {}): Promise<WAL> {
    return WAL.openAtIndex(fs, dir, snap, false, opts);
  }

  private static async openAtIndex(
    fs: WalFS,
    dir: string,
    snap: WalSnapshot,
    writable: boolean,
    opts: WalOptions,
  ): Promise<WAL> {
    const w = new WAL(fs, dir, writable, opts);
    const names = await readWALNames(fs, dir, w.lg);
    const nameIndex = searchIndex(names, snap.index);
    if (nameIndex < 0) {
      throw new Error(`wal: file not found which matches the snapshot index '${snap.index}'`, { cause: ErrFileNotFound });
    }
    const selected = names.slice(nameIndex);
    if (!isValidSeq(selected)) {
      throw new Error(`wal: file sequence numbers (starting from ${nameIndex}) do not increase continuously`);
    }
    w.segments = [];
    for (const name of selected) w.segments.push({ name, data: await fs.readFile(joinPath(dir, name)) });
    w.start = { ...snap };
    w.decoder = new Decoder(w.segments);
    if (writable) {
      w.locks = selected;
      w.seq = parseWALName(selected[selected.length - 1]!)!.seq;
    }
    return w;
  }

  /**
   * Reads every record after the open snapshot (etcd's ReadAll). Throws WalDecodeError on a torn
   * tail (cause ErrUnexpectedEOF; read-only WALs stop there instead) or corruption (cause
   * ErrCRCMismatch / ErrCorruptRecord), ErrMetadataConflict, ErrSnapshotMismatch, ErrCRCMismatch
   * for a crc record that breaks the chain, or an ErrSliceOutOfRange-caused error for a gap.
   * Afterwards a writable WAL appends after the last valid record.
   */
  async readAll(): Promise<ReadAllResult> {
    const d = this.decoder;
    if (d === undefined) throw ErrDecoderNotFound;
    this.decoder = undefined;
    let metadata: Uint8Array | undefined;
    let state = newHardState();
    const entries: Entry[] = [];
    let snapshotFound = false;
    const start = this.start;
    try {
      for (let rec = d.decode(); rec !== undefined; rec = d.decode()) {
        switch (rec.type) {
          case EntryType: {
            const e = decodeEntry(rec.data);
            if (e.index > start.index) {
              const offset = e.index - start.index - 1;
              if (offset > entries.length) {
                throw new Error(
                  `${ErrSliceOutOfRange.message}, snapshot[Index: ${start.index}, Term: ${start.term}], ` +
                    `current entry[Index: ${e.index}, Term: ${e.term}], len(ents): ${entries.length}`,
                  { cause: ErrSliceOutOfRange },
                );
              }
              entries.length = offset;
              entries.push(e);
            }
            this.enti = e.index;
            break;
          }
          case StateType:
            state = decodeHardState(rec.data);
            break;
          case MetadataType:
            if (metadata !== undefined && !bytesEqual(metadata, rec.data)) throw ErrMetadataConflict;
            metadata = rec.data;
            break;
          case CrcType: {
            const crc = d.lastCRC();
            // A fresh decoder (crc 0) has nothing to match yet.
            if (crc !== 0 && rec.crc !== crc) throw ErrCRCMismatch;
            d.updateCRC(rec.crc);
            break;
          }
          case SnapshotType: {
            const s = decodeWalSnapshot(rec.data);
            if (s.index === start.index) {
              if (s.term !== start.term) throw ErrSnapshotMismatch;
              snapshotFound = true;
            }
            break;
          }
          default:
            throw new Error(`unexpected block type ${rec.type}`);
        }
      }
    } catch (e) {
      // A read-only WAL need not read to the end: a torn tail just ends it.
      if (this.writable || !errorIs(e, ErrUnexpectedEOF)) throw e;
    }
    this.metadata = metadata ?? new Uint8Array(0);
    this.start = { index: 0, term: 0 };
    if (this.writable) {
      const last = this.segments[this.segments.length - 1]!;
      const path = joinPath(this.dir, last.name);
      const off = d.lastOffset();
      if (last.data.length > off) {
        // A zero-filled tail (or bytes after a zero length word) would break the chain of new writes.
        this.lg.info("truncating WAL tail", { path, offset: off, bytes: last.data.length - off });
        await this.fs.truncate(path, off);
      }
      this.tail = await this.fs.openAppend(path);
      this.appendable = true;
      this.segBytes = off;
      this.encoder = new Encoder(d.lastCRC());
      this.state = { ...state };
    }
    this.segments = [];
    return { metadata: this.metadata, state, entries, snapshotFound };
  }

  /**
   * Appends `entries` then `st` (skipped when empty) and resolves when they are durable: after an
   * fdatasync when raft's mustSync(st, previous state, entries.length) holds or a segment was cut,
   * at once otherwise (those records are written with the next sync or on close). Concurrent calls
   * share syncs. Call with one Ready's HardState and entries, in Ready order.
   */
  async save(st: HardState, entries: readonly Entry[]): Promise<void> {
    this.checkWritable();
    if (isEmptyHardState(st) && entries.length === 0) return;
    const must = mustSync(st, this.state, entries.length);
    for (const e of entries) {
      this.encode(EntryType, encodeEntry(e));
      this.enti = e.index;
    }
    this.saveState(st);
    if (this.segBytes < this.segmentSize) {
      if (must) await this.syncQueued();
      return;
    }
    this.cut();
    await this.syncQueued();
  }

  /** Appends a snapshot marker (etcd's SaveSnapshot) and resolves once it is durable. */
  async saveSnapshot(s: WalSnapshot): Promise<void> {
    validateSnapshotForWrite(s);
    this.checkWritable();
    this.encode(SnapshotType, encodeWalSnapshot(s));
    if (this.enti < s.index) this.enti = s.index;
    await this.syncQueued();
  }

  /** Makes everything saved so far durable (etcd's Sync). */
  async sync(): Promise<void> {
    this.checkWritable();
    await this.syncQueued();
  }

  /**
   * Releases the segments wholly before `index`, keeping the last one that starts at or below it
   * (etcd's ReleaseLockTo): holding 1..6, releaseLockTo(4) keeps 3.. ; a later `purge` may remove
   * released segments. Call after a snapshot at `index` is durable.
   */
  releaseLockTo(index: number): void {
    if (this.locks.length === 0) return;
    let smaller = this.locks.length - 1;
    for (let i = 0; i < this.locks.length; i++) {
      if (parseWALName(this.locks[i]!)!.index >= index) {
        smaller = i - 1;
        break;
      }
    }
    if (smaller <= 0) return;
    this.locks = this.locks.slice(smaller);
  }

  /**
   * One purge pass over the WAL directory (etcdserver's purgeFile for "wal"): removes the oldest
   * segments beyond `maxWals`, stopping at the first one still held. Returns the names removed.
   */
  purge(maxWals: number): Promise<string[]> {
    return purgeFile(this.fs, this.dir, "wal", maxWals, this.lg, (n) => this.locks.includes(n));
  }

  /** Names of the segments still held, oldest first. */
  heldSegments(): readonly string[] {
    return this.locks;
  }

  /** Flushes, syncs and closes the current segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.appendable) return;
    try {
      if (this.failed === undefined) await this.syncQueued();
    } finally {
      await this.tail?.close();
      this.tail = undefined;
    }
  }

  // --- encoding (synchronous, in call order) ---

  private checkWritable(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.closed) throw new Error("wal: closed");
    if (!this.appendable) {
      throw new Error(this.writable ? "wal: readAll must be called before appending" : "wal: opened for read only");
    }
  }

  private encode(type: number, data: Uint8Array): void {
    const bytes = this.encoder.encode(type, data);
    this.ops.push({ kind: "data", bytes });
    this.enqueued += bytes.length;
    this.segBytes += bytes.length;
  }

  private saveState(st: HardState): void {
    if (isEmptyHardState(st)) return;
    this.state = { ...st };
    this.encode(StateType, encodeHardState(st));
  }

  /** Queues a segment cut and the new segment's header (etcd's cut, minus the I/O). */
  private cut(): void {
    const name = walName(this.seq + 1, this.enti + 1);
    this.seq++;
    this.ops.push({ kind: "cut", name });
    this.locks.push(name);
    this.segBytes = 0;
    this.encode(CrcType, new Uint8Array(0));
    this.encode(MetadataType, this.metadata);
    if (!isEmptyHardState(this.state)) this.encode(StateType, encodeHardState(this.state));
  }

  // --- the I/O loop ---

  /** Resolves when every byte queued before the call is written and synced. */
  private syncQueued(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    const target = this.enqueued;
    if (target <= this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      if (!this.running) {
        this.running = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.ops.length > 0) {
          const ops = this.ops;
          this.ops = [];
          let i = 0;
          while (i < ops.length) {
            const op = ops[i]!;
            const chunks: Uint8Array[] = [];
            let j = i + 1;
            if (op.kind === "data") chunks.push(op.bytes);
            for (; j < ops.length; j++) {
              const o = ops[j]!;
              if (o.kind !== "data") break;
              chunks.push(o.bytes);
            }
            const bytes = concat(chunks);
            if (op.kind === "cut") await this.cutFile(op.name, bytes);
            else {
              await this.tail!.write(bytes);
              this.written += bytes.length;
            }
            i = j;
          }
          continue;
        }
        if (this.waiters.some((w) => w.target > this.synced)) {
          const upTo = this.written;
          await this.fdatasync(this.tail!);
          this.synced = upTo;
          this.settle();
          continue;
        }
        this.settle();
        // No await between the checks above and here: a call arriving now sees running === false.
        this.running = false;
        return;
      }
    } catch (e) {
      this.failed = e;
      this.lg.error("WAL write failed", { "dir-path": this.dir, error: (e as Error).message });
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w.reject(e);
      this.running = false;
    }
  }

  private settle(): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.target <= this.synced) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Syncs and closes the tail, then writes `header` as the new segment `name` (via 0.tmp). */
  private async cutFile(name: string, header: Uint8Array): Promise<void> {
    const old = this.tail!;
    await this.fdatasync(old);
    await old.close();
    this.tail = undefined;
    const tmp = joinPath(this.dir, "0.tmp");
    const f = await this.fs.openAppend(tmp, { truncate: true });
    await f.write(header);
    await this.fdatasync(f);
    await f.close();
    const path = joinPath(this.dir, name);
    await this.fs.rename(tmp, path);
    await this.fs.syncDir(this.dir);
    this.tail = await this.fs.openAppend(path);
    this.written += header.length;
    this.synced = this.written;
    this.lg.info("created a new WAL segment", { path });
  }

  private async fdatasync(f: AppendFile): Promise<void> {
    if (this.noSync) return;
    await f.datasync();
  }
}

/**
 * etcdserver's readWAL loop: open at `snap` and read everything; on a torn tail repair once and
 * retry. Anything else (corruption, a second torn tail) is thrown — etcd exits there.
 */
export async function openAndReadAll(
  fs: WalFS,
  dir: string,
  snap: WalSnapshot,
  opts: WalOptions = {},
): Promise<ReadAllResult & { wal: WAL }> {
  const lg = opts.logger ?? nopLogger;
  let repaired = false;
  for (;;) {
    const wal = await WAL.open(fs, dir, snap, opts);
    try {
      const r = await wal.readAll();
      return { ...r, wal };
    } catch (e) {
      await wal.close();
      if (repaired || !errorIs(e, ErrUnexpectedEOF)) throw e;
      if (!(await repair(fs, dir, lg))) throw e;
      lg.info("repaired WAL", { error: (e as Error).message });
      repaired = true;
    }
  }
}

/**
 * The snapshot records in the WAL whose index is ≤ the last HardState's commit (etcd's
 * ValidSnapshotEntries): the snapshots a restart may start from. Tolerates a torn tail.
 */
export async function validSnapshotEntries(fs: WalFS, dir: string, opts: WalOptions = {}): Promise<WalSnapshot[]> {
  const lg = opts.logger ?? nopLogger;
  const names = await readWALNames(fs, dir, lg);
  const segments: Segment[] = [];
  for (const name of names) segments.push({ name, data: await fs.readFile(joinPath(dir, name)) });
  const d = new Decoder(segments);
  const snaps: WalSnapshot[] = [];
  let state = newHardState();
  try {
    for (let rec = d.decode(); rec !== undefined; rec = d.decode()) {
      if (rec.type === SnapshotType) snaps.push(decodeWalSnapshot(rec.data));
      else if (rec.type === StateType) state = decodeHardState(rec.data);
      else if (rec.type === CrcType) {
        const crc = d.lastCRC();
        if (crc !== 0 && rec.crc !== crc) throw ErrCRCMismatch;
        d.updateCRC(rec.crc);
      }
    }
  } catch (e) {
    if (!errorIs(e, ErrUnexpectedEOF)) throw e;
  }
  return snaps.filter((s) => s.index <= state.commit);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
