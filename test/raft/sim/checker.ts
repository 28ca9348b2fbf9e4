/**
 * SafetyChecker: Raft's safety properties (Raft paper, Figure 3), checked against what the simulator
 * observes. It knows nothing of RawNode: the cluster feeds it observations, and a unit test can feed it
 * a hand-made history. Every check records a Violation instead of throwing, so a test can assert
 * which property failed; the simulator stops at the first one.
 *
 *  - election-safety:      at most one leader per term (observeLeader).
 *  - log-matching:         two logs holding an entry with the same index and term are identical up to
 *                          it (checkNode: every (index, term) seen anywhere must always carry the same
 *                          contents and follow the same previous term; by induction this is the
 *                          property). Terms in one log never decrease.
 *  - leader-completeness:  a leader of term T holds every entry applied anywhere before any node had
 *                          reached term T (so committed in a term < T) (checkNode, incrementally).
 *  - state-machine-safety: no two nodes apply different entries at one index; a state restored from a
 *                          snapshot equals what the cluster applied up to its index (observeApply,
 *                          observeRestore, checkConverged).
 *  - committed-lost:       once a node's log holds an entry it knows is committed (index ≤ its commit
 *                          index) and that entry was applied somewhere, the node keeps it (or a
 *                          snapshot covering it) forever, across restarts; and its committed prefix
 *                          agrees with what was applied.
 *  - apply-order:          each node applies indexes consecutively from its restored state.
 *  - integrity:            every applied non-empty normal entry carries data some client proposed.
 *  - linearizable-read:    a ReadIndex answer (ReadState) is at least the highest commit index any
 *                          node had when the read was issued, and reaches the node that asked
 *                          (observeReadIssued, observeReadState).
 *
 * Cost: checkNode is linear in the node's log length (log matching) plus amortised O(1) for the
 * other checks; the simulator compacts logs, so this stays small.
 */
import { type Entry, EntryType } from "../../../src/raft/raftpb.js";
import { type AppliedState, applyEntry, fingerprint, foldHash } from "./state-machine.js";

export type ViolationKind =
  | "election-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "committed-lost"
  | "apply-order"
  | "integrity"
  | "linearizable-read";

export interface Violation {
  kind: ViolationKind;
  /** The simulator step at which it was detected (SafetyChecker.step). */
  step: number;
  detail: string;
}

/**
 * One node's log at one instant: entries prevIndex+1 … prevIndex+entries.length, preceded by
 * (prevIndex, prevTerm) — the snapshot point or dummy entry. `committed` is the node's commit index.
 * The checker only reads the view during checkNode and keeps no reference to it.
 */
export interface LogView {
  prevIndex: number;
  prevTerm: number;
  entries: readonly Entry[];
  committed: number;
}

/** What the checker needs of a node at one instant (live: its raft; crashed: its durable storage). */
export interface NodeView {
  id: bigint;
  term: number;
  isLeader: boolean;
  log: LogView;
}

/** The entry applied at one index, first seen at a moment when no node's term exceeded `bound`. */
interface Applied {
  fp: string;
  bound: number;
  by: bigint;
}

/** What an (index, term) pair stands for in log matching, and the first node seen holding it. */
interface ChainLink {
  fp: string;
  prevTerm: number;
  by: bigint;
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** The current simulator step, stamped on violations. The caller advances it. */
  step = 0;

