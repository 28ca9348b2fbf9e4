/**
 * The simulated application: a state machine that folds every applied entry into a running hash.
 * Two nodes that applied the same entries (index, term, type, data) up to index i have the same
 * (index, hash); any divergence changes the hash. Its snapshot holds that pair (plus the removed
 * member ids), so a node restored from a snapshot carries a state the checker can compare with what
 * the rest of the cluster applied.
 */
import { type Entry, EntryType, sortIds } from "../../../src/raft/raftpb.js";

/** The state a node has applied: everything up to and including `index`, summarised by `hash`. */
export interface AppliedState {
  index: number;
  hash: number;
}

/** The hash of the state before any entry (the clusters start from a snapshot carrying it). */
export const initialHash = 0x811c9dc5;

const decoder = new TextDecoder();
const fpCache = new WeakMap<Entry, string>();

/**
 * A stable text identity of an entry's contents: "term/type/data" (data as UTF-8; the simulator's
 * payloads are ASCII). Two entries at one index are the same entry iff their fingerprints are equal.
 * Cached per Entry object: callers never mutate entries (raft and storage share them too).
 */
export function fingerprint(e: Entry): string {
  let fp = fpCache.get(e);
  if (fp === undefined) {
    fp = `${e.term}/${EntryType[e.type] ?? e.type}/${e.data.length === 0 ? "" : decoder.decode(e.data)}`;
    fpCache.set(e, fp);
  }
  return fp;
}

/** Folds entry (index, fingerprint) into hash (FNV-1a over the text, 32 bits). */
export function foldHash(hash: number, index: number, fp: string): number {
  let h = hash >>> 0;
  const s = `${index}:${fp};`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The state after applying e on top of s. Throws unless e is the very next index (a caller bug). */
export function applyEntry(s: AppliedState, e: Entry): AppliedState {
  if (e.index !== s.index + 1) throw new Error(`apply out of order: state at ${s.index}, entry ${e.index}`);
  return { index: e.index, hash: foldHash(s.hash, e.index, fingerprint(e)) };
}

const encoder = new TextEncoder();

/**
 * What a snapshot holds: the applied state, and the ids removed from the cluster so far (which the
 * application refuses to add again, as etcd's membership store does). Encoded as the text
 * "index hash removed", e.g. "42 1f3a9c 3,7" (hash in hex, removed ids comma-separated, maybe none).
 */
export interface SnapshotData {
  state: AppliedState;
  removed: bigint[];
}

export function encodeSnapshotData(d: SnapshotData): Uint8Array {
  return encoder.encode(`${d.state.index} ${d.state.hash.toString(16)} ${sortIds(d.removed).join(",")}`);
}

/** Inverse of encodeSnapshotData. Throws on anything else (a snapshot this simulator did not write). */
export function decodeSnapshotData(data: Uint8Array): SnapshotData {
  const m = /^(\d+) ([0-9a-f]+) ((?:\d+(?:,\d+)*)?)$/.exec(decoder.decode(data));
  if (m === null) throw new Error(`not a simulator snapshot: ${JSON.stringify(decoder.decode(data))}`);
  return {
    state: { index: Number(m[1]), hash: parseInt(m[2]!, 16) },
    removed: m[3] === "" ? [] : m[3]!.split(",").map((x) => BigInt(x)),
  };
}
