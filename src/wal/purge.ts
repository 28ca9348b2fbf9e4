/**
 * One pass of etcd's fileutil.purgeFile (client/pkg/fileutil/purge.go), which etcdserver runs every
 * 30 s over the WAL dir (suffix "wal", --max-wals) and the snap dir (suffix "snap",
 * --max-snapshots): remove the oldest files with the suffix until `max` remain, stopping at the
 * first one still in use (etcd: the first whose flock cannot be taken — for the WAL, a segment not
 * yet released by ReleaseLockTo). The caller schedules passes.
 */
import type { WalLogger } from "./logger.js";
import { type WalFS, joinPath } from "./files.js";

/**
 * Removes files of `dir` whose name ends with `suffix`, oldest (smallest name) first, leaving `max`.
 * `inUse(name)` stops the pass at that file. Returns the names removed, in order.
 */
export async function purgeFile(
  fs: WalFS,
  dir: string,
  suffix: string,
  max: number,
  lg: WalLogger,
  inUse: (name: string) => boolean = () => false,
): Promise<string[]> {
  const names = (await fs.list(dir)).filter((n) => n.endsWith(suffix));
  const purged: string[] = [];
  for (let i = 0; i < names.length - max; i++) {
    const name = names[i]!;
    const path = joinPath(dir, name);
    if (inUse(name)) {
      lg.warn("failed to lock file", { path, error: "file is in use" });
      break;
    }
    await fs.remove(path);
    lg.info("purged", { path });
    purged.push(name);
  }
  return purged;
}