  private readonly leaders = new Map<number, bigint>();
  /** The highest commit index seen on any node (checkNode, observeCommitted). */
  private maxCommitted = 0;
  /** Reads issued and not yet forgotten: request context → who asked and the floor for the answer. */
  private readonly reads = new Map<string, { id: bigint; floor: number }>();
  private maxTerm = 0;
  /** history[i]: the entry applied at index i (indexes base.index+1 … maxApplied, dense). */
  private readonly history: Applied[] = [];
  /** canonical[i]: the state hash after applying up to i (from base.index on). */
  private readonly canonical: number[] = [];
  private maxApplied: number;
  private readonly baseIndex: number;
  /** Each node's applied state as the checker tracks it. */
  private readonly states = new Map<bigint, AppliedState>();
  /** Log matching: index → term → link. */
  private readonly chain = new Map<number, Map<number, ChainLink>>();
  /** Per node: the highest index up to which its log is known to agree with the applied history. */
  private readonly matched = new Map<bigint, number>();
  /** Per leader: in which term, and up to which applied index, leader completeness was verified. */
  private readonly leaderChecked = new Map<bigint, { term: number; upTo: number }>();
  /**
   * Entry objects already checked against `chain`, with the previous term they were checked with.
   * Logs hold on to their entry objects across steps, so each step re-verifies only what changed.
   */
  private readonly verified = new WeakMap<Entry, number>();
  /** The configuration each conf change entry led to (observeConfState). */
  private readonly confs = new Map<number, { conf: string; by: bigint }>();
  /** Proposed payloads, if integrity is checked (see trackProposals). */
  private proposals: Set<string> | undefined;

  /** base: the state every node starts from (the simulator's initial snapshot). */
  constructor(base: AppliedState) {
    this.baseIndex = base.index;
    this.maxApplied = base.index;
    this.canonical[base.index] = base.hash;
  }

  /** Whether no violation has been recorded. */
  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** The highest index applied anywhere. */
  get appliedIndex(): number {
    return this.maxApplied;
  }

  /** The state hash the cluster agreed on at index i (i between base and appliedIndex). */
  hashAt(i: number): number | undefined {
    return this.canonical[i];
  }

  private fail(kind: ViolationKind, detail: string): void {
    this.violations.push({ kind, step: this.step, detail });
  }

  /** Enables the integrity check: from now on every applied payload must have been passed to observeProposal. */
  trackProposals(): void {
    this.proposals = new Set();
  }

  observeProposal(payload: string): void {
    this.proposals?.add(payload);
  }

  /** Some node is at `term` (raises the bound used by leader completeness). Call before observeApply. */
  observeTerm(term: number): void {
    if (term > this.maxTerm) this.maxTerm = term;
  }

  /** Some node's commit index is at least c. */
  observeCommitted(c: number): void {
    if (c > this.maxCommitted) this.maxCommitted = c;
  }

  /** Node `id` issued a ReadIndex request with context `ctx` (unique per request). */
  observeReadIssued(id: bigint, ctx: string): void {
    this.reads.set(ctx, { id, floor: this.maxCommitted });
  }

  /**
   * Node `id` got a ReadState for `ctx` at `index`. Linearizability needs index ≥ every commit index
   * that existed when the read was issued. (A duplicated request may be answered twice: both answers
   * are checked.)
   */
  observeReadState(id: bigint, ctx: string, index: number): void {
    const r = this.reads.get(ctx);
    if (r === undefined) {
      this.fail("linearizable-read", `node ${id} got a ReadState for unknown request ${JSON.stringify(ctx)}`);
    } else if (r.id !== id) {
      this.fail("linearizable-read", `node ${id} got the ReadState of node ${r.id}'s request ${JSON.stringify(ctx)}`);
    } else if (index < r.floor) {
      this.fail(
        "linearizable-read",
        `read ${JSON.stringify(ctx)} at node ${id} answered with index ${index}, but ${r.floor} was committed before it was issued`,
      );
    }
  }

  /** Node `id` is leader in `term`. */
  observeLeader(term: number, id: bigint): void {
    this.observeTerm(term);
    const prev = this.leaders.get(term);
    if (prev === undefined) this.leaders.set(term, id);
    else if (prev !== id) this.fail("election-safety", `two leaders in term ${term}: ${prev} and ${id}`);
  }

  /** Node `id`'s state machine was (re)set to `s`: at start, on restart, or from a snapshot. */
  observeRestore(id: bigint, s: AppliedState): void {
    if (s.index > this.maxApplied) {
      this.fail("state-machine-safety", `node ${id} restored a state at ${s.index}, beyond anything applied (${this.maxApplied})`);
    } else if (s.index < this.baseIndex) {
      this.fail("state-machine-safety", `node ${id} restored a state at ${s.index}, before the initial state ${this.baseIndex}`);
    } else if (this.canonical[s.index] !== s.hash) {
      this.fail("state-machine-safety", `node ${id} restored a state at ${s.index} that differs from what the cluster applied there`);
    }
    this.states.set(id, { ...s });
  }

