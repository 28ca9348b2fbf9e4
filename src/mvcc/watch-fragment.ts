/**
 * Splitting a large watch response into fragments (etcd server/etcdserver/api/v3rpc/watch.go
 * sendFragments), as a pure function for the v3rpc layer to apply to watchers created with
 * `fragment: true`.
 *
 * Sizes are protobuf sizes of etcdserverpb.WatchResponse. A repeated message field is the sum of
 * its elements' sizes, so a response's size is `baseSize` (everything but the events, `fragment`
 * false) + 2 if `fragment` is set + each event's {@link eventFieldSize}; this computes sizes
 * incrementally instead of re-encoding every candidate as etcd does.
 */
import { encodeEvent, type Event } from "./mvccpb.js";

/** WatchResponse.events is field 11: a one-byte tag (11 << 3 | 2). */
const eventsTagBytes = 1;
/** WatchResponse.fragment is field 7: tag byte + one-byte bool. */
const fragmentFieldBytes = 2;

function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Bytes one event adds to an encoded WatchResponse (tag, length, message). */
export function eventFieldSize(ev: Event): number {
  const n = encodeEvent(ev).length;
  return eventsTagBytes + varintLen(n) + n;
}

/**
 * etcd's sendFragments: `resp` alone if its size is below `maxBytes` or it has fewer than two
 * events; otherwise consecutive fragments, each a copy of `resp` with a slice of the events and
 * `fragment: true` except the last. A fragment takes events while its size stays below `maxBytes`,
 * but always at least one (an event larger than the limit goes alone). The events are shared, not
 * copied; `resp` is not modified.
 */
export function fragmentWatchResponse<R extends { events: Event[]; fragment?: boolean }>(
  resp: R,
  maxBytes: number,
  baseSize: number,
): R[] {
  const sizes = resp.events.map(eventFieldSize);
  const total = sizes.reduce((a, b) => a + b, baseSize);
  if (total < maxBytes || resp.events.length < 2) return [resp];
  const out: R[] = [];
  let idx = 0;
  while (idx < resp.events.length) {
    let size = baseSize + fragmentFieldBytes;
    const from = idx;
    for (; idx < resp.events.length; idx++) {
      const n = idx - from + 1;
      if (n > 1 && size + sizes[idx]! >= maxBytes) break;
      size += sizes[idx]!;
    }
    out.push({ ...resp, events: resp.events.slice(from, idx), fragment: idx < resp.events.length });
  }
  return out;
}
