// A small EtcdServerAPI for the gateway tests: no raft, but the real MVCC store (watchable), the
// real lessor and etcdserver/txn.ts, so KV answers and errors are the server's own. Header ids are
// etcd's default member and cluster (8e9e05c52164694d, cdf818194e3a8c32) at term 2. The watch
// store's sync loop is driven by tests (`store.syncWatchers()`), so nothing runs on timers.
import {
  newAlarmResponse,
  newDefragmentResponse,
  newHashKVResponse,
  newHashResponse,
  newLeaseGrantResponse,
  newLeaseLeasesResponse,
  newLeaseRevokeResponse,
  newLeaseTimeToLiveResponse,
  newMember,
  newMemberListResponse,
  newResponseHeader,
  newStatusResponse,
  newCompactionResponse,
  AlarmAction,
  type AlarmMember,
  type ResponseHeader,
} from "../../src/api/etcdserverpb/rpc.js";
import type { EtcdServerAPI } from "../../src/etcdserver/api.js";
import { deleteRange, put, range, txn } from "../../src/etcdserver/txn.js";
import { ErrLeaseNotFound } from "../../src/lease/errors.js";
import { newLessor, type Lessor } from "../../src/lease/lessor.js";
import { MvccError } from "../../src/mvcc/errors.js";
import { newWatchableStore, type WatchableStore } from "../../src/mvcc/watchable-store.js";
import { MemoryBackend } from "../../src/storage/memory-backend.js";

export interface FakeConfig {
  maxRequestBytes: number;
  maxTxnOps: number;
  progressNotifyInterval: number;
}

export class FakeServer implements EtcdServerAPI {
  readonly backend = new MemoryBackend();
  readonly lessor: Lessor;
  readonly store: WatchableStore;
  nowMs = 0;
  healthy = { health: true, reason: "" };
  alarms: AlarmMember[] = [];
  /** Set to make leaseRenew fail with this error (other than not-found). */
  renewError: Error | undefined;
  /** Set to make the snapshot stream fail after its first chunk. */
  snapshotError: Error | undefined;
  private nextLease = 1000n;

  constructor(readonly cfg: FakeConfig = { maxRequestBytes: 1.5 * 1024 * 1024, maxTxnOps: 128, progressNotifyInterval: 600_000 }) {
    this.lessor = newLessor(this.backend, { now: () => this.nowMs });
    this.store = newWatchableStore(this.backend, this.lessor, { sleep: () => Promise.resolve() });
    this.lessor.promote(0);
  }

  header(): ResponseHeader {
    return newResponseHeader({ clusterId: 14841639068965178418n, memberId: 10276657743932975437n, raftTerm: 2, revision: this.store.rev() });
  }

  private done<T extends { header: ResponseHeader }>(r: T | Error): T {
    if (r instanceof Error) throw r;
    const rev = r.header.revision;
    r.header = { ...this.header(), revision: rev !== 0 ? rev : this.store.rev() };
    return r;
  }

  async range(r: Parameters<EtcdServerAPI["range"]>[0]) {
    return this.done(range(this.store, r));
  }
  async put(r: Parameters<EtcdServerAPI["put"]>[0]) {
    return this.done(put(this.store, this.lessor, r));
  }
  async deleteRange(r: Parameters<EtcdServerAPI["deleteRange"]>[0]) {
    return this.done(deleteRange(this.store, r));
  }
  async txn(r: Parameters<EtcdServerAPI["txn"]>[0]) {
    return this.done(txn(this.store, this.lessor, r));
  }
  async compact(r: Parameters<EtcdServerAPI["compact"]>[0]) {
    const p = this.store.compact(r.revision);
    if (p instanceof MvccError) throw p;
    await p;
    return this.done(newCompactionResponse());
  }

