// The only reader of process.env: each service declares a zod schema built from these parts and parses it once at boot.
import { existsSync, readFileSync } from 'node:fs';
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
  /** Folder for local state: the local Kafka and ClickHouse servers' data, the project registry, pid and log files. */
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
  /**
   * The ClickHouse server (24.8+), over HTTP. Unset: the local server `npm start` runs, found through its
   * credentials file (see clickhouseOptions).
   */
  CLICKHOUSE_URL: z.string().url().optional(),
  /** the user and password for CLICKHOUSE_URL (the local server's come from its credentials file) */
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('groupscope'),
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

type ClickHouseConfig = CommonConfig & {
  CLICKHOUSE_URL?: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
  CLICKHOUSE_DATABASE: string;
};

/** A ClickHouse server's address and login. */
export interface ServerLogin {
  url: string;
  username: string;
  password: string;
}

/**
 * The local ClickHouse server's address and service user, as deploy/clickhouse/clickhouse.sh keeps them in
 * <dataDir>/clickhouse/credentials (KEY=value lines); undefined when there is no such file.
 */
export function localClickHouse(dataDir: string): ServerLogin | undefined {
  const file = join(resolve(dataDir), 'clickhouse', 'credentials');
  if (!existsSync(file)) return undefined;
  const values = new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  const url = values.get('CLICKHOUSE_URL');
  return url ? { url, username: values.get('CLICKHOUSE_USER') ?? 'default', password: values.get('CLICKHOUSE_PASSWORD') ?? '' } : undefined;
}

/**
 * The server createClickHouse connects to: CLICKHOUSE_URL with CLICKHOUSE_USER and CLICKHOUSE_PASSWORD; without
 * CLICKHOUSE_URL, the local server of `npm start` with the login from its credentials file (user and password
 * then come from that file too, since they belong to that server). Neither: a ConfigError saying how to get one.
 */
export function clickhouseOptions(config: ClickHouseConfig): ServerLogin & { database: string } {
  const server: ServerLogin | undefined = config.CLICKHOUSE_URL
    ? { url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD }
    : localClickHouse(config.GROUPSCOPE_DATA_DIR);
  if (!server) {
    throw new ConfigError(
      `no ClickHouse server: CLICKHOUSE_URL is not set and there is no local server's ${join(resolve(config.GROUPSCOPE_DATA_DIR), 'clickhouse', 'credentials')} ` +
        '(start one with `npm start` or `bash deploy/clickhouse/clickhouse.sh start`, or set CLICKHOUSE_URL, CLICKHOUSE_USER and CLICKHOUSE_PASSWORD)',
    );
  }
  return { ...server, database: config.CLICKHOUSE_DATABASE };
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
