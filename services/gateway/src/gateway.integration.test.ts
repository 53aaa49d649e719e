// The gateway in-process against the real broker: requests in, records read back from Kafka and decoded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { codecs, decodeMark, groupKey, isMark, userKey, type GroupIdentifyRecord, type IngestRecord, type Mark } from '@groupscope/events';
import { runBatchConsumer, type RunningConsumer } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { testKafka, uniqueName, waitFor } from '@groupscope/testing';
import { loadGatewayConfig, startGateway, type RunningGateway } from './index';

interface Seen<T> {
  key: string;
  partition: number;
  rec: T;
}

jest.setTimeout(60_000);

const tk = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'gw-int-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
const main = registry.create('main');
const ingest: Seen<IngestRecord>[] = [];
const groups: Seen<GroupIdentifyRecord>[] = [];
const marks: { partition: number; mark: Mark }[] = [];
/** per group-identify partition, in partition order: [producer, position, what] of every record and mark */
const giOrder = new Map<number, [string, number, 'record' | 'mark' | 'leave'][]>();
const onPartition = (q: number) => giOrder.get(q) ?? giOrder.set(q, []).get(q)!;
let consumer: RunningConsumer | undefined;
let gw: RunningGateway;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(gw.url + path, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const byInsertId = (id: string) => ingest.filter((s) => s.rec.insert_id === id);

beforeAll(async () => {
  gw = await startGateway({
    config: loadGatewayConfig({
      KAFKA_BROKERS: tk.brokers.join(','),
      TOPIC_PREFIX: tk.prefix,
      KAFKA_PARTITIONS: '4',
      PROJECTS_FILE: projectsFile,
      GATEWAY_PORT: '0',
      GATEWAY_HTTPAPI_MAX_BYTES: String(64 * 1024),
      LOG_LEVEL: 'silent',
    }),
    logger: silentLogger,
  });
  consumer = await runBatchConsumer({
    kafka: tk.kafka,
    groupId: uniqueName('gw-int'),
    topics: [tk.topics.ingest, tk.topics.groupIdentify],
    logger: silentLogger,
    maxWaitTimeInMs: 100,
    handle: async ({ topic, partition, messages }) => {
      for (const message of messages) {
        const key = message.key!.toString();
        if (topic === tk.topics.ingest) ingest.push({ key, partition, rec: codecs.ingest.decode(message.value!, message.headers) });
        else if (isMark(message.headers)) {
          const mark = decodeMark(message.value);
          marks.push({ partition, mark });
          onPartition(partition).push([mark.producer_id, mark.pos, mark.leave ? 'leave' : 'mark']);
        } else {
          const rec = codecs.groupIdentify.decode(message.value!, message.headers);
          groups.push({ key, partition, rec });
          onPartition(partition).push([rec.producer_id!, rec.receive_pos!, 'record']);
        }
      }
    },
  });
});

afterAll(async () => {
  await gw?.stop();
  await consumer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway with Kafka', () => {
  it('accepts /2/httpapi events and $identify, keyed so one user shares a partition', async () => {
    const res = await post('/2/httpapi', {
      api_key: main.api_key,
      events: [
        { user_id: 'alice-1', device_id: 'dev-alice', event_type: 'Invoice Sent', insert_id: 'h-1', groups: { org: ['acme', 7] }, ip: '$remote', event_properties: { n: 1 } },
        { user_id: 'alice-1', event_type: '$identify', insert_id: 'h-2', user_properties: { $set: { org: 'acme' } }, groups: { org: 'acme' } },
        { device_id: 'dev-bob-1', event_type: 'Viewed', insert_id: 'h-3' },
      ],
    });
    expect(res).toMatchObject({ status: 200, body: { code: 200, events_ingested: 3 } });
    // /identify for the same user, form-encoded, with Segment's options=undefined
    const form = `api_key=${main.api_key}&identification=${encodeURIComponent(JSON.stringify({ user_id: 'alice-1', insert_id: 'h-4', user_properties: { plan: 'pro' } }))}&options=undefined`;
    const idRes = await post('/identify', form, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(idRes).toMatchObject({ status: 200, body: { code: 200 } });

    await waitFor(() => ['h-1', 'h-2', 'h-3', 'h-4'].every((id) => byInsertId(id).length === 1), { message: 'records h-1..h-4' });
    const [e1, e2, e3, e4] = ['h-1', 'h-2', 'h-3', 'h-4'].map((id) => byInsertId(id)[0]!);
    expect(e1!.key).toBe(userKey(main.project_id, 'alice-1', 'dev-alice'));
    expect(e1!.rec).toMatchObject({ kind: 'event', project_id: main.project_id, event_type: 'Invoice Sent', groups: { org: ['acme', '7'] }, event_properties: '{"n":1}' });
    expect(e1!.rec.context.ip).toBe('127.0.0.1');
    expect(e1!.rec.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(e2!.rec).toMatchObject({ kind: 'identify', event_type: '$identify', groups: { org: ['acme'] } });
    expect(e4!.rec).toMatchObject({ kind: 'identify', event_type: '$identify', user_properties: '{"plan":"pro"}' });
    expect(new Set([e1!.partition, e2!.partition, e4!.partition]).size).toBe(1);
    expect(e3!.key).toBe(userKey(main.project_id, null, 'dev-bob-1'));
  });

  it('accepts gzip /batch with $groupidentify, /groupidentify multipart and GET /identify', async () => {
    const body = gzipSync(JSON.stringify({
      api_key: main.api_key,
      events: [{ user_id: 'carol-1', event_type: '$groupidentify', insert_id: 'g-1', groups: { org: ['acme', 'globex'] }, group_properties: { $set: { plan: 'ent' } } }],
    }));
    expect(await post('/batch', body, { 'content-encoding': 'gzip', 'content-type': 'text/plain' })).toMatchObject({ status: 200, body: { code: 200, events_ingested: 1 } });

    const fd = new FormData();
    fd.set('api_key', main.api_key);
    fd.set('identification', JSON.stringify([{ group_type: 'org', group_value: 'initech', group_properties: { seats: 5 } }]));
    const mp = await fetch(`${gw.url}/groupidentify`, { method: 'POST', body: fd });
    expect(mp.status).toBe(200);

    const ident = encodeURIComponent(JSON.stringify({ device_id: 'dev-get-1', insert_id: 'get-1', user_properties: { a: 1 } }));
    const get = await fetch(`${gw.url}/identify?api_key=${main.api_key}&identification=${ident}`);
    expect(await get.json()).toMatchObject({ code: 200 });

    await waitFor(() => groups.length >= 3 && byInsertId('get-1').length === 1, { message: 'group records' });
    const pairs = groups.map((g) => [g.key, g.rec.group_value, g.rec.group_properties]).sort();
    expect(pairs).toEqual([
      [groupKey(main.project_id, 'org', 'acme'), 'acme', '{"$set":{"plan":"ent"}}'],
      [groupKey(main.project_id, 'org', 'globex'), 'globex', '{"$set":{"plan":"ent"}}'],
      [groupKey(main.project_id, 'org', 'initech'), 'initech', '{"seats":5}'],
    ].sort());
  });

  it('coalesces concurrent requests and loses none', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post('/batch', { api_key: main.api_key, events: Array.from({ length: 20 }, (_, j) => ({ user_id: `user-${i}-${j % 3}`, event_type: 'Bulk', insert_id: `c-${i}-${j}` })) }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    await waitFor(() => ingest.filter((s) => s.rec.insert_id?.startsWith('c-')).length >= 600, { message: '600 records' });
    expect(new Set(ingest.filter((s) => s.rec.insert_id?.startsWith('c-')).map((s) => s.rec.insert_id)).size).toBe(600);
  });

  it('replies 400 with index lists, and writes nothing of a rejected request', async () => {
    const bad = await post('/2/httpapi', {
      api_key: main.api_key,
      events: [{ user_id: 'dave-1', event_type: 'x', insert_id: 'bad-1' }, { user_id: 'null', event_type: 'x' }, { user_id: 'dave-1', time: 'x' }],
    });
    expect(bad).toEqual({
      status: 400,
      body: {
        code: 400,
        error: 'Invalid field values on some events',
        events_with_invalid_fields: { user_id: [1], time: [2] },
        events_with_missing_fields: { event_type: [2] },
        events_with_invalid_id_lengths: {},
      },
    });
    expect(await post('/2/httpapi', { api_key: 'no-such-key', events: [] })).toEqual({ status: 400, body: { code: 400, error: 'Invalid API key: no-such-key' } });
    expect(await post('/2/httpapi', '{"api_key":')).toEqual({ status: 400, body: { code: 400, error: 'Invalid JSON request body' } });
    expect(await post('/batch', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' })).toMatchObject({ status: 400, body: { code: 400 } });
    // a marker accepted after the rejects: once it is in Kafka, anything the rejects wrote would be too (same partition order)
    expect((await post('/2/httpapi', { api_key: main.api_key, events: [{ user_id: 'dave-1', event_type: 'x', insert_id: 'marker-1' }] })).status).toBe(200);
    await waitFor(() => byInsertId('marker-1').length === 1);
    expect(byInsertId('bad-1')).toHaveLength(0);
  });

  it('replies 413 for oversize bodies (declared or streamed) and too many events', async () => {
    const big = JSON.stringify({ api_key: main.api_key, events: [{ user_id: 'erin-1', event_type: 'x', event_properties: { p: 'x'.repeat(1000) } }], pad: 'y'.repeat(70 * 1024) });
    expect(await post('/2/httpapi', big)).toEqual({ status: 413, body: { code: 413, error: 'Payload too large' } });
    // the same through /batch (20 MB limit) is fine
    expect((await post('/batch', big)).status).toBe(200);
    // chunked, no Content-Length: cut off while streaming
    const streamed = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/2/httpapi`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('z'.repeat(16 * 1024));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toEqual({ code: 413, error: 'Payload too large' });
    const many = { api_key: main.api_key, events: Array.from({ length: 2001 }, () => ({ user_id: 'erin-1', event_type: 'x' })) };
    expect(await post('/batch', many)).toEqual({ status: 413, body: { code: 413, error: 'Payload too large' } });
    // a gzip bomb stops at the limit
    expect((await post('/2/httpapi', gzipSync(Buffer.alloc(50_000_000, 32)), { 'content-encoding': 'gzip' })).status).toBe(413);
  });

  it('serves a project created while running at once, and throttles it when its settings say so', async () => {
    const fresh = registry.create('fresh');
    const ev = (n: number) => Array.from({ length: n }, (_, i) => ({ user_id: 'frank-1', device_id: 'dev-frank', event_type: 'x', insert_id: `t-${i}` }));
    expect((await post('/2/httpapi', { api_key: fresh.api_key, events: ev(40) })).status).toBe(200);
    registry.setThrottle(fresh.project_id, { enabled: true, httpapi_eps: 30 });
    const res = await waitFor(async () => {
      const r = await post('/2/httpapi', { api_key: fresh.api_key, events: ev(31) });
      return r.status === 429 ? r : undefined;
    }, { timeoutMs: 5000 });
    expect(res.body).toMatchObject({ code: 429, eps_threshold: 30, throttled_users: { 'frank-1': 31 }, throttled_devices: { 'dev-frank': 31 } });
    expect(res.body.throttled_events).toHaveLength(31);
    const rotated = registry.rotate(fresh.project_id);
    await waitFor(async () => (await post('/2/httpapi', { api_key: fresh.api_key, events: [] })).status === 400, { timeoutMs: 5000 });
    expect((await post('/2/httpapi', { api_key: rotated.api_key, events: [] })).status).toBe(200);
  });

  it('survives hostile input and keeps serving', async () => {
    const hostile: [string, string | Buffer, Record<string, string>][] = [
      ['/2/httpapi', Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3]), { 'content-encoding': 'gzip' }],
      ['/2/httpapi', '['.repeat(100_000) + ']'.repeat(100_000), {}],
      ['/batch', `{"api_key":"${main.api_key}","events":[{"user_id":"zed-11","event_type":"x","event_properties":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}]}`, {}],
      ['/2/httpapi', `{"api_key":"${main.api_key}","events":[{"user_id":"zed-11","event_type":"x","time":1e400,"price":-1e400}]}`, {}],
      ['/2/httpapi', 'null', {}],
      ['/2/httpapi', `{"api_key":"${main.api_key}","events":[null, 5, "x", [], {"__proto__":{"x":1}}]}`, {}],
      ['/identify', 'api_key=x&identification=%E0%A4%A', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['/groupidentify', '--b\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n', { 'content-type': 'multipart/form-data; boundary=b' }],
      ['/groupidentify', 'x', { 'content-type': 'multipart/form-data' }],
      ['/identify', `api_key=${main.api_key}&identification=${encodeURIComponent('[' + '{},'.repeat(10) + '7]')}`, { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [path, body, headers] of hostile) {
      const r = await post(path, body, headers);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.code).toBe(r.status);
    }
    // a client that goes away in the middle of its body
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${gw.url}/batch`, { method: 'POST', headers: { 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write('{"api_key":"');
      setImmediate(() => {
        req.destroy();
        resolve();
      });
    });
    // HEAD is routed like GET by express: it must not ingest
    const head = await fetch(`${gw.url}/identify?api_key=${main.api_key}&identification=${encodeURIComponent('{"user_id":"zed-11","insert_id":"head-1"}')}`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await post('/2/httpapi', { api_key: main.api_key, events: [{ user_id: 'zed-11', event_type: 'still here', insert_id: 'zed-marker' }] })).status).toBe(200);
    await waitFor(() => byInsertId('zed-marker').length === 1);
    expect(byInsertId('head-1')).toHaveLength(0);
  });

  it('gives records receive positions and marks every group-identify partition: a start mark, position order, a leave mark', async () => {
    const other = await startGateway({
      config: loadGatewayConfig({
        KAFKA_BROKERS: tk.brokers.join(','), TOPIC_PREFIX: tk.prefix, KAFKA_PARTITIONS: '4', PROJECTS_FILE: projectsFile, GATEWAY_PORT: '0',
        GATEWAY_ID: 'gw-other', GATEWAY_MARK_INTERVAL_MS: '20', LOG_LEVEL: 'silent',
      }),
      logger: silentLogger,
    });
    expect(other.producerId).toBe('gw-other');
    const events = [
      ...Array.from({ length: 12 }, (_, i) => ({ user_id: 'positions-user', event_type: '$groupidentify', insert_id: `pos-gi-${i}`, groups: { org: `pos-${i}` }, group_properties: { n: i } })),
      ...Array.from({ length: 5 }, (_, i) => ({ user_id: 'positions-user', event_type: 'Positioned', insert_id: `pos-ev-${i}` })),
    ];
    for (let round = 0; round < 3; round++) {
      const res = await fetch(`${other.url}/2/httpapi`, { method: 'POST', body: JSON.stringify({ api_key: main.api_key, events }) });
      expect(res.status).toBe(200);
    }
    await other.stop();
    await waitFor(() => [0, 1, 2, 3].every((q) => onPartition(q).some(([p, , what]) => p === 'gw-other' && what === 'leave')), { message: 'leave marks' });
    for (const q of [0, 1, 2, 3]) {
      const seq = onPartition(q).filter(([p]) => p === 'gw-other');
      expect(seq[0]![2]).toBe('mark'); // the start mark precedes everything
      expect(seq.at(-1)![2]).toBe('leave');
      for (let i = 1; i < seq.length; i++) expect(seq[i]![1]).toBeGreaterThan(seq[i - 1]![1]);
    }
    const records = [0, 1, 2, 3].flatMap((q) => onPartition(q).filter(([p, , what]) => p === 'gw-other' && what === 'record'));
    expect(records).toHaveLength(36);
    // the events of one user: one partition, positions in request order
    await waitFor(() => ingest.filter((s) => s.rec.event_type === 'Positioned').length === 15, { message: 'positioned events' });
    const positions = ingest.filter((s) => s.rec.event_type === 'Positioned').map((s) => s.rec.receive_pos!);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(15);
  });

  it('answers CORS preflights, /ready and /metrics', async () => {
    const pre = await fetch(`${gw.url}/2/httpapi`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');
    expect(pre.headers.get('vary')).toBe('Access-Control-Request-Headers');
    expect(await (await fetch(`${gw.url}/ready`)).json()).toMatchObject({ status: 'ready', checks: { kafka: true } });
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    for (const name of ['groupscope_gateway_requests_total', 'groupscope_gateway_records_accepted_total', 'groupscope_gateway_rejects_total', 'groupscope_gateway_kafka_send_duration_seconds_bucket']) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/groupscope_gateway_rejects_total\{endpoint="httpapi",reason="invalid_api_key"\} [1-9]/);
    const nf = await fetch(`${gw.url}/nope`, { method: 'POST' });
    expect(await nf.json()).toEqual({ code: 404, error: 'Not found' });
  });
});