  async leaseGrant(r: Parameters<EtcdServerAPI["leaseGrant"]>[0]) {
    const id = r.ID === 0n ? this.nextLease++ : r.ID;
    const l = this.lessor.grant(id, r.TTL);
    if (l instanceof Error) throw l;
    return this.done(newLeaseGrantResponse({ ID: id, TTL: l.ttl }));
  }
  async leaseRevoke(r: Parameters<EtcdServerAPI["leaseRevoke"]>[0]) {
    const err = this.lessor.revoke(r.ID);
    if (err) throw err;
    return this.done(newLeaseRevokeResponse());
  }
  async leaseRenew(id: bigint): Promise<number> {
    if (this.renewError) throw this.renewError;
    const ttl = this.lessor.renew(id);
    if (ttl instanceof Error) throw ttl;
    return ttl;
  }
  async leaseTimeToLive(r: Parameters<EtcdServerAPI["leaseTimeToLive"]>[0]) {
    const l = this.lessor.lookup(r.ID);
    if (l === undefined) throw ErrLeaseNotFound;
    const keys = r.keys ? l.keys().map((k) => Uint8Array.from(k, (c) => c.charCodeAt(0))) : [];
    return this.done(newLeaseTimeToLiveResponse({ ID: r.ID, TTL: Math.ceil(l.remaining() / 1000), grantedTTL: l.ttl, keys }));
  }
  async leaseLeases() {
    return this.done(newLeaseLeasesResponse({ leases: this.lessor.leases().map((l) => ({ ID: l.id })) }));
  }

  async memberList() {
    const m = newMember({ ID: 10276657743932975437n, name: "default", peerURLs: ["http://localhost:2380"], clientURLs: ["http://localhost:2379"] });
    const r = newMemberListResponse({ members: [m] });
    r.header = { ...this.header(), revision: 0 };
    return r;
  }

  async status() {
    return this.done(
      newStatusResponse({
        version: "3.5.0",
        dbSize: 20480,
        leader: 10276657743932975437n,
        raftIndex: 8,
        raftTerm: 2,
        raftAppliedIndex: 8,
        dbSizeInUse: 16384,
      }),
    );
  }
  async hash() {
    return this.done(newHashResponse({ hash: this.store.hash().hash }));
  }
  async hashKV(r: Parameters<EtcdServerAPI["hashKV"]>[0]) {
    const h = this.store.hashByRev(r.revision);
    if (h instanceof MvccError) throw h;
    return this.done(newHashKVResponse({ hash: h.hash.hash, compactRevision: h.hash.compactRevision }));
  }
  async alarm(r: Parameters<EtcdServerAPI["alarm"]>[0]) {
    if (r.action === AlarmAction.ACTIVATE) this.alarms.push({ memberID: r.memberID, alarm: r.alarm });
    if (r.action === AlarmAction.DEACTIVATE) this.alarms = this.alarms.filter((a) => a.memberID !== r.memberID || a.alarm !== r.alarm);
    return this.done(newAlarmResponse({ alarms: this.alarms.filter((a) => r.action !== AlarmAction.GET || r.alarm === 0 || a.alarm === r.alarm) }));
  }
  async defragment() {
    return this.done(newDefragmentResponse());
  }
  async *snapshot(): AsyncIterable<{ remainingBytes: number; blob: Uint8Array }> {
    yield { remainingBytes: 36, blob: new Uint8Array([1, 2, 3, 4]) };
    if (this.snapshotError) throw this.snapshotError;
    yield { remainingBytes: 0, blob: new Uint8Array(32).fill(7) };
  }

  watchable(): WatchableStore {
    return this.store;
  }
  maxRequestBytes(): number {
    return this.cfg.maxRequestBytes;
  }
  maxTxnOps(): number {
    return this.cfg.maxTxnOps;
  }
  progressNotifyInterval(): number {
    return this.cfg.progressNotifyInterval;
  }
  async health(serializable: boolean) {
    void serializable;
    return this.healthy;
  }
  version() {
    return { etcdserver: "3.5.0", etcdcluster: "3.5.0" };
  }
  metrics(): string {
    return "# HELP etcd_server_has_leader Whether or not a leader exists.\n# TYPE etcd_server_has_leader gauge\netcd_server_has_leader 1\n";
  }
}
