// The query limits that keep one request from hurting the others: a result larger than QUERY_MAX_RESULT_ROWS is a
// 413 naming the limit (a CSV export of the same streams instead), a query over QUERY_MAX_MEMORY_BYTES a 422, a
// client that goes away has its statement killed in ClickHouse, a project over its concurrency cap gets 429 with
// Retry-After while another project is served, and deep pages are refused with a way to page further.
import { param, queryRows, sql } from '@groupscope/clickhouse';
import { insertEvents, testClickHouse, waitFor, type TestClickHouse, type TestEvent } from '@groupscope/testing';
import { startTestService, type TestService } from './service';

jest.setTimeout(180_000);

let ch: TestClickHouse;
const services: TestService[] = [];
const start = async (env: Record<string, string>) => {
  const s = await startTestService(ch, { env });
  services.push(s);
  return s;
};

const DAY0 = Date.UTC(2026, 0, 5, 12);
const USERS = 300;

beforeAll(async () => {
  ch = await testClickHouse();
  const events: TestEvent[] = [];
  // project ids of startTestService's registries are 1 and 2
  for (let i = 0; i < USERS; i++) {
    events.push({ project: 1, time: DAY0 + i * 1000, type: 'Signed Up', user: `user-${String(i).padStart(4, '0')}`, groups: { company: { acme: {} } } });
  }
  await insertEvents(ch, events);
});

afterAll(async () => {
  for (const s of services) await s.stop();
  await ch?.cleanup();
});

const microscope = (extra = '') =>
  `/api/2/microscope?chart=segmentation&e=${encodeURIComponent(JSON.stringify({ event_type: 'Signed Up' }))}&start=20260105&end=20260105&x=2026-01-05${extra}`;

describe('result size', () => {
  it('refuses a JSON result over QUERY_MAX_RESULT_ROWS with a 413 naming the limit; the CSV export streams it all', async () => {
    const svc = await start({ QUERY_MAX_RESULT_ROWS: '50' });
    const A = svc.projects[0]!;
    const json = await svc.call(A, 'GET', microscope('&limit=1000'));
    expect(json.status).toBe(413);
    expect(json.body).toEqual({
      error: { code: 'result_too_large', message: expect.stringContaining('QUERY_MAX_RESULT_ROWS'), details: [{ limit: 'QUERY_MAX_RESULT_ROWS', max: 50 }] },
    });
    const small = await svc.call(A, 'GET', microscope('&limit=20'));
    expect(small.status).toBe(200);
    expect(small.body.members).toHaveLength(20);
    const csv = await svc.call(A, 'GET', microscope('&format=csv'));
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,first_time');
    expect(lines.slice(1)).toEqual(Array.from({ length: USERS }, (_, i) => `user-${String(i).padStart(4, '0')},${new Date(DAY0 + i * 1000).toISOString()}`));
  });
});

describe('memory', () => {
  it('answers 422 naming QUERY_MAX_MEMORY_BYTES when a query needs more', async () => {
    // its own database: the cohort list reads a view that gathers 5 million numbers into one array (40 MB)
    const own = await testClickHouse();
    try {
      await own.client.command({ query: `DROP TABLE ${own.table('cohorts')} SYNC` });
      await own.client.command({
        query: `CREATE VIEW ${own.table('cohorts')} AS SELECT toUInt32(1) AS project_id, toString(length(groupArray(number))) AS id, '' AS name,
          'User' AS count_group, 'static' AS kind, '[]' AS definition, toUInt64(0) AS size, toUInt64(0) AS members_version, now64(3) AS created_at,
          now64(3) AS computed_at, toUInt8(0) AS deleted, toUInt64(1) AS version FROM numbers(5000000)`,
      });
      const svc = await startTestService(own, { env: { QUERY_MAX_MEMORY_BYTES: String(16 * 1024 * 1024) } });
      services.push(svc);
      const res = await svc.call(svc.projects[0]!, 'GET', '/api/3/cohorts');
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'memory_limit', message: expect.stringContaining('QUERY_MAX_MEMORY_BYTES') });
      // the same statement within the limit
      const roomy = await startTestService(own, { env: { QUERY_MAX_MEMORY_BYTES: String(2 * 1024 ** 3) } });
      services.push(roomy);
      expect((await roomy.call(roomy.projects[0]!, 'GET', '/api/3/cohorts')).status).toBe(200);
    } finally {
      await own.cleanup();
    }
  });
});

