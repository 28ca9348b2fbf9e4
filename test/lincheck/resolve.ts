/**
 * Settling indeterminate operations from the store's log before the linearizability search, which is
 * exponential in the number of operations that may or may not have taken effect (each stays pending
 * for the rest of the history). Every value is written once, and every answer carries the store's
 * revision, so:
 *
 *  - an indeterminate put or cas whose value is not in the log never took effect: it is left out;
 *  - one whose value is in the log at revision R took effect, before any answer with a header
 *    revision ≥ R came back (the member answering had applied R): it becomes a completed operation
 *    (a cas that succeeded) whose completion is the earliest such answer, or stays indeterminate when
 *    no answer reached R;
 *  - an indeterminate delete of a key whose log has no delete the acknowledged deletes do not explain
 *    took no effect: it is left out; otherwise it may have made one of those unexplained deletes, so
 *    it took effect before the earliest answer at or above the last of them (its deadline), or never.
 *
 * The log is itself checked against every acknowledged write and every read (`checkLog`), so this
 * only narrows the search to what the log says happened; a write the log lost but a read saw still
 * fails, there or here.
 */
import { describeOp, isComplete, writeRevision, writtenValue, type LogEvent, type Op } from "./history.js";

export interface Resolved {
  /** The operations to search: copies where an operation was settled. */
  ops: Op[];
  /** Deadlines of the indeterminate deletes kept. */
  deadlines: Map<Op, number>;
  /** How many indeterminate operations were left out, completed, or kept (with or without deadline). */
  dropped: number;
  completed: number;
  open: number;
  /** Writes the log has at a revision some answer reported before the write was even sent. */
  problems: string[];
}

export function resolve(ops: readonly Op[], log: readonly LogEvent[]): Resolved {
  // bound(R): the earliest completion of an answer whose header revision is ≥ R.
  const answers = ops.filter(isComplete).sort((a, b) => b.outcome.rev - a.outcome.rev);
  const revs: number[] = [];
  const earliest: number[] = [];
  let min = Infinity;
  for (const a of answers) {
    min = Math.min(min, a.complete);
    revs.push(a.outcome.rev);
    earliest.push(min);
  }
  const bound = (rev: number): number => {
    // revs is descending; the last index with revs[i] ≥ rev holds the minimum over all of them.
    let lo = 0;
    let hi = revs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (revs[mid]! >= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? Infinity : earliest[lo - 1]!;
  };

  const putAt = new Map<string, LogEvent>();
  for (const e of log) if (e.type === "put") putAt.set(e.value!, e);
  const acked = new Set(ops.filter((op) => op.call.f === "delete").map(writeRevision));
  const lastDelete = new Map<string, number>();
  for (const e of log) if (e.type === "delete" && !acked.has(e.rev)) lastDelete.set(e.key, Math.max(lastDelete.get(e.key) ?? 0, e.rev));

  const out: Op[] = [];
  const deadlines = new Map<Op, number>();
  let dropped = 0;
  let completed = 0;
  let open = 0;
  const problems: string[] = [];
  for (const op of ops) {
    if (isComplete(op) || op.call.f === "get") {
      out.push(op);
      continue;
    }
    const v = writtenValue(op);
    if (v !== undefined) {
      const e = putAt.get(v);
      const at = e === undefined ? Infinity : bound(e.rev);
      if (e === undefined) dropped++;
      else if (at === Infinity) {
        open++;
        out.push(op);
      } else {
        completed++;
        if (at < op.invoke) problems.push(`the log has an indeterminate write at rev ${e.rev}, but an answer at or above that revision came back at ${at.toFixed(1)}, before it was sent:\n    ${describeOp(op)}`);
        out.push({ ...op, complete: at, outcome: { rev: e.rev, succeeded: true }, error: `${op.error ?? "?"}; the log has it at rev ${e.rev}` });
      }
      continue;
    }
    const last = lastDelete.get(op.call.key);
    if (last === undefined) {
      dropped++;
      continue;
    }
    open++;
    out.push(op);
    const at = bound(last);
    if (at !== Infinity) deadlines.set(op, at);
  }
  return { ops: out, deadlines, dropped, completed, open, problems };
}
