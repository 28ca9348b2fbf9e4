/**
 * Reads frames back (etcd server/storage/wal/decoder.go) from whole segments held in memory, in
 * order, verifying the CRC chain of every non-crc record.
 *
 * How the end of the log is told apart from damage:
 * - A zero length word, or the end of a segment, ends that segment (zeros are preallocated or
 *   never-written space); `decode` then moves to the next one and returns undefined after the last.
 * - In the LAST segment, a frame that runs past the end of the file, or whose bytes fail to decode
 *   or check while one of its 512-byte sector chunks is all zeros, is a torn write: a
 *   WalDecodeError caused by ErrUnexpectedEOF. `repair` cuts it off.
 * - Anything else is corruption: a CRC mismatch (cause ErrCRCMismatch), or a malformed frame
 *   (cause ErrCorruptRecord: a length word with stray flag bits or unaligned, a frame past the end
 *   of a segment that is not the last, an undecodable record). Both name the file and the byte
 *   offset of the frame; nothing repairs them.
 *
 * edgecd adds the length-word checks (etcd trusts the word) so that more damage in the middle of
 * the last segment is reported as corruption instead of being cut off as a torn tail.
 */
import { crc32cUpdate } from "../storage/crc32c.js";
import { ErrCRCMismatch, ErrCorruptRecord, ErrUnexpectedEOF, WalDecodeError } from "./errors.js";
import { frameSizeBytes } from "./encoder.js";
import { CrcType, type Record, decodeRecord } from "./record.js";

/** etcd's minSectorSize: the unit a disk writes atomically, for torn-write detection. */
export const minSectorSize = 512;

/** One segment's name (for errors) and bytes. */
export interface Segment {
  name: string;
  data: Uint8Array;
}

export class Decoder {
  private i = 0;
  /** Offset in segment i just past the last valid record (etcd's lastValidOff). */
  private off = 0;
  private crc: number;

  constructor(
    private readonly segments: Segment[],
    prevCrc = 0,
  ) {
    this.crc = prevCrc;
  }

  /** The next record, or undefined at the end of the last segment. Throws WalDecodeError. */
  decode(): Record | undefined {
    for (;;) {
      const seg = this.segments[this.i];
      if (seg === undefined) return undefined;
      const data = seg.data;
      const last = this.i === this.segments.length - 1;
      const off = this.off;
      const remaining = data.length - off;
      if (remaining === 0 || (remaining < frameSizeBytes && allZero(data, off, data.length))) {
        this.nextSegment();
        continue;
      }
      if (remaining < frameSizeBytes) {
        throw this.failure(last ? ErrUnexpectedEOF : ErrCorruptRecord, "partial length word", seg.name, off);
      }
      const dv = new DataView(data.buffer, data.byteOffset + off, frameSizeBytes);
      const lo = dv.getUint32(0, true);
      const hi = dv.getUint32(4, true);
      if (lo === 0 && hi === 0) {
        this.nextSegment();
        continue;
      }
      const top = hi >>> 24;
      const recBytes = lo + (hi & 0xff_ffff) * 0x1_0000_0000;
      const padBytes = top & 0x80 ? top & 7 : 0;
      if ((top !== 0 && (top & 0x78) !== 0) || (top !== 0 && padBytes === 0) || (recBytes + padBytes) % 8 !== 0) {
        throw this.failure(ErrCorruptRecord, `invalid length word ${hex64(hi, lo)}`, seg.name, off);
      }
      const end = off + frameSizeBytes + recBytes + padBytes;
      if (end > data.length) {
        const detail = `frame of ${recBytes} bytes runs past the end of the file (${data.length} bytes)`;
        throw this.failure(last ? ErrUnexpectedEOF : ErrCorruptRecord, detail, seg.name, off);
      }
      const body = data.subarray(off + frameSizeBytes, end);
      let rec: Record;
      try {
        rec = decodeRecord(body.subarray(0, recBytes));
      } catch (e) {
        if (last && isTornEntry(body, off + frameSizeBytes)) throw this.failure(ErrUnexpectedEOF, "", seg.name, off);
        throw this.failure(ErrCorruptRecord, (e as Error).message, seg.name, off);
      }
      if (rec.type !== CrcType) {
        const crc = crc32cUpdate(this.crc, rec.data);
        if (crc !== rec.crc) {
          if (last && isTornEntry(body, off + frameSizeBytes)) throw this.failure(ErrUnexpectedEOF, "", seg.name, off);
          const detail = `expected: ${rec.crc.toString(16)} computed: ${crc.toString(16)}`;
          throw this.failure(ErrCRCMismatch, detail, seg.name, off);
        }
        this.crc = crc;
      }
      this.off = end;
      return rec;
    }
  }

  /** Offset just past the last valid record in the current segment (etcd's LastOffset). */
  lastOffset(): number {
    return this.off;
  }

  /** The CRC chain value after the last valid record. */
  lastCRC(): number {
    return this.crc;
  }

  /** Restarts the chain from a crc record's value (etcd's UpdateCRC). */
  updateCRC(prevCrc: number): void {
    this.crc = prevCrc;
  }

  /** Name of the segment being read (the last one once all are read). */
  currentSegment(): string | undefined {
    return this.segments[Math.min(this.i, this.segments.length - 1)]?.name;
  }

  private nextSegment(): void {
    if (this.i < this.segments.length - 1) this.off = 0;
    this.i++;
    if (this.i >= this.segments.length) this.i = this.segments.length;
  }

  private failure(cause: Error, detail: string, file: string, offset: number): WalDecodeError {
    const what = detail === "" ? cause.message : `${cause.message}: ${detail}`;
    return new WalDecodeError(`${what}: in file '${file}' at position: ${offset}`, file, offset, cause);
  }
}

/**
 * etcd's isTornEntry: whether some sector-aligned chunk of the frame body (starting at file offset
 * `fileOff`) is all zeros — a sector the crash never wrote.
 */
function isTornEntry(body: Uint8Array, fileOff: number): boolean {
  let cur = 0;
  let f = fileOff;
  while (cur < body.length) {
    const n = Math.min(minSectorSize - (f % minSectorSize), body.length - cur);
    if (allZero(body, cur, cur + n)) return true;
    cur += n;
    f += n;
  }
  return false;
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

function hex64(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}
