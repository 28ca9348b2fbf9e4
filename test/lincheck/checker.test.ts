/**
 * The checkers on small hand-written histories (each violation they must catch, each legal corner
 * they must accept) and a property test: a simulated atomic register, with random delays, random
 * indeterminate operations and writes that take effect after their client gave up, always yields a
 * history every check accepts; one read turned to a value nobody wrote is always rejected.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check, checkKey, checkLog, checkRevisions, checkWatch, resolve, type Call, type LogEvent, type Op, type Outcome, type Value } from "./checker.js";

let ids = 0;
/** An operation `call` by `process` over [invoke, complete]; no `complete`: indeterminate. */
function op(process: number, call: Call, invoke: number, complete?: number, outcome?: Outcome): Op {
  const o: Op = { id: ids++, process, call, invoke };
  if (complete !== undefined) {
    o.complete = complete;
    o.outcome = outcome ?? { rev: 0 };
  } else o.error = "timeout";
  return o;
}
const put = (p: number, key: string, value: string, t0: number, t1?: number, rev = 0) => op(p, { f: "put", key, value }, t0, t1, { rev });
const get = (p: number, key: string, value: Value, t0: number, t1?: number, modRev = 0, rev = 0) => op(p, { f: "get", key }, t0, t1, { rev, value, modRev });
const cas = (p: number, key: string, expected: Value, value: string, t0: number, t1?: number, succeeded = true, rev = 0) =>
  op(p, { f: "cas", key, expected, value }, t0, t1, { rev, succeeded });
const del = (p: number, key: string, t0: number, t1?: number, deleted = 1, rev = 0) => op(p, { f: "delete", key }, t0, t1, { rev, deleted });

describe("linearizability of a register", () => {
  it("accepts a sequential history and overlapping reads that see either side of a write", () => {
    expect(checkKey("k", [put(1, "k", "a", 0, 1), get(2, "k", "a", 2, 3), put(1, "k", "b", 4, 10), get(2, "k", "a", 5, 6), get(3, "k", "b", 7, 8), get(2, "k", "b", 11, 12)]).result).toBe("ok");
  });

  it("catches a stale read after a completed write, naming the read", () => {
    const stale = get(2, "k", "a", 5, 6);
    const r = checkKey("k", [put(1, "k", "a", 0, 1), put(1, "k", "b", 2, 3), stale]);
    expect(r.result).toBe("illegal");
    expect(r.explanation.join("\n")).toContain(`#${stale.id} p2 get k`);
  });

  it("catches a read of a value never written", () => {
    expect(checkKey("k", [put(1, "k", "a", 0, 1), get(2, "k", "zzz", 2, 3)]).result).toBe("illegal");
  });

  it("catches a read that goes back to an older value (non-monotonic reads)", () => {
    expect(checkKey("k", [put(1, "k", "a", 0, 1), put(1, "k", "b", 2, 20), get(2, "k", "b", 3, 4), get(3, "k", "a", 5, 6)]).result).toBe("illegal");
  });

  it("places an indeterminate write late: after reads that missed it, before reads that saw it", () => {
    expect(checkKey("k", [put(1, "k", "a", 0), get(2, "k", null, 10, 11), get(2, "k", "a", 20, 21), get(3, "k", "a", 30, 31)]).result).toBe("ok");
  });

  it("drops an indeterminate write nobody saw", () => {
    expect(checkKey("k", [put(1, "k", "a", 0, 1), put(2, "k", "lost", 2), get(3, "k", "a", 10, 11), get(3, "k", "a", 20, 21)]).result).toBe("ok");
  });

  it("does not place an indeterminate write before it was invoked", () => {
    expect(checkKey("k", [get(2, "k", "a", 0, 1), put(1, "k", "a", 5)]).result).toBe("illegal");
  });

  it("does not place an indeterminate write twice", () => {
    expect(checkKey("k", [put(1, "k", "a", 0), get(2, "k", "a", 2, 3), put(3, "k", "b", 4, 5), get(2, "k", "a", 6, 7)]).result).toBe("illegal");
  });

  it("models cas and delete: a successful cas needs the expected value, a delete's count the key's presence", () => {
    expect(checkKey("k", [cas(1, "k", null, "a", 0, 1), cas(2, "k", null, "b", 2, 3, false), cas(2, "k", "a", "c", 4, 5), get(1, "k", "c", 6, 7), del(1, "k", 8, 9, 1), del(2, "k", 10, 11, 0), get(1, "k", null, 12, 13)]).result).toBe("ok");
    expect(checkKey("k", [put(1, "k", "a", 0, 1), cas(2, "k", "x", "b", 2, 3, true)]).result).toBe("illegal");
    expect(checkKey("k", [put(1, "k", "a", 0, 1), cas(2, "k", "a", "b", 2, 3, false)]).result).toBe("illegal");
    expect(checkKey("k", [del(1, "k", 0, 1, 1)]).result).toBe("illegal");
    // An indeterminate cas takes effect only when its comparison holds.
    expect(checkKey("k", [put(1, "k", "a", 0, 1), cas(2, "k", "a", "b", 2), get(1, "k", "b", 5, 6)]).result).toBe("ok");
    expect(checkKey("k", [put(1, "k", "a", 0, 1), cas(2, "k", "x", "b", 2), get(1, "k", "b", 5, 6)]).result).toBe("illegal");
  });

  it("checks keys separately: a value of one key is not a value of another", () => {
    const r = check({ ops: [put(1, "k1", "a", 0, 1, 2), get(2, "k2", "a", 2, 3, 2, 2)] });
    expect(r.ok).toBe(false);
    expect(r.keys.map((k) => `${k.key}:${k.result}`)).toEqual(["k1:ok", "k2:illegal"]);
  });

  it("answers unknown when the search budget runs out", () => {
    const ops = Array.from({ length: 12 }, (_, i) => put(i, "k", `v${i}`, 0));
    ops.push(get(99, "k", "nobody", 1, 2));
    expect(checkKey("k", ops, { budget: 50 }).result).toBe("unknown");
    expect(checkKey("k", ops).result).toBe("illegal");
  });
});

