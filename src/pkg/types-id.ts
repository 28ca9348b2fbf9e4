/** etcd's pkg/types ID: member and cluster ids are uint64s printed as hex. */

/** types.ID.String(): lower-case hex without leading zeros. */
export function idString(id: bigint): string {
  return id.toString(16);
}

/** types.IDFromString: hex, at most 64 bits; undefined when malformed. */
export function parseID(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}
