/**
 * Checks across keys through etcd's global revision. The store has one revision counter: every
 * write (a put, a cas that succeeded, a delete that deleted) makes a new revision, and every answer's
 * header carries the revision the store was at when it answered. So, over the answered operations:
 *
 *  - no two writes share a revision;
 *  - when A completed before B was invoked, rev(B) ≥ rev(A), and rev(B) > rev(A) when B is a write
 *    (reordered revisions, or a read answering from a state older than a write that already returned);
 *  - a read's value has mod_revision ≤ its header revision, and an absent value mod_revision 0.
 */
import { describeOp, isComplete, writeRevision, type Op } from "./history.js";

/** Readable problems; empty when every check holds. */
export function checkRevisions(ops: readonly Op[]): string[] {
  const problems: string[] = [];
  const done = ops.filter(isComplete);

  const byRev = new Map<number, Op>();
  for (const op of done) {
    const rev = writeRevision(op);
    if (rev === undefined) continue;
    const other = byRev.get(rev);
    if (other !== undefined) problems.push(`two writes were acknowledged with revision ${rev}:\n    ${describeOp(other)}\n    ${describeOp(op)}`);
    else byRev.set(rev, op);
  }

  for (const op of done) {
    if (op.call.f !== "get") continue;
    const { value, modRev = 0, rev } = op.outcome;
    if (value === null && modRev !== 0) problems.push(`a read of an absent key has mod_revision ${modRev}:\n    ${describeOp(op)}`);
    if (value !== null && (modRev <= 0 || modRev > rev)) problems.push(`a read's mod_revision ${modRev} is not in (0, ${rev}]:\n    ${describeOp(op)}`);
  }

  // Sweep the invocations in time order, keeping the highest revision among operations completed
  // before the current invocation.
  const byComplete = [...done].sort((a, b) => a.complete - b.complete);
  const byInvoke = [...done].sort((a, b) => a.invoke - b.invoke);
  let i = 0;
  let maxOp: Op | undefined;
  let maxRev = -Infinity;
  for (const b of byInvoke) {
    while (i < byComplete.length && byComplete[i]!.complete < b.invoke) {
      const a = byComplete[i++]!;
      if (a.outcome!.rev > maxRev) {
        maxRev = a.outcome!.rev;
        maxOp = a;
      }
    }
    if (maxOp === undefined) continue;
    const rev = b.outcome!.rev;
    const w = writeRevision(b) !== undefined;
    if (w ? rev <= maxRev : rev < maxRev) {
      problems.push(
        `${w ? "a write's revision" : "an answer's header revision"} ${rev} is ${w ? "not above" : "below"} revision ${maxRev} of an operation that completed before it was invoked:\n    ${describeOp(maxOp)}\n    ${describeOp(b)}`,
      );
    }
  }
  return problems;
}
