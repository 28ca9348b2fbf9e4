/**
 * LmdbBackend (adapters/storage/lmdb): the shared Backend conformance suite, over temporary
 * directories, twice — flushing at once (batchInterval 0) and with small batches that flush on the
 * limit — plus what is particular to LMDB: byte order of its keys, durability across reopen, the
 * overlay (publish at commit, durable at flush), sizes and defrag on disk, and a SIGKILLed writer.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "lmdb";
import { afterAll, describe, expect, test } from "vitest";
import { DefaultBatchInterval, MaxKeySize, openLmdbBackend } from "../../adapters/storage/lmdb/lmdb-backend.js";
import { AllBuckets, type Backend, type BatchTx, KeyBucket, MetaBucket, type ReadTx, compareBytes } from "../../src/storage/backend.js";
import { dump, runBackendConformance } from "./backend-conformance.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "edgecd-lmdb-"));
  dirs.push(d);
  return d;
}

runBackendConformance("LmdbBackend", () => openLmdbBackend(join(tempDir(), "db"), { batchInterval: 0 }));

// Small batches flushed on the limit while later batches commit: the overlay's two layers in play.
runBackendConformance("LmdbBackend (batchLimit 3, batchInterval 5)", () =>
  openLmdbBackend(join(tempDir(), "db"), { batchInterval: 5, batchLimit: 3 }),
);

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);
const bytes = (...xs: number[]) => Uint8Array.from(xs);
const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

async function commit(be: Backend, fn: (tx: BatchTx) => void): Promise<void> {
  const tx = be.batchTx();
  fn(tx);
  await tx.commit();
}

function read<T>(be: Backend, fn: (r: ReadTx) => T): T {
  const r = be.readTx();
  try {
    return fn(r);
  } finally {
    r.end();
  }
}

/** Settles to "pending" if `p` has not settled within `ms`. */
async function state(p: Promise<unknown>, ms = 50): Promise<string> {
  return Promise.race([p.then(() => "resolved", () => "rejected"), new Promise<string>((r) => setTimeout(() => r("pending"), ms))]);
}

describe("LMDB key order", () => {
  test("LMDB's binary key order is compareBytes: 0x00/0xff bytes, a prefix before its extensions", async () => {
    const ordered = [
      bytes(0x00), bytes(0x00, 0x00), bytes(0x00, 0xff), bytes(0x01), bytes(0x61), bytes(0x61, 0x00), bytes(0x61, 0x00, 0x00),
      bytes(0x61, 0x01), bytes(0x61, 0x62), bytes(0x7f), bytes(0x80), bytes(0xfe, 0xff), bytes(0xff), bytes(0xff, 0x00), bytes(0xff, 0xff),
    ];
    for (let i = 1; i < ordered.length; i++) expect(compareBytes(ordered[i - 1]!, ordered[i]!)).toBeLessThan(0);
    const env = open<Uint8Array, Uint8Array>({ path: join(tempDir(), "raw"), keyEncoding: "binary", encoding: "binary" });
    const db = env.openDB<Uint8Array, Uint8Array>({ name: "t", keyEncoding: "binary", encoding: "binary" });
    await db.transaction(() => {
      for (const k of [...ordered].reverse()) db.putSync(k, k);
    });
    expect([...db.getKeys()].map((k) => hex(k as Uint8Array))).toEqual(ordered.map(hex));
    await env.close();
  });
});