describe("global revisions", () => {
  it("accepts increasing revisions and reads at or above every completed write", () => {
    expect(checkRevisions([put(1, "a", "1", 0, 1, 2), put(2, "b", "2", 2, 3, 3), get(3, "a", "1", 4, 5, 2, 3), del(1, "b", 6, 7, 0, 3)])).toEqual([]);
  });

  it("catches two writes acknowledged with one revision", () => {
    expect(checkRevisions([put(1, "a", "1", 0, 1, 5), put(2, "b", "2", 0, 1, 5)]).join()).toContain("two writes were acknowledged with revision 5");
  });

  it("catches reordered revisions: a later write with a lower revision", () => {
    expect(checkRevisions([put(1, "a", "1", 0, 1, 7), put(2, "b", "2", 2, 3, 6)]).join()).toContain("a write's revision 6 is not above revision 7");
  });

  it("catches a read whose header revision is below a write that completed before it", () => {
    expect(checkRevisions([put(1, "a", "1", 0, 1, 7), get(2, "b", null, 2, 3, 0, 6)]).join()).toContain("an answer's header revision 6 is below revision 7");
  });

  it("catches a mod_revision above the header revision", () => {
    expect(checkRevisions([get(2, "b", "x", 2, 3, 9, 6)]).join()).toContain("mod_revision 9");
  });
});

