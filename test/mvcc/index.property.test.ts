import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ErrRevisionNotFound, MvccError } from "../../src/mvcc/errors.js";
import { TreeIndex } from "../../src/mvcc/index.js";
import { KeyIndex, type AvailableRevisions, type Generation, type KeyIndexGetResult } from "../../src/mvcc/key-index.js";
import { compareRevision, revisionKey, zeroRevision, type Revision } from "../../src/mvcc/revision.js";

/**
 * The tree index against an obviously correct model: every key's full list of (revision, deleted)
 * events, never compacted. Compaction only limits which revisions may be asked about (≥ the
 * compacted revision, as the store enforces), so every answer there, rangeSince at the compacted
 * revision included, must match the full history.
 *
 * A transaction changes each key at most once, as etcd's API enforces (a txn that puts and deletes
 * the same key fails with ErrGRPCDuplicateKey); compaction relies on it: a key deleted and put
 * again at the same main revision c would, compacted at c, keep only the tombstone in `available`.
 */

interface Event {
  rev: Revision;
  deleted: boolean;
}

const pool: number[][] = [[0x00], [0x00, 0x00], [0x61], [0x61, 0x62], [0x62], [0x7f], [0x80], [0xff]];
const hexOf = (k: Uint8Array) => Array.from(k, (x) => x.toString(16).padStart(2, "0")).join("");

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  // Obviously correct: compare hex strings (same digits per byte, so prefix order carries over).
  const ha = hexOf(a);
  const hb = hexOf(b);
  return ha < hb ? -1 : ha > hb ? 1 : 0;
}

class Model {
  readonly keys = new Map<string, { key: Uint8Array; events: Event[] }>();

  add(key: Uint8Array, rev: Revision, deleted: boolean): void {
    const h = hexOf(key);
    if (!this.keys.has(h)) this.keys.set(h, { key, events: [] });
    this.keys.get(h)!.events.push({ rev, deleted });
  }

  liveNow(key: Uint8Array): boolean {
    const ev = this.keys.get(hexOf(key))?.events;
    return ev !== undefined && ev.length > 0 && !ev[ev.length - 1]!.deleted;
  }

  get(key: Uint8Array, atRev: number): KeyIndexGetResult | MvccError {
    const ev = (this.keys.get(hexOf(key))?.events ?? []).filter((e) => e.rev.main <= atRev);
    const last = ev[ev.length - 1];
    if (last === undefined || last.deleted) return ErrRevisionNotFound;
    let start = ev.length - 1;
    while (start > 0 && !ev[start - 1]!.deleted) start--;
    return { modified: last.rev, created: ev[start]!.rev, ver: ev.length - start };
  }

  keysIn(key: Uint8Array, end: Uint8Array | undefined): Uint8Array[] {
    const all = [...this.keys.values()].map((k) => k.key).sort(cmpBytes);
    if (end === undefined || end.length === 0) return all.filter((k) => cmpBytes(k, key) === 0);
    const open = end.length === 1 && end[0] === 0;
    return all.filter((k) => cmpBytes(k, key) >= 0 && (open || cmpBytes(k, end) < 0));
  }

  range(key: Uint8Array, end: Uint8Array | undefined, atRev: number): { keys: Uint8Array[]; revs: Revision[] } {
    const keys: Uint8Array[] = [];
    const revs: Revision[] = [];
    for (const k of this.keysIn(key, end)) {
      const got = this.get(k, atRev);
      if (got instanceof MvccError) continue;
      keys.push(k);
      revs.push(got.modified);
    }
    return { keys, revs };
  }

  rangeSince(key: Uint8Array, end: Uint8Array | undefined, rev: number): Revision[] {
    const out: Revision[] = [];
    for (const k of this.keysIn(key, end)) {
      const byMain = new Map<number, Revision>();
      for (const e of this.keys.get(hexOf(k))!.events) if (e.rev.main >= rev) byMain.set(e.rev.main, e.rev);
      out.push(...byMain.values());
    }
    return out.sort(compareRevision);
  }

  /**
   * The revisions a compaction at c keeps: each key's last change at or before c when it is a put,
   * or a tombstone at exactly c (so a watcher from c sees the delete). keep(c) reports the same
   * except such a tombstone (`withTombstoneAtC` false).
   */
  available(c: number, withTombstoneAtC = true): string[] {
    const out: string[] = [];
    for (const { events } of this.keys.values()) {
      const before = events.filter((e) => e.rev.main <= c);
      const last = before[before.length - 1];
      if (last === undefined) continue;
      if (!last.deleted || (withTombstoneAtC && last.rev.main === c)) out.push(revisionKey(last.rev));
    }
    return out.sort();
  }

  /**
   * The index compaction at c must leave, built directly: each key's lives (generations, with
   * created and version from the full history) holding only the revisions kept at c or above c;
   * lives left with nothing dropped, a key left with nothing absent.
   */
  compacted(c: number): TreeIndex {
    const keep = new Set(this.available(c));
    const ti = new TreeIndex();
    for (const { key, events } of this.keys.values()) {
      const gens: Generation[] = [];
      let cur: Generation | undefined;
      for (const e of events) {
        cur ??= { created: e.rev, ver: 0, revs: [] };
        cur.ver++;
        if (keep.has(revisionKey(e.rev)) || e.rev.main > c) cur.revs.push(e.rev);
        if (e.deleted) {
          if (cur.revs.length > 0) gens.push(cur);
          cur = undefined;
        }
      }
      if (cur !== undefined) gens.push(cur);
      if (gens.length === 0) continue;
      if (events[events.length - 1]!.deleted) gens.push({ created: zeroRevision, ver: 0, revs: [] });
      const ki = new KeyIndex(key);
      ki.modified = events[events.length - 1]!.rev;
      ki.generations = gens;
      ti.insert(ki);
    }
    return ti;
  }

