// Receive-order bookkeeping (pure: no Kafka, no clock). Positions are the gateways' receive positions: microseconds
// of a hybrid logical clock, strictly increasing per producer (gateway instance) in the order it accepted records.
//
// PartitionWatermark follows one group-identify partition in offset order. Each producer appends its records and
// marks there in position order, so the last position seen from a producer is a promise: nothing at or below it
// will come from that producer later. The watermark is the highest position covered by the promises of every
// active producer; it only grows, and it depends on nothing but the partition's content (no wall clock), so a
// replay computes the same values. A group identify gets the effective position E = max(its position, watermark
// before it): a record that arrives late (behind the watermark) applies only to what comes after the watermark.
//
// GlobalWatermark is the ingest side's view: the smallest watermark over all group-identify partitions, as the
// groups changelog delivers them. An event at position P may be stamped once it reached P: every group identify
// with E < P has been applied and written before that watermark.

/** A record's receive position, or 0 when it has none (unordered: written by an older producer, or not a gateway). */
export function positionOf(r: { receive_pos?: number; producer_id?: string }): number {
  return r.producer_id && r.receive_pos && r.receive_pos > 0 ? r.receive_pos : 0;
}

/** One group-identify partition's watermark and the producers it waits for. */
export class PartitionWatermark {
  private value: number;
  private readonly last = new Map<string, number>();

  /**
   * @param expiry positions: a producer whose last position is more than this behind the newest position on the
   *   partition is no longer waited for (a gateway that died without saying goodbye); its later records count as late
   */
  constructor(
    readonly expiry: number,
    wm = 0,
    producers: Iterable<readonly [string, number]> = [],
  ) {
    this.value = wm;
    for (const [p, pos] of producers) this.last.set(p, pos);
  }

  get wm(): number {
    return this.value;
  }

  /** Active producers and their last position, sorted by id (a stable encoding). */
  producers(): [string, number][] {
    return [...this.last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  clone(): PartitionWatermark {
    return new PartitionWatermark(this.expiry, this.value, this.last);
  }

  /**
   * A record or mark from `producer` at `pos`, in partition order; `leave`: the producer stopped and sends nothing
   * more. Returns the effective position of a record there: max(pos, the watermark before it). A record without a
   * position (pos 0 or no producer) is unordered: it takes the watermark as it stands.
   */
  observe(producer: string, pos: number, leave = false): number {
    const before = this.value;
    if (!producer || !(pos > 0)) return before;
    const last = this.last.get(producer);
    this.last.set(producer, last === undefined ? pos : Math.max(last, pos));
    let newest = -Infinity;
    for (const l of this.last.values()) if (l > newest) newest = l;
    for (const [p, l] of this.last) if (l < newest - this.expiry) this.last.delete(p);
    this.advance();
    if (leave && this.last.delete(producer)) this.advance();
    return Math.max(pos, before);
  }

  private advance(): void {
    if (this.last.size === 0) return;
    let min = Infinity;
    for (const l of this.last.values()) if (l < min) min = l;
    if (min > this.value) this.value = min;
  }
}

/** What a wait for the global watermark ended with. */
export type WaitResult = 'reached' | 'stalled' | 'stopped';

export interface WaitOptions {
  /** called about every second while waiting (keeps the consumer group membership alive) */
  heartbeat?: () => Promise<void>;
  /** false: give up (the partition was revoked or the process stops) */
  isRunning?: () => boolean;
}

/**
 * The smallest watermark over the group-identify partitions, with waits that end when it reaches a position or when
 * it has not moved for `maxStallMs` (no gateway marks any more: then stamping goes on with what is known).
 */
export class GlobalWatermark {
  private readonly wms = new Map<number, number>();
  private partitions = 0;
  private cached = 0;
  private advancedAt: number;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly maxStallMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.advancedAt = now();
  }

  /** The number of group-identify partitions (each must report before the watermark leaves 0). */
  setPartitions(n: number): void {
    this.partitions = n;
    this.recompute();
  }

  /** The smallest watermark over all partitions; 0 while one has none. */
  get value(): number {
    return this.cached;
  }

  /** A partition's watermark as committed (a smaller value than known is ignored). */
  set(partition: number, wm: number): void {
    if (wm <= (this.wms.get(partition) ?? 0)) return;
    this.wms.set(partition, wm);
    this.recompute();
  }

  of(partition: number): number {
    return this.wms.get(partition) ?? 0;
  }

  /** The watermark has not moved for longer than maxStallMs. */
  stalled(): boolean {
    return this.now() - this.advancedAt > this.maxStallMs;
  }

  private recompute(): void {
    let min = this.partitions > 0 ? Infinity : 0;
    for (let p = 0; p < this.partitions; p++) min = Math.min(min, this.wms.get(p) ?? 0);
    if (min > this.cached) {
      this.cached = min;
      this.advancedAt = this.now();
      for (const w of this.waiters) w();
    }
  }

  /** Waits until the watermark reaches `pos`, it stalls, or the caller stops running. */
  wait(pos: number, opts: WaitOptions = {}, tickMs = 1000): Promise<WaitResult> {
    const check = (): WaitResult | undefined => {
      if (this.cached >= pos) return 'reached';
      if (opts.isRunning && !opts.isRunning()) return 'stopped';
      if (this.stalled()) return 'stalled';
      return undefined;
    };
    const first = check();
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => {
      const ticker = setInterval(() => {
        void opts.heartbeat?.().catch(() => undefined);
        wake();
      }, tickMs);
      const wake = () => {
        const r = check();
        if (!r) return;
        clearInterval(ticker);
        this.waiters.delete(wake);
        resolve(r);
      };
      this.waiters.add(wake);
    });
  }
}
