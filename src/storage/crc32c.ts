/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum etcd uses for the backend
 * hash (`crc32.MakeTable(crc32.Castagnoli)`), the WAL record chain and snapshot files.
 *
 * Table-driven, slicing-by-4 over plain Uint8Arrays. Values are unsigned 32-bit numbers
 * (0 ≤ crc < 2^32), as Go's `crc32.Checksum` returns them.
 */

/** Reflected Castagnoli polynomial. */
export const Castagnoli = 0x82f63b78;

/** tables[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-4). */
const tables: Uint32Array[] = makeTables();

function makeTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ Castagnoli : c >>> 1;
    t0[i] = c >>> 0;
  }
  const out = [t0];
  for (let k = 1; k < 4; k++) {
    const prev = out[k - 1]!;
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = (t0[prev[i]! & 0xff]! ^ (prev[i]! >>> 8)) >>> 0;
    out.push(t);
  }
  return out;
}

/**
 * Go's `crc32.Update(crc, castagnoliTable, data)`: extends `crc` (the checksum of the bytes before
 * `data`, 0 for none) over `data`. `update(update(0, a), b) === crc32c(a ++ b)`.
 */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  const [t0, t1, t2, t3] = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
  }
  for (; i < n; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32C of `data` (Go's `crc32.Checksum(data, castagnoliTable)`). */
export function crc32c(data: Uint8Array): number {
  return crc32cUpdate(0, data);
}

/** An incremental CRC-32C, like Go's `crc32.New(castagnoliTable)`: `write` chunks, read `sum()`. */
export class Crc32c {
  private crc = 0;

  write(data: Uint8Array): this {
    this.crc = crc32cUpdate(this.crc, data);
    return this;
  }

  /** The checksum of every byte written so far (Go's `Sum32`). */
  sum(): number {
    return this.crc;
  }
}
