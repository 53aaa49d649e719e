import { codecs } from '@groupscope/events';
import { groupIdentifyRecord, httpEvent, ingestRecord } from './sinks';

describe('generator sinks', () => {
  it('writes events, identifies and group identifies as an SDK would send them', () => {
    expect(httpEvent({ kind: 'event', time: 5, userId: 'user-1', eventType: 'Report Created', eventProperties: { chart: 'bar' }, groups: { project: ['p-1'] }, insertId: 'i-1' })).toEqual({
      event_type: 'Report Created', user_id: 'user-1', time: 5, insert_id: 'i-1', event_properties: { chart: 'bar' }, platform: 'Web', groups: { project: ['p-1'] },
    });
    expect(httpEvent({ kind: 'identify', time: 5, userId: 'user-1', userProperties: { role: 'admin' }, groups: { company: ['acct-1'] } })).toMatchObject({
      event_type: '$identify', user_properties: { $set: { role: 'admin' } }, groups: { company: ['acct-1'] },
    });
    expect(httpEvent({ kind: 'group', time: 5, groupType: 'company', groupValue: 'acct-1', properties: { plan: 'pro' } })).toMatchObject({
      event_type: '$groupidentify', groups: { company: 'acct-1' }, group_properties: { $set: { plan: 'pro' } },
    });
  });

  it('builds Kafka records the codecs accept', () => {
    const ev = ingestRecord({ kind: 'event', time: 5, userId: 'user-1', eventType: 'Page Viewed', eventProperties: { page: '/' }, insertId: 'i-1' }, 3, 10);
    expect(codecs.ingest.decode(codecs.ingest.encode(ev))).toMatchObject({ kind: 'event', project_id: 3, event_time: 5, event_properties: '{"page":"/"}' });
    const id = ingestRecord({ kind: 'identify', time: 5, userId: 'user-1', userProperties: { role: 'admin' }, groups: { company: ['acct-1'] } }, 3, 10);
    expect(codecs.ingest.decode(codecs.ingest.encode(id))).toMatchObject({ kind: 'identify', event_type: '$identify', user_properties: '{"$set":{"role":"admin"}}', groups: { company: ['acct-1'] } });
    const g = groupIdentifyRecord({ kind: 'group', time: 5, groupType: 'company', groupValue: 'acct-1', properties: { plan: 'pro' } }, 3, 10);
    expect(codecs.groupIdentify.decode(codecs.groupIdentify.encode(g))).toMatchObject({ group_type: 'company', group_value: 'acct-1', group_properties: '{"$set":{"plan":"pro"}}' });
  });
});
