// The only reader of process.env: each service declares a zod schema built from these parts and parses it once at boot.
import { join, resolve } from 'node:path';
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
  /**
   * A consumer (enricher, writer) whose attempts keep failing while it has lag, with no progress for this long, is
   * stalled: /ready answers 503 with the reason and groupscope_<service>_stalled{reason} is 1.
   */
  CONSUMER_STALL_AFTER_MS: z.coerce.number().int().min(1000).default(60_000),
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

/**
 * A whole-number variable with a default and explicit bounds. Every bound is stated where the variable is
 * declared, so a zero or negative value a variable cannot work with is refused at boot instead of at first use.
 */
export const int = (def: number, bounds: { min: number; max?: number }) =>
  z.coerce.number().int().min(bounds.min).max(bounds.max ?? Number.MAX_SAFE_INTEGER).default(def);

export const httpEnv = {
  /** interface the HTTP servers bind to; 0.0.0.0 in containers */
  HTTP_HOST: z.string().default('127.0.0.1'),
};

export { bool as envBool, csv as envCsv, z };

type CommonConfig = { GROUPSCOPE_DATA_DIR: string; PROJECTS_FILE?: string };

/** The project registry file: PROJECTS_FILE, else projects.json in the data folder (absolute). */
export function projectsFile(config: CommonConfig): string {
  return config.PROJECTS_FILE ? resolve(config.PROJECTS_FILE) : join(resolve(config.GROUPSCOPE_DATA_DIR), 'projects.json');
}

/** The embedded engine's data folder: CHDB_PATH, else chdb in the data folder (absolute). */
export function chdbPath(config: CommonConfig & { CHDB_PATH?: string }): string {
  return config.CHDB_PATH ? resolve(config.CHDB_PATH) : join(resolve(config.GROUPSCOPE_DATA_DIR), 'chdb');
}

type ClickHouseConfig = CommonConfig & {
  CLICKHOUSE_URL?: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
  CLICKHOUSE_DATABASE: string;
  CHDB_PATH?: string;
};

/** What createClickHouse needs from the clickhouseEnv variables (a server with CLICKHOUSE_URL, else chDB). */
export function clickhouseOptions(config: ClickHouseConfig) {
  return {
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    chdbPath: chdbPath(config),
  };
}

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
