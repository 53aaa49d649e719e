// The seam to the chart code's event definitions: cohorts and dynamic properties select rows with the same
// `{event_type, filters}` semantics as the charts, parsed and compiled by the charts' own code (definitions.ts,
// sql/conditions.ts), names checked against the project like a chart's (catalog.ts).
import { sql, param, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import type { Catalog } from '../catalog';
import { groupTypeOf, isAnyEvent, parseEventDef } from '../definitions';
import { andAll, conditionSql } from '../sql/conditions';
import { newContext } from '../sql/source';

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

/** The event matcher built on the chart code: group properties as stamped at ingest (gpMode=event). */
export function chartEventMatcher(ch: ClickHouse, catalog?: Catalog): EventMatcher {
  return async ({ projectId, e, table, groupType, param: where }) => {
    const def = parseEventDef(where, JSON.stringify(e));
    if (catalog) {
      const types = def.filters.map((f) => groupTypeOf(f.prop)).filter((t): t is string => t !== undefined);
      await catalog.check(
        projectId,
        types.map((t) => ({ groupType: t, param: where })),
        def.filters.map((f) => ({ prop: f.prop, param: where })),
      );
    }
    const ctx = newContext({
      projectId,
      table: (name) => ch.table(name),
      // conditions do not read the range; only time filters and buckets do
      range: { startDay: '1970-01-01', endDay: '1970-01-01', tz: 'UTC', fromMs: 0, toMs: 0 },
      gpMode: 'event',
      source: table === 'events' ? { table: 'events' } : { table: 'event_groups', groupType },
    });
    const type = isAnyEvent(def.eventType) ? [] : [sql`event_type = ${param(def.eventType, 'String')}`];
    return andAll([...type, ...def.filters.map((f) => conditionSql(ctx, f))]);
  };
}
