// Per user / per device rate limits (Amplitude: 30 events/s on /2/httpapi, 1000 events/s averaged over 30 s on
// /batch), configurable per project. A sliding-window counter per id: the events of a request count together
// with every earlier accepted request, so splitting a burst across requests does not get around the limit.
// The state lives in this process: with N gateway replicas behind a balancer, an id may reach N times the limit.

export type ThrottledEndpoint = 'httpapi' | 'batch';

export interface ThrottleSettings {
  enabled: boolean;
  httpapi_eps: number;
  batch_eps: number;
}

export interface ThrottleEvent {
  index: number;
  user_id: string | null;
  device_id: string | null;
}

export interface Throttled {
  eps_threshold: number;
  throttled_users: Record<string, number>;
  throttled_devices: Record<string, number>;
  throttled_events: number[];
}

interface Counter {
  start: number;
  cur: number;
  prev: number;
}

const WINDOW_MS: Record<ThrottledEndpoint, number> = { httpapi: 1000, batch: 30_000 };

export class Throttle {
  private readonly counters = new Map<string, Counter>();
  private sweptAt = 0;

  constructor(private readonly maxIds = 1_000_000, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.counters.size;
  }

  /**
   * Checks a request's events; when none is throttled, counts them and returns null. Otherwise counts nothing
   * (the request is rejected whole) and returns what the 429 reply names, rates in events per second.
   */
  check(projectId: number, endpoint: ThrottledEndpoint, settings: ThrottleSettings, events: ThrottleEvent[]): Throttled | null {
    if (!settings.enabled || events.length === 0) return null;
    const now = this.now();
    const windowMs = WINDOW_MS[endpoint];
    const eps = endpoint === 'httpapi' ? settings.httpapi_eps : settings.batch_eps;
    const limit = (eps * windowMs) / 1000;
    this.sweep(now);

    const perId = new Map<string, { kind: 'u' | 'd'; id: string; n: number; indices: number[] }>();
    for (const e of events) {
      for (const [kind, id] of [['u', e.user_id], ['d', e.device_id]] as const) {
        if (!id) continue;
        const key = JSON.stringify([projectId, endpoint, kind, id]);
        let entry = perId.get(key);
        if (!entry) perId.set(key, (entry = { kind, id, n: 0, indices: [] }));
        entry.n++;
        entry.indices.push(e.index);
      }
    }

    const throttled: Throttled = { eps_threshold: eps, throttled_users: {}, throttled_devices: {}, throttled_events: [] };
    const flagged = new Set<number>();
    for (const [key, entry] of perId) {
      const observed = this.estimate(this.counters.get(key), now, windowMs) + entry.n;
      if (observed > limit) {
        const rate = Math.round(((observed * 1000) / windowMs) * 100) / 100;
        if (entry.kind === 'u') throttled.throttled_users[entry.id] = rate;
        else throttled.throttled_devices[entry.id] = rate;
        for (const i of entry.indices) flagged.add(i);
      }
    }
    if (flagged.size > 0) {
      throttled.throttled_events = [...flagged].sort((a, b) => a - b);
      return throttled;
    }
    for (const [key, entry] of perId) this.add(key, entry.n, now, windowMs);
    return null;
  }

  /** Events in the sliding window ending now: the current bucket plus the overlapping share of the previous one. */
  private estimate(c: Counter | undefined, now: number, windowMs: number): number {
    if (!c) return 0;
    const elapsed = now - c.start;
    if (elapsed >= 2 * windowMs) return 0;
    if (elapsed >= windowMs) return c.cur * (1 - (elapsed - windowMs) / windowMs);
    return c.cur + c.prev * (1 - elapsed / windowMs);
  }

  private add(key: string, n: number, now: number, windowMs: number): void {
    let c = this.counters.get(key);
    if (!c) {
      c = { start: now - (now % windowMs), cur: 0, prev: 0 };
      if (this.counters.size >= this.maxIds) {
        // forget the oldest id (Map keeps insertion order)
        const oldest = this.counters.keys().next();
        if (!oldest.done) this.counters.delete(oldest.value);
      }
      this.counters.set(key, c);
    }
    const bucket = now - (now % windowMs);
    if (bucket !== c.start) {
      c.prev = bucket - c.start === windowMs ? c.cur : 0;
      c.cur = 0;
      c.start = bucket;
    }
    c.cur += n;
  }

  /** Drops ids idle for two windows of the longest limit; at most every 5 s. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 5000) return;
    this.sweptAt = now;
    for (const [key, c] of this.counters) if (now - c.start >= 2 * WINDOW_MS.batch) this.counters.delete(key);
  }
}
