/**
 * Every check of a recorded run, with one readable report:
 *
 *  - linearizability of each key's operations against a register (`linearizable.ts`);
 *  - the global-revision checks across keys (`revisions.ts`);
 *  - with the store's log: no acknowledged write lost or duplicated, no phantom write (`checkLog`),
 *    and every watcher saw the log once, in order, without a gap (`checkWatch`).
 *
 * Given the log, indeterminate operations are settled from it before the search (`resolve.ts`): left
 * out when they took no effect, completed when the log and the answers' revisions say when they did.
 */
import { isComplete, type LogEvent, type Op } from "./history.js";
import { checkLinearizable, type KeyResult } from "./linearizable.js";
import { resolve } from "./resolve.js";
import { checkRevisions } from "./revisions.js";
import { checkLog, checkWatch, type WatchRecord } from "./store-log.js";

export { History, describeEvent, describeOp, type Call, type LogEvent, type Op, type Outcome, type Value } from "./history.js";
export { checkKey, checkLinearizable, registerStep, type KeyResult } from "./linearizable.js";
export { resolve } from "./resolve.js";
export { checkRevisions } from "./revisions.js";
export { checkLog, checkWatch, type WatchRecord } from "./store-log.js";

export interface CheckInput {
  ops: readonly Op[];
  /** The store's log after the run (every event from revision 1). */
  log?: readonly LogEvent[];
  watches?: readonly WatchRecord[];
  /** Linearizability search steps per key. */
  budget?: number;
}

export interface Section {
  name: string;
  problems: string[];
}

export interface Report {
  ok: boolean;
  sections: Section[];
  keys: KeyResult[];
  /** Every section's verdict and problems (at most `maxProblems` each), then a summary line. */
  text: string;
}

const maxProblems = 10;

export function check(input: CheckInput): Report {
  const { ops, log, watches = [] } = input;
  const settled = log === undefined ? undefined : resolve(ops, log);
  const keys = checkLinearizable(settled?.ops ?? ops, { budget: input.budget, deadlines: settled?.deadlines });
  const sections: Section[] = [{ name: "linearizability (per-key register)", problems: keys.filter((k) => k.result !== "ok").map((k) => k.explanation.join("\n")) }];
  sections.push({ name: "global revisions", problems: [...checkRevisions(ops), ...(settled?.problems ?? [])] });
  if (log !== undefined) {
    sections.push({ name: "lost or phantom writes (store log)", problems: checkLog(ops, log) });
    for (const w of watches) sections.push({ name: `watch ${w.name}`, problems: checkWatch(w, log) });
  }
  const ok = sections.every((s) => s.problems.length === 0);

  const lines: string[] = [];
  for (const s of sections) {
    lines.push(`${s.problems.length === 0 ? "ok  " : "FAIL"} ${s.name}${s.problems.length === 0 ? "" : ` (${s.problems.length} problems)`}`);
    for (const p of s.problems.slice(0, maxProblems)) lines.push(`  ${p.replaceAll("\n", "\n  ")}`);
    if (s.problems.length > maxProblems) lines.push(`  … ${s.problems.length - maxProblems} more`);
  }
  lines.push(summary(ops, log, keys));
  if (settled !== undefined) lines.push(`indeterminate writes settled from the log: ${settled.dropped} took no effect, ${settled.completed} took effect, ${settled.open} left open`);
  return { ok, sections, keys, text: lines.join("\n") };
}

/** Counts: operations by kind (answered / indeterminate), keys, search steps, log length. */
export function summary(ops: readonly Op[], log: readonly LogEvent[] | undefined, keys: readonly KeyResult[]): string {
  const kinds = ["put", "get", "cas", "delete"] as const;
  const parts = kinds.map((f) => {
    const of = ops.filter((op) => op.call.f === f);
    const done = of.filter(isComplete).length;
    return `${f} ${done}/${of.length - done}`;
  });
  const steps = keys.reduce((n, k) => n + k.steps, 0);
  return `${ops.length} operations (answered/indeterminate: ${parts.join(", ")}), ${keys.length} keys, ${steps} search steps${log === undefined ? "" : `, log of ${log.length} events`}`;
}
