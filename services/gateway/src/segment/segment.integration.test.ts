// The Segment routes over HTTP against the real broker: what Segment's libraries and hostile clients send, the
// answers they get, and what lands in Kafka (records, and dead letters with their reasons).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { codecs, isMark, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import type { Headers as KafkaHeaders } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { testKafka, waitFor, TopicReader } from '@groupscope/testing';
import { loadGatewayConfig, startGateway, type RunningGateway } from '../index';

jest.setTimeout(90_000);

const tk = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'gw-segment-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
const main = registry.create('segment');
registry.setSegment(main.project_id, { group_type_trait: 'group_type', group_value_trait: 'name' });
const ingest: IngestRecord[] = [];
const groups: GroupIdentifyRecord[] = [];
const dead: { headers: Record<string, string>; value: unknown }[] = [];
let gw: RunningGateway;

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const headerText = (h: KafkaHeaders | undefined) =>
  Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : String(v)]));

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(gw.url + path, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const reader = new TopicReader(tk.kafka, [tk.topics.ingest, tk.topics.groupIdentify, tk.topics.dlq], {
  onMessage: (m) => {
    if (isMark(m.headers)) return; // the gateway's watermark marks
    if (m.topic === tk.topics.ingest) ingest.push(codecs.ingest.decode(m.value!, m.headers));
    else if (m.topic === tk.topics.groupIdentify) groups.push(codecs.groupIdentify.decode(m.value!, m.headers));
    else dead.push({ headers: headerText(m.headers), value: JSON.parse(m.value!.toString()) });
  },
});

beforeAll(async () => {
  gw = await startGateway({
    config: loadGatewayConfig({ KAFKA_BROKERS: tk.brokers.join(','), TOPIC_PREFIX: tk.prefix, KAFKA_PARTITIONS: '2', PROJECTS_FILE: projectsFile, GATEWAY_PORT: '0', LOG_LEVEL: 'silent' }),
    logger: silentLogger,
  });
  await reader.start();
});

afterAll(async () => {
  await gw?.stop();
  await reader.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Segment Tracking API over HTTP', () => {
  it('/v1/batch with Basic auth, as analytics-node sends it: 200 {success: true} and the records in Kafka', async () => {
    const res = await post(
      '/v1/batch',
      {
        batch: [
          { type: 'identify', userId: 'seg-user-1', traits: { plan: 'pro' }, messageId: 'sb-1', timestamp: new Date().toISOString() },
          { type: 'group', userId: 'seg-user-1', groupId: 'grp-1', traits: { group_type: 'Organization', name: 'Acme Inc', seats: 5 }, messageId: 'sb-2' },
          { type: 'track', userId: 'seg-user-1', event: 'Report Built', messageId: 'sb-3', integrations: { Amplitude: { groups: { team: 'core' } } } },
        ],
        sentAt: new Date().toISOString(),
      },
      { authorization: basic(main.api_key) },
    );
    expect(res).toMatchObject({ status: 200, body: { success: true } });
    await waitFor(() => ['sb-1', 'sb-2', 'sb-3'].every((id) => ingest.some((r) => r.insert_id === id)) && groups.some((g) => g.insert_id === 'sb-2'), { message: 'batch records' });
    expect(ingest.find((r) => r.insert_id === 'sb-2')).toMatchObject({ kind: 'identify', groups: { Organization: ['Acme Inc'] } });
    expect(ingest.find((r) => r.insert_id === 'sb-3')).toMatchObject({ kind: 'event', event_type: 'Report Built', groups: { team: ['core'] } });
    expect(groups.find((g) => g.insert_id === 'sb-2')).toMatchObject({ group_type: 'Organization', group_value: 'Acme Inc', group_properties: '{"$set":{"group_type":"Organization","name":"Acme Inc","seats":5}}' });
  });

  it("analytics-next's short paths: text/plain bodies with writeKey, the request's address as ip, CORS", async () => {
    const preflight = await fetch(`${gw.url}/v1/t`, {
      method: 'OPTIONS',
      headers: { origin: 'http://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const tp = { 'content-type': 'text/plain', origin: 'http://shop.example' };
    const t = await post('/v1/t', { type: 'track', event: 'Clicked', anonymousId: 'anon-browser-1', messageId: 'sn-1', writeKey: main.api_key, sentAt: new Date().toISOString() }, tp);
    expect(t).toMatchObject({ status: 200, body: { success: true } });
    expect(t.headers.get('access-control-allow-origin')).toBe('*');
    for (const [path, msg] of [
      ['/v1/i', { type: 'identify', anonymousId: 'anon-browser-1', userId: 'seg-user-2', traits: { email: 'a@b.test' }, messageId: 'sn-2' }],
      ['/v1/g', { type: 'group', userId: 'seg-user-2', groupId: 'grp-2', traits: {}, messageId: 'sn-3' }],
      ['/v1/p', { type: 'page', userId: 'seg-user-2', name: 'Home', messageId: 'sn-4' }],
      ['/v1/s', { type: 'screen', userId: 'seg-user-2', name: 'Cart', messageId: 'sn-5' }],
    ] as const) {
      expect(await post(path, { ...msg, writeKey: main.api_key }, tp)).toMatchObject({ status: 200, body: { success: true } });
    }
    // batching mode: /b under apiHost (which ends in /v1), or at the root
    for (const [path, id] of [['/v1/b', 'sn-6'], ['/b', 'sn-7']] as const) {
      const b = await post(path, { writeKey: main.api_key, batch: [{ type: 'track', event: 'Batched', anonymousId: 'anon-browser-1', messageId: id }], sentAt: new Date().toISOString() }, tp);
      expect(b).toMatchObject({ status: 200, body: { success: true } });
    }
    const ids = ['sn-1', 'sn-2', 'sn-3', 'sn-4', 'sn-5', 'sn-6', 'sn-7'];
    await waitFor(() => ids.every((id) => ingest.some((r) => r.insert_id === id)), { message: 'browser records' });
    const byId = (id: string) => ingest.find((r) => r.insert_id === id)!;
    expect(byId('sn-1').context.ip).toBe('127.0.0.1');
    expect(byId('sn-3').groups).toEqual({ '[Segment] Group': ['grp-2'] });
    expect(byId('sn-4').event_type).toBe('Viewed Home Page');
    expect(byId('sn-5').event_type).toBe('Viewed Cart Screen');
    expect(byId('sn-6').event_type).toBe('Batched');
  });

  it('serves the settings document analytics-next loads, pointing apiHost back at the gateway', async () => {
    const res = await fetch(`${gw.url}/v1/projects/${main.api_key}/settings`, { headers: { origin: 'http://shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as { integrations: Record<string, Record<string, unknown>> };
    expect(doc.integrations['Segment.io']).toMatchObject({ apiKey: main.api_key, apiHost: `127.0.0.1:${gw.port}/v1`, protocol: 'http' });
    // behind a trusted proxy (loopback by default) the forwarded host and protocol are the public ones
    const proxied = await fetch(`${gw.url}/v1/projects/${main.api_key}/settings`, { headers: { 'x-forwarded-host': 'ingest.example.com', 'x-forwarded-proto': 'https' } });
    expect(((await proxied.json()) as typeof doc).integrations['Segment.io']).toMatchObject({ apiHost: 'ingest.example.com/v1', protocol: 'https' });
    const unknown = await fetch(`${gw.url}/v1/projects/not-a-key/settings`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ success: false, code: 404 });
  });

  it('hostile and malformed requests get the documented answers, and the gateway keeps serving', async () => {
    const auth = { authorization: basic(main.api_key) };
    const cases: [string, string, string | Buffer, Record<string, string>, number][] = [
      ['invalid JSON', '/v1/batch', '{"batch": [', auth, 400],
      ['not an object', '/v1/track', '[1,2,3]', auth, 400],
      ['no write key', '/v1/batch', JSON.stringify({ batch: [] }), {}, 400],
      ['unknown write key', '/v1/batch', JSON.stringify({ batch: [] }), { authorization: basic('nope') }, 400],
      ['batch not an array', '/v1/batch', JSON.stringify({ batch: 'x' }), auth, 400],
      ['message over 32 KB', '/v1/track', JSON.stringify({ event: 'x', userId: 'seg-user-1', properties: { s: 'x'.repeat(33 * 1024) } }), auth, 400],
      ['batch over 500 KB', '/v1/batch', JSON.stringify({ batch: [{ type: 'track', event: 'x', userId: 'u-12345', properties: { s: 'x'.repeat(501 * 1024) } }] }), auth, 400],
      ['2501 messages', '/v1/batch', JSON.stringify({ batch: Array.from({ length: 2501 }, () => ({ type: 'track', event: 'e', userId: 'u-1' })) }), auth, 400],
      ['gzip bomb', '/v1/batch', gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)), { ...auth, 'content-encoding': 'gzip' }, 400],
      ['absurd nesting', '/v1/track', `{"event":"x","userId":"u-12345","properties":${'['.repeat(15_000)}${']'.repeat(15_000)}}`, auth, 200],
      ['unsupported encoding', '/v1/batch', '{}', { ...auth, 'content-encoding': 'br' }, 415],
    ];
    for (const [name, path, body, headers, status] of cases) {
      const res = await post(path, body, headers);
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(res.body).toMatchObject(status === 200 ? { success: true } : { success: false, code: status });
    }
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('unusable messages are answered 200 and dead-lettered with a reason; the usable ones are stored', async () => {
    const res = await post(
      '/v1/batch',
      {
        batch: [
          { type: 'track', event: 'Kept', userId: 'seg-user-3', messageId: 'dl-ok' },
          { type: 'track', userId: 'seg-user-3', messageId: 'dl-1' },
          { type: 'identify', traits: { a: 1 }, messageId: 'dl-2' },
          { type: 'group', userId: 'seg-user-3', messageId: 'dl-3' },
          { type: 'teleport', userId: 'seg-user-3', messageId: 'dl-4' },
        ],
      },
      { authorization: basic(main.api_key) },
    );
    expect(res).toMatchObject({ status: 200, body: { success: true } });
    expect(await post('/v1/alias', { userId: 'seg-user-4', previousId: 'seg-user-3', messageId: 'dl-5' }, { authorization: basic(main.api_key) })).toMatchObject({ status: 200 });

    await waitFor(() => dead.filter((d) => String((d.value as { messageId?: string }).messageId).startsWith('dl-')).length >= 5 && ingest.some((r) => r.insert_id === 'dl-ok'), { message: 'dead letters' });
    const reasonOf = (id: string) => dead.find((d) => (d.value as { messageId?: string }).messageId === id)?.headers;
    expect(reasonOf('dl-1')).toMatchObject({ 'dlq-reason': 'missing_event', 'dlq-stage': 'gateway', 'dlq-source-topic': 'http:/v1/batch', 'dlq-source-offset': '1', 'dlq-project-id': String(main.project_id) });
    expect(reasonOf('dl-2')?.['dlq-reason']).toBe('missing_id');
    expect(reasonOf('dl-3')?.['dlq-reason']).toBe('missing_group_id');
    expect(reasonOf('dl-4')?.['dlq-reason']).toBe('invalid_type');
    expect(reasonOf('dl-5')).toMatchObject({ 'dlq-reason': 'alias_unsupported', 'dlq-source-topic': 'http:/v1/alias' });
    expect(ingest.filter((r) => r.insert_id?.startsWith('dl-')).map((r) => r.insert_id)).toEqual(['dl-ok']);

    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/groupscope_gateway_segment_messages_total\{type="track",outcome="dead_lettered"\} [1-9]/);
    expect(text).toMatch(/groupscope_dead_letters_total\{stage="gateway",reason="alias_unsupported"\} [1-9]/);
    expect(text).toMatch(/groupscope_gateway_requests_total\{endpoint="segment_batch",code="400"\} [1-9]/);
  });

  it("Segment's Amplitude (Actions) destination's form posts to /identify and /groupidentify", async () => {
    const form = (identification: unknown, options?: string) =>
      new URLSearchParams({ api_key: main.api_key, identification: JSON.stringify(identification), options } as Record<string, string>).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' };
    const time = Date.now();
    const id = await post('/identify', form([{ device_id: 'act-device-1', groups: { org: 'act-org' }, insert_id: 'act-1', library: 'segment', time, user_id: 'act-user-1', user_properties: { org: 'act-org' } }]), headers);
    expect(id).toMatchObject({ status: 200, body: { code: 200 } });
    const gi = await post('/groupidentify', form([{ group_properties: { tier: 'gold' }, group_value: 'act-org', group_type: 'org', library: 'segment' }]), headers);
    expect(gi).toMatchObject({ status: 200, body: { code: 200 } });
    const noIds = await post('/groupidentify', form([{ group_value: 'act-org-2', group_type: 'org', library: 'segment' }], JSON.stringify({ min_id_length: 3 })), headers);
    expect(noIds).toMatchObject({ status: 200, body: { code: 200 } });
    await waitFor(() => ingest.some((r) => r.insert_id === 'act-1') && groups.some((g) => g.group_value === 'act-org') && groups.some((g) => g.group_value === 'act-org-2'), { message: 'actions records' });
    expect(ingest.find((r) => r.insert_id === 'act-1')).toMatchObject({ kind: 'identify', user_id: 'act-user-1', groups: { org: ['act-org'] }, event_time: time });
    expect(groups.find((g) => g.group_value === 'act-org')?.group_properties).toBe('{"tier":"gold"}');
  });
});
