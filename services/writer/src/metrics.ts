import { Counter, Gauge, Histogram } from 'prom-client';

export const rowsWritten = new Counter({
  name: 'groupscope_writer_rows_written_total',
  help: 'Rows inserted into ClickHouse and acknowledged, by table',
  labelNames: ['table'] as const,
});

export const rowsSkipped = new Counter({
  name: 'groupscope_writer_rows_skipped_total',
  help: 'Replayed rows not inserted again because ClickHouse already held their Kafka offset, by table',
  labelNames: ['table'] as const,
});

export const batchRows = new Histogram({
  name: 'groupscope_writer_batch_rows',
  help: 'Rows per INSERT, by table',
  labelNames: ['table'] as const,
  buckets: [1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000],
});

export const insertDuration = new Histogram({
  name: 'groupscope_writer_insert_duration_seconds',
  help: 'Time from sending an INSERT to its acknowledgement, by table',
  labelNames: ['table'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

export const flushFailures = new Counter({
  name: 'groupscope_writer_flush_failures_total',
  help: 'Flush attempts that failed (ClickHouse or Kafka unavailable); the batch is retried with back-off',
  labelNames: ['stage'] as const,
});

export const rowsRefused = new Counter({
  name: 'groupscope_writer_rows_refused_total',
  help: 'Records ClickHouse refused for what they hold (isolated and dead-lettered), by table and ClickHouse error code',
  labelNames: ['table', 'code'] as const,
});

export const recordsBuffered = new Gauge({
  name: 'groupscope_writer_records_buffered',
  help: 'Records consumed and not yet written',
});

export const consumerLagGauge = new Gauge({
  name: 'groupscope_writer_consumer_lag',
  help: 'Records in Kafka not yet committed by the writer, by topic (polled)',
  labelNames: ['topic'] as const,
});

export const commitsTotal = new Counter({
  name: 'groupscope_writer_offset_commits_total',
  help: 'Offset commits after acknowledged inserts',
});

export const fenceWait = new Histogram({
  name: 'groupscope_writer_fence_wait_seconds',
  help: 'Time from an assignment to its partitions being fenced: the token written and every older INSERT of them finished',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
});

export const fencedOut = new Counter({
  name: 'groupscope_writer_fenced_out_total',
  help: 'Flushes dropped because ClickHouse refused their INSERT: another writer had taken a partition meanwhile',
});
