// Who can be a member: the users or groups a project knows. Uploaded ids are matched against these sets, and a
// behavioral condition that zero events satisfy ("at most N times") admits every known one that did nothing.
import { sql, param, trusted, type Sql } from '@groupscope/clickhouse';
import type { TableRef } from '../sql/executor';

/** Every user (user_key: the user id, or '$device:<id>' for anonymous devices) with an event in the project;
 * `within` (a subquery of ids) narrows the scan to those ids. */
export function userUniverse(t: TableRef, projectId: number, within?: Sql): Sql {
  return sql`SELECT DISTINCT user_key AS member FROM ${trusted(t('events'))}
    WHERE project_id = ${param(projectId, 'UInt32')}${within ? sql` AND user_key IN ${within}` : sql``}`;
}

/** Every group of a type with activity (events) or properties (identifies). */
export function groupUniverse(t: TableRef, projectId: number, groupType: string, within?: Sql): Sql {
  const narrow = within ? sql` AND group_value IN ${within}` : sql``;
  const pid = param(projectId, 'UInt32');
  const type = param(groupType, 'String');
  return sql`SELECT DISTINCT member FROM (
      SELECT group_value AS member FROM ${trusted(t('group_activity'))} WHERE project_id = ${pid} AND group_type = ${type}${narrow}
      UNION ALL
      SELECT group_value AS member FROM ${trusted(t('groups'))} WHERE project_id = ${pid} AND group_type = ${type}${narrow})`;
}

export function universe(t: TableRef, projectId: number, countGroup: string, within?: Sql): Sql {
  return countGroup === 'User' ? userUniverse(t, projectId, within) : groupUniverse(t, projectId, countGroup, within);
}
