// The query time limit covers every ClickHouse call, not only charts: here an account lookup and the cohort list
// read tables replaced by deliberately slow views (one row per block, sleeping on each), and with
// QUERY_TIMEOUT_MS=1000 both are answered 504 in the API's error shape while a fast request still succeeds.
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;

/** A view standing in for `table`: its rows come one per block, 0.5 s each (20 of them: far past the limit). */
async function slow(table: string, columns: string): Promise<void> {
  await ch.client.command({ query: `DROP TABLE ${ch.table(table)} SYNC` });
  await ch.client.command({
    query: `CREATE VIEW ${ch.table(table)} AS SELECT ${columns} FROM numbers(20) WHERE sleepEachRow(0.5) = 0 SETTINGS max_block_size = 1`,
  });
}

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch, { env: { QUERY_TIMEOUT_MS: '1000' } });
  const project = svc.projects[0]!.project_id;
  await ch.client.command({ query: `DROP VIEW ${ch.table('group_activity_mv')}` });
  await slow('group_activity', `toUInt32(${project}) AS project_id, 'company' AS group_type, toString(number) AS group_value`);
  await slow('cohorts', `toUInt32(${project}) AS project_id, toString(number) AS id, '' AS name, 'User' AS count_group, 'static' AS kind, '[]' AS definition,
    toUInt64(0) AS size, toUInt64(0) AS members_version, now64(3) AS created_at, now64(3) AS computed_at, toUInt8(0) AS deleted, number AS version`);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

describe('query time limit', () => {
  it.each([
    ['account group types (accounts store)', '/api/2/groups/types'],
    ['cohort list (cohorts store)', '/api/3/cohorts'],
  ])('answers 504 when %s runs past QUERY_TIMEOUT_MS', async (_name, path) => {
    const res = await svc.call(svc.projects[0]!, 'GET', path);
    expect(res.status).toBe(504);
    expect(res.body).toEqual({ error: { code: 'timeout', message: expect.stringContaining('QUERY_TIMEOUT_MS'), details: [] } });
  });

  it('still answers what is fast', async () => {
    const res = await svc.call(svc.projects[0]!, 'GET', '/api/3/dynamic-properties');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ properties: [] });
  });
});
