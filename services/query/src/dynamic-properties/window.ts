// Time windows of dynamic group properties, in the project's time zone. Pure (Intl only): no clock, no I/O.
//   rolling {days: D}: the D*24 hours up to the run; recomputed once per calendar day.
//   calendar {unit}: the last COMPLETE day, week or month; recomputed when a new one starts. Weeks start on the
//   day the charts' weekly buckets start (domain/time.ts WEEK_MODE: Sunday, as in Amplitude).
import { WEEK_MODE, isValidTimeZone, localParts, tzOffsetMs } from '../domain/time';

export type Window = { type: 'rolling'; days: number } | { type: 'calendar'; unit: 'day' | 'week' | 'month' };

const DAY_MS = 86_400_000;

/** Throws RangeError for a time zone Intl does not know. */
export function checkTimeZone(tz: string): void {
  if (!isValidTimeZone(tz)) throw new RangeError(`unknown time zone ${tz}`);
}

/** The instant of local midnight starting the given local date (month may overflow; Date.UTC normalises). */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let t = wall - tzOffsetMs(wall, tz);
  t = wall - tzOffsetMs(t, tz); // second pass settles a DST change between the guess and the answer
  return t;
}

/** Start of the day, week or month containing `ms`, in `tz`. */
export function startOfPeriod(ms: number, unit: 'day' | 'week' | 'month', tz: string): number {
  const p = localParts(ms, tz);
  if (unit === 'day') return localMidnight(p.y, p.mo, p.d, tz);
  if (unit === 'month') return localMidnight(p.y, p.mo, 1, tz);
  // days since the week's first day: Sunday (mode 0) or Monday (mode 1)
  const weekday = (new Date(Date.UTC(p.y, p.mo - 1, p.d)).getUTCDay() + 7 - (WEEK_MODE === 0 ? 0 : 1)) % 7;
  return localMidnight(p.y, p.mo, p.d - weekday, tz);
}

/** Start of the period before the one starting at `start`. */
function previousPeriodStart(start: number, unit: 'day' | 'week' | 'month', tz: string): number {
  const p = localParts(start, tz);
  if (unit === 'day') return localMidnight(p.y, p.mo, p.d - 1, tz);
  if (unit === 'week') return localMidnight(p.y, p.mo, p.d - 7, tz);
  return localMidnight(p.y, p.mo - 1, 1, tz);
}

/** [start, end) of the data a run at `now` computes over. */
export function windowAt(w: Window, now: number, tz: string): { start: number; end: number } {
  if (w.type === 'rolling') return { start: now - w.days * DAY_MS, end: now };
  const end = startOfPeriod(now, w.unit, tz);
  return { start: previousPeriodStart(end, w.unit, tz), end };
}

/** Whether a property last run at `lastRunAt` (null: never) is due at `now`. */
export function isDue(w: Window, lastRunAt: number | null, now: number, tz: string): boolean {
  if (lastRunAt === null) return true;
  const unit = w.type === 'rolling' ? 'day' : w.unit;
  return lastRunAt < startOfPeriod(now, unit, tz);
}
