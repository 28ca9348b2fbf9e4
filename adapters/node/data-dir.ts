/**
 * The data dir on Node (etcd's identifyDataDirOrDie and the member layout of §7.3): `member/wal`
 * for the WAL (or --wal-dir), `member/snap` for raft snapshots, `member/snap/db` for the LMDB
 * backend. An absent or empty data dir bootstraps a new member; one holding `member/` restarts it;
 * anything else is refused.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openLmdbBackend, type LmdbBackend } from "../storage/lmdb/lmdb-backend.js";
import { NodeFS } from "../storage/fs/node-fs.js";
import type { DiskLayout } from "../../src/etcdserver/storage.js";
import type { WalLogger } from "../../src/wal/logger.js";

export type DataDirKind = "empty" | "member";

/** What the data dir holds; throws etcd-like errors for anything that is not a member dir. */
export function identifyDataDir(dataDir: string): DataDirKind {
  if (!existsSync(dataDir)) return "empty";
  const names = readdirSync(dataDir);
  if (names.length === 0) return "empty";
  if (names.includes("member")) {
    const others = names.filter((n) => n !== "member");
    if (others.length > 0) throw new Error(`invalid datadir ${JSON.stringify(dataDir)}: unexpected entries ${others.join(", ")} next to member/`);
    return "member";
  }
  if (names.includes("proxy")) throw new Error(`data dir ${JSON.stringify(dataDir)} is an etcd v2 proxy directory, which edgecd does not support`);
  throw new Error(`data dir ${JSON.stringify(dataDir)} is not empty and holds no member directory (found ${names.slice(0, 5).join(", ")}); refusing to use it`);
}

export interface NodeStorage {
  kind: DataDirKind;
  disk: DiskLayout;
  backend: LmdbBackend;
}

/** Opens (creating when new) the member's WAL layout and LMDB backend under `dataDir`. */
export function openNodeStorage(
  dataDir: string,
  opts: { walDir?: string; maxWals: number; maxSnapshots: number; batchInterval?: number; batchLimit?: number; logger?: WalLogger },
): NodeStorage {
  const kind = identifyDataDir(dataDir);
  const memberDir = join(dataDir, "member");
  const snapDir = join(memberDir, "snap");
  mkdirSync(snapDir, { recursive: true, mode: 0o700 });
  const backend = openLmdbBackend(join(snapDir, "db"), {
    batchInterval: opts.batchInterval || undefined,
    batchLimit: opts.batchLimit || undefined,
  });
  return {
    kind,
    backend,
    disk: {
      fs: new NodeFS(),
      walDir: opts.walDir || join(memberDir, "wal"),
      snapDir,
      maxWals: opts.maxWals,
      maxSnapshots: opts.maxSnapshots,
      logger: opts.logger,
    },
  };
}