describe("LmdbBackend on disk", () => {
  test("reopen finds exactly the committed state: every bucket (an empty one too), key and value", async () => {
    const path = join(tempDir(), "db");
    let be = openLmdbBackend(path);
    await commit(be, (tx) => {
      for (const n of AllBuckets) tx.createBucket(n);
      tx.createBucket("empty");
      for (let i = 0; i < 300; i++) tx.put(KeyBucket, b(`k${i}`), b(`v${i}`));
      tx.put(MetaBucket, bytes(0x00, 0xff), bytes());
    });
    await commit(be, (tx) => {
      for (let i = 0; i < 300; i += 3) tx.delete(KeyBucket, b(`k${i}`));
      tx.put(KeyBucket, b("k1"), b("changed"));
    });
    const uncommitted = be.batchTx();
    uncommitted.put(KeyBucket, b("never"), b("x"));
    uncommitted.rollback();
    const want = read(be, (r) => dump(r, [...AllBuckets, "empty"]));
    const hash = be.hash();
    await be.close();
    be = openLmdbBackend(path);
    read(be, (r) => {
      expect(r.hasBucket("empty")).toBe(true);
      expect(r.hasBucket("nope")).toBe(false);
      expect(dump(r, [...AllBuckets, "empty"])).toEqual(want);
    });
    expect(want[KeyBucket]).toHaveLength(200);
    expect(be.hash()).toBe(hash);
    await be.close();
  });

  test("commit publishes at once; its promise waits for the flush (interval or limit), and close flushes", async () => {
    const path = join(tempDir(), "db");
    const be = openLmdbBackend(path, { batchInterval: 60_000, batchLimit: 100 });
    const p1 = commit(be, (tx) => {
      tx.createBucket(KeyBucket);
      tx.put(KeyBucket, b("a"), b("1"));
    });
    // Visible to a reader opened after commit(), though not flushed: the overlay.
    read(be, (r) => expect(r.unsafeRange(KeyBucket, b("a")).values).toEqual([b("1")]));
    expect(await state(p1)).toBe("pending");
    // Reaching the batch limit flushes at once, taking the earlier batch with it.
    const p2 = commit(be, (tx) => {
      for (let i = 0; i < 100; i++) tx.put(KeyBucket, b(`n${i}`), b("x"));
    });
    expect(await state(Promise.all([p1, p2]), 5_000)).toBe("resolved");
    const p3 = commit(be, (tx) => tx.put(KeyBucket, b("late"), b("1")));
    expect(await state(p3)).toBe("pending");
    await be.close();
    expect(await state(p3)).toBe("resolved");
    const again = openLmdbBackend(path);
    read(again, (r) => expect(r.unsafeRange(KeyBucket, b("late")).values).toEqual([b("1")]));
    await again.close();
  });

  test("a lone commit waits for the interval's flush (etcd's default 100 ms); close flushes it", async () => {
    expect(DefaultBatchInterval).toBe(100);
    // An interval that cannot elapse during the test: the commit stays pending (timers never fire
    // early), so nothing but the timer or close() makes a batch below the limit durable…
    const be = openLmdbBackend(join(tempDir(), "db"), { batchInterval: 600_000 });
    const p = commit(be, (tx) => tx.createBucket(KeyBucket));
    expect(await state(p, 200)).toBe("pending");
    // …and close() flushes it.
    await be.close();
    expect(await state(p, 0)).toBe("resolved");
  });

  test("readers open across flushes keep their snapshots and never block the flush", async () => {
    const be = openLmdbBackend(join(tempDir(), "db"), { batchInterval: 0 });
    await commit(be, (tx) => {
      tx.createBucket(KeyBucket);
      tx.put(KeyBucket, b("a"), b("0"));
    });
    const readers: [ReadTx, string][] = [];
    for (let i = 1; i <= 20; i++) {
      readers.push([be.readTx(), String(i - 1)]);
      await commit(be, (tx) => tx.put(KeyBucket, b("a"), b(String(i))));
    }
    for (const [r, v] of readers) {
      expect(r.unsafeRange(KeyBucket, b("a")).values).toEqual([b(v)]);
      r.end();
    }
    await be.close();
  });

  test("a snapshot stream given up before its first chunk releases its view (the old generation goes after a defrag)", async () => {
    const path = join(tempDir(), "db");
    const be = openLmdbBackend(path, { batchInterval: 0 });
    await commit(be, (tx) => {
      tx.createBucket(KeyBucket);
      tx.put(KeyBucket, b("k"), b("v"));
    });
    const gens = () => readdirSync(path).sort();
    // A sender that fails before reading anything returns the stream unread.
    await be.snapshot()[Symbol.asyncIterator]().return?.();
    // One read to the end and one given up midway release theirs too.
    for await (const _ of be.snapshot()) void _;
    for await (const _ of be.snapshot()) break;
    await be.defrag();
    await new Promise((r) => setTimeout(r, 50));
    expect(gens()).toEqual(["gen-00000002"]);
    await be.close();
  });

  test("defrag rewrites the file: same contents, smaller file after many deletes; a reader across it keeps its view", async () => {
    const path = join(tempDir(), "db");
    const be = openLmdbBackend(path, { batchInterval: 0 });
    await commit(be, (tx) => {
      tx.createBucket(KeyBucket);
      for (let i = 0; i < 5000; i++) tx.put(KeyBucket, b(`key/${String(i).padStart(5, "0")}`), new Uint8Array(200).fill(i & 0xff));
    });
    await commit(be, (tx) => {
      for (let i = 0; i < 5000; i++) if (i % 10 !== 0) tx.delete(KeyBucket, b(`key/${String(i).padStart(5, "0")}`));
    });
    const before = be.size();
    const want = read(be, (r) => dump(r, [KeyBucket]));
    const hash = be.hash();
    const reader = be.readTx();
    const gens = () => readdirSync(path).sort();
    expect(gens()).toEqual(["gen-00000001"]);
    await be.defrag();
    expect(gens()).toEqual(["gen-00000001", "gen-00000002"]); // the old one is still read
    expect(dump(reader, [KeyBucket])).toEqual(want);
    reader.end();
    await new Promise((r) => setTimeout(r, 50));
    expect(gens()).toEqual(["gen-00000002"]);
    expect(be.size()).toBeLessThan(before / 4);
    expect(be.size()).toBe(statSync(join(path, "gen-00000002", "data.mdb")).size);
    expect(be.size()).toBe(be.sizeInUse());
    expect(read(be, (r) => dump(r, [KeyBucket]))).toEqual(want);
    expect(be.hash()).toBe(hash);
    await commit(be, (tx) => tx.put(KeyBucket, b("after"), b("1")));
    await be.close();
    const again = openLmdbBackend(path);
    expect(again.hash()).not.toBe(hash);
    read(again, (r) => expect(r.unsafeRange(KeyBucket, b("after")).values).toEqual([b("1")]));
    await again.close();
  });

  test("open keeps the newest complete generation and removes unfinished or retired ones", async () => {
    const path = join(tempDir(), "db");
    let be = openLmdbBackend(path);
    await commit(be, (tx) => tx.createBucket(KeyBucket));
    await be.close();
    mkdirSync(join(path, "gen-00000002.tmp"));
    writeFileSync(join(path, "gen-00000002.tmp", "data.mdb"), "half a copy");
    be = openLmdbBackend(path);
    expect(readdirSync(path)).toEqual(["gen-00000001"]);
    expect(read(be, (r) => r.hasBucket(KeyBucket))).toBe(true);
    await be.close();
  });

  test("a refused restore leaves the files as they were: the same state after reopen, no leftovers", async () => {
    const path = join(tempDir(), "db");
    let be = openLmdbBackend(path, { batchInterval: 0 });
    await commit(be, (tx) => {
      tx.createBucket(KeyBucket);
      tx.put(KeyBucket, b("mine"), b("1"));
    });
    const hash = be.hash();
    async function* bad() {
      yield b("EDGECDB1");
      yield bytes(0x01, 0, 0, 0, 3);
      yield b("key");
    }
    await expect(be.restore(bad())).rejects.toThrow();
    expect(readdirSync(path)).toEqual(["gen-00000001"]);
    await be.close();
    be = openLmdbBackend(path);
    expect(be.hash()).toBe(hash);
    await be.close();
  });

  test("sizes: size() is data.mdb on disk; sizeInUse ≤ size; a key too long for LMDB is refused at put", async () => {
    const path = join(tempDir(), "db");
    const be = openLmdbBackend(path, { batchInterval: 0 });
    await commit(be, (tx) => tx.createBucket(KeyBucket));
    expect(be.size()).toBe(statSync(join(path, "gen-00000001", "data.mdb")).size);
    expect(be.sizeInUse()).toBeLessThanOrEqual(be.size());
    const tx = be.batchTx();
    expect(() => tx.put(KeyBucket, new Uint8Array(MaxKeySize), b("x"))).toThrow(/too long/);
    tx.put(KeyBucket, new Uint8Array(MaxKeySize - 2 - KeyBucket.length), b("x"));
    await tx.commit();
    await be.close();
  });
});

