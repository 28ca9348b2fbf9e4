/**
 * Segment names (etcd server/storage/wal/util.go): `%016x-%016x.wal` = sequence number, then the
 * raft index of the first entry the segment may hold. Sorting names sorts by sequence.
 */
import type { WalLogger } from "./logger.js";
import { ErrFileNotFound } from "./errors.js";
import { type WalFS, isNotExist } from "./files.js";

const walNameRe = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** `%016x-%016x.wal`. */
export function walName(seq: number, index: number): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

/** Sequence and index of a segment name, or undefined if it is not one. */
export function parseWALName(name: string): { seq: number; index: number } | undefined {
  const m = walNameRe.exec(name);
  if (!m) return undefined;
  const seq = parseInt(m[1]!, 16);
  const index = parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(index)) return undefined;
  return { seq, index };
}

export function hex16(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative safe integer: ${n}`);
  return n.toString(16).padStart(16, "0");
}

/** Whether `dir` holds any `.wal` file (etcd's wal.Exist). */
export async function exist(fs: WalFS, dir: string): Promise<boolean> {
  try {
    return (await fs.list(dir)).some((n) => n.endsWith(".wal"));
  } catch {
    return false;
  }
}

/**
 * The segment names in `dir`, sorted; ignores other files (warning about all but `.tmp`). Throws
 * ErrFileNotFound when there are none.
 */
export async function readWALNames(fs: WalFS, dir: string, lg: WalLogger): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.list(dir);
  } catch (e) {
    if (isNotExist(e)) throw ErrFileNotFound;
    throw e;
  }
  const wnames = names.filter((n) => {
    if (parseWALName(n)) return true;
    if (!n.endsWith(".tmp")) lg.warn("ignored file in WAL directory", { path: n });
    return false;
  });
  if (wnames.length === 0) throw ErrFileNotFound;
  return wnames;
}

/** The last position in sorted `names` whose index is ≤ `index` (etcd's searchIndex), or -1. */
export function searchIndex(names: string[], index: number): number {
  for (let i = names.length - 1; i >= 0; i--) {
    if (index >= parseWALName(names[i]!)!.index) return i;
  }
  return -1;
}

/** Whether the sequence numbers of sorted `names` increase by one each (etcd's isValidSeq). */
export function isValidSeq(names: string[]): boolean {
  let lastSeq = 0;
  for (const n of names) {
    const seq = parseWALName(n)!.seq;
    if (lastSeq !== 0 && lastSeq !== seq - 1) return false;
    lastSeq = seq;
  }
  return true;
}
