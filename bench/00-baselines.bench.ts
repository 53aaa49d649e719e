import { randomBytes } from 'node:crypto';
import type { Bench } from './harness';
import { round } from './harness';
import { rawInsertRate, rawProducerRate, sampleEventRow, type RawMessage } from './baselines';

const bench: Bench = {
  name: 'raw baselines',
  async run(ctx) {
    const n = ctx.quick ? 20_000 : 200_000;
    const messages: RawMessage[] = Array.from({ length: n }, (_, i) => ({ key: `user-${i % 10_000}`, value: randomBytes(200) }));
    const produce = await rawProducerRate(ctx, messages, 1000);
    const ch = await ctx.clickhouse({ migrate: true });
    const rows = Array.from({ length: ctx.quick ? 50_000 : 500_000 }, (_, i) => sampleEventRow(i));
    const insert = await rawInsertRate(ch, 'events', rows, 50_000);
    return [
      { name: 'kafkajs producer, 200 B records, batches of 1000, acks=all', figure: { value: round(produce, 0), unit: 'records/s' } },
      { name: '@clickhouse/client insert into events, 50k-row batches', figure: { value: round(insert, 0), unit: 'rows/s' }, extra: { engine: ch.kind } },
    ];
  },
};
export default bench;
