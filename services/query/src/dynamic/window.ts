// Time windows of dynamic group properties, in the project's time zone. Pure (Intl only): no clock, no I/O.
//   rolling {days: D}: the D*24 hours up to the run; recomputed once per calendar day.
//   calendar {unit}: the last COMPLETE day, week or month; recomputed when a new one starts. Weeks start on the
//   day the charts' weekly buckets start (time.ts WEEK_MODE: Sunday, as in Amplitude).
import { WEEK_MODE } from '../time';

export type Window = { type: 'rolling'; days: number } | { type: 'calendar'; unit: 'day' | 'week' | 'month' };

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws RangeError for a time zone Intl does not know. */
export function checkTimeZone(tz: string): void {
  formatter(tz);
}

interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(ms: number, tz: string): LocalParts {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, hour: +parts.hour!, minute: +parts.minute!, second: +parts.second! };
}

/** local time minus UTC at instant `ms`, in ms */
function offsetAt(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of local midnight starting the given local date (month may overflow; Date.UTC normalises). */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz); // second pass settles a DST change between the guess and the answer
  return t;
}

/** Start of the day, week or month containing `ms`, in `tz`. */
export function startOfPeriod(ms: number, unit: 'day' | 'week' | 'month', tz: string): number {
  const p = localParts(ms, tz);
  if (unit === 'day') return localMidnight(p.year, p.month, p.day, tz);
  if (unit === 'month') return localMidnight(p.year, p.month, 1, tz);
  // days since the week's first day: Sunday (mode 0) or Monday (mode 1)
  const weekday = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 7 - (WEEK_MODE === 0 ? 0 : 1)) % 7;
  return localMidnight(p.year, p.month, p.day - weekday, tz);
}

/** Start of the period before the one starting at `start`. */
function previousPeriodStart(start: number, unit: 'day' | 'week' | 'month', tz: string): number {
  const p = localParts(start, tz);
  if (unit === 'day') return localMidnight(p.year, p.month, p.day - 1, tz);
  if (unit === 'week') return localMidnight(p.year, p.month, p.day - 7, tz);
  return localMidnight(p.year, p.month - 1, 1, tz);
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
