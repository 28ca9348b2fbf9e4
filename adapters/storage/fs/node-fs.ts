/**
 * WalFS on Node's fs (node:fs/promises): the files behind the WAL and the snapshotter.
 */
import { constants, type FileHandle, open, readFile, readdir, rename, rm, stat, unlink, mkdir } from "node:fs/promises";
import type { AppendFile, WalFS } from "../../../src/wal/files.js";

/** etcd's PrivateFileMode (0600) for WAL and snap files. */
const fileMode = 0o600;

class NodeAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private length: number,
  ) {}

  size(): number {
    return this.length;
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    // FileHandle.write may write less than asked; O_APPEND puts every chunk at the end.
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
    this.length += data.length;
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export class NodeFS implements WalFS {
  async list(dir: string): Promise<string[]> {
    return (await readdir(dir)).sort();
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async mkdirp(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  async readFile(path: string): Promise<Uint8Array> {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, fileMode);
    try {
      let off = 0;
      while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async openAppend(path: string, opts: { truncate?: boolean } = {}): Promise<AppendFile> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (opts.truncate ? constants.O_TRUNC : 0);
    const fh = await open(path, flags, fileMode);
    const { size } = await fh.stat();
    return new NodeAppendFile(path, fh, size);
  }

  async truncate(path: string, size: number): Promise<void> {
    const fh = await open(path, "r+");
    try {
      await fh.truncate(size);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  async remove(path: string): Promise<void> {
    await unlink(path);
  }

  async removeAll(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  async syncDir(dir: string): Promise<void> {
    // fsync on a directory fd persists its entries (etcd's fileutil.Fsync(dirFile)). Windows
    // cannot open a directory this way (EISDIR/EPERM); NTFS journals names, so skip it there.
    let fh: FileHandle;
    try {
      fh = await open(dir, "r");
    } catch (e) {
      if (process.platform === "win32") return;
      throw e;
    }
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
