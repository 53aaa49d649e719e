// Contract: Segment's Amplitude (Actions) destination posts to the gateway's /identify and /groupidentify exactly
// as it posts to Amplitude. The bodies below are built the way the destination builds them (URLSearchParams over
// a record, so an absent `options` is sent as the string "undefined"), for each of its request shapes.
import { codecs, groupKey, userKey, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import type { Project } from '@groupscope/projects';
import { formFields } from '../body';
import { processGroupIdentify, processIdentify, type Accepted, type Rejected, type RequestContext } from '../protocol';
import { Throttle } from '../throttle';
import { ReceiveClock } from '../positions';

const project: Project = {
  id: 9, name: 'p', api_key: 'key-9', secret_salt: 's', secret_hash: 'h', time_zone: 'UTC',
  throttle: { enabled: false, httpapi_eps: 30, batch_eps: 1000 }, created_at: '2026-01-01T00:00:00Z',
};
const ctx = (): RequestContext => {
  let n = 0;
  return {
    lookup: (k) => (k === project.api_key ? project : undefined),
    throttle: new Throttle(),
    limits: { maxEvents: 2000, maxIdentifications: 1024, maxRecordBytes: 900_000 },
    receiveTime: 1_700_000_000_000,
    position: new ReceiveClock('gw-test', () => 1_700_000_000_000),
    uuid: () => `uuid-${++n}`,
  };
};

/** The destination's form body: `new URLSearchParams({api_key, identification, options})`, options possibly absent. */
const destinationBody = (identification: unknown, options?: string) =>
  new URLSearchParams({ api_key: project.api_key, identification: JSON.stringify(identification), options } as Record<string, string>).toString();

const FORM = 'application/x-www-form-urlencoded;charset=UTF-8';
async function post(process: typeof processIdentify, body: string): Promise<Accepted> {
  const fields = await formFields(FORM, Buffer.from(body));
  const r: Accepted | Rejected = process(fields!, ctx());
  if (!r.ok) throw new Error(`rejected: ${JSON.stringify(r.reply)}`);
  return r;
}
const ingestOf = (a: Accepted) => a.messages.map((m) => ({ key: m.key, rec: codecs.ingest.decode(m.value, m.headers) as IngestRecord }));
const groupsOf = (a: Accepted) => a.messages.map((m) => ({ key: m.key, rec: codecs.groupIdentify.decode(m.value, m.headers) as GroupIdentifyRecord }));

describe('Amplitude (Actions) destination: Group Identify User', () => {
  const time = Date.parse('2021-04-12T16:32:37.710Z');

  it('with ids: /identify associates the user (user-level group and the user property), options=undefined', async () => {
    const body = destinationBody([
      { device_id: 'some-anonymous-id', groups: { 'some-type': 'some-value' }, insert_id: 'some-insert-id', library: 'segment', time, user_id: 'some-user-id', user_properties: { 'some-type': 'some-value' } },
    ]);
    expect(body).toMatch(/&options=undefined$/);
    const [r] = ingestOf(await post(processIdentify, body));
    expect(r!.key).toBe(userKey(9, 'some-user-id', 'some-anonymous-id'));
    expect(r!.rec).toMatchObject({
      kind: 'identify', event_type: '$identify', user_id: 'some-user-id', device_id: 'some-anonymous-id', insert_id: 'some-insert-id',
      event_time: time, groups: { 'some-type': ['some-value'] }, user_properties: '{"some-type":"some-value"}',
    });
    expect(JSON.parse(r!.rec.extra)).toEqual({ library: 'segment' });
  });

  it('then /groupidentify sets the group properties from the traits', async () => {
    const body = destinationBody([{ group_properties: { 'some-trait-key': 'some-trait-value' }, group_value: 'some-value', group_type: 'some-type', library: 'segment' }]);
    const [g] = groupsOf(await post(processGroupIdentify, body));
    expect(g!.key).toBe(groupKey(9, 'some-type', 'some-value'));
    expect(g!.rec).toMatchObject({ group_type: 'some-type', group_value: 'some-value', group_properties: '{"some-trait-key":"some-trait-value"}', user_id: null, device_id: null });
  });

  it('without ids: only /groupidentify, and without traits no group_properties at all', async () => {
    const body = destinationBody([{ group_value: 'some-value', group_type: 'some-type', library: 'segment' }]);
    const [g] = groupsOf(await post(processGroupIdentify, body));
    expect(g!.rec).toMatchObject({ group_type: 'some-type', group_value: 'some-value', group_properties: '{}' });
  });

  it('with a minimum id length: options is JSON and a short id is kept', async () => {
    const body = destinationBody([{ groups: { org: 'o1' }, library: 'segment', time, user_id: 'abc', user_properties: { org: 'o1' } }], JSON.stringify({ min_id_length: 3 }));
    const [r] = ingestOf(await post(processIdentify, body));
    expect(r!.rec).toMatchObject({ user_id: 'abc', groups: { org: ['o1'] } });
    const gi = destinationBody([{ group_value: 'o1', group_type: 'org', library: 'segment' }], JSON.stringify({ min_id_length: 3 }));
    expect(groupsOf(await post(processGroupIdentify, gi))).toHaveLength(1);
  });
});

describe('Amplitude (Actions) destination: Identify User', () => {
  it('one identification object (not a list), parsed device fields, options=undefined', async () => {
    const body = destinationBody({
      os_name: 'iOS', os_version: '9', device_manufacturer: 'Apple', device_model: 'iPhone', device_type: 'mobile',
      user_id: 'some-user-id', device_id: 'some-anonymous-id', user_properties: { 'some-trait-key': 'some-trait-value' },
      country: 'United States', city: 'San Francisco', language: 'en-US', platform: 'Web', library: 'segment',
    });
    expect(body).toMatch(/&options=undefined$/);
    const [r] = ingestOf(await post(processIdentify, body));
    expect(r!.rec).toMatchObject({
      kind: 'identify', user_id: 'some-user-id', device_id: 'some-anonymous-id', user_properties: '{"some-trait-key":"some-trait-value"}',
      context: { os_name: 'iOS', os_version: '9', device_manufacturer: 'Apple', device_model: 'iPhone', country: 'United States', city: 'San Francisco', language: 'en-US', platform: 'Web' },
    });
    expect(JSON.parse(r!.rec.extra)).toEqual({ device_type: 'mobile', library: 'segment' });
  });

  it('user_id null with a device id, UTM operations in user_properties, and user-level groups', async () => {
    const body = destinationBody({
      user_id: null, device_id: 'device-foo', groups: { company: 'acme' },
      user_properties: { 'some-trait-key': 'v', $set: { utm_source: 'Newsletter' }, $setOnce: { initial_utm_source: 'Newsletter' } }, library: 'segment',
    });
    const [r] = ingestOf(await post(processIdentify, body));
    expect(r!.key).toBe(userKey(9, null, 'device-foo'));
    expect(r!.rec).toMatchObject({ user_id: null, device_id: 'device-foo', groups: { company: ['acme'] } });
    expect(JSON.parse(r!.rec.user_properties)).toEqual({ 'some-trait-key': 'v', $set: { utm_source: 'Newsletter' }, $setOnce: { initial_utm_source: 'Newsletter' } });
  });

  it('an empty api_key (as sent with unset settings) is refused in Amplitude shape', async () => {
    const fields = await formFields(FORM, Buffer.from('api_key=&identification=%7B%22user_id%22%3A%22u-12345%22%7D&options=undefined'));
    const r = processIdentify(fields!, ctx());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reply).toEqual({ status: 400, body: { code: 400, error: 'Request missing required field', missing_field: 'api_key' } });
  });
});
