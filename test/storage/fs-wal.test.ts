/** The WAL suite (test/wal/wal-suite.ts) over Node's fs (adapters/storage/fs) on a temp dir. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFS } from "../../adapters/storage/fs/node-fs.js";
import { runWalSuite } from "../wal/wal-suite.js";

runWalSuite("node fs", async () => {
  const root = await mkdtemp(join(tmpdir(), "edgecd-wal-"));
  return { fs: new NodeFS(), root, cleanup: () => rm(root, { recursive: true, force: true }) };
});
