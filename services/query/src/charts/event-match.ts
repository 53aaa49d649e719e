// The charts' event matcher for cohorts and dynamic properties: an `{event_type, filters}` definition parsed and
// compiled by the chart code, names checked against the project like a chart's. Group properties are the ones
// stamped at ingest (gpMode=event).
import { sql, param } from '@groupscope/clickhouse';
import type { Catalog } from '../domain/catalog';
import { groupTypeOf, isAnyEvent } from '../domain/properties';
import { andAll, conditionSql } from '../sql/conditions';
import type { EventMatcher } from '../sql/event-match';
import type { TableRef } from '../sql/executor';
import { NO_RANGE, newContext } from '../sql/source';
import { parseEventDef } from './request';

/** Without a catalog, names are not checked (the SQL is the same). */
export function chartEventMatcher(table: TableRef, catalog?: Catalog): EventMatcher {
  return async ({ projectId, e, table: rows, groupType, param: where }) => {
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
      table,
      range: NO_RANGE,
      gpMode: 'event',
      source: rows === 'events' ? { table: 'events' } : { table: 'event_groups', groupType },
    });
    const type = isAnyEvent(def.eventType) ? [] : [sql`event_type = ${param(def.eventType, 'String')}`];
    return andAll([...type, ...def.filters.map((f) => conditionSql(ctx, f))]);
  };
}
