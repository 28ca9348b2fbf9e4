/**
 * Where the server makes raft state durable (etcd server/etcdserver/storage.go and the bootstrap
 * of bootstrap.go): the WAL under `{data-dir}/member/wal` and raft snapshots under
 * `{data-dir}/member/snap`, over the runtime's WalFS. `memoryPersistence` keeps nothing (tests and
 * ephemeral members).
 *
 * Order, as etcd: a Ready's snapshot file is written before its WAL snapshot record, and both
 * before the hard state and entries; everything is durable before the Ready is applied or answered.
 */
import { Reader, readTag, readUint64, skipField, Writer, writeUint64 } from "../pb/wire.js";
import type { Entry, HardState, Snapshot } from "../raft/raftpb.js";
import { ErrNoSnapshot, Snapshotter } from "../snap/index.js";
import { exist, openAndReadAll, validSnapshotEntries, WAL, type WalFS, type WalLogger } from "../wal/index.js";

export interface RaftPersistence {
  /** Makes a Ready durable: its snapshot (if any) first, then hard state and entries. */
  save(st: HardState, ents: readonly Entry[], snap: Snapshot | undefined): Promise<void>;
  /**
   * Records a snapshot the member took itself (after the backend is durable up to its index) and
   * lets the WAL release the segments before it.
   */
  saveOwnSnapshot(snap: Snapshot): Promise<void>;
  /** etcd's purgeFile: keeps at most maxWals WAL segments and maxSnapshots snapshot files. */
  purge(): Promise<void>;
  close(): Promise<void>;
}

export const memoryPersistence: RaftPersistence = {
  save: async () => {},
  saveOwnSnapshot: async () => {},
  purge: async () => {},
  close: async () => {},
};

/** etcdserverpb.Metadata: the WAL's metadata record, {NodeID = 1, ClusterID = 2} as uint64. */
export interface WalMetadata {
  nodeID: bigint;
  clusterID: bigint;
}

export function encodeWalMetadata(m: WalMetadata): Uint8Array {
  const w = Writer.create();
  writeUint64(w, 1, m.nodeID, "etcdserverpb");
  writeUint64(w, 2, m.clusterID, "etcdserverpb");
  return w.finish();
}

export function decodeWalMetadata(b: Uint8Array): WalMetadata {
  const r = Reader.create(b);
  const m: WalMetadata = { nodeID: 0n, clusterID: 0n };
  while (r.pos < b.length) {
    const [field, wt] = readTag(r, "etcdserverpb");
    if (field === 1 && wt === 0) m.nodeID = readUint64(r, "etcdserverpb");
    else if (field === 2 && wt === 0) m.clusterID = readUint64(r, "etcdserverpb");
    else skipField(r, field, wt, "etcdserverpb");
  }
  return m;
}

export interface DiskLayout {
  fs: WalFS;
  /** `{data-dir}/member/wal` */
  walDir: string;
  /** `{data-dir}/member/snap` */
  snapDir: string;
  maxWals: number;
  maxSnapshots: number;
  logger?: WalLogger;
}

/** What a restart reads back: the member's ids, the newest snapshot, and the log after it. */
export interface RecoveredRaftState {
  metadata: WalMetadata;
  snapshot: Snapshot | undefined;
  hardState: HardState;
  entries: Entry[];
}

export class WalPersistence implements RaftPersistence {
  private constructor(
    private readonly wal: WAL,
    private readonly ss: Snapshotter,
    private readonly d: DiskLayout,
  ) {}

  /** Whether the layout already holds a WAL (etcd's wal.Exist: restart rather than bootstrap). */
  static exists(d: DiskLayout): Promise<boolean> {
    return exist(d.fs, d.walDir);
  }

  /** A new member: creates the snap dir and a WAL whose metadata names the member and cluster. */
  static async create(d: DiskLayout, metadata: WalMetadata): Promise<WalPersistence> {
    await d.fs.mkdirp(d.snapDir);
    const wal = await WAL.create(d.fs, d.walDir, encodeWalMetadata(metadata), { logger: d.logger });
    return new WalPersistence(wal, new Snapshotter(d.fs, d.snapDir, d.logger), d);
  }

  /**
   * A restart: the newest snapshot the WAL also records, then the WAL from it (a torn tail is
   * repaired; corruption in the middle throws, naming the file and offset).
   */
  static async open(d: DiskLayout): Promise<{ persistence: WalPersistence; state: RecoveredRaftState }> {
    const ss = new Snapshotter(d.fs, d.snapDir, d.logger);
    const walSnaps = await validSnapshotEntries(d.fs, d.walDir, { logger: d.logger });
    let snapshot: Snapshot | undefined;
    try {
      snapshot = await ss.loadNewestAvailable(walSnaps);
    } catch (e) {
      if (e !== ErrNoSnapshot) throw e;
    }
    const at = snapshot ? { index: snapshot.metadata.index, term: snapshot.metadata.term } : { index: 0, term: 0 };
    const r = await openAndReadAll(d.fs, d.walDir, at, { logger: d.logger });
    const persistence = new WalPersistence(r.wal, ss, d);
    return {
      persistence,
      state: { metadata: decodeWalMetadata(r.metadata), snapshot, hardState: r.state, entries: r.entries },
    };
  }

  async save(st: HardState, ents: readonly Entry[], snap: Snapshot | undefined): Promise<void> {
    if (snap !== undefined && snap.metadata.index !== 0) {
      await this.ss.saveSnap(snap);
      await this.wal.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term, confState: snap.metadata.confState });
    }
    await this.wal.save(st, ents);
    if (snap !== undefined && snap.metadata.index !== 0) {
      await this.wal.sync();
      this.wal.releaseLockTo(snap.metadata.index);
    }
  }

  async saveOwnSnapshot(snap: Snapshot): Promise<void> {
    await this.ss.saveSnap(snap);
    await this.wal.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term, confState: snap.metadata.confState });
    this.wal.releaseLockTo(snap.metadata.index);
  }

  async purge(): Promise<void> {
    if (this.d.maxWals > 0) await this.wal.purge(this.d.maxWals);
    if (this.d.maxSnapshots > 0) await this.ss.purge(this.d.maxSnapshots);
  }

  close(): Promise<void> {
    return this.wal.close();
  }
}
