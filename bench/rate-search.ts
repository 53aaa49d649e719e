// The pure parts of the sustained bench: which offered rate to try next, whether a held rate was good, and
// percentiles over weighted samples (a poll sees many events of a request become visible at once).

export interface Probe {
  /** offered events/s */
  rate: number;
  good: boolean;
}

export interface SearchOptions {
  /** the first rate to offer */
  start: number;
  /** done when the first bad rate is at most this fraction above the last good one (0.12: within 12 %) */
  precision: number;
  /** give up halving below this rate */
  min: number;
  /** never offer more than this */
  max?: number;
}

/** Rates are offered in steps of 100 events/s: finer steps are below what one hold can tell apart. */
const roundRate = (r: number) => Math.max(100, Math.round(r / 100) * 100);

/** The highest good rate below the lowest bad one, and that lowest bad rate (either may be missing). */
export function bracket(probes: Probe[]): { good?: number; bad?: number } {
  const bads = probes.filter((p) => !p.good).map((p) => p.rate);
  const bad = bads.length > 0 ? Math.min(...bads) : undefined;
  const goods = probes.filter((p) => p.good && (bad === undefined || p.rate < bad)).map((p) => p.rate);
  return { good: goods.length > 0 ? Math.max(...goods) : undefined, bad };
}

/**
 * The next rate to offer, or undefined when the search is done: double from `start` while every rate is good,
 * halve while no rate is good, then bisect between the highest good and the lowest bad rate until they are
 * within `precision` of each other. A good rate above a bad one (the machine was busier during the bad one) does
 * not move the bracket: the lowest bad rate bounds it.
 */
export function nextRate(probes: Probe[], o: SearchOptions): number | undefined {
  if (probes.length === 0) return roundRate(o.start);
  const { good, bad } = bracket(probes);
  if (bad === undefined) {
    const next = roundRate(good! * 2);
    if (o.max === undefined) return next;
    return good! >= o.max ? undefined : Math.min(next, o.max);
  }
  if (good === undefined) {
    const next = roundRate(bad / 2);
    return next < o.min || next >= bad ? undefined : next;
  }
  if (bad <= good * (1 + o.precision)) return undefined;
  const next = roundRate((good + bad) / 2);
  return next <= good || next >= bad ? undefined : next;
}

/** Samples of a latency each, weighted by how many events it stands for. */
export type Weighted = [value: number, weight: number][];

/** The p-th percentile (nearest rank) of weighted samples; Infinity counts as larger than any value. */
export function weightedPercentile(samples: Weighted, p: number): number {
  const total = samples.reduce((a, [, w]) => a + w, 0);
  if (total === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a[0] - b[0]);
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [v, w] of sorted) {
    seen += w;
    if (seen >= rank) return v;
  }
  return sorted.at(-1)![0];
}

export interface HoldFigures {
  /** p95 ms from an event's due send time to visible in a query (Infinity: more than 5 % never became visible) */
  p95: number;
  limitMs: number;
  /** requests the gateway answered with anything but 200 (or did not answer), by status (0: a network error) */
  refused: Record<string, number>;
  /** p95 ms the load generator sent requests after their due time (it holds only a few requests in flight) */
  sendLagP95: number;
  /** measured events not visible when the bench stopped waiting */
  notVisible: number;
  /** whether the bench stopped the hold early because its verdict was already certain */
  stoppedEarly: boolean;
  /** the median latency (ms) of the events due in the first and in the last third of the hold */
  thirds?: { first: number; last: number };
}

/**
 * Whether the pipeline falls behind: its median latency rose through the hold so fast that, going on at that pace
 * for one more hold as long, the p95 would pass the limit (the last third is 2/3 of a hold after the first).
 */
export function fallsBehind(f: Pick<HoldFigures, 'p95' | 'limitMs' | 'thirds'>): boolean {
  if (!f.thirds || !Number.isFinite(f.thirds.first) || !Number.isFinite(f.thirds.last)) return false;
  const rise = f.thirds.last - f.thirds.first;
  return rise > 0 && f.p95 + 1.5 * rise > f.limitMs;
}

/** Whether a held rate was good (p95 within the limit, nothing refused, not falling behind), and if not, why, in words. */
export function verdict(f: HoldFigures): { good: boolean; why?: string } {
  const why: string[] = [];
  const refused = Object.entries(f.refused).filter(([, n]) => n > 0);
  if (refused.length > 0) {
    why.push(`the gateway refused ${refused.map(([status, n]) => `${n} request(s) with ${status === '0' ? 'a network error' : status}`).join(', ')}`);
  }
  if (!(f.p95 <= f.limitMs)) {
    const p95 = Number.isFinite(f.p95) ? `${Math.round(f.p95)} ms` : 'not reached (over 5 % never visible)';
    why.push(`ingest -> queryable p95 ${p95} > ${f.limitMs} ms`);
  }
  if (why.length === 0 && fallsBehind(f)) {
    why.push(`falling behind: the median latency rose from ${Math.round(f.thirds!.first)} to ${Math.round(f.thirds!.last)} ms through the hold`);
  }
  if (why.length === 0) return { good: true };
  // where the time went: waiting to be sent means the gateway did not keep up; otherwise a stage behind it
  if (f.sendLagP95 > f.limitMs / 4) why.push(`requests waited ${Math.round(f.sendLagP95)} ms (p95) for a free connection: the gateway did not keep up`);
  if (f.notVisible > 0) why.push(`${f.notVisible} events not visible when the bench stopped waiting`);
  if (f.stoppedEarly) why.push('hold stopped early, the verdict being certain');
  return { good: false, why: why.join('; ') };
}
