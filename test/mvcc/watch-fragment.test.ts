// etcd v3rpc sendFragments (TestSendFragment in watch_test.go): sizes against real encodings.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEvent, EventType, newKeyValue, type Event } from "../../src/mvcc/mvccpb.js";
import { eventFieldSize, fragmentWatchResponse } from "../../src/mvcc/watch-fragment.js";
import { b } from "./watch-helpers.js";

const evOf = (k: string, valueLen: number, rev = 2): Event => ({
  type: EventType.PUT,
  kv: newKeyValue({ key: b(k), value: new Uint8Array(valueLen), createRevision: rev, modRevision: rev, version: 1 }),
});

interface Resp {
  watchID: number;
  events: Event[];
  fragment?: boolean;
}

describe("fragmentWatchResponse", () => {
  it("eventFieldSize is tag + length varint + message", () => {
    const e = evOf("k", 200);
    const n = encodeEvent(e).length;
    expect(n).toBeGreaterThan(127);
    expect(eventFieldSize(e)).toBe(1 + 2 + n);
  });

  it("small responses and single events are not split", () => {
    const r: Resp = { watchID: 1, events: [evOf("a", 10), evOf("b", 10)] };
    expect(fragmentWatchResponse(r, 1000, 10)).toEqual([r]);
    const big: Resp = { watchID: 1, events: [evOf("a", 5000)] };
    expect(fragmentWatchResponse(big, 100, 10)).toEqual([big]);
  });

  it("splits into fragments below the limit, the last with fragment false", () => {
    const events = Array.from({ length: 10 }, (_, i) => evOf(`k${i}`, 90));
    const per = eventFieldSize(events[0]!);
    const max = 10 + 2 + 3 * per + 1; // three events fit (size must stay below max)
    const out = fragmentWatchResponse<Resp>({ watchID: 7, events }, max, 10);
    expect(out.map((r) => r.events.length)).toEqual([3, 3, 3, 1]);
    expect(out.map((r) => r.fragment)).toEqual([true, true, true, false]);
    expect(out.flatMap((r) => r.events)).toEqual(events);
    expect(out.every((r) => r.watchID === 7)).toBe(true);
  });

  it("property: fragments concatenate to the events, each below the limit unless a single event", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(300), { minLength: 2, maxLength: 30 }), fc.integer({ min: 20, max: 2000 }), (lens, max) => {
        const events = lens.map((n, i) => evOf(`key${i}`, n, i + 2));
        const out = fragmentWatchResponse<Resp>({ watchID: 1, events }, max, 12);
        expect(out.flatMap((r) => r.events)).toEqual(events);
        if (out.length === 1) return;
        out.forEach((r, i) => {
          expect(r.fragment).toBe(i < out.length - 1);
          expect(r.events.length).toBeGreaterThan(0);
          const size = 12 + (r.fragment ? 2 : 0) + r.events.reduce((a, e) => a + eventFieldSize(e), 0);
          if (r.events.length > 1) expect(size).toBeLessThan(max + (r.fragment ? 0 : 2));
        });
      }),
    );
  });
});
