/**
 * etcdutl's `snapshot restore` (etcd etcdutl/snapshot/v3_snapshot.go): a new member's data from a
 * backend snapshot. The backend keeps every key, lease and alarm; the membership is replaced by the
 * members of the new initial cluster (new member ids and a new cluster id from the token); the
 * consistent index is set to the raft index of the bootstrap configuration, which the WAL records as
 * committed entries followed by a raft snapshot at that index — so the restored member starts as if
 * it had applied its own bootstrap.
 *
 * The snapshot file is what /v3/maintenance/snapshot streams: the backend snapshot bytes followed by
 * their SHA-256 (32 bytes), which is checked unless `skipHashCheck`.
 */
import { ClusterBucket, MembersBucket, MembersRemovedBucket, type Backend } from "../storage/backend.js";
import { ConsistentIndexer } from "../etcdserver/cindex.js";
import { newClusterFromURLsMap, type RaftCluster } from "../etcdserver/membership/cluster.js";
import { unsafeSaveMember } from "../etcdserver/membership/store.js";
import { encodeWalMetadata, type DiskLayout } from "../etcdserver/storage.js";
import { encodeConfChange } from "../raft/codec.js";
import { ConfChangeType, EntryType, newConfChange, newConfState, newEntry, newHardState, newSnapshot } from "../raft/raftpb.js";
import { Snapshotter } from "../snap/index.js";
import { exist, WAL } from "../wal/index.js";

export interface RestoreConfig {
  name: string;
  initialCluster: ReadonlyMap<string, readonly string[]>;
  initialClusterToken: string;
  /** Don't verify the trailing SHA-256 (a snapshot copied from a db file has none). */
  skipHashCheck?: boolean;
}

export class RestoreError extends Error {}

/** Splits a saved snapshot into the backend snapshot and checks its SHA-256 trailer. */
export async function verifySnapshotFile(file: Uint8Array, skipHashCheck = false): Promise<Uint8Array> {
  if (skipHashCheck) return file;
  if (file.length < 32) throw new RestoreError("snapshot file is too short to hold its SHA-256");
  const body = file.subarray(0, file.length - 32);
  const want = file.subarray(file.length - 32);
  const got = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
  for (let i = 0; i < 32; i++) {
    if (got[i] !== want[i]) throw new RestoreError("expected sha256 [...], got [...]: snapshot file is corrupt (SHA-256 mismatch)");
  }
  return body;
}

/**
 * Restores `file` into an empty `backend` and writes the WAL and raft snapshot of `disk`. Refuses
 * a layout that already holds a WAL. Returns the new cluster.
 */
export async function restoreSnapshot(file: Uint8Array, backend: Backend, disk: DiskLayout, cfg: RestoreConfig): Promise<RaftCluster> {
  if (await exist(disk.fs, disk.walDir)) throw new RestoreError(`wal dir ${JSON.stringify(disk.walDir)} exists`);
  const body = await verifySnapshotFile(file, cfg.skipHashCheck);
  // backend.restore is atomic: a malformed snapshot is refused and nothing changes.
  await backend.restore(
    (async function* () {
      yield body;
    })(),
  );
  const cluster = await newClusterFromURLsMap(cfg.initialClusterToken, cfg.initialCluster);
  const local = cluster.memberByName(cfg.name);
  if (local === undefined) throw new RestoreError(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  const members = cluster.memberList();
  const commit = members.length;
  const term = 1;

  // Membership replaced; the consistent index becomes the bootstrap's.
  const cindex = new ConsistentIndexer();
  cindex.setConsistentIndex(commit, term);
  const tx = backend.batchTx();
  for (const b of [MembersBucket, MembersRemovedBucket, ClusterBucket]) {
    if (tx.hasBucket(b)) {
      const { keys } = tx.unsafeRange(b, new Uint8Array([0]), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
      for (const k of keys) tx.delete(b, k);
    }
  }
  for (const m of members) unsafeSaveMember(tx, m);
  cindex.unsafeSave(tx);
  await tx.commit();

  // The WAL: the bootstrap conf changes, committed, then a raft snapshot at their index.
  const ents = members.map((m, i) =>
    newEntry({
      type: EntryType.EntryConfChange,
      term,
      index: i + 1,
      data: encodeConfChange(
        newConfChange({
          type: ConfChangeType.ConfChangeAddNode,
          nodeId: m.id,
          context: new TextEncoder().encode(JSON.stringify({ id: m.id.toString(), peerURLs: m.peerURLs, name: m.name, isLearner: false })),
        }),
      ),
    }),
  );
  await disk.fs.mkdirp(disk.snapDir);
  const wal = await WAL.create(disk.fs, disk.walDir, encodeWalMetadata({ nodeID: local.id, clusterID: cluster.clusterID }));
  await wal.save(newHardState({ term, vote: 0n, commit }), ents);
  const confState = newConfState({ voters: members.map((m) => m.id) });
  const snap = newSnapshot({ metadata: { index: commit, term, confState } });
  await new Snapshotter(disk.fs, disk.snapDir).saveSnap(snap);
  await wal.saveSnapshot({ index: commit, term, confState });
  await wal.close();
  return cluster;
}
