// The only module that imports @clickhouse/client. With CLICKHOUSE_URL it speaks HTTP to a server (24.8+);
// without, it embeds the ClickHouse engine (chDB) with data in a local folder. Only one process may open a
// chDB folder, and one process opens one folder at a time, so embedded clients are shared per process.
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '@groupscope/logger';
import { ClientLog } from './client-log';

export type { ClickHouseClient };

export interface ClickHouseOptions {
  url?: string;
  username?: string;
  password?: string;
  database: string;
  /** chDB data folder (embedded mode) */
  chdbPath: string;
  logger: Logger;
  requestTimeoutMs?: number;
}

export interface ClickHouse {
  client: ClickHouseClient;
  kind: 'server' | 'embedded';
  database: string;
  /** a fully qualified, quoted table name in this database (table names come from code, never from requests) */
  table(name: string): string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Settings that differ between chDB and a server by default; pinned so results are the same on both. */
export const PINNED_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_decimals: 0,
  date_time_input_format: 'best_effort',
};

const embedded = new Map<string, { client: ClickHouseClient; refs: number }>();

type ChdbConnection = ReturnType<typeof import('chdb/connection').createChdbConnection>;

/**
 * chDB turns a client's settings into `SET ...;` statements prepended to EVERY statement, and a multi-statement
 * text is lexed whole: an INSERT with a 20 MB inline body then costs more in that lexer than in the engine's
 * parser. Settings persist in a chDB session, so the pinned ones are set once when it opens and every call waits
 * for that. (Per-call clickhouse_settings still become SETs on chDB, and stay set for the session afterwards.)
 */
function pinnedOnce(connection: ChdbConnection): ChdbConnection {
  const assignments = Object.entries(PINNED_SETTINGS).map(([k, v]) => `${k} = ${typeof v === 'string' ? `'${v}'` : Number(v)}`);
  const pinned = connection.command({ query: `SET ${assignments.join(', ')}` } as never);
  pinned.catch(() => undefined); // surfaced by the first call that awaits it
  const gated = new Set(['query', 'exec', 'command', 'insert']);
  return new Proxy(connection, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!gated.has(prop as string)) return fn.bind(target);
      return async (...args: unknown[]) => {
        await pinned;
        return fn.apply(target, args);
      };
    },
  });
}

export function createClickHouse(opts: ClickHouseOptions): ClickHouse {
  if (!IDENT.test(opts.database)) throw new Error(`invalid ClickHouse database name: ${opts.database}`);
  const table = (name: string) => {
    if (!IDENT.test(name)) throw new Error(`invalid table name: ${name}`);
    return `\`${opts.database}\`.\`${name}\``;
  };
  if (opts.url) {
    const client = createClient({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      request_timeout: opts.requestTimeoutMs ?? 60000,
      clickhouse_settings: PINNED_SETTINGS,
      compression: { request: false, response: true },
      log: { LoggerClass: ClientLog },
    });
    return {
      client,
      kind: 'server',
      database: opts.database,
      table,
      ping: async () => (await client.ping()).success,
      close: () => client.close(),
    };
  }
  const path = resolve(opts.chdbPath);
  let entry = embedded.get(path);
  if (!entry) {
    if (embedded.size > 0) {
      throw new Error(`chDB already has ${[...embedded.keys()][0]} open in this process; only one data folder per process`);
    }
    mkdirSync(path, { recursive: true });
    // required lazily: the server mode never loads the embedded engine
    const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/connection');
    const client = createClient({ connection: pinnedOnce(createChdbConnection({ path })) } as never);
    entry = { client, refs: 0 };
    embedded.set(path, entry);
    opts.logger.info({ path }, 'chdb_opened');
  }
  entry.refs++;
  const shared = entry;
  let closed = false;
  return {
    client: shared.client,
    kind: 'embedded',
    database: opts.database,
    table,
    ping: async () => (await shared.client.ping()).success,
    async close() {
      if (closed) return;
      closed = true;
      if (--shared.refs === 0) {
        embedded.delete(path);
        await shared.client.close();
      }
    },
  };
}
