import { backoffMs, isPickupDue, isRunDue, nextDailyAt, nextPickup, nextRunAt, type Cadence, type RunHistory } from './schedule';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const hourly: Cadence = { type: 'hourly' };
const daily: Cadence = { type: 'daily' };
const weekly: Cadence = { type: 'days', days: 7 };

describe('salesforce schedule', () => {
  it.each([
    ['2017-09-01T03:00:00Z', 6, '2017-09-01T06:00:00.000Z'],
    ['2017-09-01T06:00:00Z', 6, '2017-09-02T06:00:00.000Z'], // strictly after: the job that just ran is not next
    ['2017-09-01T06:00:01Z', 6, '2017-09-02T06:00:00.000Z'],
    ['2017-09-01T23:59:59Z', 0, '2017-09-02T00:00:00.000Z'],
    ['2017-12-31T20:00:00Z', 6, '2018-01-01T06:00:00.000Z'],
  ])('the daily job after %s at hour %i is %s', (at, hour, expected) => {
    expect(iso(nextDailyAt(t(at), hour))).toBe(expected);
  });

  it.each<[string, Cadence, string, number, string]>([
    // the reference's example: last update 2017-09-01, interval 7 days -> next pickup 2017-09-08
    ['every 7 days', weekly, '2017-09-01T06:00:00Z', 6, '2017-09-08T06:00:00.000Z'],
    ['every 7 days, updated late in the day', weekly, '2017-09-01T23:30:00Z', 6, '2017-09-08T06:00:00.000Z'],
    ['every 7 days, updated before the hour', weekly, '2017-09-01T01:00:00Z', 6, '2017-09-08T06:00:00.000Z'],
    ['every 30 days across a month', { type: 'days', days: 30 }, '2017-09-15T06:00:00Z', 6, '2017-10-15T06:00:00.000Z'],
    ['daily', daily, '2017-09-01T06:00:05Z', 6, '2017-09-02T06:00:00.000Z'],
    ['daily after a run now in the afternoon', daily, '2017-09-01T15:00:00Z', 6, '2017-09-02T06:00:00.000Z'],
    ['hourly', hourly, '2017-09-01T10:20:00Z', 6, '2017-09-01T11:00:00.000Z'],
    ['hourly on the hour', hourly, '2017-09-01T10:00:00Z', 6, '2017-09-01T11:00:00.000Z'],
  ])('next pickup: %s', (_label, cadence, lastUpdate, hour, expected) => {
    expect(iso(nextPickup(cadence, t(lastUpdate), hour))).toBe(expected);
  });

  it('a group is due on its pickup date and not before', () => {
    const pickup = nextPickup(weekly, t('2017-09-01T06:00:00Z'), 6);
    expect(isPickupDue(pickup, t('2017-09-07T06:00:00Z'))).toBe(false);
    expect(isPickupDue(pickup, t('2017-09-08T05:59:59Z'))).toBe(false);
    expect(isPickupDue(pickup, t('2017-09-08T06:00:00Z'))).toBe(true);
    expect(isPickupDue(null, t('2017-09-02T06:00:00Z'))).toBe(true);
  });

  const retry = { baseMs: 5 * 60_000, maxMs: 3_600_000 };
  const history = (o: Partial<RunHistory>): RunHistory => ({ createdAt: t('2017-09-01T15:00:00Z'), lastSuccessAt: null, lastAttemptAt: null, consecutiveFailures: 0, ...o });

  it.each<[string, Cadence, Partial<RunHistory>, string]>([
    // created in the afternoon: the first sync is the next morning's job, as the reference says
    ['daily, never ran', daily, {}, '2017-09-02T06:00:00.000Z'],
    ['daily, ran this morning', daily, { lastSuccessAt: t('2017-09-02T06:00:10Z'), lastAttemptAt: t('2017-09-02T06:00:10Z') }, '2017-09-03T06:00:00.000Z'],
    ['every 7 days: the daily job runs every day (pickups decide per group)', weekly, { lastSuccessAt: t('2017-09-02T06:00:10Z') }, '2017-09-03T06:00:00.000Z'],
    ['hourly, never ran', hourly, {}, '2017-09-01T16:00:00.000Z'],
    ['hourly, ran at 16:00', hourly, { lastSuccessAt: t('2017-09-01T16:00:03Z') }, '2017-09-01T17:00:00.000Z'],
    ['after one failure: 5 minutes', daily, { lastSuccessAt: t('2017-09-01T06:00:00Z'), lastAttemptAt: t('2017-09-02T06:00:00Z'), consecutiveFailures: 1 }, '2017-09-02T06:05:00.000Z'],
    ['after three failures: 20 minutes', daily, { lastSuccessAt: t('2017-09-01T06:00:00Z'), lastAttemptAt: t('2017-09-02T06:30:00Z'), consecutiveFailures: 3 }, '2017-09-02T06:50:00.000Z'],
    ['after many failures: at most an hour', hourly, { lastSuccessAt: t('2017-09-01T06:00:00Z'), lastAttemptAt: t('2017-09-02T06:30:00Z'), consecutiveFailures: 12 }, '2017-09-02T07:30:00.000Z'],
  ])('next run: %s', (_label, cadence, h, expected) => {
    expect(iso(nextRunAt(cadence, history(h), 6, retry))).toBe(expected);
  });

  it('is due from the next run on', () => {
    const h = history({ lastSuccessAt: t('2017-09-02T06:00:10Z') });
    expect(isRunDue(daily, h, t('2017-09-03T05:59:59Z'), 6, retry)).toBe(false);
    expect(isRunDue(daily, h, t('2017-09-03T06:00:00Z'), 6, retry)).toBe(true);
    expect(isRunDue(hourly, h, t('2017-09-02T06:59:00Z'), 6, retry)).toBe(false);
    expect(isRunDue(hourly, h, t('2017-09-02T07:00:00Z'), 6, retry)).toBe(true);
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 30_000],
    [1000, 30_000],
  ])('back-off of attempt %i is %i ms', (attempt, expected) => {
    expect(backoffMs({ baseMs: 1000, maxMs: 30_000 }, attempt)).toBe(expected);
  });
});
