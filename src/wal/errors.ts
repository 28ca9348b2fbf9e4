/**
 * The WAL's errors, with etcd's names and strings (server/storage/wal/wal.go, walpb/record.go, Go's
 * io and os). Errors that carry a place (decoder.ts) wrap one of these as their `cause`; test with
 * `errorIs`, never by message.
 */

export const ErrMetadataConflict = new Error("wal: conflicting metadata found");
export const ErrFileNotFound = new Error("wal: file not found");
export const ErrCRCMismatch = new Error("walpb: crc mismatch");
export const ErrSnapshotMismatch = new Error("wal: snapshot mismatch");
export const ErrSnapshotNotFound = new Error("wal: snapshot not found");
export const ErrSliceOutOfRange = new Error("wal: slice bounds out of range");
export const ErrDecoderNotFound = new Error("wal: decoder not found");
/** Go's os.ErrExist, which wal.Create returns when the directory already holds a WAL. */
export const ErrExist = new Error("file already exists");
/**
 * Go's io.ErrUnexpectedEOF: the log ends inside a record — a torn write at the tail, which
 * `repair` can cut off.
 */
export const ErrUnexpectedEOF = new Error("unexpected EOF");
/**
 * A frame that cannot be a torn tail and does not decode (bad length word, a frame running past
 * the end of a segment that is not the last, an undecodable record). etcd reports these as bare
 * protobuf or io errors; edgecd names them.
 */
export const ErrCorruptRecord = new Error("wal: corrupt record");

/** Go's errors.Is: `err` is `target` or wraps it through `cause`. */
export function errorIs(err: unknown, target: Error): boolean {
  for (let e: unknown = err, i = 0; e !== undefined && e !== null && i < 32; i++) {
    if (e === target) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A decode failure at a place in the log: `file` (segment name) and byte `offset` of the frame. */
export class WalDecodeError extends Error {
  override readonly name = "WalDecodeError";
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
    cause: Error,
  ) {
    super(message, { cause });
  }
}