describe("the store's log", () => {
  const ev = (rev: number, key: string, value?: string): LogEvent => (value === undefined ? { rev, key, type: "delete" } : { rev, key, type: "put", value });

  it("accepts acknowledged writes at their revisions and an indeterminate write present once or not at all", () => {
    const ops = [put(1, "a", "1", 0, 1, 2), put(2, "a", "2", 0), put(3, "a", "3", 0), del(1, "a", 2, 3, 1, 4), get(1, "a", "1", 1, 2, 2, 2)];
    expect(checkLog(ops, [ev(2, "a", "1"), ev(3, "a", "2"), ev(4, "a")])).toEqual([]);
  });

  it("catches a lost acknowledged write", () => {
    expect(checkLog([put(1, "a", "1", 0, 1, 2), put(1, "a", "2", 2, 3, 3)], [ev(2, "a", "1")]).join()).toContain("an acknowledged write is lost");
  });

  it("catches an acknowledged write at another revision, and a write applied twice", () => {
    expect(checkLog([put(1, "a", "1", 0, 1, 2)], [ev(3, "a", "1")]).join()).toContain("at another revision");
    expect(checkLog([put(1, "a", "1", 0)], [ev(2, "a", "1"), ev(3, "a", "1")]).join()).toContain("in the log 2 times");
  });

  it("catches a phantom put, a phantom delete and a read of a value not at its mod_revision", () => {
    expect(checkLog([], [ev(2, "a", "ghost")]).join()).toContain("a put no operation made");
    expect(checkLog([put(1, "a", "1", 0, 1, 2)], [ev(2, "a", "1"), ev(3, "a")]).join()).toContain("a delete no delete operation can have made");
    expect(checkLog([put(1, "a", "1", 0, 1, 2), get(2, "a", "1", 2, 3, 3, 3)], [ev(2, "a", "1")]).join()).toContain("a read returned a value the log does not hold");
  });

  it("catches a failed cas that wrote", () => {
    expect(checkLog([cas(1, "a", "x", "1", 0, 1, false, 1)], [ev(2, "a", "1")]).join()).toContain(`a cas that answered "failed" wrote`);
  });

  it("a watcher must see the log from its start, every revision once, in order, without a gap", () => {
    const log = [ev(2, "a", "1"), ev(3, "b", "2"), ev(4, "a"), ev(5, "b", "3")];
    expect(checkWatch({ name: "w", from: 1, events: [...log] }, log)).toEqual([]);
    expect(checkWatch({ name: "w", from: 4, events: log.slice(2) }, log)).toEqual([]);
    expect(checkWatch({ name: "w", from: 1, events: [log[0]!, log[2]!, log[3]!] }, log).join()).toContain("a gap: rev 4 delete a arrived where the log has rev 3 put b");
    expect(checkWatch({ name: "w", from: 1, events: [log[0]!, log[1]!, log[1]!, log[2]!] }, log).join()).toContain("a duplicate or reordered revision");
    expect(checkWatch({ name: "w", from: 1, events: [log[0]!, { ...log[1]!, value: "x" }] }, log).join()).toContain(`rev 3 put b="x" where the log has rev 3 put b="2"`);
    expect(checkWatch({ name: "w", from: 1, events: log.slice(0, 3) }, log).join()).toContain("stopped after 3 of 4 events");
    expect(checkWatch({ name: "w", from: 1, events: log.slice(0, 3) }, log, false)).toEqual([]);
  });
});

describe("settling indeterminate operations from the log", () => {
  const ev = (rev: number, key: string, value?: string): LogEvent => (value === undefined ? { rev, key, type: "delete" } : { rev, key, type: "put", value });

  it("drops writes not in the log, completes those in it by the first answer at or above their revision", () => {
    const lost = put(1, "a", "lost", 0);
    const took = put(2, "a", "took", 1);
    const later = get(3, "b", null, 2, 9, 0, 3);
    const r = resolve([lost, took, put(4, "b", "x", 0, 3, 2), later, get(3, "b", null, 10, 11, 0, 3)], [ev(2, "b", "x"), ev(3, "a", "took")]);
    expect([r.dropped, r.completed, r.open]).toEqual([1, 1, 0]);
    const settled = r.ops.find((o) => o.id === took.id)!;
    expect([settled.complete, settled.outcome]).toEqual([9, { rev: 3, succeeded: true }]);
    expect(r.ops.some((o) => o.id === lost.id)).toBe(false);
  });

  it("flags a write the log has at a revision an answer reported before the write was sent", () => {
    const r = resolve([get(1, "b", null, 0, 1, 0, 5), put(2, "a", "v", 2)], [ev(5, "a", "v")]);
    expect(r.problems.join()).toContain("before it was sent");
  });

  it("gives an indeterminate delete a deadline: the first answer at or above the last unexplained delete", () => {
    const d = del(1, "a", 0);
    const r = resolve([put(2, "a", "x", 0, 1, 2), d, get(3, "b", null, 2, 5, 0, 3), get(3, "b", null, 6, 7, 0, 3)], [ev(2, "a", "x"), ev(3, "a")]);
    expect(r.deadlines.get(d)).toBe(5);
    expect(resolve([d], []).dropped).toBe(1);
  });

  it("a deadline keeps an indeterminate write from being placed after operations invoked later", () => {
    const ops = [put(1, "k", "a", 0, 1), del(2, "k", 2), get(3, "k", "a", 10, 11), get(3, "k", null, 12, 13)];
    expect(checkKey("k", ops).result).toBe("ok");
    expect(checkKey("k", ops, { deadlines: new Map([[ops[1]!, 5]]) }).result).toBe("illegal");
    expect(checkKey("k", ops, { deadlines: new Map([[ops[1]!, 11.5]]) }).result).toBe("ok");
  });

  it("catches a lost write that a read saw, with or without the log", () => {
    const ops = [put(1, "k", "a", 0, 1, 2), put(2, "k", "b", 2), get(3, "k", "b", 5, 6, 3, 3)];
    expect(check({ ops }).ok).toBe(true);
    const r = check({ ops, log: [ev(2, "k", "a")] });
    expect(r.ok).toBe(false);
    expect(r.text).toContain("a read returned a value the log does not hold");
    expect(r.sections[0]!.problems.length).toBe(1);
  });
});

