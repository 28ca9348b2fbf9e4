/**
 * The backend snapshot format: what `Backend.snapshot()` streams and `Backend.restore()` reads, shared
 * by every backend so a snapshot from one restores into another. (etcd streams the bbolt file itself;
 * a format of our own keeps memory, LMDB and Durable Object backends interchangeable.)
 *
 * ```
 * magic    "EDGECDB1"                                    8 bytes
 * bucket   0x01 u32 nameLen  name (UTF-8)                starts a bucket; names strictly increasing by bytes
 * entry    0x02 u32 keyLen key  u32 valueLen value      belongs to the last bucket; keys strictly increasing
 * end      0x00 u32 crc32c                               CRC-32C of every byte before this record
 * ```
 * Integers are big-endian; nothing may follow `end`. Example: one bucket "key" holding a→b is
 * `EDGECDB1 01 00000003 "key" 02 00000001 "a" 00000001 "b" 00 <crc>`.
 */
import { compareBytes } from "./backend.js";
import { crc32cUpdate } from "./crc32c.js";

export const SnapshotMagic: Uint8Array = new TextEncoder().encode("EDGECDB1");
const TagEnd = 0x00;
const TagBucket = 0x01;
const TagEntry = 0x02;

/** Chunks are cut at about this many bytes (a single large entry makes one larger chunk). */
export const SnapshotChunkSize = 64 * 1024;

/** A decoded record: the start of a bucket, or an entry of the bucket started last. */
export type SnapshotRecord =
  | { kind: "bucket"; name: string }
  | { kind: "entry"; key: Uint8Array; value: Uint8Array };

/** Thrown for a stream that is not a well-formed snapshot (bad magic, truncation, order, checksum). */
export class ErrSnapshotCorrupt extends Error {
  constructor(detail: string) {
    super(`backend: snapshot corrupt: ${detail}`);
    this.name = "ErrSnapshotCorrupt";
  }
}

/**
 * Encodes buckets in the order given (they must be sorted by the bytes of their names, entries by key)
 * as a chunk stream. Iterating `entries` lazily is fine; the encoder pulls as it emits.
 */
export async function* encodeBackendSnapshot(
  buckets: Iterable<{ name: string; entries: Iterable<readonly [Uint8Array, Uint8Array]> }>,
  chunkSize: number = SnapshotChunkSize,
): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  let parts: Uint8Array[] = [];
  let pending = 0;
  let crc = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    pending += b.length;
    crc = crc32cUpdate(crc, b);
  };
  const header = (tag: number, len: number) => {
    const h = new Uint8Array(5);
    h[0] = tag;
    new DataView(h.buffer).setUint32(1, len);
    return h;
  };
  const flush = () => {
    const out = concat(parts, pending);
    parts = [];
    pending = 0;
    return out;
  };
  push(SnapshotMagic);
  for (const { name, entries } of buckets) {
    const n = enc.encode(name);
    push(header(TagBucket, n.length));
    push(n);
    for (const [k, v] of entries) {
      push(header(TagEntry, k.length));
      push(k);
      const vl = new Uint8Array(4);
      new DataView(vl.buffer).setUint32(0, v.length);
      push(vl);
      push(v);
      if (pending >= chunkSize) yield flush();
    }
  }
  const end = header(TagEnd, crc);
  parts.push(end);
  pending += end.length;
  yield flush();
}

/**
 * Decodes a snapshot stream record by record. The checksum is known only at the end, so a consumer
 * must stage what it reads and adopt it only after the iteration completes without throwing
 * (`ErrSnapshotCorrupt` otherwise).
 */
export async function* decodeBackendSnapshot(stream: AsyncIterable<Uint8Array>): AsyncGenerator<SnapshotRecord> {
  const it = stream[Symbol.asyncIterator]();
  let buf = new Uint8Array(0);
  let pos = 0;
  let crc = 0;
  let done = false;
  /** Ensures n unread bytes are buffered; false at a clean end of stream. */
  const fill = async (n: number): Promise<boolean> => {
    while (buf.length - pos < n) {
      if (done) return false;
      const r = await it.next();
      if (r.done) {
        done = true;
        continue;
      }
      const rest = buf.subarray(pos);
      const next = new Uint8Array(rest.length + r.value.length);
      next.set(rest);
      next.set(r.value, rest.length);
      buf = next;
      pos = 0;
    }
    return true;
  };
  const take = async (n: number, what: string): Promise<Uint8Array> => {
    if (!(await fill(n))) throw new ErrSnapshotCorrupt(`unexpected end of stream reading ${what}`);
    const out = buf.slice(pos, pos + n);
    pos += n;
    crc = crc32cUpdate(crc, out);
    return out;
  };
  const u32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0);

  const magic = await take(SnapshotMagic.length, "magic");
  if (compareBytes(magic, SnapshotMagic) !== 0) throw new ErrSnapshotCorrupt("bad magic");
  const dec = new TextDecoder("utf-8", { fatal: true });
  let lastBucket: Uint8Array | undefined;
  let lastKey: Uint8Array | undefined;
  for (;;) {
    const crcBefore = crc;
    const head = await take(5, "record header");
    const len = u32(head.subarray(1));
    switch (head[0]) {
      case TagEnd: {
        if (len !== crcBefore) throw new ErrSnapshotCorrupt(`checksum mismatch (stored ${hex(len)}, computed ${hex(crcBefore)})`);
        if (await fill(1)) throw new ErrSnapshotCorrupt("trailing bytes after end record");
        return;
      }
      case TagBucket: {
        const nameBytes = await take(len, "bucket name");
        if (lastBucket && compareBytes(lastBucket, nameBytes) >= 0) throw new ErrSnapshotCorrupt("buckets out of order");
        lastBucket = nameBytes;
        lastKey = undefined;
        let name: string;
        try {
          name = dec.decode(nameBytes);
        } catch {
          throw new ErrSnapshotCorrupt("bucket name is not UTF-8");
        }
        yield { kind: "bucket", name };
        break;
      }
      case TagEntry: {
        if (!lastBucket) throw new ErrSnapshotCorrupt("entry before any bucket");
        const key = await take(len, "key");
        if (key.length === 0) throw new ErrSnapshotCorrupt("empty key");
        if (lastKey && compareBytes(lastKey, key) >= 0) throw new ErrSnapshotCorrupt("keys out of order");
        lastKey = key;
        const value = await take(u32(await take(4, "value length")), "value");
        yield { kind: "entry", key, value };
        break;
      }
      default:
        throw new ErrSnapshotCorrupt(`unknown record tag ${head[0]}`);
    }
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
