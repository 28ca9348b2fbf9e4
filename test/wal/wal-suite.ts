/**
 * The WAL behaviour every WalFS must support, ported from etcd's wal_test.go and repair_test.go:
 * run by test/wal/wal.test.ts over memory-fs and by test/storage/fs-wal.test.ts over Node's fs on a
 * temp dir. Corruption is made through the WalFS itself (readFile, writeFile, truncate).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Entry, type HardState, newConfState, newEntry, newHardState } from "../../src/raft/index.js";
import {
  CrcType,
  Decoder,
  Encoder,
  ErrCRCMismatch,
  ErrCorruptRecord,
  ErrExist,
  ErrSnapshotMismatch,
  ErrUnexpectedEOF,
  MetadataType,
  SnapshotType,
  StateType,
  WAL,
  WalDecodeError,
  type WalFS,
  encodeWalSnapshot,
  errorIs,
  joinPath,
  openAndReadAll,
  parseWALName,
  validSnapshotEntries,
  walName,
} from "../../src/wal/index.js";

export interface SuiteFS {
  fs: WalFS;
  /** A fresh directory that does not exist yet, below an existing one. */
  root: string;
  cleanup(): Promise<void>;
}

const te = new TextEncoder();
export const bytes = (s: string) => te.encode(s);
export const ent = (index: number, term = 1, data = `data-${index}`): Entry =>
  newEntry({ index, term, data: bytes(data) });