/** A random schedule for the simulated register: per process, a list of operations with delays. */
const scheduleArb = fc.array(
  fc.array(
    fc.record({
      f: fc.constantFrom("put", "get", "cas", "delete"),
      key: fc.integer({ min: 0, max: 2 }),
      expect: fc.integer({ min: -1, max: 3 }),
      gap: fc.integer({ min: 0, max: 5 }),
      before: fc.integer({ min: 1, max: 10 }),
      after: fc.integer({ min: 1, max: 10 }),
      lost: fc.boolean(),
      late: fc.integer({ min: 0, max: 40 }),
      takes: fc.boolean(),
    }),
    { minLength: 1, maxLength: 12 },
  ),
  { minLength: 1, maxLength: 5 },
);

type Step = (typeof scheduleArb extends fc.Arbitrary<(infer S)[][]> ? S : never);

/**
 * Runs the schedule on an atomic store with etcd's revisions: each operation takes effect at one
 * instant inside [invoke, complete]; an indeterminate one ("lost") takes effect ("takes") at any
 * time after its invocation, possibly after its client has moved on, or never.
 */
function simulate(schedule: Step[][]): { ops: Op[]; log: LogEvent[] } {
  const ops: Op[] = [];
  const points: { at: number; op: Op }[] = [];
  schedule.forEach((list, p) => {
    let t = 0;
    list.forEach((s, i) => {
      const key = `k${s.key}`;
      const value = `p${p}-${i}`;
      const expected = s.expect < 0 ? null : `p${p}-${s.expect}`;
      const call: Call = s.f === "put" ? { f: "put", key, value } : s.f === "get" ? { f: "get", key } : s.f === "cas" ? { f: "cas", key, expected, value } : { f: "delete", key };
      const invoke = t + s.gap;
      const o: Op = { id: ops.length, process: p, call, invoke };
      ops.push(o);
      // Distinct instants: the process and the index break ties.
      const eps = p / 100 + i / 10_000;
      if (s.lost) {
        o.error = "timeout";
        if (s.takes) points.push({ at: invoke + s.before + s.late + eps, op: o });
        t = invoke + s.before + s.after;
      } else {
        t = o.complete = invoke + s.before + s.after;
        points.push({ at: invoke + s.before + eps, op: o });
      }
    });
  });
  points.sort((a, b) => a.at - b.at);
  const store = new Map<string, { value: string; modRev: number }>();
  const log: LogEvent[] = [];
  let rev = 1;
  for (const { op: o } of points) {
    const c = o.call;
    const cur = store.get(c.key);
    let out: Outcome;
    if (c.f === "put") {
      store.set(c.key, { value: c.value, modRev: ++rev });
      log.push({ rev, key: c.key, type: "put", value: c.value });
      out = { rev };
    } else if (c.f === "get") out = { rev, value: cur?.value ?? null, modRev: cur?.modRev ?? 0 };
    else if (c.f === "cas") {
      const holds = (cur?.value ?? null) === c.expected;
      if (holds) {
        store.set(c.key, { value: c.value, modRev: ++rev });
        log.push({ rev, key: c.key, type: "put", value: c.value });
      }
      out = { rev, succeeded: holds };
    } else {
      if (cur !== undefined) {
        store.delete(c.key);
        log.push({ rev: ++rev, key: c.key, type: "delete" });
      }
      out = { rev, deleted: cur === undefined ? 0 : 1 };
    }
    if (o.complete !== undefined) o.outcome = out;
  }
  return { ops, log };
}

describe("a simulated atomic register (property)", () => {
  it("always yields histories every check accepts", () => {
    fc.assert(
      fc.property(scheduleArb, (schedule) => {
        const { ops, log } = simulate(schedule);
        const r = check({ ops, log, watches: [{ name: "w", from: 1, events: log }] });
        if (!r.ok) throw new Error(r.text);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects the history once one read returns a value nobody wrote", () => {
    fc.assert(
      fc.property(scheduleArb, fc.nat(), (schedule, pick) => {
        const { ops } = simulate(schedule);
        const reads = ops.filter((o) => o.call.f === "get" && o.outcome !== undefined);
        fc.pre(reads.length > 0);
        reads[pick % reads.length]!.outcome!.value = "impossible";
        const r = check({ ops });
        expect(r.ok).toBe(false);
        expect(r.sections[0]!.problems.length).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
