/**
 * etcd's snap package (server/etcdserver/api/snap): raft snapshots as files in the snap directory.
 *
 * - `<term %016x>-<index %016x>.snap`: a snappb.snapshot {crc, data} whose data is the marshalled
 *   raftpb.Snapshot and crc its CRC-32C. Written whole and fsynced (etcd's WriteAndSyncFile); edgecd
 *   also syncs the directory so the name survives a crash.
 * - A file that fails to read (empty, CRC mismatch, undecodable) is renamed `<name>.broken` when a
 *   load meets it, and the next older one is tried.
 * - `<index %016x>.snap.db`: a backend snapshot received from the leader (`dbFilePath`); written by
 *   whoever receives it, released by `releaseSnapDBs` once a newer snapshot is in place.
 *
 * Ordering the server must keep (etcd's storage.SaveSnap): save the `.snap` file BEFORE the WAL's
 * snapshot record, so a WAL snapshot record always has its file; restart with
 * `loadNewestAvailable(validSnapshotEntries(wal dir))`.
 */
import { type Snapshot, decodeSnapshot, encodeSnapshot, isEmptySnap } from "../raft/index.js";
import { crc32c } from "../storage/crc32c.js";
import { type WalFS, joinPath } from "../wal/files.js";
import { type WalLogger, nopLogger } from "../wal/logger.js";
import { purgeFile } from "../wal/purge.js";
import type { WalSnapshot } from "../wal/record.js";
import { hex16 } from "../wal/util.js";
import { decodeSnapFile, encodeSnapFile } from "./snappb.js";

export const snapSuffix = ".snap";

export const ErrNoSnapshot = new Error("snap: no available snapshot");
export const ErrEmptySnapshot = new Error("snap: empty snapshot");
export const ErrCRCMismatch = new Error("snap: crc mismatch");
export const ErrNoDBSnapshot = new Error("snap: snapshot file doesn't exist");

/** Files the snap directory may hold besides snapshots, without a warning. */
const validFiles = new Set(["db"]);