export const hs = (term: number, commit: number, vote = 1n): HardState => newHardState({ term, vote, commit });

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export function runWalSuite(name: string, make: () => Promise<SuiteFS>): void {
  describe(`WAL over ${name}`, () => {
    let s: SuiteFS;
    let fs: WalFS;
    let dir: string;
    beforeEach(async () => {
      s = await make();
      fs = s.fs;
      dir = joinPath(s.root, "member", "wal");
    });
    afterEach(async () => {
      await s.cleanup();
    });

    async function lastSegment(): Promise<string> {
      const names = (await fs.list(dir)).filter((n) => n.endsWith(".wal"));
      return joinPath(dir, names[names.length - 1]!);
    }

    test("create writes the first segment: crc 0, metadata, snapshot {0,0} (TestNew)", async () => {
      const w = await WAL.create(fs, dir, bytes("somedata"));
      await w.close();
      expect(await fs.list(dir)).toEqual([walName(0, 0)]);
      expect(await fs.exists(`${dir}.tmp`)).toBe(false);
      const enc = new Encoder(0);
      const want = [
        enc.encode(CrcType, new Uint8Array(0)),
        enc.encode(MetadataType, bytes("somedata")),
        enc.encode(SnapshotType, encodeWalSnapshot({ index: 0, term: 0 })),
      ];
      const got = await fs.readFile(joinPath(dir, walName(0, 0)));
      expect(hex(got)).toBe(want.map(hex).join(""));
      // The crc record, by hand: length 4 (pad 4 → top byte 0x84), type 4, crc 0.
      expect(hex(got.subarray(0, 16))).toBe("0400000000000084" + "0804100000000000");
    });

    test("create refuses a directory that holds a WAL (ErrExist)", async () => {
      await (await WAL.create(fs, dir, bytes("m"))).close();
      await expect(WAL.create(fs, dir, bytes("m"))).rejects.toBe(ErrExist);
    });

    test("open + readAll of a new WAL: metadata, empty state, no entries, snapshot found", async () => {
      await (await WAL.create(fs, dir, bytes("metadata"))).close();
      const w = await WAL.open(fs, dir, { index: 0, term: 0 });
      const r = await w.readAll();
      expect(new TextDecoder().decode(r.metadata)).toBe("metadata");
      expect(r.state).toEqual(newHardState());
      expect(r.entries).toEqual([]);
      expect(r.snapshotFound).toBe(true);
      await w.close();
    });

    test("save and read back entries and the last HardState across reopen and more saves", async () => {
      let w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 0), [ent(1), ent(2)]);
      await w.save(hs(1, 2), [ent(3)]);
      await w.close();
      let r = await openAndReadAll(fs, dir, { index: 0, term: 0 });
      expect(r.entries).toEqual([ent(1), ent(2), ent(3)]);
      expect(r.state).toEqual(hs(1, 2));
      w = r.wal;
      await w.save(hs(2, 3), [ent(4, 2)]);
      await w.close();
      r = await openAndReadAll(fs, dir, { index: 0, term: 0 });
      expect(r.entries).toEqual([ent(1), ent(2), ent(3), ent(4, 2)]);
      expect(r.state).toEqual(hs(2, 3));
      await r.wal.close();
    });

    test("a later entry with the same index overrides the earlier ones (raft log conflict)", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 1), [ent(1), ent(2), ent(3)]);
      await w.save(hs(2, 1), [ent(2, 2, "new")]);
      await w.close();
      const r = await openAndReadAll(fs, dir, { index: 0, term: 0 });
      expect(r.entries).toEqual([ent(1), ent(2, 2, "new")]);
      await r.wal.close();
    });

    test("open at a snapshot returns the entries after it (TestOpenAtIndex / TestRecover)", async () => {
      const cs = newConfState({ voters: [1n, 2n, 3n] });
      const w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 5), [1, 2, 3, 4, 5].map((i) => ent(i)));
      await w.saveSnapshot({ index: 5, term: 1, confState: cs });
      await w.save(hs(1, 7), [6, 7].map((i) => ent(i)));
      await w.close();

      const r = await openAndReadAll(fs, dir, { index: 5, term: 1 });
      expect(r.entries).toEqual([ent(6), ent(7)]);
      expect(r.snapshotFound).toBe(true);
      await r.wal.close();

      const miss = await WAL.openForRead(fs, dir, { index: 3, term: 1 });
      const r2 = await miss.readAll();
      expect(r2.snapshotFound).toBe(false);
      expect(r2.entries.map((e) => e.index)).toEqual([4, 5, 6, 7]);

      const mismatch = await WAL.openForRead(fs, dir, { index: 5, term: 9 });
      await expect(mismatch.readAll()).rejects.toBe(ErrSnapshotMismatch);

      expect(await validSnapshotEntries(fs, dir)).toEqual([
        { index: 0, term: 0 },
        { index: 5, term: 1, confState: cs },
      ]);
    });

    test("validSnapshotEntries drops snapshots above the last committed index", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 2), [1, 2, 3].map((i) => ent(i)));
      await w.saveSnapshot({ index: 3, term: 1, confState: newConfState({ voters: [1n] }) });
      await w.close();
      expect(await validSnapshotEntries(fs, dir)).toEqual([{ index: 0, term: 0 }]);
    });

    test("saveSnapshot refuses a non-initial snapshot without ConfState", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      await expect(w.saveSnapshot({ index: 3, term: 1 })).rejects.toThrow("missing ConfState");
      await w.close();
    });

    test("segments are cut at the size limit and named seq-firstIndex; the CRC chain spans them (TestCut)", async () => {
      const opts = { segmentSizeBytes: 512 };
      const w = await WAL.create(fs, dir, bytes("md"), opts);
      const all: Entry[] = [];
      for (let i = 1; i <= 60; i++) {
        const e = ent(i, 1, "x".repeat(40));
        all.push(e);
        await w.save(hs(1, i), [e]);
      }
      await w.close();
      const names = (await fs.list(dir)).filter((n) => n.endsWith(".wal"));
      expect(names.length).toBeGreaterThan(3);
      expect(await fs.list(dir)).not.toContain("0.tmp");
      const segs = [];
      for (const [k, n] of names.entries()) {
        const p = parseWALName(n)!;
        expect(p.seq).toBe(k);
        const data = await fs.readFile(joinPath(dir, n));
        segs.push({ name: n, data });
        if (k === 0) continue;
        // Each later segment: crc record (the chain so far), metadata, state; its first entry is p.index.
        const d = new Decoder([{ name: n, data }]);
        const recs = [];
        for (let r = d.decode(); r; r = d.decode()) {
          recs.push(r);
          if (r.type === CrcType) d.updateCRC(r.crc);
        }
        expect(recs.slice(0, 3).map((r) => r.type)).toEqual([CrcType, MetadataType, StateType]);
        const firstEntry = recs.find((r) => r.type === 2);
        if (firstEntry) expect(recs.indexOf(firstEntry)).toBe(3);
      }
      // The crc record of segment k equals the chain value at the end of segment k-1.
      const chain = new Decoder(segs);
      const atEnd: number[] = [];
      let seg = chain.currentSegment();
      for (let r = chain.decode(); r; r = chain.decode()) {
        if (r.type === CrcType) {
          if (chain.currentSegment() !== seg) atEnd.push(r.crc);
          seg = chain.currentSegment();
          expect(r.crc === chain.lastCRC() || chain.lastCRC() === 0).toBe(true);
          chain.updateCRC(r.crc);
        }
      }
      expect(atEnd.length).toBe(names.length - 1);
      // Entry names: the first entry of each segment has the index in its name.
      for (const n of names.slice(1)) {
        const idx = parseWALName(n)!.index;
        const d = new Decoder([{ name: n, data: await fs.readFile(joinPath(dir, n)) }]);
        for (let r = d.decode(); r; r = d.decode()) {
          if (r.type === CrcType) d.updateCRC(r.crc);
          if (r.type === 2) {
            const { decodeEntry } = await import("../../src/raft/index.js");
            expect(decodeEntry(r.data).index).toBe(idx);
            break;
          }
        }
      }
      const r = await openAndReadAll(fs, dir, { index: 0, term: 0 }, opts);
      expect(r.entries).toEqual(all);
      expect(r.state).toEqual(hs(1, 60));
      await r.wal.close();
    });

    test("a broken crc record between segments is ErrCRCMismatch", async () => {
      const opts = { segmentSizeBytes: 256 };
      const w = await WAL.create(fs, dir, bytes("md"), opts);
      for (let i = 1; i <= 20; i++) await w.save(hs(1, i), [ent(i, 1, "y".repeat(40))]);
      await w.close();
      const names = (await fs.list(dir)).filter((n) => n.endsWith(".wal"));
      const p = joinPath(dir, names[1]!);
      const data = await fs.readFile(p);
      // The crc record is the first frame: 08 04 10 <varint crc>. Change the crc's first byte.
      data[11] ^= 0x01;
      await fs.writeFile(p, data);
      await expect(openAndReadAll(fs, dir, { index: 0, term: 0 }, opts)).rejects.toBe(ErrCRCMismatch);
    });

    test("open at a snapshot in a later segment reads from that segment on", async () => {
      const opts = { segmentSizeBytes: 300 };
      const cs = newConfState({ voters: [1n] });
      const w = await WAL.create(fs, dir, bytes("md"), opts);
      for (let i = 1; i <= 30; i++) {
        await w.save(hs(1, i), [ent(i, 1, "z".repeat(30))]);
        if (i === 20) await w.saveSnapshot({ index: 20, term: 1, confState: cs });
      }
      await w.close();
      const r = await openAndReadAll(fs, dir, { index: 20, term: 1 }, opts);
      expect(r.entries.map((e) => e.index)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
      expect(r.snapshotFound).toBe(true);
      await r.wal.close();
    });

    test("releaseLockTo and purge remove only released segments beyond max-wals (TestReleaseLockTo)", async () => {
      const opts = { segmentSizeBytes: 200 };
      const w = await WAL.create(fs, dir, bytes("md"), opts);
      for (let i = 1; i <= 40; i++) await w.save(hs(1, i), [ent(i, 1, "p".repeat(30))]);
      const names = (await fs.list(dir)).filter((n) => n.endsWith(".wal"));
      expect(names.length).toBeGreaterThan(6);
      expect(w.heldSegments()).toEqual(names);
      // Nothing released: purge removes nothing.
      expect(await w.purge(1)).toEqual([]);
      const idx = parseWALName(names[4]!)!.index;
      w.releaseLockTo(idx + 1);
      expect(w.heldSegments()).toEqual(names.slice(4));
      // etcd's example: releaseLockTo(index of segment 4) keeps segment 3.
      w.releaseLockTo(idx);
      expect(w.heldSegments()).toEqual(names.slice(4));
      expect(await w.purge(2)).toEqual(names.slice(0, 4));
      expect((await fs.list(dir)).filter((n) => n.endsWith(".wal"))).toEqual(names.slice(4));
      // The WAL still opens at a snapshot inside the kept segments.
      await w.close();
      const r = await WAL.openForRead(fs, dir, { index: idx, term: 1 });
      const got = await r.readAll();
      expect(got.entries[0]!.index).toBe(idx + 1);
      expect(got.entries[got.entries.length - 1]!.index).toBe(40);
    });

    test("a torn tail at EVERY byte of the last record is repaired to exactly the whole records", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 1), [ent(1)]);
      await w.save(hs(1, 2), [ent(2)]);
      await w.close();
      const path = await lastSegment();
      const full = await fs.readFile(path);
      // The last record is the state record of the second save; find where it starts.
      const d = new Decoder([{ name: "x", data: full }]);
      let lastStart = 0;
      for (let off = d.lastOffset(), r = d.decode(); r; off = d.lastOffset(), r = d.decode()) lastStart = off;
      expect(lastStart).toBeGreaterThan(0);
      for (let cut = lastStart; cut < full.length; cut++) {
        await fs.writeFile(path, full.subarray(0, cut));
        for (const n of await fs.list(dir)) if (n.endsWith(".broken")) await fs.remove(joinPath(dir, n));
        const r = await openAndReadAll(fs, dir, { index: 0, term: 0 });
        expect(r.entries).toEqual([ent(1), ent(2)]);
        // The state record of the second save was torn: the first save's state stands.
        expect(r.state).toEqual(hs(1, 1));
        // Repair kept a copy (none needed when the cut falls exactly between records).
        const broken = (await fs.list(dir)).filter((n) => n.endsWith(".broken"));
        expect(broken.length).toBe(cut === lastStart ? 0 : 1);
        // Appending after the repair continues the chain.
        await r.wal.save(hs(2, 3), [ent(3, 2)]);
        await r.wal.close();
        const again = await openAndReadAll(fs, dir, { index: 0, term: 0 });
        expect(again.entries).toEqual([ent(1), ent(2), ent(3, 2)]);
        expect(again.state).toEqual(hs(2, 3));
        await again.wal.close();
      }
    });

    test("a zero-filled tail (preallocated space) reads as the end and is cut before appending", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 1), [ent(1), ent(2)]);
      await w.close();
      const path = await lastSegment();
      const data = await fs.readFile(path);
      const padded = new Uint8Array(data.length + 4096);
      padded.set(data);
      await fs.writeFile(path, padded);
      const r = await openAndReadAll(fs, dir, { index: 0, term: 0 });
      expect(r.entries).toEqual([ent(1), ent(2)]);
      await r.wal.save(hs(1, 3), [ent(3)]);
      await r.wal.close();
      const again = await openAndReadAll(fs, dir, { index: 0, term: 0 });
      expect(again.entries).toEqual([ent(1), ent(2), ent(3)]);
      await again.wal.close();
      expect((await fs.readFile(path)).length).toBeLessThan(data.length + 200);
    });

    test("a torn write into zero-filled space (a sector never written) is a torn tail", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      await w.save(hs(1, 1), [ent(1)]);
      await w.save(hs(1, 2), [ent(2, 1, "q".repeat(1200))]);
      await w.close();
      const path = await lastSegment();
      const data = await fs.readFile(path);
      // Zero the last 600 bytes of the big entry's frame: whole sectors that never reached disk.
      const torn = data.slice();
      torn.fill(0, data.length - 600 - 40, data.length);
      await fs.writeFile(path, torn);
      const r = await openAndReadAll(fs, dir, { index: 0, term: 0 });
      expect(r.entries).toEqual([ent(1)]);
      await r.wal.close();
    });

    test("a flipped byte in the middle is corruption naming the file and offset; not repaired", async () => {
      const w = await WAL.create(fs, dir, bytes("md"));
      for (let i = 1; i <= 5; i++) await w.save(hs(1, i), [ent(i, 1, `payload-${i}`)]);
      await w.close();
      const path = await lastSegment();
      const name = path.slice(path.lastIndexOf("/") + 1);
      const good = await fs.readFile(path);
      // Locate the frame of entry 3 and flip each byte of its payload in turn.
      const d = new Decoder([{ name, data: good }]);
      let frameOff = -1;
      for (let off = d.lastOffset(), r = d.decode(); r; off = d.lastOffset(), r = d.decode()) {
        if (r.type === 2 && new TextDecoder().decode(r.data).includes("payload-3")) frameOff = off;
      }
      expect(frameOff).toBeGreaterThan(0);
      const payloadAt = frameOff + 8 + good.subarray(frameOff + 8).indexOf(bytes("payload-3")[0]!);
      for (let k = 0; k < "payload-3".length; k++) {
        const bad = good.slice();
        bad[payloadAt + k] ^= 0x40;
        await fs.writeFile(path, bad);
        const err = await openAndReadAll(fs, dir, { index: 0, term: 0 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WalDecodeError);
        const de = err as WalDecodeError;
        expect(errorIs(de, ErrCRCMismatch)).toBe(true);
        expect(errorIs(de, ErrUnexpectedEOF)).toBe(false);
        expect(de.file).toBe(name);
        expect(de.offset).toBe(frameOff);
        expect(de.message).toMatch(new RegExp(`^walpb: crc mismatch: expected: [0-9a-f]+ computed: [0-9a-f]+: in file '${name}' at position: ${frameOff}$`));
      }
      // Nothing was cut off.
      expect((await fs.readFile(path)).length).toBe(good.length);
      // A length word with stray flag bits is corruption too, not a torn tail.
      const bad = good.slice();
      bad[frameOff + 7] = 0x40;
      await fs.writeFile(path, bad);
      await expect(openAndReadAll(fs, dir, { index: 0, term: 0 })).rejects.toSatisfy(
        (e: unknown) => errorIs(e, ErrCorruptRecord) && (e as WalDecodeError).offset === frameOff,
      );
    });
  });
}
