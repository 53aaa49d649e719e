// The writer's standing in its consumer group. Each assignment starts a new generation: offsets restart from the
// last commit, so what was buffered before comes again and another writer may have written meanwhile. Work of an
// older generation, or during a rebalance, must never be committed.
export class Membership {
  generation = 0;
  /** a rebalance began: the partitions are being taken away */
  rebalancing = false;
  /**
   * a batch of this generation was dropped unwritten: committing anything after it would skip it, so nothing more
   * is written or committed until the partitions are assigned again
   */
  dropped = false;

  revoked(): void {
    this.rebalancing = true;
  }

  assigned(): void {
    this.generation++;
    this.rebalancing = false;
    this.dropped = false;
  }

  /** Whether work started in `generation` may still be written and committed. */
  current(generation: number): boolean {
    return generation === this.generation && !this.rebalancing;
  }
}
