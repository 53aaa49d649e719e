import { codecs } from './codec';
import { SlabEncoder } from './slab';
import type { IngestRecord } from './types';

const record = (i: number, props = '{}'): IngestRecord => ({
  kind: 'event', project_id: 1, uuid: `u-${i}`, receive_time: 1, event_time: 2, event_type: `type-${i}`, user_id: `user-${i}`,
  device_id: null, insert_id: null, session_id: i, event_id: null, event_properties: props, user_properties: '{}', groups: { org: [`o${i}`] },
  context: { platform: 'Web' }, revenue: null, price: 1.5, quantity: null, location_lat: null, location_lng: null, extra: '{}',
  receive_pos: 1_700_000_000_000_000 + i, producer_id: 'gw-1',
});

describe('SlabEncoder', () => {
  it('encodes many records into shared slabs, each a separate view that decodes to its record', () => {
    const slab = new SlabEncoder();
    const recs = Array.from({ length: 3000 }, (_, i) => record(i, i % 500 === 0 ? JSON.stringify({ big: 'x'.repeat(1000) }) : '{}'));
    const views = recs.map((r) => slab.encode(codecs.ingest.reader, r));
    expect(new Set(views.map((v) => v.buffer)).size).toBeGreaterThan(1);
    views.forEach((v, i) => expect(codecs.ingest.decode(v)).toEqual(recs[i]));
    // bytes equal to the codec's own encoding
    expect(Buffer.compare(views[7]!, codecs.ingest.encode(recs[7]!))).toBe(0);
  });

  it('handles a record larger than a slab', () => {
    const slab = new SlabEncoder();
    const small = slab.encode(codecs.ingest.reader, record(1));
    const big = record(2, JSON.stringify({ big: 'y'.repeat(200_000) }));
    const view = slab.encode(codecs.ingest.reader, big);
    expect(codecs.ingest.decode(view)).toEqual(big);
    expect(codecs.ingest.decode(small)).toEqual(record(1));
  });
});
