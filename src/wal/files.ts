/**
 * The file-system seam of the WAL and the snapshotter (etcd's os/fileutil calls, narrowed to what
 * they use). Paths are strings joined with "/" (`joinPath`); every method is async so one interface
 * fits Node's fs, Deno's and an in-memory one (memory-fs.ts). Implementations: memory-fs.ts (tests,
 * crash simulation) and adapters/storage/fs (Node).
 *
 * Durability contract, which the WAL relies on:
 * - `AppendFile.write` appends; the bytes survive a crash only after `AppendFile.datasync` resolves.
 * - A new name (create, rename) survives a crash only after `syncDir` of its directory resolves.
 * - `writeFile` and `truncate` are durable for the file's contents when they resolve (they fsync).
 */

/** An open file positioned at its end; every write appends (O_APPEND). */
export interface AppendFile {
  /** The path it was opened with. */
  readonly path: string;
  /** Its length in bytes, counting every resolved write. */
  size(): number;
  /** Appends `data` whole. */
  write(data: Uint8Array): Promise<void>;
  /** fdatasync: makes every resolved write durable. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface WalFS {
  /** Names (not paths) of the entries of `dir`, sorted by code unit. Rejects if `dir` is missing. */
  list(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Creates `dir` and its missing parents (mkdir -p). */
  mkdirp(dir: string): Promise<void>;
  /** The whole contents of a file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Creates or truncates `path`, writes `data`, fsyncs and closes it (etcd's WriteAndSyncFile). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Opens `path` for appending, creating it if absent; `truncate` empties it first. */
  openAppend(path: string, opts?: { truncate?: boolean }): Promise<AppendFile>;
  /** Cuts `path` to `size` bytes and fsyncs it. */
  truncate(path: string, size: number): Promise<void>;
  /** Renames a file or a directory, replacing a file at `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes one file. Rejects if absent. */
  remove(path: string): Promise<void>;
  /** Removes a file or a directory tree; no error if absent (os.RemoveAll). */
  removeAll(path: string): Promise<void>;
  /** fsyncs a directory, so the names created or renamed in it survive a crash. */
  syncDir(dir: string): Promise<void>;
}

/** Joins path parts with "/", dropping empty parts and trailing slashes. */
export function joinPath(...parts: string[]): string {
  const out: string[] = [];
  parts.forEach((p, i) => {
    let s = p;
    if (i > 0) s = s.replace(/^\/+/, "");
    s = s.replace(/\/+$/, "");
    if (s !== "" || (i === 0 && p.startsWith("/"))) out.push(s);
  });
  const j = out.join("/");
  return j === "" && parts[0]?.startsWith("/") ? "/" : j;
}

/** The directory part of `path` ("." for a bare name). */
export function dirOf(path: string): string {
  const p = path.replace(/\/+$/, "");
  const i = p.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : p.slice(0, i);
}

/** The last element of `path`. */
export function baseOf(path: string): string {
  const p = path.replace(/\/+$/, "");
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Whether `err` says a file or directory does not exist (code ENOENT, as Node and memory-fs set it). */
export function isNotExist(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ENOENT";
}

/** An ENOENT error in Node's shape. */
export function notExistError(op: string, path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${op} '${path}'`), { code: "ENOENT" });
}
