// A B2B data set generated inside ClickHouse (INSERT ... SELECT ... FROM numbers()), straight into `events` and
// `event_groups` in the shape the writer stores (the same columns, maps, *_json_keys and stamped group properties),
// so the query bench reaches 10M events in minutes instead of pushing every row through a client. Every value is a
// deterministic function of the row number: the same N gives the same data on every run.
// Shape (like @groupscope/datagen's): N/10 users, N/500 accounts ("company", a few large, many small), every user
// in one account and one of its workspaces, half of the events in one of the account's projects; 16 event types
// weighted like the datagen's; times spread over `days` days ending at `end`.
import { exec, param, queryRows, sql, tableRef, trusted, type ClickHouse } from '@groupscope/clickhouse';
import { COLUMNS } from '@groupscope/schema';

/** event types and their weights (per mille), as the datagen's product usage mixes them */
const EVENT_TYPES: [string, number][] = [
  ['Page Viewed', 329], ['Dashboard Viewed', 192], ['Search Performed', 116], ['Comment Added', 78], ['Report Created', 75],
  ['Report Exported', 68], ['File Uploaded', 60], ['Alert Configured', 27], ['Integration Connected', 21], ['Signed Up', 15],
  ['Project Created', 11], ['Teammate Invited', 5], ['Trial Started', 1], ['Invoice Sent', 1], ['Plan Upgraded', 1], ['Payment Received', 1],
];

export interface GenerateOptions {
  events: number;
  /** how many accounts ("company" groups) the users belong to; default events / 500 */
  accounts?: number;
  days: number;
  /** the end of the covered time, ms (exclusive) */
  end: number;
  projectId: number;
  /** events per INSERT (each is one statement over numbers(from, count), well within a request's timeout) */
  chunk?: number;
}

export interface Generated {
  events: number;
  users: number;
  accounts: number;
}

/** distinct salts: independent hashes of one row number */
const SALTS = ['0x9E3779B97F4A7C15', '0xBF58476D1CE4E5B9', '0x94D049BB133111EB', '0xD6E8FEB86659FD93', '0xA0761D6478BD642F', '0xE7037ED1A0B428DB', '0x8EBC6AF09C88C6E3', '0x589965CC75374CC3', '0x1D8E4E27C47D124F'];
/** a 64-bit hash of column `x` under salt `k`, deterministic */
const hashText = (x: string, k: number) => `intHash64(bitXor(toUInt64(${x}), ${SALTS[k - 1]}))`;
const h = (x: string, k: number) => trusted(hashText(x, k));

/** The properties of account number `a` (0-based): a map, and the same as JSON text (seats a number). */
const COMPANY_PROPS = trusted(`map('name', concat('Account ', toString(a + 1)), 'plan', ['free', 'pro', 'enterprise'][1 + ${hashText('a', 7)} % 3],
  'region', ['US', 'EU', 'APAC'][1 + ${hashText('a', 8)} % 3], 'industry', ['software', 'healthcare', 'finance', 'retail', 'manufacturing'][1 + a % 5],
  'seats', toString(1 + ${hashText('a', 9)} % 300))`);
const COMPANY_JSON = trusted(`concat('{"name":"', company_props['name'], '","plan":"', company_props['plan'], '","region":"', company_props['region'],
  '","industry":"', company_props['industry'], '","seats":', company_props['seats'], '}')`);

