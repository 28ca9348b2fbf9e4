/**
 * etcd's KV hashes (server/storage/mvcc/hash.go): the CRC-32C of the `key` bucket's revisions up
 * to a revision, which members compare to find corruption, and the last few hashes computed by
 * compactions, kept so a peer can ask for the hash at a compaction revision later.
 */
import { KeyBucket, type ReadView } from "../storage/backend.js";
import { Crc32c } from "../storage/crc32c.js";
import type { AvailableRevisions } from "./key-index.js";
import type { KeyValueHash } from "./kv.js";
import { bytesToRev, isTombstone, revisionKey } from "./revision.js";

/** etcd's hashStorageMaxSize: compaction hashes remembered. */
export const hashStorageMaxSize = 10;

const keyBucketName = new TextEncoder().encode(KeyBucket);

/**
 * Hashes backend revisions in key (= revision) order: the bucket name, then key and value of
 * every revision ≤ `revision`, except those ≤ `compactRevision` that a compaction at
 * `compactRevision` removes (when `keep` is non-empty, only revisions in it are hashed there) and a
 * tombstone at exactly `compactRevision` (older etcd versions deleted it; skipping it keeps their
 * hashes and ours equal).
 */
export class KvHasher {
  private readonly crc = new Crc32c();

  constructor(
    readonly compactRevision: number,
    readonly revision: number,
    private readonly keep: AvailableRevisions,
  ) {
    this.crc.write(keyBucketName);
  }

  writeKeyValue(k: Uint8Array, v: Uint8Array): void {
    const kr = bytesToRev(k);
    if (kr.main > this.revision) return;
    if (kr.main <= this.compactRevision && this.keep.size > 0 && !this.keep.has(revisionKey(kr))) return;
    if (kr.main === this.compactRevision && isTombstone(k)) return;
    this.crc.write(k);
    this.crc.write(v);
  }

  hash(): KeyValueHash {
    return { hash: this.crc.sum() >>> 0, compactRevision: this.compactRevision, revision: this.revision };
  }
}

/** etcd's unsafeHashByRev: hashes the whole key bucket of `tx`. */
export function unsafeHashByRev(
  tx: ReadView,
  compactRevision: number,
  revision: number,
  keep: AvailableRevisions,
): KeyValueHash {
  const h = new KvHasher(compactRevision, revision, keep);
  tx.unsafeForEach(KeyBucket, (k, v) => {
    h.writeKeyValue(k, v);
  });
  return h.hash();
}

/** The hashes compactions computed, newest {@link hashStorageMaxSize}, sorted by revision. */
export class HashStorage {
  private list: KeyValueHash[] = [];

  store(h: KeyValueHash): void {
    this.list.push(h);
    this.list.sort((a, b) => a.revision - b.revision);
    if (this.list.length > hashStorageMaxSize) this.list = this.list.slice(this.list.length - hashStorageMaxSize);
  }

  /** The stored hash at exactly `revision`, if any. */
  find(revision: number): KeyValueHash | undefined {
    return this.list.find((h) => h.revision === revision);
  }

  hashes(): KeyValueHash[] {
    return [...this.list];
  }
}
