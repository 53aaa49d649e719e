// The account list and usage metrics (GET /api/2/groups/{type}/list, GET /api/2/groups/{type}/{value}/usage): every
// group of a type with its current properties and usage metrics, filtered, sorted, paged or exported as CSV; and one
// group's metrics with a daily series for sparklines. The metrics come from sql/usage.ts; the filters use the charts'
// property conditions and the cohorts' segment handler, both handed in by index.ts.
import { sql, param, type Sql } from '@groupscope/clickhouse';
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../domain/catalog';
import { addDays, parseDay } from '../domain/time';
import { projectOf } from '../http/auth';
import { ApiError, badParam, notFound } from '../http/errors';
import { handle } from '../http/handler';
import { intParam, single } from '../http/params';
import { isoOrNull, writeCsv } from '../http/reply';
import type { Db } from '../sql/executor';
import type { ConditionRegistry } from '../sql/segments';
import { dailyUsageQuery, groupsWithUsage, lastCompleteDay, usageNumbers, type GroupUsageRow } from '../sql/usage';
import type { PropertyConditionBuilder } from '../sql/event-match';
import { namedProperties, parseListRequest, type ListRequest } from './request';
import { countQuery, csvCells, csvHeader, listContext, listQuery, pageQuery, pageRowsQuery, toEntry, withMembersIn, type ListRow, type PageRow } from './store';

export interface AccountListDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  /** segment conditions handled elsewhere: the cohorts' */
  conditions: ConditionRegistry;
  /** the charts' property conditions */
  propertyCondition: PropertyConditionBuilder;
  /** what a cohort counts ('User' or a group type), undefined when the project has no such cohort */
  cohortUnit(projectId: number, id: string): Promise<string | undefined>;
  now?: () => number;
}

/** Most rows one CSV export holds. */
export const CSV_MAX_ROWS = 1_000_000;

