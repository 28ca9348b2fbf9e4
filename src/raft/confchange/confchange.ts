/**
 * Computes a new configuration from the current one and a membership change, without touching the
 * current one (etcd's confchange.Changer). Three moves:
 * - simple: at most one voter added or removed (plus any learner changes), no joint state;
 * - enterJoint: C_old becomes the outgoing half, the changes apply to the incoming half;
 * - leaveJoint: drop the outgoing half, turn learnersNext into learners.
 * A change that breaks an invariant throws a ConfChangeError and leaves everything as it was.
 */
import type { ConfChangeSingle } from "../raftpb.js";
import { ConfChangeType } from "../raftpb.js";
import { Progress, type ProgressMap } from "../tracker/progress.js";
import { type TrackerConfig, cloneTrackerConfig } from "../tracker/tracker.js";

export class ConfChangeError extends Error {
  override name = "ConfChangeError";
}

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

/** The current configuration, its progress, and the leader's last index (new members start probing there). */
export interface ChangerInput {
  config: TrackerConfig;
  progress: ProgressMap;
  maxInflight: number;
  lastIndex: number;
}

function joint(cfg: TrackerConfig): boolean {
  return cfg.voters[1].size > 0;
}

export class Changer {
  constructor(private readonly input: ChangerInput) {}

  enterJoint(autoLeave: boolean, ccs: ConfChangeSingle[]): ChangeResult {
    const { config: cfg, progress } = this.checkAndCopy();
    if (joint(cfg)) throw new ConfChangeError("config is already joint");
    if (cfg.voters[0].size === 0) {
      // Joint configurations with an empty incoming half are possible in theory, but not useful.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    cfg.voters[1] = new Set(cfg.voters[0]);
    this.apply(cfg, progress, ccs);
    cfg.autoLeave = autoLeave;
    return checkAndReturn(cfg, progress);
  }

  leaveJoint(): ChangeResult {
    const { config: cfg, progress } = this.checkAndCopy();
    if (!joint(cfg)) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    cfg.learnersNext = new Set();
    for (const id of cfg.voters[1]) {
      if (!cfg.voters[0].has(id) && !cfg.learners.has(id)) progress.delete(id);
    }
    cfg.voters[1] = new Set();
    cfg.autoLeave = false;
    return checkAndReturn(cfg, progress);
  }

  simple(ccs: ConfChangeSingle[]): ChangeResult {
    const { config: cfg, progress } = this.checkAndCopy();
    if (joint(cfg)) throw new ConfChangeError("can't apply simple config change in joint config");
    this.apply(cfg, progress, ccs);
    if (symdiff(this.input.config.voters[0], cfg.voters[0]) > 1) {
      throw new ConfChangeError("more than one voter changed without entering joint config");
    }
    return checkAndReturn(cfg, progress);
  }

  private apply(cfg: TrackerConfig, progress: ProgressMap, ccs: ConfChangeSingle[]): void {
    for (const cc of ccs) {
      // A zero node id is a no-op (etcd uses it to propose an empty change).
      if (cc.nodeId === 0n) continue;
      switch (cc.type) {
        case ConfChangeType.ConfChangeAddNode:
          this.makeVoter(cfg, progress, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeAddLearnerNode:
          this.makeLearner(cfg, progress, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeRemoveNode:
          this.remove(cfg, progress, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeUpdateNode:
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${String(cc.type)}`);
      }
    }
    if (cfg.voters[0].size === 0) throw new ConfChangeError("removed all voters");
  }

  private makeVoter(cfg: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, progress, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.voters[0].add(id);
  }

  /**
   * Makes id a learner. A voter of the outgoing half cannot become a learner before the joint
   * configuration is left (it still votes there), so it goes to learnersNext instead.
   */
  private makeLearner(cfg: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    this.remove(cfg, progress, id);
    progress.set(id, pr);
    if (cfg.voters[1].has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  private remove(cfg: TrackerConfig, progress: ProgressMap, id: bigint): void {
    if (!progress.has(id)) return;
    cfg.voters[0].delete(id);
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    // A voter of the outgoing half keeps its progress until the joint config is left.
    if (!cfg.voters[1].has(id)) progress.delete(id);
  }

  private initProgress(cfg: TrackerConfig, progress: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.voters[0].add(id);
    // New members start probing at the leader's last index; recentActive so check-quorum does not
    // count them as down before they had a chance to answer.
    progress.set(
      id,
      new Progress({ next: Math.max(this.input.lastIndex, 1), maxInflight: this.input.maxInflight, isLearner, recentActive: true }),
    );
  }

  private checkAndCopy(): ChangeResult {
    const cfg = cloneTrackerConfig(this.input.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.input.progress) progress.set(id, pr.clone());
    return checkAndReturn(cfg, progress);
  }
}

function checkInvariants(cfg: TrackerConfig, progress: ProgressMap): void {
  for (const ids of [cfg.voters[0], cfg.voters[1], cfg.learners, cfg.learnersNext]) {
    for (const id of ids) if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`);
  }
  // learnersNext: voters of the outgoing half, to become learners on leaving.
  for (const id of cfg.learnersNext) {
    if (!cfg.voters[1].has(id)) throw new ConfChangeError(`${id} is in LearnersNext, but not Voters[1]`);
    if (progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
  }
  // A learner is never a voter of either half.
  for (const id of cfg.learners) {
    if (cfg.voters[1].has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[1]`);
    if (cfg.voters[0].has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[0]`);
    if (!progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in Learners, but is not marked as learner`);
  }
  if (!joint(cfg)) {
    if (cfg.learnersNext.size > 0) throw new ConfChangeError("cfg.LearnersNext must be nil when not joint");
    if (cfg.autoLeave) throw new ConfChangeError("AutoLeave must be false when not joint");
  }
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/** How many ids are in exactly one of the two sets. */
function symdiff(l: Set<bigint>, r: Set<bigint>): number {
  let n = 0;
  for (const id of l) if (!r.has(id)) n++;
  for (const id of r) if (!l.has(id)) n++;
  return n;
}

export function describeChanges(ccs: ConfChangeSingle[]): string {
  return ccs.map((cc) => `${ConfChangeType[cc.type]}(${cc.nodeId})`).join(" ");
}
