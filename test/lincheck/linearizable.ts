/**
 * Linearizability of a history of single-key operations against a register, by the Wing & Gong search
 * with Lowe's memoisation (as Porcupine does it), one key at a time: a history is linearizable iff
 * each key's sub-history is (P-compositionality, Herlihy & Wing's locality).
 *
 * The search walks a list of call and return entries in time order. At a call it tries to place the
 * operation next (the model must accept it in the current state); placed, the operation's entries are
 * lifted out of the list and the walk restarts from the front. At the return of an operation not yet
 * placed nothing before it fits, so the last placement is undone and the walk moves past its call.
 * A set of placed operations together with the state they lead to is tried once only (the cache).
 * Indeterminate operations have no return entry: they may be placed anywhere after their call (before
 * their deadline, when they have one), or never (a success needs only every completed operation
 * placed). Reads that failed are left out.
 *
 * The search is exponential in the worst case; `budget` bounds the number of steps per key, after
 * which the key's result is "unknown".
 */
import { describeOp, isComplete, type Op, type Value } from "./history.js";

/**
 * The register: `step` answers the state after `op` when `op` may take effect in `state` with the
 * answer it got, or undefined when it may not. An indeterminate operation steps only as a write that
 * took effect (one without effect is the same as one never placed).
 */
export function registerStep(state: Value, op: Op): Value | undefined {
  const c = op.call;
  const o = op.outcome;
  switch (c.f) {
    case "put":
      return c.value;
    case "get":
      return o !== undefined && o.value === state ? state : undefined;
    case "cas":
      if (o === undefined) return state === c.expected ? c.value : undefined;
      return o.succeeded === true ? (state === c.expected ? c.value : undefined) : state !== c.expected ? state : undefined;
    case "delete":
      if (o === undefined) return null;
      return (o.deleted ?? 0) === (state === null ? 0 : 1) ? null : undefined;
  }
}

export interface KeyResult {
  key: string;
  result: "ok" | "illegal" | "unknown";
  /** Operations of the key the search considered. */
  ops: number;
  steps: number;
  /** Readable lines saying why, when not "ok". */
  explanation: string[];
}

interface Entry {
  op: Op;
  call: boolean;
  time: number;
  /** A call's return entry (undefined for an indeterminate operation). */
  ret?: Entry;
  prev?: Entry;
  next?: Entry;
}

/** Splits the operations by key (the order within each key kept). */
export function byKey(ops: readonly Op[]): Map<string, Op[]> {
  const out = new Map<string, Op[]>();
  for (const op of ops) {
    let list = out.get(op.call.key);
    if (list === undefined) out.set(op.call.key, (list = []));
    list.push(op);
  }
  return out;
}

export interface LinearizableOptions {
  /** Search steps per key before giving up with "unknown" (default 1,000,000). */
  budget?: number;
  /**
   * Indeterminate operations known to have taken effect before a time, if at all: such an operation
   * is placed before every operation invoked after its deadline, or never.
   */
  deadlines?: ReadonlyMap<Op, number>;
  /** The register's content before the history (default absent). */
  initial?: Value;
}

/** Checks every key's operations; one result per key, keys sorted. */
export function checkLinearizable(ops: readonly Op[], opts: LinearizableOptions = {}): KeyResult[] {
  const keys = byKey(ops);
  return [...keys.keys()].sort().map((k) => checkKey(k, keys.get(k)!, opts));
}

