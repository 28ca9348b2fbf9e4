/**
 * One client's watch stream (etcd server/etcdserver/api/v3rpc/watch.go, serverWatchStream), apart
 * from any transport: parsed WatchRequests go in through {@link WatchSession.handle}, WatchResponses
 * come out through `emit`, in etcd's order. The HTTP-stream and WebSocket transports (watch.ts) share it.
 *
 * As etcd's recvLoop: a create answers `created` (or `created`+`canceled` with the error as
 * `cancel_reason` and watch_id -1), with header.revision the store revision at creation; a cancel of a
 * live watcher answers `canceled` (an unknown id gets no answer); a progress request asks the store
 * for one stream-wide progress response (watch_id -1), sent only when every watcher is synced.
 * As its sendLoop: responses of a watcher not yet announced as created are held back until it is;
 * a compaction response is `canceled` with `compact_revision`; watchers created with `fragment`
 * have large responses split (fragmentWatchResponse, limit --max-request-bytes + 512 KiB); every
 * progress interval each `progress_notify` watcher that got no events since the last tick is asked
 * for a progress notification.
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { newResponseHeader, newWatchResponse, FilterType, type WatchRequest, type WatchResponse } from "../etcdserverpb/rpc.js";
import { MvccError } from "../../mvcc/errors.js";
import { fragmentWatchResponse } from "../../mvcc/watch-fragment.js";
import {
  filterNoDelete,
  filterNoPut,
  InvalidWatchID,
  type FilterFunc,
  type WatchID,
  type WatchResponse as MvccWatchResponse,
  type WatchStream,
} from "../../mvcc/watcher.js";
import { WatchResponseJSON } from "./json.js";
import { defaultSetTimer, grpcOverheadBytes } from "./runtime.js";

export interface WatchSessionOptions {
  setTimer?: (ms: number, fn: () => void) => () => void;
}

export class WatchSession {
  private readonly stream: WatchStream;
  /** Watchers with progress_notify: true when no events went out since the last tick. */
  private readonly progress = new Map<WatchID, boolean>();
  private readonly fragment = new Set<WatchID>();
  /** Ids announced as created. */
  private readonly ids = new Set<WatchID>();
  /** Responses of ids not yet announced. */
  private readonly pending = new Map<WatchID, WatchResponse[]>();
  private closed = false;
  private cancelTicker: (() => void) | undefined;
  private readonly setTimer: (ms: number, fn: () => void) => () => void;
  /** Resolves when the pump has delivered the last response. */
  readonly done: Promise<void>;

  constructor(
    private readonly server: EtcdServerAPI,
    private readonly emit: (resp: WatchResponse) => void,
    opts: WatchSessionOptions = {},
  ) {
    this.stream = server.watchable().newWatchStream();
    this.setTimer = opts.setTimer ?? defaultSetTimer;
    this.scheduleTick();
    this.done = this.pump();
  }

  private header(rev: number) {
    const h = this.server.header();
    return newResponseHeader({ clusterId: h.clusterId, memberId: h.memberId, raftTerm: h.raftTerm, revision: rev });
  }

  /** Handles one request (etcd's recvLoop body). Never throws. */
  handle(req: WatchRequest): void {
    if (this.closed) return;
    if (req.createRequest) {
      const c = req.createRequest;
      // \x00 is the smallest key; an empty range end is the single key; "\x00" every key ≥ key.
      const key = c.key.length === 0 ? new Uint8Array([0]) : c.key;
      const end = c.rangeEnd.length === 0 ? undefined : c.rangeEnd;
      const filters: FilterFunc[] = [];
      for (const f of c.filters) {
        if (f === FilterType.NOPUT) filters.push(filterNoPut);
        else if (f === FilterType.NODELETE) filters.push(filterNoDelete);
      }
      const wsrev = this.stream.rev();
      // 0 goes to the store as is (etcd 3.6; 3.5 passed wsrev + 1): the store makes it a synced
      // watcher from the next revision, and the store's progress check (3.6's, startRev ≤ rev)
      // then lets a fresh watcher receive progress notifications.
      const id = this.stream.watch(c.watchId, key, end, c.startRevision, { filters, prevKv: c.prevKv });
      if (id instanceof MvccError) {
        this.send(
          newWatchResponse({
            header: this.header(wsrev),
            watchId: InvalidWatchID,
            created: true,
            canceled: true,
            cancelReason: id.message,
          }),
        );
        return;
      }
      if (c.progressNotify) this.progress.set(id, true);
      if (c.fragment) this.fragment.add(id);
      this.send(newWatchResponse({ header: this.header(wsrev), watchId: id, created: true }));
      this.ids.add(id);
      for (const r of this.pending.get(id) ?? []) this.sendEvents(r);
      this.pending.delete(id);
    } else if (req.cancelRequest) {
      const id = req.cancelRequest.watchId;
      if (this.stream.cancel(id) === undefined) {
        this.send(newWatchResponse({ header: this.header(this.stream.rev()), watchId: id, canceled: true }));
        this.ids.delete(id);
        this.progress.delete(id);
        this.fragment.delete(id);
      }
    } else if (req.progressRequest) {
      this.stream.requestProgressAll();
    }
  }

  private send(r: WatchResponse): void {
    if (!this.closed) this.emit(r);
  }

  /** etcd's sendLoop for one store response. */
  private deliver(w: MvccWatchResponse): void {
    const wr = newWatchResponse({
      header: this.header(w.revision),
      watchId: w.watchID,
      events: w.events,
      compactRevision: w.compactRevision,
      canceled: w.compactRevision !== 0,
    });
    if (w.watchID !== InvalidWatchID && !this.ids.has(w.watchID)) {
      const list = this.pending.get(w.watchID) ?? [];
      list.push(wr);
      this.pending.set(w.watchID, list);
      return;
    }
    this.sendEvents(wr);
  }

  private sendEvents(wr: WatchResponse): void {
    if (this.fragment.has(wr.watchId)) {
      const base = WatchResponseJSON.size({ ...wr, events: [], fragment: false });
      const max = this.server.maxRequestBytes() + grpcOverheadBytes;
      for (const part of fragmentWatchResponse(wr, max, base)) this.send(part);
    } else this.send(wr);
    if (wr.events.length > 0 && this.progress.get(wr.watchId)) this.progress.set(wr.watchId, false);
    if (wr.canceled) {
      this.ids.delete(wr.watchId);
      this.progress.delete(wr.watchId);
      this.fragment.delete(wr.watchId);
    }
  }

  private async pump(): Promise<void> {
    for (;;) {
      const w = await this.stream.next();
      if (w === undefined || this.closed) return;
      try {
        this.deliver(w);
      } catch {
        // A transport that failed to send: the session ends.
        this.close();
        return;
      }
    }
  }

  private scheduleTick(): void {
    const interval = this.server.progressNotifyInterval();
    if (!(interval > 0)) return;
    this.cancelTicker = this.setTimer(interval, () => {
      if (this.closed) return;
      for (const [id, quiet] of this.progress) {
        if (quiet) this.stream.requestProgress(id);
        this.progress.set(id, true);
      }
      this.scheduleTick();
    });
  }

  /** Ends the session: every watcher is cancelled and nothing more is emitted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTicker?.();
    this.stream.close();
  }

  isClosed(): boolean {
    return this.closed;
  }
}
