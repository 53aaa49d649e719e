// Calendar arithmetic in the project's time zone: request dates (YYYYMMDD, inclusive) become a UTC range, and the
// chart's x values (every interval, so empty ones can be zero-filled) are listed here, matching the bucket labels
// the SQL produces (see sql/source.ts bucketExpr).
import { badParam } from '../http/errors';

export type Interval = 'hour' | 'day' | 'week' | 'month';

/** Weeks start on Sunday, as in Amplitude (ClickHouse toStartOfWeek mode 0). */
export const WEEK_MODE = 0;

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' of a UTC-midnight epoch ms. */
function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
function dayMs(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));
}

export function addDays(day: string, n: number): string {
  return iso(dayMs(day) + n * DAY_MS);
}
export function daysBetween(a: string, b: string): number {
  return Math.round((dayMs(b) - dayMs(a)) / DAY_MS);
}
export function weekStart(day: string): string {
  return addDays(day, -new Date(dayMs(day)).getUTCDay());
}
export function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}
export function addMonths(day: string, n: number): string {
  const d = new Date(dayMs(day));
  return iso(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

/** Parses a request date (YYYYMMDD) into 'YYYY-MM-DD', rejecting impossible dates. */
export function parseDay(param: string, value: unknown): string {
  if (typeof value !== 'string' || !/^\d{8}$/.test(value)) {
    throw badParam(param, `${param} must be a date written YYYYMMDD`, 'invalid_date');
  }
  const day = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`;
  const y = Number(value.slice(0, 4));
  if (y < 1970 || y > 2200 || iso(dayMs(day)) !== day) {
    throw badParam(param, `${param} is not a valid date: ${value}`, 'invalid_date');
  }
  return day;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Local wall-clock fields of an instant in `tz`. */
export function localParts(ms: number, tz: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** Offset of `tz` from UTC at an instant, in ms (local = utc + offset). */
export function tzOffsetMs(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  const asUtc = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The UTC instant of local midnight starting `day` in `tz` (the first instant of that local day). */
export function localMidnightUtc(day: string, tz: string): number {
  const guess = dayMs(day);
  let t = guess - tzOffsetMs(guess, tz);
  // a second pass settles offsets that change between the guess and the answer (DST)
  t = guess - tzOffsetMs(t, tz);
  return t;
}

/** 'YYYY-MM-DDTHH:00:00' of an instant's local hour in `tz` (the hourly bucket label). */
export function localHourLabel(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.y}-${two(p.mo)}-${two(p.d)}T${two(p.h)}:00:00`;
}

export interface DateRange {
  /** first and last local day, 'YYYY-MM-DD', inclusive */
  startDay: string;
  endDay: string;
  tz: string;
  /** [fromMs, toMs) in UTC */
  fromMs: number;
  toMs: number;
}

export interface RangeLimits {
  maxDays: number;
  maxHourlyDays: number;
}

export function parseRange(query: { start?: unknown; end?: unknown }, tz: string, limits: RangeLimits, interval: Interval = 'day'): DateRange {
  if (query.start === undefined) throw badParam('start', 'start is required (YYYYMMDD)', 'missing_parameter');
  if (query.end === undefined) throw badParam('end', 'end is required (YYYYMMDD)', 'missing_parameter');
  const startDay = parseDay('start', query.start);
  const endDay = parseDay('end', query.end);
  if (endDay < startDay) throw badParam('end', `end (${query.end}) is before start (${query.start})`, 'invalid_date');
  const days = daysBetween(startDay, endDay) + 1;
  const max = interval === 'hour' ? limits.maxHourlyDays : limits.maxDays;
  if (days > max) {
    throw badParam('end', `the range holds ${days} days; at most ${max} are allowed${interval === 'hour' ? ' with hourly intervals' : ''}`, 'range_too_large');
  }
  return { startDay, endDay, tz, fromMs: localMidnightUtc(startDay, tz), toMs: localMidnightUtc(addDays(endDay, 1), tz) };
}

/** The bucket a local day falls in. */
export function bucketOfDay(day: string, interval: Exclude<Interval, 'hour'>): string {
  return interval === 'day' ? day : interval === 'week' ? weekStart(day) : monthStart(day);
}

/** Adds n intervals to a bucket label (day, week or month start). */
export function addBuckets(bucket: string, n: number, interval: Exclude<Interval, 'hour'>): string {
  return interval === 'day' ? addDays(bucket, n) : interval === 'week' ? addDays(bucket, 7 * n) : addMonths(bucket, n);
}

/** Every bucket label of the range, in order: the chart's xValues. */
export function xValues(range: DateRange, interval: Interval): string[] {
  const out: string[] = [];
  if (interval === 'hour') {
    for (let t = range.fromMs; t < range.toMs; t += 3_600_000) {
      const label = localHourLabel(t, range.tz);
      if (out[out.length - 1] !== label) out.push(label);
    }
    return out;
  }
  const last = bucketOfDay(range.endDay, interval);
  for (let b = bucketOfDay(range.startDay, interval); b <= last; b = addBuckets(b, 1, interval)) out.push(b);
  return out;
}

/** UTC instant at which a bucket ends (exclusive). */
export function bucketEndUtc(bucket: string, interval: Exclude<Interval, 'hour'>, tz: string): number {
  return localMidnightUtc(addBuckets(bucket, 1, interval), tz);
}

/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: the text form of a DateTime64(3, 'UTC') parameter. */
export function chDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
