/**
 * One client's LeaseKeepAlive stream (etcd server/etcdserver/api/v3rpc/lease.go leaseKeepAlive),
 * apart from any transport. Requests are answered one at a time, in order: the header is taken
 * before the renewal (so its revision is never above the one at which the keepalive happened), a
 * lease that does not exist answers TTL 0 (omitted in JSON), any other error ends the stream with
 * that error (`fail`). The HTTP-stream and WebSocket transports (lease.ts) share it.
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { ErrLeaseNotFound } from "../../lease/errors.js";
import { newLeaseKeepAliveResponse, newResponseHeader, type LeaseKeepAliveRequest, type LeaseKeepAliveResponse } from "../etcdserverpb/rpc.js";
import { ErrGRPCLeaseNotFound, type EtcdError } from "./rpctypes.js";
import { toEtcdError } from "./runtime.js";

export class LeaseKeepAliveSession {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly server: EtcdServerAPI,
    private readonly emit: (resp: LeaseKeepAliveResponse) => void,
    private readonly fail: (err: EtcdError) => void,
  ) {}

  /** Queues one keepalive; resolves when it (and every earlier one) is answered. Never rejects. */
  handle(req: LeaseKeepAliveRequest): Promise<void> {
    this.chain = this.chain.then(() => this.renew(req));
    return this.chain;
  }

  /** Resolves once every queued keepalive is answered. */
  drained(): Promise<void> {
    return this.chain;
  }

  private async renew(req: LeaseKeepAliveRequest): Promise<void> {
    if (this.closed) return;
    const header = newResponseHeader(this.server.header());
    let ttl: number;
    try {
      ttl = await this.server.leaseRenew(req.ID);
    } catch (err) {
      const e = toEtcdError(err);
      if (err === ErrLeaseNotFound || e === ErrGRPCLeaseNotFound) ttl = 0;
      else {
        if (!this.closed) this.fail(e);
        this.close();
        return;
      }
    }
    if (this.closed) return;
    this.emit(newLeaseKeepAliveResponse({ header, ID: req.ID, TTL: ttl }));
  }

  close(): void {
    this.closed = true;
  }

  isClosed(): boolean {
    return this.closed;
  }
}