describe('paging', () => {
  it('refuses deep offsets with a 400 that says how to page further, and pages the activity by cursor', async () => {
    const svc = await start({});
    const A = svc.projects[0]!;
    const deep = await svc.call(A, 'GET', '/api/2/groups/company/acme/activity?offset=20000');
    expect(deep.status).toBe(400);
    expect(deep.body.error).toMatchObject({ code: 'offset_too_large', message: expect.stringContaining('cursor'), details: [{ param: 'offset', max: 10_000 }] });
    expect((await svc.call(A, 'GET', '/api/2/groups/search?offset=20000')).body.error.code).toBe('offset_too_large');
    expect((await svc.call(A, 'GET', '/api/2/groups/company/acme/activity?cursor=nope')).body.error.code).toBe('invalid_cursor');

    for (const direction of ['latest', 'earliest']) {
      const seen: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page = await svc.call(A, 'GET', `/api/2/groups/company/acme/activity?direction=${direction}&limit=70${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.events.map((e: { user_id: string }) => e.user_id));
        cursor = page.body.next_cursor;
      }
      const all = Array.from({ length: USERS }, (_, i) => `user-${String(i).padStart(4, '0')}`);
      expect(seen).toEqual(direction === 'latest' ? all.reverse() : all);
    }
  });
});

describe('slow queries', () => {
  let svc: TestService;

  beforeAll(async () => {
    // the group types read a view that yields one row per 0.5 s: 240 of them, two minutes unless something stops it
    const ga = ch.table('group_activity');
    await ch.client.command({ query: `DROP VIEW IF EXISTS ${ch.table('group_activity_mv')}` });
    await ch.client.command({ query: `DROP TABLE ${ga} SYNC` });
    await ch.client.command({
      query: `CREATE VIEW ${ga} AS SELECT toUInt32(1) AS project_id, 'company' AS group_type, toString(number) AS group_value
              FROM numbers(240) WHERE sleepEachRow(0.5) = 0 SETTINGS max_block_size = 1`,
    });
    svc = await start({ QUERY_TIMEOUT_MS: '150000', QUERY_MAX_CONCURRENT_PER_PROJECT: '1', QUERY_MAX_QUEUED_PER_PROJECT: '0', QUERY_MAX_CONCURRENT: '4' });
  });

  /** statements of this test's database that read the slow view */
  const running = async () =>
    (
      await queryRows<{ n: number }>(
        ch,
        sql`SELECT count() AS n FROM system.processes WHERE query LIKE ${param(`%${ch.database}%group_activity%`, 'String')} AND query NOT LIKE '%system.processes%'`,
      )
    )[0]!.n;

  it('kills the statement in ClickHouse when the client goes away', async () => {
    const abort = new AbortController();
    const A = svc.projects[0]!;
    const req = fetch(`${svc.url}/api/2/groups/types`, {
      signal: abort.signal,
      headers: { authorization: 'Basic ' + Buffer.from(`${A.api_key}:${A.secret_key}`).toString('base64') },
    }).catch(() => 'aborted');
    await waitFor(async () => Number(await running()) === 1, { timeoutMs: 30_000, message: 'the slow statement runs' });
    abort.abort();
    expect(await req).toBe('aborted');
    // without the kill it would run for two minutes
    await waitFor(async () => Number(await running()) === 0, { timeoutMs: 30_000, message: 'the statement was killed' });
  });

  it('answers 429 with Retry-After beyond a project\'s cap, while another project is served', async () => {
    const [A, B] = svc.projects as [typeof svc.projects[0] & object, typeof svc.projects[0] & object];
    const abort = new AbortController();
    const first = fetch(`${svc.url}/api/2/groups/types`, {
      signal: abort.signal,
      headers: { authorization: 'Basic ' + Buffer.from(`${A.api_key}:${A.secret_key}`).toString('base64') },
    }).catch(() => 'aborted');
    try {
      await waitFor(async () => Number(await running()) === 1, { timeoutMs: 30_000, message: 'the first request runs' });
      const second = await svc.call(A, 'GET', '/api/3/cohorts');
      expect(second.status).toBe(429);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(second.body.error).toMatchObject({ code: 'too_many_queries', details: [{ limit: 'QUERY_MAX_CONCURRENT_PER_PROJECT' }] });
      const other = await svc.call(B, 'GET', '/api/3/cohorts');
      expect(other.status).toBe(200);
    } finally {
      abort.abort();
      await first;
    }
    await waitFor(async () => Number(await running()) === 0, { timeoutMs: 30_000, message: 'the first request was cancelled' });
    // the slot is free again
    expect((await svc.call(A, 'GET', '/api/3/cohorts')).status).toBe(200);
  });
});
