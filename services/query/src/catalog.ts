// What exists in a project: group types and property names. A chart naming a group type or property the project
// never had is a 400, not an empty chart. Answers that something exists are cached (it cannot stop existing);
// "does not exist" is asked again each time, so data that arrives later is seen at once.
import { sql, param, trusted, queryRows, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import { describeProp, type PropRef } from './definitions';
import { ApiError, type ErrorDetail } from './errors';

export interface NameUse {
  prop: PropRef;
  /** the request parameter that named it */
  param: string;
}

export class Catalog {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly ch: ClickHouse,
    private readonly settings: Record<string, unknown> = {},
    private readonly ttlMs = 10 * 60_000,
  ) {}

  private async exists(key: string, probes: Sql[]): Promise<boolean> {
    const until = this.known.get(key);
    if (until !== undefined && until > Date.now()) return true;
    for (const probe of probes) {
      const rows = await queryRows<{ one: number }>(this.ch, sql`SELECT 1 AS one FROM (${probe}) LIMIT 1`, this.settings);
      if (rows.length > 0) {
        if (this.known.size > 100_000) this.known.clear();
        this.known.set(key, Date.now() + this.ttlMs);
        return true;
      }
    }
    return false;
  }

  private t(name: string): Sql {
    return sql`${trusted(this.ch.table(name))}`;
  }

  groupTypeExists(projectId: number, groupType: string): Promise<boolean> {
    const p = param(projectId, 'UInt32');
    const g = param(groupType, 'String');
    return this.exists(JSON.stringify([projectId, 'gt', groupType]), [
      sql`SELECT 1 FROM ${this.t('event_groups')} WHERE project_id = ${p} AND group_type = ${g} LIMIT 1`,
      sql`SELECT 1 FROM ${this.t('groups')} WHERE project_id = ${p} AND group_type = ${g} LIMIT 1`,
    ]);
  }

  propExists(projectId: number, prop: PropRef): Promise<boolean> {
    const p = param(projectId, 'UInt32');
    switch (prop.kind) {
      case 'column':
      case 'context':
        return Promise.resolve(true);
      case 'groupValue':
        return this.groupTypeExists(projectId, prop.groupType);
      case 'event':
      case 'user': {
        const column = trusted(prop.kind === 'event' ? 'event_properties' : 'user_properties');
        return this.exists(JSON.stringify([projectId, prop.kind, prop.key]), [
          sql`SELECT 1 FROM ${this.t('events')} WHERE project_id = ${p} AND mapContains(${column}, ${param(prop.key, 'String')}) LIMIT 1`,
        ]);
      }
      case 'group': {
        const g = param(prop.groupType, 'String');
        const k = param(prop.key, 'String');
        return this.exists(JSON.stringify([projectId, 'gp', prop.groupType, prop.key]), [
          sql`SELECT 1 FROM ${this.t('group_property_history')} WHERE project_id = ${p} AND group_type = ${g} AND property = ${k} LIMIT 1`,
          sql`SELECT 1 FROM ${this.t('groups')} WHERE project_id = ${p} AND group_type = ${g} AND mapContains(properties, ${k}) LIMIT 1`,
          sql`SELECT 1 FROM ${this.t('event_groups')} WHERE project_id = ${p} AND group_type = ${g} AND mapContains(group_properties, ${k}) LIMIT 1`,
        ]);
      }
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
