/**
 * Crash recovery of a real member (issue 5): kill -9 during a write load, a torn WAL tail, a
 * corrupted WAL record, and a restart after 200k writes with snapshots and purged WAL segments.
 * Each case checks what a client could see: every acknowledged write is there with the revision it
 * was acknowledged at, revisions never go backwards, and a member that cannot trust its log refuses
 * to serve. Random choices come from a seeded source whose seed is printed.
 */
import { cpSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Member, restartMember, startMember } from "./harness.js";

const seed = Number(process.env["CRASH_SEED"] ?? Date.now() % 1_000_000);
console.log(`crash.e2e seed ${seed} (CRASH_SEED=${seed} to repeat)`);
/** mulberry32 */
function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed);

// A keep-alive agent: the loads below make tens of thousands of requests.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
afterAll(() => agent.destroy());

function post(m: Member, path: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port: m.clientPort, path, method: "POST", agent, headers: { "content-length": Buffer.byteLength(data) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text });
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** Puts and returns the revision it was acknowledged at (throws unless 200). */
async function put(m: Member, key: string, value: string): Promise<number> {
  const r = await post(m, "/v3/kv/put", { key: b64(key), value: b64(value) });
  if (r.status !== 200) throw new Error(`put ${key}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return Number(r.body.header.revision);
}

interface KV {
  key: string;
  value: string;
  modRevision: number;
}

/** A linearizable range over [key, rangeEnd) (or the one key): the header revision and the pairs. */
async function range(m: Member, key: string, rangeEnd?: string): Promise<{ revision: number; kvs: Map<string, KV> }> {
  const r = await post(m, "/v3/kv/range", rangeEnd === undefined ? { key: b64(key) } : { key: b64(key), range_end: b64(rangeEnd) });
  if (r.status !== 200) throw new Error(`range ${key}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  const kvs = new Map<string, KV>();
  for (const kv of (r.body.kvs ?? []) as { key: string; value?: string; mod_revision: string }[]) {
    const k = Buffer.from(kv.key, "base64").toString();
    kvs.set(k, { key: k, value: Buffer.from(kv.value ?? "", "base64").toString(), modRevision: Number(kv.mod_revision) });
  }
  return { revision: Number(r.body.header.revision), kvs };
}

/** The keys of `prefix`: [prefix, prefix with its last byte + 1). */
const prefixEnd = (p: string): string => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);

