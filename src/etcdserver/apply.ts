/**
 * Applying a committed InternalRaftRequest to the state machine (etcd server/etcdserver/apply.go:
 * applierV3backend, and applierV3Capped while the NOSPACE alarm is raised). Runs synchronously, on
 * every member, in log order; the result goes to the proposer's waiter.
 */
import { AlarmAction, AlarmType, newAlarmResponse, newCompactionResponse, newLeaseGrantResponse, newLeaseRevokeResponse } from "../api/etcdserverpb/rpc.js";
import type { InternalRaftRequest } from "../api/etcdserverpb/raft-internal.js";
import type { Lessor } from "../lease/lessor.js";
import { MvccError } from "../mvcc/errors.js";
import type { WatchableStore } from "../mvcc/watchable-store.js";
import type { AlarmStore } from "./alarm.js";
import { ErrNoSpace } from "./errors.js";
import type { RaftCluster } from "./membership/cluster.js";
import { unsafeSaveClusterVersion, unsafeSaveMember } from "./membership/store.js";
import { cost } from "./quota.js";
import type { Backend } from "../storage/backend.js";
import { deleteRange, put, range, txn } from "./txn.js";

/** What applying one request produced: a response or an error, and for a compaction its completion. */
export interface ApplyResult {
  resp?: unknown;
  err?: Error;
  /** A compaction's backend clean-up (etcd's physc). */
  physc?: Promise<void>;
}

export interface ApplierDeps {
  kv: WatchableStore;
  lessor: Lessor;
  alarms: AlarmStore;
  cluster: RaftCluster;
  /** The (hooked) backend, for membership records. */
  backend: Backend;
}

/** etcd's applyV3 dispatch; `capped` is whether the NOSPACE alarm is raised. */
export function applyInternalRaftRequest(d: ApplierDeps, r: InternalRaftRequest): ApplyResult {
  const capped = d.alarms.get(AlarmType.NOSPACE).length > 0;
  const res = (v: unknown): ApplyResult => (v instanceof Error ? { err: v } : { resp: v });
  if (r.range) return res(range(d.kv, r.range));
  if (r.put) {
    if (capped) return { err: ErrNoSpace };
    return res(put(d.kv, d.lessor, r.put));
  }
  if (r.deleteRange) return res(deleteRange(d.kv, r.deleteRange));
  if (r.txn) {
    if (capped && cost({ txn: r.txn }) > 0) return { err: ErrNoSpace };
    return res(txn(d.kv, d.lessor, r.txn));
  }
  if (r.compaction) {
    const p = d.kv.compact(r.compaction.revision);
    if (p instanceof MvccError) return { err: p };
    const resp = newCompactionResponse();
    resp.header.revision = d.kv.rev();
    // A failed clean-up is logged by the store; the compaction itself has taken effect.
    return { resp, physc: p.catch(() => {}) };
  }
  if (r.leaseGrant) {
    if (capped) return { err: ErrNoSpace };
    const l = d.lessor.grant(r.leaseGrant.ID, r.leaseGrant.TTL);
    if (l instanceof Error) return { err: l };
    const resp = newLeaseGrantResponse({ ID: l.id, TTL: l.getTTL() });
    resp.header.revision = d.kv.rev();
    return { resp };
  }
  if (r.leaseRevoke) {
    const err = d.lessor.revoke(r.leaseRevoke.ID);
    if (err) return { err };
    const resp = newLeaseRevokeResponse();
    resp.header.revision = d.kv.rev();
    return { resp };
  }
  if (r.leaseCheckpoint) {
    for (const cp of r.leaseCheckpoint.checkpoints) {
      const err = d.lessor.checkpoint(cp.ID, cp.remainingTTL);
      if (err) return { err };
    }
    return { resp: {} };
  }
  if (r.alarm) {
    const resp = newAlarmResponse();
    const a = r.alarm;
    switch (a.action) {
      case AlarmAction.GET:
        resp.alarms = d.alarms.get(a.alarm);
        break;
      case AlarmAction.ACTIVATE: {
        if (a.alarm === AlarmType.NONE) break;
        resp.alarms = [d.alarms.activate(a.memberID, a.alarm)];
        break;
      }
      case AlarmAction.DEACTIVATE: {
        const m = d.alarms.deactivate(a.memberID, a.alarm);
        if (m) resp.alarms = [m];
        break;
      }
    }
    return { resp };
  }
  if (r.clusterMemberAttrSet) {
    const m = d.cluster.member(r.clusterMemberAttrSet.memberID);
    const attrs = r.clusterMemberAttrSet.memberAttributes;
    if (m && attrs) {
      m.name = attrs.name;
      m.clientURLs = [...attrs.clientUrls];
      const tx = d.backend.batchTx();
      unsafeSaveMember(tx, m);
      void tx.commit();
    }
    return { resp: {} };
  }
  if (r.clusterVersionSet) {
    d.cluster.version = r.clusterVersionSet.ver;
    const tx = d.backend.batchTx();
    unsafeSaveClusterVersion(tx, r.clusterVersionSet.ver);
    void tx.commit();
    return { resp: {} };
  }
  // etcd panics on a request it does not know; a newer member's request must not crash us.
  return { err: new Error("etcdserver: unknown request in raft entry") };
}
