import { codecs, groupKey, userKey, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import type { Project } from '@groupscope/projects';
import type { RequestContext } from '../protocol';
import { Throttle } from '../throttle';
import { processSegment, SEGMENT_LIMITS, writeKeyOf, type SegmentAccepted, type SegmentRejected, type SegmentRoute } from './protocol';
import { ReceiveClock } from '../positions';

const project = (over: Partial<Project> = {}): Project => ({
  id: 7,
  name: 'p',
  api_key: 'key-7',
  secret_salt: 's',
  secret_hash: 'h',
  time_zone: 'UTC',
  throttle: { enabled: false, httpapi_eps: 30, batch_eps: 1000 },
  created_at: '2026-01-01T00:00:00Z',
  ...over,
});

const RECEIVE = 1_700_000_000_000;
function ctx(p: Project = project(), overrides: Partial<RequestContext> = {}): RequestContext {
  let n = 0;
  return {
    lookup: (k) => (k === p.api_key ? p : undefined),
    throttle: new Throttle(1000, () => RECEIVE),
    limits: { maxEvents: 2000, maxIdentifications: 1024, maxRecordBytes: 900_000 },
    receiveTime: RECEIVE,
    position: new ReceiveClock('gw-test', () => RECEIVE),
    uuid: () => `uuid-${++n}`,
    remoteIp: '203.0.113.9',
    ...overrides,
  };
}

const BATCH: SegmentRoute = { path: '/v1/batch', batch: true, browser: false };
const TRACK: SegmentRoute = { path: '/v1/track', type: 'track', batch: false, browser: false };
const BROWSER_TRACK: SegmentRoute = { path: '/v1/t', type: 'track', batch: false, browser: true };
const basic = (user: string, password = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = basic('key-7');

const ok = (r: SegmentAccepted | SegmentRejected): SegmentAccepted => {
  if (!r.ok) throw new Error(`rejected: ${JSON.stringify(r.reply)}`);
  return r;
};
const rejected = (r: SegmentAccepted | SegmentRejected): SegmentRejected => {
  if (r.ok) throw new Error('accepted');
  return r;
};
const ingest = (a: SegmentAccepted) =>
  a.messages.filter((m) => m.role === 'ingest').map((m) => ({ key: m.key, rec: codecs.ingest.decode(m.value, m.headers) as IngestRecord }));
const groups = (a: SegmentAccepted) =>
  a.messages.filter((m) => m.role === 'groupIdentify').map((m) => ({ key: m.key, rec: codecs.groupIdentify.decode(m.value, m.headers) as GroupIdentifyRecord }));
const dlq = (a: SegmentAccepted) => a.messages.filter((m) => m.role === 'dlq').map((m) => ({ headers: m.headers, value: JSON.parse(m.value.toString()) as unknown }));

describe('writeKeyOf', () => {
  it.each([
    ['Basic with empty password', basic('wk-1'), undefined, 'wk-1'],
    ['Basic without a colon', `Basic ${Buffer.from('wk-1').toString('base64')}`, undefined, 'wk-1'],
    ['lower-case scheme', `basic ${Buffer.from('wk-1:').toString('base64')}`, undefined, 'wk-1'],
    ['body writeKey', undefined, { writeKey: 'wk-2' }, 'wk-2'],
    ['header wins over body', basic('wk-1'), { writeKey: 'wk-2' }, 'wk-1'],
    ['empty Basic user falls back to the body', basic(''), { writeKey: 'wk-2' }, 'wk-2'],
    ['Bearer is not a write key', 'Bearer abc', { writeKey: 'wk-2' }, 'wk-2'],
    ['nothing', undefined, {}, undefined],
    ['writeKey not a string', undefined, { writeKey: 7 }, undefined],
  ])('%s', (_n, header, body, want) => {
    expect(writeKeyOf(header, body)).toBe(want);
  });
});

describe('processSegment: request-level answers', () => {
  const cases: [string, SegmentRoute, unknown, string | undefined, number, string][] = [
    ['body not an object', BATCH, [1], AUTH, 400, 'invalid_json'],
    ['body null', TRACK, null, AUTH, 400, 'invalid_json'],
    ['no write key', BATCH, { batch: [] }, undefined, 400, 'missing_write_key'],
    ['unknown write key', BATCH, { batch: [] }, basic('nope'), 400, 'invalid_write_key'],
    ['unknown body writeKey', TRACK, { writeKey: 'nope', event: 'x', userId: 'user-1' }, undefined, 400, 'invalid_write_key'],
    ['batch missing', BATCH, { messages: [] }, AUTH, 400, 'missing_batch'],
    ['batch not an array', BATCH, { batch: { type: 'track' } }, AUTH, 400, 'missing_batch'],
    ['2501 messages', BATCH, { batch: Array.from({ length: SEGMENT_LIMITS.batchMessages + 1 }, () => ({ type: 'track', event: 'x', userId: 'user-1' })) }, AUTH, 400, 'too_many_messages'],
  ];
  it.each(cases)('%s -> %i %s', (_n, route, body, auth, status, reason) => {
    const r = rejected(processSegment(route, body, auth, ctx()));
    expect(r.reason).toBe(reason);
    expect(r.reply.status).toBe(status);
    expect(r.reply.body).toMatchObject({ success: false, code: status });
    expect(typeof r.reply.body.message).toBe('string');
  });

  it('accepts an empty batch and exactly 2500 messages', () => {
    expect(ok(processSegment(BATCH, { batch: [] }, AUTH, ctx())).messages).toEqual([]);
    const full = ok(processSegment(BATCH, { batch: Array.from({ length: 2500 }, (_, i) => ({ type: 'track', event: 'x', userId: `user-${i}` })) }, AUTH, ctx()));
    expect(full.kinds.event).toBe(2500);
  });

  it('answers 429 in Segment shape with Retry-After when the project throttle is on', () => {
    const p = project({ throttle: { enabled: true, httpapi_eps: 30, batch_eps: 1 } });
    const batch = Array.from({ length: 40 }, () => ({ type: 'track', event: 'x', userId: 'user-1' }));
    const r = rejected(processSegment(BATCH, { batch }, AUTH, ctx(p)));
    expect(r.reply).toMatchObject({ status: 429, headers: { 'Retry-After': '1' }, body: { success: false, code: 429, throttled_users: { 'user-1': expect.any(Number) } } });
  });
});

describe('processSegment: records', () => {
  it('a batch becomes the same records an Amplitude request would: events, identifies, group identifies, keyed by user', () => {
    const a = ok(
      processSegment(
        BATCH,
        {
          batch: [
            { type: 'identify', userId: 'user-1', traits: { plan: 'pro' }, messageId: 'm-1', timestamp: '2023-11-14T12:00:00Z' },
            { type: 'group', userId: 'user-1', groupId: 'g-1', traits: { kind: 'company', name: 'Acme', seats: 5 }, messageId: 'm-2' },
            { type: 'track', userId: 'user-1', event: 'Invoice Sent', properties: { n: 1 }, integrations: { Amplitude: { groups: { region: 'eu' } } }, messageId: 'm-3' },
            { type: 'page', anonymousId: 'anon-1', name: 'Pricing', messageId: 'm-4' },
          ],
        },
        AUTH,
        ctx(project({ segment: { group_type_trait: 'kind', group_value_trait: 'name' } })),
      ),
    );
    expect(a.kinds).toEqual({ event: 2, identify: 2, group_identify: 1 });
    expect(a.outcomes).toEqual([{ type: 'identify' }, { type: 'group' }, { type: 'track' }, { type: 'page' }]);
    const recs = ingest(a);
    expect(recs.map((r) => [r.rec.kind, r.rec.event_type, r.rec.insert_id])).toEqual([
      ['identify', '$identify', 'm-1'],
      ['identify', '$identify', 'm-2'],
      ['event', 'Invoice Sent', 'm-3'],
      ['event', 'Viewed Pricing Page', 'm-4'],
    ]);
    expect(recs[0]!.key).toBe(userKey(7, 'user-1', null));
    expect(recs[0]!.rec).toMatchObject({ project_id: 7, user_id: 'user-1', receive_time: RECEIVE, event_time: Date.parse('2023-11-14T12:00:00Z'), user_properties: '{"$set":{"plan":"pro"}}' });
    expect(recs[1]!.rec.groups).toEqual({ company: ['Acme'] });
    expect(recs[2]!.rec).toMatchObject({ groups: { region: ['eu'] }, event_properties: '{"n":1}', event_time: RECEIVE });
    expect(recs[3]!.key).toBe(userKey(7, null, 'anon-1'));
    const [g] = groups(a);
    expect(g!.key).toBe(groupKey(7, 'company', 'Acme'));
    expect(g!.rec).toMatchObject({ group_type: 'company', group_value: 'Acme', insert_id: 'm-2', group_properties: '{"$set":{"kind":"company","name":"Acme","seats":5}}' });
    expect(JSON.parse(recs[0]!.rec.extra)).toEqual({ library: 'segment' });
  });

  it("applies the batch's context and integrations to each message (the message's own keys win)", () => {
    const a = ok(
      processSegment(
        BATCH,
        {
          context: { os: { name: 'Linux' }, locale: 'en-GB' },
          integrations: { Amplitude: { groups: { org: 'acme' } } },
          batch: [
            { type: 'track', event: 'a', userId: 'user-1' },
            { type: 'track', event: 'b', userId: 'user-1', context: { locale: 'de-DE' }, integrations: { Amplitude: { groups: { org: 'globex' } } } },
          ],
        },
        AUTH,
        ctx(),
      ),
    );
    const [a1, b1] = ingest(a).map((r) => r.rec);
    expect(a1).toMatchObject({ groups: { org: ['acme'] }, context: { os_name: 'Linux', language: 'en-GB' } });
    expect(b1).toMatchObject({ groups: { org: ['globex'] }, context: { os_name: 'Linux', language: 'de-DE' } });
  });

  it("corrects clock skew with the batch's sentAt", () => {
    const sentAt = new Date(RECEIVE + 3_600_000).toISOString(); // the sender's clock is an hour fast
    const a = ok(processSegment(BATCH, { sentAt, batch: [{ type: 'track', event: 'x', userId: 'user-1', timestamp: new Date(RECEIVE + 3_600_000 - 5_000).toISOString() }] }, AUTH, ctx()));
    expect(ingest(a)[0]!.rec.event_time).toBe(RECEIVE - 5_000);
  });

  it('browser paths fill ip from the request; server paths do not; body writeKey authenticates', () => {
    const body = { writeKey: 'key-7', event: 'x', anonymousId: 'anon-1' };
    expect(ingest(ok(processSegment(BROWSER_TRACK, body, undefined, ctx())))[0]!.rec.context.ip).toBe('203.0.113.9');
    expect(ingest(ok(processSegment(TRACK, body, undefined, ctx())))[0]!.rec.context.ip).toBeUndefined();
  });
});

describe('processSegment: unusable messages are dead-lettered with a reason, the rest is stored', () => {
  it('each reason, with the message as received and the headers naming why and where', () => {
    const batch: unknown[] = [
      { type: 'track', event: 'good', userId: 'user-1', messageId: 'ok-1' },
      { type: 'track', userId: 'user-1' },
      { type: 'identify', traits: { a: 1 } },
      'not an object',
      { type: 'alias', userId: 'user-2', previousId: 'user-1' },
      { type: 'track', event: 'x', userId: 'user-1', properties: 'not an object' },
      { type: 'track', event: 'x', userId: 'user-1', properties: { big: 'y'.repeat(SEGMENT_LIMITS.messageBytes) } },
      { type: 'track', event: 'x', userId: 'user-1', timestamp: 'last tuesday' },
      { type: 'track', event: 'x'.repeat(1025), userId: 'user-1' },
      { type: 'group', userId: 'user-1' },
      { type: 'unknown-type', userId: 'user-1' },
    ];
    const a = ok(processSegment(BATCH, { batch }, AUTH, ctx()));
    expect(a.outcomes.map((o) => o.dead ?? 'stored')).toEqual([
      'stored',
      'missing_event',
      'missing_id',
      'invalid_message',
      'alias_unsupported',
      'invalid_fields',
      'message_too_large',
      'invalid_timestamp',
      'invalid_fields',
      'missing_group_id',
      'invalid_type',
    ]);
    expect(ingest(a).map((r) => r.rec.insert_id)).toEqual(['ok-1']);
    const letters = dlq(a);
    expect(letters).toHaveLength(10);
    expect(letters[0]!.value).toEqual(batch[1]);
    expect(letters[2]!.value).toBe('not an object');
    expect(letters[0]!.headers).toMatchObject({
      'dlq-reason': 'missing_event',
      'dlq-stage': 'gateway',
      'dlq-source-topic': 'http:/v1/batch',
      'dlq-source-offset': '1',
      'dlq-project-id': '7',
      'dlq-error': expect.stringContaining('event'),
    });
    expect(letters[4]!.headers['dlq-error']).toBe('invalid: properties');
    expect(letters[7]!.headers['dlq-error']).toBe('invalid: event');
  });

  it('a message nested too deeply to serialize is dead-lettered, nothing throws', () => {
    const deep = JSON.parse(`{"type":"track","event":"x","userId":"user-1","properties":${'{"a":'.repeat(60_000)}1${'}'.repeat(60_000)}}`);
    const a = ok(processSegment(TRACK, deep, AUTH, ctx()));
    expect(a.outcomes).toEqual([{ type: 'track', dead: 'invalid_message' }]);
    expect(dlq(a)[0]!.value).toEqual({ error: 'message nested too deeply to be serialized' });
  });

  it('a record that exceeds the record size limit is dead-lettered alone', () => {
    const batch = [
      { type: 'track', event: 'small', userId: 'user-1' },
      { type: 'track', event: 'large', userId: 'user-1', properties: { s: 'z'.repeat(1000), t: Array.from({ length: 20 }, () => 'w'.repeat(1000)) } },
      { type: 'track', event: 'small2', userId: 'user-1' },
    ];
    const a = ok(processSegment(BATCH, { batch }, AUTH, ctx(project(), { limits: { maxEvents: 2000, maxIdentifications: 1024, maxRecordBytes: 5000 } })));
    expect(a.outcomes.map((o) => o.dead ?? 'stored')).toEqual(['stored', 'invalid_fields', 'stored']);
    expect(ingest(a).map((r) => r.rec.event_type)).toEqual(['small', 'small2']);
  });
});
