import type { EnrichedEvent, GroupChange } from '@groupscope/events';
import { changeRowObjects, eventRowObjects } from './objects';
import { COLUMNS } from './tables';

const T = Date.UTC(2026, 10, 3, 10);

const event = {
  project_id: 7, uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', receive_time: T + 5, event_time: T, event_type: 'Invoice Sent',
  user_id: 'alice', device_id: null, insert_id: 'i', session_id: null, event_id: null, event_properties: '{"n":1}', user_properties: '{}',
  groups: { company: ['acme'] }, group_properties: [{ group_type: 'company', group_value: 'acme', properties: '{"plan":"pro"}' }],
  context: {}, revenue: null, price: null, quantity: null, location_lat: null, location_lng: null, extra: '{}',
} as EnrichedEvent;

describe('row objects', () => {
  it('name the columns of the events row and of its event_groups rows', () => {
    const out = eventRowObjects(event, 2, 40);
    if (out.kind !== 'ok') throw new Error(out.error);
    expect(Object.keys(out.value.event)).toEqual([...COLUMNS.events]);
    expect(out.value.event).toMatchObject({ project_id: 7, event_time: T, event_properties: { n: '1' }, kafka_partition: 2, kafka_offset: 40 });
    expect(out.value.eventGroups).toHaveLength(1);
    expect(Object.keys(out.value.eventGroups[0]!)).toEqual([...COLUMNS.event_groups]);
    expect(out.value.eventGroups[0]).toMatchObject({ group_type: 'company', group_value: 'acme', group_properties: { plan: 'pro' }, all_group_properties: '{"company":{"acme":{"plan":"pro"}}}' });
  });

  it('name the columns of a change: the current row (first seen now by default) and the history', () => {
    const change: GroupChange = { project_id: 7, group_type: 'company', group_value: 'acme', event_time: T, receive_time: T + 1, properties: '{"plan":"pro"}', changed: ['plan'], removed: ['x'], source_uuid: event.uuid };
    const out = changeRowObjects(change, 1, 9);
    if (out.kind !== 'ok') throw new Error(out.error);
    expect(out.value.group).toMatchObject({ group_value: 'acme', properties: { plan: 'pro' }, updated_at: T, first_identified: T, kafka_offset: 9 });
    expect(out.value.history.map((h) => [h.property, h.value, h.removed])).toEqual([['plan', 'pro', 0], ['x', '', 1]]);
  });

  it('refuse what the writer would dead-letter', () => {
    expect(eventRowObjects({ ...event, uuid: 'x' }, 0, 0).kind).toBe('invalid');
  });
});
