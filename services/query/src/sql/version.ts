// Tables where the newest version of a key wins (cohorts, cohort memberships, dynamic properties, health scores,
// Salesforce mappings): the versions, which grow with the clock (microseconds) and never repeat within a process (the
// random low digits keep two replicas from colliding; below 2^53), and reading the newest version back.
import { sql, trusted, type Sql } from '@groupscope/clickhouse';
import type { TableRef } from './executor';

let lastVersion = 0;

export function nextVersion(now = Date.now()): number {
  const v = Math.max(now * 1000 + Math.floor(Math.random() * 1000), lastVersion + 1);
  lastVersion = v;
  return v;
}

/** How a column of a versioned row is read back: as stored, as epoch milliseconds (a DateTime64), or as text (a Date). */
export type VersionedColumn = string | { millis: string } | { text: string };

const COLUMN = /^[a-z_][a-z0-9_]*$/;

function column(name: string): string {
  if (!COLUMN.test(name)) throw new Error(`invalid column name: ${name}`);
  return name;
}

function newest(c: VersionedColumn): string {
  if (typeof c === 'string') return `argMax(${column(c)}, version) AS ${c}`;
  if ('millis' in c) return `toUnixTimestamp64Milli(argMax(${column(c.millis)}, version)) AS ${c.millis}`;
  return `toString(argMax(${column(c.text)}, version)) AS ${c.text}`;
}

/**
 * The newest version of every row of a versioned table that `where` selects (its `key` columns, then `columns` as of
 * that version), deleted ones left out. argMax over versions instead of FINAL: the same answer, and it reads only the
 * key range asked for.
 */
export function latestVersions(
  t: TableRef,
  table: string,
  o: { key: readonly string[]; columns: readonly VersionedColumn[]; where: Sql; orderBy?: readonly string[] },
): Sql {
  const key = o.key.map(column).join(', ');
  const select = [key, ...o.columns.map(newest), 'argMax(deleted, version) AS is_deleted'].join(', ');
  const order = o.orderBy ? ` ORDER BY ${o.orderBy.map(column).join(', ')}` : '';
  return sql`SELECT ${trusted(select)} FROM ${trusted(t(table))} WHERE ${o.where} GROUP BY ${trusted(key)} HAVING is_deleted = 0${trusted(order)}`;
}
