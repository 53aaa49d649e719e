// Dynamic group properties against the real broker and ClickHouse server: the value per group equals a hand
// count, it is published as a group identify (decoded here from the topic), runs are remembered across a restart,
// the schedule runs it again the next day, bad definitions are 400s and an unreachable Kafka is a 503.
import { codecs, groupKey, type GroupIdentifyRecord } from '@groupscope/events';
import { withAdmin } from '@groupscope/kafka';
import { testClickHouse, testKafka, waitFor, closedPort, DAY, HOUR, insertEvents, insertGroupChanges, TopicReader, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let tk: TestKafka;
let svc: TestService;
let A: NewKeys;
let reader: TopicReader;
const received: { key: string; record: GroupIdentifyRecord }[] = [];
const now = Date.now();
const ago = (ms: number) => now - ms;
const NAME = 'Last 7 Day Active Users';

beforeAll(async () => {
  ch = await testClickHouse();
  tk = testKafka();
  await tk.ensureTopics(2);
  svc = await startTestService(ch, { kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix }, now: () => now });
  A = svc.projects[0]!;
  const a = A.project_id;
  const ev = (at: number, user: string, company: string, type = 'Login') => ({
    project: a,
    time: at,
    type,
    user,
    groups: { company: { [company]: {} } },
  });
  await insertEvents(ch, [
    // acme: alice (twice) and bob in the last 7 days, carol 10 days ago -> 2
    ev(ago(1 * HOUR), 'alice', 'acme'),
    ev(ago(3 * DAY), 'alice', 'acme', 'Invoice Sent'),
    ev(ago(5.5 * DAY), 'bob', 'acme'),
    ev(ago(10 * DAY), 'carol', 'acme'),
    // globex: dave three times -> 1
    ev(ago(2 * HOUR), 'dave', 'globex'),
    ev(ago(2 * DAY), 'dave', 'globex'),
    ev(ago(5 * DAY), 'dave', 'globex'),
    // initech: erin 8 days ago -> 0, and it still shows 3 from an earlier computation: it must be set to 0
    ev(ago(8 * DAY), 'erin', 'initech'),
    // another project's acme is not counted
    { ...ev(ago(1 * HOUR), 'zed', 'acme'), project: svc.projects[1]!.project_id },
  ]);
  await insertGroupChanges(ch, [{ project: a, type: 'company', value: 'initech', time: ago(9 * DAY), props: { [NAME]: 3 } }]);

  reader = new TopicReader(tk.kafka, [tk.topics.groupIdentify], {
    onMessage: (m) => received.push({ key: m.key!.toString(), record: codecs.groupIdentify.decode(m.value!, m.headers) }),
  });
  await reader.start();
});

afterAll(async () => {
  await reader?.stop();
  await svc?.stop();
  await ch?.cleanup();
});

const createBody = (patch: Record<string, unknown> = {}) => ({
  group_type: 'company',
  name: NAME,
  metric: { e: { event_type: '_active' }, m: 'uniques' },
  window: { type: 'rolling', days: 7 },
  ...patch,
});

