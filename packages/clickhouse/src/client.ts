// The only module that imports @clickhouse/client: a handle on one database of a ClickHouse server (24.8+) over
// HTTP, the local server of `npm start` or a user's server or cluster alike.
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { ClientLog } from './client-log';

export type { ClickHouseClient };

export interface ClickHouseOptions {
  url: string;
  username?: string;
  password?: string;
  database: string;
  requestTimeoutMs?: number;
}

export interface ClickHouse {
  client: ClickHouseClient;
  database: string;
  /** a fully qualified, quoted table name in this database (table names come from code, never from requests) */
  table(name: string): string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Settings every statement runs with, whatever the server's profile says: 64-bit integers and decimals come back
 * as JSON numbers (a server quotes 64-bit integers by default, and counts are UInt64), and time text in any common
 * form (ISO 8601 with a zone too) is accepted on input.
 */
export const CLIENT_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_decimals: 0,
  date_time_input_format: 'best_effort',
};

export function createClickHouse(opts: ClickHouseOptions): ClickHouse {
  if (!IDENT.test(opts.database)) throw new Error(`invalid ClickHouse database name: ${opts.database}`);
  if (!opts.url) throw new Error('no ClickHouse server URL');
  const client = createClient({
    url: opts.url,
    username: opts.username,
    password: opts.password,
    request_timeout: opts.requestTimeoutMs ?? 60000,
    clickhouse_settings: CLIENT_SETTINGS,
    compression: { request: false, response: true },
    log: { LoggerClass: ClientLog },
  });
  return {
    client,
    database: opts.database,
    table(name: string) {
      if (!IDENT.test(name)) throw new Error(`invalid table name: ${name}`);
      return `\`${opts.database}\`.\`${name}\``;
    },
    ping: async () => (await client.ping()).success,
    close: () => client.close(),
  };
}
