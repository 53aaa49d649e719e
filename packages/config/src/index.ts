// The only reader of process.env: each service declares a zod schema built from these parts and parses it once at boot.
import { z } from 'zod';

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

export const commonEnv = {
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder for local state: chDB data, the project registry, pid and log files. */
  GROUPSCOPE_DATA_DIR: z.string().default('.data'),
  /** Where the project registry lives (a JSON file; see packages/projects). */
  PROJECTS_FILE: z.string().optional(),
};

export const kafkaEnv = {
  KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().default('groupscope'),
  /** Prefix of every topic name, so several stacks (or test files) can share one cluster. */
  TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default('gs.'),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(4),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(7).default(1),
};

export const clickhouseEnv = {
  /** A ClickHouse server (24.8+) over HTTP; absent means the embedded engine (chDB). */
  CLICKHOUSE_URL: z.string().url().optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('groupscope'),
  /** chDB data folder for the embedded engine (default: <GROUPSCOPE_DATA_DIR>/chdb). */
  CHDB_PATH: z.string().optional(),
};

/** A TCP port variable with a default. */
export const port = (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort);

export const httpEnv = {
  /** interface the HTTP servers bind to; 0.0.0.0 in containers */
  HTTP_HOST: z.string().default('127.0.0.1'),
};

export { bool as envBool, csv as envCsv, z };

export class ConfigError extends Error {}

/** Parses the environment against a schema; throws one readable error listing every bad variable. */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
