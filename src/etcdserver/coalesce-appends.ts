/**
 * Fewer, larger appends: a leader in StateReplicate sends one MsgApp per proposal and another per
 * commit advance, so one Ready often holds several consecutive appends to the same follower. Each
 * is a frame (a write) on the stream; consecutive ones that continue each other are sent as one
 * append with all their entries and the newest commit index, which the follower handles exactly as
 * it would the sequence (and acknowledges once, for the last index, freeing every inflight slot).
 */
import { MessageType, type Message } from "../raft/index.js";

/** At most this many entries in one merged append. */
export const maxMergedAppEntries = 1024;

/**
 * `msgs` with each MsgApp that directly continues the previous message to the same follower (an
 * append in the same term, starting where that one ends) folded into it. Order is kept: only
 * messages with nothing else for that follower between them are merged. The merged message is a
 * new object; the inputs are not changed.
 */
export function coalesceAppends(msgs: readonly Message[]): Message[] {
  const out: Message[] = [];
  /** Per follower, the position in `out` of the last message to it, when that was a MsgApp. */
  const lastApp = new Map<bigint, number>();
  for (const m of msgs) {
    if (m.type !== MessageType.MsgApp) {
      lastApp.delete(m.to);
      out.push(m);
      continue;
    }
    const at = lastApp.get(m.to);
    const prev = at === undefined ? undefined : out[at]!;
    if (prev !== undefined && continues(prev, m)) {
      out[at!] = { ...prev, entries: [...prev.entries, ...m.entries], commit: Math.max(prev.commit, m.commit) };
      continue;
    }
    lastApp.set(m.to, out.length);
    out.push(m);
  }
  return out;
}

/** Whether `next` is an append in `prev`'s term starting at `prev`'s last entry. */
function continues(prev: Message, next: Message): boolean {
  if (prev.term !== next.term || prev.entries.length + next.entries.length > maxMergedAppEntries) return false;
  const last = prev.entries[prev.entries.length - 1];
  return next.index === (last?.index ?? prev.index) && next.logTerm === (last?.term ?? prev.logTerm);
}
