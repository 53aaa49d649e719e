import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clickhouseEnv, clickhouseOptions, commonEnv, ConfigError, int, loadConfig, localClickHouse } from './index';

const dir = mkdtempSync(join(tmpdir(), 'gs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chConfig = (env: Record<string, string>) => loadConfig({ ...commonEnv, ...clickhouseEnv }, env);

describe('ClickHouse server', () => {
  const withServer = join(dir, 'with-server');
  const empty = join(dir, 'empty');
  beforeAll(() => {
    mkdirSync(join(withServer, 'clickhouse'), { recursive: true });
    // a password may hold '=' and '-' (base64url); only the first '=' separates
    writeFileSync(join(withServer, 'clickhouse', 'credentials'), 'CLICKHOUSE_URL=http://127.0.0.1:8123\nCLICKHOUSE_USER=groupscope\nCLICKHOUSE_PASSWORD=-a=b_c\n');
  });

  it('reads the local server login that clickhouse.sh writes, and nothing when there is none', () => {
    expect(localClickHouse(empty)).toBeUndefined();
    expect(localClickHouse(withServer)).toEqual({ url: 'http://127.0.0.1:8123', username: 'groupscope', password: '-a=b_c' });
  });

  it('takes CLICKHOUSE_URL with its user and password when set, whatever local server there is', () => {
    const env = { GROUPSCOPE_DATA_DIR: withServer, CLICKHOUSE_URL: 'https://ch.example:8443', CLICKHOUSE_USER: 'u', CLICKHOUSE_PASSWORD: 'p', CLICKHOUSE_DATABASE: 'gs' };
    expect(clickhouseOptions(chConfig(env))).toEqual({ url: 'https://ch.example:8443', username: 'u', password: 'p', database: 'gs' });
  });

  it("defaults to the local server with its own login (not CLICKHOUSE_USER's)", () => {
    const env = { GROUPSCOPE_DATA_DIR: withServer, CLICKHOUSE_USER: 'someone-else' };
    expect(clickhouseOptions(chConfig(env))).toEqual({ url: 'http://127.0.0.1:8123', username: 'groupscope', password: '-a=b_c', database: 'groupscope' });
  });

  it('is a clear error with neither', () => {
    const config = chConfig({ GROUPSCOPE_DATA_DIR: empty });
    expect(() => clickhouseOptions(config)).toThrow(ConfigError);
    expect(() => clickhouseOptions(config)).toThrow(/CLICKHOUSE_URL is not set .*empty[/\\]clickhouse[/\\]credentials.*npm start/);
  });

  it('refuses a CLICKHOUSE_URL that is not a URL', () => {
    expect(() => chConfig({ CLICKHOUSE_URL: '127.0.0.1:8123' })).toThrow(/CLICKHOUSE_URL/);
  });
});

describe('int', () => {
  const shape = { N: int(5, { min: 1, max: 10 }) };
  it.each([
    [{}, 5],
    [{ N: '1' }, 1],
    [{ N: '10' }, 10],
  ])('%j -> %p', (env, n) => expect(loadConfig(shape, env).N).toBe(n));

  it.each(['0', '11', '1.5', 'x'])('refuses %p at boot', (v) => {
    expect(() => loadConfig(shape, { N: v })).toThrow(ConfigError);
  });

  it('has no upper bound unless given', () => {
    expect(loadConfig({ N: int(1, { min: 0 }) }, { N: String(2 ** 40) }).N).toBe(2 ** 40);
  });
});
