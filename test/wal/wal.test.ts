/** The WAL suite (wal-suite.ts) over the in-memory WalFS. */
import { MemoryFS } from "../../src/wal/index.js";
import { runWalSuite } from "./wal-suite.js";

runWalSuite("memory-fs", async () => {
  const fs = new MemoryFS();
  await fs.mkdirp("/data");
  return { fs, root: "/data", cleanup: async () => {} };
});