/** Checks the operations on one key. */
export function checkKey(key: string, all: readonly Op[], opts: LinearizableOptions = {}): KeyResult {
  const budget = opts.budget ?? 1_000_000;
  const deadlines = opts.deadlines ?? new Map<Op, number>();
  // Failed reads cannot be observed and change nothing.
  const ops = all.filter((op) => isComplete(op) || op.call.f !== "get");
  const entries: Entry[] = [];
  for (const op of ops) {
    const call: Entry = { op, call: true, time: op.invoke };
    entries.push(call);
    if (isComplete(op)) {
      call.ret = { op, call: false, time: op.complete };
      entries.push(call.ret);
    }
  }
  // At equal times calls come first: operations that touch at an instant count as concurrent.
  entries.sort((a, b) => a.time - b.time || (a.call === b.call ? 0 : a.call ? -1 : 1));
  const head: Entry = { op: undefined as unknown as Op, call: false, time: -Infinity };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const index = new Map<Op, number>(ops.map((op, i) => [op, i]));
  const placed = new Uint16Array(Math.ceil(ops.length / 16));
  const cacheKey = (s: Value): string => `${String.fromCharCode(...placed)}|${s === null ? "\u0000" : `=${s}`}`;
  const flip = (op: Op): void => {
    const i = index.get(op)!;
    placed[i >> 4]! ^= 1 << (i & 15);
  };
  const lift = (e: Entry): void => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    if (e.ret) {
      e.ret.prev!.next = e.ret.next;
      if (e.ret.next) e.ret.next.prev = e.ret.prev;
    }
  };
  const unlift = (e: Entry): void => {
    if (e.ret) {
      e.ret.prev!.next = e.ret;
      if (e.ret.next) e.ret.next.prev = e.ret;
    }
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  const cache = new Set<string>();
  // `latest`: the latest invocation among the placed operations (for deadlines).
  const stack: { entry: Entry; state: Value; latest: number }[] = [];
  let state: Value = opts.initial ?? null;
  let latest = -Infinity;
  let left = ops.filter(isComplete).length;
  let steps = 0;
  // The deepest point the search reached, for the explanation.
  let best: { order: Op[]; state: Value; stuck: Op } | undefined;
  let entry = head.next;
  for (;;) {
    if (left === 0) return { key, result: "ok", ops: ops.length, steps, explanation: [] };
    if (++steps > budget) {
      return { key, result: "unknown", ops: ops.length, steps, explanation: [`key ${key}: gave up after ${budget} search steps over ${ops.length} operations`] };
    }
    if (entry !== undefined && entry.call) {
      const next = latest <= (deadlines.get(entry.op) ?? Infinity) ? registerStep(state, entry.op) : undefined;
      if (next !== undefined) {
        flip(entry.op);
        const k = cacheKey(next);
        if (!cache.has(k)) {
          cache.add(k);
          stack.push({ entry, state, latest });
          state = next;
          latest = Math.max(latest, entry.op.invoke);
          if (entry.ret) left--;
          lift(entry);
          entry = head.next;
          continue;
        }
        flip(entry.op);
      }
      entry = entry.next;
      continue;
    }
    // A return (or the end of the list) of an operation that could not be placed before it.
    if (entry !== undefined && (best === undefined || stack.length > best.order.length)) {
      best = { order: stack.map((s) => s.entry.op), state, stuck: entry.op };
    }
    const top = stack.pop();
    if (top === undefined) return { key, result: "illegal", ops: ops.length, steps, explanation: explain(key, ops, best) };
    unlift(top.entry);
    flip(top.entry.op);
    if (top.entry.ret) left++;
    state = top.state;
    latest = top.latest;
    entry = top.entry.next;
  }
}

const show = (v: Value): string => (v === null ? "∅" : JSON.stringify(v));

/** The longest linearization found, the operation that could not follow it, and what ran concurrently with that one. */
function explain(key: string, ops: readonly Op[], best: { order: Op[]; state: Value; stuck: Op } | undefined): string[] {
  if (best === undefined) return [`key ${key}: not linearizable (no operation could be placed first)`];
  const { order, state, stuck } = best;
  const lines = [
    `key ${key}: not linearizable. The longest linearization found places ${order.length} of ${ops.length} operations and leaves the register at ${show(state)};`,
    `  then no pending operation fits before this one returns:`,
    `    ${describeOp(stuck)}`,
  ];
  const end = stuck.complete ?? Infinity;
  const pending = ops.filter((op) => !order.includes(op) && op !== stuck && op.invoke <= end);
  if (pending.length > 0) {
    lines.push(`  pending operations invoked before it returned (none fits next):`);
    for (const op of pending.slice(0, 12)) lines.push(`    ${describeOp(op)}`);
    if (pending.length > 12) lines.push(`    … ${pending.length - 12} more`);
  }
  lines.push(`  the last operations of that linearization:`);
  for (const op of order.slice(-8)) lines.push(`    ${describeOp(op)}`);
  return lines;
}
