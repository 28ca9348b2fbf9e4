#!/usr/bin/env node
// The `edgecd` command: runs the Node adapter compiled to dist/ (`npm run build`; `npm start` builds first).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "adapters", "node", "main.js");
if (!existsSync(entry)) {
  console.error(`edgecd: ${entry} is missing; build it first with \`npm run build\` (or run \`npm start\`)`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv.slice(2), process.env);
if (code >= 0) process.exitCode = code;
