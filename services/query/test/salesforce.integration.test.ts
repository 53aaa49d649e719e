// The Salesforce sync against a local Salesforce-compatible server (fake-salesforce.ts), the real broker and
// embedded ClickHouse: the connection (never its secret), mapping validation against the describe, the first full
// sync with paging, an incremental sync by SystemModstamp, an expired token replaced, rate limits and 5xx retried,
// failures recorded in the status without losing a row, unknown group values, export and import.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GroupIdentifyRecord } from '@groupscope/events';
import { testClickHouse, testKafka, waitFor, DAY, HOUR, insertEvents, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { secretsFile } from '../src/integrations/salesforce/credentials';
import { startFakeSalesforce, SERVER_ERROR, type FakeSalesforce } from './fake-salesforce';
import { collectGroupIdentifies } from './pipeline';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let tk: TestKafka;
let sf: FakeSalesforce;
let svc: TestService;
let A: NewKeys;
let B: NewKeys;
let identifies: Awaited<ReturnType<typeof collectGroupIdentifies>>;
let received: GroupIdentifyRecord[];
let clock = Date.now();
const T0 = clock;
const iso = (ms: number) => new Date(ms).toISOString();

const kafkaDeps = () => ({ kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix } });
// retries in tests wait milliseconds, not seconds
const sfEnv = (project: number) => ({ ...sf.env(project), SALESFORCE_RETRY_BASE_MS: '5', SALESFORCE_RETRY_MAX_MS: '20' });

const mappingBody = (patch: Record<string, unknown> = {}) => ({
  sobject: 'Account',
  group_type: 'company',
  name_field: 'Name',
  properties: [
    { sf_field: 'Industry', group_property: 'industry' },
    { sf_field: 'AnnualRevenue', group_property: 'revenue' },
    { sf_field: 'Plan__c', group_property: 'plan' },
  ],
  cadence: 'daily',
  ...patch,
});

beforeAll(async () => {
  ch = await testClickHouse();
  tk = testKafka();
  await tk.ensureTopics(2);
  sf = await startFakeSalesforce();
  sf.pageSize = 2; // several pages even for a handful of rows
  sf.defineObject('Account', [
    { name: 'Name', type: 'string' },
    { name: 'Industry', type: 'picklist' },
    { name: 'AnnualRevenue', type: 'currency' },
    { name: 'Plan__c', type: 'string' },
    { name: 'NumberOfEmployees', type: 'int' },
    { name: 'BillingAddress', type: 'address', filterable: false },
  ]);
  sf.upsert('Account', '001A', { Name: 'acme', Industry: 'Retail', AnnualRevenue: 1_500_000, Plan__c: 'pro' }, T0 - 3 * DAY);
  sf.upsert('Account', '001B', { Name: 'globex', Industry: 'Energy', AnnualRevenue: null, Plan__c: 'free' }, T0 - 2 * DAY);
  sf.upsert('Account', '001C', { Name: "o'brien \\ sons", Industry: 'Legal', Plan__c: 'pro' }, T0 - 2 * DAY + HOUR);
  sf.upsert('Account', '001D', { Name: 'umbrella', Industry: 'Pharma', Plan__c: 'enterprise' }, T0 - DAY);
  sf.upsert('Account', '001E', { Name: null, Industry: 'None' }, T0 - DAY + HOUR);

  svc = await startTestService(ch, { ...kafkaDeps(), now: () => clock, env: sfEnv(1) });
  [A, B] = svc.projects as [NewKeys, NewKeys];
  expect(A.project_id).toBe(1);
  const ev = (value: string, project = A.project_id) => ({ project, time: T0 - HOUR, type: 'Login', user: `u-${value}`, groups: { company: { [value]: {} } } });
  // umbrella is in Salesforce but not (yet) a group here
  await insertEvents(ch, [ev('acme'), ev('globex'), ev("o'brien \\ sons"), ev('acme', B.project_id)]);

  identifies = await collectGroupIdentifies(tk);
  received = identifies.received;
}, 90_000);

afterAll(async () => {
  await identifies?.stop();
  await svc?.stop();
  await sf?.stop();
  await ch?.cleanup();
});

/** The group identifies published since `from` (in arrival order), once `n` of them arrived. */
async function published(from: number, n: number): Promise<GroupIdentifyRecord[]> {
  return waitFor(() => (received.length - from >= n ? received.slice(from) : undefined), { timeoutMs: 60_000, message: `${n} group identifies` });
}
const setOf = (r: GroupIdentifyRecord) => JSON.parse(r.group_properties) as Record<string, Record<string, unknown>>;