  /**
   * What a restore reads from the backend after a compaction at c, fed to a fresh index the way
   * the store's restore does: the kept revisions and every later one, in revision order; a key
   * whose first revision read is a tombstone goes through restoreTombstone.
   */
  restored(c: number): TreeIndex {
    const keep = new Set(this.available(c));
    const all: { key: Uint8Array; e: Event; created: Revision; ver: number }[] = [];
    for (const { key, events } of this.keys.values()) {
      let created: Revision | undefined;
      let ver = 0;
      for (const e of events) {
        if (e.deleted) {
          created = undefined;
          ver = 0;
        } else {
          created ??= e.rev;
          ver++;
        }
        all.push({ key, e, created: created ?? e.rev, ver });
      }
    }
    all.sort((a, b) => compareRevision(a.e.rev, b.e.rev));
    const ti = new TreeIndex();
    const seen = new Set<string>();
    for (const { key, e, created, ver } of all) {
      if (!keep.has(revisionKey(e.rev)) && e.rev.main <= c) continue;
      const h = hexOf(key);
      if (!e.deleted) ti.restore(key, created, e.rev, ver);
      else if (!seen.has(h)) expect(ti.restoreTombstone(key, e.rev)).toBeUndefined();
      else expect(ti.tombstone(key, e.rev)).toBeUndefined();
      seen.add(h);
    }
    return ti;
  }
}

const keyArb = fc.constantFrom(...pool).map((k) => new Uint8Array(k));
const endArb = fc.oneof(
  fc.constant(undefined),
  fc.constant(new Uint8Array(0)),
  fc.constant(new Uint8Array([0])),
  keyArb,
  fc.constantFrom([0x61, 0x00], [0x63], [0xff, 0xff]).map((k) => new Uint8Array(k)),
);
const opArb = fc.record({ del: fc.boolean(), key: keyArb });
// At most one change per key in a transaction (see the header).
const opsArb = fc.uniqueArray(opArb, { minLength: 1, maxLength: 3, selector: (op) => hexOf(op.key) });
const commandArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("txn" as const), ops: opsArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("compact" as const), at: fc.nat() }) },
);
const queryArb = fc.record({
  key: keyArb,
  end: endArb,
  at: fc.nat(),
  limit: fc.integer({ min: -1, max: 4 }),
});

const show = (k: Uint8Array | undefined) => (k === undefined ? "nil" : hexOf(k));

describe("treeIndex against a naive model", () => {
  it("agrees on get, range, revisions, countRevisions, rangeSince, compaction and restore", () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), fc.array(queryArb, { minLength: 1, maxLength: 6 }), (commands, queries) => {
        const ti = new TreeIndex();
        const model = new Model();
        let current = 0;
        let compacted = 0;

        const check = (ti: TreeIndex) => {
          for (const q of queries) {
            // A revision in [compacted, current + 1].
            const at = compacted + (q.at % (current + 2 - compacted));
            const where = `${show(q.key)}..${show(q.end)} @${at} (compacted ${compacted}, current ${current})`;
            expect(ti.get(q.key, at), `get ${where}`).toEqual(model.get(q.key, at));
            const want = model.range(q.key, q.end, at);
            const got = ti.range(q.key, q.end, at);
            expect({ keys: got.keys.map(hexOf), revs: got.revs }, `range ${where}`).toEqual({
              keys: want.keys.map(hexOf),
              revs: want.revs,
            });
            const limited = q.limit <= 0 ? want.revs : want.revs.slice(0, q.limit);
            expect(ti.revisions(q.key, q.end, at, q.limit), `revisions ${where}`).toEqual({
              revs: limited,
              total: want.revs.length,
            });
            expect(ti.countRevisions(q.key, q.end, at), `count ${where}`).toBe(want.revs.length);
            expect(ti.rangeSince(q.key, q.end, at), `since ${where}`).toEqual(model.rangeSince(q.key, q.end, at));
          }
        };

        for (const cmd of commands) {
          if (cmd.kind === "txn") {
            const main = current + 1;
            let sub = 0;
            for (const op of cmd.ops) {
              const rev = { main, sub };
              if (op.del) {
                const live = model.liveNow(op.key);
                const err = ti.tombstone(op.key, rev);
                expect(err).toBe(live ? undefined : ErrRevisionNotFound);
                if (!live) continue;
                model.add(op.key, rev, true);
              } else {
                ti.put(op.key, rev);
                model.add(op.key, rev, false);
              }
              sub++;
            }
            if (sub > 0) current = main;
          } else {
            const c = compacted + (cmd.at % (current + 1 - compacted));
            const kept = [...ti.keep(c).keys()].sort();
            const am: AvailableRevisions = ti.compact(c);
            expect([...am.keys()].sort(), `compact(${c})`).toEqual(model.available(c));
            expect(kept, `keep(${c})`).toEqual(model.available(c, false));
            compacted = c;
            const want = model.compacted(c);
            const plain = (t: TreeIndex) => t.keyIndexes().map((ki) => ki.describe());
            expect(plain(ti), `index after compact(${c})`).toEqual(plain(want));
            expect(ti.equal(want), `equal after compact(${c})`).toBe(true);
            check(model.restored(c));
          }
          check(ti);
        }
      }),
      { numRuns: 300 },
    );
  });
});
