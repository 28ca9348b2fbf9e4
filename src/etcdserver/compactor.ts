/**
 * Auto-compaction (etcd server/etcdserver/api/v3compactor): the leader proposes compactions on a
 * schedule. Both modes sample the store revision and compact through the server, like a client's
 * CompactionRequest, so every member compacts at the same revision.
 *
 * - periodic (`--auto-compaction-retention` a duration): every period/10 (at most 6 min) it records
 *   the revision; once `period` has passed since the last success (then every min(period, 1 h))
 *   it compacts the revision recorded one period ago.
 * - revision (`--auto-compaction-retention` a count): every 5 minutes it compacts
 *   `current − retention` if positive and new.
 * Paused while not leader (the server pauses/resumes on leadership changes).
 */
import type { Clock } from "../platform.js";
import type { Logger } from "../raft/logger.js";
import { ErrCompacted } from "../mvcc/errors.js";

export interface Compactable {
  /** Proposes a compaction at `rev`; rejects with the error the server returns. */
  compact(rev: number): Promise<unknown>;
}

export interface Compactor {
  run(): void;
  stop(): void;
  pause(): void;
  resume(): void;
}

const hour = 60 * 60 * 1000;
/** etcd's revInterval. */
export const revInterval = 5 * 60 * 1000;
const retryDivisor = 10;

export class PeriodicCompactor implements Compactor {
  private paused = false;
  private cancel: (() => void) | undefined;
  private revs: number[] = [];

  constructor(
    /** Retention in ms. */
    private readonly period: number,
    private readonly rev: () => number,
    private readonly c: Compactable,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  private retryInterval(): number {
    return Math.min(this.period, hour) / retryDivisor;
  }

  run(): void {
    const compactInterval = Math.min(this.period, hour);
    const retryInterval = this.retryInterval();
    const retentions = Math.floor(this.period / retryInterval) + 1;
    let lastSuccess = this.clock.now();
    let baseInterval = this.period;
    const loop = (): void => {
      this.revs.push(this.rev());
      if (this.revs.length > retentions) this.revs.shift();
      this.cancel = this.clock.setTimer(retryInterval, () => {
        if (this.paused || this.clock.now() - lastSuccess < baseInterval) return loop();
        if (baseInterval === this.period) baseInterval = compactInterval;
        const rev = this.revs[0]!;
        this.logger.info(`starting auto periodic compaction, revision ${rev}`);
        this.c.compact(rev).then(
          () => {
            lastSuccess = this.clock.now();
            this.logger.info(`completed auto periodic compaction, revision ${rev}`);
          },
          (err: Error) => {
            if (err === ErrCompacted) lastSuccess = this.clock.now();
            else this.logger.warn(`failed auto periodic compaction, revision ${rev}: ${err.message}`);
          },
        );
        loop();
      });
    };
    loop();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

export class RevisionCompactor implements Compactor {
  private paused = false;
  private cancel: (() => void) | undefined;
  private prev = 0;

  constructor(
    private readonly retention: number,
    private readonly rev: () => number,
    private readonly c: Compactable,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  run(): void {
    this.cancel = this.clock.setTimer(revInterval, () => {
      this.run();
      if (this.paused) return;
      const rev = this.rev() - this.retention;
      if (rev <= 0 || rev === this.prev) return;
      this.logger.info(`starting auto revision compaction, revision ${rev}`);
      this.c.compact(rev).then(
        () => {
          this.prev = rev;
          this.logger.info(`completed auto revision compaction, revision ${rev}`);
        },
        (err: Error) => {
          if (err === ErrCompacted) this.prev = rev;
          else this.logger.warn(`failed auto revision compaction, revision ${rev}: ${err.message}`);
        },
      );
    });
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}
