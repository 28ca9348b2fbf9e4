/**
 * Round-robin choice among a peer's URLs (etcd's urlpick.go): every sender uses the picked URL
 * until it reports it unreachable, then the next one is picked.
 */
export class URLPicker {
  private urls: readonly string[];
  private picked = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new Error("rafthttp: a peer needs at least one URL");
    this.urls = [...urls];
  }

  /** Replaces the URLs and starts again from the first. */
  update(urls: readonly string[]): void {
    if (urls.length === 0) throw new Error("rafthttp: a peer needs at least one URL");
    this.urls = [...urls];
    this.picked = 0;
  }

  pick(): string {
    return this.urls[this.picked]!;
  }

  /** Moves on from `u` if it is still the picked URL (a stale report changes nothing). */
  unreachable(u: string): void {
    if (u === this.urls[this.picked]) this.picked = (this.picked + 1) % this.urls.length;
  }
}
