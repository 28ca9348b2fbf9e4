/**
 * Checks of the history against the store's log: every event the store holds, in revision order, as
 * a watch from revision 1 returns it after the run (nothing is compacted).
 *
 *  - `checkLog`: the log itself is well formed (revisions increase; one event per revision, as every
 *    operation touches one key); every acknowledged write is in it exactly once, at its revision,
 *    with its key and value; an indeterminate put or cas at most once; every put in it was written by
 *    some operation on that key and every delete has a delete that may have made it (no phantom
 *    writes); every value a read returned is in it at the read's mod_revision.
 *  - `checkWatch`: what a watcher received (its stream reopened from the revision after the last it
 *    saw whenever the stream ended) is the log from its start revision, every revision once, in order,
 *    with no gap, and complete once the watcher has caught up.
 */
import { describeEvent, describeOp, isComplete, writeRevision, writtenValue, type LogEvent, type Op } from "./history.js";

/** Readable problems; empty when every check holds. */
export function checkLog(ops: readonly Op[], log: readonly LogEvent[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < log.length; i++) {
    if (log[i]!.rev <= log[i - 1]!.rev) problems.push(`the log's revisions do not increase: ${describeEvent(log[i - 1]!)}, then ${describeEvent(log[i]!)}`);
  }

  const writer = new Map<string, Op>();
  for (const op of ops) {
    const v = writtenValue(op);
    if (v === undefined) continue;
    if (writer.has(v)) problems.push(`(test) value ${JSON.stringify(v)} is written by two operations: ${describeOp(writer.get(v)!)} and ${describeOp(op)}`);
    writer.set(v, op);
  }
  const putsOf = new Map<string, LogEvent[]>();
  const atRev = new Map<number, LogEvent>();
  for (const e of log) {
    atRev.set(e.rev, e);
    if (e.type !== "put") continue;
    const list = putsOf.get(e.value!) ?? [];
    list.push(e);
    putsOf.set(e.value!, list);
  }

  for (const op of ops) {
    const c = op.call;
    const rev = writeRevision(op);
    const v = writtenValue(op);
    if (v !== undefined) {
      const found = putsOf.get(v) ?? [];
      const took = rev !== undefined;
      if (took && found.length === 0) problems.push(`an acknowledged write is lost (not in the log):\n    ${describeOp(op)}`);
      if (found.length > 1) problems.push(`a write is in the log ${found.length} times (${found.map(describeEvent).join("; ")}):\n    ${describeOp(op)}`);
      if (took && found.length === 1 && found[0]!.rev !== rev) problems.push(`an acknowledged write is in the log at another revision (${describeEvent(found[0]!)}):\n    ${describeOp(op)}`);
      if (found.length >= 1 && found[0]!.key !== c.key) problems.push(`a write is in the log under another key (${describeEvent(found[0]!)}):\n    ${describeOp(op)}`);
      // A cas answered "failed", or a cas or put whose answer never came but the log shows a put of
      // its value after all, is checked by the register model; a failed cas must not have written.
      if (isComplete(op) && c.f === "cas" && op.outcome.succeeded !== true && found.length > 0) {
        problems.push(`a cas that answered "failed" wrote its value (${describeEvent(found[0]!)}):\n    ${describeOp(op)}`);
      }
    }
    if (c.f === "delete" && rev !== undefined) {
      const e = atRev.get(rev);
      if (e === undefined || e.type !== "delete" || e.key !== c.key) {
        problems.push(`an acknowledged delete is not in the log at its revision (found ${e === undefined ? "nothing" : describeEvent(e)}):\n    ${describeOp(op)}`);
      }
    }
    if (c.f === "get" && isComplete(op) && op.outcome.value !== null && op.outcome.value !== undefined) {
      const e = atRev.get(op.outcome.modRev ?? 0);
      if (e === undefined || e.type !== "put" || e.key !== c.key || e.value !== op.outcome.value) {
        problems.push(`a read returned a value the log does not hold at its mod_revision (found ${e === undefined ? "nothing" : describeEvent(e)}):\n    ${describeOp(op)}`);
      }
    }
  }

  // Phantom events: puts no operation wrote, deletes no delete on the key may have made.
  const ackedDeletes = new Set<number>();
  const openDeletes = new Map<string, number>();
  for (const op of ops) {
    if (op.call.f !== "delete") continue;
    const rev = writeRevision(op);
    if (rev !== undefined) ackedDeletes.add(rev);
    else if (!isComplete(op)) openDeletes.set(op.call.key, (openDeletes.get(op.call.key) ?? 0) + 1);
  }
  const unexplained = new Map<string, number>();
  for (const e of log) {
    if (e.type === "put") {
      const op = writer.get(e.value!);
      if (op === undefined || op.call.key !== e.key) problems.push(`the log holds a put no operation made: ${describeEvent(e)}`);
    } else if (!ackedDeletes.has(e.rev)) {
      const n = (unexplained.get(e.key) ?? 0) + 1;
      unexplained.set(e.key, n);
      if (n > (openDeletes.get(e.key) ?? 0)) problems.push(`the log holds a delete no delete operation can have made: ${describeEvent(e)}`);
    }
  }
  return problems;
}

/** What one watcher received, in arrival order, and where it started. */
export interface WatchRecord {
  name: string;
  /** The start_revision of its first watch. */
  from: number;
  events: LogEvent[];
}

/**
 * Readable problems with what a watcher saw against the log; `complete` also requires it saw the
 * whole log from its start revision (set once it has caught up).
 */
export function checkWatch(w: WatchRecord, log: readonly LogEvent[], complete = true): string[] {
  const want = log.filter((e) => e.rev >= w.from);
  const same = (a: LogEvent, b: LogEvent): boolean => a.rev === b.rev && a.key === b.key && a.type === b.type && (a.type !== "put" || a.value === b.value);
  for (let i = 0; i < w.events.length; i++) {
    const got = w.events[i]!;
    const exp = want[i];
    if (exp !== undefined && same(got, exp)) continue;
    const prev = i > 0 ? w.events[i - 1]! : undefined;
    const what =
      prev !== undefined && got.rev <= prev.rev
        ? `a duplicate or reordered revision (${describeEvent(got)} after ${describeEvent(prev)})`
        : exp === undefined
          ? `an event beyond the log (${describeEvent(got)})`
          : got.rev > exp.rev
            ? `a gap: ${describeEvent(got)} arrived where the log has ${describeEvent(exp)}`
            : `${describeEvent(got)} where the log has ${describeEvent(exp)}`;
    return [`watcher ${w.name} (from revision ${w.from}), event ${i}: ${what}`];
  }
  if (complete && w.events.length < want.length) {
    return [`watcher ${w.name} (from revision ${w.from}) stopped after ${w.events.length} of ${want.length} events; the next it missed: ${describeEvent(want[w.events.length]!)}`];
  }
  return [];
}
