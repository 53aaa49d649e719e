import { aggregatesFor, lastCompleteDay } from './usage';

describe('the aggregates a usage column is computed from', () => {
  it.each<[string[], string[]]>([
    [['active_users_30d'], ['active_users_30d']],
    [['events_7d_prev'], ['events_7d_prev']],
    // a change needs the metric and its previous period
    [['events_7d_change'], ['events_7d', 'events_7d_prev']],
    [['events_7d_change', 'events_7d'], ['events_7d', 'events_7d_prev']],
    // days since last seen is read from the activity span, not from the daily usage
    [['days_since_last_seen'], []],
    [[], []],
    [['active_users_1d', 'events_30d_change'], ['active_users_1d', 'events_30d', 'events_30d_prev']],
  ])('%j -> %j', (numbers, aggregates) => {
    expect(aggregatesFor(numbers)).toEqual(aggregates);
  });
});

describe('the last complete UTC day', () => {
  it('is the day before the current one', () => {
    expect(lastCompleteDay(Date.UTC(2026, 10, 30, 0, 0, 1))).toBe('2026-11-29');
    expect(lastCompleteDay(Date.UTC(2026, 11, 1, 23, 59))).toBe('2026-11-30');
  });
});
