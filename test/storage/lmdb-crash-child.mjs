// Child of lmdb-backend.test.ts's crash test: commits batch after batch into an LmdbBackend (built to
// dist/ by test/global-setup.ts) until it is SIGKILLed. Batch n puts key "b/<n>/0..2" = n and meta
// "last" = n; "durable <n>" is printed when batch n's commit promise resolves.
import { openLmdbBackend } from "../../dist/adapters/storage/lmdb/lmdb-backend.js";

const [dir] = process.argv.slice(2);
const enc = new TextEncoder();
const be = openLmdbBackend(dir, { batchInterval: 2, batchLimit: 50 });
let tx = be.batchTx();
tx.createBucket("key");
tx.createBucket("meta");
await tx.commit();
process.stdout.write("ready\n");
for (let n = 0; ; n++) {
  tx = be.batchTx();
  for (let i = 0; i < 3; i++) tx.put("key", enc.encode(`b/${String(n).padStart(8, "0")}/${i}`), enc.encode(String(n)));
  tx.put("meta", enc.encode("last"), enc.encode(String(n)));
  void tx.commit().then(() => process.stdout.write(`durable ${n}\n`));
  if (n % 10 === 0) await new Promise((r) => setImmediate(r));
}
