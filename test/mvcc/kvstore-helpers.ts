import { NoLease, type LeaseID, type LeaseItem } from "../../src/lease/lease-item.js";
import type { KeyLessor } from "../../src/mvcc/kv.js";
import { newStore, type KvStore, type StoreConfig } from "../../src/mvcc/kvstore.js";
import { newKeyValue, type KeyValue } from "../../src/mvcc/mvccpb.js";
import type { Backend } from "../../src/storage/backend.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";

const utf8 = new TextEncoder();
export const b = (s: string): Uint8Array => utf8.encode(s);
export const str = (u: Uint8Array): string => new TextDecoder().decode(u);
/** etcd's "\0" range end: every key ≥ key. */
export const allFrom = new Uint8Array([0]);

/** A lessor that accepts every lease (etcd's lease.FakeLessor) but remembers attachments. */
export class FakeLessor implements KeyLessor {
  readonly attached = new Map<string, LeaseID>();
  readonly log: string[] = [];
  getLease(item: LeaseItem): LeaseID {
    return this.attached.get(item.key) ?? NoLease;
  }
  attach(id: LeaseID, items: LeaseItem[]): Error | undefined {
    for (const it of items) {
      this.attached.set(it.key, id);
      this.log.push(`attach ${id} ${it.key}`);
    }
    return undefined;
  }
  detach(id: LeaseID, items: LeaseItem[]): Error | undefined {
    for (const it of items) {
      if (this.attached.get(it.key) === id) this.attached.delete(it.key);
      this.log.push(`detach ${id} ${it.key}`);
    }
    return undefined;
  }
}

/** A sleep that resolves on the next microtask turn, so compaction batches interleave deterministically. */
export const noSleep = (): Promise<void> => Promise.resolve();

export function testStore(
  cfg: StoreConfig = {},
  backend: Backend = new MemoryBackend(),
  le: KeyLessor = new FakeLessor(),
): { s: KvStore; backend: Backend; le: KeyLessor } {
  return { s: newStore(backend, le, { sleep: noSleep, ...cfg }), backend, le };
}

export function kv(
  key: string,
  value: string,
  createRevision: number,
  modRevision: number,
  version: number,
  lease: LeaseID = 0n,
): KeyValue {
  return newKeyValue({ key: b(key), value: b(value), createRevision, modRevision, version, lease });
}

/** etcd's put3TestKVs: foo, foo1, foo2 at revisions 2, 3, 4 with leases 1, 2, 3. */
export function put3TestKVs(s: KvStore): KeyValue[] {
  s.put(b("foo"), b("bar"), 1n);
  s.put(b("foo1"), b("bar1"), 2n);
  s.put(b("foo2"), b("bar2"), 3n);
  return [kv("foo", "bar", 2, 2, 1, 1n), kv("foo1", "bar1", 3, 3, 1, 2n), kv("foo2", "bar2", 4, 4, 1, 3n)];
}