export function accountListFeature(deps: AccountListDeps): { register(router: Router): void } {
  const { db, catalog } = deps;
  const log = deps.logger.child({ module: 'account_list' });
  const now = deps.now ?? Date.now;

  /** Cohort conditions as predicates over list rows: a cohort of the type by its members, a user cohort by its members' accounts. */
  async function cohortPredicates(projectId: number, r: ListRequest): Promise<Sql[]> {
    const ctx = listContext(db.table, projectId, r.groupType);
    const one = async (id: string, param: 'cohort' | 'exclude_cohort'): Promise<Sql> => {
      const unit = await deps.cohortUnit(projectId, id);
      if (unit !== undefined && unit !== 'User' && unit !== r.groupType) {
        throw badParam(param, `cohort ${JSON.stringify(id)} is a cohort of ${unit}; the list is of ${r.groupType}`, 'cohort_unit_mismatch');
      }
      const [compiled] = await deps.conditions.resolve([{ kind: 'ext', name: 'cohort', op: 'is', values: [id], param }], { db, projectId, countGroup: r.groupType });
      if (!compiled || compiled.kind !== 'compiled') throw new Error('the cohort handler gave no predicate');
      const test = compiled.compile(ctx);
      return unit === 'User' ? withMembersIn(ctx, test) : test;
    };
    const preds: Sql[] = [];
    if (r.cohorts.length > 0) {
      const any = await Promise.all(r.cohorts.map((id) => one(id, 'cohort')));
      preds.push(sql`(${any.reduce((a, b) => sql`${a} OR ${b}`)})`);
    }
    for (const id of r.excludeCohorts) preds.push(sql`NOT (${await one(id, 'exclude_cohort')})`);
    return preds;
  }

  /**
   * The filtered list's rows as ClickHouse sends them, for a CSV written while it is read (a whole list of 100k
   * groups is more than one JSON read may hold); refused (400) before the first row when the list holds more than
   * CSV_MAX_ROWS groups. `count` receives how many were read.
   */
  async function* exportRows(rows: AsyncIterable<ListRow[]>, count: (n: number) => void): AsyncGenerator<ListRow[]> {
    let n = 0;
    for await (const chunk of rows) {
      if (chunk.length === 0) continue;
      if (n === 0 && Number(chunk[0]!.total) > CSV_MAX_ROWS) {
        throw new ApiError(400, 'too_large', `the list holds more than ${CSV_MAX_ROWS} groups; narrow it with filters`, [{ param: 'filters' }]);
      }
      n += chunk.length;
      yield chunk;
    }
    count(n);
  }

  return {
    register(router) {
      router.get(
        '/2/groups/:groupType/list',
        handle(log, 'groups_list', async (req, res) => {
          const project = projectOf(res);
          const groupType = String(req.params.groupType);
          const r = parseListRequest(groupType, req.query, now(), deps.propertyCondition);
          await catalog.check(project.id, [{ groupType, param: 'group_type' }], namedProperties(r));
          const extra = await cohortPredicates(project.id, r);
          const ctx = listContext(db.table, project.id, groupType);
          if (r.format === 'csv') {
            let exported = 0;
            await writeCsv(res, {
              filename: `accounts-${groupType.replace(/[^A-Za-z0-9_-]+/g, '_')}.csv`,
              header: csvHeader(r),
              rows: exportRows(db.stream<ListRow>(listQuery(ctx, r, extra, { limit: CSV_MAX_ROWS, offset: 0 })), (n) => (exported = n)),
              line: (row) => csvCells(row, r),
            });
            log.info({ project_id: project.id, group_type: groupType, rows: exported }, 'groups_list_exported');
            return;
          }
          // the order over every group first, from only what it reads; then every column of the page's groups
          const page = await db.rows<PageRow>(pageQuery(ctx, r, extra, { limit: r.limit, offset: r.offset }));
          let total = page.length > 0 ? Number(page[0]!.total) : 0;
          if (page.length === 0 && r.offset > 0) total = Number((await db.rows<{ n: number }>(countQuery(ctx, r, extra)))[0]?.n ?? 0);
          const byValue = new Map<string, ListRow>();
          if (page.length > 0) {
            for (const row of await db.rows<ListRow>(pageRowsQuery(ctx, r, page))) byValue.set(row.group_value, row);
          }
          // a group whose data was deleted between the two reads is skipped
          const rows = page.flatMap((p) => byValue.get(p.group_value) ?? []);
          return {
            group_type: groupType,
            as_of: r.asOf,
            sort: { column: r.sort.kind === 'property' ? r.sort.key : r.sort.kind === 'group_value' ? 'group_value' : r.sort.name, order: r.order },
            total,
            limit: r.limit,
            offset: r.offset,
            groups: rows.map((row) => toEntry(row, r)),
          };
        }),
      );

      router.get(
        '/2/groups/:groupType/:groupValue/usage',
        handle(log, 'group_usage', async (req, res) => {
          const project = projectOf(res);
          const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
          const asOfRaw = single('as_of', req.query.as_of);
          const asOf = asOfRaw ? parseDay('as_of', asOfRaw) : lastCompleteDay(now());
          const days = intParam(req.query, 'days', 30, 7, 90);
          await catalog.requireGroupType(project.id, groupType, 'group_type');
          const [row] = await db.rows<GroupUsageRow>(groupsWithUsage(db.table, project.id, groupType, asOf, sql`group_value = ${param(groupValue, 'String')}`));
          if (!row) throw notFound(`group ${groupType}=${groupValue}`);
          const from = addDays(asOf, -(days - 1));
          const daily = await db.rows<{ d: string; events: number; users: number }>(dailyUsageQuery(db.table, project.id, groupType, groupValue, from, asOf));
          const byDay = new Map(daily.map((r) => [r.d, r]));
          const dayList = Array.from({ length: days }, (_, i) => addDays(from, i));
          return {
            group_type: groupType,
            group_value: groupValue,
            as_of: asOf,
            first_seen: isoOrNull(Number(row.first_seen)),
            last_seen: isoOrNull(Number(row.last_seen)),
            metrics: usageNumbers(row),
            daily: {
              days: dayList,
              active_users: dayList.map((d) => Number(byDay.get(d)?.users ?? 0)),
              events: dayList.map((d) => Number(byDay.get(d)?.events ?? 0)),
            },
          };
        }),
      );
    },
  };
}
