// What exists in a project: group types and property names. A chart naming a group type or property the project
// never had is a 400, not an empty chart. Answers that something exists are cached (it cannot stop existing);
// "does not exist" is asked again each time, so data that arrives later is seen at once.
import { sql, param, trusted, type Sql } from '@groupscope/clickhouse';
import { ApiError, badParam, type ErrorDetail } from '../http/errors';
import type { Db, TableRef } from '../sql/executor';
import { describeProp, type PropRef } from './properties';

export interface NameUse {
  prop: PropRef;
  /** the request parameter that named it */
  param: string;
}

/** Queries that find a row when the group type exists in the project. */
export function groupTypeProbes(table: TableRef, projectId: number, groupType: string): Sql[] {
  const p = param(projectId, 'UInt32');
  const g = param(groupType, 'String');
  return [
    sql`SELECT 1 FROM ${trusted(table('event_groups'))} WHERE project_id = ${p} AND group_type = ${g} LIMIT 1`,
    sql`SELECT 1 FROM ${trusted(table('groups'))} WHERE project_id = ${p} AND group_type = ${g} LIMIT 1`,
  ];
}

/** Queries that find a row when the project has data with the property (none needed for built-in ones). */
export function propertyProbes(table: TableRef, projectId: number, prop: PropRef): Sql[] {
  const p = param(projectId, 'UInt32');
  switch (prop.kind) {
    case 'column':
    case 'context':
    case 'eventColumn':
      return [];
    case 'groupValue':
      return groupTypeProbes(table, projectId, prop.groupType);
    case 'event':
    case 'user': {
      const column = trusted(prop.kind === 'event' ? 'event_properties' : 'user_properties');
      return [sql`SELECT 1 FROM ${trusted(table('events'))} WHERE project_id = ${p} AND mapContains(${column}, ${param(prop.key, 'String')}) LIMIT 1`];
    }
    case 'group': {
      const g = param(prop.groupType, 'String');
      const k = param(prop.key, 'String');
      return [
        sql`SELECT 1 FROM ${trusted(table('group_property_history'))} WHERE project_id = ${p} AND group_type = ${g} AND property = ${k} LIMIT 1`,
        sql`SELECT 1 FROM ${trusted(table('groups'))} WHERE project_id = ${p} AND group_type = ${g} AND mapContains(properties, ${k}) LIMIT 1`,
        sql`SELECT 1 FROM ${trusted(table('event_groups'))} WHERE project_id = ${p} AND group_type = ${g} AND mapContains(group_properties, ${k}) LIMIT 1`,
      ];
    }
  }
}

/** The group types a project has (cheap: reads only the low-cardinality group_type column). */
export function knownGroupTypesQuery(table: TableRef, projectId: number): Sql {
  const pid = param(projectId, 'UInt32');
  return sql`SELECT DISTINCT group_type FROM ${trusted(table('group_activity'))} WHERE project_id = ${pid}
    UNION DISTINCT
    SELECT DISTINCT group_type FROM ${trusted(table('groups'))} WHERE project_id = ${pid}`;
}

export class Catalog {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  private async exists(key: string, probes: Sql[]): Promise<boolean> {
    if (probes.length === 0) return true;
    const until = this.known.get(key);
    if (until !== undefined && until > Date.now()) return true;
    for (const probe of probes) {
      const rows = await this.db.rows<{ one: number }>(sql`SELECT 1 AS one FROM (${probe}) LIMIT 1`);
      if (rows.length > 0) {
        if (this.known.size > 100_000) this.known.clear();
        this.known.set(key, Date.now() + this.ttlMs);
        return true;
      }
    }
    return false;
  }

  groupTypeExists(projectId: number, groupType: string): Promise<boolean> {
    return this.exists(JSON.stringify([projectId, 'gt', groupType]), groupTypeProbes(this.db.table, projectId, groupType));
  }

  propExists(projectId: number, prop: PropRef): Promise<boolean> {
    return this.exists(JSON.stringify([projectId, prop]), propertyProbes(this.db.table, projectId, prop));
  }

  /**
   * A 400 naming `paramName` unless `groupType` is a group type this project has (the charts' test, so a type is
   * known to every route at the same moment); the reply lists the known ones.
   */
  async requireGroupType(projectId: number, groupType: string, paramName: string): Promise<void> {
    if (await this.groupTypeExists(projectId, groupType)) return;
    const known = new Set((await this.db.rows<{ group_type: string }>(knownGroupTypesQuery(this.db.table, projectId))).map((r) => r.group_type));
    if (!known.has(groupType)) {
      throw badParam(paramName, `unknown group type ${JSON.stringify(groupType)}; known: ${[...known].sort().join(', ') || '(none)'}`, 'unknown_group_type');
    }
  }

  /**
   * Checks every group type and property a chart names; throws one 400 listing all unknown ones (group types
   * first: a property of an unknown group type is reported as the group type).
   */
  async check(projectId: number, groupTypes: { groupType: string; param: string }[], props: NameUse[]): Promise<void> {
    const types = new Map<string, string>();
    for (const g of groupTypes) if (!types.has(g.groupType)) types.set(g.groupType, g.param);
    for (const u of props) {
      if ((u.prop.kind === 'group' || u.prop.kind === 'groupValue') && !types.has(u.prop.groupType)) types.set(u.prop.groupType, u.param);
    }
    const typeResults = await Promise.all([...types].map(async ([groupType, p]) => ({ groupType, param: p, ok: await this.groupTypeExists(projectId, groupType) })));
    const badTypes = typeResults.filter((r) => !r.ok);
    if (badTypes.length > 0) {
      const first = badTypes[0]!;
      throw new ApiError(
        400,
        'unknown_group_type',
        `unknown group type "${first.groupType}" (in ${first.param}): this project has no group of that type`,
        badTypes.map((b): ErrorDetail => ({ param: b.param, group_type: b.groupType })),
      );
    }
    const seen = new Set<string>();
    const unique = props.filter((u) => {
      const k = JSON.stringify(u.prop);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const results = await Promise.all(unique.map(async (u) => ({ ...u, ok: await this.propExists(projectId, u.prop) })));
    const bad = results.filter((r) => !r.ok);
    if (bad.length > 0) {
      const first = bad[0]!;
      throw new ApiError(
        400,
        'unknown_property',
        `unknown ${describeProp(first.prop)} (in ${first.param}): no data of this project has it`,
        bad.map((b): ErrorDetail => ({ param: b.param, property: describeProp(b.prop) })),
      );
    }
  }
}