async function hashKV(m: Member): Promise<{ hash: string; revision: number }> {
  const r = await post(m, "/v3/maintenance/hashkv", { revision: 0 });
  if (r.status !== 200) throw new Error(`hashkv: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return { hash: String(r.body.hash), revision: Number(r.body.header.revision) };
}

const walDir = (m: Member): string => join(m.dataDir, "data", "member", "wal");
const snapDir = (m: Member): string => join(m.dataDir, "data", "member", "snap");
const segments = (m: Member): string[] =>
  readdirSync(walDir(m))
    .filter((n) => n.endsWith(".wal"))
    .sort();

/** A WAL frame (etcd's encoder: 8-byte little-endian length word, the record, padding to 8). */
interface Frame {
  offset: number;
  /** Offset just past the frame, padding included. */
  end: number;
  /** walpb.Record.type: 1 metadata, 2 entry, 3 state, 4 crc, 5 snapshot. */
  type: number;
  /** [dataStart, end of the record) */
  recordStart: number;
  recordEnd: number;
}

/** Splits a segment into frames, stopping at the first zero length word or a frame past the end. */
function frames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const lenField = buf.readBigUInt64LE(off);
    if (lenField === 0n) break;
    const len = Number(lenField & 0xffffffffffffffn);
    const pad = lenField >> 63n === 1n ? Number((lenField >> 56n) & 0x7n) : 0;
    const end = off + 8 + len + pad;
    if (end > buf.length) break;
    // Record field 1 (type) is a varint first in the record: tag 0x08, then a one-byte value.
    const type = buf[off + 8] === 0x08 ? buf[off + 9]! : 0;
    out.push({ offset: off, end, type, recordStart: off + 8, recordEnd: off + 8 + len });
    off = end;
  }
  return out;
}

/** The keys matching `re` that appear in entry frames ending at or before `cut`. */
function keysInEntries(buf: Buffer, cut: number, re: RegExp): Set<string> {
  const keys = new Set<string>();
  for (const f of frames(buf)) {
    if (f.end > cut) break;
    if (f.type !== 2) continue;
    for (const k of buf.subarray(f.recordStart, f.recordEnd).toString("latin1").match(re) ?? []) keys.add(k);
  }
  return keys;
}

/** Removes the LMDB backend (member/snap/db), so a restart replays the whole WAL. */
function removeBackend(m: Member): void {
  rmSync(join(snapDir(m), "db"), { recursive: true, force: true });
}

describe("crash recovery", () => {
  it("kill -9 during a concurrent write load, 5 rounds: every acknowledged write survives with its revision; revisions never go back", async () => {
    const clients = 6;
    // Snapshots every 1000 entries, so some kills land around a snapshot.
    let m = await startMember({ name: "crash-kill", flags: ["--snapshot-count", "1000"] });
    const acked = new Map<string, { value: string; rev: number }>();
    let lastRev = 0;
    try {
      for (let round = 0; round < 5; round++) {
        let stopLoad = false;
        let roundAcks = 0;
        const load = Array.from({ length: clients }, async (_, c) => {
          for (let i = 0; !stopLoad; i++) {
            const key = `kill/r${round}/c${c}/${String(i).padStart(6, "0")}`;
            const value = `v-${round}-${c}-${i}-${"x".repeat(i % 64)}`;
            let rev: number;
            try {
              rev = await put(m, key, value);
            } catch {
              return; // the member died under us
            }
            acked.set(key, { value, rev });
            roundAcks++;
          }
        });
        await new Promise((r) => setTimeout(r, 300 + Math.floor(rand() * 700)));
        const code = await m.stop("SIGKILL", { keepDataDir: true });
        expect(code).toBeNull();
        stopLoad = true;
        await Promise.all(load);
        expect(roundAcks).toBeGreaterThan(0);

        m = await restartMember(m);
        expect(m.stderr()).toContain("found a member directory; restarting it");
        const { revision, kvs } = await range(m, "kill/", prefixEnd("kill/"));
        const missing: string[] = [];
        for (const [key, a] of acked) {
          const got = kvs.get(key);
          if (got === undefined || got.value !== a.value || got.modRevision !== a.rev) {
            missing.push(`${key}: acknowledged at ${a.rev}, found ${got ? `${got.modRevision} ${got.value}` : "nothing"}`);
          }
        }
        expect(missing.slice(0, 10), `round ${round}: ${missing.length} acknowledged writes lost or changed`).toEqual([]);
        const maxAcked = Math.max(...[...acked.values()].map((a) => a.rev));
        expect(revision).toBeGreaterThanOrEqual(maxAcked);
        expect(revision).toBeGreaterThanOrEqual(lastRev);
        lastRev = revision;
      }
      // Still writable, and the next revision follows on.
      expect(await put(m, "kill/after", "x")).toBe(lastRev + 1);
    } finally {
      await m.stop("SIGKILL");
    }
  });

  it("a WAL tail cut at random offsets (backend removed): it starts and serves exactly the entries before the cut", async () => {
    let m = await startMember({ name: "crash-torn" });
    const revs = new Map<string, number>();
    const pristine = `${m.dataDir}-pristine`;
    const repairs: string[] = [];
    try {
      // Concurrent puts, so entries of one Ready share a sync (as under load).
      for (let i = 0; i < 400; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, j) => {
            const key = `torn/k${String(i + j).padStart(5, "0")}`;
            revs.set(key, await put(m, key, `value-${i + j}`));
          }),
        );
      }
      await m.stop("SIGKILL", { keepDataDir: true });
      cpSync(m.dataDir, pristine, { recursive: true });
      const [seg] = segments(m);
      const segBuf = readFileSync(join(walDir(m), seg!));
      const fs = frames(segBuf);
      // Past the header records (crc, metadata, snapshot) and the first entries.
      const headerEnd = fs[3]!.offset;
      const size = fs[fs.length - 1]!.end;
      const boundaries = new Set(fs.map((f) => f.end));
      const cuts = [size - 1, ...Array.from({ length: 4 }, () => headerEnd + 1 + Math.floor(rand() * (size - headerEnd - 2)))];
      for (const cut of cuts) {
        rmSync(m.dataDir, { recursive: true, force: true });
        cpSync(pristine, m.dataDir, { recursive: true });
        removeBackend(m);
        truncateSync(join(walDir(m), seg!), cut);
        m = await restartMember(m);
        if (!boundaries.has(cut)) repairs.push(m.stderr());
        const expected = keysInEntries(segBuf, cut, /torn\/k\d{5}/g);
        const { kvs } = await range(m, "torn/", prefixEnd("torn/"));
        expect([...kvs.keys()].sort(), `cut at ${cut} of ${size}`).toEqual([...expected].sort());
        for (const kv of kvs.values()) expect(kv.modRevision, kv.key).toBe(revs.get(kv.key));
        // Writable after the repair.
        const rev = await put(m, "torn/after", "x");
        expect((await range(m, "torn/after")).kvs.get("torn/after")?.modRevision).toBe(rev);
        await m.stop("SIGTERM", { keepDataDir: true });
      }
      // Every cut inside a frame is repaired with a log line.
      for (const log of repairs) expect(log).toMatch(/repair/i);
    } finally {
      await m.stop("SIGKILL");
      rmSync(pristine, { recursive: true, force: true });
    }
  });

  it("a WAL tail cut with the backend kept (SIGTERM stop): it starts and every acknowledged write is there", async () => {
    let m = await startMember({ name: "crash-torn-db" });
    const revs = new Map<string, number>();
    try {
      for (let i = 0; i < 200; i++) revs.set(`tornb/k${i}`, await put(m, `tornb/k${i}`, `v${i}`));
      await m.stop("SIGTERM", { keepDataDir: true });
      const [seg] = segments(m);
      const size = statSync(join(walDir(m), seg!)).size;
      const fs = frames(readFileSync(join(walDir(m), seg!)));
      const last = fs[fs.length - 1]!;
      truncateSync(join(walDir(m), seg!), Math.min(size, last.end) - 3);
      m = await restartMember(m);
      const { kvs } = await range(m, "tornb/", prefixEnd("tornb/"));
      for (const [k, rev] of revs) expect(kvs.get(k)?.modRevision, k).toBe(rev);
      // New writes go on from the backend's revision and are readable.
      const rev = await put(m, "tornb/after", "x");
      expect(rev).toBe(Math.max(...revs.values()) + 1);
      expect((await range(m, "tornb/after")).kvs.get("tornb/after")?.modRevision).toBe(rev);
    } finally {
      await m.stop("SIGKILL");
    }
  });


  it("a byte flipped in an early WAL record (backend removed): exit non-zero naming the segment and offset, never serving", async () => {
    let m = await startMember({ name: "crash-flip" });
    try {
      for (let i = 0; i < 200; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => put(m, `flip/k${i + j}`, `value-${i + j}`)));
      }
      await m.stop("SIGTERM", { keepDataDir: true });
      removeBackend(m);
      const [seg] = segments(m);
      const path = join(walDir(m), seg!);
      const buf = readFileSync(path);
      const fs = frames(buf);
      const entries = fs.filter((f) => f.type === 2);
      // An entry record in the first half, well before the tail; flip a byte of its payload.
      const f = entries[Math.floor(entries.length / 4) + Math.floor(rand() * (entries.length / 4))]!;
      const at = f.recordEnd - 1 - Math.floor(rand() * Math.min(8, f.recordEnd - f.recordStart - 8));
      buf[at] = buf[at]! ^ 0xff;
      writeFileSync(path, buf);
      m = await restartMember(m, { waitHealthy: false });
      const code = await m.exited;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      const log = m.stderr();
      expect(log).toContain(seg!);
      expect(log).toMatch(new RegExp(`position: ${f.offset}\\b`));
      expect(log).not.toContain("serving client traffic");
    } finally {
      await m.stop("SIGKILL");
    }
  });

  // 200k writes: 2k puts of 64 KB (over 128 MB of WAL: three 64 MB segments), then 198k puts of
  // 100 B in txns of 99 (2k raft entries; --snapshot-count 500 makes several snapshots past the
  // big segments), all done before the first purge at 30 s.
  it("200k writes with --snapshot-count 500: snapshots taken, old WAL segments and snapshots purged (max 2), hashkv equal after restart", async () => {
    const flags = ["--snapshot-count", "500", "--max-wals", "2", "--max-snapshots", "2"];
    let m = await startMember({ name: "crash-snap", flags });
    const started = Date.now();
    try {
      const drive = async (writes: number, clients: number, op: (i: number) => Promise<unknown>) => {
        let n = 0;
        await Promise.all(
          Array.from({ length: clients }, async () => {
            while (n < writes) await op(n++);
          }),
        );
      };
      await drive(2000, 8, (i) => put(m, `snap/big/${i}`, `${i}${"B".repeat(64 * 1024)}`));
      const perTxn = 99;
      await drive(2000, 16, async (t) => {
        const success = Array.from({ length: perTxn }, (_, j) => ({
          request_put: { key: b64(`snap/small/${(t * perTxn + j) % 50_000}`), value: b64(`${t}-${j}${"s".repeat(100)}`) },
        }));
        const r = await post(m, "/v3/kv/txn", { success });
        if (r.status !== 200) throw new Error(`txn ${t}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      });
      const writes = 2000 + 2000 * perTxn;
      expect(writes).toBe(200_000);
      const loadSeconds = (Date.now() - started) / 1000;
      const snaps = () => readdirSync(snapDir(m)).filter((f) => f.endsWith(".snap"));
      expect(snaps().length).toBeGreaterThan(0);
      // The purge runs every 30 s (etcd's purgeFileInterval) from the start: wait for the first
      // run after the load (the second one on a slow machine).
      const waitUntil = started + (Date.now() - started < 29_000 ? 40_000 : 70_000);
      while (segments(m).length > 2 || snaps().length > 2) {
        if (Date.now() > waitUntil) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      console.log(`crash.e2e snapshot case: ${writes} writes in ${loadSeconds.toFixed(1)} s; wal ${segments(m).join(",")}; snap ${snaps().join(",")}`);
      expect(segments(m).length).toBeLessThanOrEqual(2);
      expect(snaps().length).toBeLessThanOrEqual(2);
      expect(segments(m)[0]).not.toBe("0000000000000000-0000000000000000.wal");
      const before = await hashKV(m);
      expect(await m.stop("SIGTERM", { keepDataDir: true })).toBe(0);
      m = await restartMember(m);
      expect(m.stderr()).toMatch(/restarting etcd member \S+ in cluster \S+ at commit index \d+ \(snapshot [1-9]\d*,/);
      const after = await hashKV(m);
      expect(after).toEqual(before);
    } finally {
      await m.stop("SIGKILL");
    }
  });
});
