// Coalesced appends leave a follower exactly where the appends one by one would: the same log,
// the same commit index and the same last acknowledgement, with fewer messages.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coalesceAppends } from "../../src/etcdserver/coalesce-appends.js";
import { MessageType, newEntry, newMessage, type Message } from "../../src/raft/index.js";
import { newTestMemoryStorage, newTestRaft, readMessages, withPeers } from "../raft/harness.js";

/** A leader's appends to follower 2 (and heartbeats between some), built from sizes and commit steps. */
function appends(steps: { n: number; commitStep: number; heartbeat: boolean }[]): Message[] {
  const msgs: Message[] = [];
  let last = 0;
  let commit = 0;
  for (const s of steps) {
    if (s.heartbeat) msgs.push(newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1, commit: Math.min(commit, last) }));
    const entries = Array.from({ length: s.n }, (_, i) => newEntry({ index: last + 1 + i, term: 1, data: new Uint8Array([i]) }));
    commit = Math.min(last + s.n, commit + s.commitStep);
    msgs.push(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: last, logTerm: last === 0 ? 0 : 1, entries, commit }));
    last += s.n;
  }
  return msgs;
}

function follow(msgs: Message[]) {
  const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
  const resps: Message[] = [];
  for (const m of msgs) {
    r.step(m);
    resps.push(...readMessages(r).filter((x) => x.type === MessageType.MsgAppResp));
  }
  const lastIndex = r.raftLog.lastIndex();
  const terms = Array.from({ length: lastIndex }, (_, i) => r.raftLog.term(i + 1));
  return { lastIndex, committed: r.raftLog.committed, terms, lastAck: resps.at(-1)?.index, rejects: resps.filter((x) => x.reject).length };
}

describe("coalesceAppends", () => {
  it("merges consecutive appends to a follower and keeps the rest in order", () => {
    const msgs = appends([
      { n: 1, commitStep: 0, heartbeat: false },
      { n: 2, commitStep: 1, heartbeat: false },
      { n: 0, commitStep: 2, heartbeat: false },
      { n: 1, commitStep: 0, heartbeat: true },
    ]);
    const out = coalesceAppends(msgs);
    expect(out.map((m) => [MessageType[m.type], m.index, m.entries.map((e) => e.index), m.commit])).toEqual([
      ["MsgApp", 0, [1, 2, 3], 3],
      ["MsgHeartbeat", 0, [], 3],
      ["MsgApp", 3, [4], 3],
    ]);
    // The inputs are untouched.
    expect(msgs[0]!.entries.map((e) => e.index)).toEqual([1]);
  });

  it("does not merge across terms, followers or a gap", () => {
    const a = newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: 0, entries: [newEntry({ index: 1, term: 1 })] });
    const otherTerm = { ...a, term: 2, index: 1, logTerm: 1, entries: [newEntry({ index: 2, term: 2 })] };
    const otherPeer = { ...a, to: 3n };
    const gap = { ...a, index: 5, logTerm: 1 };
    for (const b of [otherTerm, otherPeer, gap]) expect(coalesceAppends([a, b])).toHaveLength(2);
  });

  it("leaves a follower in the same state as the appends one by one", () => {
    const step = fc.record({ n: fc.integer({ min: 0, max: 3 }), commitStep: fc.integer({ min: 0, max: 3 }), heartbeat: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const msgs = appends(steps);
        const merged = coalesceAppends(msgs);
        expect(merged.length).toBeLessThanOrEqual(msgs.length);
        expect(follow(merged)).toEqual(follow(msgs));
      }),
      { numRuns: 300 },
    );
  });
});
