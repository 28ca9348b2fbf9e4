/**
 * The errors the MVCC store reports, with etcd's names and messages (server/mvcc). Each is a
 * single value: compare by identity (`err === ErrCompacted`), never by message.
 */
export class MvccError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The key has no revision visible at the requested revision (absent, deleted, or compacted away). */
export const ErrRevisionNotFound = new MvccError("ErrRevisionNotFound", "mvcc: revision not found");
/** The requested revision is below the store's compacted revision. */
export const ErrCompacted = new MvccError("ErrCompacted", "mvcc: required revision has been compacted");
/** The requested revision is above the store's current revision. */
export const ErrFutureRev = new MvccError("ErrFutureRev", "mvcc: required revision is a future revision");
