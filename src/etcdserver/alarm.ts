/**
 * The alarm store (etcd server/etcdserver/api/v3alarm): active alarms by type and member, kept in
 * the backend's `alarm` bucket (key: the encoded AlarmMember, empty value) so they survive restarts.
 * Activate/deactivate run while applying the committed AlarmRequest, on every member.
 */
import { AlarmType, type AlarmMember } from "../api/etcdserverpb/rpc.js";
import { AlarmBucket, type Backend } from "../storage/backend.js";
import { Reader, readInt64, VARINT, writeInt64, Writer } from "../pb/wire.js";

function encodeAlarmMember(m: AlarmMember): Uint8Array {
  const w = Writer.create();
  writeInt64(w, 1, BigInt.asIntN(64, m.memberID), "etcdserverpb");
  writeInt64(w, 2, BigInt(m.alarm), "etcdserverpb");
  return w.finish();
}

function decodeAlarmMember(b: Uint8Array): AlarmMember {
  const r = Reader.create(b);
  const m: AlarmMember = { memberID: 0n, alarm: AlarmType.NONE };
  while (r.pos < b.length) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if ((field === 1 || field === 2) && (tag & 7) !== VARINT) throw new RangeError(`etcdserverpb: AlarmMember field ${field} has wire type ${tag & 7}`);
    if (field === 1) m.memberID = BigInt.asUintN(64, readInt64(r, "etcdserverpb"));
    else if (field === 2) m.alarm = Number(readInt64(r, "etcdserverpb")) as AlarmType;
    else r.skipType(tag & 7);
  }
  return m;
}

/** gogoproto's String() of an AlarmMember, as etcd lists alarms in Status errors. */
export function describeAlarmMember(m: AlarmMember): string {
  return `memberID:${m.memberID} alarm:${AlarmType[m.alarm] ?? m.alarm} `;
}

export class AlarmStore {
  /** type → member id → alarm. */
  private readonly types = new Map<AlarmType, Map<bigint, AlarmMember>>();

  constructor(private b: Backend) {
    this.restore(b);
  }

  /** Reloads the alarms from `b` (start, snapshot install). */
  restore(b: Backend): void {
    this.b = b;
    this.types.clear();
    const tx = b.batchTx();
    tx.createBucket(AlarmBucket);
    void tx.commit();
    const rtx = b.readTx();
    try {
      rtx.unsafeForEach(AlarmBucket, (k) => {
        const m = decodeAlarmMember(k);
        this.set(m);
      });
    } finally {
      rtx.end();
    }
  }

  private set(m: AlarmMember): AlarmMember {
    let t = this.types.get(m.alarm);
    if (t === undefined) this.types.set(m.alarm, (t = new Map()));
    const old = t.get(m.memberID);
    if (old !== undefined) return old;
    t.set(m.memberID, m);
    return m;
  }

  /** Raises `alarm` for `memberID` (idempotent); returns the alarm. */
  activate(memberID: bigint, alarm: AlarmType): AlarmMember {
    const m = { memberID, alarm };
    const got = this.set(m);
    if (got !== m) return got;
    const tx = this.b.batchTx();
    tx.put(AlarmBucket, encodeAlarmMember(m), new Uint8Array(0));
    void tx.commit();
    return m;
  }

  /** Clears `alarm` for `memberID`; the cleared alarm, or undefined if it was not raised. */
  deactivate(memberID: bigint, alarm: AlarmType): AlarmMember | undefined {
    const t = this.types.get(alarm);
    const m = t?.get(memberID);
    if (m === undefined) return undefined;
    t!.delete(memberID);
    const tx = this.b.batchTx();
    tx.delete(AlarmBucket, encodeAlarmMember(m));
    void tx.commit();
    return m;
  }

  /** Active alarms of `alarm` (NONE: every type), by type then member id. */
  get(alarm: AlarmType = AlarmType.NONE): AlarmMember[] {
    const out: AlarmMember[] = [];
    const types = alarm === AlarmType.NONE ? [...this.types.keys()].sort((a, b) => a - b) : [alarm];
    for (const at of types) {
      const t = this.types.get(at);
      if (t === undefined) continue;
      for (const id of [...t.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) out.push(t.get(id)!);
    }
    return out;
  }
}
