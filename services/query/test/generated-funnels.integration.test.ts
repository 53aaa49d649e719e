// The funnel chart checked against ClickHouse's own windowFunnel on a generated B2B data set (ordered mode, by user
// and by account), loaded straight into ClickHouse by the data generator (@groupscope/datagen).
import { queryRows, sql, trusted } from '@groupscope/clickhouse';
import { dataSet, toClickHouse } from '@groupscope/datagen';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let keys: NewKeys;
const END = Date.UTC(2025, 10, 1);

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch);
  keys = svc.projects[0]!;
  await toClickHouse(ch, dataSet({ events: 30_000, days: 14, end: END, seed: 9 }).records(), { projectId: keys.project_id, batchEvents: 8_000 });
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const rows = <T>(text: string) => queryRows<T>(ch, sql`${trusted(text.replaceAll('{db}', `\`${ch.database}\``))}`);

it.each([
  ['users', '', 'events', 'user_key', ''],
  ['accounts', 'company', 'event_groups', 'group_value', " AND group_type = 'company'"],
])('funnel by %s equals windowFunnel on the same data', async (_name, countGroup, table, unit, extra) => {
  const steps = ['Dashboard Viewed', 'Report Created', 'Report Exported'];
  const windowS = 3 * 86_400;
  const qs = new URLSearchParams({ start: '20251018', end: '20251031', cs: String(windowS), ...(countGroup ? { countGroup } : {}) });
  for (const s of steps) qs.append('e', JSON.stringify({ event_type: s }));
  const res = await svc.call(keys, 'GET', `/api/2/funnels?${qs}`);
  expect(res.status).toBe(200);
  const levels = await rows<{ level: number; n: number }>(`
    SELECT level, count() AS n FROM (
      SELECT ${unit}, windowFunnel(${windowS * 1000})(toUInt64(toUnixTimestamp64Milli(event_time)), ${steps.map((s) => `event_type = '${s}'`).join(', ')}) AS level
      FROM {db}.${table} WHERE project_id = ${keys.project_id}${extra} AND event_time >= '2025-10-18' AND event_time < '2025-11-01'
        AND event_type IN (${steps.map((s) => `'${s}'`).join(', ')})
      GROUP BY ${unit}) WHERE level > 0 GROUP BY level`);
  const reached = (k: number) => levels.filter((l) => Number(l.level) >= k).reduce((a, l) => a + Number(l.n), 0);
  expect((res.body as { data: { cumulativeRaw: number[] }[] }).data[0]!.cumulativeRaw).toEqual([reached(1), reached(2), reached(3)]);
  expect(reached(3)).toBeGreaterThan(0);
});
