/**
 * snappb (etcd server/etcdserver/api/snap/snappb/snap.proto, proto2, gogoproto): the envelope of a
 * `.snap` file. `crc` is always written, `data` (a marshalled raftpb.Snapshot) when non-empty.
 *
 *   message snapshot { optional uint32 crc = 1; optional bytes data = 2; }
 */
import { LEN, Reader, VARINT, Writer, expectWireType, readBytes, readTag, readUint64, skipField } from "../pb/wire.js";

export interface SnapFile {
  /** CRC-32C of `data`. */
  crc: number;
  data: Uint8Array;
}

const pkg = "snappb";

export function encodeSnapFile(s: SnapFile): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | VARINT).uint32(s.crc >>> 0);
  if (s.data.length > 0) w.uint32((2 << 3) | LEN).bytes(s.data);
  return w.finish();
}

export function decodeSnapFile(b: Uint8Array): SnapFile {
  const r = Reader.create(b);
  const s: SnapFile = { crc: 0, data: new Uint8Array(0) };
  while (r.pos < r.len) {
    const [f, wt] = readTag(r, pkg);
    if (f === 1) {
      expectWireType(pkg, "snapshot", f, wt, VARINT);
      s.crc = Number(BigInt.asUintN(32, readUint64(r, pkg)));
    } else if (f === 2) {
      expectWireType(pkg, "snapshot", f, wt, LEN);
      s.data = readBytes(r, pkg);
    } else skipField(r, f, wt, pkg);
  }
  return s;
}
