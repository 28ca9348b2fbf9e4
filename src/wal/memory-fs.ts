/**
 * An in-memory WalFS for tests, with a crash model: `crash()` forgets what was not made durable
 * under files.ts's contract — bytes appended since the file's last datasync (optionally keeping a
 * prefix of them: a torn write) and names created or renamed since their directory's last syncDir.
 * Directories themselves are always durable (a simplification: mkdirp is not modelled). Open
 * handles from before a crash fail.
 *
 * `stats` counts the calls that cost I/O, so tests can check when the WAL syncs.
 */
import { type AppendFile, type WalFS, dirOf, notExistError } from "./files.js";

class Inode {
  buf = new Uint8Array(64);
  len = 0;
  /** Length that survives a crash (the prefix written before the last datasync). */
  durableLen = 0;

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  append(data: Uint8Array): void {
    if (this.len + data.length > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + data.length) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.bytes());
      this.buf = nb;
    }
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  set(data: Uint8Array, durable: boolean): void {
    this.len = 0;
    this.append(data);
    if (durable) this.durableLen = this.len;
    else this.durableLen = Math.min(this.durableLen, this.len);
  }
}

export interface MemoryFSStats {
  writes: number;
  datasyncs: number;
  dirSyncs: number;
}

export interface CrashOptions {
  /**
   * How many of the `unsynced` bytes appended to `path` since its last datasync survive (a torn
   * write keeps a prefix). Default 0.
   */
  keep?: (path: string, unsynced: number) => number;
}

function norm(p: string): string {
  const s = p.replace(/\/+/g, "/").replace(/\/$/, "");
  return s === "" ? "/" : s;
}

function under(p: string, dir: string): boolean {
  return dir === "/" ? p.startsWith("/") : p.startsWith(dir + "/");
}

export class MemoryFS implements WalFS {
  private files = new Map<string, Inode>();
  /** Names as a crash would leave them. */
  private durable = new Map<string, Inode>();
  private dirs = new Set<string>(["/", "."]);
  private generation = 0;
  readonly stats: MemoryFSStats = { writes: 0, datasyncs: 0, dirSyncs: 0 };

  async list(dir: string): Promise<string[]> {
    const d = norm(dir);
    if (!this.dirs.has(d)) throw notExistError("scandir", dir);
    const names = new Set<string>();
    const prefix = d === "/" ? "/" : d + "/";
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p.startsWith(prefix) && p !== d) names.add(p.slice(prefix.length).split("/")[0]!);
    }
    return [...names].filter((n) => n !== "").sort();
  }

  async exists(path: string): Promise<boolean> {
    const p = norm(path);
    return this.files.has(p) || this.dirs.has(p);
  }

  async mkdirp(dir: string): Promise<void> {
    let p = norm(dir);
    while (!this.dirs.has(p)) {
      this.dirs.add(p);
      p = dirOf(p);
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    const f = this.files.get(norm(path));
    if (!f) throw notExistError("open", path);
    return f.bytes().slice();
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const f = this.create(path, true);
    f.set(data, true);
    this.stats.writes++;
    this.stats.datasyncs++;
  }

  async openAppend(path: string, opts: { truncate?: boolean } = {}): Promise<AppendFile> {
    const f = this.create(path, opts.truncate ?? false);
    if (opts.truncate) f.set(new Uint8Array(0), false);
    const gen = this.generation;
    let closed = false;
    const check = () => {
      if (closed) throw new Error(`memory-fs: ${path} is closed`);
      if (gen !== this.generation) throw new Error(`memory-fs: ${path} was open across a crash`);
    };
    return {
      path,
      size: () => f.len,
      write: async (data) => {
        check();
        f.append(data);
        this.stats.writes++;
      },
      datasync: async () => {
        check();
        f.durableLen = f.len;
        this.stats.datasyncs++;
      },
      close: async () => {
        closed = true;
      },
    };
  }

  async truncate(path: string, size: number): Promise<void> {
    const f = this.files.get(norm(path));
    if (!f) throw notExistError("open", path);
    f.set(f.bytes().slice(0, size), true);
    this.stats.datasyncs++;
  }

  async rename(from: string, to: string): Promise<void> {
    const a = norm(from);
    const b = norm(to);
    const f = this.files.get(a);
    if (f) {
      this.requireDir(dirOf(b), to);
      this.files.delete(a);
      this.files.set(b, f);
      return;
    }
    if (!this.dirs.has(a)) throw notExistError("rename", from);
    for (const [p, node] of [...this.files]) {
      if (under(p, a)) {
        this.files.delete(p);
        this.files.set(b + p.slice(a.length), node);
      }
    }
    for (const d of [...this.dirs]) {
      if (d === a || under(d, a)) {
        this.dirs.delete(d);
        this.dirs.add(b + d.slice(a.length));
      }
    }
  }

  async remove(path: string): Promise<void> {
    if (!this.files.delete(norm(path))) throw notExistError("unlink", path);
  }

  async removeAll(path: string): Promise<void> {
    const a = norm(path);
    this.files.delete(a);
    for (const p of [...this.files.keys()]) if (under(p, a)) this.files.delete(p);
    for (const d of [...this.dirs]) if (d === a || under(d, a)) this.dirs.delete(d);
  }

  async syncDir(dir: string): Promise<void> {
    const d = norm(dir);
    if (!this.dirs.has(d)) throw notExistError("open", dir);
    this.stats.dirSyncs++;
    for (const p of [...this.durable.keys()]) if (under(p, d) && !this.files.has(p)) this.durable.delete(p);
    for (const [p, f] of this.files) if (under(p, d)) this.durable.set(p, f);
  }

  /**
   * A power loss: names not made durable vanish, unsynced bytes are dropped (or a prefix kept, per
   * `opts.keep`), open handles die.
   */
  crash(opts: CrashOptions = {}): void {
    this.generation++;
    this.files = new Map(this.durable);
    for (const [p, f] of this.files) {
      const unsynced = f.len - f.durableLen;
      const keep = Math.max(0, Math.min(unsynced, opts.keep?.(p, unsynced) ?? 0));
      f.len = f.durableLen + keep;
      f.durableLen = f.len;
    }
  }

  /** Test access: the raw bytes of a file. */
  peek(path: string): Uint8Array {
    const f = this.files.get(norm(path));
    if (!f) throw notExistError("open", path);
    return f.bytes().slice();
  }

  /** Test access: replaces a file's bytes durably (corruption, zero fill, hand-made files). */
  poke(path: string, data: Uint8Array): void {
    const f = this.create(path, true);
    f.set(data, true);
    this.durable.set(norm(path), f);
  }

  private requireDir(d: string, path: string): void {
    if (!this.dirs.has(d)) throw notExistError("open", path);
  }

  private create(path: string, _truncate: boolean): Inode {
    const p = norm(path);
    let f = this.files.get(p);
    if (!f) {
      this.requireDir(dirOf(p), path);
      f = new Inode();
      this.files.set(p, f);
    }
    return f;
  }
}
