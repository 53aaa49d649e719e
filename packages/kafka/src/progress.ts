// Whether a consumer is stuck: it has work waiting (lag), its attempts keep failing, and nothing has been done for
// longer than a threshold. Retrying forever is right for an outage, but an operator must be able to see it:
// readiness turns false with the reason, and `groupscope_<service>_stalled{reason}` says why. A consumer that is
// idle (no lag) or slow but succeeding is not stalled.
import { Gauge } from 'prom-client';

export interface StallStatus {
  stalled: boolean;
  /** the stage whose failures stall it (the last one that failed), when stalled */
  reason?: string;
  /** failed attempts since the last progress, of the work that has failed longest */
  failures: number;
  /** ms that work has been failing without any progress in between (0 when nothing fails) */
  failingMs: number;
  lag?: number;
}

interface Work {
  failures: number;
  /** when it began failing (its first failure after a progress) */
  since: number;
  reason: string;
}

/**
 * Tracks failures and progress per unit of work (a partition, or the whole consumer with the default key), so one
 * partition stuck while others move on is still seen.
 */
export class ConsumerProgress {
  private readonly failing = new Map<string, Work>();
  private readonly lags = new Map<string, number>();

  constructor(
    /** failing this long with lag and no progress: stalled */
    readonly stallAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Work was done and made durable (a batch handled, offsets committed). */
  progressed(key = ''): void {
    this.failing.delete(key);
  }

  /** An attempt failed at `reason` (a stage name: clickhouse, commit, dlq, handler, ...). */
  failed(reason: string, key = ''): void {
    const w = this.failing.get(key);
    if (w) {
      w.failures++;
      w.reason = reason;
    } else this.failing.set(key, { failures: 1, since: this.now(), reason });
  }

  /** Forgets everything: after a rebalance, failing work may belong to another member now. */
  reset(): void {
    this.failing.clear();
    this.lags.clear();
  }

  /** Records still to be processed on one partition (or a whole topic, with partition -1). */
  setLag(topic: string, partition: number, lag: number): void {
    this.lags.set(`${topic}\u0000${partition}`, Math.max(0, lag));
  }

  status(): StallStatus {
    const now = this.now();
    const lag = this.lags.size > 0 ? [...this.lags.values()].reduce((a, b) => a + b, 0) : undefined;
    let oldest: Work | undefined;
    for (const w of this.failing.values()) if (!oldest || w.since < oldest.since) oldest = w;
    if (!oldest) return { stalled: false, failures: 0, failingMs: 0, ...(lag === undefined ? {} : { lag }) };
    const failingMs = now - oldest.since;
    // failing work is pending work: without a lag figure yet, it counts as lag
    const stalled = (lag === undefined || lag > 0) && failingMs >= this.stallAfterMs;
    return { stalled, ...(stalled ? { reason: oldest.reason } : {}), failures: oldest.failures, failingMs, ...(lag === undefined ? {} : { lag }) };
  }

  /** The readiness check's answer: ready unless stalled, with the reason. */
  readiness(): { ok: boolean; reason?: string } {
    const s = this.status();
    if (!s.stalled) return { ok: true };
    return { ok: false, reason: `stalled: ${s.failures} failed attempts (${s.reason}) and no progress for ${Math.round(s.failingMs / 1000)} s while ${s.lag ?? 'some'} records wait` };
  }
}

const gauges = new Map<string, { gauge: Gauge<'reason'>; trackers: Set<ConsumerProgress> }>();

/**
 * Reports `progress` in `groupscope_<service>_stalled{reason}` (1 while stalled for that reason), computed when
 * scraped. Several consumers of one process (tests) share the gauge. Returns a function that stops reporting it.
 */
export function reportStalls(service: string, progress: ConsumerProgress): () => void {
  let entry = gauges.get(service);
  if (!entry) {
    const trackers = new Set<ConsumerProgress>();
    const gauge: Gauge<'reason'> = new Gauge({
      name: `groupscope_${service}_stalled`,
      help: 'Whether a consumer is stalled (failing with lag and no progress for the stall threshold), by the failing stage',
      labelNames: ['reason'] as const,
      collect() {
        gauge.reset();
        for (const t of trackers) {
          const s = t.status();
          if (s.stalled) gauge.set({ reason: s.reason ?? 'unknown' }, 1);
        }
      },
    });
    entry = { gauge, trackers };
    gauges.set(service, entry);
  }
  entry.trackers.add(progress);
  const trackers = entry.trackers;
  return () => void trackers.delete(progress);
}
