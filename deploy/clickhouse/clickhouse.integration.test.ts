// deploy/clickhouse/clickhouse.sh as users run it: a private server (its own data folder, on the port after
// TEST_CLICKHOUSE_PORT) serves @clickhouse/client from several other processes at once, refuses anonymous access to
// data, keeps MergeTree data across a SIGTERM stop and a start, and refuses a port in use.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

jest.setTimeout(180_000);

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const script = join(__dirname, 'clickhouse.sh');
const port = Number(process.env.TEST_CLICKHOUSE_PORT ?? 18123) + 1;
const dir = mkdtempSync(join(tmpdir(), 'gs-ch-server-'));
const env = { ...process.env, CLICKHOUSE_HTTP_PORT: String(port), CLICKHOUSE_DATA_DIR: join(dir, 'clickhouse') };
const ch = (cmd: string, extra: Record<string, string> = {}) => run('bash', [script, cmd], { env: { ...env, ...extra }, timeout: 120_000 });

function credentials(): Record<string, string> {
  const text = readFileSync(join(dir, 'clickhouse', 'credentials'), 'utf8');
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

let client: ClickHouseClient;
const connect = () => {
  const c = credentials();
  return createClient({ url: c.CLICKHOUSE_URL, username: c.CLICKHOUSE_USER, password: c.CLICKHOUSE_PASSWORD });
};
const count = async () => Number((await (await client.query({ query: 'SELECT count() AS n FROM gs_server.t', format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);

/** A separate Node process that inserts `rows` rows through @clickhouse/client and reads its own back. */
async function writerProcess(worker: number, rows: number): Promise<number> {
  const c = credentials();
  const code = `
    const { createClient } = require('@clickhouse/client');
    (async () => {
      const client = createClient({ url: process.env.U, username: process.env.N, password: process.env.P });
      const values = Array.from({ length: ${rows} }, (_, i) => ({ worker: ${worker}, n: i }));
      for (let i = 0; i < values.length; i += 100) await client.insert({ table: 'gs_server.t', values: values.slice(i, i + 100), format: 'JSONEachRow' });
      const rs = await client.query({ query: 'SELECT count() AS n FROM gs_server.t WHERE worker = {w:UInt32}', query_params: { w: ${worker} }, format: 'JSONEachRow' });
      process.stdout.write(String((await rs.json())[0].n));
      await client.close();
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ['-e', code], { cwd: root, env: { ...process.env, U: c.CLICKHOUSE_URL, N: c.CLICKHOUSE_USER, P: c.CLICKHOUSE_PASSWORD } });
  return Number(stdout);
}

beforeAll(async () => {
  await ch('start');
  client = connect();
});

afterAll(async () => {
  await client?.close();
  await ch('stop').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

it('keeps the service password in a 0600 credentials file and only its hash in the users file', () => {
  const c = credentials();
  expect(c).toMatchObject({ CLICKHOUSE_URL: `http://127.0.0.1:${port}`, CLICKHOUSE_USER: 'groupscope' });
  expect(c.CLICKHOUSE_PASSWORD!.length).toBeGreaterThanOrEqual(24);
  expect(statSync(join(dir, 'clickhouse', 'credentials')).mode & 0o777).toBe(0o600);
  const users = readFileSync(join(dir, 'clickhouse', 'users.xml'), 'utf8');
  expect(users).not.toContain(c.CLICKHOUSE_PASSWORD);
  expect(users).toMatch(/<password_sha256_hex>[0-9a-f]{64}<\/password_sha256_hex>/);
});

it('serves several client processes at once', async () => {
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS gs_server' });
  await client.command({ query: 'CREATE TABLE gs_server.t (worker UInt32, n UInt32) ENGINE = MergeTree ORDER BY (worker, n)' });
  const seen = await Promise.all([1, 2, 3].map((w) => writerProcess(w, 1000)));
  expect(seen).toEqual([1000, 1000, 1000]);
  expect(await count()).toBe(3000);
});

it('denies anonymous clients every data table, and wrong passwords everything', async () => {
  const anonymous = async (query: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: query });
    return { status: res.status, text: await res.text() };
  };
  for (const q of ['SELECT * FROM gs_server.t', 'INSERT INTO gs_server.t VALUES (9, 9)', 'SELECT * FROM system.processes', 'CREATE DATABASE anon_db', 'DROP TABLE gs_server.t']) {
    const res = await anonymous(q);
    expect(res.status).not.toBe(200);
    expect(res.text).toContain('ACCESS_DENIED');
  }
  const wrong = await fetch(`http://127.0.0.1:${port}/?query=SELECT%201`, { headers: { authorization: `Basic ${Buffer.from('groupscope:wrong').toString('base64')}` } });
  expect(wrong.status).not.toBe(200);
  expect(await wrong.text()).toContain('AUTHENTICATION_FAILED');
  expect(await count()).toBe(3000);
});

it('refuses to start a second server on a port in use', async () => {
  const other = join(dir, 'other');
  await expect(ch('start', { CLICKHOUSE_DATA_DIR: other })).rejects.toMatchObject({ stderr: expect.stringContaining('already in use') });
});

it('stops on SIGTERM and keeps MergeTree data across the restart', async () => {
  await client.close();
  const { stdout } = await ch('stop');
  expect(stdout).toContain('stopped');
  await expect(ch('status')).rejects.toMatchObject({ code: 1 });
  // the launcher cancelled its keep-alive query and clickhouse-local shut down by itself (not killed by the script)
  const launcher = readFileSync(join(dir, 'clickhouse', 'logs', 'launcher.log'), 'utf8');
  expect(launcher).toContain('SIGTERM: stopping');
  expect(launcher).not.toContain('could not cancel');
  expect(stdout).not.toContain('killing');
  expect(readFileSync(join(dir, 'clickhouse', 'logs', 'clickhouse.err.log'), 'utf8')).toMatch(/groupscope-keepalive.*QUERY_WAS_CANCELLED/);
  await ch('start');
  client = connect();
  expect(await count()).toBe(3000);
  expect(await writerProcess(4, 10)).toBe(10);
});
