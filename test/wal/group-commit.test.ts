/**
 * What only the in-memory WalFS can show: when the WAL syncs (raft's mustSync, group commit) and
 * what survives a crash (unsynced bytes dropped, torn writes, a crash in the middle of a cut).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MemoryFS, WAL, joinPath, openAndReadAll } from "../../src/wal/index.js";
import { bytes, ent, hs } from "./wal-suite.js";

const dir = "/data/member/wal";
const zero = { index: 0, term: 0 };

async function fresh(opts = {}): Promise<{ fs: MemoryFS; w: WAL }> {
  const fs = new MemoryFS();
  await fs.mkdirp("/data/member");
  const w = await WAL.create(fs, dir, bytes("md"), opts);
  return { fs, w };
}

describe("mustSync is honoured (etcd's TestSync / raft.MustSync)", () => {
  test("entries or a term/vote change sync; a commit-only change does not", async () => {
    const { fs, w } = await fresh();
    let before = fs.stats.datasyncs;
    await w.save(hs(1, 0), [ent(1)]);
    expect(fs.stats.datasyncs - before).toBe(1);

    before = fs.stats.datasyncs;
    await w.save(hs(1, 1), []);
    expect(fs.stats.datasyncs - before).toBe(0);

    before = fs.stats.datasyncs;
    await w.save(hs(2, 1), []);
    expect(fs.stats.datasyncs - before).toBe(1);

    before = fs.stats.datasyncs;
    await w.save(hs(2, 1, 3n), []);
    expect(fs.stats.datasyncs - before).toBe(1);

    before = fs.stats.datasyncs;
    await w.save(hs(0, 0, 0n), []);
    expect(fs.stats.datasyncs - before).toBe(0);
  });

  test("unsafeNoFsync never syncs but still writes", async () => {
    const { fs, w } = await fresh({ unsafeNoFsync: true });
    const before = fs.stats.datasyncs;
    await w.save(hs(1, 0), [ent(1)]);
    await w.close();
    expect(fs.stats.datasyncs).toBe(before);
    const r = await openAndReadAll(fs, dir, zero);
    expect(r.entries).toEqual([ent(1)]);
  });

  test("a commit-only save is written with the next sync and survives close", async () => {
    const { fs, w } = await fresh();
    await w.save(hs(1, 0), [ent(1)]);
    await w.save(hs(1, 1), []);
    await w.close();
    const r = await openAndReadAll(fs, dir, zero);
    expect(r.state).toEqual(hs(1, 1));
  });
});

describe("group commit", () => {
  test("saves issued while a sync is in flight share one sync, and keep their order", async () => {
    const { fs, w } = await fresh();
    const before = fs.stats.datasyncs;
    const ps = [];
    for (let i = 1; i <= 50; i++) ps.push(w.save(hs(1, i - 1), [ent(i)]));
    await Promise.all(ps);
    // The first save starts a sync; the 49 issued meanwhile are written and synced together.
    expect(fs.stats.datasyncs - before).toBeLessThanOrEqual(2);
    await w.close();
    const r = await openAndReadAll(fs, dir, zero);
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  test("concurrent saves across segment cuts all land, in order", async () => {
    const { fs, w } = await fresh({ segmentSizeBytes: 256 });
    const ps = [];
    for (let i = 1; i <= 60; i++) {
      ps.push(w.save(hs(1, i - 1), [ent(i, 1, "c".repeat(30))]));
      // Let the I/O loop advance a varying number of steps, so calls land in the middle of cuts.
      for (let k = 0; k < i % 7; k++) await Promise.resolve();
    }
    await Promise.all(ps);
    await w.close();
    expect((await fs.list(dir)).filter((n) => n.endsWith(".wal")).length).toBeGreaterThan(3);
    const r = await openAndReadAll(fs, dir, zero, { segmentSizeBytes: 256 });
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(r.state).toEqual(hs(1, 59));
  });

  test("a save resolves only once its records are synced", async () => {
    const { fs, w } = await fresh();
    await w.save(hs(1, 0), [ent(1)]);
    let done = false;
    const p = w.save(hs(1, 0), [ent(2)]).then(() => (done = true));
    expect(done).toBe(false);
    await p;
    fs.crash();
    const r = await openAndReadAll(fs, dir, zero);
    expect(r.entries).toEqual([ent(1), ent(2)]);
  });

  test("an I/O failure fails the waiting saves and every later call", async () => {
    const { fs, w } = await fresh();
    await w.save(hs(1, 0), [ent(1)]);
    fs.crash(); // kills the open handle
    await expect(w.save(hs(1, 0), [ent(2)])).rejects.toThrow("crash");
    await expect(w.save(hs(1, 0), [ent(3)])).rejects.toThrow("crash");
  });
});

describe("crashes", () => {
  test("a crash keeps every acknowledged save and nothing unacknowledged beyond whole records", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.nat(), fc.integer({ min: 64, max: 600 }), async (n, keepSeed, seg) => {
        const { fs, w } = await fresh({ segmentSizeBytes: seg });
        for (let i = 1; i <= n; i++) await w.save(hs(1, i - 1), [ent(i)]);
        // Unacknowledged: issued, then the power fails before the sync.
        void w.save(hs(1, n), [ent(n + 1)]).catch(() => {});
        void w.save(hs(1, n), [ent(n + 2)]).catch(() => {});
        fs.crash({ keep: (_p, unsynced) => keepSeed % (unsynced + 1) });
        const r = await openAndReadAll(fs, dir, zero, { segmentSizeBytes: seg });
        const idx = r.entries.map((e) => e.index);
        expect(idx.slice(0, n)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(idx.length).toBeLessThanOrEqual(n + 2);
        for (const [k, v] of idx.entries()) expect(v).toBe(k + 1);
        await r.wal.save(hs(2, 0), [ent(idx.length + 1, 2)]);
        await r.wal.close();
        const again = await openAndReadAll(fs, dir, zero, { segmentSizeBytes: seg });
        expect(again.entries.length).toBe(idx.length + 1);
      }),
      { numRuns: 60 },
    );
  });

  test("a crash in the middle of a cut loses nothing acknowledged; a leftover 0.tmp is ignored", async () => {
    const { fs, w } = await fresh({ segmentSizeBytes: 100 });
    await w.save(hs(1, 0), [ent(1, 1, "a".repeat(50))]);
    // The next save cuts; make the rename fail by crashing just after the tmp file is written.
    const realRename = fs.rename.bind(fs);
    fs.rename = async () => {
      fs.crash();
      throw new Error("power lost");
    };
    await expect(w.save(hs(1, 0), [ent(2, 1, "b".repeat(80))])).rejects.toThrow("power lost");
    fs.rename = realRename;
    // The tmp file's name was never synced into the directory, so the crash took it; a leftover
    // one (with a synced directory) must be ignored all the same.
    fs.poke(joinPath(dir, "0.tmp"), bytes("half a segment"));
    expect(await fs.list(dir)).toContain("0.tmp");
    const r = await openAndReadAll(fs, dir, zero, { segmentSizeBytes: 100 });
    // Entry 2 was synced into the old segment before the cut began.
    expect(r.entries.map((e) => e.index)).toEqual([1, 2]);
    await r.wal.save(hs(1, 2), [ent(3)]);
    await r.wal.close();
    expect((await openAndReadAll(fs, dir, zero)).entries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  test("a WAL whose create never finished is not there", async () => {
    const fs = new MemoryFS();
    await fs.mkdirp("/data/member");
    const realRename = fs.rename.bind(fs);
    fs.rename = async () => {
      throw new Error("power lost");
    };
    await expect(WAL.create(fs, dir, bytes("md"))).rejects.toThrow("power lost");
    fs.rename = realRename;
    expect(await fs.exists(dir)).toBe(false);
    expect(await fs.exists(`${dir}.tmp`)).toBe(false);
  });
});