describe('the Salesforce connection', () => {
  it('reports what is configured and whether it works, never the secret', async () => {
    const res = await svc.call(A, 'GET', '/api/3/integrations/salesforce/connection?check=true');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ configured: true, login_url: sf.url, client_id: sf.clientId, from: { login_url: 'env', client_id: 'env', client_secret: 'env' }, missing: [], check: { ok: true, instance_url: sf.url } });
    expect(res.text).not.toContain(sf.clientSecret);
    const other = await svc.call(B, 'GET', '/api/3/integrations/salesforce/connection');
    expect(other.body).toMatchObject({ configured: false, missing: ['login_url', 'client_id', 'client_secret'] });
    expect((await svc.call(B, 'POST', '/api/3/integrations/salesforce/mappings', mappingBody())).body.error.code).toBe('salesforce_not_configured');
  });

  it('takes the secret from a secrets file readable by its owner only', async () => {
    const file = secretsFile(svc.dataDir, B.project_id);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ login_url: sf.url, client_id: sf.clientId, client_secret: sf.clientSecret }));
    chmodSync(file, 0o644);
    const loose = await svc.call(B, 'GET', '/api/3/integrations/salesforce/connection?check=true');
    expect(loose.status).toBe(409);
    expect(loose.body.error).toMatchObject({ code: 'salesforce_bad_credentials', message: expect.stringMatching(/chmod 600/) });
    chmodSync(file, 0o600);
    const ok = await svc.call(B, 'GET', '/api/3/integrations/salesforce/connection?check=true');
    expect(ok.body).toMatchObject({ configured: true, from: { client_secret: 'file' }, check: { ok: true } });
    expect(ok.text).not.toContain(sf.clientSecret);
    writeFileSync(file, JSON.stringify({ login_url: sf.url, client_id: sf.clientId, client_secret: 'wrong' }));
    const wrong = await svc.call(B, 'GET', '/api/3/integrations/salesforce/connection?check=true');
    expect(wrong.body.check).toEqual({ ok: false, error: { code: 'salesforce_error', message: expect.stringMatching(/invalid_client/) } });
  });
});

