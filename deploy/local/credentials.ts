// The local ClickHouse server's address and service user, as deploy/clickhouse/clickhouse.sh keeps them in
// <GROUPSCOPE_DATA_DIR>/clickhouse/credentials (KEY=value lines), for tools run beside `npm start`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerLogin {
  url: string;
  username: string;
  password: string;
}

export function localClickHouse(dataDir: string): ServerLogin | undefined {
  const file = join(dataDir, 'clickhouse', 'credentials');
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
