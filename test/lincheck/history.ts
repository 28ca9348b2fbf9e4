/**
 * The history a Jepsen-style test records and the checkers read: every operation a client issued on
 * one key through the v3 JSON gateway, with the process that issued it, when it was invoked and when
 * its answer came back, and what the answer was.
 *
 * An operation without a completion is indeterminate: it timed out or its connection failed, so a
 * write among them may or may not have taken effect (once, at some point after its invocation); a
 * read among them says nothing. Times are milliseconds on one monotonic clock (the test process's).
 *
 * Every value a put or cas writes is unique in the history (the client makes it from its process id
 * and a counter), so a value seen by a read or in the store's log names the one write that wrote it.
 *
 *   const h = new History();
 *   const op = h.invoke(3, { f: "put", key: "k1", value: "p3-7" });
 *   h.complete(op, { rev: 57 });          // or h.fail(op, "timeout") when the answer never came
 */

/** A register's content: a value, or null when the key is absent. */
export type Value = string | null;

/** What a client asked for. */
export type Call =
  /** Put `value` at `key`; answers the revision of the put. */
  | { f: "put"; key: string; value: string }
  /** A linearizable range on `key`; answers the value (null: absent) and its mod_revision. */
  | { f: "get"; key: string }
  /** A txn: if `key` holds `expected` (null: absent) put `value`; answers whether it did. */
  | { f: "cas"; key: string; expected: Value; value: string }
  /** Delete `key`; answers how many keys it deleted (0 or 1). */
  | { f: "delete"; key: string };

/** What the member answered; `rev` is always the response header's revision. */
export interface Outcome {
  rev: number;
  /** get: the value read (null: absent). */
  value?: Value;
  /** get: the mod_revision of the value read (0 when absent). */
  modRev?: number;
  /** cas: whether the comparison held and the put was made. */
  succeeded?: boolean;
  /** delete: the number of keys deleted. */
  deleted?: number;
}

export interface Op {
  /** Its index in the history. */
  id: number;
  /** The client process that issued it (a process has at most one operation open). */
  process: number;
  call: Call;
  /** When the request was sent. */
  invoke: number;
  /** When its answer arrived; undefined while open or when indeterminate. */
  complete?: number;
  /** The answer; present exactly when `complete` is. */
  outcome?: Outcome;
  /** Why there is no answer (timeout, connection refused, an error body). */
  error?: string;
}

/** An event in the store's log (a watch from revision 1): a put of `value`, or a delete, of `key` at `rev`. */
export interface LogEvent {
  rev: number;
  key: string;
  type: "put" | "delete";
  value?: string;
}

/** The operations of a test run in the order they were invoked. */
export class History {
  readonly ops: Op[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  invoke(process: number, call: Call): Op {
    const op: Op = { id: this.ops.length, process, call, invoke: this.now() };
    this.ops.push(op);
    return op;
  }

  complete(op: Op, outcome: Outcome): void {
    op.complete = this.now();
    op.outcome = outcome;
  }

  /** The answer never came (or was an error that does not say whether a write happened). */
  fail(op: Op, error: string): void {
    op.error = error;
  }
}

/** Whether `op` got an answer. */
export const isComplete = (op: Op): op is Op & { complete: number; outcome: Outcome } => op.complete !== undefined && op.outcome !== undefined;

/** Whether `op` may have changed the store (puts, cas and deletes). */
export const isWrite = (op: Op): boolean => op.call.f !== "get";

/**
 * The revision `op` created, when it is known to have created one: an answered put, a cas that
 * succeeded, a delete that deleted a key. Undefined for reads, failed comparisons, deletes of absent
 * keys (their header revision is the store's current one) and indeterminate operations.
 */
export function writeRevision(op: Op): number | undefined {
  if (!isComplete(op)) return undefined;
  const { call, outcome } = op;
  if (call.f === "put") return outcome.rev;
  if (call.f === "cas" && outcome.succeeded === true) return outcome.rev;
  if (call.f === "delete" && (outcome.deleted ?? 0) > 0) return outcome.rev;
  return undefined;
}

/** The value `op` writes (put and cas), if any. */
export const writtenValue = (op: Op): string | undefined => (op.call.f === "put" || op.call.f === "cas" ? op.call.value : undefined);

const show = (v: Value | undefined): string => (v === null || v === undefined ? "∅" : JSON.stringify(v));
const ms = (t: number | undefined): string => (t === undefined ? "∞" : t.toFixed(1));

/** One stable line per operation: `#12 p3 cas k1 "a"→"p3-7" [120.5, 131.0] → ok rev 57`. */
export function describeOp(op: Op): string {
  const c = op.call;
  const what =
    c.f === "put" ? `put ${c.key}=${show(c.value)}` : c.f === "get" ? `get ${c.key}` : c.f === "cas" ? `cas ${c.key} ${show(c.expected)}→${show(c.value)}` : `delete ${c.key}`;
  let result: string;
  if (!isComplete(op)) result = `? (${op.error ?? "open"})`;
  else {
    const o = op.outcome;
    if (c.f === "get") result = `${show(o.value)} mod ${o.modRev ?? 0} rev ${o.rev}`;
    else if (c.f === "cas") result = `${o.succeeded === true ? "ok" : "failed"} rev ${o.rev}`;
    else if (c.f === "delete") result = `deleted ${o.deleted ?? 0} rev ${o.rev}`;
    else result = `rev ${o.rev}`;
  }
  const note = isComplete(op) && op.error !== undefined ? ` (${op.error})` : "";
  return `#${op.id} p${op.process} ${what} [${ms(op.invoke)}, ${ms(op.complete)}] → ${result}${note}`;
}

/** One stable line per log event: `rev 57 put k1="p3-7"` or `rev 58 delete k1`. */
export const describeEvent = (e: LogEvent): string => `rev ${e.rev} ${e.type} ${e.key}${e.type === "put" ? `=${show(e.value)}` : ""}`;
