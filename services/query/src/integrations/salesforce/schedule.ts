// When a Salesforce mapping runs and when each of its groups is picked up again. Pure: times are UTC milliseconds,
// the clock is an argument.
//   hourly: the job runs on every hour; a group updated at 10:20 is due again at 11:00.
//   daily / every N days: the daily job runs at the configured UTC hour; a group updated on day D is due again on
//   the daily job of day D + N ("next pickup = last update + interval": 2017-09-01 + 7 days -> 2017-09-08).
// A failed run is tried again after a back-off that doubles with each consecutive failure (up to a ceiling).

export type Cadence = { type: 'hourly' } | { type: 'daily' } | { type: 'days'; days: number };

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The start of the next hour after `t` (strictly later). */
export const nextHour = (t: number): number => Math.floor(t / HOUR_MS) * HOUR_MS + HOUR_MS;

/** The first `hourUtc`:00 UTC strictly after `t`. */
export function nextDailyAt(t: number, hourUtc: number): number {
  const at = Math.floor(t / DAY_MS) * DAY_MS + hourUtc * HOUR_MS;
  return at > t ? at : at + DAY_MS;
}

/** The pickup interval in days (hourly: none, its unit is the hour). */
export const intervalDays = (c: Cadence): number => (c.type === 'days' ? c.days : 1);

/** When the job of a mapping runs after a run (or its creation) at `t`: every hour, or the daily job. */
export const nextRunAfter = (c: Cadence, t: number, hourUtc: number): number => (c.type === 'hourly' ? nextHour(t) : nextDailyAt(t, hourUtc));

/** The next pickup of a group last updated at `lastUpdate`: the last update's day (or hour) plus the interval. */
export function nextPickup(c: Cadence, lastUpdate: number, hourUtc: number): number {
  if (c.type === 'hourly') return nextHour(lastUpdate);
  return Math.floor(lastUpdate / DAY_MS) * DAY_MS + intervalDays(c) * DAY_MS + hourUtc * HOUR_MS;
}

/** A group is due when it was never updated or its pickup date has come. */
export const isPickupDue = (nextPickupAt: number | null, now: number): boolean => nextPickupAt === null || nextPickupAt <= now;

export interface RunHistory {
  createdAt: number;
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  consecutiveFailures: number;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Exponential back-off: base, 2 base, 4 base, ... up to max (attempt counts from 1). */
export const backoffMs = (b: Backoff, attempt: number): number => Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));

/**
 * When the mapping's job runs next: after its last success (or creation) on its cadence; after failures, not
 * before the back-off from the last attempt has passed.
 */
export function nextRunAt(c: Cadence, h: RunHistory, hourUtc: number, retry: Backoff): number {
  const regular = nextRunAfter(c, h.lastSuccessAt ?? h.createdAt, hourUtc);
  if (h.consecutiveFailures > 0 && h.lastAttemptAt !== null) return Math.max(regular, h.lastAttemptAt + backoffMs(retry, h.consecutiveFailures));
  return regular;
}

export const isRunDue = (c: Cadence, h: RunHistory, now: number, hourUtc: number, retry: Backoff): boolean => nextRunAt(c, h, hourUtc, retry) <= now;
