/**
 * Builds src/ and adapters/ to dist/ once before the suite (what `npm run build` emits), so tests
 * that run the real `edgecd` process (bin/edgecd.js → dist/) see the code under test. Type checking
 * is `npm test`'s first step, so this build skips it.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--noCheck"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build of dist/ failed:\n${r.stdout}${r.stderr}`);
}
