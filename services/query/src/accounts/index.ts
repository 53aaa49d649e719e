// Accounts: group types, search, one account's page, its property history and its activity stream
// (GET /api/2/groups/...).
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../domain/catalog';
import { projectOf } from '../http/auth';
import { badParam, notFound } from '../http/errors';
import { handle } from '../http/handler';
import { enumParam, intParam, offsetParam, single } from '../http/params';
import { isoOrNull } from '../http/reply';
import type { Db } from '../sql/executor';
import { parseSearchQuery, SearchQueryError, type SearchQuery } from './search-query';
import {
  accountQueries, activityQuery, groupTypesQuery, historyQuery, propertyExistsQuery, propertySourcesQuery, searchQuery, toAccount, toActivity, toGroupTypeCount,
  toHistory, toPropertySources, toSummary, type ActivityRow, type GroupRow, type GroupSummary, type HistoryRow, type SearchMatchRow,
} from './store';

export interface AccountsDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  now?: () => number;
}

const summaryJson = (g: GroupSummary) => ({
  group_type: g.group_type,
  group_value: g.group_value,
  properties: g.properties,
  first_seen: isoOrNull(g.first_seen),
  last_seen: isoOrNull(g.last_seen),
  last_updated: isoOrNull(g.updated_at),
});

/** deepest offset pages: beyond, the activity pages by cursor and a search is narrowed */
const MAX_ACTIVITY_OFFSET = 10_000;
const MAX_SEARCH_OFFSET = 10_000;

/** An activity cursor, `<time ms>_<uuid>` of the last event of the previous page. */
function parseCursor(raw: string | undefined): { time: number; uuid: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const m = /^(\d{1,15})_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/.exec(raw);
  if (!m) throw badParam('cursor', 'cursor must be a next_cursor of an earlier page', 'invalid_cursor');
  return { time: Number(m[1]), uuid: m[2]!.toLowerCase() };
}

export function accountsFeature(deps: AccountsDeps): { register(router: Router): void } {
  const { db, catalog } = deps;
  const log = deps.logger.child({ module: 'accounts' });
  const now = deps.now ?? Date.now;

  return {
    register(router) {
      router.get(
        '/2/groups/types',
        handle(log, 'groups_types', async (_req, res) => ({
          types: (await db.rows<{ group_type: string; groups: number }>(groupTypesQuery(db.table, projectOf(res).id))).map(toGroupTypeCount),
        })),
      );

      router.get(
        '/2/groups/search',
        handle(log, 'groups_search', async (req, res) => {
          const project = projectOf(res);
          const groupType = single('group_type', req.query.group_type) || undefined;
          const limit = intParam(req.query, 'limit', 50, 1, 1000);
          const offset = offsetParam(req.query, MAX_SEARCH_OFFSET, 'narrow the search (q, group_type) instead');
          let filter: SearchQuery;
          try {
            filter = parseSearchQuery(single('q', req.query.q));
          } catch (err) {
            if (err instanceof SearchQueryError) throw badParam('q', `q: ${err.message}`, 'invalid_search');
            throw err;
          }
          if (groupType !== undefined) await catalog.requireGroupType(project.id, groupType, 'group_type');
          if (filter.kind === 'property' && (await db.rows(propertyExistsQuery(db.table, project.id, filter.property, groupType))).length === 0) {
            throw badParam('q', `unknown group property ${JSON.stringify(filter.property)}${groupType ? ` for group type ${JSON.stringify(groupType)}` : ''}`, 'unknown_property');
          }
          const matches = await db.rows<SearchMatchRow>(searchQuery(db.table, project.id, { groupType, filter, limit, offset, now: now() }));
          return { matches: matches.map((r) => ({ ...summaryJson(toSummary(r)), num_users: Number(r.num_users) })) };
        }),
      );

      router.get(
        '/2/groups/:groupType/:groupValue',
        handle(log, 'group', async (req, res) => {
          const project = projectOf(res);
          const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
          const usersLimit = intParam(req.query, 'users_limit', 1000, 1, 100000);
          await catalog.requireGroupType(project.id, groupType, 'group_type');
          const q = accountQueries(db.table, project.id, groupType, groupValue, usersLimit);
          const [group] = await db.rows<GroupRow>(q.group);
          if (!group) throw notFound(`group ${groupType}=${groupValue}`);
          const [counts, users, sources] = await Promise.all([
            db.rows<{ num_events: number; num_users: number }>(q.counts),
            db.rows<{ user_id: string; device_id: string; last_seen: number }>(q.users),
            db.rows<{ property: string; source: string; set_at: number; removed: number }>(propertySourcesQuery(db.table, project.id, groupType, groupValue)),
          ]);
          const account = toAccount(group, counts[0], users);
          // who set each current property (a Group Identify, a dynamic property, the Salesforce sync) and when
          const propertySources = Object.fromEntries(
            Object.entries(toPropertySources(sources))
              .filter(([name]) => name in account.group.properties)
              .map(([name, s]) => [name, { source: s.source || null, set_at: isoOrNull(s.set_at) }]),
          );
          return {
            group: { ...summaryJson(account.group), num_events: account.group.num_events, num_users: account.group.num_users, property_sources: propertySources },
            users: account.users.map((u) => ({ user_id: u.user_id, device_id: u.device_id, last_seen: isoOrNull(u.last_seen) })),
          };
        }),
      );

      router.get(
        '/2/groups/:groupType/:groupValue/history',
        handle(log, 'group_history', async (req, res) => {
          const project = projectOf(res);
          const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
          const property = single('property', req.query.property) || undefined;
          const limit = intParam(req.query, 'limit', 100, 1, 1000);
          const offset = intParam(req.query, 'offset', 0, 0, 10_000_000);
          await catalog.requireGroupType(project.id, groupType, 'group_type');
          const rows = await db.rows<HistoryRow>(historyQuery(db.table, project.id, groupType, groupValue, { property, limit, offset }));
          return { history: rows.map(toHistory), limit, offset };
        }),
      );

      router.get(
        '/2/groups/:groupType/:groupValue/activity',
        handle(log, 'group_activity', async (req, res) => {
          const project = projectOf(res);
          const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
          const limit = intParam(req.query, 'limit', 100, 1, 1000);
          const offset = offsetParam(req.query, MAX_ACTIVITY_OFFSET, 'page with cursor (the previous page\'s next_cursor)');
          const direction = enumParam(req.query, 'direction', ['latest', 'earliest'] as const, 'latest');
          const cursor = parseCursor(single('cursor', req.query.cursor));
          await catalog.requireGroupType(project.id, groupType, 'group_type');
          const rows = await db.rows<ActivityRow>(activityQuery(db.table, project.id, groupType, groupValue, { limit, offset, direction, after: cursor }));
          const last = rows[rows.length - 1];
          // keyset paging: the next page starts after this page's last event, however deep it is
          const next_cursor = rows.length === limit && last ? `${Number(last.time)}_${last.uuid}` : null;
          return { events: rows.map((r) => toActivity(r, groupType, groupValue)), direction, offset, limit, next_cursor };
        }),
      );
    },
  };
}
