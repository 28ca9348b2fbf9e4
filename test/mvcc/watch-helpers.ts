import { newWatchableStore, type WatchableStore, type WatchableStoreConfig } from "../../src/mvcc/watchable-store.js";
import { EventType, type Event } from "../../src/mvcc/mvccpb.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";
import type { Backend } from "../../src/storage/backend.js";
import { FakeLessor, noSleep, str } from "./kvstore-helpers.js";

export { b, str, allFrom, kv } from "./kvstore-helpers.js";

/** A watchable store over a MemoryBackend whose compaction batches interleave on microtasks. */
export function testWatchableStore(
  cfg: WatchableStoreConfig = {},
  backend: Backend = new MemoryBackend(),
): { s: WatchableStore; backend: Backend } {
  return { s: newWatchableStore(backend, new FakeLessor(), { sleep: noSleep, ...cfg }), backend };
}

/** "PUT foo@2" / "DELETE foo@3": one short line per event. */
export function ev(e: Event): string {
  return `${e.type === EventType.DELETE ? "DELETE" : "PUT"} ${str(e.kv.key)}@${e.kv.modRevision}`;
}

/** Flushes the microtask queue a few times (lets a scheduled compaction finish with noSleep). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