describe("LmdbBackend crash safety", () => {
  test("SIGKILL mid-load: the reopened store holds a prefix of the committed batches, every durable one, none in part", async () => {
    const path = join(tempDir(), "db");
    const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), "lmdb-crash-child.mjs"), path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let durable = -1;
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const lines = out.split("\n");
        out = lines.pop()!;
        for (const l of lines) if (l.startsWith("durable ")) durable = Math.max(durable, Number(l.slice(8)));
        if (durable >= 300) resolve();
      });
    });
    child.removeAllListeners("exit");
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await exited;
    const be = openLmdbBackend(path);
    const batches = new Map<number, number>();
    read(be, (r) => {
      r.unsafeForEach(KeyBucket, (k, v) => {
        const n = Number(new TextDecoder().decode(k).split("/")[1]);
        expect(new TextDecoder().decode(v)).toBe(String(n));
        batches.set(n, (batches.get(n) ?? 0) + 1);
      });
      const last = Number(new TextDecoder().decode(r.unsafeRange(MetaBucket, b("last")).values[0]));
      expect(last).toBeGreaterThanOrEqual(durable);
      expect([...batches.keys()]).toEqual([...Array(last + 1).keys()]); // 0..last, no gap, nothing later
      for (const count of batches.values()) expect(count).toBe(3);
    });
    await be.close();
  });
});
