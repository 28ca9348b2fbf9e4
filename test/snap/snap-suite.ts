/**
 * The snapshotter over any WalFS, ported from etcd's snapshotter_test.go; run over memory-fs
 * (snapshotter.test.ts) and Node's fs (test/storage/fs-snap.test.ts).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Snapshot, newConfState, newSnapshot } from "../../src/raft/index.js";
import {
  ErrCRCMismatch,
  ErrEmptySnapshot,
  ErrNoDBSnapshot,
  ErrNoSnapshot,
  Snapshotter,
  readSnap,
  snapName,
} from "../../src/snap/index.js";
import { type WalFS, joinPath } from "../../src/wal/index.js";

export interface SnapSuiteFS {
  fs: WalFS;
  root: string;
  cleanup(): Promise<void>;
}

const te = new TextEncoder();

export function snap(term: number, index: number, data = "some snapshot"): Snapshot {
  return newSnapshot({
    data: te.encode(data),
    metadata: { index, term, confState: newConfState({ voters: [1n, 2n, 3n] }) },
  });
}

export function runSnapSuite(name: string, make: () => Promise<SnapSuiteFS>): void {
  describe(`Snapshotter over ${name}`, () => {
    let s: SnapSuiteFS;
    let fs: WalFS;
    let dir: string;
    let ss: Snapshotter;
    beforeEach(async () => {
      s = await make();
      fs = s.fs;
      dir = joinPath(s.root, "member", "snap");
      await fs.mkdirp(dir);
      ss = new Snapshotter(fs, dir);
    });
    afterEach(() => s.cleanup());

    test("saveSnap writes <term>-<index>.snap and load reads it back (TestSaveAndLoad)", async () => {
      await ss.saveSnap(snap(1, 1));
      expect(await fs.list(dir)).toEqual([snapName(1, 1)]);
      expect(snapName(1, 1)).toBe("0000000000000001-0000000000000001.snap");
      expect(await ss.load()).toEqual(snap(1, 1));
    });

    test("an empty snapshot is not saved", async () => {
      await ss.saveSnap(newSnapshot());
      expect(await fs.list(dir)).toEqual([]);
      await expect(ss.load()).rejects.toBe(ErrNoSnapshot);
    });

    test("a corrupt file is ErrCRCMismatch and renamed .broken (TestBadCRC, TestFailback)", async () => {
      await ss.saveSnap(snap(1, 1, "older"));
      await ss.saveSnap(snap(1, 2, "newer"));
      const p = joinPath(dir, snapName(1, 2));
      const b = await fs.readFile(p);
      b[b.length - 3] ^= 0xff;
      await fs.writeFile(p, b);
      await expect(readSnap(fs, p)).rejects.toBe(ErrCRCMismatch);
      expect(await ss.load()).toEqual(snap(1, 1, "older"));
      expect(await fs.list(dir)).toEqual([snapName(1, 1), `${snapName(1, 2)}.broken`]);
    });

    test("an empty file is ErrEmptySnapshot", async () => {
      const p = joinPath(dir, snapName(1, 1));
      await fs.writeFile(p, new Uint8Array(0));
      await expect(readSnap(fs, p)).rejects.toBe(ErrEmptySnapshot);
      await expect(ss.load()).rejects.toBe(ErrNoSnapshot);
    });

    test("load with no snapshot is ErrNoSnapshot; other files are skipped (TestNoSnapshot)", async () => {
      await expect(ss.load()).rejects.toBe(ErrNoSnapshot);
      await fs.writeFile(joinPath(dir, "db"), te.encode("backend"));
      await fs.writeFile(joinPath(dir, "foo"), te.encode("x"));
      await expect(ss.load()).rejects.toBe(ErrNoSnapshot);
    });

    test("orphaned db.tmp* files are removed while listing", async () => {
      await fs.writeFile(joinPath(dir, "db.tmp.123"), te.encode("x"));
      await ss.saveSnap(snap(1, 1));
      expect(await ss.snapNames()).toEqual([snapName(1, 1)]);
      expect(await fs.list(dir)).toEqual([snapName(1, 1)]);
    });

    test("load returns the newest (TestLoadNewestSnap)", async () => {
      await ss.saveSnap(snap(1, 1));
      await ss.saveSnap(snap(1, 5));
      await ss.saveSnap(snap(2, 3)); // a later term sorts later
      expect((await ss.load()).metadata).toMatchObject({ term: 2, index: 3 });
    });

    test("loadNewestAvailable picks the newest snapshot the WAL records (etcd 3.5)", async () => {
      await ss.saveSnap(snap(1, 1));
      await ss.saveSnap(snap(1, 5));
      await ss.saveSnap(snap(1, 9));
      expect((await ss.loadNewestAvailable([{ index: 0, term: 0 }, { index: 5, term: 1 }])).metadata.index).toBe(5);
      expect((await ss.loadNewestAvailable([{ index: 9, term: 1 }])).metadata.index).toBe(9);
      await expect(ss.loadNewestAvailable([{ index: 9, term: 2 }])).rejects.toBe(ErrNoSnapshot);
      await expect(ss.loadNewestAvailable([])).rejects.toBe(ErrNoSnapshot);
    });

    test("purge keeps the newest max-snapshots .snap files", async () => {
      for (let i = 1; i <= 7; i++) await ss.saveSnap(snap(1, i));
      await fs.writeFile(joinPath(dir, "db"), te.encode("backend"));
      await fs.writeFile(ss.dbFilePath(2), te.encode("db snapshot"));
      expect(await ss.purge(5)).toEqual([snapName(1, 1), snapName(1, 2)]);
      expect(await fs.list(dir)).toEqual([
        ...[3, 4, 5, 6, 7].map((i) => snapName(1, i)),
        "0000000000000002.snap.db",
        "db",
      ].sort());
    });

    test(".snap.db paths and releaseSnapDBs (etcd's DBFilePath, ReleaseSnapDBs)", async () => {
      expect(ss.dbFilePath(0x10)).toBe(joinPath(dir, "0000000000000010.snap.db"));
      await expect(ss.existingDBFilePath(0x10)).rejects.toBe(ErrNoDBSnapshot);
      await fs.writeFile(ss.dbFilePath(0x10), te.encode("a"));
      await fs.writeFile(ss.dbFilePath(0x20), te.encode("b"));
      expect(await ss.existingDBFilePath(0x10)).toBe(ss.dbFilePath(0x10));
      await ss.releaseSnapDBs(snap(1, 0x20));
      expect(await fs.list(dir)).toEqual(["0000000000000020.snap.db"]);
    });
  });
}
