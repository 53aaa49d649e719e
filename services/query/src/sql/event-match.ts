// The contract by which cohorts and dynamic properties select event rows with the charts' `{event_type, filters}`
// semantics. The charts implement it (charts/event-match.ts); index.ts hands it to the features that need it.
import type { Sql } from '@groupscope/clickhouse';

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
