// The chart last open in this tab, so "Use as segment" elsewhere adds the cohort to the chart the user was building.
import type { Cohort } from '../../api/types';
import { defaultState, fromSearch, toSearch, type ChartState } from '../../charts/state';

let last: string | undefined;

export function rememberChart(search: string): void {
  last = search;
}

/** A chart's URL query with the cohort as one more segment, counted by the cohort's own unit. */
export function withCohortSegment(state: ChartState, c: Cohort): string {
  const segments = [...state.segments.filter((s) => !(s.prop === 'cohort' && s.values.includes(c.id))), { prop: 'cohort', op: 'is', values: [c.id] }];
  const countGroup = c.countGroup === 'User' ? 'User' : c.countGroup;
  const groupBy = countGroup === state.countGroup ? state.groupBy : [];
  return toSearch({ ...state, segments, countGroup, groupBy });
}

/** The last chart (or the default one) with the cohort as a segment. */
export function lastChartWithCohort(c: Cohort, today = Date.now()): string {
  const state = last ? fromSearch(last, today).state : defaultState(today);
  return withCohortSegment(state, c);
}
