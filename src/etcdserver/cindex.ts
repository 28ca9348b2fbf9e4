/**
 * The consistent index (etcd server/etcdserver/cindex): the index and term of the last raft entry
 * applied, written to the `meta` bucket in every backend commit (through the pre-commit hook), so
 * on restart the server replays only entries the backend has not seen.
 */
import { MetaBucket, MetaConsistentIndexKeyName, MetaTermKeyName, type BatchTx, type ReadView } from "../storage/backend.js";

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false);
  return b;
}

function readU64(tx: ReadView, key: Uint8Array): number {
  if (!tx.hasBucket(MetaBucket)) return 0;
  const { values } = tx.unsafeRange(MetaBucket, key);
  if (values.length === 0) return 0;
  const v = values[0]!;
  if (v.length !== 8) throw new Error(`cindex: ${new TextDecoder().decode(key)} has ${v.length} bytes, want 8`);
  return Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, false));
}

export class ConsistentIndexer {
  private index = 0;
  private term = 0;

  consistentIndex(): number {
    return this.index;
  }

  /** Records the entry being applied; saved with the next commit. */
  setConsistentIndex(index: number, term: number): void {
    this.index = index;
    this.term = term;
  }

  /** etcd's UnsafeSave: writes the index and term into `tx` (the pre-commit hook). Never goes backwards on disk. */
  unsafeSave(tx: BatchTx): void {
    if (this.index === 0) return;
    tx.createBucket(MetaBucket);
    tx.put(MetaBucket, MetaConsistentIndexKeyName, u64(this.index));
    tx.put(MetaBucket, MetaTermKeyName, u64(this.term));
  }

  /** Loads what the backend holds (on start). */
  load(tx: ReadView): void {
    this.index = readU64(tx, MetaConsistentIndexKeyName);
    this.term = readU64(tx, MetaTermKeyName);
  }
}
