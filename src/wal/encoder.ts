/**
 * WAL framing (etcd server/storage/wal/encoder.go). Each record is one frame:
 *
 *   [8-byte little-endian length word][marshalled walpb.Record][0–7 zero bytes of padding]
 *
 * The length word's low 56 bits are the record's byte length; when padding is needed to reach 8-byte
 * alignment, its top byte is `0x80 | padBytes` (so the word reads as negative in Go's int64). A frame
 * therefore always ends on an 8-byte boundary and a length word is never split across sectors.
 *
 * Each non-crc record's `crc` is CRC-32C chained over the previous record's crc and this record's
 * data: `crc = crc32c.Update(prevCrc, data)`. A crc record (type 4) heads every segment carrying the
 * chain value so far, so segments can be checked on their own.
 *
 * Example: a metadata record with data "ab" and prevCrc 0 marshals to
 *   08 01 10 <varint crc32c("ab")> 1a 02 61 62
 * and is framed with its length in the low bytes and 0x80|pad in byte 7.
 */
import { crc32cUpdate } from "../storage/crc32c.js";
import { CrcType, type Record, encodeRecord } from "./record.js";

/** etcd's frameSizeBytes: the length word. */
export const frameSizeBytes = 8;

/** etcd's encodeFrameSize: the length word for `dataBytes` record bytes, and the padding after them. */
export function encodeFrameSize(dataBytes: number): { lenField: bigint; padBytes: number } {
  const padBytes = (8 - (dataBytes % 8)) % 8;
  let lenField = BigInt(dataBytes);
  if (padBytes !== 0) lenField |= BigInt(0x80 | padBytes) << 56n;
  return { lenField, padBytes };
}

/** etcd's decodeFrameSize. */
export function decodeFrameSize(lenField: bigint): { recBytes: number; padBytes: number } {
  const recBytes = Number(lenField & 0x00ff_ffff_ffff_ffffn);
  const top = Number(lenField >> 56n);
  return { recBytes, padBytes: top & 0x80 ? top & 7 : 0 };
}

/** One frame: length word, record bytes, zero padding. */
export function frame(recBytes: Uint8Array): Uint8Array {
  const n = recBytes.length;
  const pad = (8 - (n % 8)) % 8;
  const out = new Uint8Array(frameSizeBytes + n + pad);
  const dv = new DataView(out.buffer);
  // The 56-bit length as two little-endian 32-bit halves; byte 7 carries 0x80|pad.
  dv.setUint32(0, n % 0x1_0000_0000, true);
  dv.setUint32(4, Math.floor(n / 0x1_0000_0000) | (pad !== 0 ? (0x80 | pad) << 24 : 0), true);
  out.set(recBytes, frameSizeBytes);
  return out;
}

/**
 * Turns records into frames, keeping the CRC chain. Pure: the WAL decides where the bytes go.
 */
export class Encoder {
  /** @param prevCrc the chain value after the last record already in the log (0 for a new log). */
  constructor(private crc: number = 0) {}

  /** The chain value after the last encoded record (etcd's encoder.crc.Sum32()). */
  lastCRC(): number {
    return this.crc;
  }

  /** Frames `type`/`data`, setting the record's crc from the chain. A crc record carries the chain value. */
  encode(type: number, data: Uint8Array): Uint8Array {
    if (type !== CrcType) this.crc = crc32cUpdate(this.crc, data);
    const rec: Record = { type, crc: this.crc, data: type === CrcType ? new Uint8Array(0) : data };
    return frame(encodeRecord(rec));
  }
}