describe('dynamic group properties', () => {
  let id: string;

  it('creates, computes per group and publishes group identifies', async () => {
    const created = await svc.call(A, 'POST', '/api/3/dynamic-properties', createBody());
    expect(created.status).toBe(201);
    id = created.body.id;
    expect(created.body).toMatchObject({ group_type: 'company', name: NAME, window: { type: 'rolling', days: 7 }, last_run_at: null });

    const run = await svc.call(A, 'POST', `/api/3/dynamic-properties/${id}/run`);
    expect(run.status).toBe(200);
    expect(run.body).toEqual({
      id,
      groups: 3,
      window: { start: new Date(now - 7 * DAY).toISOString(), end: new Date(now).toISOString() },
      ran_at: new Date(now).toISOString(),
    });

    await waitFor(() => received.length >= 3, { message: 'three group identifies' });
    const byGroup = Object.fromEntries(received.map((m) => [m.record.group_value, m]));
    expect(Object.keys(byGroup).sort()).toEqual(['acme', 'globex', 'initech']);
    expect(JSON.parse(byGroup.acme!.record.group_properties)).toEqual({ $set: { [NAME]: 2 } });
    expect(JSON.parse(byGroup.globex!.record.group_properties)).toEqual({ $set: { [NAME]: 1 } });
    expect(JSON.parse(byGroup.initech!.record.group_properties)).toEqual({ $set: { [NAME]: 0 } });
    // exactly the record an API group identify is: same codec, topic and key, marked as coming from a dynamic property
    expect(byGroup.acme).toEqual({
      key: groupKey(A.project_id, 'company', 'acme'),
      record: {
        project_id: A.project_id,
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        receive_time: now,
        event_time: now,
        group_type: 'company',
        group_value: 'acme',
        group_properties: JSON.stringify({ $set: { [NAME]: 2 } }),
        source: 'dynamic_property',
        user_id: null,
        device_id: null,
        insert_id: `${id}:${now}:acme`,
        // published by the query service, not received by a gateway: no receive position (applied as it comes)
        receive_pos: 0,
        producer_id: '',
      },
    });
  });

  const published = async () => {
    const offsets = await withAdmin(tk.kafka, (admin) => admin.fetchTopicOffsets(tk.topics.groupIdentify));
    return offsets.reduce((n, o) => n + Number(o.high), 0);
  };
  const kafkaDeps = () => ({ kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix } });

  it('remembers the run: not due again the same day, even after a restart; due the next day', async () => {
    const listed = await svc.call(A, 'GET', '/api/3/dynamic-properties');
    expect(listed.body.properties).toEqual([expect.objectContaining({ id, last_run_at: new Date(now).toISOString(), last_groups: 3 })]);
    expect(await published()).toBe(3);
    // a restarted service later the same day: the scheduler finds nothing due
    const sameDay = await startTestService(ch, { ...kafkaDeps(), now: () => now + 1000 });
    try {
      await sameDay.scheduler.tick();
    } finally {
      await sameDay.stop();
    }
    expect(await published()).toBe(3);
    // the next day it runs again, by itself
    const nextDay = await startTestService(ch, { ...kafkaDeps(), now: () => now + DAY });
    try {
      await nextDay.scheduler.tick();
    } finally {
      await nextDay.stop();
    }
    expect(await published()).toBe(6);
    const again = (await svc.call(A, 'GET', `/api/3/dynamic-properties/${id}`)).body;
    expect(again.last_run_at).toBe(new Date(now + DAY).toISOString());
  });

  it.each([
    [{ metric: { e: { event_type: 'Login' }, m: 'frequency' } }, 'metric.m', 'unsupported_metric'],
    [{ metric: { e: { event_type: 'Login' }, m: 'uniques', formula: 'UNIQUES(A) * 2' } }, 'metric.m', 'unsupported_metric'],
    [{ metric: { e: [{ event_type: 'Login' }, { event_type: 'Invoice Sent' }], m: 'totals' } }, 'metric.e', 'unsupported_metric'],
    [{ window: { type: 'fixed', start: '20261101', end: '20261130' } }, 'window', 'unsupported_window'],
    [{ group_type: 'planet', name: 'Other' }, 'group_type', 'unknown_group_type'],
  ])('rejects %j', async (patch, param, code) => {
    const res = await svc.call(A, 'POST', '/api/3/dynamic-properties', createBody({ name: 'Another', ...patch }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code, details: [{ param }] });
  });

  it('refuses a second property of the same name on a group type', async () => {
    const res = await svc.call(A, 'POST', '/api/3/dynamic-properties', createBody());
    expect(res.status).toBe(409);
  });

  it('answers 503 when Kafka is unreachable, and records no run', async () => {
    const offline = await startTestService(ch, { kafka: { brokers: [`127.0.0.1:${await closedPort()}`], clientId: 'test', topicPrefix: tk.prefix, publishTimeoutMs: 2000 }, now: () => now + 2 * DAY });
    try {
      // a fresh registry: its first project has A's id
      const res = await offline.call(offline.projects[0]!, 'POST', `/api/3/dynamic-properties/${id}/run`);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('kafka_unavailable');
    } finally {
      await offline.stop();
    }
    expect((await svc.call(A, 'GET', `/api/3/dynamic-properties/${id}`)).body.last_run_at).toBe(new Date(now + DAY).toISOString());
  });

  it('deletes', async () => {
    const other = svc.projects[1]!;
    expect((await svc.call(other, 'DELETE', `/api/3/dynamic-properties/${id}`)).status).toBe(404);
    expect((await svc.call(A, 'DELETE', `/api/3/dynamic-properties/${id}`)).body).toEqual({ id, deleted: true });
    expect((await svc.call(A, 'GET', '/api/3/dynamic-properties')).body.properties).toEqual([]);
    expect((await svc.call(A, 'POST', `/api/3/dynamic-properties/${id}/run`)).status).toBe(404);
  });
});
