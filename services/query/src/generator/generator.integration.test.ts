// The generator's direct ClickHouse sink, and the funnel chart checked against ClickHouse's own windowFunnel on
// the generated data (ordered mode, by user and by account).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryRows, sql, trusted } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { loadQueryConfig, startQuery } from '../index';
import { dataSet, toClickHouse, type Counts } from './index';

let ch: TestClickHouse;
let service: { url: string; stop(): Promise<void> };
let keys: NewKeys;
let counts: Counts;
const END = Date.UTC(2025, 10, 1);

beforeAll(async () => {
  ch = await testClickHouse();
  const registry = new ProjectRegistry(join(mkdtempSync(join(tmpdir(), 'gs-gen-')), 'projects.json'));
  keys = registry.create('generated');
  counts = await toClickHouse(ch, dataSet({ events: 30_000, days: 14, end: END, seed: 9 }).records(), { projectId: keys.project_id, batchEvents: 8_000 });
  const config = loadQueryConfig({ QUERY_PORT: '0', QUERY_MIGRATE: 'false' } as NodeJS.ProcessEnv);
  service = await startQuery({ config, logger: silentLogger, ch, registry });
});

afterAll(async () => {
  await service?.stop();
  await ch?.cleanup();
});

const rows = <T>(text: string) => queryRows<T>(ch, sql`${trusted(text.replaceAll('{db}', `\`${ch.database}\``))}`);

it('stores every event once, expanded into one event_groups row per group, with stamped properties', async () => {
  const [e] = await rows<{ n: number; u: number }>('SELECT count() AS n, uniqExact(uuid) AS u FROM {db}.events');
  expect(e).toEqual({ n: counts.events, u: counts.events });
  const [g] = await rows<{ n: number; expected: number; plans: number }>(
    `SELECT (SELECT count() FROM {db}.event_groups) AS n,
            (SELECT sum(length(arrayFlatten(mapValues(groups)))) FROM {db}.events) AS expected,
            (SELECT countIf(group_properties['plan'] != '') FROM {db}.event_groups WHERE group_type = 'company') AS plans`,
  );
  expect(g!.n).toBe(g!.expected);
  expect(g!.plans).toBeGreaterThan(0);
  const [h] = await rows<{ upgrades: number }>(`SELECT count() AS upgrades FROM {db}.group_property_history WHERE property = 'plan' AND value IN ('pro', 'enterprise')`);
  expect(h!.upgrades).toBeGreaterThan(0);
});

it.each([
  ['users', '', 'events', 'user_key', ''],
  ['accounts', 'company', 'event_groups', 'group_value', " AND group_type = 'company'"],
])('funnel by %s equals windowFunnel on the same data', async (_name, countGroup, table, unit, extra) => {
  const steps = ['Dashboard Viewed', 'Report Created', 'Report Exported'];
  const windowS = 3 * 86_400;
  const qs = new URLSearchParams({ start: '20251018', end: '20251031', cs: String(windowS), ...(countGroup ? { countGroup } : {}) });
  for (const s of steps) qs.append('e', JSON.stringify({ event_type: s }));
  const res = await fetch(`${service.url}/api/2/funnels?${qs}`, { headers: { authorization: `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}` } });
  const body = (await res.json()) as { data: { cumulativeRaw: number[] }[] };
  expect(res.status).toBe(200);
  const levels = await rows<{ level: number; n: number }>(`
    SELECT level, count() AS n FROM (
      SELECT ${unit}, windowFunnel(${windowS * 1000})(toUInt64(toUnixTimestamp64Milli(event_time)), ${steps.map((s) => `event_type = '${s}'`).join(', ')}) AS level
      FROM {db}.${table} WHERE project_id = ${keys.project_id}${extra} AND event_time >= '2025-10-18' AND event_time < '2025-11-01'
        AND event_type IN (${steps.map((s) => `'${s}'`).join(', ')})
      GROUP BY ${unit}) WHERE level > 0 GROUP BY level`);
  const reached = (k: number) => levels.filter((l) => Number(l.level) >= k).reduce((a, l) => a + Number(l.n), 0);
  expect(body.data[0]!.cumulativeRaw).toEqual([reached(1), reached(2), reached(3)]);
  expect(reached(3)).toBeGreaterThan(0);
});
