// Health scores through the real pipeline: the companies of the hand-worked data set (account-health-data.ts) are
// identified through Kafka and the enricher, their events stored as the writer stores them; a score defined over
// their usage is run, its group identifies (source health_score) go through the enricher and writer, and each
// company's score and band, worked out by hand, appear on its account page, in the list's filters, in `name =
// value` search over history, with their components, and on an event ingested afterwards. A second run writes
// nothing; a change in usage writes only the group it changed; the schedule runs it once a new day has ended;
// Kafka down is a 503.
import { randomUUID } from 'node:crypto';
import { codecs, groupKey, newIngestRecord, userKey, type GroupIdentifyRecord } from '@groupscope/events';
import { createProducer, type Producer } from '@groupscope/kafka';
import type { NewKeys } from '@groupscope/projects';
import { insertEvents, testClickHouse, testKafka, waitFor, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import { accountHealthEvents, at, COMPANIES, NOW } from './account-health-data';
import { startEnricherAndWriter } from './pipeline';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let tk: TestKafka;
let svc: TestService;
let pipeline: { stop(): Promise<void> } | undefined;
let producer: Producer;
let A: NewKeys;
let clock = NOW;

const DEFINITION = {
  group_type: 'company',
  name: 'health',
  components: [
    { metric: 'active_users_7d', weight: 2, poor: 0, healthy: 4 },
    { metric: 'events_7d_change', weight: 1, poor: -50, healthy: 50 },
    { metric: 'days_since_last_seen', weight: 1, poor: 7, healthy: 0 },
  ],
  thresholds: { healthy: 70, at_risk: 40 },
};
/** worked by hand: see src/health-scores/definition.test.ts */
const EXPECTED: Record<string, [number, string]> = {
  acme: [100, 'healthy'],
  globex: [30, 'critical'],
  hooli: [50, 'at_risk'],
  initech: [33, 'critical'],
  umbrella: [0, 'critical'],
};

beforeAll(async () => {
  ch = await testClickHouse();
  tk = testKafka();
  await tk.ensureTopics(2);
  pipeline = await startEnricherAndWriter(ch, tk);
  svc = await startTestService(ch, { kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix }, now: () => clock });
  A = svc.projects[0]!;
  producer = createProducer(tk.kafka);
  await producer.connect();
  // the companies' properties through the pipeline (the enricher keeps group state), their events straight into storage
  const sent = Date.parse(`${at('2026-10-01')}Z`);
  const identifies: GroupIdentifyRecord[] = Object.entries(COMPANIES).map(([value, props]) => ({
    project_id: A.project_id, uuid: randomUUID(), receive_time: sent, event_time: sent, group_type: 'company', group_value: value,
    group_properties: JSON.stringify({ $set: props }), source: 'api', user_id: null, device_id: null, insert_id: null,
  }));
  await producer.send({
    topic: tk.topics.groupIdentify,
    acks: -1,
    messages: identifies.map((r) => ({ key: groupKey(r.project_id, r.group_type, r.group_value), value: codecs.groupIdentify.encode(r), headers: codecs.groupIdentify.headers() })),
  });
  await insertEvents(ch, accountHealthEvents(A.project_id, svc.projects[1]!.project_id));
  await waitFor(async () => (await svc.call(A, 'GET', '/api/2/groups/company/umbrella')).body.group?.properties?.plan === 'trial', { timeoutMs: 90_000, message: 'the companies identified' });
}, 180_000);

afterAll(async () => {
  await producer?.disconnect();
  await svc?.stop();
  await pipeline?.stop();
  await ch?.cleanup();
});

type Page = { properties: Record<string, unknown>; property_sources: Record<string, { source: string | null }> };
const page = async (value: string): Promise<Page> => (await svc.call(A, 'GET', `/api/2/groups/company/${value}`)).body.group;
type History = { history?: { value: string }[] };
const latest = async (value: string, property: string): Promise<string | undefined> =>
  ((await svc.call(A, 'GET', `/api/2/groups/company/${value}/history?property=${property}`)).body as History).history?.[0]?.value;
/**
 * Waits until every company carries the score and band `expected` gives it, in its current properties (the page)
 * and as the newest value of its property history: the writer stores a change's history after its current
 * properties, and the history is what search, the history endpoint and the page's property sources read.
 */
async function scoresLanded(expected: Record<string, [number, string]>): Promise<void> {
  await waitFor(
    async () => {
      for (const [value, [score, band]] of Object.entries(expected)) {
        const p = await page(value);
        if (p?.properties.health !== score || p.properties.health_band !== band) return false;
        if ((await latest(value, 'health')) !== String(score) || (await latest(value, 'health_band')) !== band) return false;
      }
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 300, message: 'the scores on the account pages' },
  );
}

