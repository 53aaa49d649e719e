// Account lookup: group types, search, one account's page and its activity stream.
import type { Router } from 'express';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import { badParam, enumParam, handler, intParam, isoOrNull, notFound, queryString, type ApiError } from './http';
import { parseSearchQuery, SearchQueryError } from './search-query';
import { accountActivity, getAccount, knownGroupTypes, listGroupTypes, propertyExists, searchGroups, type GroupSummary } from './store';
import { projectOf } from '../auth';

export interface AccountRoutesDeps {
  ch: ClickHouse;
  logger: Logger;
  now?: () => number;
}

/** 400 unless `groupType` is a group type this project has. */
export async function requireGroupType(ch: ClickHouse, projectId: number, groupType: string, paramName: string): Promise<void> {
  const known = await knownGroupTypes(ch, projectId);
  if (!known.has(groupType)) {
    const err: ApiError = badParam(paramName, `unknown group type ${JSON.stringify(groupType)}; known: ${[...known].sort().join(', ') || '(none)'}`, 'unknown_group_type');
    throw err;
  }
}

const summaryJson = (g: GroupSummary) => ({
  group_type: g.group_type,
  group_value: g.group_value,
  properties: g.properties,
  first_seen: isoOrNull(g.first_seen),
  last_seen: isoOrNull(g.last_seen),
  last_updated: isoOrNull(g.updated_at),
});

export function registerAccountLookupRoutes(router: Router, deps: AccountRoutesDeps): void {
  const { ch } = deps;
  const log = deps.logger.child({ module: 'accounts' });
  const now = deps.now ?? Date.now;

  router.get(
    '/2/groups/types',
    handler(log, async (req, res) => {
      res.json({ types: await listGroupTypes(ch, projectOf(res).id) });
    }),
  );

  router.get(
    '/2/groups/search',
    handler(log, async (req, res) => {
      const project = projectOf(res);
      const groupType = queryString(req, 'group_type') || undefined;
      const limit = intParam(req, 'limit', 50, 1, 1000);
      const offset = intParam(req, 'offset', 0, 0, 1_000_000);
      let filter;
      try {
        filter = parseSearchQuery(queryString(req, 'q'));
      } catch (err) {
        if (err instanceof SearchQueryError) throw badParam('q', `q: ${err.message}`, 'invalid_search');
        throw err;
      }
      if (groupType !== undefined) await requireGroupType(ch, project.id, groupType, 'group_type');
      if (filter.kind === 'property' && !(await propertyExists(ch, project.id, filter.property, groupType))) {
        throw badParam('q', `unknown group property ${JSON.stringify(filter.property)}${groupType ? ` for group type ${JSON.stringify(groupType)}` : ''}`, 'unknown_property');
      }
      const matches = await searchGroups(ch, project.id, { groupType, filter, limit, offset, now: now() });
      res.json({ matches: matches.map(summaryJson) });
    }),
  );

  router.get(
    '/2/groups/:groupType/:groupValue',
    handler(log, async (req, res) => {
      const project = projectOf(res);
      const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
      const usersLimit = intParam(req, 'users_limit', 1000, 1, 100000);
      await requireGroupType(ch, project.id, groupType, 'group_type');
      const account = await getAccount(ch, project.id, groupType, groupValue, usersLimit);
      if (!account) throw notFound(`group ${groupType}=${groupValue}`);
      res.json({
        group: { ...summaryJson(account.group), num_events: account.group.num_events, num_users: account.group.num_users },
        users: account.users.map((u) => ({ user_id: u.user_id, device_id: u.device_id, last_seen: isoOrNull(u.last_seen) })),
      });
    }),
  );

  router.get(
    '/2/groups/:groupType/:groupValue/activity',
    handler(log, async (req, res) => {
      const project = projectOf(res);
      const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
      const limit = intParam(req, 'limit', 100, 1, 1000);
      const offset = intParam(req, 'offset', 0, 0, 10_000_000);
      const direction = enumParam(req, 'direction', ['latest', 'earliest'] as const, 'latest');
      await requireGroupType(ch, project.id, groupType, 'group_type');
      const events = await accountActivity(ch, project.id, groupType, groupValue, { limit, offset, direction });
      res.json({ events, direction, offset, limit });
    }),
  );
}
