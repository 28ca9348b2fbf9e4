/**
 * etcd's backend Hooks (OnPreCommitUnsafe): a Backend decorator that runs `preCommit` on every
 * batch right before it commits, inside the batch — how the server writes the applied raft index
 * (consistent index) into the same transaction as the data it covers, whoever opened the batch
 * (the MVCC store, the lessor, the alarm store).
 */
import type { Backend, BatchTx } from "./backend.js";

export function withPreCommitHook(b: Backend, preCommit: (tx: BatchTx) => void): Backend {
  return {
    batchTx(): BatchTx {
      const tx = b.batchTx();
      return {
        unsafeRange: (bucket, key, endKey, limit) => tx.unsafeRange(bucket, key, endKey, limit),
        unsafeForEach: (bucket, visitor) => tx.unsafeForEach(bucket, visitor),
        hasBucket: (bucket) => tx.hasBucket(bucket),
        createBucket: (bucket) => tx.createBucket(bucket),
        put: (bucket, key, value) => tx.put(bucket, key, value),
        delete: (bucket, key) => tx.delete(bucket, key),
        commit: () => {
          preCommit(tx);
          return tx.commit();
        },
        rollback: () => tx.rollback(),
      };
    },
    readTx: () => b.readTx(),
    hash: (ignores) => b.hash(ignores),
    size: () => b.size(),
    sizeInUse: () => b.sizeInUse(),
    snapshot: () => b.snapshot(),
    restore: (stream) => b.restore(stream),
    defrag: () => b.defrag(),
    close: () => b.close(),
  };
}
