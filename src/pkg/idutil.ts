/**
 * etcd's request/lease id generator (pkg/idutil): the high 16 bits are the low 16 bits of the
 * member id, the next 40 bits the start time in milliseconds, the low 8 bits a counter — the
 * counter carries into the time bits, so ids stay unique and increasing across restarts as long
 * as the member issues fewer than 256 ids per millisecond on average.
 */
const tsLen = 40n;
const cntLen = 8n;
const suffixLen = tsLen + cntLen;
const suffixMask = (1n << suffixLen) - 1n;

export class Generator {
  private readonly prefix: bigint;
  private suffix: bigint;

  /** `nowMs`: wall-clock milliseconds since the Unix epoch. */
  constructor(memberID: bigint, nowMs: number) {
    this.prefix = (memberID & 0xffffn) << suffixLen;
    this.suffix = (BigInt(Math.floor(nowMs)) & ((1n << tsLen) - 1n)) << cntLen;
  }

  /** The next id (uint64). */
  next(): bigint {
    this.suffix++;
    return this.prefix | (this.suffix & suffixMask);
  }
}
