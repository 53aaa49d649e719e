import { loadConfig, commonEnv, kafkaEnv, clickhouseEnv, httpEnv, int, port, z } from '@groupscope/config';

export const writerEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...clickhouseEnv,
  ...httpEnv,
  WRITER_PORT: port(8083),
  /** consumer group of the writer instances (default: <TOPIC_PREFIX>writer) */
  WRITER_GROUP_ID: z.string().min(1).optional(),
  /** flush when this many records are buffered (ClickHouse's guidance: 10k to 100k rows per insert) */
  WRITER_BATCH_ROWS: int(50_000, { min: 1, max: 500_000 }),
  /** ... or when the oldest buffered record is this old (about one insert per second) */
  WRITER_BATCH_MS: int(1000, { min: 10 }),
  /** longest pause between two attempts while ClickHouse refuses writes */
  WRITER_RETRY_MAX_MS: int(30_000, { min: 100 }),
  /** consumer group session timeout: how long a dead instance holds its partitions before a rebalance */
  WRITER_SESSION_TIMEOUT_MS: int(30_000, { min: 6000 }),
};
export type WriterConfig = ReturnType<typeof loadWriterConfig>;
export const loadWriterConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(writerEnv, env);