describe('Salesforce mappings', () => {
  let id: string;

  it.each<[string, Record<string, unknown>, number, string, string]>([
    ['an unknown group type', { group_type: 'planet' }, 400, 'group_type', 'unknown_group_type'],
    ['an object Salesforce does not have', { sobject: 'Acount' }, 400, 'sobject', 'unknown_sobject'],
    ['a field the object does not have', { properties: [{ sf_field: 'Industri', group_property: 'industry' }] }, 400, 'properties[0].sf_field', 'unknown_field'],
    ['a numeric name field', { name_field: 'NumberOfEmployees' }, 400, 'name_field', 'invalid_field_type'],
    ['a compound field', { properties: [{ sf_field: 'BillingAddress', group_property: 'address' }] }, 400, 'properties[0].sf_field', 'invalid_field_type'],
    [
      'one field feeding two properties',
      { properties: [{ sf_field: 'Industry', group_property: 'a' }, { sf_field: 'Industry', group_property: 'b' }] },
      400,
      'properties[1].sf_field',
      'duplicate_field',
    ],
    ['a bad cadence', { cadence: { days: 0 } }, 400, 'cadence.days', 'invalid_mapping'],
  ])('refuses %s', async (_label, patch, status, param, code) => {
    const res = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings', mappingBody(patch));
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code, details: [expect.objectContaining({ param })] });
  });

  it('creates a mapping, spelled as Salesforce spells it', async () => {
    const res = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings', mappingBody({ sobject: 'account', name_field: 'name' }));
    expect(res.status).toBe(201);
    id = res.body.id;
    expect(res.body).toEqual({ id: expect.stringMatching(/^sf_[0-9a-f]{12}$/), ...mappingBody(), created_at: iso(clock), updated_at: iso(clock) });
    expect((await svc.call(A, 'GET', '/api/3/integrations/salesforce/mappings')).body.mappings).toEqual([res.body]);
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}`)).body).toEqual(res.body);
    // one mapping per object and group type; another project sees none of it
    expect((await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings', mappingBody())).status).toBe(409);
    expect((await svc.call(B, 'GET', '/api/3/integrations/salesforce/mappings')).body.mappings).toEqual([]);
    expect((await svc.call(B, 'GET', `/api/3/integrations/salesforce/mappings/${id}`)).status).toBe(404);
    const status = await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`);
    // a daily mapping's first sync is the next morning's job (06:00 UTC by default)
    const nextMorning = Math.floor(clock / DAY) * DAY + 6 * HOUR + (clock % DAY >= 6 * HOUR ? DAY : 0);
    expect(status.body).toMatchObject({ mapping_id: id, last_run_at: null, last_outcome: null, next_run_at: iso(nextMorning), last_error: null, groups: { synced: 0, unknown: 0 } });
  });

  it('runs a first full sync: every row read page by page, known groups written, unknown values counted, not created', async () => {
    const before = received.length;
    sf.requests.length = 0;
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      mapping_id: id,
      trigger: 'api',
      full_sync: true,
      rows_read: 5,
      groups_updated: 3,
      groups_deferred: 0,
      unknown_values: 1,
      unknown_sample: ['umbrella'],
      rows_without_name: 1,
      high_water_mark: iso(T0 - DAY + HOUR),
      ran_at: iso(clock),
    });
    // five rows, two per page: a query and two more pages through nextRecordsUrl
    expect(sf.requests.filter((r) => r.kind === 'query' || r.kind === 'queryMore').map((r) => [r.kind, r.status])).toEqual([
      ['query', 200],
      ['queryMore', 200],
      ['queryMore', 200],
    ]);
    expect(sf.requests.find((r) => r.kind === 'query')!.soql).toBe('SELECT Id, SystemModstamp, Name, Industry, AnnualRevenue, Plan__c FROM Account ORDER BY SystemModstamp ASC, Id ASC');
    const records = await published(before, 3);
    expect(records.map((r) => [r.group_value, setOf(r)])).toEqual([
      ['acme', { $set: { industry: 'Retail', revenue: 1_500_000, plan: 'pro' } }],
      ['globex', { $unset: { revenue: '-' }, $set: { industry: 'Energy', plan: 'free' } }],
      ["o'brien \\ sons", { $unset: { revenue: '-' }, $set: { industry: 'Legal', plan: 'pro' } }],
    ]);
    for (const r of records) {
      expect(r).toMatchObject({ project_id: A.project_id, group_type: 'company', source: 'salesforce', receive_time: clock, insert_id: expect.stringMatching(new RegExp(`^sf:${id}:\\d+:001[ABC]:\\d+$`)) });
    }
    const status = (await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body;
    expect(status).toMatchObject({
      last_run_at: iso(clock),
      last_success_at: iso(clock),
      last_outcome: 'ok',
      last_trigger: 'api',
      full_sync: true,
      high_water_mark: iso(T0 - DAY + HOUR),
      rows_read: 5,
      groups_updated: 3,
      unknown_values: 1,
      rows_without_name: 1,
      last_error: null,
      groups: { synced: 3, pending: 0, unknown: 1, missing: 0 },
      unknown_sample: ['umbrella'],
    });
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/unknown`)).body).toMatchObject({ total: 1, values: ['umbrella'] });
  });

  it('runs an incremental sync: only rows modified since the high-water mark, the overlap read again but not written twice', async () => {
    clock += HOUR;
    sf.upsert('Account', '001A', { Plan__c: 'enterprise' }, T0 - 30 * 60_000);
    const before = received.length;
    sf.requests.length = 0;
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(run.body).toMatchObject({ full_sync: false, groups_updated: 1, unknown_values: 0, high_water_mark: iso(T0 - 30 * 60_000) });
    // the row at the old high-water mark (the nameless one) is read again in the overlap; nothing older is
    expect(run.body.rows_read).toBe(2);
    const soql = sf.requests.find((r) => r.kind === 'query')!.soql!;
    expect(soql).toBe(`SELECT Id, SystemModstamp, Name, Industry, AnnualRevenue, Plan__c FROM Account WHERE SystemModstamp >= ${iso(T0 - DAY + HOUR - 60_000).replace(/\.\d{3}Z$/, 'Z')} ORDER BY SystemModstamp ASC, Id ASC`);
    const [acme] = await published(before, 1);
    expect(acme).toMatchObject({ group_value: 'acme', source: 'salesforce' });
    expect(setOf(acme!).$set).toEqual({ industry: 'Retail', revenue: 1_500_000, plan: 'enterprise' });

    // nothing changed: a run reads the overlap only and writes nothing
    clock += HOUR;
    const idle = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(idle.body).toMatchObject({ rows_read: 1, groups_updated: 0 });
  });

  it('replaces an expired token and carries on', async () => {
    clock += HOUR;
    sf.expireTokens();
    const tokens = sf.tokensIssued();
    sf.upsert('Account', '001B', { Industry: 'Utilities' }, T0 - 20 * 60_000);
    const before = received.length;
    sf.requests.length = 0;
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(run.status).toBe(200);
    expect(run.body.groups_updated).toBe(1);
    expect(sf.tokensIssued()).toBe(tokens + 1);
    expect(sf.requests.map((r) => [r.kind, r.status])).toEqual([
      ['query', 401],
      ['token', 200],
      ['query', 200],
    ]);
    expect((await published(before, 1)).map((r) => r.group_value)).toEqual(['globex']);
  });

  it('retries a rate limit and a server error with back-off', async () => {
    clock += HOUR;
    sf.upsert('Account', '001A', { Industry: 'Wholesale' }, T0 - 10 * 60_000);
    sf.upsert('Account', '001B', { Industry: 'Power' }, T0 - 10 * 60_000 + 1000);
    sf.rateLimit('query', 2);
    sf.fail('queryMore', SERVER_ERROR);
    sf.pageSize = 1; // the two changed rows on two pages
    const before = received.length;
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    sf.pageSize = 2;
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ groups_updated: 2, retries: 3 });
    expect((await published(before, 2)).map((r) => r.group_value)).toEqual(['acme', 'globex']);
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body).toMatchObject({ retries: 3, last_outcome: 'ok', last_error: null });
  });

  it('reports a rate limit that outlasts the retries, and loses nothing: the high-water mark stays until a run succeeds', async () => {
    clock += HOUR;
    const before = (await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body;
    sf.upsert('Account', '001C', { Plan__c: 'free' }, T0 - 5 * 60_000);
    // the first attempt and SALESFORCE_RETRIES (4) more
    sf.rateLimit('query', 5);
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(run.status).toBe(503);
    expect(run.body.error).toMatchObject({ code: 'salesforce_unavailable', details: [{ salesforce_error: 'REQUEST_LIMIT_EXCEEDED' }] });
    const failed = (await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body;
    expect(failed).toMatchObject({
      last_run_at: iso(clock),
      last_success_at: before.last_success_at,
      last_outcome: 'error',
      high_water_mark: before.high_water_mark,
      consecutive_failures: 1,
      last_error: { code: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.', at: iso(clock) },
    });
    // the scheduler tries again after the back-off (5 minutes after one failure) at the earliest, not at once
    expect(Date.parse(failed.next_run_at)).toBeGreaterThanOrEqual(clock + 5 * 60_000);

    // Kafka unreachable: nothing is acknowledged, so nothing is recorded as done either
    const offline = await startTestService(ch, { kafka: { brokers: ['127.0.0.1:27089'], clientId: 'test', topicPrefix: tk.prefix, publishTimeoutMs: 1500 }, now: () => clock, env: sfEnv(1) });
    try {
      sf.requests.length = 0;
      const down = await offline.call(offline.projects[0]!, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe('kafka_unavailable');
    } finally {
      await offline.stop();
    }
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body).toMatchObject({
      high_water_mark: before.high_water_mark,
      consecutive_failures: 2,
      last_error: { code: 'KAFKA_UNAVAILABLE' },
    });

    const published0 = received.length;
    const ok = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(ok.status).toBe(200);
    expect(ok.body.groups_updated).toBe(1);
    const [row] = await published(published0, 1);
    expect([row!.group_value, setOf(row!).$set!.plan]).toEqual(["o'brien \\ sons", 'free']);
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body).toMatchObject({ last_outcome: 'ok', consecutive_failures: 0, last_error: null, high_water_mark: iso(T0 - 5 * 60_000) });
  });

  it('writes an unknown value once it has become a group, fetching it by name', async () => {
    clock += HOUR;
    await insertEvents(ch, [{ project: A.project_id, time: clock - 60_000, type: 'Login', user: 'u-umbrella', groups: { company: { umbrella: {} } } }]);
    const before = received.length;
    sf.requests.length = 0;
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(run.body).toMatchObject({ groups_updated: 1, unknown_values: 0 });
    expect(sf.requests.filter((r) => r.kind === 'query').map((r) => r.soql)).toContain(
      "SELECT Id, SystemModstamp, Name, Industry, AnnualRevenue, Plan__c FROM Account WHERE Name IN ('umbrella') ORDER BY SystemModstamp ASC, Id ASC",
    );
    const [umbrella] = await published(before, 1);
    expect([umbrella!.group_value, setOf(umbrella!).$set]).toEqual(['umbrella', { industry: 'Pharma', plan: 'enterprise' }]);
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body.groups).toEqual({ synced: 4, pending: 0, unknown: 0, missing: 0 });
  });

  it('rejects a field renamed in Salesforce: at validation by name, and a run reports it', async () => {
    sf.renameField('Account', 'Plan__c', 'Plan_Tier__c');
    try {
      const put = await svc.call(A, 'PUT', `/api/3/integrations/salesforce/mappings/${id}`, mappingBody({ cadence: 'hourly' }));
      expect(put.status).toBe(400);
      expect(put.body.error).toMatchObject({ code: 'unknown_field', message: 'Account has no field Plan__c (renamed or deleted in Salesforce?)', details: [{ param: 'properties[2].sf_field' }] });
      clock += HOUR;
      const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
      expect(run.status).toBe(502);
      expect(run.body.error).toMatchObject({ code: 'salesforce_error', details: [{ salesforce_error: 'INVALID_FIELD' }] });
      expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}/status`)).body.last_error).toMatchObject({ code: 'INVALID_FIELD', message: expect.stringMatching(/No such column 'Plan__c'/) });
    } finally {
      sf.renameField('Account', 'Plan_Tier__c', 'Plan__c');
    }
  });

  it('changing the fields read starts a full sync; changing the cadence alone does not', async () => {
    clock += HOUR;
    const cadenceOnly = await svc.call(A, 'PUT', `/api/3/integrations/salesforce/mappings/${id}`, mappingBody({ cadence: 'hourly' }));
    expect(cadenceOnly.status).toBe(200);
    expect(cadenceOnly.body.cadence).toBe('hourly');
    expect((await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`)).body.full_sync).toBe(false);
    const fewer = await svc.call(A, 'PUT', `/api/3/integrations/salesforce/mappings/${id}`, mappingBody({ cadence: 'hourly', properties: [{ sf_field: 'Industry', group_property: 'industry' }] }));
    expect(fewer.status).toBe(200);
    const before = received.length;
    const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
    expect(run.body).toMatchObject({ full_sync: true, groups_updated: 4 });
    // the same rows, a new mapping revision: new insert_ids, so the enricher does not drop them as duplicates
    expect((await published(before, 4)).every((r) => Object.keys(setOf(r).$set ?? {}).join() === 'industry')).toBe(true);
  });

  it('exports and imports mappings as JSON, all or nothing', async () => {
    const exported = await svc.call(A, 'GET', '/api/3/integrations/salesforce/mappings/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment/);
    expect(exported.body).toEqual({ version: 1, mappings: [{ ...mappingBody({ cadence: 'hourly', properties: [{ sf_field: 'Industry', group_property: 'industry' }] }) }] });

    const again = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings/import', exported.body);
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 1, deleted: 0 });
    // one bad mapping refuses the whole file, naming it
    const bad = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings/import', { version: 1, mappings: [mappingBody({ cadence: 'weekly' }), mappingBody({ group_type: 'team' })] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ param: 'mappings[1].group_type' }]);
    expect((await svc.call(A, 'GET', '/api/3/integrations/salesforce/mappings')).body.mappings.map((m: { cadence: unknown }) => m.cadence)).toEqual(['hourly']);

    const updated = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings/import', { version: 1, mappings: [mappingBody({ cadence: 'weekly' })] });
    expect(updated.body).toMatchObject({ created: 0, updated: 1, mappings: [{ id, cadence: { days: 7 } }] });

    // into another project: the same file makes new mappings there
    const file = secretsFile(svc.dataDir, B.project_id);
    writeFileSync(file, JSON.stringify({ login_url: sf.url, client_id: sf.clientId, client_secret: sf.clientSecret }));
    const copy = await svc.call(B, 'POST', '/api/3/integrations/salesforce/mappings/import', (await svc.call(A, 'GET', '/api/3/integrations/salesforce/mappings/export')).body);
    expect(copy.body).toMatchObject({ created: 1, mappings: [{ sobject: 'Account', group_type: 'company', cadence: { days: 7 } }] });
    expect(copy.body.mappings[0].id).not.toBe(id);

    const replaced = await svc.call(B, 'POST', '/api/3/integrations/salesforce/mappings/import?replace=true', { version: 1, mappings: [] });
    expect(replaced.body).toMatchObject({ created: 0, deleted: 1 });
    expect((await svc.call(B, 'GET', '/api/3/integrations/salesforce/mappings')).body.mappings).toEqual([]);
  });

  it('deletes a mapping (its written properties stay)', async () => {
    const del = await svc.call(A, 'DELETE', `/api/3/integrations/salesforce/mappings/${id}`);
    expect(del.body).toEqual({ id, deleted: true });
    expect((await svc.call(A, 'GET', `/api/3/integrations/salesforce/mappings/${id}`)).status).toBe(404);
    expect((await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`)).status).toBe(404);
  });
});