  /**
   * Node `id`'s configuration after applying the conf change entry at `index`, as text. Every node
   * must reach the same configuration at the same index.
   */
  observeConfState(id: bigint, index: number, conf: string): void {
    const prev = this.confs.get(index);
    if (prev === undefined) this.confs.set(index, { conf, by: id });
    else if (prev.conf !== conf) {
      this.fail("state-machine-safety", `configuration after index ${index}: node ${prev.by} has ${prev.conf} but node ${id} has ${conf}`);
    }
  }

  /** Node `id` applied entry e (call observeTerm with the node's term first). */
  observeApply(id: bigint, e: Entry): void {
    const s = this.states.get(id);
    if (s === undefined) {
      this.fail("apply-order", `node ${id} applied ${e.index} before any observeRestore`);
      return;
    }
    if (e.index !== s.index + 1) {
      this.fail("apply-order", `node ${id} applied index ${e.index} after ${s.index}`);
      return;
    }
    const fp = fingerprint(e);
    const rec = this.history[e.index];
    if (rec === undefined) {
      if (e.index !== this.maxApplied + 1) {
        // The node's own state is at e.index-1 > maxApplied, which observeRestore already flagged.
        this.fail("state-machine-safety", `node ${id} applied ${e.index} but nothing was applied at ${this.maxApplied + 1}`);
        return;
      }
      this.history[e.index] = { fp, bound: this.maxTerm, by: id };
      this.canonical[e.index] = foldHash(this.canonical[e.index - 1]!, e.index, fp);
      this.maxApplied = e.index;
    } else if (rec.fp !== fp) {
      this.fail("state-machine-safety", `index ${e.index}: node ${rec.by} applied ${rec.fp} but node ${id} applied ${fp}`);
    }
    if (this.proposals !== undefined && e.type === EntryType.EntryNormal && e.data.length > 0) {
      const payload = fp.slice(fp.indexOf("/", fp.indexOf("/") + 1) + 1);
      if (!this.proposals.has(payload)) this.fail("integrity", `node ${id} applied ${fp} at ${e.index}, which no client proposed`);
    }
    this.states.set(id, applyEntry(s, e));
  }

  /** Checks log matching, committed-lost and (for a leader) leader completeness on one node's view. */
  checkNode(v: NodeView): void {
    this.observeTerm(v.term);
    this.observeCommitted(v.log.committed);
    if (v.isLeader) this.observeLeader(v.term, v.id);
    this.checkLogMatching(v);
    this.checkCommittedKept(v);
    if (v.isLeader) this.checkLeaderCompleteness(v);
  }

