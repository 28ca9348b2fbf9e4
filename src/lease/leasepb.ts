/**
 * leasepb (etcd server/lease/leasepb/lease.proto): the record the lessor keeps per lease in the
 * backend's `lease` bucket, under the key `leaseIdToBytes(id)` (etcd's schema: 8 bytes, big-endian,
 * the id's two's complement). The bytes are gogoproto's: fields in order, zero values omitted,
 * negative int64s as 10-byte varints — so backend hashes match etcd's.
 *
 * ```
 * message Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3; }
 * ```
 */
import { Reader, readInt64 as readI64, readInt64Num, VARINT, writeInt64 as writeI64, writeInt64Num, Writer } from "../pb/wire.js";
import type { LeaseID } from "./lease-item.js";

export interface LeasePb {
  id: LeaseID;
  /** Granted TTL in seconds. */
  ttl: number;
  /** Last checkpointed remaining TTL in seconds; 0 = unset (the full TTL applies). */
  remainingTtl: number;
}

const pkg = "leasepb";
const writeInt64 = (w: Writer, field: number, v: bigint): void => writeI64(w, field, v, pkg);
const writeNum = (w: Writer, field: number, v: number): void => writeInt64Num(w, field, v, pkg);
const readInt64 = (r: Reader): bigint => readI64(r, pkg);
const readNum = (r: Reader): number => readInt64Num(r, pkg);

/** gogoproto's bytes of a leasepb.Lease. */
export function encodeLease(l: LeasePb): Uint8Array {
  const w = Writer.create();
  writeInt64(w, 1, l.id);
  writeNum(w, 2, l.ttl);
  writeNum(w, 3, l.remainingTtl);
  return w.finish();
}

/** Decodes a leasepb.Lease, skipping unknown fields; throws RangeError on malformed bytes. */
export function decodeLease(b: Uint8Array): LeasePb {
  const r = Reader.create(b);
  const l: LeasePb = { id: 0n, ttl: 0, remainingTtl: 0 };
  while (r.pos < b.length) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field >= 1 && field <= 3 && wt !== VARINT) {
      throw new RangeError(`leasepb: Lease field ${field} has wire type ${wt}`);
    }
    switch (field) {
      case 1:
        l.id = readInt64(r);
        break;
      case 2:
        l.ttl = readNum(r);
        break;
      case 3:
        l.remainingTtl = readNum(r);
        break;
      default:
        if (field === 0) throw new RangeError("leasepb: field number 0");
        r.skipType(wt);
    }
  }
  return l;
}

/** etcd's leaseIDToBytes: the lease bucket key, 8 bytes big-endian of the id as uint64. */
export function leaseIdToBytes(id: LeaseID): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, id));
  return out;
}

/** etcd's bytesToLeaseID; throws RangeError unless `b` has 8 bytes (etcd panics). */
export function bytesToLeaseId(b: Uint8Array): LeaseID {
  if (b.length !== 8) throw new RangeError("lease ID must be 8-byte");
  return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0);
}
