// Raw baselines the other benchmarks compare against: kafkajs producing, and @clickhouse/client inserting.
// The insert is measured two ways on the same rows: JSONEachRow objects with float-second times, and the shape
// the writer uses (JSONCompactEachRow arrays, integer-millisecond times), the cheaper one for the server to parse.
import { randomBytes } from 'node:crypto';
import type { Bench } from './harness';
import { round } from './harness';
import { SAMPLE_EVENT_COLUMNS, rawInsertRate, rawProducerRate, sampleEventArray, sampleEventRow, type RawMessage } from './baselines';

const bench: Bench = {
  name: 'raw baselines',
  async run(ctx) {
    const n = ctx.quick ? 20_000 : 200_000;
    const messages: RawMessage[] = Array.from({ length: n }, (_, i) => ({ key: `user-${i % 10_000}`, value: randomBytes(200) }));
    const produce = await rawProducerRate(ctx, messages, 1000);
    const rowsN = ctx.quick ? 50_000 : 300_000;
    const ch = await ctx.clickhouse({ migrate: true });
    const objects = Array.from({ length: rowsN }, (_, i) => sampleEventRow(i, true));
    const asObjects = await rawInsertRate(ch, 'events', objects, 50_000);
    objects.length = 0;
    const arrays = Array.from({ length: rowsN }, (_, i) => sampleEventArray(i));
    const compact = await rawInsertRate(ch, 'events', arrays, 50_000, { columns: SAMPLE_EVENT_COLUMNS });
    return [
      { name: 'kafkajs producer, 200 B records, batches of 1000, acks=all', figure: { value: round(produce, 0), unit: 'records/s' } },
      {
        name: '@clickhouse/client insert into events, 50k-row batches (JSONCompactEachRow, ms times)',
        figure: { value: round(compact, 0), unit: 'rows/s' },
        extra: { json_each_row_float_seconds: round(asObjects, 0) },
      },
    ];
  },
};
export default bench;
