import { parseRange } from '../domain/time';
import { cellEndMs, checkRetentionSize, MAX_RETENTION_CELLS, shapeRetention, type RetentionPlan } from './retention';

const at = (iso: string) => Date.parse(`${iso}Z`);

describe('cellEndMs: when every window of a cell has ended', () => {
  it.each<[RetentionPlan['interval'], boolean, string, number, string]>([
    // windows: the cohort's last start hour (or day) plus n + 1 windows
    ['day', false, '2025-11-01', 0, '2025-11-02T23:00:00'],
    ['day', false, '2025-11-01', 2, '2025-11-04T23:00:00'],
    ['week', false, '2025-10-26', 1, '2025-11-15T00:00:00'],
    ['month', false, '2025-01-01', 1, '2025-04-01T00:00:00'],
    // calendar: the end of the n-th interval after the cohort's
    ['day', true, '2025-11-01', 2, '2025-11-04T00:00:00'],
    ['month', true, '2025-01-01', 1, '2025-03-01T00:00:00'],
  ])('%s (calendar %p) cohort %s, n = %d: %s', (interval, calendar, cohort, n, end) => {
    expect(cellEndMs({ interval, calendar }, cohort, n, 'UTC')).toBe(at(end));
  });
});

describe('shapeRetention', () => {
  const range = parseRange({ start: '20251101', end: '20251103' }, 'UTC', { maxDays: 100, maxHourlyDays: 10 });
  const plan = (calendar: boolean) => ({ range, interval: 'day', calendar, groupBy: [] }) as unknown as RetentionPlan;
  const rows = [
    { cohort: '2025-11-01', n: 0, cnt: 4 },
    { cohort: '2025-11-01', n: 1, cnt: 2 },
  ];

  it('marks a cell incomplete while one of its windows is open', () => {
    const now = at('2025-11-03T12:00:00');
    const cells = (calendar: boolean) => shapeRetention(plan(calendar), rows, now).data.series[0]!.values['2025-11-01']!;
    expect(cells(false).map((c) => [c.count, c.outof, c.incomplete])).toEqual([[4, 4, false], [2, 4, true], [0, 4, true]]);
    expect(cells(true).map((c) => [c.count, c.outof, c.incomplete])).toEqual([[4, 4, false], [2, 4, false], [0, 4, true]]);
  });

  it('refuses a table of more cells than one reply holds, before building it', () => {
    // three years of days: 1097 intervals, 602 253 cells per series; two series are over the bound
    const long = parseRange({ start: '20230101', end: '20260101' }, 'UTC', { maxDays: 2000, maxHourlyDays: 10 });
    const grouped = { range: long, interval: 'day', calendar: false, groupBy: [{}] } as unknown as RetentionPlan;
    const series = (values: string[]) => values.map((v) => ({ k0: v, cohort: '2023-01-01', n: 0, cnt: 1 }));
    expect(() => shapeRetention(grouped, series(['a', 'b']))).toThrow(expect.objectContaining({ status: 413, code: 'result_too_large' }));
    expect(() => checkRetentionSize(1097, 1)).not.toThrow();
    expect(() => checkRetentionSize(1097, 2)).toThrow(expect.objectContaining({ status: 413, details: [{ limit: 'retention_cells', max: MAX_RETENTION_CELLS }] }));
  });
});