  private checkLogMatching(v: NodeView): void {
    const { prevIndex, entries } = v.log;
    let prevTerm = v.log.prevTerm;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      if (e.index !== prevIndex + 1 + k) {
        this.fail("log-matching", `node ${v.id}: log not contiguous, entry ${e.index} at position of ${prevIndex + 1 + k}`);
        return;
      }
      if (e.term < prevTerm) {
        this.fail("log-matching", `node ${v.id}: term decreases at ${e.index} (${prevTerm} → ${e.term})`);
        return;
      }
      if (this.verified.get(e) === prevTerm) {
        prevTerm = e.term;
        continue;
      }
      let byTerm = this.chain.get(e.index);
      if (byTerm === undefined) this.chain.set(e.index, (byTerm = new Map()));
      const fp = fingerprint(e);
      const link = byTerm.get(e.term);
      if (link === undefined) {
        byTerm.set(e.term, { fp, prevTerm, by: v.id });
      } else if (link.fp !== fp) {
        this.fail("log-matching", `entry (${e.index}, ${e.term}) is ${link.fp} on node ${link.by} but ${fp} on node ${v.id}`);
        return;
      } else if (link.prevTerm !== prevTerm) {
        this.fail(
          "log-matching",
          `entry (${e.index}, ${e.term}) follows term ${link.prevTerm} on node ${link.by} but term ${prevTerm} on node ${v.id}`,
        );
        return;
      }
      this.verified.set(e, prevTerm);
      prevTerm = e.term;
    }
  }

  private checkCommittedKept(v: NodeView): void {
    const { prevIndex, entries, committed } = v.log;
    const last = prevIndex + entries.length;
    const at = (i: number): string => fingerprint(entries[i - prevIndex - 1]!);
    let m = this.matched.get(v.id) ?? this.baseIndex;
    if (m > prevIndex && m > this.baseIndex) {
      if (m > last) {
        this.fail("committed-lost", `node ${v.id} lost committed entry ${m} (${this.history[m]!.fp}); its log ends at ${last}`);
        return;
      }
      if (at(m) !== this.history[m]!.fp) {
        this.fail("committed-lost", `node ${v.id} replaced committed entry ${m} (${this.history[m]!.fp}) by ${at(m)}`);
        return;
      }
    }
    // Below the snapshot point the node's state is what observeRestore checked.
    m = Math.max(m, Math.min(prevIndex, this.maxApplied));
    const limit = Math.min(committed, this.maxApplied);
    while (m < limit && m + 1 <= last && at(m + 1) === this.history[m + 1]!.fp) m++;
    this.matched.set(v.id, m);
    if (m < limit) {
      const i = m + 1;
      const has = i <= last ? at(i) : "nothing";
      this.fail("committed-lost", `node ${v.id} has committed index ${committed} but holds ${has} at ${i}, where ${this.history[i]!.fp} was applied`);
    }
  }

  private checkLeaderCompleteness(v: NodeView): void {
    const { prevIndex, entries } = v.log;
    const last = prevIndex + entries.length;
    let c = this.leaderChecked.get(v.id);
    if (c === undefined || c.term !== v.term) this.leaderChecked.set(v.id, (c = { term: v.term, upTo: this.baseIndex }));
    // Entries are first applied in index order and bounds never decrease, so stop at the first one
    // that might have been committed in this leader's own term or later.
    for (let i = c.upTo + 1; i <= this.maxApplied; i++) {
      const rec = this.history[i]!;
      if (rec.bound >= v.term) break;
      if (i > prevIndex) {
        if (i > last) {
          this.fail("leader-completeness", `leader ${v.id} of term ${v.term} lacks entry ${i} (${rec.fp}) committed before term ${v.term}`);
          return;
        }
        const fp = fingerprint(entries[i - prevIndex - 1]!);
        if (fp !== rec.fp) {
          this.fail("leader-completeness", `leader ${v.id} of term ${v.term} holds ${fp} at ${i}, but ${rec.fp} was committed before term ${v.term}`);
          return;
        }
      }
      c.upTo = i;
    }
  }

  /**
   * At the end of a run: all nodes must have applied the same state (given as the nodes' own view of
   * their state machines, which must agree with the checker's).
   */
  checkConverged(states: ReadonlyMap<bigint, AppliedState>): void {
    const ids = [...states.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const id of ids) {
      const s = states.get(id)!;
      const mine = this.states.get(id);
      if (mine === undefined || mine.index !== s.index || mine.hash !== s.hash) {
        this.fail("state-machine-safety", `node ${id}'s state machine (${s.index}) disagrees with the entries it was seen to apply`);
      }
    }
    const first = states.get(ids[0]!)!;
    for (const id of ids) {
      const s = states.get(id)!;
      if (s.index !== first.index || s.hash !== first.hash) {
        this.fail(
          "state-machine-safety",
          `state machines differ: node ${ids[0]} at ${first.index}/${first.hash.toString(16)}, node ${id} at ${s.index}/${s.hash.toString(16)}`,
        );
      }
    }
  }
}

/** One violation as one line: "[kind] step N: detail". */
export function describeViolation(v: Violation): string {
  return `[${v.kind}] step ${v.step}: ${v.detail}`;
}
