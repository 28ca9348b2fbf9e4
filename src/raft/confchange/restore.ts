/**
 * Rebuilds the tracker configuration from a ConfState (a snapshot's, or the one stored on start),
 * by replaying it as a sequence of changes from an empty configuration (etcd's confchange.Restore).
 *
 * For a joint ConfState, the outgoing voters are added first one by one, then a joint change removes
 * them from the incoming half and adds the incoming voters and learners.
 */
import { type ConfChangeSingle, type ConfState, ConfChangeType } from "../raftpb.js";
import { type ChangeResult, Changer, type ChangerInput } from "./confchange.js";

export function restoreConfState(input: ChangerInput, cs: ConfState): ChangeResult {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((id) => ({ type: ConfChangeType.ConfChangeAddNode, nodeId: id }));
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((id) => ({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id })),
    ...cs.voters.map((id) => ({ type: ConfChangeType.ConfChangeAddNode, nodeId: id })),
    ...cs.learners.map((id) => ({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id })),
    ...cs.learnersNext.map((id) => ({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id })),
  ];
  let cur: ChangeResult = { config: input.config, progress: input.progress };
  const step = (f: (c: Changer) => ChangeResult): void => {
    cur = f(new Changer({ ...input, config: cur.config, progress: cur.progress }));
  };
  if (outgoing.length === 0) {
    for (const cc of incoming) step((c) => c.simple([cc]));
  } else {
    for (const cc of outgoing) step((c) => c.simple([cc]));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return cur;
}
