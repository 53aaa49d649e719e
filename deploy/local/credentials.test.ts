import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localClickHouse } from './credentials';

const dir = mkdtempSync(join(tmpdir(), 'gs-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads the local server login that clickhouse.sh writes, and nothing when there is none', () => {
  expect(localClickHouse(dir)).toBeUndefined();
  mkdirSync(join(dir, 'clickhouse'));
  // a password may hold '=' and '-' (base64url); only the first '=' separates
  writeFileSync(join(dir, 'clickhouse', 'credentials'), 'CLICKHOUSE_URL=http://127.0.0.1:8123\nCLICKHOUSE_USER=groupscope\nCLICKHOUSE_PASSWORD=-a=b_c\n');
  expect(localClickHouse(dir)).toEqual({ url: 'http://127.0.0.1:8123', username: 'groupscope', password: '-a=b_c' });
});
