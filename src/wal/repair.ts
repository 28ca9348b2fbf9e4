/**
 * etcd's wal.Repair (server/storage/wal/repair.go): cut a torn tail off the LAST segment. The
 * segment is copied to `<name>.broken` first, then truncated just past its last valid record and
 * synced. Corruption (a CRC mismatch, a malformed frame) is not repaired.
 */
import type { WalLogger } from "./logger.js";
import { Decoder } from "./decoder.js";
import { ErrCRCMismatch, ErrUnexpectedEOF, errorIs } from "./errors.js";
import { type WalFS, joinPath } from "./files.js";
import { CrcType } from "./record.js";
import { readWALNames } from "./util.js";

/** Returns true when the last segment now decodes to its end (repaired or already whole). */
export async function repair(fs: WalFS, dir: string, lg: WalLogger): Promise<boolean> {
  let path: string;
  let data: Uint8Array;
  try {
    const names = await readWALNames(fs, dir, lg);
    const name = names[names.length - 1]!;
    path = joinPath(dir, name);
    data = await fs.readFile(path);
  } catch {
    return false;
  }
  lg.info("repairing", { path });
  const d = new Decoder([{ name: path.slice(path.lastIndexOf("/") + 1), data }]);
  for (;;) {
    const lastOffset = d.lastOffset();
    try {
      const rec = d.decode();
      if (rec === undefined) {
        lg.info("repaired", { path, error: "EOF" });
        return true;
      }
      if (rec.type === CrcType) {
        const crc = d.lastCRC();
        if (crc !== 0 && rec.crc !== crc) {
          lg.warn("failed to repair", { path, error: ErrCRCMismatch.message });
          return false;
        }
        d.updateCRC(rec.crc);
      }
    } catch (err) {
      if (!errorIs(err, ErrUnexpectedEOF)) {
        lg.warn("failed to repair", { path, error: (err as Error).message });
        return false;
      }
      const brokenPath = `${path}.broken`;
      try {
        await fs.writeFile(brokenPath, data);
      } catch (e) {
        lg.warn("failed to create backup file", { path: brokenPath, error: (e as Error).message });
        return false;
      }
      try {
        await fs.truncate(path, lastOffset);
      } catch (e) {
        lg.warn("failed to truncate", { path, error: (e as Error).message });
        return false;
      }
      lg.info("repaired", { path, error: ErrUnexpectedEOF.message, offset: lastOffset, "dropped-bytes": data.length - lastOffset });
      return true;
    }
  }
}