describe('health scores', () => {
  let id = '';

  it('is created, listed, read, edited; bad definitions and clashing names are refused', async () => {
    const created = await svc.call(A, 'POST', '/api/3/health-scores', { ...DEFINITION, name: 'draft' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ group_type: 'company', name: 'draft', properties: { score: 'draft', band: 'draft_band' }, last_run_at: null, last_as_of: null });
    id = created.body.id;
    expect((await svc.call(A, 'POST', '/api/3/health-scores', { ...DEFINITION, name: 'draft' })).status).toBe(409);
    const renamed = await svc.call(A, 'PUT', `/api/3/health-scores/${id}`, { name: 'health', components: DEFINITION.components, thresholds: DEFINITION.thresholds });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'health', components: DEFINITION.components, thresholds: DEFINITION.thresholds });
    expect((await svc.call(A, 'GET', `/api/3/health-scores/${id}`)).body.name).toBe('health');
    expect((await svc.call(A, 'GET', '/api/3/health-scores')).body.health_scores.map((h: { id: string }) => h.id)).toEqual([id]);
    // another project sees none of it
    expect((await svc.call(svc.projects[1]!, 'GET', `/api/3/health-scores/${id}`)).status).toBe(404);
    const bad = await svc.call(A, 'POST', '/api/3/health-scores', { ...DEFINITION, name: 'x', components: [{ metric: 'happiness', poor: 0, healthy: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'unknown_metric', details: [{ param: 'components[0].metric' }] });
    expect((await svc.call(A, 'POST', '/api/3/health-scores', { ...DEFINITION, group_type: 'planet' })).body.error.code).toBe('unknown_group_type');
    expect((await svc.call(A, 'PUT', `/api/3/health-scores/${id}`, { ...DEFINITION, group_type: 'team' })).status).toBe(400);
    expect((await svc.call(A, 'PUT', '/api/3/health-scores/hs_nope', DEFINITION)).status).toBe(404);
  });

  it('runs: every company gets the score and band worked out by hand, written with source health_score', async () => {
    const run = await svc.call(A, 'POST', `/api/3/health-scores/${id}/run`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ id, as_of: '2026-11-29', groups: 5, written: 5 });
    await scoresLanded(EXPECTED);
    const globex = await page('globex');
    expect(globex.properties).toMatchObject({ ...COMPANIES.globex, health: 30, health_band: 'critical' });
    expect(globex.property_sources).toMatchObject({ health: { source: 'health_score' }, health_band: { source: 'health_score' }, plan: { source: 'api' } });
    expect((await svc.call(A, 'GET', `/api/3/health-scores/${id}`)).body).toMatchObject({ last_as_of: '2026-11-29', last_groups: 5, last_written: 5 });
  }, 150_000);

  it('is filterable and sortable in the account list, and searchable over history', async () => {
    const res = await svc.call(
      A,
      'GET',
      `/api/2/groups/company/list?sort=health&order=asc&columns=${encodeURIComponent(JSON.stringify(['health', 'health_band']))}&filters=${encodeURIComponent(
        JSON.stringify([{ subprop_type: 'group', subprop_key: 'health_band', subprop_op: 'is', subprop_value: ['critical', 'at_risk'] }]),
      )}`,
    );
    expect(res.body.groups.map((g: { group_value: string; properties: object }) => [g.group_value, g.properties])).toEqual([
      ['umbrella', { health: 0, health_band: 'critical' }],
      ['globex', { health: 30, health_band: 'critical' }],
      ['initech', { health: 33, health_band: 'critical' }],
      ['hooli', { health: 50, health_band: 'at_risk' }],
    ]);
    // the search finds accounts with events in its window: umbrella (identified, never used) is critical but not a match
    const search = await svc.call(A, 'GET', `/api/2/groups/search?group_type=company&q=${encodeURIComponent('health_band = critical')}`);
    expect(search.body.matches.map((m: { group_value: string }) => m.group_value).sort()).toEqual(['globex', 'initech']);
    const history = await svc.call(A, 'GET', '/api/2/groups/company/hooli/history?property=health');
    expect(history.body.history).toEqual([{ property: 'health', value: '50', removed: false, time: new Date(NOW).toISOString(), source: 'health_score' }]);
  });

  it("shows an account's score with its components", async () => {
    const res = await svc.call(A, 'GET', '/api/2/groups/company/globex/health');
    expect(res.status).toBe(200);
    const [h] = res.body.health_scores;
    expect(h).toMatchObject({ id, name: 'health', score: 30, band: 'critical', as_of: '2026-11-29', thresholds: DEFINITION.thresholds, computed: { score: 30, band: 'critical' } });
    expect(h.components.map((c: { metric: string; value: number; normalised: number }) => [c.metric, c.value, c.normalised])).toEqual([
      ['active_users_7d', 1, 0.25],
      ['events_7d_change', -66.7, 0],
      ['days_since_last_seen', 2, expect.closeTo(5 / 7, 10)],
    ]);
    expect((await svc.call(A, 'GET', '/api/2/groups/company/nobody/health')).status).toBe(404);
  });

  it('writes nothing when nothing changed, and only the group whose usage changed', async () => {
    expect((await svc.call(A, 'POST', `/api/3/health-scores/${id}/run`)).body).toMatchObject({ groups: 5, written: 0 });
    // four people use umbrella on 11-29: 4 weekly users (1), no change to measure, seen that day (1) -> 100
    await insertEvents(
      ch,
      ['u1', 'u2', 'u3', 'u4'].map((user) => ({ project: A.project_id, time: at('2026-11-29', 15), type: 'Used Feature', user, groups: { company: { umbrella: {} } } })),
    );
    expect((await svc.call(A, 'POST', `/api/3/health-scores/${id}/run`)).body).toMatchObject({ groups: 5, written: 1 });
    await scoresLanded({ ...EXPECTED, umbrella: [100, 'healthy'] });
    const history = await svc.call(A, 'GET', '/api/2/groups/company/umbrella/history?property=health_band');
    expect(history.body.history.map((h: { value: string; source: string }) => [h.value, h.source])).toEqual([
      ['healthy', 'health_score'],
      ['critical', 'health_score'],
    ]);
  }, 150_000);

  it('is stamped on events ingested afterwards', async () => {
    const record = newIngestRecord({
      project_id: A.project_id, uuid: randomUUID(), receive_time: NOW + 60_000, event_time: NOW + 60_000, event_type: 'Login', user_id: 'alice',
      insert_id: randomUUID(), groups: { company: ['acme'] },
    });
    await producer.send({ topic: tk.topics.ingest, acks: -1, messages: [{ key: userKey(record.project_id, record.user_id, record.device_id), value: codecs.ingest.encode(record), headers: codecs.ingest.headers() }] });
    const stamped = await waitFor(
      async () => {
        const events = (await svc.call(A, 'GET', '/api/2/groups/company/acme/activity?limit=1')).body.events;
        return events?.[0]?.event_type === 'Login' ? events[0] : undefined;
      },
      { timeoutMs: 90_000, message: 'the new event stored' },
    );
    expect(stamped.group_properties.company.acme).toMatchObject({ plan: 'enterprise', health: 100, health_band: 'healthy' });
  }, 120_000);

  it('runs on the schedule once a new day has ended, after the configured hour', async () => {
    await svc.health.tick();
    expect((await svc.call(A, 'GET', `/api/3/health-scores/${id}`)).body.last_as_of).toBe('2026-11-29');
    clock = Date.UTC(2026, 11, 1, 0, 30); // 11-30 has ended, but it is before 01:00 UTC
    await svc.health.tick();
    expect((await svc.call(A, 'GET', `/api/3/health-scores/${id}`)).body.last_as_of).toBe('2026-11-29');
    clock = Date.UTC(2026, 11, 1, 1, 5);
    await svc.health.tick();
    expect((await svc.call(A, 'GET', `/api/3/health-scores/${id}`)).body).toMatchObject({ last_as_of: '2026-11-30', last_run_at: new Date(clock).toISOString() });
  }, 120_000);

  it('answers 503 when Kafka is down, and records no run', async () => {
    const down = await startTestService(ch, { kafka: { brokers: ['127.0.0.1:1'], clientId: 'test', topicPrefix: tk.prefix, publishTimeoutMs: 1000 }, now: () => clock });
    try {
      const B = down.projects[0]!;
      const created = await down.call(B, 'POST', '/api/3/health-scores', { ...DEFINITION, name: 'unreachable' });
      expect(created.status).toBe(201);
      const run = await down.call(B, 'POST', `/api/3/health-scores/${created.body.id}/run`);
      expect(run.status).toBe(503);
      expect(run.body.error.code).toBe('kafka_unavailable');
      expect((await down.call(B, 'GET', `/api/3/health-scores/${created.body.id}`)).body.last_run_at).toBeNull();
      expect((await down.call(B, 'DELETE', `/api/3/health-scores/${created.body.id}`)).body).toEqual({ id: created.body.id, deleted: true });
      expect((await down.call(B, 'GET', `/api/3/health-scores/${created.body.id}`)).status).toBe(404);
    } finally {
      await down.stop();
    }
  });
});