/** `%016x-%016x.snap` for a snapshot at `term`, `index`. */
export function snapName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}${snapSuffix}`;
}

/** `%016x.snap.db`: a received backend snapshot for raft index `index`. */
export function snapDBName(index: number): string {
  return `${hex16(index)}.snap.db`;
}

/** Encodes `snapshot` as a `.snap` file's bytes. */
export function marshalSnapFile(snapshot: Snapshot): Uint8Array {
  const data = encodeSnapshot(snapshot);
  return encodeSnapFile({ crc: crc32c(data), data });
}

/** Decodes and checks a `.snap` file's bytes (etcd's snap.Read minus the file read). */
export function unmarshalSnapFile(b: Uint8Array): Snapshot {
  if (b.length === 0) throw ErrEmptySnapshot;
  const f = decodeSnapFile(b);
  if (f.data.length === 0 || f.crc === 0) throw ErrEmptySnapshot;
  if (crc32c(f.data) !== f.crc) throw ErrCRCMismatch;
  return decodeSnapshot(f.data);
}

/** Reads the snapshot file at `path` (etcd's snap.Read). */
export async function readSnap(fs: WalFS, path: string, lg: WalLogger = nopLogger): Promise<Snapshot> {
  let b: Uint8Array;
  try {
    b = await fs.readFile(path);
  } catch (e) {
    lg.warn("failed to read a snap file", { path, error: (e as Error).message });
    throw e;
  }
  try {
    return unmarshalSnapFile(b);
  } catch (e) {
    lg.warn("failed to read a snap file", { path, error: (e as Error).message });
    throw e;
  }
}

export class Snapshotter {
  private readonly lg: WalLogger;

  constructor(
    private readonly fs: WalFS,
    readonly dir: string,
    lg?: WalLogger,
  ) {
    this.lg = lg ?? nopLogger;
  }

  /** Writes `snapshot` durably as `<term>-<index>.snap`; an empty snapshot is ignored. */
  async saveSnap(snapshot: Snapshot): Promise<void> {
    if (isEmptySnap(snapshot)) return;
    const path = joinPath(this.dir, snapName(snapshot.metadata.term, snapshot.metadata.index));
    try {
      await this.fs.writeFile(path, marshalSnapFile(snapshot));
      await this.fs.syncDir(this.dir);
    } catch (e) {
      this.lg.warn("failed to write a snap file", { path, error: (e as Error).message });
      await this.fs.remove(path).catch((re: Error) => {
        this.lg.warn("failed to remove a broken snap file", { path, error: re.message });
      });
      throw e;
    }
  }

  /** The newest readable snapshot; throws ErrNoSnapshot when there is none. */
  load(): Promise<Snapshot> {
    return this.loadMatching(() => true);
  }

  /**
   * The newest readable snapshot that the WAL also records (etcd 3.5's LoadNewestAvailable):
   * `walSnaps` from `validSnapshotEntries`. Throws ErrNoSnapshot when there is none.
   */
  loadNewestAvailable(walSnaps: readonly WalSnapshot[]): Promise<Snapshot> {
    return this.loadMatching((s) => {
      const m = s.metadata;
      for (let i = walSnaps.length - 1; i >= 0; i--) {
        if (m.term === walSnaps[i]!.term && m.index === walSnaps[i]!.index) return true;
      }
      return false;
    });
  }

  private async loadMatching(match: (s: Snapshot) => boolean): Promise<Snapshot> {
    for (const name of await this.snapNames()) {
      const s = await this.loadSnap(name);
      if (s !== undefined && match(s)) return s;
    }
    throw ErrNoSnapshot;
  }

  /** Reads one snapshot file; a bad one is renamed `.broken` and undefined returned. */
  private async loadSnap(name: string): Promise<Snapshot | undefined> {
    const path = joinPath(this.dir, name);
    try {
      return await readSnap(this.fs, path, this.lg);
    } catch (e) {
      const brokenPath = `${path}.broken`;
      this.lg.warn("failed to read a snap file", { path, error: (e as Error).message });
      try {
        await this.fs.rename(path, brokenPath);
        this.lg.warn("renamed to a broken snap file", { path, "broken-path": brokenPath });
      } catch (re) {
        this.lg.warn("failed to rename a broken snap file", { path, "broken-path": brokenPath, error: (re as Error).message });
      }
      return undefined;
    }
  }

  /**
   * Snapshot file names, newest first; removes orphaned `db.tmp*` defragmentation files on the way.
   * Throws ErrNoSnapshot when there are none.
   */
  async snapNames(): Promise<string[]> {
    const names: string[] = [];
    for (const name of await this.fs.list(this.dir)) {
      if (name.startsWith("db.tmp")) {
        this.lg.info("found orphaned defragmentation file; deleting", { path: name });
        await this.fs.remove(joinPath(this.dir, name));
        continue;
      }
      if (name.endsWith(snapSuffix)) names.push(name);
      else if (!validFiles.has(name)) this.lg.warn("found unexpected non-snap file; skipping", { path: name });
    }
    if (names.length === 0) throw ErrNoSnapshot;
    return names.sort().reverse();
  }

  /** Path of the received backend snapshot for `index` (whether or not it exists). */
  dbFilePath(index: number): string {
    return joinPath(this.dir, snapDBName(index));
  }

  /** Path of the received backend snapshot for `index`; throws ErrNoDBSnapshot if absent (etcd's DBFilePath). */
  async existingDBFilePath(index: number): Promise<string> {
    const p = this.dbFilePath(index);
    if (await this.fs.exists(p)) return p;
    this.lg.warn("failed to find [SNAPSHOT-INDEX].snap.db", { "snapshot-index": index, "snapshot-file-path": p });
    throw ErrNoDBSnapshot;
  }

  /** Removes `.snap.db` files for indexes below `snapshot`'s (etcd's ReleaseSnapDBs). */
  async releaseSnapDBs(snapshot: Snapshot): Promise<void> {
    for (const name of await this.fs.list(this.dir)) {
      if (!name.endsWith(".snap.db")) continue;
      const hex = name.slice(0, -".snap.db".length);
      const index = /^[0-9a-f]+$/i.test(hex) ? parseInt(hex, 16) : NaN;
      if (!Number.isSafeInteger(index)) {
        this.lg.error("failed to parse index from filename", { path: name });
        continue;
      }
      if (index < snapshot.metadata.index) {
        this.lg.info("found orphaned .snap.db file; deleting", { path: name });
        await this.fs.remove(joinPath(this.dir, name)).catch((e: Error) => {
          this.lg.error("failed to remove orphaned .snap.db file", { path: name, error: e.message });
        });
      }
    }
  }

  /**
   * One purge pass (etcdserver's purgeFile for "snap", --max-snapshots): removes the oldest
   * `.snap` files beyond `maxSnapshots`. Returns the names removed.
   */
  purge(maxSnapshots: number): Promise<string[]> {
    return purgeFile(this.fs, this.dir, "snap", maxSnapshots, this.lg);
  }
}
