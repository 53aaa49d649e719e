import { isDue, localMidnight, startOfPeriod, windowAt } from './window';

const t = (iso: string) => Date.parse(iso);

describe('dynamic property windows', () => {
  it.each([
    ['2026-11-04T15:30:00Z', 'day', 'UTC', '2026-11-04T00:00:00Z'],
    // weeks start on Sunday, as the charts' weekly buckets do
    ['2026-11-04T15:30:00Z', 'week', 'UTC', '2026-11-01T00:00:00Z'], // Wednesday -> Sunday
    ['2026-11-01T00:00:00Z', 'week', 'UTC', '2026-11-01T00:00:00Z'],
    ['2026-10-31T23:59:59Z', 'week', 'UTC', '2026-10-25T00:00:00Z'], // Saturday ends the week before
    ['2026-11-04T15:30:00Z', 'month', 'UTC', '2026-11-01T00:00:00Z'],
    // 03:00 UTC on the 4th is still the 3rd in New York (UTC-5 in November)
    ['2026-11-04T03:00:00Z', 'day', 'America/New_York', '2026-11-03T05:00:00Z'],
    ['2026-11-04T03:00:00Z', 'day', 'Asia/Tokyo', '2026-11-03T15:00:00Z'],
    ['2026-03-01T10:00:00Z', 'month', 'Asia/Kolkata', '2026-02-28T18:30:00Z'],
    // the day DST starts in New York (2026-03-08): midnight is still EST (UTC-5)
    ['2026-03-08T20:00:00Z', 'day', 'America/New_York', '2026-03-08T05:00:00Z'],
    ['2026-03-09T20:00:00Z', 'day', 'America/New_York', '2026-03-09T04:00:00Z'],
  ] as const)('start of %s (%s, %s)', (now, unit, tz, expected) => {
    expect(new Date(startOfPeriod(t(now), unit, tz)).toISOString()).toBe(new Date(t(expected)).toISOString());
  });

  it('finds local midnight across a month overflow', () => {
    expect(new Date(localMidnight(2026, 13, 1, 'UTC')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(new Date(localMidnight(2026, 3, 0, 'UTC')).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });

  it('computes rolling and calendar windows', () => {
    const now = t('2026-11-04T15:30:00Z');
    expect(windowAt({ type: 'rolling', days: 7 }, now, 'UTC')).toEqual({ start: t('2026-10-28T15:30:00Z'), end: now });
    expect(windowAt({ type: 'calendar', unit: 'day' }, now, 'UTC')).toEqual({ start: t('2026-11-03T00:00:00Z'), end: t('2026-11-04T00:00:00Z') });
    expect(windowAt({ type: 'calendar', unit: 'week' }, now, 'UTC')).toEqual({ start: t('2026-10-25T00:00:00Z'), end: t('2026-11-01T00:00:00Z') });
    expect(windowAt({ type: 'calendar', unit: 'month' }, now, 'UTC')).toEqual({ start: t('2026-10-01T00:00:00Z'), end: t('2026-11-01T00:00:00Z') });
    expect(windowAt({ type: 'calendar', unit: 'month' }, t('2026-01-15T00:00:00Z'), 'UTC')).toEqual({ start: t('2025-12-01T00:00:00Z'), end: t('2026-01-01T00:00:00Z') });
  });

  it('is due once per day (rolling) or once per period (calendar)', () => {
    const rolling = { type: 'rolling', days: 7 } as const;
    const weekly = { type: 'calendar', unit: 'week' } as const;
    expect(isDue(rolling, null, t('2026-11-04T15:00:00Z'), 'UTC')).toBe(true);
    expect(isDue(rolling, t('2026-11-04T00:05:00Z'), t('2026-11-04T23:00:00Z'), 'UTC')).toBe(false);
    expect(isDue(rolling, t('2026-11-03T23:55:00Z'), t('2026-11-04T00:01:00Z'), 'UTC')).toBe(true);
    // in Tokyo the day turned at 15:00 UTC
    expect(isDue(rolling, t('2026-11-04T14:00:00Z'), t('2026-11-04T16:00:00Z'), 'Asia/Tokyo')).toBe(true);
    expect(isDue(weekly, t('2026-11-01T01:00:00Z'), t('2026-11-07T23:00:00Z'), 'UTC')).toBe(false);
    expect(isDue(weekly, t('2026-11-07T23:00:00Z'), t('2026-11-08T00:00:00Z'), 'UTC')).toBe(true);
  });
});
