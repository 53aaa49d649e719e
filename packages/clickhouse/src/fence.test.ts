import { createClickHouse } from './client';
import { fencedQueryId, isFencedOut, parseFencedQueryId, FENCED_OUT } from './fence';

const ch = createClickHouse({ url: 'http://127.0.0.1:1', database: 'gs_db' });
afterAll(() => ch.close());

it('names the database, topic and partitions of an INSERT in its query_id, and reads them back', () => {
  const id = fencedQueryId(ch, { topic: 'gs.events-enriched', partitions: [3, 0, 3] });
  expect(parseFencedQueryId(id)).toEqual({ database: 'gs_db', topic: 'gs.events-enriched', partitions: [3, 0] });
  expect(fencedQueryId(ch, { topic: 't', partitions: [1] })).not.toBe(fencedQueryId(ch, { topic: 't', partitions: [1] }));
  expect(parseFencedQueryId('8d1c-other-query')).toBeUndefined();
  expect(parseFencedQueryId('groupscope-writer:gs_db:t')).toBeUndefined();
});

it('tells a fenced-out INSERT from other failures by its marker', () => {
  expect(isFencedOut(new Error(`Code: 395. DB::Exception: ${FENCED_OUT}: another writer owns a partition of this insert`))).toBe(true);
  expect(isFencedOut(new Error('Code: 395. DB::Exception: Value passed to throwIf function is non-zero'))).toBe(false);
  expect(isFencedOut(undefined)).toBe(false);
});
