// The contracts by which cohorts, dynamic properties and the account list use the charts' semantics: selecting
// event rows by `{event_type, filters}`, and building one property condition from a filter's parts. The charts
// implement them (charts/event-match.ts, charts/request.ts); index.ts hands them to the features that need them.
import type { Sql } from '@groupscope/clickhouse';
import type { PropCondition, PropRef } from '../domain/properties';

export interface EventMatchInput {
  projectId: number;
  /** an event definition as the API takes it: {event_type, filters?} */
  e: unknown;
  /** the table whose rows are tested: `events` (one row per event) or `event_groups` (one row per event and group) */
  table: 'events' | 'event_groups';
  /** with event_groups: the group type the rows are restricted to */
  groupType?: string;
  /** the request parameter the definition came from, named in 400 replies */
  param: string;
}

/** Compiles an event definition into a boolean SQL condition on rows of `table` (project filter not included). */
export type EventMatcher = (input: EventMatchInput) => Promise<Sql>;

/** A property condition from a filter's parts, with the charts' operators and value rules (a 400 naming `param` when wrong). */
export type PropertyConditionBuilder = (param: string, prop: PropRef, op: string, values: string[]) => PropCondition;
