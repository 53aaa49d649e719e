import { addBuckets, bucketEndUtc, localMidnightUtc, parseDay, parseRange, xValues, weekStart } from './time';

const limits = { maxDays: 400, maxHourlyDays: 31 };

describe('time', () => {
  it.each([
    ['20251101', '2025-11-01'],
    ['20240229', '2024-02-29'],
  ])('parses %s', (raw, day) => {
    expect(parseDay('start', raw)).toBe(day);
  });

  it.each(['2025-11-01', '20251301', '20250230', '20230229', '2025110', '', 'abcdefgh', '19691231'])('rejects %p naming the parameter', (raw) => {
    expect(() => parseDay('start', raw)).toThrow(expect.objectContaining({ status: 400, details: [expect.objectContaining({ param: 'start' })] }));
  });

  it('finds local midnight in zones with and without daylight saving', () => {
    expect(new Date(localMidnightUtc('2025-11-01', 'UTC')).toISOString()).toBe('2025-11-01T00:00:00.000Z');
    expect(new Date(localMidnightUtc('2025-07-01', 'America/New_York')).toISOString()).toBe('2025-07-01T04:00:00.000Z');
    // DST ends at 02:00 on 2025-11-02 in New York: midnight is still EDT, the next midnight EST
    expect(new Date(localMidnightUtc('2025-11-02', 'America/New_York')).toISOString()).toBe('2025-11-02T04:00:00.000Z');
    expect(new Date(localMidnightUtc('2025-11-03', 'America/New_York')).toISOString()).toBe('2025-11-03T05:00:00.000Z');
    expect(new Date(localMidnightUtc('2025-11-01', 'Asia/Kolkata')).toISOString()).toBe('2025-10-31T18:30:00.000Z');
  });

  it('turns start/end into an inclusive local range and rejects end before start', () => {
    const r = parseRange({ start: '20251101', end: '20251103' }, 'Europe/Paris', limits);
    expect(new Date(r.fromMs).toISOString()).toBe('2025-10-31T23:00:00.000Z');
    expect(new Date(r.toMs).toISOString()).toBe('2025-11-03T23:00:00.000Z');
    expect(() => parseRange({ start: '20251103', end: '20251101' }, 'UTC', limits)).toThrow(/before start/);
    expect(() => parseRange({ end: '20251101' }, 'UTC', limits)).toThrow(/start is required/);
    expect(() => parseRange({ start: '20240101', end: '20251101' }, 'UTC', limits)).toThrow(/at most 400/);
    expect(() => parseRange({ start: '20250101', end: '20250301' }, 'UTC', limits, 'hour')).toThrow(/hourly/);
  });

  it('lists every bucket of the range', () => {
    const r = parseRange({ start: '20251030', end: '20251104' }, 'UTC', limits);
    expect(xValues(r, 'day')).toEqual(['2025-10-30', '2025-10-31', '2025-11-01', '2025-11-02', '2025-11-03', '2025-11-04']);
    // weeks start on Sunday; the first bucket is the week holding `start`
    expect(xValues(r, 'week')).toEqual(['2025-10-26', '2025-11-02']);
    expect(xValues(r, 'month')).toEqual(['2025-10-01', '2025-11-01']);
    expect(weekStart('2025-11-02')).toBe('2025-11-02');
    expect(addBuckets('2025-01-01', 2, 'month')).toBe('2025-03-01');
  });

  it('labels local hours, merging the repeated hour when daylight saving ends', () => {
    const utc = parseRange({ start: '20251102', end: '20251102' }, 'UTC', limits, 'hour');
    expect(xValues(utc, 'hour')).toHaveLength(24);
    expect(xValues(utc, 'hour')[0]).toBe('2025-11-02T00:00:00');
    const ny = parseRange({ start: '20251102', end: '20251102' }, 'America/New_York', limits, 'hour');
    const hours = xValues(ny, 'hour');
    expect(hours).toHaveLength(24);
    expect(hours.slice(0, 3)).toEqual(['2025-11-02T00:00:00', '2025-11-02T01:00:00', '2025-11-02T02:00:00']);
  });

  it('knows when a bucket ends', () => {
    expect(new Date(bucketEndUtc('2025-11-02', 'week', 'UTC')).toISOString()).toBe('2025-11-09T00:00:00.000Z');
  });
});
