import { recordMessage } from '@groupscope/events';
import type { KafkaMessage } from '@groupscope/kafka';
import { changeMessage, enrichedEvent, eventMessage, groupChange } from '@groupscope/testing';
import { WriteBuffer, type FetchedBatch } from './buffer';

const consumed = (m: { key: string; value: Buffer; headers: Record<string, string> }, offset: number): KafkaMessage => ({
  key: Buffer.from(m.key),
  value: m.value,
  headers: m.headers,
  offset: String(offset),
  timestamp: '0',
});

const events = (partition: number, first: number, n: number, lastOffset?: number): FetchedBatch => ({
  topic: 'enriched',
  partition,
  messages: Array.from({ length: n }, (_, i) => consumed(eventMessage(enrichedEvent(first + i)), first + i)),
  lastOffset: lastOffset === undefined ? undefined : String(lastOffset),
});

const newBuffer = () => new WriteBuffer((topic) => (topic === 'enriched' ? 'events' : 'changes'));

describe('WriteBuffer', () => {
  it('buffers per partition and counts records, from the first arrival', () => {
    const b = newBuffer();
    expect(b.add(events(0, 0, 3), 1000)).toBe(3);
    expect(b.add(events(1, 0, 2), 2000)).toBe(2);
    expect({ records: b.records, oldestAt: b.oldestAt }).toEqual({ records: 5, oldestAt: 1000 });
    const parts = b.take();
    expect(parts.map((p) => [p.partition, p.records, p.events?.length, p.lastOffset])).toEqual([[0, 3, 3, 2], [1, 2, 2, 1]]);
    expect(b.records).toBe(0);
  });

  it('skips records of a batch handed over again, also after a flush took the first copy', () => {
    const b = newBuffer();
    b.add(events(0, 0, 3), 0);
    b.take();
    expect(b.add(events(0, 0, 5), 0)).toBe(2);
    expect(b.take()[0]!.events!.offsets).toEqual([3, 4]);
  });

  it('commits past a transaction marker that ends the batch', () => {
    const b = newBuffer();
    b.add(events(0, 0, 2, 2), 0);
    expect(b.take()[0]!.lastOffset).toBe(2);
  });

  it('maps group changes to a current row and history rows', () => {
    const b = newBuffer();
    b.add({ topic: 'changes', partition: 0, messages: [consumed(changeMessage(groupChange(1)), 7)] }, 0);
    const [p] = b.take();
    expect({ groups: p!.groups.map((g) => g.offset), history: p!.history.length }).toEqual({ groups: [7], history: 2 });
  });

  it.each<[string, KafkaMessage, string]>([
    ['an empty value', { key: null, value: null, offset: '4', timestamp: '0' }, 'invalid_record'],
    ['bytes that are not Avro', { key: Buffer.from('k'), value: Buffer.from('not avro'), offset: '4', timestamp: '0' }, 'decode_error'],
    ['an event ClickHouse would refuse', consumed(recordMessage.enriched(enrichedEvent(1, { uuid: 'nope' })), 4), 'invalid_record'],
  ])('dead-letters %s, keeping the record and its position', (_name, msg, reason) => {
    const b = newBuffer();
    expect(b.add({ topic: 'enriched', partition: 2, messages: [msg] }, 0)).toBe(1);
    const [p] = b.take();
    expect(p!.dead.map((d) => [d.reason, d.stage, d.source, d.value])).toEqual([[reason, 'writer', { topic: 'enriched', partition: 2, offset: '4' }, msg.value]]);
    expect(p!.lastOffset).toBe(4);
  });

  it('forgets positions on reset (a rebalance), keeps them on discard (a dropped flush)', () => {
    const b = newBuffer();
    b.add(events(0, 0, 2), 0);
    b.discard();
    expect(b.add(events(0, 0, 2), 0)).toBe(0);
    b.reset();
    expect(b.add(events(0, 0, 2), 0)).toBe(2);
  });
});
