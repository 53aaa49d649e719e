import { defaultState, fromSearch, type ChartState } from '../../charts/state';
import { lastChartWithCohort, rememberChart, withCohortSegment } from './last-chart';

const today = Date.UTC(2026, 10, 15);
const cohort = { id: 'c-9', name: 'Dropped', countGroup: 'company', size: 4, computed_at: null };

describe('a cohort used as a segment', () => {
  it('joins the chart as one more segment, counted by the cohort unit; a group-by of another unit is dropped', () => {
    const state: ChartState = { ...defaultState(today, 'funnels'), segments: [{ prop: 'country', op: 'is', values: ['US'] }], groupBy: [{ type: 'user', key: 'gp:role' }] };
    const next = fromSearch(withCohortSegment(state, cohort), today).state;
    expect(next.segments).toEqual([{ prop: 'country', op: 'is', values: ['US'] }, { prop: 'cohort', op: 'is', values: ['c-9'] }]);
    expect(next.countGroup).toBe('company');
    expect(next.groupBy).toEqual([]);
    expect(next.chart).toBe('funnels');
  });

  it('is added once, and keeps the group-by when the unit does not change', () => {
    const state: ChartState = { ...defaultState(today), countGroup: 'company', groupBy: [{ type: 'group', groupType: 'company', key: 'plan' }] };
    const once = fromSearch(withCohortSegment(state, cohort), today).state;
    const twice = fromSearch(withCohortSegment(once, cohort), today).state;
    expect(twice.segments).toEqual([{ prop: 'cohort', op: 'is', values: ['c-9'] }]);
    expect(twice.groupBy).toEqual(state.groupBy);
  });

  it('goes into the chart last open, or the default chart', () => {
    expect(fromSearch(lastChartWithCohort({ ...cohort, countGroup: 'User' }, today), today).state).toEqual({
      ...defaultState(today),
      segments: [{ prop: 'cohort', op: 'is', values: ['c-9'] }],
    });
    rememberChart('chart=retention&start=20261101&end=20261110');
    const s = fromSearch(lastChartWithCohort(cohort, today), today).state;
    expect([s.chart, s.start, s.end, s.countGroup]).toEqual(['retention', '20261101', '20261110', 'company']);
  });
});