/** The event line of row `n` (the columns of the writer's event lines), as a subquery over numbers(from, count). */
function lines(o: GenerateOptions, users: number, accounts: number, from: number, count: number) {
  const start = o.end - o.days * 86_400_000;
  const types = EVENT_TYPES.map(([t]) => t);
  const cumulative = EVENT_TYPES.reduce<number[]>((acc, [, w]) => [...acc, (acc.at(-1) ?? 0) + w], []);
  const total = cumulative.at(-1)!;
  return sql`
    SELECT
      ${param(o.projectId, 'UInt32')} AS project_id,
      fromUnixTimestamp64Milli(toInt64(${param(start, 'Int64')} + ${h('n', 1)} % ${param(o.days * 86_400_000, 'UInt64')}), 'UTC') AS event_time,
      ${param(types, 'Array(String)')}[arrayFirstIndex(c -> c > ${h('n', 2)} % ${param(total, 'UInt32')}, ${param(cumulative, 'Array(UInt32)')})] AS event_type,
      reinterpretAsUUID(concat(reinterpretAsString(${h('n', 3)}), reinterpretAsString(toUInt64(n)))) AS uuid,
      concat('user-', toString(u + 1)) AS user_id,
      '' AS device_id,
      concat('gen-', toString(n)) AS insert_id,
      toInt64(-1) AS session_id,
      toInt64(-1) AS event_id,
      map('page', concat('/p/', toString(n % 50)), 'load_ms', toString(100 + n % 900)) AS event_properties,
      ['load_ms'] AS event_properties_json_keys,
      map('role', ['admin', 'member', 'member', 'member', 'viewer'][1 + u % 5], 'locale', ['en-US', 'en-GB', 'fr-FR', 'de-DE'][1 + u % 4], 'email_domain', concat(acct, '.example')) AS user_properties,
      CAST([], 'Array(String)') AS user_properties_json_keys,
      if(has_project, map('company', [acct], 'workspace', [ws], 'project', [proj]), map('company', [acct], 'workspace', [ws])) AS groups,
      concat('{"company":{"', acct, '":', company_json, '},"workspace":{"', ws, '":', ws_json, '}',
             if(has_project, concat(',"project":{"', proj, '":', proj_json, '}'), ''), '}') AS group_properties,
      map('platform', 'Web') AS context,
      CAST(NULL, 'Nullable(Float64)') AS revenue,
      CAST(NULL, 'Nullable(Float64)') AS price,
      CAST(NULL, 'Nullable(Int64)') AS quantity,
      CAST(NULL, 'Nullable(Float64)') AS location_lat,
      CAST(NULL, 'Nullable(Float64)') AS location_lng,
      '{}' AS extra,
      event_time AS receive_time,
      toUInt32(n % 4) AS kafka_partition,
      toUInt64(intDiv(n, 4)) AS kafka_offset,
      arrayConcat(
        [('company', acct, company_props, ['seats']), ('workspace', ws, map('name', ws_name, 'account', acct), CAST([], 'Array(String)'))],
        if(has_project, [('project', proj, map('name', concat('Project ', toString(p)), 'account', acct), CAST([], 'Array(String)'))], [])
      ) AS group_rows
    FROM (
      SELECT number AS n,
        ${h('n', 4)} % ${param(users, 'UInt64')} AS u,
        -- account sizes skewed like the datagen's: low account numbers hold most users
        toUInt64(floor(${param(accounts, 'UInt64')} * pow((${h('u', 5)} % 1000000) / 1000000, 2.5))) AS a,
        concat('acct-', toString(a + 1)) AS acct,
        concat(acct, '/ws-', toString(1 + u % 3)) AS ws,
        ['Sales', 'Marketing', 'Engineering'][1 + u % 3] AS ws_name,
        ${h('n', 6)} % 2 = 0 AS has_project,
        1 + n % 4 AS p,
        concat(acct, '/p-', toString(p)) AS proj,
        ${COMPANY_PROPS} AS company_props,
        ${COMPANY_JSON} AS company_json,
        concat('{"name":"', ws_name, '","account":"', acct, '"}') AS ws_json,
        concat('{"name":"Project ', toString(p), '","account":"', acct, '"}') AS proj_json
      FROM numbers(${param(from, 'UInt64')}, ${param(count, 'UInt64')})
    )`;
}

/** event_groups columns from an event line and one of its group_rows entries `g` (as the writer maps them). */
const EVENT_GROUPS_FROM_LINE: Record<string, string> = {
  group_type: 'g.1',
  group_value: 'g.2',
  group_properties: 'g.3',
  group_properties_json_keys: 'g.4',
  all_group_properties: 'group_properties',
};

// one part per chunk and partition (as the writer's large inserts make), not one per thread
const SETTINGS = { max_insert_threads: 2, max_threads: 2 };

/** Generates the data set into the migrated database of `ch`; returns its size. */
export async function generateEvents(ch: ClickHouse, o: GenerateOptions): Promise<Generated> {
  const users = Math.max(10, Math.floor(o.events / 10));
  const accounts = o.accounts ?? Math.max(8, Math.floor(o.events / 500));
  const chunk = o.chunk ?? 100_000;
  const eventCols = trusted(COLUMNS.events.join(', '));
  const groupCols = trusted(COLUMNS.event_groups.join(', '));
  const groupExprs = trusted(COLUMNS.event_groups.map((c) => EVENT_GROUPS_FROM_LINE[c] ?? c).join(', '));
  for (let from = 0; from < o.events; from += chunk) {
    const count = Math.min(chunk, o.events - from);
    const src = lines(o, users, accounts, from, count);
    await exec(ch, sql`INSERT INTO ${tableRef(ch, 'events')} (${eventCols}) SELECT ${eventCols} FROM (${src})`, SETTINGS);
    await exec(ch, sql`INSERT INTO ${tableRef(ch, 'event_groups')} (${groupCols}) SELECT ${groupExprs} FROM (${src}) ARRAY JOIN group_rows AS g`, SETTINGS);
  }
  const [row] = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM ${tableRef(ch, 'events')}`);
  return { events: Number(row?.n ?? 0), users, accounts };
}

/**
 * The current properties of every account of `generateEvents` (the `groups` rows a group identify of each would
 * leave), including the accounts none of the users happen to belong to: an account list shows those too.
 */
export async function generateAccounts(ch: ClickHouse, o: { projectId: number; accounts: number; at: number }): Promise<void> {
  const cols = trusted(COLUMNS.groups.join(', '));
  await exec(
    ch,
    sql`INSERT INTO ${tableRef(ch, 'groups')} (${cols})
      SELECT ${param(o.projectId, 'UInt32')} AS project_id, 'company' AS group_type, concat('acct-', toString(a + 1)) AS group_value,
        company_props AS properties, company_json AS properties_json, at AS updated_at, at AS first_identified,
        toUInt32(0) AS kafka_partition, toUInt64(a) AS kafka_offset
      FROM (SELECT number AS a, ${COMPANY_PROPS} AS company_props, ${COMPANY_JSON} AS company_json,
              fromUnixTimestamp64Milli(toInt64(${param(o.at, 'Int64')}), 'UTC') AS at
            FROM numbers(${param(o.accounts, 'UInt64')}))`,
    SETTINGS,
  );
}
