/** The snapshotter suite (test/snap/snap-suite.ts) over Node's fs on a temp dir. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFS } from "../../adapters/storage/fs/node-fs.js";
import { runSnapSuite } from "../snap/snap-suite.js";

runSnapSuite("node fs", async () => {
  const root = await mkdtemp(join(tmpdir(), "edgecd-snap-"));
  return { fs: new NodeFS(), root, cleanup: () => rm(root, { recursive: true, force: true }) };
});
