/**
 * MVCC revisions (etcd server/mvcc/revision.go) and their backend key encoding.
 *
 * `main` is the revision of a write transaction (one per committed txn, strictly increasing);
 * `sub` numbers the changes inside that transaction from 0. Both are non-negative integers
 * ≤ `Number.MAX_SAFE_INTEGER`.
 */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/** Bytes of an encoded revision: 8 (main, big-endian) + 1 ('_') + 8 (sub, big-endian). */
export const revBytesLen = 17;
/** Bytes of an encoded revision carrying the tombstone mark ('t'). */
export const markedRevBytesLen = revBytesLen + 1;

const markBytePosition = markedRevBytesLen - 1;
const markTombstone = 0x74; // 't'
const separator = 0x5f; // '_'
const two32 = 0x1_0000_0000;

/** The zero revision, "no revision" in etcd. */
export const zeroRevision: Revision = Object.freeze({ main: 0, sub: 0 });

export function revision(main: number, sub = 0): Revision {
  return { main, sub };
}

/** Negative when a < b, 0 when equal, positive when a > b; orders by main, then sub. */
export function compareRevision(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

export function revisionGreaterThan(a: Revision, b: Revision): boolean {
  return compareRevision(a, b) > 0;
}

export function revisionEqual(a: Revision, b: Revision): boolean {
  return a.main === b.main && a.sub === b.sub;
}

/** A string key for a revision, for maps and sets keyed by revision (etcd's map[revision]struct{}). */
export function revisionKey(r: Revision): string {
  return `${r.main}_${r.sub}`;
}

/** One stable line: `{main sub}` as etcd prints a revision. */
export function describeRevision(r: Revision): string {
  return `{${r.main} ${r.sub}}`;
}

function writeUint64(view: DataView, offset: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`mvcc: revision component ${n} is not a non-negative safe integer`);
  }
  view.setUint32(offset, Math.floor(n / two32));
  view.setUint32(offset + 4, n % two32);
}

function readUint64(view: DataView, offset: number): number {
  const hi = view.getUint32(offset);
  const lo = view.getUint32(offset + 4);
  // hi ≤ 0x1fffff keeps hi·2³² + lo ≤ 2⁵³ − 1; anything larger (or a negative int64) is corrupt.
  if (hi > 0x1f_ffff) {
    throw new Error("mvcc: encoded revision exceeds Number.MAX_SAFE_INTEGER");
  }
  return hi * two32 + lo;
}

/**
 * etcd's revToBytes: the 17-byte backend key of a revision, `main '_' sub`, so that the byte order
 * of keys is the order of revisions.
 */
export function revToBytes(r: Revision): Uint8Array {
  const out = new Uint8Array(revBytesLen);
  const view = new DataView(out.buffer);
  writeUint64(view, 0, r.main);
  out[8] = separator;
  writeUint64(view, 9, r.sub);
  return out;
}

/** etcd's bytesToRev: decodes the first 17 bytes (a tombstone mark after them is ignored). */
export function bytesToRev(b: Uint8Array): Revision {
  if (b.length < revBytesLen) {
    throw new Error(`mvcc: revision key too short (${b.length} bytes)`);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { main: readUint64(view, 0), sub: readUint64(view, 9) };
}

/** etcd's appendMarkTombstone: a copy of a 17-byte revision key with the trailing 't'. */
export function appendMarkTombstone(b: Uint8Array): Uint8Array {
  if (b.length !== revBytesLen) {
    throw new Error(`mvcc: cannot mark a ${b.length}-byte key as a tombstone`);
  }
  const out = new Uint8Array(markedRevBytesLen);
  out.set(b);
  out[markBytePosition] = markTombstone;
  return out;
}

/** etcd's isTombstone: whether a backend key is a revision key carrying the tombstone mark. */
export function isTombstone(b: Uint8Array): boolean {
  return b.length === markedRevBytesLen && b[markBytePosition] === markTombstone;
}
