// Raw baselines the other benchmarks compare against. Kafka: its own Java ProducerPerformance (300 B records, the
// size of the gateway's, acks=all, idempotence on) and ConsumerPerformance reading them back, then groupscope's
// kafkajs producer sending the same size of records in batches of 1000, each send awaited and 8 in flight; these
// four are measured once per run and every stage reports its ratio to the Java producer and to pipelined kafkajs.
// ClickHouse: the insert measured two ways on the same rows: JSONEachRow objects with float-second times, and the
// shape the writer uses (JSONCompactEachRow arrays, integer-millisecond times), the cheaper one for the server.
import type { Bench, BenchResult } from './harness';
import { round } from './harness';
import { BENCH_PARTITIONS, SAMPLE_EVENT_COLUMNS, kafkaBaselinesOnce, kafkaRatios, rawInsertRate, sampleEventArray, sampleEventRow } from './baselines';

const bench: Bench = {
  name: 'raw baselines',
  async run(ctx) {
    const k = await kafkaBaselinesOnce(ctx);
    const rowsN = ctx.quick ? 50_000 : 300_000;
    const ch = await ctx.clickhouse({ migrate: true });
    const objects = Array.from({ length: rowsN }, (_, i) => sampleEventRow(i, true));
    const asObjects = await rawInsertRate(ch, 'events', objects, 50_000);
    objects.length = 0;
    const arrays = Array.from({ length: rowsN }, (_, i) => sampleEventArray(i));
    const compact = await rawInsertRate(ch, 'events', arrays, 50_000, { columns: SAMPLE_EVENT_COLUMNS });
    const javaBaseline = { name: 'Kafka Java ProducerPerformance', value: round(k.produce, 0), unit: 'records/s' };
    const setup = `${k.recordSize} B records, acks=all, idempotent, ${BENCH_PARTITIONS} partitions, ${k.records} records`;
    const results: BenchResult[] = [
      { name: `Kafka Java ProducerPerformance (${setup})`, figure: { value: round(k.produce, 0), unit: 'records/s' } },
      {
        name: `Kafka Java ConsumerPerformance, reading them back (group join included)`,
        figure: { value: round(k.consume, 0), unit: 'records/s' },
        extra: { fetch_only_records_per_s: round(k.consumeFetchOnly, 0) },
      },
      {
        name: `kafkajs producer, ${setup}, batches of 1000, one send at a time`,
        figure: { value: round(k.kafkajs, 0), unit: 'records/s' },
        baseline: javaBaseline,
        ratio: round(k.kafkajs / k.produce, 2),
        ratios: kafkaRatios(k.kafkajs, k),
      },
      {
        name: `kafkajs producer, ${setup}, batches of 1000, 8 sends in flight`,
        figure: { value: round(k.kafkajsPipelined, 0), unit: 'records/s' },
        baseline: javaBaseline,
        ratio: round(k.kafkajsPipelined / k.produce, 2),
      },
      {
        name: '@clickhouse/client insert into events, 50k-row batches (JSONCompactEachRow, ms times)',
        figure: { value: round(compact, 0), unit: 'rows/s' },
        extra: { json_each_row_float_seconds: round(asObjects, 0) },
      },
    ];
    return results;
  },
};
export default bench;
