/**
 * One stable line of text per raft value, shared by logs and tests (etcd's raft/util.go Describe*).
 * Ids are printed in hex, as etcd prints member ids; entry payloads are summarized, not dumped.
 */
import { decodeConfChange, decodeConfChangeV2 } from "./codec.js";
import { describeChanges } from "./confchange/confchange.js";
import {
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  EntryType,
  MessageType,
  asV2,
  describeConfState,
  isEmptyHardState,
  isEmptySnap,
} from "./raftpb.js";
import type { Ready } from "./rawnode.js";
import { StateType } from "./raft.js";

const hex = (id: bigint): string => id.toString(16);

function describeData(e: Entry): string {
  try {
    if (e.type === EntryType.EntryConfChange) return describeChanges(asV2(decodeConfChange(e.data)).changes);
    if (e.type === EntryType.EntryConfChangeV2) {
      const cc = decodeConfChangeV2(e.data);
      return cc.changes.length === 0 ? "leave-joint" : describeChanges(cc.changes);
    }
  } catch {
    return `<undecodable ${e.data.length} bytes>`;
  }
  if (e.data.length === 0) return "";
  const text = new TextDecoder("utf-8", { fatal: false }).decode(e.data.subarray(0, 32));
  // Printable ASCII is shown as a quoted string, anything else by its length.
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) + (e.data.length > 32 ? "…" : "") : `<${e.data.length} bytes>`;
}

export function describeEntry(e: Entry): string {
  const kind = e.type === EntryType.EntryNormal ? "" : ` ${EntryType[e.type]}`;
  const data = describeData(e);
  return `${e.term}/${e.index}${kind}${data === "" ? "" : " " + data}`;
}

export function describeEntries(ents: Entry[]): string {
  return ents.map(describeEntry).join(", ");
}

export function describeHardState(h: HardState): string {
  return `Term:${h.term} Vote:${hex(h.vote)} Commit:${h.commit}`;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

export function describeMessage(m: Message): string {
  let s = `${hex(m.from)}->${hex(m.to)} ${MessageType[m.type]} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${describeEntries(m.entries)}]`;
  if (m.context.length > 0) s += ` Context:${m.context.length}B`;
  if (m.snapshot !== undefined && !isEmptySnap(m.snapshot)) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

export function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState !== undefined) parts.push(`Lead:${hex(rd.softState.lead)} State:${StateType[rd.softState.raftState]}`);
  if (!isEmptyHardState(rd.hardState)) parts.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.readStates.length > 0) parts.push(`ReadStates ${rd.readStates.map((r) => r.index).join(",")}`);
  if (rd.entries.length > 0) parts.push(`Entries [${describeEntries(rd.entries)}]`);
  if (!isEmptySnap(rd.snapshot)) parts.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) parts.push(`CommittedEntries [${describeEntries(rd.committedEntries)}]`);
  if (rd.messages.length > 0) parts.push(`Messages [${rd.messages.map(describeMessage).join("; ")}]`);
  return parts.length === 0 ? "<empty Ready>" : parts.join(" | ");
}
