/**
 * etcd's membership errors (server/etcdserver/api/membership/errors.go, 3.5), with its exact
 * messages. Each is a single value: compare by identity. The gateway maps them to rpctypes errors
 * (src/api/v3rpc/rpctypes.ts) as etcd's togRPCError does.
 */
export class MembershipError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const e = (name: string, message: string): MembershipError => new MembershipError(name, message);

export const ErrIDRemoved = e("ErrIDRemoved", "membership: ID removed");
export const ErrIDExists = e("ErrIDExists", "membership: ID exists");
export const ErrIDNotFound = e("ErrIDNotFound", "membership: ID not found");
export const ErrPeerURLexists = e("ErrPeerURLexists", "membership: peerURL exists");
export const ErrMemberNotLearner = e("ErrMemberNotLearner", "membership: can only promote a learner member");
export const ErrTooManyLearners = e("ErrTooManyLearners", "membership: too many learner members in cluster");
